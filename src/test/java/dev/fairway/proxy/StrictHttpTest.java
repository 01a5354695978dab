package dev.fairway.proxy;

import dev.fairway.support.FairwayTest;
import dev.fairway.support.Proxies;
import dev.fairway.support.RawHttp;
import dev.fairway.support.TestUpstream;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Requests no one may smuggle through: each is sent as raw bytes, and the upstream must receive nothing. Add a case
 * to {@link #refused()} to extend the list.
 */
class StrictHttpTest extends FairwayTest {

  private TestUpstream up;

  @BeforeEach
  void setUp(Vertx vertx) {
    up = TestUpstream.start(vertx, "up");
    up.handler = req -> {
      JsonObject seen = new JsonObject();
      req.headers().forEach(h -> seen.put(h.getKey().toLowerCase(), h.getValue()));
      req.response().end(seen.encode());
    };
    fairway = Proxies.start(Proxies.options(up));
  }


  static Stream<Arguments> refused() {
    String smuggled = "GET /smuggled HTTP/1.1\r\nHost: h\r\n\r\n";
    return Stream.of(
      Arguments.of("Content-Length with Transfer-Encoding",
        "POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + smuggled, 400),
      Arguments.of("chunked not last", "POST /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n", 400),
      Arguments.of("gzip then chunked", "POST /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", 400),
      Arguments.of("two Transfer-Encodings",
        "POST /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n0\r\n\r\n", 400),
      Arguments.of("two Content-Lengths", "POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", 400),
      Arguments.of("malformed Content-Length", "POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 1x\r\n\r\nab", 400),
      Arguments.of("space before the colon", "GET /x HTTP/1.1\r\nHost: h\r\nX-A : 1\r\n\r\n", 400),
      Arguments.of("bare CR in a header", "GET /x HTTP/1.1\r\nHost: h\r\nX-A: 1\r2\r\n\r\n", 400),
      Arguments.of("NUL in a header", "GET /x HTTP/1.1\r\nHost: h\r\nX-A: 1\u00002\r\n\r\n", 400),
      Arguments.of("no Host on HTTP/1.1", "GET /x HTTP/1.1\r\nAccept: */*\r\n\r\n", 400),
      Arguments.of("two Hosts", "GET /x HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),
      Arguments.of("two Hosts in different case", "GET /x HTTP/1.1\r\nHost: a\r\nhOST: b\r\n\r\n", 400),
      Arguments.of("slash in Host", "GET /x HTTP/1.1\r\nHost: a/b\r\n\r\n", 400),
      Arguments.of("at sign in Host", "GET /x HTTP/1.1\r\nHost: user@evil\r\n\r\n", 400),
      Arguments.of("a port that is no number in Host", "GET /x HTTP/1.1\r\nHost: a:b\r\n\r\n", 400),
      Arguments.of("a port over 65535 in Host", "GET /x HTTP/1.1\r\nHost: a:99999\r\n\r\n", 400),
      Arguments.of("an empty port in Host", "GET /x HTTP/1.1\r\nHost: a:\r\n\r\n", 400),
      Arguments.of("NUL in the request target", "GET /x\u0000y HTTP/1.1\r\nHost: h\r\n\r\n", 400),
      Arguments.of("a control byte in the request target", "GET /x\u0001y HTTP/1.1\r\nHost: h\r\n\r\n", 400),
      Arguments.of("TRACE", "TRACE /x HTTP/1.1\r\nHost: h\r\n\r\n", 405),
      Arguments.of("CONNECT", "CONNECT evil:443 HTTP/1.1\r\nHost: evil:443\r\n\r\n", 405),
      Arguments.of("request line too long", "GET /" + "a".repeat(9_000) + " HTTP/1.1\r\nHost: h\r\n\r\n", 414),
      Arguments.of("headers too large", "GET /x HTTP/1.1\r\nHost: h\r\nX-Big: " + "b".repeat(20_000) + "\r\n\r\n", 431));
  }

  @ParameterizedTest(name = "{0} -> {2}")
  @MethodSource("refused")
  void refusedWithNothingSentUpstream(String name, String request, int status) throws Exception {
    RawHttp.Response resp = RawHttp.exchange(fairway.proxyPort(), request);
    assertThat(resp.status()).as(resp.text()).isEqualTo(status);
    assertThat(resp.closed()).as("connection closed after " + name).isTrue();
    assertThat(up.hits.get()).as("nothing reached the upstream").isZero();
  }

  @Test
  void hostsWithPortsAndIpv6LiteralsAreAccepted() throws Exception {
    for (String host : new String[] {"a:8080", "[::1]:8080", "[::1]", "127.0.0.1:1"}) {
      RawHttp.Response resp = RawHttp.exchange(fairway.proxyPort(), "GET /x HTTP/1.1\r\nHost: " + host + "\r\n\r\n");
      assertThat(resp.status()).as(host).isEqualTo(200);
    }
  }

  @Test
  void obsoleteLineFoldingIsUnfoldedIntoOneValueNotASecondHeader() throws Exception {
    // RFC 9112 5.2 allows replacing obs-fold with a space instead of a 400; Netty does so. Nothing is smuggled.
    RawHttp.Response resp = RawHttp.exchange(fairway.proxyPort(), "GET /x HTTP/1.1\r\nHost: h\r\nX-A: 1\r\n X-Evil: yes\r\n\r\n");
    JsonObject seen = new JsonObject(resp.text().substring(resp.text().indexOf("\r\n\r\n") + 4));
    assertThat(seen.getString("x-a")).isEqualTo("1 X-Evil: yes");
    assertThat(seen.containsKey("x-evil")).isFalse();
  }

  @Test
  void headersNamedInASecondConnectionLineAreStrippedToo() throws Exception {
    RawHttp.Response resp = RawHttp.exchange(fairway.proxyPort(),
      "GET /x HTTP/1.1\r\nHost: h\r\nConnection: keep-alive\r\nConnection: X-Secret\r\nX-Secret: s\r\nX-Open: o\r\n\r\n");
    JsonObject seen = new JsonObject(resp.text().substring(resp.text().indexOf("\r\n\r\n") + 4));
    assertThat(seen.containsKey("x-secret")).isFalse();
    assertThat(seen.getString("x-open")).isEqualTo("o");
  }

  /** RFC 9112 3.2.2: an absolute-form target's authority replaces Host, and the request goes on in origin form. */
  @Test
  void anAbsoluteFormTargetIsRoutedAndForwardedByItsOwnAuthority() throws Exception {
    up.handler = req -> req.response().end(req.uri() + " " + req.getHeader("Host") + " " + req.getHeader("X-Forwarded-Host"));
    RawHttp.Response resp = RawHttp.exchange(fairway.proxyPort(), "GET http://other.example:8081/x?y=1 HTTP/1.1\r\nHost: a\r\n\r\n");
    assertThat(resp.status()).isEqualTo(200);
    assertThat(resp.text()).endsWith("/x?y=1 other.example:8081 other.example:8081");
    RawHttp.Response bare = RawHttp.exchange(fairway.proxyPort(), "GET http://other.example HTTP/1.1\r\nHost: a\r\n\r\n");
    assertThat(bare.text()).endsWith("/ other.example other.example");
    RawHttp.Response bad = RawHttp.exchange(fairway.proxyPort(), "GET http://a:99999/x HTTP/1.1\r\nHost: a\r\n\r\n");
    assertThat(bad.status()).isEqualTo(400);
  }

  @Test
  void headerNamesWithUnderscoresAreDroppedButDashesPass() throws Exception {
    RawHttp.Response resp = RawHttp.exchange(fairway.proxyPort(), "GET /x HTTP/1.1\r\nHost: h\r\nX_User: admin\r\nX-User: alice\r\n\r\n");
    String body = resp.text().substring(resp.text().indexOf("\r\n\r\n") + 4);
    JsonObject seen = new JsonObject(body);
    assertThat(seen.getString("x-user")).isEqualTo("alice");
    assertThat(seen.containsKey("x_user")).isFalse();
  }
}
