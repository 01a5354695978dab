package dev.fairway.ops;

import dev.fairway.config.FairwayOptions;
import dev.fairway.support.FairwayTest;
import dev.fairway.support.Http;
import dev.fairway.support.Proxies;
import dev.fairway.support.TestUpstream;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** Drains for deploys: wait for an upstream's last request, cut none; and deploy/rolling-restart.sh on top of them. */
class DrainTest extends FairwayTest {

  private static final String TOKEN = "drain-token";
  private TestUpstream a;
  private TestUpstream b;
  private final ConcurrentLinkedQueue<HttpServerRequest> held = new ConcurrentLinkedQueue<>();

  @BeforeEach
  void setUp(Vertx vertx) {
    client = vertx.createHttpClient(new HttpClientOptions(), new PoolOptions().setHttp1MaxSize(20));
    a = TestUpstream.start(vertx, "a");
    b = TestUpstream.start(vertx, "b");
  }

  private void start(TestUpstream... upstreams) {
    FairwayOptions o = Proxies.options(upstreams);
    o.getAdmin().setToken(TOKEN);
    fairway = Proxies.start(o);
  }

  private Future<Http.Reply> admin(HttpMethod method, String uri) {
    return Http.send(client, new RequestOptions().setMethod(method).setHost("127.0.0.1").setPort(fairway.adminPort()).setURI(uri)
      .putHeader("Authorization", "Bearer " + TOKEN), null);
  }

  @Test
  void aDrainWithWaitAnswersWhenTheLastOfThreeLongRequestsEndsAndCutsNone() throws Exception {
    a.handler = held::add;
    start(a);
    List<Future<Http.Reply>> requests = new ArrayList<>();
    for (int i = 0; i < 3; i++) requests.add(Http.get(client, fairway.proxyPort(), "/job"));
    Http.await("three in flight", Duration.ofSeconds(5), () -> held.size() == 3);

    JsonObject shown = new JsonObject(admin(HttpMethod.GET, "/admin/upstreams/" + a.id()).await(5, TimeUnit.SECONDS).body());
    assertThat(shown.getInteger("in_flight")).isEqualTo(3);
    assertThat(shown.getDouble("oldest_request_seconds")).isPositive();

    Future<Http.Reply> drain = admin(HttpMethod.POST, "/admin/upstreams/" + a.id() + "/drain?wait=20s");
    long[] answeredAt = {0};
    drain.onComplete(x -> answeredAt[0] = System.nanoTime());
    Http.await("drain state applied", Duration.ofSeconds(5),
      () -> admin(HttpMethod.GET, "/admin/upstreams/" + a.id()).await().body().contains("\"state\":\"drain\""));
    long lastEnded = 0;
    for (int i = 3; i > 0; i--) {
      int left = i;
      Http.await(left + " in flight", Duration.ofSeconds(5),
        () -> new JsonObject(admin(HttpMethod.GET, "/admin/upstreams/" + a.id()).await().body()).getInteger("in_flight") == left);
      assertThat(drain.isComplete()).as("answered with %s requests left", left).isFalse();
      lastEnded = System.nanoTime();
      held.poll().response().end("done");
    }
    Http.Reply drained = drain.await(5, TimeUnit.SECONDS);
    assertThat(answeredAt[0]).as("answered after the last request ended").isGreaterThan(lastEnded);
    assertThat(drained.status()).isEqualTo(200);
    JsonObject body = new JsonObject(drained.body());
    assertThat(body.getBoolean("drained")).isTrue();
    assertThat(body.getInteger("in_flight")).isZero();
    for (Future<Http.Reply> r : requests) assertThat(r.await(5, TimeUnit.SECONDS).body()).as("none cut").isEqualTo("done");
  }

  @Test
  void aDrainThatOutlastsItsWaitAnswers504WithWhatIsLeft() throws Exception {
    a.handler = held::add;
    start(a);
    Future<Http.Reply> running = Http.get(client, fairway.proxyPort(), "/job");
    Http.await("in flight", Duration.ofSeconds(5), () -> held.size() == 1);
    Http.Reply reply = admin(HttpMethod.POST, "/admin/upstreams/" + a.id() + "/drain?wait=300ms").await(5, TimeUnit.SECONDS);
    assertThat(reply.status()).isEqualTo(504);
    assertThat(new JsonObject(reply.body()).getInteger("in_flight")).isEqualTo(1);
    assertThat(admin(HttpMethod.POST, "/admin/upstreams/" + a.id() + "/drain?wait=soon").await(5, TimeUnit.SECONDS).status()).isEqualTo(400);
    held.poll().response().end("done");
    assertThat(running.await(5, TimeUnit.SECONDS).body()).as("not cut by the deadline").isEqualTo("done");
  }

  private static String run(List<String> command) throws Exception {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("finished").isTrue();
    String out = new String(p.getInputStream().readAllBytes());
    assertThat(p.exitValue()).as(out).isZero();
    return out;
  }

  @Test
  void rollingRestartDryRunPrintsThePlanAndChangesNothing() throws Exception {
    start(a, b);
    String out = run(List.of("bash", "deploy/rolling-restart.sh", "--admin", "http://127.0.0.1:" + fairway.adminPort(),
      "--token", TOKEN, "--restart", "systemctl restart flask@{port}", "--dry-run"));
    assertThat(out).contains("rolling restart of 2 upstream(s)", "(dry run: nothing is changed)",
      "[1/2] " + a.id(), "2. restart: systemctl restart flask@" + a.port(), "[2/2] " + b.id(),
      "drain: POST /admin/upstreams/" + b.id() + "/drain?wait=30m");
    assertThat(admin(HttpMethod.GET, "/admin/upstreams/" + a.id()).await(5, TimeUnit.SECONDS).body()).contains("\"draining\":false");
  }

  @Test
  void rollingRestartTakesEachUpstreamOutRestartsItAndPutsItBack(@TempDir Path dir) throws Exception {
    start(a, b);
    Path log = dir.resolve("restarts.log");
    String out = run(List.of("bash", "deploy/rolling-restart.sh", "--admin", "http://127.0.0.1:" + fairway.adminPort(),
      "--token", TOKEN, "--wait", "10s", "--up-timeout", "20", "--restart", "echo {id} >> " + log));
    assertThat(Files.readAllLines(log)).containsExactly(a.id(), b.id());
    assertThat(out).contains("done").containsSubsequence("[1/2]", "UP and back in rotation", "[2/2]", "UP and back in rotation");
    for (TestUpstream u : List.of(a, b)) {
      assertThat(admin(HttpMethod.GET, "/admin/upstreams/" + u.id()).await(5, TimeUnit.SECONDS).body()).contains("\"draining\":false");
    }
  }
}
