package dev.fairway.proxy;

import dev.fairway.support.FairwayTest;
import dev.fairway.Fairway;
import dev.fairway.config.ConfigLoader;
import dev.fairway.config.FairwayOptions;
import dev.fairway.config.UpstreamOptions;
import dev.fairway.config.UpstreamTlsOptions;
import dev.fairway.support.Http;
import dev.fairway.support.Proxies;
import dev.fairway.support.RawHttp;
import dev.fairway.support.TestUpstream;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.SelfSignedCertificate;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/** Route matching and header rules; upstreams that answer early, break framing or speak TLS. */
class RoutesAndUpstreamEdgesTest extends FairwayTest {

  /** Held for the whole test: Vert.x closes a client the GC finds unreachable, and its WebSockets with it. */
  private io.vertx.core.http.WebSocketClient webSockets;

  private io.vertx.core.http.WebSocketClient webSockets() {
    if (webSockets == null) webSockets = vertx.createWebSocketClient();
    return webSockets;
  }

  private TestUpstream up;

  @BeforeEach
  void setUp(Vertx vertx) {
    up = TestUpstream.start(vertx, "up");
    up.handler = req -> {
      JsonObject seen = new JsonObject();
      req.headers().forEach(h -> seen.put(h.getKey().toLowerCase(), h.getValue()));
      req.response().putHeader("Server", "flask").putHeader("X-Internal", "secret").end(seen.encode());
    };
  }


  @Test
  void routesMatchByMethodAndHostAndApplyTheirHeaderRules() {
    FairwayOptions o = Proxies.options(up);
    FairwayOptions parsed = new FairwayOptions(ConfigLoader.parseYaml("t", """
      routes:
        - path: /api
          methods: [POST]
          request-headers: {set: {X-Route: api-post}, remove: [X-Debug]}
          response-headers: {remove: [Server, X-Internal], set: {Cache-Control: no-store}, add: {X-Via: fairway}}
        - path: /api
          host: docs.example.com
          request-headers: {set: {X-Route: docs}}
      """));
    fairway = Proxies.start(o.setRoutes(parsed.getRoutes()));
    RequestOptions post = new RequestOptions().setMethod(HttpMethod.POST).setHost("127.0.0.1").setPort(fairway.proxyPort())
      .setURI("/api/x").putHeader("X-Debug", "1");
    Http.Reply reply = Http.send(client, post, "b").await();
    JsonObject seen = new JsonObject(reply.body());
    assertThat(seen.getString("x-route")).isEqualTo("api-post");
    assertThat(seen.containsKey("x-debug")).isFalse();
    assertThat(reply.headers().get("Server")).isNull();
    assertThat(reply.headers().get("X-Internal")).isNull();
    assertThat(reply.headers().get("Cache-Control")).isEqualTo("no-store");
    assertThat(reply.headers().get("X-Via")).isEqualTo("fairway");

    RequestOptions docs = new RequestOptions().setHost("127.0.0.1").setPort(fairway.proxyPort()).setURI("/api/x")
      .putHeader("Host", "docs.example.com:8080");
    assertThat(new JsonObject(Http.send(client, docs, null).await().body()).getString("x-route")).isEqualTo("docs");
    Http.Reply plain = Http.get(client, fairway.proxyPort(), "/api/x").await();
    assertThat(new JsonObject(plain.body()).containsKey("x-route")).as("GET on another host: no route").isFalse();
    assertThat(plain.headers().get("Server")).isEqualTo("flask");
  }

  @Test
  void headerRulesOnAGetApplyAlikeOnBothHttp1Paths() {
    FairwayOptions parsed = new FairwayOptions(ConfigLoader.parseYaml("t", """
      routes:
        - path: /rules
          request-headers: {set: {X-Route: r, X-Forwarded-Proto: https}, add: {X-Extra: "1"}, remove: [X-Debug, X-Real-IP]}
          response-headers: {remove: [Server, X-Internal], set: {Cache-Control: no-store}, add: {X-Via: fairway}}
      """));
    fairway = Proxies.start(Proxies.options(up).setRoutes(parsed.getRoutes()));
    long direct = DirectHttp1.taken();
    RequestOptions get = new RequestOptions().setHost("127.0.0.1").setPort(fairway.proxyPort()).setURI("/rules/x")
      .putHeader("X-Debug", "1").putHeader("X-Route", "from-client");
    Http.Reply reply = Http.send(client, get, null).await();
    assertThat(DirectHttp1.taken() - direct).as("on the direct path when it is on").isEqualTo(Proxies.directHttp1() ? 1 : 0);
    JsonObject seen = new JsonObject(reply.body());
    assertThat(seen.getString("x-route")).isEqualTo("r");
    assertThat(seen.getString("x-forwarded-proto")).isEqualTo("https");
    assertThat(seen.getString("x-extra")).isEqualTo("1");
    assertThat(seen.containsKey("x-debug")).isFalse();
    assertThat(seen.containsKey("x-real-ip")).isFalse();
    assertThat(seen.getString("x-forwarded-for")).isEqualTo("127.0.0.1");
    assertThat(reply.headers().get("Server")).isNull();
    assertThat(reply.headers().get("X-Internal")).isNull();
    assertThat(reply.headers().get("Cache-Control")).isEqualTo("no-store");
    assertThat(reply.headers().get("X-Via")).isEqualTo("fairway");
    assertThat(reply.headers().get("X-Request-Id")).isEqualTo(seen.getString("x-request-id")).isNotBlank();
  }

  @Test
  void aRoutesRequestHeaderRulesApplyToWebSocketUpgradesToo() throws Exception {
    Promise<io.vertx.core.MultiMap> seen = Promise.promise();
    up.handler = req -> {
      seen.tryComplete(io.vertx.core.MultiMap.caseInsensitiveMultiMap().addAll(req.headers()));
      req.toWebSocket();
    };
    FairwayOptions parsed = new FairwayOptions(ConfigLoader.parseYaml("t", """
      routes:
        - path: /socket
          request-headers: {set: {X-Route: socket}, remove: [X-Debug]}
      """));
    fairway = Proxies.start(Proxies.options(up).setRoutes(parsed.getRoutes()));
    var ws = webSockets().connect(new io.vertx.core.http.WebSocketConnectOptions().setPort(fairway.proxyPort())
      .setHost("127.0.0.1").setURI("/socket").addHeader("X-Debug", "1")).await();
    io.vertx.core.MultiMap headers = seen.future().await(5, TimeUnit.SECONDS);
    assertThat(headers.get("X-Route")).isEqualTo("socket");
    assertThat(headers.contains("X-Debug")).isFalse();
    ws.close().await();
  }

  /** Every spelling of a path meets its route's rules; the request goes on as it was written. */
  @Test
  void routesMatchTheNormalisedPathSoNoSpellingSkipsTheirLimits() throws Exception {
    up.handler = req -> req.body().onSuccess(b -> req.response().end(req.uri()));
    FairwayOptions parsed = new FairwayOptions(ConfigLoader.parseYaml("t", """
      routes:
        - {path: /limited, max-body-size: 4}
      """));
    fairway = Proxies.start(Proxies.options(up).setRoutes(parsed.getRoutes()));
    for (String path : List.of("/limited", "/x/../limited", "//limited", "/%6Cimited", "/%2e%2e/limited", "/./limited")) {
      RawHttp.Response refused = RawHttp.exchange(fairway.proxyPort(),
        "POST " + path + " HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\n0123456789");
      assertThat(refused.status()).as(path).isEqualTo(413);
    }
    RawHttp.Response small = RawHttp.exchange(fairway.proxyPort(), "POST /x/../limited HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nok");
    assertThat(small.text()).endsWith("/x/../limited");
  }

  @Test
  void upstreamThatAnswersEarlyDuringAnUploadHasItsAnswerRelayedAndTheUploadStops() throws Exception {
    AtomicLong received = new AtomicLong();
    up.handler = req -> {
      req.handler(b -> received.addAndGet(b.length()));
      req.response().setStatusCode(413).end("too big for me"); // answers at the head, reads no further
    };
    fairway = Proxies.start(Proxies.options(up));
    try (java.net.Socket s = new java.net.Socket("127.0.0.1", fairway.proxyPort())) {
      s.setSoTimeout(5_000);
      var out = s.getOutputStream();
      out.write("POST /upload HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n".getBytes());
      byte[] chunk = ("10000\r\n" + "x".repeat(0x10000) + "\r\n").getBytes();
      out.write(chunk);
      String head = new String(s.getInputStream().readNBytes(12));
      assertThat(head).isEqualTo("HTTP/1.1 413");
      // the client goes on sending: the proxy closes the connection rather than read a 1 GiB upload to its end
      boolean cut = false;
      for (int i = 0; i < 16_384 && !cut; i++) {
        try {
          out.write(chunk);
        } catch (java.io.IOException e) {
          cut = true;
        }
      }
      assertThat(cut).isTrue();
    }
    assertThat(received.get()).isLessThan(64L * 1024 * 1024);
  }

  private int rawUpstream(String response) {
    NetServer server = vertx.createNetServer().connectHandler(socket -> socket.handler(b -> socket.write(response)));
    return server.listen(0, "127.0.0.1").await().actualPort();
  }

  @Test
  void upstreamResponseWithContentLengthAndTransferEncodingIs502AndNeverPassedThrough() {
    int port = rawUpstream("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nHTTP/1.1 200 OK\r\n\r\n");
    fairway = Proxies.start(Proxies.toUncheckedUpstream(port));
    Http.Reply reply = Http.get(client, fairway.proxyPort(), "/x").await();
    assertThat(reply.status()).isEqualTo(502);
    assertThat(reply.body()).as("Netty's decoder refuses it first; either way nothing of it passes").startsWith("upstream ");
  }

  /**
   * A 204 that announces a body of 46 bytes: they come late, while the next request is in flight on that connection,
   * and must never be read as that request's response.
   */
  @Test
  void bytesAfterABodylessResponseNeverBecomeTheNextClientsResponse() {
    AtomicInteger connections = new AtomicInteger();
    NetServer server = vertx.createNetServer().connectHandler(socket -> {
      int connection = connections.incrementAndGet();
      AtomicInteger requests = new AtomicInteger();
      socket.handler(b -> {
        if (!b.toString().contains("\r\n\r\n")) return;
        if (connection > 1) {
          socket.write("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nreal");
        } else if (requests.incrementAndGet() == 1) {
          socket.write("HTTP/1.1 204 No Content\r\nContent-Length: 46\r\n\r\n");
        } else { // the 204's late "body", which reads as a response
          socket.write("HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nforged");
        }
      });
    });
    int port = server.listen(0, "127.0.0.1").await().actualPort();
    fairway = Proxies.start(Proxies.toUncheckedUpstream(port));
    Http.Reply first = Http.get(client, fairway.proxyPort(), "/first").await();
    assertThat(first.status()).isEqualTo(204);
    assertThat(first.headers().contains("Content-Length")).as("a 204 has no length").isFalse();
    assertThat(Http.get(client, fairway.proxyPort(), "/next").await().body()).isEqualTo("real");
    assertThat(connections.get()).isEqualTo(2);
  }

  /**
   * A kept-alive connection that the upstream closes as the next request goes out (its keep-alive timeout racing the
   * request): a safe request goes again on a new connection to the same upstream; a POST is never sent twice.
   */
  @Test
  void aStaleKeptAliveConnectionIsReplacedForASafeRequestButNotForAPost() throws Exception {
    AtomicInteger connections = new AtomicInteger();
    NetServer server = vertx.createNetServer().connectHandler(socket -> {
      connections.incrementAndGet();
      AtomicInteger requests = new AtomicInteger();
      socket.handler(b -> {
        if (!b.toString().contains("\r\n\r\n")) return;
        if (requests.incrementAndGet() == 1) {
          socket.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        } else {
          socket.close(); // closed as the second request arrives: nothing of it was answered
        }
      });
    });
    int port = server.listen(0, "127.0.0.1").await().actualPort();
    fairway = Proxies.start(Proxies.toUncheckedUpstream(port));
    for (int i = 0; i < 3; i++) {
      assertThat(Http.get(client, fairway.proxyPort(), "/get").await().status()).as("GET " + i).isEqualTo(200);
    }
    Http.Reply put = Http.send(client, new RequestOptions().setMethod(HttpMethod.PUT).setHost("127.0.0.1")
      .setPort(fairway.proxyPort()).setURI("/put"), "abc").await(10, java.util.concurrent.TimeUnit.SECONDS);
    assertThat(put.status()).as("a PUT whose body is in hand goes again, body and all").isEqualTo(200);
    Http.Reply post = Http.send(client, new RequestOptions().setMethod(HttpMethod.POST).setHost("127.0.0.1")
      .setPort(fairway.proxyPort()).setURI("/post"), "x").await();
    assertThat(post.status()).as("a POST that may have been processed is not sent again").isEqualTo(502);
    // GETs on the direct HTTP/1.1 path keep upstream connections of their own: the PUT then finds none kept alive
    double staleRetries = dev.fairway.support.Proxies.directHttp1() ? 2.0 : 3.0;
    assertThat(fairway.registry().get("fairway.retries").tag("reason", "stale_connection").counter().count()).isEqualTo(staleRetries);
  }

  @Test
  void aResponseTransferEncodingOtherThanChunkedIs502() throws Exception {
    int port = rawUpstream("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nConnection: close\r\n\r\nnot really gzip");
    fairway = Proxies.start(Proxies.toUncheckedUpstream(port));
    // bounded: passed on, the close-delimited body of this never-closing upstream would never end
    Http.Reply reply = Http.get(client, fairway.proxyPort(), "/x").await(10, java.util.concurrent.TimeUnit.SECONDS);
    assertThat(reply.status()).isEqualTo(502);
    assertThat(reply.body()).isEqualTo("upstream sent an invalid response\n");
  }

  /** After a burst, idle upstream connections beyond the cap are closed within seconds, the rest after the idle timeout. */
  @Test
  void keptAliveUpstreamConnectionsAreCappedAndClosedWhenIdle() {
    AtomicInteger open = new AtomicInteger();
    int port = countingSlowUpstream(open, new AtomicInteger());
    FairwayOptions o = Proxies.toUncheckedUpstream(port);
    o.getProcess().setUpstreamMaxIdle(2).setUpstreamIdleTimeoutMillis(4_000);
    fairway = Proxies.start(o);
    concurrentGets(6);
    Http.await("idle connections capped at 2", java.time.Duration.ofSeconds(4), () -> open.get() == 2);
    Http.await("and closed after the idle timeout", java.time.Duration.ofSeconds(10), () -> open.get() == 0);
  }

  /** A load steadily above the cap reuses its connections: the surplus is closed only once it goes unused. */
  @Test
  void connectionsBeyondTheIdleCapAreReusedByTheNextRequests() {
    AtomicInteger accepted = new AtomicInteger();
    int port = countingSlowUpstream(new AtomicInteger(), accepted);
    FairwayOptions o = Proxies.toUncheckedUpstream(port);
    o.getProcess().setUpstreamMaxIdle(2);
    fairway = Proxies.start(o);
    concurrentGets(6);
    concurrentGets(6);
    assertThat(accepted.get()).as("upstream connections opened for two waves of 6").isEqualTo(6);
  }

  /** An upstream that answers after 200 ms (so concurrent requests need a connection each) and counts its connections. */
  private int countingSlowUpstream(AtomicInteger open, AtomicInteger accepted) {
    return vertx.createHttpServer()
      .connectionHandler(conn -> {
        open.incrementAndGet();
        accepted.incrementAndGet();
        conn.closeHandler(v -> open.decrementAndGet());
      })
      .requestHandler(req -> vertx.setTimer(200, id -> req.response().end("ok")))
      .listen(0, "127.0.0.1").await().actualPort();
  }

  private void concurrentGets(int n) {
    HttpClient burst = vertx.createHttpClient(new io.vertx.core.http.HttpClientOptions(), new io.vertx.core.http.PoolOptions().setHttp1MaxSize(n));
    List<io.vertx.core.Future<Http.Reply>> replies = new java.util.ArrayList<>();
    for (int i = 0; i < n; i++) replies.add(Http.get(burst, fairway.proxyPort(), "/burst"));
    io.vertx.core.Future.all(replies).await();
    assertThat(replies).allSatisfy(r -> assertThat(r.result().status()).isEqualTo(200));
    burst.close();
  }

  @Test
  void http10UpstreamThatClosesAfterEachResponseServesEveryPost() {
    // like Flask's development server: HTTP/1.0, one request per connection
    NetServer server = vertx.createNetServer().connectHandler(socket -> socket.handler(b -> {
      if (b.toString().contains("\r\n\r\n")) socket.end(Buffer.buffer("HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok"));
    }));
    int port = server.listen(0, "127.0.0.1").await().actualPort();
    fairway = Proxies.start(Proxies.toUncheckedUpstream(port));
    for (int i = 0; i < 30; i++) {
      Http.Reply reply = Http.send(client, new RequestOptions().setMethod(HttpMethod.POST).setHost("127.0.0.1")
        .setPort(fairway.proxyPort()).setURI("/job"), "x").await();
      assertThat(reply.status()).as("POST " + i).isEqualTo(200);
    }
  }

  @Test
  void headResponsesKeepTheirContentLengthWithoutABody() {
    // a HEAD answer announces a body it does not send: read as one, it would wait for bytes that never come
    int port = vertx.createHttpServer()
      .requestHandler(req -> {
        if (req.method() == HttpMethod.HEAD) req.response().putHeader("Content-Length", "1000").end();
        else req.response().end("body of " + req.path());
      })
      .listen(0, "127.0.0.1").await().actualPort();
    fairway = Proxies.start(Proxies.toUncheckedUpstream(port));
    for (int i = 0; i < 3; i++) {
      Http.Reply head = Http.send(client, new RequestOptions().setMethod(HttpMethod.HEAD).setHost("127.0.0.1")
        .setPort(fairway.proxyPort()).setURI("/h"), null).await();
      assertThat(head.status()).isEqualTo(200);
      assertThat(head.headers().get("Content-Length")).isEqualTo("1000");
      assertThat(Http.get(client, fairway.proxyPort(), "/g" + i).await().body()).isEqualTo("body of /g" + i);
    }
  }

  @Test
  void informationalResponsesFromTheUpstreamAreNotRelayedAndTheFinalOneIs() {
    int port = rawUpstream("HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n"
      + "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 4\r\n\r\ndone");
    fairway = Proxies.start(Proxies.toUncheckedUpstream(port));
    Http.Reply reply = Http.get(client, fairway.proxyPort(), "/x").await();
    assertThat(reply.status()).isEqualTo(201);
    assertThat(reply.body()).isEqualTo("done");
    assertThat(reply.headers().get("Link")).isNull();
  }

  @Test
  void theUpstreamsReasonPhraseReachesTheClient() throws Exception {
    int port = rawUpstream("HTTP/1.1 404 No Such Report\r\nContent-Length: 0\r\n\r\n");
    fairway = Proxies.start(Proxies.toUncheckedUpstream(port));
    RawHttp.Response custom = RawHttp.exchange(fairway.proxyPort(), "GET /r HTTP/1.1\r\nHost: a\r\n\r\n");
    assertThat(custom.text()).startsWith("HTTP/1.1 404 No Such Report\r\n");
  }

  @Test
  void bytesFromAnIdleUpstreamConnectionCloseItInsteadOfAnsweringTheNextRequest() throws Exception {
    // answers a request, then sends a second, unasked response on the idle connection
    Promise<Void> firstClosed = Promise.promise();
    AtomicInteger connections = new AtomicInteger();
    NetServer server = vertx.createNetServer().connectHandler(socket -> {
      boolean first = connections.incrementAndGet() == 1;
      if (first) socket.closeHandler(v -> firstClosed.tryComplete());
      socket.handler(b -> {
        socket.write("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfresh");
        if (first) socket.write("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nstale");
      });
    });
    int port = server.listen(0, "127.0.0.1").await().actualPort();
    fairway = Proxies.start(Proxies.toUncheckedUpstream(port));
    assertThat(Http.get(client, fairway.proxyPort(), "/1").await().body()).isEqualTo("fresh");
    firstClosed.future().await(5, TimeUnit.SECONDS);
    assertThat(Http.get(client, fairway.proxyPort(), "/2").await().body()).isEqualTo("fresh");
    assertThat(connections.get()).isEqualTo(2);
  }

  @Test
  void garbageStatusLineFromTheUpstreamIs502() {
    int port = rawUpstream("HTTP/1.1 twohundred OK\r\n\r\n");
    fairway = Proxies.start(Proxies.toUncheckedUpstream(port));
    assertThat(Http.get(client, fairway.proxyPort(), "/x").await().status()).isEqualTo(502);
  }

  @Test
  void anUpstreamCertificateThatDoesNotNameTheUpstreamIsRefused() {
    assertThat(throughTlsUpstreamReachedByAddress(true).status()).isEqualTo(502);
  }

  @Test
  void verifyHostOffAcceptsATrustedCertificateForAnotherName() {
    Http.Reply reply = throughTlsUpstreamReachedByAddress(false);
    assertThat(reply.status()).isEqualTo(200);
    assertThat(reply.body()).isEqualTo("over tls");
  }

  /** An upstream with a trusted certificate for "localhost", configured as 127.0.0.1. */
  private Http.Reply throughTlsUpstreamReachedByAddress(boolean verifyHost) {
    SelfSignedCertificate cert = SelfSignedCertificate.create("localhost");
    var server = vertx.createHttpServer(new HttpServerOptions().setSsl(true)
        .setKeyCertOptions(new PemKeyCertOptions().setCertPath(cert.certificatePath()).setKeyPath(cert.privateKeyPath())))
      .requestHandler(req -> req.response().end("over tls"))
      .listen(0, "127.0.0.1").await();
    FairwayOptions o = Proxies.options().setUpstreams(List.of(new UpstreamOptions("127.0.0.1", server.actualPort())))
      .setUpstreamTls(new UpstreamTlsOptions().setEnabled(true).setCa(cert.certificatePath()).setVerifyHost(verifyHost));
    o.getHealth().setEnabled(false);
    fairway = Proxies.start(o);
    return Http.get(client, fairway.proxyPort(), "/x").await();
  }

  @Test
  void tlsToTheUpstreamWithItsOwnTrust() {
    SelfSignedCertificate cert = SelfSignedCertificate.create("localhost");
    var server = vertx.createHttpServer(new HttpServerOptions().setSsl(true)
        .setKeyCertOptions(new PemKeyCertOptions().setCertPath(cert.certificatePath()).setKeyPath(cert.privateKeyPath())))
      .requestHandler(req -> req.response().end(req.path().equals("/health") ? "" : "over tls"))
      .listen(0, "localhost").await(); // the certificate's name, resolved the way Fairway will resolve it
    FairwayOptions o = Proxies.options().setUpstreams(List.of(new UpstreamOptions("localhost", server.actualPort())))
      .setUpstreamTls(new UpstreamTlsOptions().setEnabled(true).setCa(cert.certificatePath()));
    o.getHealth().setTimeoutMillis(5_000); // the JVM's first TLS handshake can take longer than the tests' 500 ms
    fairway = Proxies.start(o);
    assertThat(Http.get(client, fairway.proxyPort(), "/x").await().body()).isEqualTo("over tls");
  }
}
