package dev.fairway.jobs;

import dev.fairway.Fairway;
import dev.fairway.config.ConfigException;
import dev.fairway.config.FairwayOptions;
import dev.fairway.support.FairwayTest;
import dev.fairway.support.Http;
import dev.fairway.support.Proxies;
import dev.fairway.support.TestUpstream;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Long jobs end to end: a real upstream, Fairway with two proxy instances, real clients and a real spool folder. */
class JobsTest extends FairwayTest {

  private static final Duration WAIT = Duration.ofSeconds(10);

  @TempDir
  Path spool;
  private TestUpstream upstream;

  @BeforeEach
  void setUp(Vertx vertx) {
    upstream = TestUpstream.start(vertx, "up");
  }

  private FairwayOptions jobOptions() {
    FairwayOptions o = Proxies.options(upstream);
    o.getProcess().setInstances(2); // a resume may land on the other instance's event loop
    o.getJobs().setEnabled(true).setDir(spool);
    return o;
  }

  private Fairway startJobs() {
    fairway = Proxies.start(jobOptions());
    return fairway;
  }

  private RequestOptions to(HttpMethod method, String uri) {
    return new RequestOptions().setMethod(method).setHost("127.0.0.1").setPort(fairway.proxyPort()).setURI(uri);
  }

  private Http.Reply send(RequestOptions options, String body) {
    try {
      return Http.send(client, options, body).await(10, TimeUnit.SECONDS);
    } catch (java.util.concurrent.TimeoutException e) {
      throw new AssertionError("no answer within 10 s to " + options.getMethod() + " " + options.getURI());
    }
  }

  private JsonObject status(String id, String authorization) {
    RequestOptions o = to(HttpMethod.GET, "/.fairway/jobs/" + id).putHeader("Accept", "application/json");
    if (authorization != null) o.putHeader("Authorization", authorization);
    Http.Reply reply = send(o, null);
    assertThat(reply.status()).as(reply.body()).isEqualTo(200);
    return new JsonObject(reply.body());
  }

  private void awaitState(String id, String state) {
    Http.await("job " + id + " " + state, WAIT, () -> status(id, null).getString("state").equals(state));
  }

  /** Streams {@code chunks} times the same 64 KiB of seeded random bytes, with back-pressure, as Content-Length. */
  private static void streamPattern(HttpServerResponse resp, Buffer pattern, int chunks) {
    resp.putHeader("Content-Length", String.valueOf((long) pattern.length() * chunks));
    int[] left = {chunks};
    Runnable[] pump = new Runnable[1];
    pump[0] = () -> {
      while (left[0] > 0 && !resp.writeQueueFull()) {
        left[0]--;
        resp.write(pattern);
      }
      if (left[0] == 0) resp.end();
      else resp.drainHandler(v -> {
        resp.drainHandler(null); // it stays set otherwise, and would run again after the end
        pump[0].run();
      });
    };
    pump[0].run();
  }

  private static Buffer pattern() {
    byte[] bytes = new byte[64 * 1024];
    new Random(42).nextBytes(bytes);
    return Buffer.buffer(bytes);
  }

  @Test
  void aDownloadCutAt50MiBResumesByteExactWithRange() throws Exception {
    Buffer pattern = pattern();
    int chunks = 200 * 16; // 200 MiB
    upstream.handler = req -> streamPattern(req.response(), pattern, chunks);
    startJobs();
    MessageDigest expected = MessageDigest.getInstance("SHA-256");
    for (int i = 0; i < chunks; i++) expected.update(pattern.getBytes());

    MessageDigest got = MessageDigest.getInstance("SHA-256");
    AtomicLong received = new AtomicLong();
    Promise<String> cut = Promise.promise();
    HttpClientRequest first = client.request(to(HttpMethod.GET, "/big")).await();
    first.send().onSuccess(resp -> resp.handler(b -> {
      if (cut.future().isComplete()) return;
      got.update(b.getBytes());
      if (received.addAndGet(b.length()) >= 50L << 20) {
        cut.complete(resp.getHeader("Fairway-Job"));
        first.connection().close();
      }
    }));
    String id = cut.future().await(30, TimeUnit.SECONDS);
    assertThat(id).hasSize(22);

    Promise<Void> ended = Promise.promise();
    // the handlers are set as the response arrives: a chunk that came before them would be lost
    HttpClientResponse rest = client.request(to(HttpMethod.GET, "/.fairway/jobs/" + id)
        .putHeader("Range", "bytes=" + received.get() + "-")).compose(HttpClientRequest::send)
      .onSuccess(r -> {
        r.handler(b -> got.update(b.getBytes()));
        r.endHandler(v -> ended.complete());
        r.exceptionHandler(ended::tryFail);
      }).await(10, TimeUnit.SECONDS);
    assertThat(rest.statusCode()).isEqualTo(206);
    assertThat(rest.getHeader("Content-Range")).startsWith("bytes " + received.get() + "-");
    ended.future().await(60, TimeUnit.SECONDS);
    assertThat(HexFormat.of().formatHex(got.digest())).isEqualTo(HexFormat.of().formatHex(expected.digest()));
    assertThat(upstream.hits.get()).isEqualTo(1);
  }

  /** Events as a client parses them: data and id of each, from text cut anywhere. */
  private static final class EventReader {
    final List<String> data = new ArrayList<>();
    final List<String> ids = new ArrayList<>();
    private final StringBuilder pending = new StringBuilder();

    void feed(Buffer b) {
      pending.append(b.toString());
      int end;
      while ((end = pending.indexOf("\n\n")) >= 0) {
        String event = pending.substring(0, end);
        pending.delete(0, end + 2);
        String d = null;
        String id = null;
        for (String line : event.split("\n")) {
          if (line.startsWith("data: ")) d = line.substring(6);
          if (line.startsWith("id: ")) id = line.substring(4);
        }
        if (d != null) {
          data.add(d);
          ids.add(id);
        }
      }
    }
  }

  @Test
  void anEventStreamCutThreeTimesAndResumedWithLastEventIdMissesNoEventAndRepeatsNone() throws Exception {
    int events = 40;
    upstream.handler = req -> {
      HttpServerResponse resp = req.response().setChunked(true).putHeader("Content-Type", "text/event-stream");
      AtomicInteger n = new AtomicInteger();
      vertx.setPeriodic(20, timer -> {
        int i = n.getAndIncrement();
        if (i < events) {
          resp.write("data: " + i + "\n"); // an event in two writes: the id goes before its end, not inside
          resp.write("\n");
        } else {
          vertx.cancelTimer(timer);
          resp.end();
        }
      });
    };
    startJobs();
    EventReader reader = new EventReader();
    String id = null;
    for (int cut = 0; cut <= 3; cut++) {
      RequestOptions o = id == null ? to(HttpMethod.GET, "/events")
        : to(HttpMethod.GET, "/.fairway/jobs/" + id).putHeader("Last-Event-ID", reader.ids.get(reader.ids.size() - 1));
      HttpClientRequest req = client.request(o).await();
      int stopAt = cut < 3 ? reader.data.size() + 5 : Integer.MAX_VALUE;
      Promise<Void> done = Promise.promise();
      HttpClientResponse resp = req.send().onSuccess(r -> {
        r.handler(b -> {
          if (done.future().isComplete()) return;
          reader.feed(b);
          if (reader.data.size() >= stopAt) {
            done.tryComplete();
            req.connection().close();
          }
        });
        r.endHandler(v -> done.tryComplete());
      }).await(10, TimeUnit.SECONDS);
      if (id == null) id = resp.getHeader("Fairway-Job");
      done.future().await(10, TimeUnit.SECONDS);
    }
    List<String> expected = new ArrayList<>();
    List<String> expectedIds = new ArrayList<>();
    for (int i = 0; i < events; i++) {
      expected.add(String.valueOf(i));
      expectedIds.add(String.valueOf(i + 1));
    }
    assertThat(reader.data).as("ids %s", reader.ids).isEqualTo(expected);
    assertThat(reader.ids).isEqualTo(expectedIds);
  }

  @Test
  void fiveConcurrentRequestsWithOneIdempotencyKeyRunOnceAndAllGetTheSameAnswer() throws Exception {
    upstream.handler = req -> req.body().onSuccess(body -> {
      HttpServerResponse resp = req.response().setChunked(true);
      resp.write("result for " + body + " #" + upstream.hits.get() + "\n");
      vertx.setTimer(300, t -> resp.end("done\n"));
    });
    startJobs();
    RequestOptions post = to(HttpMethod.POST, "/work").putHeader("Idempotency-Key", "k-1");
    List<Future<Http.Reply>> replies = new ArrayList<>();
    for (int i = 0; i < 5; i++) replies.add(Http.send(client, post, "doc"));
    Future.all(replies).await(10, TimeUnit.SECONDS);
    for (Future<Http.Reply> r : replies) {
      assertThat(r.result().status()).isEqualTo(200);
      assertThat(r.result().body()).isEqualTo("result for doc #1\ndone\n");
    }
    assertThat(upstream.hits.get()).isEqualTo(1);

    Http.Reply replay = send(post, "doc");
    assertThat(replay.body()).isEqualTo("result for doc #1\ndone\n");
    assertThat(replay.headers().get("Idempotent-Replayed")).isEqualTo("true");
    assertThat(upstream.hits.get()).isEqualTo(1);

    Http.Reply conflict = send(post, "another doc");
    assertThat(conflict.status()).isEqualTo(422);
    assertThat(conflict.headers().get("Content-Type")).isEqualTo("application/problem+json");
    assertThat(new JsonObject(conflict.body()).getInteger("status")).isEqualTo(422);
    assertThat(upstream.hits.get()).isEqualTo(1);
    assertThat(fairway.registry().get("fairway.job.idempotent.replays").counter().count()).isEqualTo(5.0);
    assertThat(fairway.registry().get("fairway.job.idempotency.conflicts").counter().count()).isEqualTo(1.0);
  }

  @Test
  void respondAsyncAnswers202WithTheJobsUrlAndTheJobRunsToTheEnd() throws Exception {
    upstream.handler = req -> req.body().onSuccess(body -> vertx.setTimer(200, t -> req.response().end("processed " + body)));
    startJobs();
    Http.Reply accepted = send(to(HttpMethod.POST, "/process").putHeader("Prefer", "respond-async"), "report.pdf");
    assertThat(accepted.status()).isEqualTo(202);
    assertThat(accepted.headers().get("Preference-Applied")).isEqualTo("respond-async");
    String location = accepted.headers().get("Location");
    assertThat(location).startsWith("/.fairway/jobs/");
    String id = location.substring("/.fairway/jobs/".length());
    awaitState(id, "done");
    assertThat(status(id, null).getInteger("status")).isEqualTo(200);
    Http.Reply result = send(to(HttpMethod.GET, location), null);
    assertThat(result.status()).isEqualTo(200);
    assertThat(result.body()).isEqualTo("processed report.pdf");
    assertThat(result.headers().get("Fairway-Job-State")).isEqualTo("done");
  }

  @Test
  void deleteCancelsTheJobAndTheUpstreamSeesItsClientGo() throws Exception {
    Promise<Void> upstreamSawClose = Promise.promise();
    upstream.handler = req -> {
      req.response().setChunked(true).write("working...\n");
      req.response().closeHandler(v -> upstreamSawClose.tryComplete());
    };
    startJobs();
    Http.Reply accepted = send(to(HttpMethod.GET, "/long").putHeader("Prefer", "respond-async"), null);
    String location = accepted.headers().get("Location");
    String id = location.substring(location.lastIndexOf('/') + 1);
    awaitState(id, "running");
    Http.Reply cancelled = send(to(HttpMethod.DELETE, location), null);
    assertThat(cancelled.status()).isEqualTo(200);
    assertThat(new JsonObject(cancelled.body()).getString("state")).isEqualTo("cancelled");
    upstreamSawClose.future().await(5, TimeUnit.SECONDS);
    assertThat(send(to(HttpMethod.DELETE, location), null).status()).isEqualTo(409);
  }

  @Test
  void anotherCallersAuthorizationFindsNoJob() throws Exception {
    startJobs();
    Http.Reply created = send(to(HttpMethod.GET, "/x").putHeader("Authorization", "Bearer alice"), null);
    String id = created.headers().get("Fairway-Job");
    awaitStateAs(id, "Bearer alice", "done");
    RequestOptions asBob = to(HttpMethod.GET, "/.fairway/jobs/" + id).putHeader("Authorization", "Bearer bob");
    assertThat(send(asBob, null).status()).isEqualTo(404);
    assertThat(send(to(HttpMethod.GET, "/.fairway/jobs/" + id), null).status()).isEqualTo(404); // no Authorization
    Http.Reply asAlice = send(to(HttpMethod.GET, "/.fairway/jobs/" + id).putHeader("Authorization", "Bearer alice"), null);
    assertThat(asAlice.status()).isEqualTo(200);
    assertThat(asAlice.body()).isEqualTo("up");
    assertThat(send(to(HttpMethod.GET, "/.fairway/jobs/not-an-id"), null).status()).isEqualTo(400);
    assertThat(send(to(HttpMethod.GET, "/.fairway/jobs/AAAAAAAAAAAAAAAAAAAAAA"), null).status()).isEqualTo(404);
  }

  private void awaitStateAs(String id, String authorization, String state) {
    Http.await("job " + id + " " + state, WAIT, () -> status(id, authorization).getString("state").equals(state));
  }

  @Test
  void aClientThatGoesAwayAfterSendingLeavesTheJobRunningToTheEnd() throws Exception {
    Promise<Void> clientGone = Promise.promise();
    Promise<Void> upstreamFinished = Promise.promise();
    upstream.handler = req -> req.body().onSuccess(body -> {
      HttpServerResponse resp = req.response().setChunked(true);
      resp.write("part 1;");
      clientGone.future().onComplete(v -> vertx.setTimer(100, t -> resp.end("part 2 of " + body).onComplete(ar -> {
        if (ar.succeeded()) upstreamFinished.complete();
      })));
    });
    startJobs();
    HttpClientRequest req = client.request(to(HttpMethod.POST, "/long")).await();
    HttpClientResponse resp = req.send("doc").await(10, TimeUnit.SECONDS);
    String id = resp.getHeader("Fairway-Job");
    req.connection().close();
    awaitState(id, "running");
    clientGone.complete();
    upstreamFinished.future().await(5, TimeUnit.SECONDS);
    awaitState(id, "done");
    assertThat(send(to(HttpMethod.GET, "/.fairway/jobs/" + id), null).body()).isEqualTo("part 1;part 2 of doc");
  }

  @Test
  void aFinishedJobSurvivesARestartAndOneRunningAtStopIsInterrupted() throws Exception {
    upstream.handler = req -> {
      if (req.path().equals("/quick")) {
        req.response().end("kept across restarts");
      } else {
        req.response().setChunked(true).write("first half;"); // and never the rest
      }
    };
    FairwayOptions options = jobOptions();
    options.getProcess().setShutdownTimeoutMillis(300);
    fairway = Proxies.start(options);
    String done = send(to(HttpMethod.GET, "/quick"), null).headers().get("Fairway-Job");
    awaitState(done, "done");
    Http.Reply running = send(to(HttpMethod.GET, "/slow").putHeader("Prefer", "respond-async"), null);
    String interrupted = running.headers().get("Fairway-Job");
    Http.await("first half spooled", WAIT, () -> status(interrupted, null).getLong("bytes") == 11);
    fairway.drainAndClose().await(10, TimeUnit.SECONDS);

    fairway = Proxies.start(jobOptions());
    assertThat(send(to(HttpMethod.GET, "/.fairway/jobs/" + done), null).body()).isEqualTo("kept across restarts");
    assertThat(status(interrupted, null).getString("state")).isEqualTo("interrupted");
    Http.Reply partial = send(to(HttpMethod.GET, "/.fairway/jobs/" + interrupted), null);
    assertThat(partial.body()).isEqualTo("first half;");
    assertThat(partial.headers().get("Fairway-Job-State")).isEqualTo("interrupted");
    assertThat(Files.getPosixFilePermissions(spool.resolve(done + ".body")))
      .isEqualTo(Set.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE));
  }

  @Test
  void aSpoolOverMaxSizeTruncatesTheJobButNotTheLiveResponse() throws Exception {
    Buffer pattern = Buffer.buffer("x".repeat(64 * 1024));
    upstream.handler = req -> streamPattern(req.response(), pattern, 4); // 256 KiB
    FairwayOptions options = jobOptions();
    options.getJobs().setMaxSize(100_000);
    fairway = Proxies.start(options);
    Http.Reply live = send(to(HttpMethod.GET, "/big"), null);
    assertThat(live.body()).as("the live client gets it all").isEqualTo("x".repeat(256 * 1024));
    String id = live.headers().get("Fairway-Job");
    awaitState(id, "truncated");
    assertThat(status(id, null).getLong("bytes")).as("kept up to max-size exactly").isEqualTo(100_000);
    assertThat(status(id, null).getBoolean("truncated")).isTrue();
    Http.Reply past = send(to(HttpMethod.GET, "/.fairway/jobs/" + id).putHeader("Range", "bytes=100000-"), null);
    assertThat(past.status()).isEqualTo(416);
    assertThat(past.body()).contains("truncated");
    assertThat(send(to(HttpMethod.GET, "/.fairway/jobs/" + id).putHeader("Range", "bytes=x-"), null).status()).isEqualTo(400);
  }

  @Test
  void pastRetentionAJobIsGoneWith410AndItsKeyRunsAgain() throws Exception {
    FairwayOptions options = jobOptions();
    options.getJobs().setRetentionMillis(300);
    fairway = Proxies.start(options);
    RequestOptions keyed = to(HttpMethod.POST, "/once").putHeader("Idempotency-Key", "k");
    String id = send(keyed, "x").headers().get("Fairway-Job");
    Http.await("410 Gone", WAIT, () -> send(to(HttpMethod.GET, "/.fairway/jobs/" + id), null).status() == 410);
    assertThat(spool.resolve(id + ".body")).doesNotExist();
    assertThat(send(keyed, "x").headers().get("Idempotent-Replayed")).isNull();
    assertThat(upstream.hits.get()).isEqualTo(2);
  }

  /**
   * A reader may come as soon as a job has its response head, before its spool file is open, and again as its
   * retention ends: it gets the response or 410, never a cut connection (a race, so many jobs, each read in a loop).
   */
  @Test
  void readersRacingAJobsSpoolAndItsExpiryGetTheResponseOr410NeverACutConnection() throws Exception {
    upstream.handler = req -> req.body().onSuccess(b -> req.response().end("y".repeat(20_000)));
    FairwayOptions options = jobOptions();
    options.getJobs().setRetentionMillis(100);
    fairway = Proxies.start(options);
    List<String> cut = new ArrayList<>();
    for (int j = 0; j < 30; j++) {
      String id = send(to(HttpMethod.POST, "/r"), "x").headers().get("Fairway-Job");
      long deadline = System.nanoTime() + WAIT.toNanos();
      int status = 0;
      while (status != 410) { // read back to back, from the first moment on, until it has expired
        assertThat(System.nanoTime()).as("job " + id + " expired within " + WAIT).isLessThan(deadline);
        try {
          Http.Reply r = send(to(HttpMethod.GET, "/.fairway/jobs/" + id), null);
          status = r.status();
          assertThat(status).as(r.body()).isIn(200, 410);
          if (status == 200) assertThat(r.body()).hasSize(20_000);
        } catch (io.vertx.core.VertxException e) {
          cut.add(id + ": " + e);
        }
      }
    }
    assertThat(cut).isEmpty();
    Http.await("no spool file left of the expired jobs", WAIT, () -> {
      try (var files = Files.list(spool)) {
        return files.noneMatch(f -> f.toString().endsWith(".body"));
      } catch (java.io.IOException e) {
        return false;
      }
    });
  }

  @Test
  void aKeyWhoseRequestNeverReachedAnUpstreamIsFreeForTheRetry() throws Exception {
    FairwayOptions options = jobOptions();
    options.getQueue().setSize(0);
    options.getUpstreams().get(0).setMaxConns(1);
    upstream.handler = req -> vertx.setTimer(300, t -> req.response().end("slow"));
    fairway = Proxies.start(options);
    Future<Http.Reply> busy = Http.send(client, to(HttpMethod.GET, "/busy"), null);
    Http.await("the upstream busy", WAIT, () -> upstream.hits.get() == 1);
    RequestOptions keyed = to(HttpMethod.POST, "/once").putHeader("Idempotency-Key", "k");
    assertThat(send(keyed, "x").status()).as("queue full: never sent").isEqualTo(503);
    busy.await(10, TimeUnit.SECONDS);
    Http.Reply retry = send(keyed, "x");
    assertThat(retry.status()).isEqualTo(200);
    assertThat(retry.headers().get("Idempotent-Replayed")).isNull();
  }

  @Test
  void onDisconnectCancelStopsTheUpstreamRequestWhenTheClientGoes() throws Exception {
    Promise<Void> upstreamSawClose = Promise.promise();
    upstream.handler = req -> {
      req.response().setChunked(true).write("working...\n");
      req.response().closeHandler(v -> upstreamSawClose.tryComplete());
    };
    FairwayOptions options = jobOptions();
    options.getJobs().setKeepOnDisconnect(false);
    fairway = Proxies.start(options);
    HttpClientRequest req = client.request(to(HttpMethod.GET, "/long")).await();
    String id = req.send().await(10, TimeUnit.SECONDS).getHeader("Fairway-Job");
    req.connection().close();
    upstreamSawClose.future().await(5, TimeUnit.SECONDS);
    awaitState(id, "cancelled");
  }

  @Test
  void theAdminApiListsJobsAndCancelsOne() throws Exception {
    upstream.handler = req -> req.response().setChunked(true).write("working...\n");
    FairwayOptions options = jobOptions();
    options.getAdmin().setToken("secret");
    fairway = Proxies.start(options);
    String id = send(to(HttpMethod.GET, "/long").putHeader("Prefer", "respond-async"), null).headers().get("Fairway-Job");
    awaitState(id, "running");
    RequestOptions list = new RequestOptions().setHost("127.0.0.1").setPort(fairway.adminPort()).setURI("/admin/jobs")
      .putHeader("Authorization", "Bearer secret");
    JsonObject jobs = new JsonObject(send(list, null).body());
    assertThat(jobs.getJsonArray("jobs").getJsonObject(0).getString("id")).isEqualTo(id);
    Http.Reply cancel = send(new RequestOptions(list).setMethod(HttpMethod.DELETE).setURI("/admin/jobs/" + id), null);
    assertThat(cancel.status()).isEqualTo(202);
    awaitState(id, "cancelled");
    assertThat(Http.get(client, fairway.adminPort(), "/metrics").await(10, TimeUnit.SECONDS).body())
      .contains("fairway_jobs{state=\"cancelled\"} 1.0");
  }

  @Test
  void aQueuedJobsStatusSaysWhereItStands() throws Exception {
    java.util.Queue<io.vertx.core.http.HttpServerRequest> held = new java.util.concurrent.ConcurrentLinkedQueue<>();
    upstream.handler = held::add;
    FairwayOptions options = jobOptions();
    options.getUpstreams().get(0).setMaxConns(1);
    fairway = Proxies.start(options);
    send(to(HttpMethod.GET, "/first").putHeader("Prefer", "respond-async"), null);
    Http.await("the slot taken", WAIT, () -> held.size() == 1);
    String id = send(to(HttpMethod.GET, "/second").putHeader("Prefer", "respond-async"), null).headers().get("Fairway-Job");
    JsonObject queued = status(id, null);
    assertThat(queued.getString("state")).isEqualTo("queued");
    assertThat(queued.getInteger("position")).isEqualTo(1);
    assertThat(queued.containsKey("eta_seconds")).as("null until ten requests finished").isTrue();
    held.poll().response().end("done");
    awaitState(id, "running");
    assertThat(status(id, null).containsKey("position")).isFalse();
  }

  @Test
  void aJobThatWaitedWithQueueEventsSpoolsTheUpstreamsEventsForItsReaders() throws Exception {
    java.util.Queue<io.vertx.core.http.HttpServerRequest> held = new java.util.concurrent.ConcurrentLinkedQueue<>();
    upstream.handler = req -> {
      if (req.path().equals("/busy")) held.add(req);
      else req.response().putHeader("Content-Type", "text/event-stream").end("data: result\n\n");
    };
    FairwayOptions options = jobOptions();
    options.getUpstreams().get(0).setMaxConns(1);
    options.setRoutes(List.of(new dev.fairway.config.RouteOptions("/events", new dev.fairway.config.TimeoutOptions())
      .setQueueEvents(true, 200)));
    fairway = Proxies.start(options);
    Http.send(client, to(HttpMethod.GET, "/busy"), null);
    Http.await("the slot taken", WAIT, () -> held.size() == 1);
    Future<Http.Reply> live = Http.send(client, to(HttpMethod.GET, "/events").putHeader("Accept", "text/event-stream"), null);
    Http.await("waiting", WAIT, () -> fairway.registry().get("fairway.queue.length").gauge().value() == 1);
    held.poll().response().end("done");
    Http.Reply reply = live.await(10, TimeUnit.SECONDS);
    assertThat(reply.body()).startsWith("event: queue\n").endsWith("data: result\nid: 1\n\n");
    String id = reply.headers().get("Fairway-Job");
    awaitState(id, "done");
    assertThat(send(to(HttpMethod.GET, "/.fairway/jobs/" + id), null).body()).isEqualTo("data: result\nid: 1\n\n");
  }

  @Test
  void aSpoolFolderThatCannotBeCreatedIsAConfigErrorNamingJobsDir() throws Exception {
    Path file = Files.createFile(spool.resolve("a-file"));
    FairwayOptions options = jobOptions();
    options.getJobs().setDir(file.resolve("jobs"));
    assertThatThrownBy(() -> Fairway.start(options.validate(), false).await(10, TimeUnit.SECONDS))
      .isInstanceOf(ConfigException.class).hasMessageContaining("jobs.dir");
  }
}
