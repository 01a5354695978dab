package dev.fairway.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

/** The byte comparisons the direct HTTP/1.1 path reads heads with, and where it finds a head's end. */
class RequestHeadTest {

  private static ByteBuf bytes(String s) {
    return Unpooled.copiedBuffer(s, StandardCharsets.ISO_8859_1);
  }

  private static boolean is(String name, String lower) {
    return RequestHead.is(("x" + name + ":").getBytes(StandardCharsets.ISO_8859_1), 1, 1 + name.length(), lower);
  }

  @Test
  void aHeaderNameMatchesInAnyCase() {
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
  void aByteOverAsciiMatchesItselfAlone() {
    assertThat(is("caf\u00e9", "caf\u00e9")).isTrue();
    assertThat(is("cafe-caf\u00e9", "cafe-caf\u00e9")).isTrue();
    assertThat(is("cafe-caf\u00c9", "cafe-caf\u00e9")).isFalse(); // no folding beyond A-Z
    assertThat(is("caf\u00c9", "caf\u00e9")).isFalse();
  }

  @Test
  void startsWithComparesExactlyAndStopsAtTheHeadsEnd() {
    byte[] line = "GET / HTTP/1.1\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1);
    int end = line.length - 2;
    assertThat(RequestHead.startsWith(line, 0, end, "GET /")).isTrue();
    assertThat(RequestHead.startsWith(line, 5, end, " HTTP/1.1\r")).isTrue();
    assertThat(RequestHead.startsWith(line, 5, end, " http/1.1\r")).isFalse();
    assertThat(RequestHead.startsWith(line, 0, end, "get /")).isFalse();
    assertThat(RequestHead.startsWith(line, 5, end, " HTTP/1.1\r\n\r\n")).isFalse(); // past the end, though in the array
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

  private static RequestHead read(String head) {
    byte[] bytes = (head + "X-Absent: left from a longer head\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1); // a scratch array
    return RequestHead.read(bytes, head.length(), null);
  }

  @Test
  void aHeadIsReadFromItsBytesAndItsValuesTrimmed() {
    RequestHead head = read("GET /a/../b?q=1 HTTP/1.1\r\nhOST:  example.com:8080 \r\nX-Forwarded-For: 10.0.0.1\r\n"
      + "x-forwarded-for:10.0.0.2\r\nUser-Agent: caf\u00e9\t\r\nConnection: close\r\nX-Custom: v\r\n\r\n");
    assertThat(head).isNotNull();
    assertThat(head.uri).isEqualTo("/a/../b?q=1");
    assertThat(head.path).isEqualTo("/b");
    assertThat(head.host).isEqualTo("example.com:8080");
    assertThat(head.hostName()).isEqualTo("example.com");
    assertThat(head.forwardedFor).isEqualTo("10.0.0.1, 10.0.0.2");
    assertThat(head.userAgent).isEqualTo("caf\u00e9");
    assertThat(head.close).isTrue();
    assertThat(head.firstValue("x-custom")).isEqualTo("v");
    assertThat(head.firstValue("x-absent")).isNull();
  }

  @Test
  void aHeadWithAByteThisPathDoesNotTakeIsLeftToVertx() {
    String host = "Host: a\r\n";
    assertThat(read("GET / HTTP/1.1\r\n" + host + "\r\n")).isNotNull();
    assertThat(read("GET /\u00e9 HTTP/1.1\r\n" + host + "\r\n")).isNull(); // beyond ASCII in the target
    assertThat(read("GET /a\u007f HTTP/1.1\r\n" + host + "\r\n")).isNull(); // DEL in the target
    assertThat(read("GET / HTTP/1.1\r\n" + host + "X-A: b\u0001c\r\n\r\n")).isNull(); // a control byte in a value
    assertThat(read("GET / HTTP/1.1\r\n" + host + "X-A: b\u007f\r\n\r\n")).isNull(); // DEL in a value
    assertThat(read("GET / HTTP/1.1\r\n" + host + "X-A: b\tc\u00e9\r\n\r\n")).isNotNull(); // HTAB and obs-text
    assertThat(read("GET / HTTP/1.1\r\n" + host + "X A: b\r\n\r\n")).isNull(); // not a token
    assertThat(read("GET / HTTP/1.1\r\n" + host + "X-\u00e9: b\r\n\r\n")).isNull(); // nor this
    assertThat(read("GET / HTTP/1.1\r\n" + host + host + "\r\n")).isNull(); // two Hosts
    assertThat(read("GET / HTTP/1.1\r\n" + host + "Content-Length: 0\r\n\r\n")).isNull(); // a body's framing
    assertThat(read("POST / HTTP/1.1\r\n" + host + "\r\n")).isNull();
    assertThat(read("GET / HTTP/1.0\r\n" + host + "\r\n")).isNull();
  }
}
