package dev.fairway.ops;

import dev.fairway.Fairway;
import dev.fairway.config.ConfigLoader;
import dev.fairway.config.FairwayOptions;
import dev.fairway.support.Http;
import dev.fairway.support.Proxies;
import dev.fairway.support.SteadyLoad;
import dev.fairway.support.TestUpstream;
import dev.fairway.support.ThreeUpstreams;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The runtime admin API and hot reload: change a running Fairway without dropping a request. */
class OperationsTest extends ThreeUpstreams {

  private static final String TOKEN = "s3cret-token";

  @BeforeEach
  void setUp() {
    client = client(8);
  }

  private Http.Reply admin(HttpMethod method, String uri, String token, String body) {
    RequestOptions o = new RequestOptions().setMethod(method).setHost("127.0.0.1").setPort(fairway.adminPort()).setURI(uri);
    if (token != null) o.putHeader("Authorization", "Bearer " + token);
    return Http.send(client, o, body).await();
  }

  private String proxied() {
    return Http.get(client, fairway.proxyPort(), "/x").await().body();
  }

  @Test
  void adminApiIsOffWithoutAToken() {
    fairway = Proxies.start(Proxies.options(a));
    Http.Reply reply = admin(HttpMethod.GET, "/admin/upstreams", "anything", null);
    assertThat(reply.status()).isEqualTo(404);
    assertThat(reply.body()).contains("the admin API is off: set admin.token");
    assertThat(Http.get(client, fairway.adminPort(), "/health").await().status()).as("read-only endpoints stay").isEqualTo(200);
  }

  @Test
  void adminApiNeedsTheBearerToken() {
    fairway = Proxies.start(Proxies.options(a).with(o -> o.getAdmin().setToken(TOKEN)));
    assertThat(admin(HttpMethod.GET, "/admin/upstreams", null, null).status()).isEqualTo(401);
    assertThat(admin(HttpMethod.GET, "/admin/upstreams", "wrong", null).status()).isEqualTo(401);
    Http.Reply ok = admin(HttpMethod.GET, "/admin/upstreams", TOKEN, null);
    assertThat(ok.status()).isEqualTo(200);
    assertThat(new JsonObject(ok.body()).getJsonArray("upstreams").getJsonObject(0).getString("id")).isEqualTo(a.id());
  }

  @Test
  void upstreamsAreAddedChangedAndRefusedWithReasons() {
    fairway = Proxies.start(Proxies.options(a).with(o -> o.getAdmin().setToken(TOKEN)));
    Http.Reply added = admin(HttpMethod.POST, "/admin/upstreams", TOKEN, new JsonObject().put("address", b.id()).put("weight", 3).encode());
    assertThat(added.status()).isEqualTo(201);
    Http.await("b probed and in rotation", Duration.ofSeconds(5), () -> proxied().equals("b"));

    Http.Reply changed = admin(HttpMethod.PUT, "/admin/upstreams/" + b.id(), TOKEN, "{\"weight\": 1, \"state\": \"down\"}");
    assertThat(changed.status()).isEqualTo(200);
    assertThat(new JsonObject(changed.body()).getString("state")).isEqualTo("down");
    for (int i = 0; i < 6; i++) assertThat(proxied()).isEqualTo("a");
    assertThat(fairway.registry().get("fairway.upstream.up").tag("upstream", b.id()).gauge()).isNotNull();

    assertThat(admin(HttpMethod.POST, "/admin/upstreams", TOKEN, "{\"address\": \"nowhere\"}").body())
      .contains("upstream.address: nowhere (expected: HOST:PORT");
    assertThat(admin(HttpMethod.POST, "/admin/upstreams", TOKEN, "not json").status()).isEqualTo(400);
    assertThat(admin(HttpMethod.POST, "/admin/upstreams", TOKEN, new JsonObject().put("address", a.id()).encode()).status()).isEqualTo(400);
    assertThat(admin(HttpMethod.PUT, "/admin/upstreams/" + b.id(), TOKEN, "{\"weight\": 0}").body())
      .contains("weight: 0 (expected: a whole number from 1 to 1000)");
    assertThat(admin(HttpMethod.PUT, "/admin/upstreams/" + b.id(), TOKEN, "{\"state\": \"sleeping\"}").status()).isEqualTo(400);
    assertThat(admin(HttpMethod.PUT, "/admin/upstreams/127.0.0.1:1", TOKEN, "{\"weight\": 2}").status()).isEqualTo(404);
  }

  @Test
  void deletedUpstreamDrainsItsInFlightRequestThenGoes() {
    List<HttpServerRequest> held = new ArrayList<>();
    Promise<Void> aHolds = Promise.promise();
    a.handler = req -> {
      if (req.path().equals("/long")) {
        held.add(req);
        aHolds.tryComplete();
      } else {
        req.response().end("a");
      }
    };
    fairway = Proxies.start(Proxies.options(a, b).with(o -> o.getAdmin().setToken(TOKEN)));
    Future<Http.Reply> longRequest = Http.get(client, fairway.proxyPort(), "/long");
    aHolds.future().await();

    Http.Reply deleted = admin(HttpMethod.DELETE, "/admin/upstreams/" + a.id(), TOKEN, null);
    assertThat(deleted.status()).isEqualTo(202);
    assertThat(new JsonObject(deleted.body()).getMap()).containsEntry("state", "drain").containsEntry("in_flight", 1);
    for (int i = 0; i < 6; i++) assertThat(proxied()).as("no new requests to a").isEqualTo("b");
    assertThat(admin(HttpMethod.GET, "/admin/upstreams", TOKEN, null).body()).contains(a.id());

    vertx.runOnContext(v -> held.get(0).response().end("finished"));
    assertThat(longRequest.await().body()).isEqualTo("finished");
    Http.await("a removed", Duration.ofSeconds(5), () -> !admin(HttpMethod.GET, "/admin/upstreams", TOKEN, null).body().contains(a.id()));
  }

  private static String config(TestUpstream... ups) {
    StringBuilder y = new StringBuilder("""
      listen: {host: 127.0.0.1, port: 0}
      admin: {port: 0, token: %s}
      instances: 1
      health: {path: /health, interval: 100ms, rise: 1, fall: 1}
      upstreams:
      """.formatted(TOKEN));
    for (TestUpstream u : ups) y.append("  - ").append(u.id()).append('\n');
    return y.toString();
  }

  @Test
  void reloadAddsAndRemovesUpstreamsUnderSteadyLoadWithoutAFailedRequest(@TempDir Path dir) throws IOException {
    Path file = Files.writeString(dir.resolve("fairway.yaml"), config(a, b));
    fairway = Fairway.start(ConfigLoader.load(file).validate(), false, () -> ConfigLoader.load(file).validate(), null).await();
    // the second half waits for the reload, so the added upstream gets some of it however fast the first half goes
    Promise<Void> reloadedFirst = Promise.promise();
    SteadyLoad load = SteadyLoad.start(vertx, 4, 800, n -> n < 400 ? Http.get(client, fairway.proxyPort(), "/x")
      : reloadedFirst.future().compose(v -> Http.get(client, fairway.proxyPort(), "/x")));
    Http.await("some load", Duration.ofSeconds(10), () -> load.issued.get() > 200);
    Files.writeString(file, config(b, c));
    Http.Reply reloaded = admin(HttpMethod.POST, "/admin/reload", TOKEN, null);
    assertThat(reloaded.status()).isEqualTo(200);
    assertThat(new JsonObject(reloaded.body()).getJsonArray("restart_needed")).isEmpty();
    vertx.runOnContext(v -> reloadedFirst.complete());
    assertThat(load.statuses()).hasSize(800).allMatch(status -> status == 200);
    int aHits = a.hits.get();
    assertThat(c.hits.get()).as("the added upstream takes traffic").isPositive();
    for (int i = 0; i < 10; i++) assertThat(proxied()).isIn("b", "c");
    assertThat(a.hits.get()).as("the removed upstream gets nothing more").isEqualTo(aHits);
  }

  @Test
  void invalidReloadIsRejectedWithItsReasonAndTheRunningConfigStays(@TempDir Path dir) throws IOException {
    Path file = Files.writeString(dir.resolve("fairway.yaml"), config(a));
    fairway = Fairway.start(ConfigLoader.load(file).validate(), false, () -> ConfigLoader.load(file).validate(), null).await();
    Files.writeString(file, config(b) + "read-timeout: soon\n");
    Http.Reply rejected = admin(HttpMethod.POST, "/admin/reload", TOKEN, null);
    assertThat(rejected.status()).isEqualTo(400);
    assertThat(new JsonObject(rejected.body()).getString("error")).isEqualTo("read-timeout: soon (expected: a duration such as 500ms, 5s, 30m or 1h)");
    for (int i = 0; i < 4; i++) assertThat(proxied()).isEqualTo("a");

    Files.writeString(file, config(a).replace("port: 0}\nadmin", "port: 1}\nadmin"));
    assertThat(new JsonObject(admin(HttpMethod.POST, "/admin/reload", TOKEN, null).body()).getJsonArray("restart_needed").getList())
      .containsExactly("listen");
  }

  @Test
  void reloadMovesTheAccessLogUnderLoadWithoutLosingALine(@TempDir Path dir) throws IOException {
    Path first = dir.resolve("first.log");
    Path second = dir.resolve("second.log");
    Path file = Files.writeString(dir.resolve("fairway.yaml"), config(a) + "access-log: " + first + "\n");
    fairway = Fairway.start(ConfigLoader.load(file).validate(), false, () -> ConfigLoader.load(file).validate(), null).await();
    // the second half waits for the switch, so both logs get lines however fast the first half goes
    Promise<Void> switched = Promise.promise();
    SteadyLoad load = SteadyLoad.start(vertx, 4, 600, n -> n < 300 ? Http.get(client, fairway.proxyPort(), "/x")
      : switched.future().compose(v -> Http.get(client, fairway.proxyPort(), "/x")));
    Http.await("some load", Duration.ofSeconds(10), () -> load.issued.get() > 200);
    Files.writeString(file, config(a) + "access-log: " + second + "\naccess-log-format: json\n");
    assertThat(reloadNeedsRestartOf()).as("the log switches at once").isEmpty();
    vertx.runOnContext(v -> switched.complete());
    assertThat(load.statuses()).hasSize(600).allMatch(status -> status == 200);
    Files.writeString(file, config(a) + "access-log: off\n");
    assertThat(reloadNeedsRestartOf()).isEmpty(); // closes second.log once its lines are written

    List<String> before = Files.readAllLines(first);
    List<String> after = Files.readAllLines(second);
    assertThat(before.size() + after.size()).as("every request logged once, in one of the two").isEqualTo(600);
    assertThat(before).isNotEmpty().allMatch(l -> l.contains("\"GET /x HTTP/1.1\" 200"));
    assertThat(after).isNotEmpty().allMatch(l -> l.startsWith("{") && l.contains("\"status\":200"));

    for (int i = 0; i < 3; i++) assertThat(proxied()).isEqualTo("a");
    Files.writeString(file, config(a) + "access-log: " + first + "\n");
    reloadNeedsRestartOf();
    assertThat(proxied()).isEqualTo("a");
    Files.writeString(file, config(a) + "access-log: off\n");
    reloadNeedsRestartOf();
    assertThat(Files.readAllLines(first)).as("off logged nothing; the reopened file was appended to").hasSize(before.size() + 1);
    assertThat(Files.readAllLines(second)).hasSize(after.size());
  }

  @Test
  void aRequestInFlightWhenTheLogIsSwitchedOnIsLoggedWithItsHeaders(@TempDir Path dir) throws IOException {
    List<HttpServerRequest> held = new ArrayList<>();
    Promise<Void> aHolds = Promise.promise();
    a.handler = req -> {
      held.add(req);
      aHolds.tryComplete();
    };
    Path log = dir.resolve("access.log");
    Path file = Files.writeString(dir.resolve("fairway.yaml"), config(a) + "access-log: off\n");
    fairway = Fairway.start(ConfigLoader.load(file).validate(), false, () -> ConfigLoader.load(file).validate(), null).await();
    Future<Http.Reply> inFlight = Http.send(client, new RequestOptions().setHost("127.0.0.1").setPort(fairway.proxyPort())
      .setURI("/held").putHeader("Referer", "http://example.com/page").putHeader("User-Agent", "held-client/1.0"), null);
    aHolds.future().await();

    Files.writeString(file, config(a) + "access-log: " + log + "\n");
    reloadNeedsRestartOf();
    vertx.runOnContext(v -> held.get(0).response().end("done"));
    assertThat(inFlight.await().body()).isEqualTo("done");
    Files.writeString(file, config(a) + "access-log: off\n");
    reloadNeedsRestartOf(); // closes access.log once its line is written

    assertThat(Files.readAllLines(log)).singleElement().asString()
      .contains("\"GET /held HTTP/1.1\" 200").contains("\"http://example.com/page\" \"held-client/1.0\"");
  }

  @Test
  void accessLogThatCannotBeWrittenIsRejectedAndTheRunningLogStays(@TempDir Path dir) throws IOException {
    Path log = dir.resolve("access.log");
    Path notADirectory = Files.writeString(dir.resolve("plain-file"), "");
    Path file = Files.writeString(dir.resolve("fairway.yaml"), config(a) + "access-log: " + log + "\n");
    fairway = Fairway.start(ConfigLoader.load(file).validate(), false, () -> ConfigLoader.load(file).validate(), null).await();
    Files.writeString(file, config(a) + "access-log: " + notADirectory.resolve("access.log") + "\n");
    Http.Reply rejected = admin(HttpMethod.POST, "/admin/reload", TOKEN, null);
    assertThat(rejected.status()).isEqualTo(400);
    assertThat(new JsonObject(rejected.body()).getString("error"))
      .startsWith("access-log: " + notADirectory.resolve("access.log") + " (expected: stdout, off, or a file Fairway can write");
    assertThat(proxied()).isEqualTo("a");
    Files.writeString(file, config(a) + "access-log: off\n");
    reloadNeedsRestartOf(); // closes access.log
    assertThat(Files.readAllLines(log)).hasSize(1);
  }

  @Test
  void reloadTurnsPerRequestMetricsOnAndOff(@TempDir Path dir) throws IOException {
    Path file = Files.writeString(dir.resolve("fairway.yaml"), config(a) + "metrics: false\n");
    fairway = Fairway.start(ConfigLoader.load(file).validate(), false, () -> ConfigLoader.load(file).validate(), null).await();
    String series = "fairway_requests_total{code=\"200\",method=\"GET\",route=\"/\",upstream=\"" + a.id() + "\"}";
    String histogram = "fairway_request_duration_seconds_count{route=\"/\",upstream=\"" + a.id() + "\"}";
    assertThat(proxied()).isEqualTo("a");
    assertThat(scrape()).doesNotContain(series).doesNotContain(histogram);

    Files.writeString(file, config(a) + "metrics: true\n");
    assertThat(reloadNeedsRestartOf()).isEmpty();
    for (int i = 0; i < 2; i++) assertThat(proxied()).isEqualTo("a");
    Http.await("two requests counted", Duration.ofSeconds(5), () -> scrape().contains(series + " 2.0"));
    assertThat(scrape()).contains(histogram + " 2");

    Files.writeString(file, config(a) + "metrics: false\n");
    reloadNeedsRestartOf();
    assertThat(proxied()).isEqualTo("a");
    Files.writeString(file, config(a) + "metrics: true\n");
    reloadNeedsRestartOf();
    assertThat(scrape()).as("kept while off, nothing added").contains(series + " 2.0").contains(histogram + " 2");
  }

  private List<Object> reloadNeedsRestartOf() {
    Http.Reply reply = admin(HttpMethod.POST, "/admin/reload", TOKEN, null);
    assertThat(reply.status()).as(reply.body()).isEqualTo(200);
    return new JsonObject(reply.body()).getJsonArray("restart_needed").getList();
  }

  private String scrape() {
    return Http.get(client, fairway.adminPort(), "/metrics").await().body();
  }

  @Test
  void reloadWithoutAConfigFileSaysSo() {
    fairway = Proxies.start(Proxies.options(a).with(o -> o.getAdmin().setToken(TOKEN)));
    assertThat(admin(HttpMethod.POST, "/admin/reload", TOKEN, null).status()).isEqualTo(409);
  }

  @Test
  void configSurvivesTheBusAsJson() {
    FairwayOptions o = ConfigLoader.load(Path.of("conf/fairway.yaml"));
    assertThat(new FairwayOptions(o.toJson()).toJson()).isEqualTo(o.toJson());
  }
}
