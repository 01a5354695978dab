package dev.fairway.proxy;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.fairway.Fairway;
import dev.fairway.config.FairwayOptions;
import dev.fairway.support.Proxies;
import dev.fairway.support.RawHttp;
import dev.fairway.support.TestUpstream;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Fuzzes what a client can send: any bytes on a fresh connection, through the HTTP/1 parser, Fairway's request checks,
 * routing and header handling. Whatever comes, the answer is well-formed HTTP or a closed connection, no handler
 * throws, and Fairway keeps serving. (The target connects to Fairway on loopback by design, so the pom turns off
 * Jazzer's server-side request forgery detector for it.) Starting inputs: raw requests like those of {@code StrictHttpTest}, in the resources beside this
 * class. {@code mvn -B verify} fuzzes it for a bounded time (its own surefire execution); a failing input is saved
 * under {@code .cifuzz-findings} and then replays as a regression test.
 */
class HttpRequestFuzzTest {

  /**
   * A status line: a protocol, a status, a reason, one line. Vert.x answers a request line it cannot take (an unknown
   * method, a mangled protocol or version such as {@code HTTP/1.999}) in the protocol the client sent, so that part is
   * only checked to hold no space or line break: nothing a client sends may start a header or a second response.
   */
  private static final Pattern STATUS_LINE = Pattern.compile("[^\\r\\n ]+ [1-5]\\d\\d [^\\r\\n]*\\r\\n.*", Pattern.DOTALL);
  private static Vertx vertx;
  private static Fairway fairway;
  private static final AtomicLong runs = new AtomicLong();

  @BeforeAll
  static void start() {
    vertx = Vertx.vertx();
    TestUpstream up = TestUpstream.start(vertx, "up");
    up.handler = req -> req.body().onComplete(b -> req.response().end("ok"));
    FairwayOptions options = Proxies.options(up);
    options.getClients().setHeaderTimeoutMillis(300);
    fairway = Proxies.start(options);
  }

  @AfterAll
  static void stop() {
    fairway.close().await();
    vertx.close().await();
  }

  @FuzzTest(maxDuration = "30s")
  void anyBytesGetAWellFormedAnswerOrAClosedConnection(byte[] request) throws Exception {
    String answer = send(request);
    if (!answer.isEmpty()) assertThat(answer).matches(STATUS_LINE);
    assertThat(fairway.registry().get("fairway.uncaught.errors").counter().count()).as("a handler threw").isZero();
    if (runs.incrementAndGet() % 200 == 0) {
      assertThat(RawHttp.exchange(fairway.proxyPort(), "GET /alive HTTP/1.1\r\nHost: h\r\n\r\n").status()).isEqualTo(200);
    }
  }

  /** Writes the bytes, ends the client's side, and reads what comes back (up to 64 KiB, within a second). */
  private static String send(byte[] request) throws IOException {
    try (Socket s = new Socket("127.0.0.1", fairway.proxyPort())) {
      s.setSoTimeout(1_000);
      try {
        s.getOutputStream().write(request);
        s.shutdownOutput();
      } catch (IOException closedEarly) {
        // Fairway refused and closed before the rest was written: what it answered is still there to read
      }
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      InputStream in = s.getInputStream();
      byte[] buf = new byte[8192];
      try {
        for (int n; out.size() < 65_536 && (n = in.read(buf)) > 0; ) out.write(buf, 0, n);
      } catch (IOException stillOpenOrReset) {
        // a request still waiting for its body, or a reset: no answer is a fine answer
      }
      return out.toString(StandardCharsets.ISO_8859_1);
    }
  }
}
