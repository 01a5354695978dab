package dev.fairway.accesslog;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

class DirectFileOutputStreamTest {

  /** Under /tmp: ext4 or tmpfs on the usual Linux machine (tmpfs takes O_DIRECT too, since Linux 6.6). */
  @TempDir
  Path dir;

  @Test
  void everyByteArrivesInOrderWhateverTheWriteSizesAndFlushes() throws IOException {
    Path file = dir.resolve("access.log");
    byte[] older = "an older line, so that the file does not end on a block boundary\n".repeat(37)
      .getBytes(StandardCharsets.ISO_8859_1);
    Files.write(file, older);
    ByteArrayOutputStream expected = new ByteArrayOutputStream();
    expected.writeBytes(older);
    Random random = new Random(42);
    AtomicLong dropped = new AtomicLong();
    try (DirectFileOutputStream out = DirectFileOutputStream.open(file, dropped)) {
      assertThat(out).as("this file system takes O_DIRECT").isNotNull();
      int line = 0;
      for (int i = 0; i < 120; i++) {
        // from a line to more than the stream's buffer, flushed or not: a write starts and ends anywhere in a block
        int size = random.nextInt(6) == 0 ? random.nextInt(DirectFileOutputStream.BUFFER_BYTES * 5 / 2) : random.nextInt(9000);
        StringBuilder chunk = new StringBuilder();
        while (chunk.length() < size) chunk.append("line ").append(line++).append(' ').append("x".repeat(random.nextInt(300))).append('\n');
        byte[] bytes = chunk.toString().getBytes(StandardCharsets.ISO_8859_1);
        out.write(bytes, 0, bytes.length);
        expected.writeBytes(bytes);
        if (random.nextBoolean()) {
          out.flush();
          assertThat(Files.size(file)).as("after a flush, everything is in the file").isEqualTo(expected.size());
        }
      }
      assertThat(out.direct()).as("no direct write failed").isTrue();
    }
    byte[] written = Files.readAllBytes(file);
    assertThat(Arrays.mismatch(written, expected.toByteArray())).as("first byte that differs").isEqualTo(-1);
    assertThat(dropped).hasValue(0);
  }

  @Test
  void twoWritersOfOneFileBothAppendAndNeitherOverwritesTheOther() throws IOException {
    // a reload that changes only the format opens the same file while the log it replaces still writes its last lines
    Path file = dir.resolve("access.log");
    ByteArrayOutputStream expected = new ByteArrayOutputStream();
    Random random = new Random(7);
    try (DirectFileOutputStream old = DirectFileOutputStream.open(file, new AtomicLong());
         DirectFileOutputStream next = DirectFileOutputStream.open(file, new AtomicLong())) {
      for (int i = 0; i < 60; i++) {
        DirectFileOutputStream writer = i % 2 == 0 ? old : next;
        byte[] chunk = ((i % 2 == 0 ? "old " : "next ") + i + " " + "y".repeat(random.nextInt(20_000)) + "\n")
          .getBytes(StandardCharsets.ISO_8859_1);
        writer.write(chunk, 0, chunk.length);
        writer.flush();
        expected.writeBytes(chunk);
      }
      assertThat(old.direct()).isTrue();
      assertThat(next.direct()).isTrue();
    }
    assertThat(Arrays.mismatch(Files.readAllBytes(file), expected.toByteArray())).as("first byte that differs").isEqualTo(-1);
  }

  @Test
  void wholeBlocksGoPastThePageCache() throws Exception {
    byte[] lines = "127.0.0.1 - - [27/Nov/2026:12:00:00 +0000] \"GET / HTTP/1.1\" 200 1024 \"-\" \"wrk\"\n"
      .repeat(100_000).getBytes(StandardCharsets.ISO_8859_1); // 8 MB
    Path direct = dir.resolve("direct.log");
    try (DirectFileOutputStream out = DirectFileOutputStream.open(direct, new AtomicLong())) {
      for (int off = 0; off < lines.length; off += 300_000) {
        out.write(lines, off, Math.min(300_000, lines.length - off));
        out.flush();
      }
    }
    Path cached = dir.resolve("cached.log");
    Files.write(cached, lines);

    assertThat(residentBytes(cached)).as("the same bytes written as usual stay in the page cache: what fincore sees")
      .isGreaterThanOrEqualTo(lines.length * 9L / 10);
    assertThat(residentBytes(direct)).as("only the ends of each flush (at most two pages each) went through the cache")
      .isLessThan(lines.length / 10);
    assertThat(Files.size(direct)).isEqualTo(lines.length);
  }

  /** How much of {@code file} is in the page cache, by util-linux's fincore. */
  private static long residentBytes(Path file) throws Exception {
    Process p = new ProcessBuilder("fincore", "--bytes", "--noheadings", "--output", "RES", file.toString())
      .redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
    assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(out).isZero();
    return Long.parseLong(out);
  }
}
