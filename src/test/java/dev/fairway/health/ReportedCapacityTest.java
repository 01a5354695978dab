package dev.fairway.health;

import dev.fairway.config.FairwayOptions;
import dev.fairway.support.FairwayTest;
import dev.fairway.support.Http;
import dev.fairway.support.Proxies;
import dev.fairway.support.TestUpstream;
import dev.fairway.upstream.Capacities;
import dev.fairway.upstream.InFlightCounters;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntFunction;

import static org.assertj.core.api.Assertions.assertThat;

/** Capacity that backends report (health JSON or a header) limits what Fairway sends them, with max-conns. */
class ReportedCapacityTest extends FairwayTest {

  /** A backend that holds its requests, counts how many it has at once, and reports capacity as told. */
  private static final class Backend {
    final ConcurrentLinkedQueue<HttpServerRequest> held = new ConcurrentLinkedQueue<>();
    final AtomicInteger most = new AtomicInteger();
    volatile IntFunction<Object> capacity;
    HttpServer server;

    String id() {
      return "127.0.0.1:" + server.actualPort();
    }

    void answerOne() {
      HttpServerRequest req = held.poll();
      assertThat(req).isNotNull();
      req.response().end("done");
    }
  }

  private Backend backend;

  @BeforeEach
  void setUp(Vertx vertx) {
    client = vertx.createHttpClient(new HttpClientOptions(), new PoolOptions().setHttp1MaxSize(20));
    backend = new Backend();
    backend.server = vertx.createHttpServer().requestHandler(req -> {
      if (req.path().equals("/health")) {
        req.response().putHeader("Content-Type", "application/json")
          .end(new JsonObject().put("status", "ok").put("capacity", backend.capacity.apply(backend.held.size())).encode());
        return;
      }
      backend.held.add(req);
      backend.most.accumulateAndGet(backend.held.size(), Math::max);
    }).listen(0, "127.0.0.1").await();
  }

  private void start(int maxConns) {
    FairwayOptions o = new FairwayOptions().setUpstreams(List.of(new dev.fairway.config.UpstreamOptions("127.0.0.1", backend.server.actualPort())));
    o.getUpstreams().get(0).setMaxConns(maxConns);
    o.setHealth(new dev.fairway.config.HealthCheckOptions().setPath("/", "/health").setIntervalMillis(100).setTimeoutMillis(500)
      .setRise(1).setFall(1).setCapacityField("health.capacity-field", "/capacity"));
    o.getListen().setHost("127.0.0.1").setPort(0);
    o.getAdmin().setPort(0);
    o.getProcess().setInstances(2);
    o.getAccessLog().setDestination("off");
    fairway = Proxies.start(o);
  }

  private List<Future<Http.Reply>> send(int n) {
    List<Future<Http.Reply>> replies = new ArrayList<>();
    for (int i = 0; i < n; i++) replies.add(Http.get(client, fairway.proxyPort(), "/job"));
    return replies;
  }

  /** Answers the held requests one at a time until all {@code n} were served; every one must succeed. */
  private void serveAll(List<Future<Http.Reply>> replies, int n) throws Exception {
    for (int served = 0; served < n; served++) {
      Http.await("a request at the backend", Duration.ofSeconds(10), () -> !backend.held.isEmpty());
      backend.answerOne();
    }
    for (Future<Http.Reply> r : replies) assertThat(r.await(10, TimeUnit.SECONDS).status()).isEqualTo(200);
  }

  @Test
  void aBackendThatReportsOneSlotNeverHasTwoRequestsAtOnce() throws Exception {
    backend.capacity = busy -> new JsonObject().put("slots", 1).put("busy", busy); // exact, as often as it is asked
    start(0);
    List<Future<Http.Reply>> replies = send(5);
    Http.await("one at the backend, four waiting", Duration.ofSeconds(5),
      () -> backend.held.size() == 1 && fairway.registry().get("fairway.queue.length").gauge().value() == 4);
    serveAll(replies, 5);
    assertThat(backend.most.get()).isEqualTo(1);
    JsonObject health = new JsonObject(Http.get(client, fairway.adminPort(), "/health").await().body());
    JsonObject capacity = health.getJsonArray("checks").getJsonObject(0).getJsonObject("data").getJsonArray("upstreams")
      .getJsonObject(0).getJsonObject("capacity");
    assertThat(capacity.getInteger("slots")).isEqualTo(1);
  }

  @Test
  void aLaggingReportOfFreeSlotsDoesNotOverDispatch() throws Exception {
    backend.capacity = busy -> new JsonObject().put("slots", 2).put("busy", 0); // never counts what it is doing
    start(0);
    List<Future<Http.Reply>> replies = send(6);
    Http.await("two at the backend", Duration.ofSeconds(5), () -> backend.held.size() == 2);
    serveAll(replies, 6);
    assertThat(backend.most.get()).isEqualTo(2);
  }

  @Test
  void aReportThatCannotBeReadIsIgnoredAndMaxConnsApplies() throws Exception {
    backend.capacity = busy -> "plenty";
    start(3);
    List<Future<Http.Reply>> replies = send(5);
    Http.await("three at the backend", Duration.ofSeconds(5), () -> backend.held.size() == 3);
    serveAll(replies, 5);
    assertThat(backend.most.get()).isEqualTo(3);
  }

  @Test
  void aResponseHeaderNamedInAnyCaseReportsCapacity(Vertx vertx) {
    HttpServer answering = vertx.createHttpServer()
      .requestHandler(req -> req.response().putHeader("x-capacity", "2/5").end("done")).listen(0, "127.0.0.1").await();
    FairwayOptions o = new FairwayOptions().setUpstreams(List.of(new dev.fairway.config.UpstreamOptions("127.0.0.1", answering.actualPort())));
    o.setHealth(new dev.fairway.config.HealthCheckOptions().setEnabled(false).setCapacityHeader("health.capacity-header", "X-Capacity"));
    o.getListen().setHost("127.0.0.1").setPort(0);
    o.getAdmin().setPort(0);
    o.getAccessLog().setDestination("off");
    fairway = Proxies.start(o);
    assertThat(Http.get(client, fairway.proxyPort(), "/job").await().status()).isEqualTo(200);
    JsonObject health = new JsonObject(Http.get(client, fairway.adminPort(), "/health").await().body());
    JsonObject capacity = health.getJsonArray("checks").getJsonObject(0).getJsonObject("data").getJsonArray("upstreams")
      .getJsonObject(0).getJsonObject("capacity");
    assertThat(capacity.getInteger("free")).isEqualTo(2);
    assertThat(capacity.getInteger("slots")).isEqualTo(5);
  }

  @Test
  void reportsReadAsLimitsOnFairwaysOwnRequests() {
    InFlightCounters counters = new InFlightCounters();
    Capacities capacities = new Capacities(counters);
    counters.of("u").set(2);
    capacities.reportHeader("u", "1/4");
    assertThat(capacities.of("u").limit()).as("its 2 and 1 more, within 4").isEqualTo(3);
    capacities.reportHeader("u", "3");
    assertThat(capacities.of("u").limit()).as("free only: as if none of its own were counted").isEqualTo(3);
    capacities.reportJson("u", new JsonObject().put("slots", 2).put("busy", 0));
    assertThat(capacities.of("u").limit()).as("never past the slots").isEqualTo(2);
    capacities.reportHeader("u", "-1/4");
    assertThat(capacities.of("u").limit()).as("unreadable: no limit of its own").isEqualTo(-1);
    capacities.reportJson("u", 99_999_999);
    assertThat(capacities.of("u").limit()).isEqualTo(-1);
  }
}
