package dev.fairway.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.AdaptiveRecvByteBufAllocator;
import io.netty.util.UncheckedBooleanSupplier;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * How much a TCP connection reads at a time: Netty's adaptive guess (up to 64 KiB), made smaller while the
 * connection's earlier reads are still in flight, and as the relay memory in use grows ({@link
 * RelayBuffers#readSize()}).
 * <p>
 * Vert.x queues up to 16 reads for a request or response that is not being consumed, and a few more before it stops
 * reading the connection; with what waits to be written, a stream whose other side is slow holds about 40 reads:
 * 2.5 MiB at 64 KiB. A hundred such streams would take the relay past its memory bound, and past it reads are copied
 * through the heap again. So a connection reads at most what is left of {@link #IN_FLIGHT_PER_CONNECTION} (as Netty
 * holds at most 64 KiB waiting to be written before it says a connection is full), and {@link #MIN_READ} past it,
 * as nginx's and HAProxy's fixed per-connection buffers hold a slow stream, while a fast one, whose reads are written
 * on as they come, still reads 64 KiB at a time.
 */
final class RelayReads extends AdaptiveRecvByteBufAllocator {

  static final int IN_FLIGHT_PER_CONNECTION = 64 * 1024;
  static final int MIN_READ = 1024;

  /** Netty's defaults: a connection's first read takes 2 KiB, and later ones what the last few needed. */
  RelayReads() {
  }

  /** Reads that start at {@code firstRead} bytes. */
  RelayReads(int firstRead) {
    super(64, firstRead, RelayBuffers.MAX_READ);
  }

  @Override
  public Handle newHandle() {
    return new PressureCapped((ExtendedHandle) super.newHandle());
  }

  /**
   * A connection's bytes read and not yet written on (released, or framed for an HTTP/2 stream). A chunk nobody writes
   * on (a body Fairway reads itself or drops) is freed by the GC and stays counted: that connection reads less from
   * then on, which costs only speed, and such connections (health checks, admin requests, a cut exchange) carry
   * little.
   */
  static final class InFlight extends AtomicInteger {
    /**
     * Set once a chunk it read went to an HTTP/2 stream: such a chunk waits for the HTTP/2 codec to frame it, which
     * the cap took for a slow reader (HTTP/2 downloads ran a fifth slower). Those chunks are left to the GC, within
     * the relay's overall bound, and the connection's reads are no longer capped.
     */
    volatile boolean toHttp2;
  }

  /**
   * Netty's handle (one per connection), with its guess capped by the connection's reads in flight and by the relay's
   * memory pressure.
   */
  private static final class PressureCapped extends DelegatingHandle implements ExtendedHandle {
    private final InFlight inFlight = new InFlight();

    PressureCapped(ExtendedHandle adaptive) {
      super(adaptive);
    }

    @Override
    public ByteBuf allocate(ByteBufAllocator alloc) {
      return RelayBuffers.readBuffer(guess(), inFlight);
    }

    @Override
    public int guess() {
      int left = IN_FLIGHT_PER_CONNECTION - inFlight.get();
      int own = inFlight.toHttp2 ? RelayBuffers.MAX_READ : left <= MIN_READ ? MIN_READ : Integer.highestOneBit(left);
      return Math.min(Math.min(delegate().guess(), own), RelayBuffers.readSize());
    }

    @Override
    public boolean continueReading(UncheckedBooleanSupplier maybeMoreDataSupplier) {
      return ((ExtendedHandle) delegate()).continueReading(maybeMoreDataSupplier);
    }
  }
}
