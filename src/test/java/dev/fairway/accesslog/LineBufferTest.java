package dev.fairway.accesslog;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

class LineBufferTest {

  @Test
  void numbersAreWrittenInDecimalWithTheirSign() {
    LineBuffer b = new LineBuffer(4);
    b.append(0L).append(' ').append(7L).append(' ').append(1_234_567_890_123L).append(' ').append(-42L).append(' ')
      .append(Long.MIN_VALUE).append(' ').append(Long.MAX_VALUE);
    assertThat(b.toString()).isEqualTo("0 7 1234567890123 -42 " + Long.MIN_VALUE + " " + Long.MAX_VALUE);
  }

  @Test
  void millisAreWrittenAsSecondsWithThreeDecimals() {
    LineBuffer b = new LineBuffer(2); // grows inside the four-byte fraction too
    b.appendMillisAsSeconds(0).append(' ').appendMillisAsSeconds(7).append(' ').appendMillisAsSeconds(70)
      .append(' ').appendMillisAsSeconds(12_345).append(' ').appendMillisAsSeconds(1_800_000);
    assertThat(b.toString()).isEqualTo("0.000 0.007 0.070 12.345 1800.000");
  }

  @Test
  void growsPastItsCapacityAndCopiesExactlyWhatWasWritten() {
    LineBuffer b = new LineBuffer(8);
    String text = "x".repeat(1000);
    b.append(text);
    assertThat(b.toBytes()).hasSize(1000);
    b.setLength(3);
    assertThat(b.append("yz").toBytes()).isEqualTo("xxxyz".getBytes(StandardCharsets.ISO_8859_1));
  }

  @Test
  void eachCharIsOneByteSoBytesDecodedOnePerCharComeOutAsTheyCameIn() {
    byte[] utf8 = "Zoë ☕".getBytes(StandardCharsets.UTF_8);
    LineBuffer b = new LineBuffer(16).append(new String(utf8, StandardCharsets.ISO_8859_1));
    assertThat(b.toBytes()).isEqualTo(utf8);
  }
}
