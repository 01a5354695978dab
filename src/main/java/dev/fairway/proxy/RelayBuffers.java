package dev.fairway.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;

import java.util.concurrent.atomic.LongAdder;

/**
 * The buffers Fairway's TCP connections read into, so relayed bytes go from socket to socket without a copy through
 * the Java heap.
 * <p>
 * Vert.x copies every chunk it reads into a new heap buffer when the channel reads with Netty's pooled allocators
 * (its default): about 1 GB of heap allocation per GiB relayed, which the GC then sizes the heap for. With any other
 * allocator Vert.x hands the buffer read on as the chunk, and ownership with it. These are plain direct buffers:
 * {@link ReleaseAfterWrite} frees one as soon as the HTTP/1.1 or WebSocket write that relayed it completed, and one
 * that is never written that way (a body an admin endpoint reads, a chunk written to an HTTP/2 stream or kept by a
 * job's spool) is freed by the garbage collector like any direct buffer: a missed release costs a GC's delay, never a
 * leak, and a chunk is never freed while anything can still read it.
 */
final class RelayBuffers {

  /**
   * Direct, unpooled, freed on release or else by the GC (its Cleaner). Netty's leak detector is off for them: a
   * chunk left to the GC is expected here, not a leak.
   */
  static final ByteBufAllocator ALLOCATOR = new UnpooledByteBufAllocator(true, true, false);

  /** The type Vert.x wraps a chunk in when it writes it (Netty's own buffers are written as they are). */
  private static final Class<?> UNRELEASABLE = Unpooled.unreleasableBuffer(Unpooled.buffer(0)).getClass();

  /** Bytes relayed in these buffers and freed once written. */
  private static final LongAdder RELAYED = new LongAdder();

  private RelayBuffers() {
  }

  /**
   * The chunk {@code written} relays, when it is a relay buffer Vert.x is writing for the application: the buffer
   * read from a socket, or a slice of it the HTTP decoder made (which holds a reference to the buffer); null for
   * anything else (Fairway's own bytes, heap copies, buffers Netty allocated and frees itself).
   */
  static ByteBuf relayedChunk(ByteBuf written) {
    if (written.getClass() != UNRELEASABLE) return null;
    ByteBuf chunk = written;
    for (ByteBuf inner = chunk.unwrap(); inner != null; inner = chunk.unwrap()) chunk = inner;
    return chunk.alloc() == ALLOCATOR ? chunk : null;
  }

  /** Frees the reference the relayed {@code bytes} held on {@code chunk}, once their write completed. */
  static void written(ByteBuf chunk, int bytes) {
    if (chunk.refCnt() > 0) {
      RELAYED.add(bytes);
      chunk.release();
    }
  }

  /** Bytes relayed from socket to socket in these buffers and freed once written. */
  static long relayedBytes() {
    return RELAYED.sum();
  }
}
