package dev.fairway.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class RelayBuffersTest {

  @Test
  void aChunkVertxWritesForTheRelayIsFoundThroughTheSliceItWraps() {
    ByteBuf read = RelayBuffers.ALLOCATOR.directBuffer(1024).writeBytes(new byte[100]);
    ByteBuf content = read.readRetainedSlice(60); // what the HTTP decoder hands Vert.x
    read.release(); // the decoder is done with its read buffer
    // what Vert.x writes for a Buffer wrapping content
    ByteBuf written = Unpooled.unreleasableBuffer(content.slice());
    assertThat(RelayBuffers.relayedChunk(written)).isSameAs(read);
    long before = RelayBuffers.relayedBytes();
    RelayBuffers.written(read, written.readableBytes());
    assertThat(read.refCnt()).as("the slice's reference, freed").isZero();
    assertThat(RelayBuffers.relayedBytes() - before).isEqualTo(60);
  }

  @Test
  void buffersNettyFreesItselfOrThatAreNotRelayBuffersAreLeftAlone() {
    ByteBuf own = RelayBuffers.ALLOCATOR.directBuffer(64); // an encoder's, released by Netty once written
    assertThat(RelayBuffers.relayedChunk(own)).isNull();
    assertThat(RelayBuffers.relayedChunk(Unpooled.unreleasableBuffer(Unpooled.directBuffer(64)))).isNull();
    own.release();
  }
}
