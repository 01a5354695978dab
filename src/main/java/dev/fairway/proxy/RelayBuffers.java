package dev.fairway.proxy;

import io.netty.buffer.AbstractByteBufAllocator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.UnpooledDirectByteBuf;
import io.netty.buffer.UnpooledHeapByteBuf;
import io.netty.buffer.UnpooledUnsafeDirectByteBuf;
import io.netty.util.internal.CleanableDirectBuffer;
import io.netty.util.internal.PlatformDependent;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.buffer.BufferInternal;

import java.nio.ByteBuffer;
import java.util.Queue;
import java.util.concurrent.atomic.LongAdder;

/**
 * The buffers Fairway's sockets read into, so relayed bytes go from socket to socket without a copy through the Java
 * heap. {@link RelayTransport} has every TCP connection read with this allocator.
 * <p>
 * Vert.x copies each chunk it reads into a new heap buffer when the channel reads with Netty's pooled allocator (the
 * default, and all Vert.x configures): about 1 GB of heap allocation per GiB relayed, which the GC then sizes the heap
 * for. With this allocator, Vert.x hands the direct buffer it read into on as the chunk (ownership passes with it),
 * the relay writes it to the other socket as it is, and gives it back here once that write is done
 * ({@link #release}): the memory is reused from a small cache.
 * <p>
 * The chunks are ordinary {@link ByteBuffer#allocateDirect} memory, so a chunk that is never given back (a WebSocket
 * frame, a request body an admin endpoint reads, a job's spool) is freed by the garbage collector like any direct
 * buffer: a missed release costs a GC's delay, never a leak, and nothing here relies on every path releasing. Only
 * the plain relay releases, and only after its single write completed. Vert.x's HTTP/2 path copies every DATA frame
 * to the heap whatever the allocator, so HTTP/2 streams are relayed as before.
 */
final class RelayBuffers extends AbstractByteBufAllocator {

  static final RelayBuffers ALLOCATOR = new RelayBuffers();

  /** Sizes 1 KiB to 64 KiB (the largest socket read) are reused; others are allocated and freed each time. */
  private static final int MIN_SHIFT = 10;
  private static final int MAX_SHIFT = 16;
  /**
   * Bytes kept for reuse per size: a stream under back-pressure holds a few dozen reads in flight (Vert.x's inbound
   * queue and Netty's outbound one), and all of them come back at once when it drains. At most 7 x 2 MiB in all.
   */
  private static final int CACHED_BYTES_PER_SIZE = 2 * 1024 * 1024;

  /** Free memory by size class; shared by all threads (a chunk read on one event loop may be written from another). */
  private static final Queue<ByteBuffer>[] FREE = freeLists();

  @SuppressWarnings("unchecked")
  private static Queue<ByteBuffer>[] freeLists() {
    Queue<ByteBuffer>[] bySize = new Queue[MAX_SHIFT - MIN_SHIFT + 1];
    for (int i = 0; i < bySize.length; i++) {
      bySize[i] = PlatformDependent.newFixedMpmcQueue(CACHED_BYTES_PER_SIZE >> (MIN_SHIFT + i)); // allocation-free
    }
    return bySize;
  }

  /** Memory handed to chunks and not given back yet (a chunk left to the GC stays counted: tests look for those). */
  private static final LongAdder IN_USE = new LongAdder();
  /** Bytes relayed in these buffers and given back after their write. */
  private static final LongAdder RELAYED = new LongAdder();

  private RelayBuffers() {
    super(true);
  }

  /**
   * Gives a relayed chunk's memory back once its write completed. A chunk read through any other allocator (a copy
   * on the heap, Fairway's own bytes) is left alone.
   */
  static void release(Buffer chunk) {
    // The one internal Vert.x type Fairway uses: the public Buffer does not expose the memory it wraps. Every Buffer
    // Vert.x makes implements it (the Web Proxy library relies on that too); RelayBuffersTest and StreamingTest fail
    // if that changes or the chunk stops being the buffer read from the socket.
    ByteBuf buf = ((BufferInternal) chunk).unwrap();
    if (buf.alloc() == ALLOCATOR && buf.refCnt() > 0) {
      RELAYED.add(buf.readableBytes());
      buf.release();
    }
  }

  @Override
  protected ByteBuf newDirectBuffer(int initialCapacity, int maxCapacity) {
    ByteBuffer memory = memory(initialCapacity);
    ByteBuf chunk = PlatformDependent.hasUnsafe()
      ? new UnsafeChunk(this, memory, maxCapacity)
      : new Chunk(this, memory, maxCapacity);
    return chunk.clear(); // Netty's constructor takes the memory as already written
  }

  @Override
  protected ByteBuf newHeapBuffer(int initialCapacity, int maxCapacity) {
    return new UnpooledHeapByteBuf(this, initialCapacity, maxCapacity);
  }

  @Override
  public boolean isDirectBufferPooled() {
    return true;
  }

  /** Bytes of direct memory kept for reuse (at most 14 MiB). */
  static long cachedBytes() {
    long bytes = 0;
    for (int i = 0; i < FREE.length; i++) bytes += (long) FREE[i].size() << (MIN_SHIFT + i);
    return bytes;
  }

  /** Bytes of direct memory held by chunks that were not released (yet). */
  static long inUseBytes() {
    return IN_USE.sum();
  }

  /** Bytes relayed from socket to socket in these buffers (released after their write). */
  static long relayedBytes() {
    return RELAYED.sum();
  }

  /** {@code capacity} bytes of direct memory: cached memory of its size class when this thread has some. */
  private static ByteBuffer memory(int capacity) {
    int shift = shiftFor(capacity);
    ByteBuffer memory = shift < 0 ? null : FREE[shift - MIN_SHIFT].poll();
    if (memory == null) memory = ByteBuffer.allocateDirect(shift < 0 ? capacity : 1 << shift);
    IN_USE.add(memory.capacity());
    memory.clear().limit(capacity);
    return memory;
  }

  /**
   * Keeps memory for the next read while the cache has room; otherwise frees it now. Left to the GC, memory would
   * pile up: with so little allocated on the heap, collections are minutes apart.
   */
  private static void giveBack(ByteBuffer memory) {
    if (memory == null) return;
    IN_USE.add(-memory.capacity());
    int shift = shiftFor(memory.capacity());
    boolean cached = shift >= 0 && memory.capacity() == 1 << shift && FREE[shift - MIN_SHIFT].offer(memory);
    if (!cached) PlatformDependent.freeDirectBuffer(memory);
  }

  /** The size class of {@code capacity} (its power of two, at least 1 KiB), or -1 when it is not cached. */
  private static int shiftFor(int capacity) {
    int shift = Math.max(MIN_SHIFT, 32 - Integer.numberOfLeadingZeros(Math.max(capacity, 1) - 1));
    return shift > MAX_SHIFT ? -1 : shift;
  }

  /** Memory a chunk grew into: given back when the chunk is released or grows again. */
  private record Cached(ByteBuffer buffer) implements CleanableDirectBuffer {
    @Override
    public void clean() {
      giveBack(buffer);
    }
  }

  /*
   * Netty allocates a direct buffer's first memory itself; a buffer built on memory given to it never frees that
   * memory. So the chunks take their first memory from the cache and give it back when they are released, or when
   * they grow and Netty moves their bytes to memory from allocateDirectBuffer, which is given back through Cached.
   */

  /** A chunk when Unsafe is available (Netty reads and writes through its memory address). */
  private static final class UnsafeChunk extends UnpooledUnsafeDirectByteBuf {
    private ByteBuffer first;

    UnsafeChunk(ByteBufAllocator alloc, ByteBuffer first, int maxCapacity) {
      super(alloc, first, maxCapacity);
      this.first = first;
    }

    @Override
    protected CleanableDirectBuffer allocateDirectBuffer(int capacity) {
      return new Cached(memory(capacity));
    }

    @Override
    public ByteBuf capacity(int newCapacity) {
      ByteBuffer before = first;
      super.capacity(newCapacity);
      first = giveBackIfMoved(before, this);
      return this;
    }

    @Override
    protected void deallocate() {
      ByteBuffer memory = first;
      first = null;
      super.deallocate();
      giveBack(memory);
    }
  }

  /** A chunk without Unsafe. */
  private static final class Chunk extends UnpooledDirectByteBuf {
    private ByteBuffer first;

    Chunk(ByteBufAllocator alloc, ByteBuffer first, int maxCapacity) {
      super(alloc, first, maxCapacity);
      this.first = first;
    }

    @Override
    protected CleanableDirectBuffer allocateDirectBuffer(int capacity) {
      return new Cached(memory(capacity));
    }

    @Override
    public ByteBuf capacity(int newCapacity) {
      ByteBuffer before = first;
      super.capacity(newCapacity);
      first = giveBackIfMoved(before, this);
      return this;
    }

    @Override
    protected void deallocate() {
      ByteBuffer memory = first;
      first = null;
      super.deallocate();
      giveBack(memory);
    }
  }

  /** @return the chunk's first memory if it still uses it, else null after giving that memory back */
  private static ByteBuffer giveBackIfMoved(ByteBuffer first, ByteBuf chunk) {
    if (first == null || chunk.capacity() == first.limit()) return first;
    giveBack(first);
    return null;
  }
}
