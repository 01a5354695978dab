package dev.fairway.proxy;

import io.netty.buffer.AbstractByteBufAllocator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledDirectByteBuf;

import java.lang.ref.Cleaner;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReferenceFieldUpdater;
import java.util.concurrent.atomic.LongAdder;
import java.util.stream.IntStream;

/**
 * The buffers Fairway's TCP connections read into, so relayed bytes go from socket to socket without a copy through
 * the Java heap.
 * <p>
 * Vert.x copies every chunk it reads into a new heap buffer when the channel reads with Netty's pooled allocators
 * (its default): about 1 GB of heap allocation per GiB relayed, which the GC then sizes the heap for. With any other
 * allocator Vert.x hands the buffer read on as the chunk, and ownership with it. {@link ReleaseAfterWrite} has one
 * released as soon as the HTTP/1.1 or WebSocket write that relayed it completed, and its memory serves the next read. One
 * that is never written that way (a body an admin endpoint reads, a chunk written to an HTTP/2 stream) is freed by
 * the garbage collector like any direct buffer: a missed release costs a GC's delay, never a leak, and a chunk is
 * never released while anything can still read it. What waits for the GC is bounded ({@link #MAX_HELD_BYTES}).
 */
final class RelayBuffers {

  /** What TCP connections allocate with: relay chunks for what they read, pooled memory for what Netty writes. */
  static final ByteBufAllocator ALLOCATOR = new ReadIntoChunks();

  /**
   * The most direct memory relay chunks may take: in flight, kept for reuse, or dropped and waiting for the GC (a
   * chunk written to an HTTP/2 stream, which Vert.x never gives back, is freed only by a collection, and with so
   * little allocated on the heap those are rare). Past it, sockets read into Netty's pool again and Vert.x copies to
   * the heap as it does by default, which brings a collection, which frees them.
   */
  static final long MAX_HELD_BYTES = 32L * 1024 * 1024;
  private static final AtomicLong HELD = new AtomicLong();
  /** Of those, the bytes kept for reuse (the rest are in use: in flight, or waiting for the GC). */
  private static final AtomicLong KEPT = new AtomicLong();
  /** And the bytes of chunks written to HTTP/2 streams: only the GC frees those, smaller reads do not relieve them. */
  private static final AtomicLong LEFT_TO_GC = new AtomicLong();
  /** Counts memory back when the GC frees it. */
  private static final Cleaner COLLECTED = Cleaner.create();

  /**
   * Released chunks of sizes 1 KiB to 64 KiB (the largest socket read), powers of two, are kept for the next reads of
   * their size, all of them, memory and object (a chunk per read was most of the heap a relayed MiB still took): the JDK
   * frees direct memory only by collecting it, and what is kept counts toward the bound. Other sizes are left to the GC.
   */
  private static final int MIN_SHIFT = 10;
  private static final int MAX_SHIFT = 16;
  static final int MAX_READ = 1 << MAX_SHIFT;
  private static final List<Kept> FREE = IntStream.rangeClosed(MIN_SHIFT, MAX_SHIFT).mapToObj(shift -> new Kept()).toList();

  /** The type Vert.x wraps a chunk in when it writes it (Netty's own buffers are written as they are). */
  private static final Class<?> UNRELEASABLE = Unpooled.unreleasableBuffer(Unpooled.buffer(0)).getClass();

  /** Bytes relayed in these buffers: handed to the write that relays them, or released once written. */
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
    ByteBuf chunk = innermost(written);
    return chunk instanceof Chunk ? chunk : null;
  }

  /** The buffer {@code buf} wraps or slices, through every layer. */
  private static ByteBuf innermost(ByteBuf buf) {
    for (ByteBuf inner = buf.unwrap(); inner != null; inner = buf.unwrap()) buf = inner;
    return buf;
  }

  /** Counts {@code bytes} of a relay buffer handed to the write that relays them (Netty releases it once written). */
  static void handedOver(int bytes) {
    RELAYED.add(bytes);
  }

  /** Counts {@code bytes} of {@code read} written on as they are (a body passed through), when it is a relay chunk. */
  static void passedOn(ByteBuf read, int bytes) {
    if (innermost(read) instanceof Chunk) RELAYED.add(bytes);
  }

  /** Releases the reference the relayed {@code bytes} held on {@code chunk}, once their write completed. */
  static void written(ByteBuf chunk, int bytes) {
    if (chunk.refCnt() > 0) {
      RELAYED.add(bytes);
      chunk.release();
    }
  }

  /**
   * Marks the chunks a written frame holds bytes of (a frame of Netty's HTTP/2 codec: a slice of what Vert.x wrote, or
   * several merged) as left to the GC, so HTTP/2 relaying does not shrink socket reads for the memory it holds.
   */
  static void leftToGc(ByteBuf frame) {
    if (frame instanceof CompositeByteBuf merged) {
      for (int i = 0; i < merged.numComponents(); i++) leftToGc(merged.component(i)); // its iterator caches slices
    } else if (relayedChunk(frame) instanceof Chunk chunk) {
      chunk.leftToGc();
    }
  }

  /** Bytes of direct memory relay chunks take: in flight, kept for reuse, or dropped and waiting for the GC. */
  static long heldBytes() {
    return HELD.get();
  }

  /** Bytes of that memory kept for the next reads. */
  static long keptBytes() {
    return KEPT.get();
  }

  /** Bytes relayed from socket to socket in these buffers and released once written. */
  static long relayedBytes() {
    return RELAYED.sum();
  }

  /**
   * How many bytes a socket read may take now ({@link RelayReads}): 64 KiB (the most Netty reads at once) while the
   * memory in use is under a quarter of the bound, then half as much for each further eighth of it, down to 4 KiB.
   * Each connection's own cap ({@link RelayReads}) comes first; this one holds when very many streams are slow at once.
   */
  static int readSize() {
    long inUse = HELD.get() - KEPT.get() - LEFT_TO_GC.get();
    long calm = MAX_HELD_BYTES / 4;
    if (inUse < calm) return MAX_READ;
    return MAX_READ >> (int) Math.min(4, 1 + (inUse - calm) / (MAX_HELD_BYTES / 8));
  }

  /**
   * A relay chunk for a socket read of {@code size} bytes ({@link RelayReads}), of its size class (a read of up to
   * 1 KiB takes 1 KiB); at the bound, whatever size is kept (a read takes what fits), from Netty's pool when none is.
   * Its bytes count in {@code inFlight} (the connection's reads not yet written on) until it is released or left to the
   * GC.
   */
  static ByteBuf readBuffer(int size, RelayReads.InFlight inFlight) {
    Chunk chunk = chunk(size, true);
    if (chunk == null) return ReadIntoChunks.POOLED.ioBuffer(size);
    return chunk.takenBy(inFlight);
  }

  /**
   * Sockets read into direct (or "io") buffers: those are relay chunks. Encoders ask for a plain {@code buffer()} for
   * the bytes they write (headers, chunk sizes), which Netty frees once written: those come from Netty's pool, as a
   * fresh direct buffer costs more than a pooled one, and Vert.x copies such a buffer on the rare read it carries (a
   * decoder's merged leftovers), as it does by default.
   */
  private static final class ReadIntoChunks extends AbstractByteBufAllocator {
    /** Chunks of 8 KiB pages << 7: 1 MiB, where Netty's default is 4 MiB. */
    private static final int MAX_ORDER = 7;
    /**
     * Netty's pool, as its default but with 1 MiB chunks: each event loop that allocates gets an arena whose first
     * chunk is all resident at once (the JDK zeroes direct memory it allocates), and what is pooled here (headers,
     * chunk sizes, reads past the bound) is small. --demo after 200 requests: 118 against 133 MiB of RSS.
     */
    static final ByteBufAllocator POOLED = new PooledByteBufAllocator(true, PooledByteBufAllocator.defaultNumHeapArena(),
      PooledByteBufAllocator.defaultNumDirectArena(), PooledByteBufAllocator.defaultPageSize(), MAX_ORDER,
      PooledByteBufAllocator.defaultSmallCacheSize(), PooledByteBufAllocator.defaultNormalCacheSize(),
      PooledByteBufAllocator.defaultUseCacheForAllThreads());

    ReadIntoChunks() {
      super(true);
    }

    @Override
    protected ByteBuf newDirectBuffer(int initialCapacity, int maxCapacity) {
      Chunk chunk = sizeOf(initialCapacity) <= maxCapacity ? chunk(initialCapacity, false) : null;
      if (chunk == null) return POOLED.directBuffer(initialCapacity, maxCapacity);
      return chunk.takenBy(null);
    }

    @Override
    protected ByteBuf newHeapBuffer(int initialCapacity, int maxCapacity) {
      return POOLED.heapBuffer(initialCapacity, maxCapacity);
    }

    @Override
    public ByteBuf buffer() {
      return POOLED.buffer();
    }

    /** Without a size it is an encoder's buffer that grows as it writes (a chunk never grows); reads give a size. */
    @Override
    public ByteBuf ioBuffer() {
      return POOLED.ioBuffer();
    }

    @Override
    public ByteBuf directBuffer() {
      return POOLED.directBuffer();
    }

    @Override
    public ByteBuf buffer(int initialCapacity) {
      return POOLED.buffer(initialCapacity);
    }

    @Override
    public ByteBuf buffer(int initialCapacity, int maxCapacity) {
      return POOLED.buffer(initialCapacity, maxCapacity);
    }

    @Override
    public boolean isDirectBufferPooled() {
      return false;
    }
  }

  /**
   * A chunk of at least {@code capacity} bytes (its size class; above the largest, of exactly that size): a kept chunk
   * of its size, else one on new memory within the bound, else a kept chunk of a larger size, else, when a {@code
   * shorter} one will do (a socket read), the largest smaller kept chunk. Null past the bound (Netty's pool serves
   * it); for one that must be that large, kept chunks of smaller sizes are then let go for the GC to free.
   */
  private static Chunk chunk(int capacity, boolean shorter) {
    int shift = shiftFor(capacity);
    Chunk chunk = shift < 0 ? null : reuse(shift);
    if (chunk == null && HELD.get() < MAX_HELD_BYTES) {
      int size = sizeOf(capacity);
      ByteBuffer memory = ByteBuffer.allocateDirect(size); // the JDK frees it once collected, whatever else happens
      HELD.addAndGet(size);
      COLLECTED.register(memory, () -> HELD.addAndGet(-size)); // captures the size only
      chunk = new Chunk(memory);
    }
    for (int larger = shift + 1; chunk == null && shift >= 0 && larger <= MAX_SHIFT; larger++) chunk = reuse(larger);
    for (int smaller = shift - 1; chunk == null && shorter && smaller >= MIN_SHIFT; smaller--) chunk = reuse(smaller);
    if (chunk == null && !shorter) for (int smaller = MIN_SHIFT; smaller < shift; smaller++) reuse(smaller);
    return chunk;
  }

  /** Keeps a released chunk for the next read of its size (chunks of other sizes are left to the GC). */
  private static void giveBack(Chunk chunk) {
    int shift = shiftFor(chunk.capacity());
    if (shift >= 0) { // a chunk up to the largest size class has exactly its class's size
      KEPT.addAndGet(chunk.capacity());
      FREE.get(shift - MIN_SHIFT).push(chunk);
    }
  }

  /**
   * Lets go of every kept chunk, for the GC to free (the JDK frees direct memory only by collecting it): after a burst,
   * so that memory goes back to the system. A read after it allocates anew.
   *
   * @return the bytes let go
   */
  static long dropKept() {
    long dropped = 0;
    for (int shift = MIN_SHIFT; shift <= MAX_SHIFT; shift++) {
      for (Chunk chunk = reuse(shift); chunk != null; chunk = reuse(shift)) dropped += chunk.capacity();
    }
    return dropped;
  }

  /** A kept chunk of size class {@code shift}, taken out of the kept set; null when none is kept. */
  private static Chunk reuse(int shift) {
    Chunk chunk = FREE.get(shift - MIN_SHIFT).pop();
    if (chunk != null) KEPT.addAndGet(-chunk.capacity());
    return chunk;
  }

  /**
   * The kept chunks of one size, the last released taken first (its memory is the likeliest to be in a cache). A lock
   * on an array, as a lock-free queue allocates a node per chunk kept: event loops hardly ever contend for it.
   */
  private static final class Kept {
    private final ArrayDeque<Chunk> chunks = new ArrayDeque<>();

    synchronized void push(Chunk chunk) {
      chunks.push(chunk);
    }

    synchronized Chunk pop() {
      return chunks.poll();
    }
  }

  /** The bytes a chunk for {@code capacity} takes: its size class, or exactly that above the largest. */
  private static int sizeOf(int capacity) {
    int shift = shiftFor(capacity);
    return shift < 0 ? capacity : 1 << shift;
  }

  /** The size class of {@code capacity} (its power of two, at least 1 KiB), or -1 when it is not reused. */
  private static int shiftFor(int capacity) {
    int shift = Math.max(MIN_SHIFT, 32 - Integer.numberOfLeadingZeros(Math.max(capacity, 1) - 1));
    return shift > MAX_SHIFT ? -1 : shift;
  }

  /**
   * A relay chunk: direct memory of the JDK's (so the GC frees it if nothing releases it, on any JDK), which goes back
   * to the kept set, whole, when released, and is taken again by a later read, as Netty's pool recycles its buffers. It
   * never grows (its maximum is its size): a decoder that needs more room merges into a buffer of Netty's pool
   * instead.
   */
  private static final class Chunk extends UnpooledDirectByteBuf {
    private static final AtomicReferenceFieldUpdater<Chunk, LeftToGc> LEFT =
      AtomicReferenceFieldUpdater.newUpdater(Chunk.class, LeftToGc.class, "left");
    private static final AtomicReferenceFieldUpdater<Chunk, RelayReads.InFlight> IN_FLIGHT =
      AtomicReferenceFieldUpdater.newUpdater(Chunk.class, RelayReads.InFlight.class, "inFlight");
    private volatile LeftToGc left;
    /** The reading connection's count of bytes in flight (null for other buffers), until this chunk is written on. */
    private volatile RelayReads.InFlight inFlight;

    Chunk(ByteBuffer memory) {
      super(ALLOCATOR, memory, memory.capacity());
    }

    /** This chunk, emptied and with one reference, its bytes counted in {@code inFlight} (when not null). */
    Chunk takenBy(RelayReads.InFlight inFlight) {
      resetRefCnt();
      clear(); // Netty takes memory it is given as already written
      left = null;
      this.inFlight = inFlight;
      if (inFlight != null) inFlight.addAndGet(capacity());
      return this;
    }

    /** Takes this chunk's bytes out of its connection's bytes in flight, once: they are written. */
    private void writtenOn(boolean toHttp2) {
      RelayReads.InFlight count = IN_FLIGHT.getAndSet(this, null);
      if (count != null) {
        if (toHttp2) count.toHttp2 = true;
        count.addAndGet(-capacity());
      }
    }

    /** Counts this chunk as left to the GC, once, until it is collected or released after all. */
    void leftToGc() {
      writtenOn(true);
      if (left != null) return;
      LeftToGc mark = new LeftToGc(capacity());
      if (LEFT.compareAndSet(this, null, mark)) COLLECTED.register(this, mark::settle);
    }

    /**
     * Released: back to the kept set, memory and all (not super's, which would let go of the memory). One that was
     * left to the GC, and released after all, is left to it still: the GC already watches it.
     */
    @Override
    protected void deallocate() {
      writtenOn(false);
      LeftToGc mark = left;
      if (mark != null) {
        mark.settle();
      } else {
        giveBack(this);
      }
    }
  }

  /** A chunk's bytes counted as left to the GC, uncounted once when it is collected or released. */
  private static final class LeftToGc extends AtomicBoolean {
    private final int bytes;

    LeftToGc(int bytes) {
      super(true);
      this.bytes = bytes;
      LEFT_TO_GC.addAndGet(bytes);
    }

    void settle() {
      if (compareAndSet(true, false)) LEFT_TO_GC.addAndGet(-bytes);
    }
  }
}
