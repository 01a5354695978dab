package dev.fairway.health;

import dev.fairway.config.FairwayOptions;
import dev.fairway.config.HealthCheckOptions;
import dev.fairway.support.Http;
import dev.fairway.support.Proxies;
import dev.fairway.support.ThreeUpstreams;
import io.vertx.core.http.HttpClient;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class HealthCheckTest extends ThreeUpstreams {


  @BeforeEach
  void setUp() {
    client = client(5);
  }

  private String status(String upstreamId) {
    JsonObject health = new JsonObject(Http.get(client, fairway.adminPort(), "/health").await().body());
    return health.getJsonArray("checks").getJsonObject(0).getJsonObject("data").getJsonArray("upstreams").stream()
      .map(JsonObject.class::cast).filter(u -> u.getString("id").equals(upstreamId))
      .findFirst().orElseThrow().getString("status");
  }

  private List<Integer> hitsAfter(int requests) {
    int a0 = a.hits.get(), b0 = b.hits.get(), c0 = c.hits.get();
    for (int i = 0; i < requests; i++) {
      assertThat(Http.get(client, fairway.proxyPort(), "/work").await().status()).isEqualTo(200);
    }
    return List.of(a.hits.get() - a0, b.hits.get() - b0, c.hits.get() - c0);
  }

  @Test
  void downUpstreamIsSkippedWithinOneIntervalAndComesBackAfterRecovery() {
    fairway = Proxies.start(Proxies.options(a, b, c));
    Http.await("all checked UP", Duration.ofSeconds(5), () -> status(b.id()).equals("UP") && !fairway.registry().find("fairway.upstream.up").gauges().isEmpty());

    b.healthy = false;
    long start = System.nanoTime();
    Http.await("b DOWN", Duration.ofSeconds(5), () -> status(b.id()).equals("DOWN"));
    // interval 100 ms ±10% plus probe time: well under a second even on a loaded machine
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(1));
    assertThat(hitsAfter(30)).containsExactly(15, 0, 15);

    b.healthy = true;
    Http.await("b UP again", Duration.ofSeconds(5), () -> status(b.id()).equals("UP"));
    assertThat(hitsAfter(30)).containsExactly(10, 10, 10);
    assertThat(fairway.registry().get("fairway.health.transitions").tags("upstream", b.id(), "to", "DOWN").counter().count()).isEqualTo(1.0);
    assertThat(fairway.registry().get("fairway.health.transitions").tags("upstream", b.id(), "to", "UP").counter().count()).isEqualTo(1.0);
  }

  @Test
  void riseAndFallNeedConsecutiveResults() {
    ProbeState s = new ProbeState(true, 2, 3);
    assertThat(s.record(true)).as("first result always publishes").isTrue();
    assertThat(s.record(false)).isFalse();
    assertThat(s.record(false)).isFalse();
    assertThat(s.record(true)).as("a success resets the fall streak").isFalse();
    assertThat(s.record(false) || s.record(false)).isFalse();
    assertThat(s.record(false)).isTrue();
    assertThat(s.up()).isFalse();
    assertThat(s.record(true)).isFalse();
    assertThat(s.record(true)).isTrue();
    assertThat(s.up()).isTrue();
  }

  @Test
  void noHealthyUpstreamGives503AtOnceAndAdminHealthSays503() {
    a.healthy = false;
    b.healthy = false;
    c.healthy = false;
    fairway = Proxies.start(Proxies.options(a, b, c));
    Http.await("all DOWN", Duration.ofSeconds(5), () -> Http.get(client, fairway.adminPort(), "/health").await().status() == 503);
    Http.Reply reply = Http.get(client, fairway.proxyPort(), "/work").await();
    assertThat(reply.status()).isEqualTo(503);
    assertThat(reply.body()).isEqualTo("no healthy upstream\n");
    assertThat(a.hits.get() + b.hits.get() + c.hits.get()).isZero();
  }

  /** A Flask API without a "/" route answers 404 there: with no health path set, that server is up. */
  @Test
  void withoutAHealthPathAnyAnswerBelow500MeansUp() {
    a.handler = req -> req.response().setStatusCode(req.path().equals("/") ? 404 : 200).end("a");
    FairwayOptions options = Proxies.options(a)
      .setHealth(new HealthCheckOptions().setIntervalMillis(100).setTimeoutMillis(500).setRise(1).setFall(1));
    fairway = Proxies.start(options);
    assertThat(status(a.id())).isEqualTo("UP");
    assertThat(Http.get(client, fairway.proxyPort(), "/api/x").await().status()).isEqualTo(200);

    a.handler = req -> req.response().setStatusCode(500).end();
    Http.await("a DOWN on a 500", Duration.ofSeconds(5), () -> status(a.id()).equals("DOWN"));
  }

  @Test
  void aConfiguredHealthPathMustAnswer2xxOr3xx() {
    a.handler = req -> req.response().setStatusCode(404).end();
    FairwayOptions options = Proxies.options(a);
    options.getHealth().setPath("health.path", "/ready");
    fairway = Proxies.start(options);
    assertThat(status(a.id())).isEqualTo("DOWN");
    assertThat(Http.get(client, fairway.proxyPort(), "/api/x").await().status()).isEqualTo(503);
  }

  @Test
  void theDefaultPathRuleSurvivesAReloadsJsonRoundTrip() {
    HealthCheckOptions unset = new FairwayOptions(new FairwayOptions().toJson()).getHealth();
    assertThat(unset.isExpected(404)).isTrue();
    assertThat(unset.isExpected(500)).isFalse();
    FairwayOptions withPath = new FairwayOptions();
    withPath.getHealth().setPath("health.path", "/health");
    HealthCheckOptions set = new FairwayOptions(withPath.toJson()).getHealth();
    assertThat(set.isExpected(404)).isFalse();
    assertThat(set.isExpected(204)).isTrue();
  }
}
