package dev.fairway.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class RelayBuffersTest {

  @Test
  void aChunkVertxWritesForTheRelayIsFoundThroughTheSliceItWrapsAndItsMemoryIsReused() {
    ByteBuf read = RelayBuffers.ALLOCATOR.directBuffer(4096).writeBytes(new byte[100]);
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
    assertThat(next.readableBytes()).isZero();
    assertThat(next.capacity()).isEqualTo(3000);
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
    long held = RelayBuffers.heldBytes();
    ByteBuf dropped = RelayBuffers.ALLOCATOR.directBuffer((int) RelayBuffers.MAX_HELD_BYTES); // never released
    ByteBuf next = RelayBuffers.ALLOCATOR.directBuffer(1 << 20);
    assertThat(next.alloc()).isNotSameAs(RelayBuffers.ALLOCATOR); // Vert.x copies these to the heap, as by default
    next.release();
    dropped = null;
    long deadline = System.nanoTime() + 10_000_000_000L;
    while (RelayBuffers.heldBytes() > held && System.nanoTime() < deadline) { // until it is freed: other tests relay
      System.gc(); // what the heap copies past the budget bring about
      Thread.onSpinWait();
    }
    ByteBuf again = RelayBuffers.ALLOCATOR.directBuffer(1 << 20);
    assertThat(again.alloc()).isSameAs(RelayBuffers.ALLOCATOR);
    again.release();
  }
}
