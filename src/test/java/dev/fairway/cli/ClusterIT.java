package dev.fairway.cli;

import dev.fairway.support.FairwayProcess;
import dev.fairway.support.Http;
import dev.fairway.support.Proxies;
import dev.fairway.support.TestUpstream;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/** Several Fairway nodes, each the fat jar in its own JVM, clustered on loopback. */
@ExtendWith(VertxExtension.class)
class ClusterIT {

  private static final Duration START = Duration.ofSeconds(60);
  private static final String TOKEN = "cluster-test-token";

  @TempDir
  Path dir;
  private final List<Node> nodes = new ArrayList<>();
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  /** One node: its process and ports. */
  private record Node(FairwayProcess process, int proxyPort, int adminPort, int clusterPort) {
  }

  @AfterEach
  void stopNodes() {
    nodes.forEach(n -> n.process().close());
  }

  /** A node with {@code upstreams}, joining the nodes on {@code memberPorts}; started once it says where its admin is. */
  private Node start(String clusterName, JsonArray upstreams, List<Integer> memberPorts, int clusterPort, JsonObject extra) throws IOException {
    int proxyPort = Proxies.portBelowEphemeral();
    int adminPort = Proxies.portBelowEphemeral();
    JsonObject cluster = new JsonObject().put("name", clusterName).put("host", "127.0.0.1").put("port", clusterPort)
      .put("join-timeout", "3s");
    if (!memberPorts.isEmpty()) cluster.put("members", new JsonArray(memberPorts.stream().map(p -> "127.0.0.1:" + p).toList()));
    JsonObject config = new JsonObject()
      .put("listen", new JsonObject().put("host", "127.0.0.1").put("port", proxyPort))
      .put("admin", new JsonObject().put("host", "127.0.0.1").put("port", adminPort).put("token", TOKEN))
      .put("upstreams", upstreams)
      .put("health", new JsonObject().put("path", "/health").put("interval", "200ms").put("rise", 1).put("fall", 1))
      .put("instances", 1).put("access-log", "off").put("retries", 0)
      .put("cluster", cluster);
    extra.forEach(e -> config.put(e.getKey(), e.getValue()));
    Path file = Files.writeString(dir.resolve("node-" + clusterPort + ".yaml"), config.encodePrettily());
    Node node = new Node(FairwayProcess.start("--config", file.toString()), proxyPort, adminPort, clusterPort);
    nodes.add(node);
    node.process().awaitOutput("admin on", START);
    return node;
  }

  /** Three nodes of one cluster in front of {@code upstreams}, each started once the ones before it run. */
  private List<Node> threeNodes(JsonArray upstreams, JsonObject extra) throws IOException {
    List<Integer> ports = List.of(Proxies.portBelowEphemeral(), Proxies.portBelowEphemeral(), Proxies.portBelowEphemeral());
    List<Node> three = new ArrayList<>();
    for (int port : ports) {
      three.add(start("it", upstreams, ports.stream().filter(p -> p != port).toList(), port, extra));
    }
    three.forEach(n -> Http.await("3 members seen by the node on " + n.clusterPort(), START, () -> clusterSize(n) == 3));
    return three;
  }

  private JsonObject admin(Node node, String method, String path, String body) {
    HttpRequest.Builder req = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.adminPort() + "/admin" + path))
      .header("Authorization", "Bearer " + TOKEN).timeout(Duration.ofSeconds(10))
      .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    try {
      HttpResponse<String> resp = http.send(req.build(), HttpResponse.BodyHandlers.ofString());
      return new JsonObject(resp.body()).put("_status", resp.statusCode());
    } catch (IOException | InterruptedException e) {
      throw new AssertionError(e);
    }
  }

  private int clusterSize(Node node) {
    try {
      return admin(node, "GET", "/cluster", null).getInteger("size", 0);
    } catch (AssertionError e) { // not answering (yet, or any more)
      return -1;
    }
  }

  /** Requests in flight from node {@code of}, summed over upstreams, as node {@code seenBy} last heard. */
  private int inFlightOf(Node seenBy, Node of) {
    return admin(seenBy, "GET", "/cluster", null).getJsonArray("members").stream().map(JsonObject.class::cast)
      .filter(m -> m.getString("address", "").endsWith(":" + of.clusterPort()))
      .mapToInt(m -> m.getJsonObject("in_flight", new JsonObject()).stream().mapToInt(e -> ((Number) e.getValue()).intValue()).sum())
      .sum();
  }

  private JsonObject upstream(Node node, String id) {
    return admin(node, "GET", "/upstreams/" + id, null);
  }

  private static JsonArray upstreams(TestUpstream... ups) {
    JsonArray list = new JsonArray();
    for (TestUpstream u : ups) list.add(new JsonObject().put("address", u.id()));
    return list;
  }

  @Test
  void anAdminChangeOnOneNodeReachesTheOthersAndALateJoinerGetsIt(Vertx vertx) throws IOException {
    TestUpstream a = TestUpstream.start(vertx, "a");
    TestUpstream b = TestUpstream.start(vertx, "b");
    List<Node> three = threeNodes(upstreams(a, b), new JsonObject());

    JsonObject changed = admin(three.get(0), "PUT", "/upstreams/" + b.id(), "{\"weight\":7,\"max-conns\":6,\"state\":\"drain\"}");
    assertThat(changed.getInteger("_status")).isEqualTo(200);
    long changedAt = System.nanoTime();
    for (Node other : three.subList(1, 3)) {
      Http.await("the change seen on the node on " + other.clusterPort(), Duration.ofSeconds(2), () -> {
        JsonObject u = upstream(other, b.id());
        return u.getInteger("weight") == 7 && u.getInteger("max_conns") == 6 && "drain".equals(u.getString("state"));
      });
    }
    assertThat(Duration.ofNanos(System.nanoTime() - changedAt)).isLessThan(Duration.ofSeconds(2));
    // max-conns 6 over three nodes: 2 each
    for (Node n : three) assertThat(upstream(n, b.id()).getInteger("node_max_conns")).isEqualTo(2);

    JsonObject added = admin(three.get(2), "POST", "/upstreams", "{\"address\":\"127.0.0.1:1\",\"down\":true}");
    assertThat(added.getInteger("_status")).isEqualTo(201);
    Http.await("the added upstream on the first node", Duration.ofSeconds(2), () -> upstream(three.get(0), "127.0.0.1:1").getInteger("_status") == 200);

    // a fourth node, configured with only upstream a, takes the cluster's set as it is now
    Node late = start("it", upstreams(a), three.stream().map(Node::clusterPort).toList(), Proxies.portBelowEphemeral(), new JsonObject());
    Http.await("4 members", START, () -> clusterSize(three.get(0)) == 4);
    JsonObject seen = upstream(late, b.id());
    assertThat(seen.getInteger("weight")).isEqualTo(7);
    assertThat(seen.getString("state")).isEqualTo("drain");
    assertThat(seen.getInteger("node_max_conns")).as("6 over four nodes: 2, 2, 1, 1").isBetween(1, 2);
    assertThat(upstream(late, "127.0.0.1:1").getString("state")).isEqualTo("down");
  }

  @Test
  void aBackendWithMaxConnsTwoBehindThreeNodesNeverHasMoreThanTwoRequestsAndEveryNodeIsServed(Vertx vertx) throws Exception {
    TestUpstream slow = TestUpstream.start(vertx, "slow");
    AtomicInteger now = new AtomicInteger();
    AtomicInteger peak = new AtomicInteger();
    slow.handler = req -> {
      peak.accumulateAndGet(now.incrementAndGet(), Math::max);
      vertx.setTimer(300, id -> {
        now.decrementAndGet();
        req.response().end("done");
      });
    };
    JsonArray ups = new JsonArray().add(new JsonObject().put("address", slow.id()).put("max-conns", 2));
    List<Node> three = threeNodes(ups, new JsonObject().put("queue-timeout", "60s"));
    for (Node n : three) Http.await("upstream up on " + n.clusterPort(), START, () -> "UP".equals(upstream(n, slow.id()).getString("status")));

    // the shares add up to the limit: two nodes hold one each, the third none
    List<Integer> shares = three.stream().map(n -> upstream(n, slow.id()).getInteger("node_max_conns")).sorted().toList();
    assertThat(shares).containsExactly(-1, 1, 1);
    Node noShare = three.stream().filter(n -> upstream(n, slow.id()).getInteger("node_max_conns") < 0).findFirst().orElseThrow();

    // the node without a share borrows the idle nodes' slots: its requests are served, two at a time
    List<CompletableFuture<HttpResponse<String>>> sent = new ArrayList<>();
    for (int i = 0; i < 6; i++) sent.add(send(noShare, "/borrowed/" + i));
    for (CompletableFuture<HttpResponse<String>> f : sent) assertThat(f.get().statusCode()).isEqualTo(200);
    assertThat(peak.get()).as("most requests at once on the backend, all through one node").isEqualTo(2);

    // then 20 at once through all three: every one served, never more than 2 at the backend
    sent.clear();
    for (int i = 0; i < 20; i++) sent.add(send(three.get(i % 3), "/job/" + i));
    for (CompletableFuture<HttpResponse<String>> f : sent) assertThat(f.get().statusCode()).isEqualTo(200);
    assertThat(slow.hits.get()).isEqualTo(26);
    assertThat(peak.get()).as("most requests at once on the backend").isEqualTo(2);
  }

  private CompletableFuture<HttpResponse<String>> send(Node node, String path) {
    return http.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.proxyPort() + path))
      .timeout(Duration.ofSeconds(60)).build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void aNodeKilledUnderLoadCostsTheOtherNodesClientsNothing(Vertx vertx) throws Exception {
    TestUpstream a = TestUpstream.start(vertx, "a");
    TestUpstream b = TestUpstream.start(vertx, "b");
    TestUpstream c = TestUpstream.start(vertx, "c");
    List<Node> three = threeNodes(upstreams(a, b, c), new JsonObject());
    Node victim = three.get(1);
    List<Node> survivors = List.of(three.get(0), three.get(2));
    List<String> victimProbes = admin(victim, "GET", "/cluster", null).getJsonArray("members").stream()
      .map(JsonObject.class::cast).filter(m -> m.getBoolean("self", false)).findFirst().orElseThrow()
      .getJsonArray("probes").stream().map(String::valueOf).toList();

    AtomicInteger ok = new AtomicInteger();
    List<String> errors = java.util.Collections.synchronizedList(new ArrayList<>());
    long end = System.nanoTime() + Duration.ofSeconds(6).toNanos();
    List<CompletableFuture<Void>> loops = new ArrayList<>();
    for (Node n : survivors) {
      loops.add(CompletableFuture.runAsync(() -> {
        for (int i = 0; i < 20_000 && System.nanoTime() < end; i++) {
          try {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + n.proxyPort() + "/")).build(),
              HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() == 200) ok.incrementAndGet();
            else errors.add(r.statusCode() + " " + r.body());
          } catch (IOException | InterruptedException e) {
            errors.add(e.toString());
          }
        }
      }));
    }
    Http.await("some requests served before the kill", Duration.ofSeconds(10), () -> ok.get() > 200);
    new ProcessBuilder("kill", "-9", String.valueOf(victim.process().pid())).start().waitFor();
    long killedAt = System.nanoTime();
    for (Node n : survivors) Http.await("2 members seen on " + n.clusterPort(), Duration.ofSeconds(10), () -> clusterSize(n) == 2);
    assertThat(Duration.ofNanos(System.nanoTime() - killedAt)).isLessThan(Duration.ofSeconds(10));
    CompletableFuture.allOf(loops.toArray(CompletableFuture[]::new)).get();
    assertThat(errors).as("errors seen by the surviving nodes' clients").isEmpty();
    assertThat(ok.get()).isGreaterThan(400);

    // what the killed node probed is probed by a survivor now
    JsonArray members = admin(survivors.get(0), "GET", "/cluster", null).getJsonArray("members");
    List<String> probedNow = members.stream().map(JsonObject.class::cast)
      .flatMap(m -> m.getJsonArray("probes", new JsonArray()).stream().map(String::valueOf)).toList();
    assertThat(probedNow).containsAll(victimProbes).containsExactlyInAnyOrder(a.id(), b.id(), c.id());
  }

  @Test
  void leastConnCountsTheRequestsOtherNodesHaveInFlight(Vertx vertx) throws Exception {
    List<io.vertx.core.http.HttpServerRequest> held = java.util.Collections.synchronizedList(new ArrayList<>());
    TestUpstream a = TestUpstream.start(vertx, "a");
    TestUpstream b = TestUpstream.start(vertx, "b");
    for (TestUpstream u : List.of(a, b)) u.handler = held::add;
    int p1 = Proxies.portBelowEphemeral();
    int p2 = Proxies.portBelowEphemeral();
    JsonObject leastConn = new JsonObject().put("strategy", "least-conn");
    Node one = start("lc", upstreams(a, b), List.of(p2), p1, leastConn);
    Node two = start("lc", upstreams(a, b), List.of(p1), p2, leastConn);
    Http.await("2 members", START, () -> clusterSize(one) == 2 && clusterSize(two) == 2);
    for (Node n : List.of(one, two)) {
      for (TestUpstream u : List.of(a, b)) Http.await("up", START, () -> "UP".equals(upstream(n, u.id()).getString("status")));
    }
    // one long request through each node in turn: each node sends its request to the upstream the other node's is not on
    List<CompletableFuture<HttpResponse<String>>> sent = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      Node n = i % 2 == 0 ? one : two;
      int before = a.hits.get() + b.hits.get();
      sent.add(http.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + n.proxyPort() + "/long/" + i)).build(),
        HttpResponse.BodyHandlers.ofString()));
      Http.await("request " + i + " at an upstream", Duration.ofSeconds(10), () -> a.hits.get() + b.hits.get() == before + 1);
      Node other = n == one ? two : one;
      int sentThrough = i / 2 + 1;
      Http.await("the other node hears of request " + i, Duration.ofSeconds(5), () -> inFlightOf(other, n) == sentThrough);
    }
    assertThat(a.hits.get()).as("a").isEqualTo(2);
    assertThat(b.hits.get()).as("b").isEqualTo(2);
    synchronized (held) {
      held.forEach(r -> r.response().end("done"));
    }
    for (CompletableFuture<HttpResponse<String>> f : sent) assertThat(f.get().statusCode()).isEqualTo(200);
  }

  @Test
  void aNodePausedForThirtySecondsIsDroppedThenComesBack(Vertx vertx) throws Exception {
    TestUpstream a = TestUpstream.start(vertx, "a");
    JsonArray ups = new JsonArray().add(new JsonObject().put("address", a.id()).put("max-conns", 4));
    List<Node> three = threeNodes(ups, new JsonObject());
    Node paused = three.get(2);
    List<Node> others = three.subList(0, 2);
    AtomicInteger ok = new AtomicInteger();
    List<String> errors = java.util.Collections.synchronizedList(new ArrayList<>());
    new ProcessBuilder("kill", "-STOP", String.valueOf(paused.process().pid())).start().waitFor();
    try {
      long pausedAt = System.nanoTime();
      for (Node n : others) Http.await("the paused node dropped by " + n.clusterPort(), Duration.ofSeconds(15), () -> clusterSize(n) == 2);
      // its share of max-conns went to the two that remain
      assertThat(others.stream().mapToInt(n -> upstream(n, a.id()).getInteger("node_max_conns")).sum()).isEqualTo(4);
      for (int i = 0; i < 100_000 && System.nanoTime() - pausedAt < Duration.ofSeconds(30).toNanos(); i++) { // requests through the whole pause
        for (Node n : others) {
          HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + n.proxyPort() + "/")).build(),
            HttpResponse.BodyHandlers.ofString());
          if (r.statusCode() == 200) ok.incrementAndGet();
          else errors.add(r.statusCode() + " " + r.body());
        }
      }
    } finally {
      new ProcessBuilder("kill", "-CONT", String.valueOf(paused.process().pid())).start().waitFor();
    }
    assertThat(errors).as("errors on the nodes that kept running").isEmpty();
    assertThat(ok.get()).isGreaterThan(100);
    for (Node n : three) Http.await("3 members again on " + n.clusterPort(), Duration.ofSeconds(60), () -> clusterSize(n) == 3);
    int sum = three.stream().mapToInt(n -> Math.max(0, upstream(n, a.id()).getInteger("node_max_conns"))).sum();
    assertThat(sum).as("shares add up to max-conns again").isEqualTo(4);
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + paused.proxyPort() + "/")).build(),
      HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(200);
  }

  /** A node whose requests under /job run as long jobs, spooled in a folder of its own. */
  private Node jobNode(String name, JsonArray upstreams, List<Integer> memberPorts, int clusterPort) throws IOException {
    JsonObject jobs = new JsonObject()
      .put("routes", new JsonArray().add(new JsonObject().put("path", "/job").put("jobs", new JsonObject().put("enabled", true))))
      .put("jobs", new JsonObject().put("dir", Files.createDirectories(dir.resolve("spool-" + clusterPort)).toString()));
    return start(name, upstreams, memberPorts, clusterPort, jobs);
  }

  /** 1 MiB of bytes that tell where they are, written in 16 KiB pieces 20 ms apart. */
  private static byte[] slowBody(Vertx vertx, io.vertx.core.http.HttpServerRequest req) {
    byte[] all = new byte[1 << 20];
    new java.util.Random(42).nextBytes(all);
    req.response().putHeader("content-length", String.valueOf(all.length));
    AtomicInteger sentPieces = new AtomicInteger();
    vertx.setPeriodic(20, id -> {
      int i = sentPieces.getAndIncrement();
      if (i >= 64 || req.response().closed()) {
        vertx.cancelTimer(id);
        if (i >= 64 && !req.response().ended()) req.response().end();
        return;
      }
      req.response().write(io.vertx.core.buffer.Buffer.buffer(java.util.Arrays.copyOfRange(all, i << 14, (i + 1) << 14)));
    });
    return all;
  }

  @Test
  void aJobStartedThroughOneNodeIsReadByteExactThroughAnother(Vertx vertx) throws Exception {
    TestUpstream backend = TestUpstream.start(vertx, "backend");
    byte[][] expected = new byte[1][];
    backend.handler = req -> expected[0] = slowBody(vertx, req);
    int pa = Proxies.portBelowEphemeral();
    int pc = Proxies.portBelowEphemeral();
    Node a = jobNode("jobs", upstreams(backend), List.of(pc), pa);
    Node c = jobNode("jobs", upstreams(backend), List.of(pa), pc);
    Http.await("2 members", START, () -> clusterSize(a) == 2 && clusterSize(c) == 2);
    for (Node n : List.of(a, c)) Http.await("up", START, () -> "UP".equals(upstream(n, backend.id()).getString("status")));

    HttpResponse<String> accepted = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + a.proxyPort() + "/job/report"))
      .header("Prefer", "respond-async").build(), HttpResponse.BodyHandlers.ofString());
    assertThat(accepted.statusCode()).isEqualTo(202);
    String id = accepted.headers().firstValue("Fairway-Job").orElseThrow();

    // through the other node, while it runs: the whole response, followed live to its end, then a range of it
    HttpResponse<byte[]> whole = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + c.proxyPort() + "/.fairway/jobs/" + id))
      .timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofByteArray());
    assertThat(whole.statusCode()).isEqualTo(200);
    assertThat(whole.body()).isEqualTo(expected[0]);
    HttpResponse<byte[]> tail = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + c.proxyPort() + "/.fairway/jobs/" + id))
      .header("Range", "bytes=1000000-").build(), HttpResponse.BodyHandlers.ofByteArray());
    assertThat(tail.statusCode()).isEqualTo(206);
    assertThat(tail.body()).isEqualTo(java.util.Arrays.copyOfRange(expected[0], 1_000_000, 1 << 20));
    assertThat(backend.hits.get()).isEqualTo(1);

    // an unknown id is 404 through either node
    HttpResponse<String> unknown = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + c.proxyPort()
      + "/.fairway/jobs/AAAAAAAAAAAAAAAAAAAAAA")).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(unknown.statusCode()).isEqualTo(404);
  }

  @Test
  void anIdempotencyKeyRepeatedThroughAnotherNodeReachesTheSameJob(Vertx vertx) throws Exception {
    TestUpstream backend = TestUpstream.start(vertx, "backend");
    backend.handler = req -> req.body().onSuccess(body -> vertx.setTimer(1_000, id -> req.response().end("ran once: " + body)));
    int pa = Proxies.portBelowEphemeral();
    int pb = Proxies.portBelowEphemeral();
    Node a = jobNode("keys", upstreams(backend), List.of(pb), pa);
    Node b = jobNode("keys", upstreams(backend), List.of(pa), pb);
    Http.await("2 members", START, () -> clusterSize(a) == 2 && clusterSize(b) == 2);
    for (Node n : List.of(a, b)) Http.await("up", START, () -> "UP".equals(upstream(n, backend.id()).getString("status")));

    HttpRequest.Builder post = HttpRequest.newBuilder().header("Idempotency-Key", "order-7")
      .POST(HttpRequest.BodyPublishers.ofString("{\"doc\":1}"));
    CompletableFuture<HttpResponse<String>> first = http.sendAsync(post.copy().uri(URI.create("http://127.0.0.1:" + a.proxyPort() + "/job/run")).build(),
      HttpResponse.BodyHandlers.ofString());
    Http.await("the first request at the backend", Duration.ofSeconds(10), () -> backend.hits.get() == 1);
    HttpResponse<String> repeat = http.send(post.copy().uri(URI.create("http://127.0.0.1:" + b.proxyPort() + "/job/run")).build(),
      HttpResponse.BodyHandlers.ofString());
    assertThat(first.get().statusCode()).isEqualTo(200);
    assertThat(repeat.statusCode()).isEqualTo(200);
    assertThat(repeat.body()).isEqualTo(first.get().body()).isEqualTo("ran once: {\"doc\":1}");
    assertThat(repeat.headers().firstValue("Fairway-Job")).isEqualTo(first.get().headers().firstValue("Fairway-Job"));
    assertThat(backend.hits.get()).isEqualTo(1);

    HttpResponse<String> other = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + b.proxyPort() + "/job/run"))
      .header("Idempotency-Key", "order-7").POST(HttpRequest.BodyPublishers.ofString("{\"doc\":2}")).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(other.statusCode()).as("the same key with another body, through the other node").isEqualTo(422);
    assertThat(backend.hits.get()).isEqualTo(1);
  }

  @Test
  void theJobsOfAKilledNodeAreInterruptedOnTheOthers(Vertx vertx) throws Exception {
    TestUpstream backend = TestUpstream.start(vertx, "backend");
    backend.handler = req -> req.response().setChunked(true).write("started\n"); // and never ends
    int pa = Proxies.portBelowEphemeral();
    int pc = Proxies.portBelowEphemeral();
    Node a = jobNode("dies", upstreams(backend), List.of(pc), pa);
    Node c = jobNode("dies", upstreams(backend), List.of(pa), pc);
    Http.await("2 members", START, () -> clusterSize(a) == 2 && clusterSize(c) == 2);
    for (Node n : List.of(a, c)) Http.await("up", START, () -> "UP".equals(upstream(n, backend.id()).getString("status")));
    HttpResponse<String> accepted = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + a.proxyPort() + "/job/long"))
      .header("Prefer", "respond-async").build(), HttpResponse.BodyHandlers.ofString());
    String id = accepted.headers().firstValue("Fairway-Job").orElseThrow();
    HttpRequest status = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + c.proxyPort() + "/.fairway/jobs/" + id))
      .header("Accept", "application/json").build();
    Http.await("running, as seen through the other node", Duration.ofSeconds(10),
      () -> new JsonObject(send(status).body()).getString("state").equals("running"));

    new ProcessBuilder("kill", "-9", String.valueOf(a.process().pid())).start().waitFor();
    long killedAt = System.nanoTime();
    Http.await("interrupted", Duration.ofSeconds(10), () -> {
      HttpResponse<String> r = send(status);
      return r.statusCode() == 200 && new JsonObject(r.body()).getString("state").equals("interrupted");
    });
    assertThat(Duration.ofNanos(System.nanoTime() - killedAt)).isLessThan(Duration.ofSeconds(10));
    HttpResponse<String> body = send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + c.proxyPort() + "/.fairway/jobs/" + id)).build());
    assertThat(body.statusCode()).isEqualTo(410);
    assertThat(body.body()).contains("left the cluster");
  }

  private HttpResponse<String> send(HttpRequest req) {
    try {
      return http.send(req, HttpResponse.BodyHandlers.ofString());
    } catch (IOException | InterruptedException e) {
      throw new AssertionError(e);
    }
  }

  @Test
  void aFailureSeenByANodeThatDoesNotProbeTheUpstreamEjectsItEverywhere(Vertx vertx) throws Exception {
    TestUpstream flaky = TestUpstream.start(vertx, "flaky");
    flaky.handler = req -> req.connection().close(); // healthy to probes, but every request is cut
    int p1 = Proxies.portBelowEphemeral();
    int p2 = Proxies.portBelowEphemeral();
    // probes every 30 s: only the failure can take it out within this test
    JsonObject slowProbes = new JsonObject().put("health", new JsonObject().put("path", "/health").put("interval", "30s")
      .put("max-fails", 1).put("fail-timeout", "30s"));
    Node one = start("passive", upstreams(flaky), List.of(p2), p1, slowProbes);
    Node two = start("passive", upstreams(flaky), List.of(p1), p2, slowProbes);
    Http.await("2 members", START, () -> clusterSize(one) == 2 && clusterSize(two) == 2);
    for (Node n : List.of(one, two)) Http.await("up", START, () -> "UP".equals(upstream(n, flaky.id()).getString("status")));
    Node prober = probes(one).contains(flaky.id()) ? one : two;
    Node other = prober == one ? two : one;
    assertThat(probes(other)).doesNotContain(flaky.id());

    HttpResponse<String> cut = send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + other.proxyPort() + "/x")).build());
    assertThat(cut.statusCode()).isEqualTo(502);
    for (Node n : List.of(prober, other)) {
      Http.await("ejected, as seen on the node on " + n.clusterPort(), Duration.ofSeconds(5),
        () -> "DOWN".equals(upstream(n, flaky.id()).getString("status")));
    }
    assertThat(upstream(other, flaky.id()).getString("reason")).contains("ejected");
  }

  /** The upstreams this node probes, as it says of itself. */
  private List<String> probes(Node node) {
    return admin(node, "GET", "/cluster", null).getJsonArray("members").stream().map(JsonObject.class::cast)
      .filter(m -> m.getBoolean("self", false)).findFirst().orElseThrow()
      .getJsonArray("probes").stream().map(String::valueOf).toList();
  }

  @Test
  void nodesWithDifferentClusterNamesNeverJoin(Vertx vertx) throws IOException {
    TestUpstream a = TestUpstream.start(vertx, "a");
    int p1 = Proxies.portBelowEphemeral();
    int p2 = Proxies.portBelowEphemeral();
    Node one = start("blue", upstreams(a), List.of(p2), p1, new JsonObject());
    one.process().awaitOutput("no other node answered within cluster.join-timeout (3s); running alone until one joins (members 127.0.0.1:" + p2 + ")", START);
    Node two = start("green", upstreams(a), List.of(p1), p2, new JsonObject());
    assertThat(clusterSize(one)).isEqualTo(1);
    assertThat(clusterSize(two)).isEqualTo(1);
    assertThat(admin(one, "GET", "/cluster", null).getString("name")).isEqualTo("blue");
  }

  @Test
  void requiredMembersThatNeverAnswerStopTheStartNamingThem(Vertx vertx) throws IOException {
    TestUpstream a = TestUpstream.start(vertx, "a");
    int absent = Proxies.portBelowEphemeral();
    JsonObject config = new JsonObject()
      .put("listen", new JsonObject().put("host", "127.0.0.1").put("port", Proxies.portBelowEphemeral()))
      .put("admin", new JsonObject().put("port", Proxies.portBelowEphemeral()))
      .put("upstreams", upstreams(a)).put("access-log", "off")
      .put("cluster", new JsonObject().put("host", "127.0.0.1").put("port", Proxies.portBelowEphemeral())
        .put("members", "127.0.0.1:" + absent).put("require-members", 2).put("join-timeout", "2s"));
    Path file = Files.writeString(dir.resolve("alone.yaml"), config.encode());
    FairwayProcess p = FairwayProcess.start("--config", file.toString());
    nodes.add(new Node(p, 0, 0, 0));
    assertThat(p.exitCode(START)).isEqualTo(1);
    assertThat(p.stderr()).contains("cluster.require-members: 2 node(s) required, but 1 joined").contains("127.0.0.1:" + absent);
  }

  @Test
  void aMalformedMemberListIsAUsageError() {
    FairwayProcess p = FairwayProcess.start("-u", "127.0.0.1:5000", "--cluster-members", "10.0.0.5,10.0.0.6:99999");
    nodes.add(new Node(p, 0, 0, 0));
    assertThat(p.exitCode(START)).isEqualTo(2);
    assertThat(p.stderr()).contains("fairway: --cluster-members: 10.0.0.6:99999 (expected: host[:port] with a port from 1 to 65535)");
  }
}
