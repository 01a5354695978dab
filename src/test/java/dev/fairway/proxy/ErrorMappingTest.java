package dev.fairway.proxy;

import dev.fairway.support.FairwayTest;
import dev.fairway.config.FairwayOptions;
import dev.fairway.config.RouteOptions;
import dev.fairway.config.TimeoutOptions;
import dev.fairway.support.Http;
import dev.fairway.support.Proxies;
import dev.fairway.support.TestUpstream;
import io.vertx.core.Future;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.concurrent.TimeUnit;
import dev.fairway.config.UpstreamOptions;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class ErrorMappingTest extends FairwayTest {


  private FairwayOptions withoutHealthChecks(TestUpstream... ups) {
    FairwayOptions o = Proxies.options(ups);
    o.getHealth().setEnabled(false);
    return o;
  }

  private TestUpstream deadUpstream(String name) {
    TestUpstream dead = TestUpstream.start(vertx, name);
    dead.close().await();
    return dead;
  }

  @Test
  void refusedConnectGives502WithAShortBody() {
    fairway = Proxies.start(withoutHealthChecks(deadUpstream("dead")));
    Http.Reply reply = Http.get(client, fairway.proxyPort(), "/x").await();
    assertThat(reply.status()).isEqualTo(502);
    assertThat(reply.body()).isEqualTo("upstream unreachable\n");
    assertThat(reply.headers().get("content-type")).startsWith("text/plain");
  }

  @Test
  void refusedConnectIsRetriedOnAnotherUpstreamSoClientsSeeNoError() {
    TestUpstream live1 = TestUpstream.start(vertx, "live1");
    TestUpstream live2 = TestUpstream.start(vertx, "live2");
    fairway = Proxies.start(withoutHealthChecks(deadUpstream("dead"), live1, live2));
    for (int i = 0; i < 30; i++) {
      assertThat(Http.get(client, fairway.proxyPort(), "/x").await().status()).isEqualTo(200);
    }
    assertThat(live1.hits.get() + live2.hits.get()).isEqualTo(30);
  }

  /** A listener whose backlog is full drops SYNs: without its own deadline a connect would wait a minute or more. */
  @Test
  void connectTimeoutBoundsAConnectThatNeverCompletes() throws Exception {
    try (ServerSocket full = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      List<Socket> queued = new ArrayList<>();
      for (int i = 0; i < 8; i++) { // never accepted: once the queue is full, further connects hang
        Socket s = new Socket();
        try {
          s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), full.getLocalPort()), 200);
        } catch (IOException hung) {
          // the backlog is full
        }
        queued.add(s);
      }
      FairwayOptions o = Proxies.options().setUpstreams(List.of(new UpstreamOptions("127.0.0.1", full.getLocalPort())));
      o.getHealth().setEnabled(false);
      o.getTimeouts().setConnectMillis(500);
      fairway = Proxies.start(o);
      long start = System.nanoTime();
      Http.Reply reply = Http.get(client, fairway.proxyPort(), "/x").await(20, TimeUnit.SECONDS);
      assertThat(reply.status()).isEqualTo(504);
      assertThat(reply.body()).isEqualTo("upstream connect timed out\n");
      assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
      for (Socket s : queued) s.close();
    }
  }

  @Test
  void upstreamThatNeverAnswersGives504AfterTheReadTimeout() {
    TestUpstream silent = TestUpstream.start(vertx, "silent");
    silent.handler = req -> { };
    FairwayOptions o = withoutHealthChecks(silent);
    o.getTimeouts().setReadMillis(300);
    fairway = Proxies.start(o);
    long start = System.nanoTime();
    Http.Reply reply = Http.get(client, fairway.proxyPort(), "/x").await();
    assertThat(reply.status()).isEqualTo(504);
    assertThat(reply.body()).startsWith("upstream timed out");
    assertThat((System.nanoTime() - start) / 1_000_000).isBetween(250L, 5_000L);
  }

  /** nginx's proxy_read_timeout: it starts once the request is sent, so an upload longer than it is not cut. */
  @Test
  void anUploadLongerThanTheReadTimeoutIsNotCut() {
    TestUpstream reader = TestUpstream.start(vertx, "reader");
    reader.handler = req -> req.body().onSuccess(b -> req.response().end("got " + b.length()));
    FairwayOptions o = withoutHealthChecks(reader);
    o.getTimeouts().setReadMillis(300);
    fairway = Proxies.start(o);
    HttpClientRequest upload = client.request(new RequestOptions().setMethod(HttpMethod.POST).setHost("127.0.0.1")
      .setPort(fairway.proxyPort()).setURI("/upload")).await();
    upload.setChunked(true);
    Future<Http.Reply> reply = upload.response().compose(r -> r.body().map(b -> new Http.Reply(r.statusCode(), r.headers(), b.toString())));
    for (int i = 0; i < 6; i++) {
      upload.write("x");
      vertx.timer(150).await(); // a slow, steady client: 900 ms in all, three read timeouts
    }
    upload.end();
    assertThat(reply.await().status()).isEqualTo(200);
    assertThat(reply.await().body()).isEqualTo("got 6");
  }

  @Test
  void upstreamThatFallsSilentMidResponseIsCutAfterTheReadTimeout() {
    TestUpstream stalls = TestUpstream.start(vertx, "stalls");
    stalls.handler = req -> req.response().setChunked(true).write("first part, then silence");
    FairwayOptions o = withoutHealthChecks(stalls);
    o.getTimeouts().setReadMillis(300);
    fairway = Proxies.start(o);
    long start = System.nanoTime();
    Throwable failure = Http.get(client, fairway.proxyPort(), "/x").transform(ar -> io.vertx.core.Future.succeededFuture(ar.cause())).await();
    assertThat(failure).as("the response had started, so the connection is cut").isNotNull();
    assertThat((System.nanoTime() - start) / 1_000_000).isBetween(250L, 5_000L);
  }

  @Test
  void routeTimeoutAppliesOnlyUnderItsPrefix() {
    TestUpstream slow = TestUpstream.start(vertx, "slow");
    slow.handler = req -> vertx.setTimer(600, id -> req.response().end("late"));
    FairwayOptions o = withoutHealthChecks(slow);
    o.setRoutes(List.of(new RouteOptions("/api/system/health", new TimeoutOptions().setReadMillis(200).setTotalMillis(300))));
    fairway = Proxies.start(o);
    assertThat(Http.get(client, fairway.proxyPort(), "/api/system/health").await().status()).isEqualTo(504);
    assertThat(Http.get(client, fairway.proxyPort(), "/api/documents").await().body()).isEqualTo("late");
  }

  @Test
  void clientThatStallsMidBodyGets408AndTheUpstreamRequestIsAborted() throws Exception {
    TestUpstream patient = TestUpstream.start(vertx, "patient");
    Promise<Void> aborted = Promise.promise();
    patient.handler = req -> {
      req.exceptionHandler(err -> aborted.tryComplete());
      req.connection().closeHandler(v -> aborted.tryComplete());
      req.body().onSuccess(b -> req.response().end("got it all"));
    };
    FairwayOptions o = withoutHealthChecks(patient);
    o.getTimeouts().setSendMillis(300);
    fairway = Proxies.start(o);
    try (java.net.Socket s = new java.net.Socket("127.0.0.1", fairway.proxyPort())) {
      s.setSoTimeout(5_000);
      s.getOutputStream().write("POST /upload HTTP/1.1\r\nHost: h\r\nContent-Length: 100\r\n\r\nfirst twenty bytes..".getBytes());
      String head = new String(s.getInputStream().readNBytes(12)); // and the client sends nothing more
      assertThat(head).isEqualTo("HTTP/1.1 408");
    }
    aborted.future().timeout(5, java.util.concurrent.TimeUnit.SECONDS).await();
  }

  @Test
  void totalTimeoutBoundsTheWholeRequest() {
    TestUpstream trickle = TestUpstream.start(vertx, "trickle");
    // sends a byte every 100 ms forever: the read timeout never fires, the total one must
    trickle.handler = req -> {
      req.response().setChunked(true);
      long id = vertx.setPeriodic(100, t -> req.response().write("."));
      req.response().closeHandler(v -> vertx.cancelTimer(id));
    };
    FairwayOptions o = withoutHealthChecks(trickle);
    o.setRoutes(List.of(new RouteOptions("/", new TimeoutOptions().setReadMillis(1_000).setTotalMillis(400))));
    fairway = Proxies.start(o);
    long start = System.nanoTime();
    Throwable failure = Http.get(client, fairway.proxyPort(), "/x").transform(ar -> io.vertx.core.Future.succeededFuture(ar.cause())).await();
    assertThat(failure).as("the response had started, so the connection is cut").isNotNull();
    assertThat((System.nanoTime() - start) / 1_000_000).isBetween(350L, 5_000L);
  }
}
