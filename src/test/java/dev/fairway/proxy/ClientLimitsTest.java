package dev.fairway.proxy;

import dev.fairway.config.ConfigLoader;
import dev.fairway.config.FairwayOptions;
import dev.fairway.support.FairwayTest;
import dev.fairway.support.Http;
import dev.fairway.support.Proxies;
import dev.fairway.support.RawHttp;
import dev.fairway.support.TestUpstream;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

/** The limits a public-facing proxy puts on its clients: request rates, connection caps, a lowest upload rate. */
class ClientLimitsTest extends FairwayTest {

  private TestUpstream up;

  @BeforeEach
  void setUp() {
    up = TestUpstream.start(vertx, "up");
    up.handler = req -> req.body().onSuccess(b -> req.response().end("got " + b.length()));
  }

  private FairwayOptions options(String yaml) {
    FairwayOptions parsed = new FairwayOptions(ConfigLoader.parseYaml("t.yaml", yaml));
    FairwayOptions o = Proxies.options(up).setRoutes(parsed.getRoutes());
    o.getClients().setConnectionCaps(parsed.getClients().getMaxConnections(), parsed.getClients().getMaxClientConnections());
    return o;
  }

  private Http.Reply get(String uri, String apiKey) {
    RequestOptions r = new RequestOptions().setHost("127.0.0.1").setPort(fairway.proxyPort()).setURI(uri);
    if (apiKey != null) r.putHeader("X-Api-Key", apiKey);
    return Http.send(client, r, null).await();
  }

  @Test
  void overARoutesRateLimitAClientGets429WithRetryAfterAndOtherRoutesAreUntouched() {
    fairway = Proxies.start(options("""
      routes:
        - {path: /jobs, rate-limit: {rate: 2/m, burst: 2}}
      """));
    assertThat(get("/jobs/1", null).status()).isEqualTo(200);
    assertThat(get("/jobs/2", null).status()).isEqualTo(200);
    Http.Reply limited = get("/jobs/3", null);
    assertThat(limited.status()).isEqualTo(429);
    assertThat(limited.body()).isEqualTo("too many requests\n");
    assertThat(Integer.parseInt(limited.headers().get("Retry-After"))).isBetween(1, 30); // a token every 30 s
    assertThat(get("/other", null).status()).isEqualTo(200);
    assertThat(up.hits.get()).isEqualTo(3);
    assertThat(fairway.registry().get("fairway.rejected").tag("reason", "rate_limited").counter().count()).isEqualTo(1.0);
  }

  /** A WebSocket upgrade is a request of its route: over the rate limit it gets 429 before any upstream is asked. */
  @Test
  void aWebSocketUpgradeOverTheRoutesRateLimitGets429() throws Exception {
    up.handler = req -> req.toWebSocket().onSuccess(ws -> ws.textMessageHandler(ws::writeTextMessage));
    fairway = Proxies.start(options("""
      routes:
        - {path: /socket, rate-limit: {rate: 1/m, burst: 1}}
      """));
    WebSocketClient sockets = vertx.createWebSocketClient();
    WebSocket first = sockets.connect(fairway.proxyPort(), "127.0.0.1", "/socket/1").await();
    RawHttp.Response limited = RawHttp.exchange(fairway.proxyPort(), "GET /socket/2 HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
      + "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
    assertThat(limited.status()).isEqualTo(429);
    assertThat(limited.text()).containsIgnoringCase("retry-after:").endsWith("too many requests\n");
    assertThat(up.hits.get()).as("only the first upgrade reached the upstream").isEqualTo(1);
    assertThat(fairway.registry().get("fairway.rejected").tag("reason", "rate_limited").counter().count()).isEqualTo(1.0);
    first.close().await();
  }

  @Test
  void aRateLimitByHeaderKeepsOneBucketPerValue() {
    fairway = Proxies.start(options("""
      routes:
        - {path: /, rate-limit: {rate: 1/h, key: "header:X-Api-Key"}}
      """));
    assertThat(get("/a", "alice").status()).isEqualTo(200);
    assertThat(get("/a", "alice").status()).isEqualTo(429);
    assertThat(get("/a", "bob").status()).isEqualTo(200);
  }

  @Test
  void aClientOverMaxClientConnectionsHasItsNewConnectionClosed() throws Exception {
    fairway = Proxies.start(options("max-client-connections: 2\n"));
    try (Socket first = new Socket("127.0.0.1", fairway.proxyPort()); Socket second = new Socket("127.0.0.1", fairway.proxyPort());
         Socket third = new Socket("127.0.0.1", fairway.proxyPort())) {
      third.setSoTimeout(5_000);
      assertThat(third.getInputStream().read()).as("closed as it opened").isEqualTo(-1);
      assertThat(exchange(first)).startsWith("HTTP/1.1 200");
      assertThat(exchange(second)).startsWith("HTTP/1.1 200");
    }
    assertThat(fairway.registry().get("fairway.client.connections.refused").tag("limit", "max-client-connections").counter().count())
      .isEqualTo(1.0);
  }

  @Test
  void overMaxConnectionsANewConnectionIsClosed() throws Exception {
    fairway = Proxies.start(options("max-connections: 1\n"));
    try (Socket first = new Socket("127.0.0.1", fairway.proxyPort()); Socket second = new Socket("127.0.0.1", fairway.proxyPort())) {
      second.setSoTimeout(5_000);
      assertThat(second.getInputStream().read()).isEqualTo(-1);
      assertThat(exchange(first)).startsWith("HTTP/1.1 200");
    }
  }

  private static String exchange(Socket s) throws Exception {
    s.setSoTimeout(5_000);
    s.getOutputStream().write("GET /x HTTP/1.1\r\nHost: h\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
    InputStream in = s.getInputStream();
    byte[] head = in.readNBytes(12);
    return new String(head, StandardCharsets.ISO_8859_1);
  }

  @Test
  void anUploadSlowerThanMinUploadRateGets408AndAFastOnePasses() {
    fairway = Proxies.start(options("""
      routes:
        - {path: /upload, min-upload-rate: {rate: 1k/s, window: 500ms}}
      """));
    HttpClientRequest slow = client.request(new RequestOptions().setMethod(HttpMethod.POST).setHost("127.0.0.1")
      .setPort(fairway.proxyPort()).setURI("/upload")).await();
    slow.setChunked(true);
    Future<Http.Reply> reply = slow.response().compose(r -> r.body().map(b -> new Http.Reply(r.statusCode(), r.headers(), b.toString())));
    long trickle = vertx.setPeriodic(100, id -> slow.write("x")); // 10 bytes/s, far under 1 KiB/s
    try {
      Http.Reply cut = reply.await();
      assertThat(cut.status()).isEqualTo(408);
      assertThat(cut.body()).startsWith("request body slower than min-upload-rate");
    } finally {
      vertx.cancelTimer(trickle);
    }
    Http.Reply fast = Http.send(client, new RequestOptions().setMethod(HttpMethod.POST).setHost("127.0.0.1")
      .setPort(fairway.proxyPort()).setURI("/upload"), Buffer.buffer(new byte[200_000]).toString()).await();
    assertThat(fast.status()).isEqualTo(200);
    assertThat(fairway.registry().get("fairway.client.timeouts").tag("phase", "upload_rate").counter().count()).isEqualTo(1.0);
  }
}
