package dev.fairway.proxy;

import dev.fairway.support.Http;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.RecvByteBufAllocator;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class RelayBuffersTest {

  @Test
  void aChunkVertxWritesForTheRelayIsFoundThroughTheSliceItWrapsAndIsTakenAgainByTheNextReadOfItsSize() throws Exception {
    ByteBuf read = chunk(4096).writeBytes(new byte[100]);
    ByteBuf content = read.readRetainedSlice(60); // what the HTTP decoder hands Vert.x
    read.release(); // the decoder is done with its read buffer
    ByteBuf written = Unpooled.unreleasableBuffer(content.slice()); // what Vert.x writes for a Buffer of content
    assertThat(RelayBuffers.relayedChunk(written)).isSameAs(read);
    long relayed = RelayBuffers.relayedBytes();
    RelayBuffers.written(read, written.readableBytes());
    assertThat(read.refCnt()).as("the slice's reference, freed").isZero();
    assertThat(RelayBuffers.relayedBytes() - relayed).isEqualTo(60);
    long held = RelayBuffers.heldBytes();
    ByteBuf next = RelayBuffers.ALLOCATOR.directBuffer(3000);
    assertThat(RelayBuffers.heldBytes()).as("the same memory again").isEqualTo(held);
    assertThat(next).as("the same chunk, not a new object per read").isSameAs(read);
    assertThat(next.refCnt()).isOne();
    assertThat(next.readableBytes()).isZero();
    assertThat(next.capacity()).as("its size class").isEqualTo(4096);
    next.release();
  }

  @Test
  void buffersNettyFreesItselfOrThatAreNotRelayBuffersAreLeftAlone() {
    ByteBuf own = RelayBuffers.ALLOCATOR.buffer(64); // an encoder's, released by Netty once written
    assertThat(RelayBuffers.relayedChunk(own)).isNull();
    ByteBuf growing = RelayBuffers.ALLOCATOR.ioBuffer(); // a MessageToByteEncoder's: it writes past 256 bytes
    growing.writeBytes(new byte[4096]);
    growing.release();
    assertThat(RelayBuffers.relayedChunk(Unpooled.unreleasableBuffer(Unpooled.directBuffer(64)))).isNull();
    own.release();
  }

  @Test
  void pastTheMostChunksMayTakeSocketsReadIntoNettysPoolUntilTheGcFreesWhatWasDropped() throws Exception {
    // chunks nothing releases (as those written to HTTP/2 streams), until reads go to Netty's pool
    List<ByteBuf> dropped = new ArrayList<>();
    ByteBuf next = RelayBuffers.ALLOCATOR.directBuffer(65536);
    while (next.alloc() == RelayBuffers.ALLOCATOR && dropped.size() <= RelayBuffers.MAX_HELD_BYTES / 65536) {
      dropped.add(next);
      next = RelayBuffers.ALLOCATOR.directBuffer(65536);
    }
    assertThat(next.alloc()).isNotSameAs(RelayBuffers.ALLOCATOR); // Vert.x copies these to the heap, as by default
    next.release();
    dropped.clear();
    chunk(65536).release(); // once collected, reads are relay chunks again
  }

  @Test
  void keptChunksLetGoAreFreedByTheGcAndTheNextReadAllocatesAnew() {
    List<ByteBuf> chunks = new ArrayList<>();
    for (int i = 0; i < 64; i++) chunks.add(chunk(65536));
    chunks.forEach(ByteBuf::release);
    assertThat(RelayBuffers.keptBytes()).isGreaterThanOrEqualTo(64 * 65536);
    long held = RelayBuffers.heldBytes();
    assertThat(RelayBuffers.dropKept()).isGreaterThanOrEqualTo(64 * 65536);
    assertThat(RelayBuffers.keptBytes()).isZero();
    ByteBuf next = chunk(65536);
    assertThat(chunks.stream().noneMatch(c -> c == next)).as("a new chunk, none kept").isTrue();
    next.release();
    chunks.clear();
    Http.await("the chunks let go collected", Duration.ofSeconds(10), () -> {
      System.gc(); // the JDK frees direct memory only by collecting it
      return RelayBuffers.heldBytes() <= held - 63 * 65536;
    });
    assertThat(RelayBuffers.heldBytes()).as("the memory let go, freed").isLessThanOrEqualTo(held - 63 * 65536);
  }

  @Test
  void socketReadsShrinkAsRelayMemoryInUseGrowsAndGrowBackOnceItIsReleased() {
    awaitCalm();
    List<ByteBuf> inFlight = new ArrayList<>();
    int most = (int) (RelayBuffers.MAX_HELD_BYTES / 4096);
    while (RelayBuffers.readSize() == RelayBuffers.MAX_READ && inFlight.size() < most) {
      inFlight.add(RelayBuffers.readBuffer(65536, new RelayReads.InFlight()));
    }
    assertThat(RelayBuffers.readSize()).isEqualTo(32768);
    while (RelayBuffers.readSize() > 4096 && inFlight.size() < most) {
      inFlight.add(RelayBuffers.readBuffer(RelayBuffers.readSize(), new RelayReads.InFlight()));
    }
    assertThat(inUse()).as("4 KiB reads from 5/8 of the bound on").isBetween(
      RelayBuffers.MAX_HELD_BYTES * 5 / 8, RelayBuffers.MAX_HELD_BYTES * 5 / 8 + 65536);
    inFlight.forEach(ByteBuf::release);
    assertThat(RelayBuffers.readSize()).isEqualTo(RelayBuffers.MAX_READ);
  }

  @Test
  void atTheBoundASocketReadTakesLargerOrSmallerKeptMemoryRatherThanCopying() {
    awaitCalm();
    ByteBuf four = RelayBuffers.readBuffer(4096, new RelayReads.InFlight());
    List<ByteBuf> held = new ArrayList<>();
    ByteBuf next = RelayBuffers.readBuffer(65536, new RelayReads.InFlight());
    while (next.alloc() == RelayBuffers.ALLOCATOR && held.size() <= RelayBuffers.MAX_HELD_BYTES / 1024) {
      held.add(next);
      next = RelayBuffers.readBuffer(65536, new RelayReads.InFlight());
    }
    assertThat(next.alloc()).as("past the bound, Netty's pool").isNotSameAs(RelayBuffers.ALLOCATOR);
    next.release();
    four.release(); // only 4 KiB kept
    ByteBuf large = RelayBuffers.readBuffer(65536, new RelayReads.InFlight());
    assertThat(large.alloc()).as("a read takes the smaller memory kept").isSameAs(RelayBuffers.ALLOCATOR);
    assertThat(large.capacity()).isEqualTo(4096);
    assertThat(large.writeBytes(new byte[4096]).readableBytes()).isEqualTo(4096);
    held.remove(0).release(); // 64 KiB kept
    ByteBuf small = RelayBuffers.readBuffer(4096, new RelayReads.InFlight());
    assertThat(small.alloc()).as("a read takes larger memory kept").isSameAs(RelayBuffers.ALLOCATOR);
    assertThat(small.capacity()).isEqualTo(65536);
    small.release();
    large.release();
    held.forEach(ByteBuf::release);
  }

  @Test
  void aConnectionWhoseReadsAreNotYetWrittenOnReadsLittleUntilTheyAre() {
    awaitCalm();
    RecvByteBufAllocator.Handle reads = new RelayReads(RelayBuffers.MAX_READ).newHandle();
    ByteBuf first = reads.allocate(RelayBuffers.ALLOCATOR);
    assertThat(first.capacity()).as("a connection with nothing in flight").isEqualTo(RelayBuffers.MAX_READ);
    List<ByteBuf> queued = new ArrayList<>();
    for (int i = 0; i < 24; i++) queued.add(reads.allocate(RelayBuffers.ALLOCATOR)); // as Vert.x queues for a paused stream
    assertThat(queued).allSatisfy(read -> assertThat(read.capacity()).isEqualTo(RelayReads.MIN_READ));
    first.release(); // written on: 24 KiB of small reads still in flight, 40 KiB left
    assertThat(reads.guess()).isEqualTo(32768);
    queued.remove(0).release();
    assertThat(reads.guess()).isEqualTo(32768);
    queued.forEach(ByteBuf::release);
    assertThat(reads.guess()).isEqualTo(RelayBuffers.MAX_READ);
  }

  @Test
  void aConnectionWhoseReadsGoToHttp2StreamsIsNotCapped() {
    awaitCalm();
    RecvByteBufAllocator.Handle reads = new RelayReads(RelayBuffers.MAX_READ).newHandle();
    List<ByteBuf> queued = new ArrayList<>();
    for (int i = 0; i < 3; i++) queued.add(reads.allocate(RelayBuffers.ALLOCATOR));
    assertThat(reads.guess()).isEqualTo(RelayReads.MIN_READ);
    // framed for an HTTP/2 stream: the codec holds the rest until the stream may send
    RelayBuffers.leftToGc(Unpooled.unreleasableBuffer(queued.get(0).slice()));
    assertThat(reads.guess()).as("two reads still in flight").isEqualTo(RelayBuffers.MAX_READ);
    queued.forEach(ByteBuf::release);
  }

  /** Waits, with a deadline, for the GC to free what other tests dropped: no relay memory in use. */
  private static void awaitCalm() {
    long deadline = System.nanoTime() + 10_000_000_000L;
    while (inUse() > 0 && System.nanoTime() < deadline) {
      System.gc();
      Thread.onSpinWait();
    }
    assertThat(inUse()).isZero();
  }

  private static long inUse() {
    return RelayBuffers.heldBytes() - RelayBuffers.keptBytes();
  }

  /** A relay chunk of {@code size}, once the GC has freed what other tests left to it (what heap copies bring about). */
  private static ByteBuf chunk(int size) {
    long deadline = System.nanoTime() + 10_000_000_000L;
    ByteBuf buf = RelayBuffers.ALLOCATOR.directBuffer(size);
    while (buf.alloc() != RelayBuffers.ALLOCATOR && System.nanoTime() < deadline) {
      buf.release();
      System.gc();
      Thread.onSpinWait();
      buf = RelayBuffers.ALLOCATOR.directBuffer(size);
    }
    assertThat(buf.alloc()).isSameAs(RelayBuffers.ALLOCATOR);
    return buf;
  }
}
