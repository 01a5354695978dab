package dev.fairway.health;

import dev.fairway.config.FairwayOptions;
import dev.fairway.support.Http;
import dev.fairway.support.Proxies;
import dev.fairway.support.SteadyLoad;
import dev.fairway.support.TestUpstream;
import dev.fairway.support.ThreeUpstreams;
import io.vertx.core.Future;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/** A backend that dies, hangs or misbehaves must cost users nothing they can notice, and nothing twice. */
class FailureHandlingTest extends ThreeUpstreams {


  @BeforeEach
  void setUp() {
    client = client(8);
  }

  private JsonObject upstreamHealth(TestUpstream u) {
    JsonObject health = new JsonObject(Http.get(client, fairway.adminPort(), "/health").await().body());
    return health.getJsonArray("checks").getJsonObject(0).getJsonObject("data").getJsonArray("upstreams").stream()
      .map(JsonObject.class::cast).filter(j -> j.getString("id").equals(u.id())).findFirst().orElseThrow();
  }

  /** {@code total} requests from {@code loops} concurrent loops; runs {@code midway} once half are issued. */
  private List<Integer> steadyLoad(int loops, int total, Runnable midway, java.util.function.IntFunction<Future<Http.Reply>> send) {
    return SteadyLoad.start(vertx, loops, total, n -> {
      if (n == total / 2) midway.run();
      return send.apply(n);
    }).statuses();
  }

  @Test
  void killingAnUpstreamDuringSteadyGetsCostsClientsNothing() {
    fairway = Proxies.start(Proxies.options(a, b, c));
    List<Integer> statuses = steadyLoad(6, 900, () -> b.close(), n -> Http.get(client, fairway.proxyPort(), "/work/" + n));
    assertThat(statuses).hasSize(900).allMatch(s -> s == 200);
    assertThat(b.hits.get()).isGreaterThan(0);
  }

  @Test
  void killingAnUpstreamDuringStreamedPostsNeverSendsOneTwice() {
    Map<String, Integer> seen = new ConcurrentHashMap<>();
    for (TestUpstream u : List.of(a, b, c)) {
      u.handler = req -> {
        seen.merge(req.getHeader("X-Job"), 1, Integer::sum);
        req.body().onSuccess(body -> req.response().end("ok"));
      };
    }
    fairway = Proxies.start(Proxies.options(a, b, c));
    List<Integer> statuses = steadyLoad(6, 600, () -> b.close(), n ->
      client.request(new RequestOptions().setMethod(HttpMethod.POST).setHost("127.0.0.1").setPort(fairway.proxyPort())
          .setURI("/jobs").putHeader("X-Job", "job-" + n))
        .compose(req -> {
          req.setChunked(true);
          req.write("document part 1; ");
          return req.end("part 2").compose(v -> req.response()).compose(resp -> resp.body().map(x -> new Http.Reply(resp.statusCode(), resp.headers(), x.toString())));
        }));
    assertThat(seen.values()).as("no POST reaches upstreams twice").allMatch(count -> count == 1);
    // POSTs refused at connect were retried; only those cut mid-flight may fail, and they say so
    assertThat(statuses).allMatch(s -> s == 200 || s == 502 || s == -1);
    assertThat(statuses.stream().filter(s -> s == 200).count()).isGreaterThan(590);
  }

  @Test
  void smallIdempotentRequestIsResentWhenTheUpstreamDropsItButAPostIsNot() {
    AtomicInteger dropped = new AtomicInteger();
    TestUpstream dropper = a;
    // the first upstream takes the whole request, then drops the connection without answering
    dropper.handler = req -> req.body().onSuccess(x -> {
      dropped.incrementAndGet();
      req.connection().close();
    });
    b.handler = req -> req.body().onSuccess(body -> req.response().end("b got " + body));
    FairwayOptions o = Proxies.options(dropper, b);
    o.getHealth().setMaxFails(0); // keep the dropper in rotation for this test
    fairway = Proxies.start(o);

    Http.Reply put = Http.send(client, new RequestOptions().setMethod(HttpMethod.PUT).setHost("127.0.0.1")
      .setPort(fairway.proxyPort()).setURI("/doc"), "small body").await();
    assertThat(put.status()).isEqualTo(200);
    assertThat(put.body()).isEqualTo("b got small body");
    assertThat(dropped.get()).isEqualTo(1);
    assertThat(fairway.registry().get("fairway.retries").tag("reason", "upstream_closed").counter().count()).isEqualTo(1.0);

    // round-robin now points at the dropper again: a POST that reached it is not resent
    Http.Reply post = Http.send(client, new RequestOptions().setMethod(HttpMethod.POST).setHost("127.0.0.1")
      .setPort(fairway.proxyPort()).setURI("/doc"), "small body").await();
    assertThat(post.status()).isEqualTo(502);
    assertThat(dropped.get()).isEqualTo(2);
    assertThat(b.hits.get()).isEqualTo(1);
  }

  @Test
  void upstreamThatAcceptsButNeverAnswersGives504AndGoesDown() {
    FairwayOptions o = Proxies.options(a);
    o.getTimeouts().setReadMillis(300);
    o.getHealth().setTimeoutMillis(200).setFall(2);
    fairway = Proxies.start(o);
    a.hang = true;
    Http.Reply reply = Http.get(client, fairway.proxyPort(), "/x").await();
    assertThat(reply.status()).isEqualTo(504);
    Http.await("a DOWN", Duration.ofSeconds(5), () -> upstreamHealth(a).getString("status").equals("DOWN"));
    assertThat(upstreamHealth(a).getString("last_check")).isEqualTo("timeout");
  }

  @Test
  void slowHealthEndpointBeyondTheProbeTimeoutIsDown() {
    FairwayOptions o = Proxies.options(a, b);
    o.getHealth().setTimeoutMillis(1_000).setIntervalMillis(500);
    a.healthDelayMillis = 3_000;
    fairway = Proxies.start(o);
    assertThat(upstreamHealth(a).getString("status")).isEqualTo("DOWN");
    assertThat(upstreamHealth(a).getString("reason")).isEqualTo("timeout");
    assertThat(upstreamHealth(b).getString("status")).isEqualTo("UP");
  }

  @Test
  void upstreamComesBackOnlyAfterRiseGoodChecks() {
    FairwayOptions o = Proxies.options(a, b);
    o.getHealth().setRise(3).setFall(1);
    fairway = Proxies.start(o);
    a.healthy = false;
    Http.await("a DOWN", Duration.ofSeconds(5), () -> upstreamHealth(a).getString("status").equals("DOWN"));
    int hitsWhenHealed = a.healthHits.get();
    a.healthy = true;
    Http.await("a UP", Duration.ofSeconds(5), () -> upstreamHealth(a).getString("status").equals("UP"));
    assertThat(a.healthHits.get() - hitsWhenHealed).isGreaterThanOrEqualTo(3);
  }

  @Test
  void passiveFailuresEjectAnUpstreamForLongerEachTime() {
    b.handler = req -> req.response().setStatusCode(503).end("overloaded");
    FairwayOptions o = Proxies.options(a, b);
    o.getHealth().setIntervalMillis(60_000).setFailTimeoutMillis(1_000).setFailOnStatus(Set.of(503));
    fairway = Proxies.start(o);

    Http.await("b ejected once", Duration.ofSeconds(5), () -> {
      Http.get(client, fairway.proxyPort(), "/x").await();
      return upstreamHealth(b).getInteger("ejections") == 1;
    });
    Http.await("the ejection in the snapshot", Duration.ofSeconds(5),
      () -> upstreamHealth(b).getString("reason").equals("ejected for 1000ms after status 503"));
    // while ejected it gets nothing
    int hits = b.hits.get();
    for (int i = 0; i < 10; i++) assertThat(Http.get(client, fairway.proxyPort(), "/x").await().body()).isEqualTo("a");
    assertThat(b.hits.get()).isEqualTo(hits);

    // it is probed back in after a second, fails again at once, and is out for twice as long
    Http.await("b ejected again", Duration.ofSeconds(5), () -> {
      Http.get(client, fairway.proxyPort(), "/x").await();
      return upstreamHealth(b).getInteger("ejections") == 2;
    });
    Http.await("the doubled ejection in the snapshot", Duration.ofSeconds(5),
      () -> upstreamHealth(b).getString("reason").equals("ejected for 2000ms after status 503"));
    assertThat(fairway.registry().get("fairway.ejections").tag("upstream", b.id()).counter().count()).isEqualTo(2.0);
  }

  @Test
  void ejectionBackOffDoublesUpToTheCapAndResetsAfterAQuietSpell() {
    PassiveEjection e = new PassiveEjection(2, 1_000, 5_000);
    assertThat(e.recordFailure(0)).as("one failure of two").isZero();
    assertThat(e.recordFailure(2_000)).as("the first fell out of the window").isZero();
    assertThat(e.recordFailure(2_500)).isEqualTo(1_000);
    e.ended(3_500);
    assertThat(e.recordFailure(3_600) + e.recordFailure(3_700)).isEqualTo(2_000);
    assertThat(e.ejectAgain(5_700)).isEqualTo(4_000);
    assertThat(e.ejectAgain(9_700)).as("capped").isEqualTo(5_000);
    e.ended(14_700);
    e.recordFailure(100_000);
    assertThat(e.recordFailure(100_001)).as("long after the last one: back to the base").isEqualTo(1_000);
    assertThat(e.ejections()).isEqualTo(5);
  }

  @Test
  void panicModeFailsFastByDefaultAndTriesAllWhenConfigured() {
    a.healthy = false;
    b.healthy = false;
    fairway = Proxies.start(Proxies.options(a, b));
    Http.Reply reply = Http.get(client, fairway.proxyPort(), "/x").await();
    assertThat(reply.status()).isEqualTo(503);
    assertThat(reply.headers().get("Retry-After")).isEqualTo("5");
    fairway.close().await();

    fairway = Proxies.start(Proxies.options(a, b).with(o -> o.getRetry().setPanicTryAll(true)));
    assertThat(Http.get(client, fairway.adminPort(), "/health").await().status()).isEqualTo(503);
    for (int i = 0; i < 4; i++) {
      assertThat(Http.get(client, fairway.proxyPort(), "/x").await().status()).as("the health checks may be wrong").isEqualTo(200);
    }
    assertThat(a.hits.get()).isEqualTo(2);
    assertThat(b.hits.get()).isEqualTo(2);
  }

  @Test
  void liveAndReadyProbesForKubernetes() {
    fairway = Proxies.start(Proxies.options(a).with(o -> o.getProcess().setInstances(2)).with(o -> o.getListen().setPort(Proxies.freePort())));
    Http.Reply live = Http.get(client, fairway.adminPort(), "/health/live").await();
    assertThat(live.status()).isEqualTo(200);
    assertThat(new JsonObject(live.body()).getMap()).containsEntry("status", "UP").containsEntry("event_loops", 2);
    assertThat(Http.get(client, fairway.adminPort(), "/health/ready").await().status()).isEqualTo(200);
    a.healthy = false;
    Http.await("not ready", Duration.ofSeconds(5), () -> Http.get(client, fairway.adminPort(), "/health/ready").await().status() == 503);
    assertThat(Http.get(client, fairway.adminPort(), "/health/live").await().status()).as("alive though not ready").isEqualTo(200);
    JsonObject detail = upstreamHealth(a);
    assertThat(detail.getString("last_check")).isEqualTo("status 503");
    assertThat(detail.getString("last_failure")).isEqualTo("status 503");
    assertThat(detail.getLong("last_check_at")).isPositive();
    assertThat(detail.getInteger("ejections")).isZero();
    assertThat(detail.getInteger("in_flight")).isZero();
  }
}
