package dev.fairway.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

/** The byte comparisons the direct HTTP/1.1 path reads heads with, eight bytes at a time and byte by byte. */
class RequestHeadTest {

  private static ByteBuf bytes(String s) {
    return Unpooled.copiedBuffer(s, StandardCharsets.ISO_8859_1);
  }

  private static boolean is(String name, String lower) {
    ByteBuf buf = bytes("x" + name + ":");
    try {
      return RequestHead.is(buf, 1, 1 + name.length(), lower);
    } finally {
      buf.release();
    }
  }

  @Test
  void aHeaderNameMatchesInAnyCaseOverAndUnderEightBytes() {
    assertThat(is("Host", "host")).isTrue();
    assertThat(is("Content-Length", "content-length")).isTrue();
    assertThat(is("CONTENT-LENGTH", "content-length")).isTrue();
    assertThat(is("content-lengtH", "content-length")).isTrue();
    assertThat(is("Transfer-Encoding", "transfer-encoding")).isTrue();
    assertThat(is("X-Forwarded-For", "x-forwarded-for")).isTrue();
  }

  @Test
  void onlyLettersFoldAByteOneCaseBitAwayElsewhereDoesNotMatch() {
    assertThat(is("content\rlength", "content-length")).isFalse(); // '-' is 0x2d, CR 0x0d
    assertThat(is("content_length", "content-length")).isFalse();
    assertThat(is("content-lengtx", "content-length")).isFalse();
    assertThat(is("Content-Lengtg", "content-length")).isFalse();
    assertThat(is("x-request-\u0011d", "x-request-1d")).isFalse(); // '1' is 0x31
    assertThat(is("@ost", "`ost")).isFalse(); // '`' is not a letter: no folding
    assertThat(is("hosts", "host")).isFalse();
    assertThat(is("hos", "host")).isFalse();
  }

  @Test
  void aByteOverAsciiMatchesItselfAloneInTheEightByteRunAndAfterIt() {
    assertThat(is("caf\u00e9", "caf\u00e9")).isTrue(); // byte by byte
    assertThat(is("cafe-caf\u00e9", "cafe-caf\u00e9")).isTrue(); // in the eight
    assertThat(is("cafe-caf\u00c9", "cafe-caf\u00e9")).isFalse(); // no folding beyond A-Z
    assertThat(is("caf\u00c9", "caf\u00e9")).isFalse();
  }

  @Test
  void startsWithComparesExactlyAndStopsAtTheWrittenBytes() {
    ByteBuf buf = bytes("GET / HTTP/1.1\r\n");
    try {
      assertThat(RequestHead.startsWith(buf, 0, "GET /")).isTrue();
      assertThat(RequestHead.startsWith(buf, 5, " HTTP/1.1\r")).isTrue();
      assertThat(RequestHead.startsWith(buf, 5, " http/1.1\r")).isFalse();
      assertThat(RequestHead.startsWith(buf, 0, "get /")).isFalse();
      assertThat(RequestHead.startsWith(buf, 5, " HTTP/1.1\r\n\r\n")).isFalse(); // past the written bytes
    } finally {
      buf.release();
    }
  }

  @Test
  void aHeadEndsAfterItsBlankLineOnceItIsAllThereAndABareLfIsNotRead() {
    ByteBuf whole = bytes("GET / HTTP/1.1\r\nHost: a\r\n\r\nGET");
    ByteBuf part = bytes("GET / HTTP/1.1\r\nHost: a\r\n\r");
    ByteBuf bareLf = bytes("GET / HTTP/1.1\r\nHost: a\r\n\n\r\n");
    try {
      assertThat(RequestHead.end(whole)).isEqualTo(whole.readableBytes() - 3);
      assertThat(RequestHead.end(part)).isEqualTo(-1);
      int end = RequestHead.end(bareLf); // found, but its bare LF line makes it no head this path reads
      assertThat(end).isEqualTo(bareLf.readableBytes());
      assertThat(RequestHead.read(bareLf, end, null)).isNull();
    } finally {
      whole.release();
      part.release();
      bareLf.release();
    }
  }
}
