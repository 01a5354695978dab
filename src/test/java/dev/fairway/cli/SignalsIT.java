package dev.fairway.cli;

import dev.fairway.support.FairwayProcess;
import dev.fairway.support.Http;
import dev.fairway.support.Proxies;
import dev.fairway.support.TestUpstream;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** Stop and reload signals on the fat jar, as systemd or a user sends them. */
@ExtendWith(VertxExtension.class)
class SignalsIT {

  private static boolean refuses(int port) {
    try (Socket ignored = new Socket("127.0.0.1", port)) {
      return false;
    } catch (IOException e) {
      return true;
    }
  }

  @Test
  void sigtermLetsTheInFlightRequestFinishThenExitsZero(Vertx vertx, @TempDir Path dir) throws Exception {
    TestUpstream backend = TestUpstream.start(vertx, "backend");
    Promise<Void> received = Promise.promise();
    backend.handler = req -> {
      received.tryComplete();
      vertx.setTimer(5_000, id -> req.response().end("long job done")); // a long LLM job
    };
    int port = Proxies.freePort();
    Path pidFile = dir.resolve("fairway.pid");
    FairwayProcess p = FairwayProcess.start("-u", backend.id(), "-p", String.valueOf(port), "--admin-port",
      String.valueOf(Proxies.freePort()), "--health-path", "/health", "--pid-file", pidFile.toString());
    p.awaitOutput("proxying http://", Duration.ofSeconds(30));
    assertThat(Files.readString(pidFile).trim()).isEqualTo(String.valueOf(p.pid()));

    HttpClient client = vertx.createHttpClient();
    Future<Http.Reply> inFlight = Http.get(client, port, "/job");
    received.future().timeout(10, TimeUnit.SECONDS).await();
    p.signal("TERM");
    p.awaitOutput("stopping: accepting no new connections", Duration.ofSeconds(10));
    // the listening socket closes as the stop begins, asynchronously: poll for it, well before the job ends
    Http.await("the port to refuse new connections", Duration.ofSeconds(3), () -> refuses(port));
    assertThat(inFlight.isComplete()).as("the long request is still in flight while new connections are refused").isFalse();

    Http.Reply reply = inFlight.toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);
    assertThat(reply.status()).isEqualTo(200);
    assertThat(reply.body()).isEqualTo("long job done");
    assertThat(p.exitCode(Duration.ofSeconds(30))).isZero();
    assertThat(p.stderr()).contains("draining: 1 request(s) in flight");
    assertThat(pidFile).doesNotExist();
  }

  @Test
  void sigtermDuringAJobLeavesItInterruptedAndTheNextStartReplaysWhatArrived(Vertx vertx, @TempDir Path dir) throws Exception {
    String location = jobCutBy("TERM", vertx, dir, p -> {
      assertThat(p.exitCode(Duration.ofSeconds(30))).isZero();
      assertThat(p.stderr()).contains("jobs: 1 job(s) still running at stop are interrupted");
    });
    assertInterruptedAfterRestart(vertx, dir, location, "");
  }

  @Test
  void aJobLeftRunningByAKilledProcessIsInterruptedAtTheNextStart(Vertx vertx, @TempDir Path dir) throws Exception {
    String location = jobCutBy("KILL", vertx, dir, p -> assertThat(p.exitCode(Duration.ofSeconds(30))).isEqualTo(137));
    assertInterruptedAfterRestart(vertx, dir, location, "1 left running by the last stop and now interrupted");
  }

  private int jobPort;
  private Path jobConfig;

  /** Starts a job whose upstream sends "first half;" and nothing more, then sends the fat jar {@code signal}. */
  private String jobCutBy(String signal, Vertx vertx, Path dir, java.util.function.Consumer<FairwayProcess> afterwards) throws Exception {
    TestUpstream backend = TestUpstream.start(vertx, "backend");
    backend.handler = req -> req.response().setChunked(true).write("first half;"); // and never the rest
    jobPort = Proxies.freePort();
    jobConfig = Files.writeString(dir.resolve("fairway.yaml"), "listen: {host: 127.0.0.1, port: " + jobPort + "}\nadmin: {port: "
      + Proxies.freePort() + "}\nhealth: {path: /health}\nshutdown-timeout: 500ms\nupstreams: [" + backend.id() + "]\n"
      + "jobs: {enabled: true, dir: " + dir.resolve("spool") + "}\n");
    HttpClient client = vertx.createHttpClient();
    try (FairwayProcess p = FairwayProcess.start("-c", jobConfig.toString())) {
      p.awaitOutput("proxying http://", Duration.ofSeconds(30));
      Http.Reply accepted = Http.send(client, new io.vertx.core.http.RequestOptions().setHost("127.0.0.1").setPort(jobPort)
        .setURI("/long").putHeader("Prefer", "respond-async"), null).await();
      assertThat(accepted.status()).isEqualTo(202);
      String location = accepted.headers().get("Location");
      Http.await("the first half spooled", Duration.ofSeconds(10), () -> Http.send(client, new io.vertx.core.http.RequestOptions()
        .setHost("127.0.0.1").setPort(jobPort).setURI(location).putHeader("Accept", "application/json"), null).await().body().contains("\"bytes\":11"));
      Path meta = dir.resolve("spool").resolve(location.substring(location.lastIndexOf('/') + 1) + ".json");
      Http.await("the response head on disk (within a second)", Duration.ofSeconds(10),
        () -> Files.exists(meta) && readQuietly(meta).contains("\"status\":200"));
      p.signal(signal);
      afterwards.accept(p);
      return location;
    }
  }

  private static String readQuietly(Path file) {
    try {
      return Files.readString(file);
    } catch (IOException e) {
      return ""; // being replaced: read it on the next poll
    }
  }

  private void assertInterruptedAfterRestart(Vertx vertx, Path dir, String location, String startLine) throws Exception {
    try (FairwayProcess p = FairwayProcess.start("-c", jobConfig.toString())) {
      p.awaitOutput("proxying http://", Duration.ofSeconds(30));
      assertThat(p.stderr()).contains(startLine);
      Http.Reply replay = Http.get(vertx.createHttpClient(), jobPort, location).await();
      assertThat(replay.body()).isEqualTo("first half;");
      assertThat(replay.headers().get("Fairway-Job-State")).isEqualTo("interrupted");
    }
  }

  @Test
  void sighupReloadsTheConfigFile(Vertx vertx, @TempDir Path dir) throws Exception {
    TestUpstream first = TestUpstream.start(vertx, "first");
    TestUpstream second = TestUpstream.start(vertx, "second");
    int port = Proxies.freePort();
    String base = "listen: {host: 127.0.0.1, port: " + port + "}\nadmin: {port: " + Proxies.freePort()
      + "}\nwatch-config: false\nhealth: {path: /health, interval: 200ms}\nupstreams: [";
    Path file = Files.writeString(dir.resolve("fairway.yaml"), base + first.id() + "]\n");
    try (FairwayProcess p = FairwayProcess.start("-c", file.toString())) {
      p.awaitOutput("proxying http://", Duration.ofSeconds(30));
      HttpClient client = vertx.createHttpClient();
      assertThat(Http.get(client, port, "/x").await().body()).isEqualTo("first");

      Files.writeString(file, base + second.id() + "]\n");
      p.signal("HUP");
      Http.await("traffic on the new upstream", Duration.ofSeconds(10), () -> Http.get(client, port, "/x").await().body().equals("second"));

      Files.writeString(file, base + "nowhere]\n");
      p.signal("HUP");
      p.awaitOutput("config reload (SIGHUP) rejected, the running config stays: upstreams[0]: nowhere", Duration.ofSeconds(10));
      assertThat(Http.get(client, port, "/x").await().body()).isEqualTo("second");
    }
  }

  /** nohup leaves HUP ignored, and the JVM then never handles it: a reload by signal would silently do nothing. */
  @Test
  void startedUnderNohupItSaysThatSighupCannotReload(Vertx vertx) throws Exception {
    TestUpstream backend = TestUpstream.start(vertx, "backend");
    try (FairwayProcess p = FairwayProcess.startUnder("nohup", "-u", backend.id(), "-p", String.valueOf(Proxies.freePort()),
      "--admin-port", String.valueOf(Proxies.freePort()), "--health-path", "/health")) {
      p.awaitOutput("SIGHUP is ignored by this process", Duration.ofSeconds(30));
    }
    try (FairwayProcess p = FairwayProcess.start("-u", backend.id(), "-p", String.valueOf(Proxies.freePort()),
      "--admin-port", String.valueOf(Proxies.freePort()), "--health-path", "/health")) {
      p.awaitOutput("proxying http://", Duration.ofSeconds(30));
      assertThat(p.stderr()).doesNotContain("SIGHUP is ignored");
    }
  }
}
