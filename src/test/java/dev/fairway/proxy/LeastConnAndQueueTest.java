package dev.fairway.proxy;

import dev.fairway.support.FairwayTest;
import dev.fairway.config.FairwayOptions;
import dev.fairway.config.StrategyName;
import dev.fairway.support.Http;
import dev.fairway.support.Proxies;
import dev.fairway.support.TestUpstream;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;

/** Long requests, least-conn across proxy instances, max-conns and the fair queue. */
class LeastConnAndQueueTest extends FairwayTest {

  private final List<TestUpstream> ups = new ArrayList<>();
  /** Requests being held by the upstreams, in arrival order; answered by {@link #finishOne}. */
  private final ConcurrentLinkedQueue<HttpServerRequest> held = new ConcurrentLinkedQueue<>();
  private final List<String> arrivals = new CopyOnWriteArrayList<>();

  @BeforeEach
  void setUp(Vertx vertx) {
    client = vertx.createHttpClient(new HttpClientOptions(), new PoolOptions().setHttp1MaxSize(50));
    for (String name : List.of("a", "b", "c")) {
      TestUpstream u = TestUpstream.start(vertx, name);
      u.handler = req -> {
        arrivals.add(name + " " + req.path());
        held.add(req); // a long job: answered only when the test says so
      };
      ups.add(u);
    }
  }


  private FairwayOptions options(StrategyName strategy, int instances, int maxConns) {
    FairwayOptions o = Proxies.options(ups.toArray(TestUpstream[]::new)).setStrategy(strategy).with(x -> x.getProcess().setInstances(instances));
    if (instances > 1) o.getListen().setPort(Proxies.freePort());
    o.getHealth().setEnabled(false);
    o.getUpstreams().forEach(u -> u.setMaxConns(maxConns));
    return o;
  }

  private Future<Http.Reply> longRequest(String path) {
    return Http.get(client, fairway.proxyPort(), path);
  }

  private void finishOne() {
    HttpServerRequest req = held.poll();
    assertThat(req).isNotNull();
    req.response().end("done " + req.path());
  }

  private void finishAll() {
    while (!held.isEmpty()) finishOne();
  }

  private List<Integer> inFlightPerUpstream() {
    return ups.stream().map(u -> (int) fairway.registry().get("fairway.upstream.in.flight").tag("upstream", u.id()).gauge().value()).toList();
  }

  /** Retries by reason: a retry moves a request to another upstream, so a failed assertion says whether one happened. */
  private String retried() {
    return fairway.registry().find("fairway.retries").counters().stream()
      .map(c -> c.getId().getTag("reason") + "=" + c.count()).toList().toString();
  }

  @Test
  void leastConnSpreadsConcurrentLongRequestsAcrossUpstreamsWithFourProxyInstances() {
    fairway = Proxies.start(options(StrategyName.LEAST_CONN, 4, 0));
    Http.await("admin gauges", Duration.ofSeconds(5), () -> fairway.registry().find("fairway.upstream.in.flight").gauges().size() == 3);
    for (int round = 0; round < 10; round++) {
      List<Future<Http.Reply>> replies = new ArrayList<>();
      for (int i = 0; i < 3; i++) replies.add(longRequest("/job"));
      Http.await("three jobs held", Duration.ofSeconds(5), () -> held.size() == 3);
      assertThat(inFlightPerUpstream()).as("round %d (requests retried so far: %s)", round, retried()).containsExactly(1, 1, 1);
      for (int i = 0; i < 3; i++) replies.add(longRequest("/job"));
      Http.await("six jobs held", Duration.ofSeconds(5), () -> held.size() == 6);
      assertThat(inFlightPerUpstream()).as("round %d (requests retried so far: %s)", round, retried()).containsExactly(2, 2, 2);
      finishAll();
      Future.all(replies).await();
      // a slot is given back once the response is written on, which can be a moment after the client has read it
      Http.await("all slots back", Duration.ofSeconds(5), () -> inFlightPerUpstream().equals(List.of(0, 0, 0)));
    }
  }

  @Test
  void maxConnsQueuesTheRestAndDispatchesInOrderAsSlotsFree() {
    fairway = Proxies.start(options(StrategyName.ROUND_ROBIN, 1, 1));
    List<Future<Http.Reply>> replies = new ArrayList<>();
    for (int i = 1; i <= 5; i++) {
      replies.add(longRequest("/job" + i));
      int sent = i;
      // send one at a time so that the queue order is the sending order
      Http.await("request " + i + " taken", Duration.ofSeconds(5),
        () -> held.size() + fairway.registry().get("fairway.queue.length").gauge().value() == sent);
    }
    assertThat(held).hasSize(3);
    assertThat(fairway.registry().get("fairway.queue.length").gauge().value()).isEqualTo(2.0);
    assertThat(inFlightPerUpstream()).containsExactly(1, 1, 1);

    finishOne();
    Http.await("job4 dispatched", Duration.ofSeconds(5), () -> arrivals.size() == 4);
    assertThat(arrivals.get(3)).endsWith("/job4");
    finishOne();
    Http.await("job5 dispatched", Duration.ofSeconds(5), () -> arrivals.size() == 5);
    assertThat(arrivals.get(4)).endsWith("/job5");
    assertThat(inFlightPerUpstream()).allMatch(n -> n <= 1);
    finishAll();
    assertThat(Future.all(replies).await().list()).allMatch(r -> ((Http.Reply) r).status() == 200);
    assertThat(fairway.registry().get("fairway.queue.left").tag("outcome", "dispatched").counter().count()).isEqualTo(2.0);
  }

  @Test
  void fullQueueAnswers503WithRetryAfter() {
    fairway = Proxies.start(options(StrategyName.ROUND_ROBIN, 1, 1).with(o -> o.getQueue().setSize(1)));
    for (int i = 0; i < 4; i++) longRequest("/job");
    Http.await("3 held, 1 queued", Duration.ofSeconds(5),
      () -> held.size() == 3 && fairway.registry().get("fairway.queue.length").gauge().value() == 1);
    Http.Reply reply = longRequest("/one-too-many").await();
    assertThat(reply.status()).isEqualTo(503);
    assertThat(reply.headers().get("Retry-After")).isEqualTo("5");
    assertThat(reply.body()).isEqualTo("all upstreams are busy and the queue is full\n");
    finishAll();
  }

  @Test
  void queueTimeoutAnswers503WithRetryAfterAndNothingReachesAnUpstream() {
    fairway = Proxies.start(options(StrategyName.LEAST_CONN, 1, 1).with(o -> o.getQueue().setTimeoutMillis(300)));
    for (int i = 0; i < 3; i++) longRequest("/job");
    Http.await("3 held", Duration.ofSeconds(5), () -> held.size() == 3);
    long start = System.nanoTime();
    Http.Reply reply = longRequest("/waits").await();
    assertThat(reply.status()).isEqualTo(503);
    assertThat(reply.headers().get("Retry-After")).isEqualTo("5");
    assertThat((System.nanoTime() - start) / 1_000_000).isBetween(250L, 5_000L);
    assertThat(arrivals).hasSize(3);
    finishAll();
  }

  @Test
  void queuedClientThatDisconnectsLeavesTheQueueAndIsNeverSentUpstream() {
    fairway = Proxies.start(options(StrategyName.ROUND_ROBIN, 1, 1));
    for (int i = 0; i < 3; i++) longRequest("/job");
    Http.await("3 held", Duration.ofSeconds(5), () -> held.size() == 3);
    HttpClient leaving = vertx.createHttpClient();
    // a POST with a body: while queued its body must not be read
    HttpClientRequest req = leaving.request(new RequestOptions().setMethod(HttpMethod.POST).setHost("127.0.0.1")
      .setPort(fairway.proxyPort()).setURI("/leaving")).await();
    req.setChunked(true).write("part of a document");
    Http.await("queued", Duration.ofSeconds(5), () -> fairway.registry().get("fairway.queue.length").gauge().value() == 1);
    leaving.close().await();
    Http.await("left the queue", Duration.ofSeconds(5), () -> fairway.registry().get("fairway.queue.length").gauge().value() == 0);
    finishAll();
    // the freed slots must not go to the departed client
    Future<Http.Reply> later = longRequest("/later");
    Http.await("later dispatched", Duration.ofSeconds(5), () -> arrivals.size() == 4);
    assertThat(arrivals).noneMatch(a -> a.endsWith("/leaving"));
    finishAll();
    assertThat(later.await().status()).isEqualTo(200);
  }

  @Test
  void backupUpstreamTakesTrafficOnlyWhenNoPrimaryIsUp() {
    FairwayOptions o = options(StrategyName.ROUND_ROBIN, 1, 0);
    o.getUpstreams().get(2).setBackup(true);
    o.getHealth().setEnabled(true);
    ups.forEach(u -> u.handler = req -> req.response().end(u.name));
    fairway = Proxies.start(o);
    for (int i = 0; i < 10; i++) {
      assertThat(Http.get(client, fairway.proxyPort(), "/x").await().body()).isIn("a", "b");
    }
    ups.get(0).healthy = false;
    ups.get(1).healthy = false;
    Http.await("backup in use", Duration.ofSeconds(5), () -> Http.get(client, fairway.proxyPort(), "/x").await().body().equals("c"));
    ups.get(0).healthy = true;
    Http.await("primary back", Duration.ofSeconds(5), () -> Http.get(client, fairway.proxyPort(), "/x").await().body().equals("a"));
  }

  @Test
  void administrativelyDownUpstreamGetsNothing() {
    FairwayOptions o = options(StrategyName.ROUND_ROBIN, 1, 0);
    o.getUpstreams().get(1).setDown(true);
    ups.forEach(u -> u.handler = req -> req.response().end(u.name));
    fairway = Proxies.start(o);
    for (int i = 0; i < 20; i++) {
      assertThat(Http.get(client, fairway.proxyPort(), "/x").await().body()).isIn("a", "c");
    }
  }
}
