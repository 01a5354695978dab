package dev.fairway.proxy;

import dev.fairway.support.FairwayTest;
import dev.fairway.support.Http;
import dev.fairway.support.Proxies;
import dev.fairway.support.TestUpstream;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/** client-header-timeout (slowloris) and client-keepalive-timeout, over raw sockets. */
class ClientDeadlinesTest extends FairwayTest {

  @TempDir
  Path dir;


  /** Writes one byte of {@code head} every 50 ms until the server closes; returns the ms until it did, or -1. */
  private static long trickleUntilClosed(Socket s, String head, long giveUpMillis) throws IOException {
    long start = System.nanoTime();
    s.setSoTimeout(50); // the read's timeout paces the trickle
    OutputStream out = s.getOutputStream();
    InputStream in = s.getInputStream();
    int i = 0;
    while ((System.nanoTime() - start) / 1_000_000 < giveUpMillis) {
      try {
        out.write(head.charAt(i++ % head.length()));
        out.flush();
        if (in.read() < 0) return (System.nanoTime() - start) / 1_000_000;
      } catch (SocketTimeoutException stillOpen) {
        // keep trickling
      } catch (IOException reset) {
        return (System.nanoTime() - start) / 1_000_000;
      }
    }
    return -1;
  }

  @Test
  void aHeadTrickledByteByByteIsCutAtTheHeaderDeadlineAndLoggedAs408(Vertx vertx) throws Exception {
    TestUpstream up = TestUpstream.start(vertx, "up");
    Path log = dir.resolve("access.log");
    fairway = Proxies.start(Proxies.options(up).with(o -> o.getClients().setHeaderTimeoutMillis(500)).with(o -> o.getAccessLog().setDestination(log.toString())));
    try (Socket s = new Socket("127.0.0.1", fairway.proxyPort())) {
      long closedAfter = trickleUntilClosed(s, "GET / HTTP/1.1\r\nHost: h\r\nX-Slow: ", 5_000);
      assertThat(closedAfter).as("closed although bytes kept coming").isBetween(450L, 2_500L);
    }
    assertThat(up.hits.get()).as("nothing reached the upstream").isZero();
    Http.await("a 408 line", Duration.ofSeconds(5), () -> read(log).contains("\"-\" 408 0"));
    assertThat(read(log)).contains("reason=header_timeout");
    HttpClient client = vertx.createHttpClient();
    assertThat(Http.get(client, fairway.adminPort(), "/metrics").await().body())
      .contains("fairway_client_timeouts_total{phase=\"header\"} 1.0");
  }

  @Test
  void aRequestInProgressIsNeverCutByTheClientDeadlines(Vertx vertx) {
    TestUpstream up = TestUpstream.start(vertx, "up");
    up.handler = req -> vertx.setTimer(1_200, id -> req.response().end("late but whole"));
    fairway = Proxies.start(Proxies.options(up).with(o -> o.getClients().setHeaderTimeoutMillis(200)).with(o -> o.getClients().setKeepAliveTimeoutMillis(200)));
    HttpClient client = vertx.createHttpClient();
    Http.Reply reply = Http.get(client, fairway.proxyPort(), "/slow").await();
    assertThat(reply.status()).isEqualTo(200);
    assertThat(reply.body()).isEqualTo("late but whole");
  }

  @Test
  void anIdleKeptAliveConnectionIsClosedAfterTheKeepAliveTimeout(Vertx vertx) throws Exception {
    TestUpstream up = TestUpstream.start(vertx, "up");
    fairway = Proxies.start(Proxies.options(up).with(o -> o.getClients().setHeaderTimeoutMillis(0)).with(o -> o.getClients().setKeepAliveTimeoutMillis(400)));
    try (Socket s = new Socket("127.0.0.1", fairway.proxyPort())) {
      s.setSoTimeout(5_000);
      s.getOutputStream().write("GET /a HTTP/1.1\r\nHost: h\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
      InputStream in = s.getInputStream();
      byte[] head = new byte[12];
      assertThat(in.readNBytes(head, 0, 12)).isEqualTo(12);
      assertThat(new String(head, StandardCharsets.ISO_8859_1)).isEqualTo("HTTP/1.1 200");
      long start = System.nanoTime();
      while (in.read() >= 0) {
        // the rest of the response, then the close
      }
      // not at once, nor long after: the close comes at 400-500 ms after the response went out (sweeps every
      // 100 ms), and this thread may read its first bytes tens of milliseconds after they came on a busy machine
      assertThat((System.nanoTime() - start) / 1_000_000).isBetween(200L, 3_000L);
    }
    HttpClient client = vertx.createHttpClient();
    assertThat(Http.get(client, fairway.adminPort(), "/metrics").await().body())
      .contains("fairway_client_timeouts_total{phase=\"keepalive\"} 1.0")
      .doesNotContain("phase=\"header\"");
  }

  private static String read(Path log) {
    try {
      return Files.exists(log) ? Files.readString(log) : "";
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
