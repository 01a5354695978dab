package dev.fairway.proxy;

import io.netty.buffer.ByteBuf;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class RelayBuffersTest {

  @Test
  void aReleasedChunksMemoryGoesBackToTheCacheAndANewChunkIsEmpty() {
    ByteBuf first = RelayBuffers.ALLOCATOR.ioBuffer(65536);
    first.writeLong(42);
    long cached = RelayBuffers.cachedBytes();
    long inUse = RelayBuffers.inUseBytes();
    first.release();
    assertThat(RelayBuffers.cachedBytes()).isEqualTo(cached + 65536);
    assertThat(RelayBuffers.inUseBytes()).isEqualTo(inUse - 65536);
    ByteBuf next = RelayBuffers.ALLOCATOR.ioBuffer(40_000);
    assertThat(RelayBuffers.cachedBytes()).as("taken from the cache").isEqualTo(cached);
    assertThat(next.readableBytes()).isZero();
    assertThat(next.capacity()).isEqualTo(40_000);
    assertThat(next.isDirect()).isTrue();
    next.release();
  }

  @Test
  void aSliceKeepsItsChunksMemoryUntilItIsReleased() {
    ByteBuf chunk = RelayBuffers.ALLOCATOR.ioBuffer(16384);
    chunk.writeBytes(new byte[100]);
    ByteBuf slice = chunk.readRetainedSlice(60);
    long inUse = RelayBuffers.inUseBytes();
    chunk.release(); // the decoder is done with its read buffer; the relay still holds the slice
    assertThat(RelayBuffers.inUseBytes()).isEqualTo(inUse);
    slice.release();
    assertThat(RelayBuffers.inUseBytes()).isEqualTo(inUse - 16384);
  }

  @Test
  void aChunkThatGrowsKeepsItsBytesAndGivesItsFirstMemoryBack() {
    ByteBuf chunk = RelayBuffers.ALLOCATOR.ioBuffer(1024);
    long inUse = RelayBuffers.inUseBytes();
    for (int i = 0; i < 1000; i++) chunk.writeInt(i);
    assertThat(chunk.capacity()).isGreaterThanOrEqualTo(4000);
    for (int i = 0; i < 1000; i++) assertThat(chunk.readInt()).isEqualTo(i);
    assertThat(RelayBuffers.inUseBytes()).as("only the memory it grew into").isEqualTo(inUse - 1024 + 4096);
    chunk.release();
    assertThat(RelayBuffers.inUseBytes()).isEqualTo(inUse - 1024);
  }

  @Test
  void sizesAboveTheLargestReadAreNotCached() {
    long cached = RelayBuffers.cachedBytes();
    ByteBuf big = RelayBuffers.ALLOCATOR.ioBuffer(1 << 20);
    big.release();
    assertThat(RelayBuffers.cachedBytes()).isEqualTo(cached);
  }
}
