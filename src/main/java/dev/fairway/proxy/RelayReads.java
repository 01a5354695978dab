package dev.fairway.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.AdaptiveRecvByteBufAllocator;
import io.netty.util.UncheckedBooleanSupplier;

/**
 * How much a TCP connection reads at a time: Netty's adaptive guess (up to 64 KiB), made smaller as the relay memory
 * in use grows ({@link RelayBuffers#readSize()}).
 * <p>
 * Vert.x queues up to 16 reads for a request or response that is not being consumed, and a few more before it stops
 * reading the connection; with what waits to be written, a stream whose other side is slow holds about 40 reads:
 * 2.5 MiB at 64 KiB. A hundred such streams would take
 * the relay past its memory bound, and past it reads are copied through the heap again. Smaller reads under pressure
 * keep many slow streams within the bound, as nginx's and HAProxy's fixed per-connection buffers do, while a few fast
 * ones still read 64 KiB at a time.
 */
final class RelayReads extends AdaptiveRecvByteBufAllocator {

  @Override
  public Handle newHandle() {
    return new PressureCapped((ExtendedHandle) super.newHandle());
  }

  /** Netty's handle, with its guess capped by the relay's memory pressure. */
  private static final class PressureCapped extends DelegatingHandle implements ExtendedHandle {

    PressureCapped(ExtendedHandle adaptive) {
      super(adaptive);
    }

    @Override
    public ByteBuf allocate(ByteBufAllocator alloc) {
      return RelayBuffers.readBuffer(guess());
    }

    @Override
    public int guess() {
      return Math.min(delegate().guess(), RelayBuffers.readSize());
    }

    @Override
    public boolean continueReading(UncheckedBooleanSupplier maybeMoreDataSupplier) {
      return ((ExtendedHandle) delegate()).continueReading(maybeMoreDataSupplier);
    }
  }
}
