package dev.fairway.accesslog;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Log text as bytes, appended as it will be written: no String of the block and no charset encoding on the way to
 * the file. Each char becomes one byte (ISO-8859-1), which is exact for what a line holds: request lines and headers
 * are bytes that Netty decoded one byte per char, so a client's UTF-8 comes out as the same UTF-8 bytes.
 */
final class LineBuffer {

  private byte[] bytes;
  private int length;

  LineBuffer(int capacity) {
    bytes = new byte[capacity];
  }

  int length() {
    return length;
  }

  void setLength(int length) {
    this.length = length;
  }

  @SuppressWarnings("deprecation") // exactly the char-to-low-byte copy wanted here, as one array copy for a Latin-1 string
  LineBuffer append(String s) {
    int n = s.length();
    ensure(n);
    s.getBytes(0, n, bytes, length);
    length += n;
    return this;
  }

  LineBuffer append(byte[] text) {
    ensure(text.length);
    System.arraycopy(text, 0, bytes, length, text.length);
    length += text.length;
    return this;
  }

  LineBuffer append(char c) {
    ensure(1);
    bytes[length++] = (byte) c;
    return this;
  }

  LineBuffer append(long v) {
    if (v < 0) {
      if (v == Long.MIN_VALUE) return append(Long.toString(v));
      append('-');
      v = -v;
    }
    int digits = 1;
    for (long rest = v / 10; rest > 0; rest /= 10) digits++;
    ensure(digits);
    for (int i = length + digits - 1; i >= length; i--, v /= 10) bytes[i] = (byte) ('0' + v % 10);
    length += digits;
    return this;
  }

  /** {@code millis} as seconds with three decimals ({@code 12.345}, {@code 0.007}), without formatting a double. */
  LineBuffer appendMillisAsSeconds(long millis) {
    append(millis / 1000);
    long frac = millis % 1000;
    ensure(4);
    bytes[length] = '.';
    bytes[length + 1] = (byte) ('0' + frac / 100);
    bytes[length + 2] = (byte) ('0' + frac / 10 % 10);
    bytes[length + 3] = (byte) ('0' + frac % 10);
    length += 4;
    return this;
  }

  /** A copy of the text so far, exactly as long as it. */
  byte[] toBytes() {
    return Arrays.copyOf(bytes, length);
  }

  @Override
  public String toString() {
    return new String(bytes, 0, length, StandardCharsets.ISO_8859_1);
  }

  private void ensure(int more) {
    if (length + more > bytes.length) bytes = Arrays.copyOf(bytes, Math.max(bytes.length * 2, length + more));
  }
}
