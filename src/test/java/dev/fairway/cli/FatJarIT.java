package dev.fairway.cli;

import dev.fairway.ops.ClassArchive;
import dev.fairway.ops.JvmDefaults;
import dev.fairway.support.FairwayProcess;
import dev.fairway.support.Http;
import dev.fairway.support.Proxies;
import dev.fairway.support.TestUpstream;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** The fat jar as a user runs it: exit codes, messages, --demo, a config file. */
@ExtendWith(VertxExtension.class)
class FatJarIT {

  private static final Duration EXIT = Duration.ofSeconds(30);
  private HttpClient client;

  @BeforeEach
  void setUp(Vertx vertx) {
    client = vertx.createHttpClient();
  }

  private static void assertUsageError(String expectedMessage, String... args) {
    FairwayProcess p = FairwayProcess.start(args);
    assertThat(p.exitCode(EXIT)).isEqualTo(2);
    assertThat(p.stderr()).contains(expectedMessage);
    assertThat(p.stderr().lines().filter(l -> l.startsWith("fairway: ")).count()).as("one line naming the problem").isEqualTo(1);
  }

  @Test
  void bareJavaJarRunsWithFairwaysJvmFlagsInTheSameProcess() throws IOException {
    try (FairwayProcess p = FairwayProcess.start("-u", "127.0.0.1:9", "-p", "0", "--admin-port", "0")) {
      String flags = String.join(" ", JvmDefaults.flags()); // the same java runs this test and the jar
      assertThat(flags).startsWith("-XX:+UseSerialGC -Xms32m -Xmn16m");
      p.awaitOutput("JVM flags: " + flags + " (", Duration.ofSeconds(30));
      // execv: the PID this test started now runs the JVM with the flags
      String cmdline = Files.readString(Path.of("/proc/" + p.pid() + "/cmdline")).replace('\0', ' ');
      assertThat(cmdline).contains(flags + " -Dfairway.jvm-defaults=on -jar ")
        .endsWith("-u 127.0.0.1:9 -p 0 --admin-port 0 ");
    }
  }

  /**
   * The first graceful stop writes a class-data archive (to $XDG_CACHE_HOME/fairway), the next start maps it, and an
   * archive damaged after it was written is not used (the JVM would refuse to start with it) but recorded anew.
   */
  @Test
  void aClassArchiveIsWrittenAtTheFirstStopUsedAfterAndNeverUsedDamaged(@TempDir Path cache) throws Exception {
    Map<String, String> env = Map.of("XDG_CACHE_HOME", cache.toString(), ClassArchive.ENV_SWITCH, "on");
    String[] args = {"-u", "127.0.0.1:9", "-p", "0", "--admin-port", "0"};
    try (FairwayProcess first = FairwayProcess.startWithEnv(env, args)) {
      first.awaitOutput("proxying http://", Duration.ofSeconds(30));
      assertThat(cmdline(first)).contains("-XX:+RecordDynamicDumpInfo").doesNotContain("SharedArchiveFile");
      first.signal("TERM"); // a graceful stop, whose output is read to the end
      assertThat(first.exitCode(Duration.ofSeconds(30))).isZero();
      assertThat(first.stdout() + first.stderr()).contains("class-data archive written to " + cache.resolve("fairway"));
    }
    Path archive;
    try (var files = Files.list(cache.resolve("fairway"))) {
      archive = files.filter(f -> f.toString().endsWith(".jsa")).findFirst().orElseThrow();
    }
    assertThat(archive.resolveSibling(archive.getFileName() + ".crc")).exists();
    try (FairwayProcess second = FairwayProcess.startWithEnv(env, args)) {
      second.awaitOutput("proxying http://", Duration.ofSeconds(30));
      assertThat(cmdline(second)).contains("-XX:SharedArchiveFile=" + archive).doesNotContain("RecordDynamicDumpInfo");
      assertThat(Files.readString(Path.of("/proc/" + second.pid() + "/maps"))).as("the JVM mapped the archive").contains(archive.toString());
    }
    try (var file = java.nio.channels.FileChannel.open(archive, java.nio.file.StandardOpenOption.WRITE)) {
      file.truncate(file.size() / 2); // as a copy cut short would leave it
    }
    try (FairwayProcess third = FairwayProcess.startWithEnv(env, args)) {
      third.awaitOutput("proxying http://", Duration.ofSeconds(30));
      assertThat(cmdline(third)).contains("-XX:+RecordDynamicDumpInfo").doesNotContain("SharedArchiveFile");
    }
  }

  private static String cmdline(FairwayProcess p) throws IOException {
    return Files.readString(Path.of("/proc/" + p.pid() + "/cmdline")).replace('\0', ' ');
  }

  @Test
  void aJvmFlagLeavesTheJvmAsGiven() throws IOException {
    try (FairwayProcess p = FairwayProcess.start(java.util.List.of("-Xmx64m"), "-u", "127.0.0.1:9", "-p", "0", "--admin-port", "0")) {
      p.awaitOutput("proxying http://", Duration.ofSeconds(30));
      assertThat(Files.readString(Path.of("/proc/" + p.pid() + "/cmdline"))).doesNotContain("UseSerialGC");
      assertThat(p.stdout() + p.stderr()).doesNotContain("JVM flags:");
    }
  }

  @Test
  void unknownFlagExitsWith2() {
    assertUsageError("fairway: Unknown option: '--bogus'", "--bogus");
  }

  @Test
  void badPortExitsWith2() {
    assertUsageError("fairway: --port: 70000 (expected: a port from 0 to 65535)", "-u", "127.0.0.1:5000", "-p", "70000");
    assertUsageError("fairway: Invalid value for option '--port': 'http'", "-u", "127.0.0.1:5000", "-p", "http");
  }

  @Test
  void malformedUpstreamExitsWith2() {
    assertUsageError("fairway: --upstream: localhost (expected: HOST:PORT with a port from 1 to 65535", "-u", "localhost");
  }

  @Test
  void unknownStrategyExitsWith2() {
    assertUsageError("fairway: --strategy: fastest (expected: one of round-robin, least-conn, ip-hash, hash, p2c, random)",
      "-u", "127.0.0.1:5000", "-s", "fastest");
    assertUsageError("fairway: hash-key: missing (expected: header:NAME or cookie:NAME with strategy hash (--hash-key))",
      "-u", "127.0.0.1:5000", "-s", "hash");
    assertUsageError("fairway: --upstream: 127.0.0.1:5000,max-conns=-1 (expected: max-conns=N", "-u", "127.0.0.1:5000,max-conns=-1");
  }

  @Test
  void badAccessLogSizeExitsWith2() {
    assertUsageError("fairway: --access-log-max-size: 10 (expected: a size of at least 1k, such as 100m)",
      "-u", "127.0.0.1:5000", "--access-log-max-size", "10");
    assertUsageError("fairway: --access-log-max-size: big (expected: a size in bytes such as 1048576, 512k, 100m or 2g",
      "-u", "127.0.0.1:5000", "--access-log-max-size", "big");
  }

  @Test
  void accessLogThatCannotBeWrittenExitsWith2(@TempDir Path dir) throws IOException {
    Path notADirectory = Files.writeString(dir.resolve("plain-file"), "");
    String log = notADirectory.resolve("access.log").toString();
    assertUsageError("fairway: access-log: " + log + " (expected: stdout, off, or a file Fairway can write",
      "-u", "127.0.0.1:5000", "-p", "0", "--admin-port", "0", "--access-log", log);
  }

  @Test
  void aJobsFolderThatCannotBeCreatedExitsWith2(@TempDir Path dir) throws IOException {
    Path notADirectory = Files.writeString(dir.resolve("plain-file"), "");
    Path config = Files.writeString(dir.resolve("jobs.yaml"), "upstreams: [127.0.0.1:5000]\nlisten: {port: 0}\nadmin: {port: 0}\n"
      + "jobs: {dir: " + notADirectory.resolve("spool") + "}\n");
    assertUsageError("fairway: jobs.dir: " + notADirectory.resolve("spool") + " (expected: a folder Fairway can create and write",
      "-c", config.toString(), "--jobs");
  }

  @Test
  void noUpstreamExitsWith2() {
    assertUsageError("fairway: upstreams: none (expected: at least one upstream", "-p", "8080");
  }

  @Test
  void invalidConfigFilesExitWith2NamingTheKey(@TempDir Path dir) throws IOException {
    Path unknown = Files.writeString(dir.resolve("unknown.yaml"), "listen:\n  prot: 8080\nupstreams: [127.0.0.1:5000]\n");
    assertUsageError("fairway: listen.prot: unknown key (expected: one of [host, port])", "-c", unknown.toString());
    Path negative = Files.writeString(dir.resolve("negative.yaml"), "read-timeout: -5s\nupstreams: [127.0.0.1:5000]\n");
    assertUsageError("fairway: read-timeout: -5s (expected: a duration such as 500ms, 5s, 30m or 1h)", "-c", negative.toString());
    Path wrongType = Files.writeString(dir.resolve("type.yaml"), "instances: many\nupstreams: [127.0.0.1:5000]\n");
    assertUsageError("fairway: instances: many (expected: a whole number from 0 to 1024)", "-c", wrongType.toString());
    assertUsageError("fairway: --config: " + dir.resolve("missing.yaml") + " (expected: a readable YAML file", "-c", dir.resolve("missing.yaml").toString());
  }

  @Test
  void helpAndVersionExitWith0() {
    FairwayProcess help = FairwayProcess.start("--help");
    assertThat(help.exitCode(EXIT)).isZero();
    assertThat(help.stdout()).contains("--upstream=HOST:PORT[,weight=N][,max-conns=N][,backup][,down]", "--demo",
      "--health-interval", "--hash-key");
    FairwayProcess version = FairwayProcess.start("-V");
    assertThat(version.exitCode(EXIT)).isZero();
    assertThat(version.stdout()).startsWith("fairway 0.");
  }

  @Test
  void demoRotatesAcrossThreeBuiltInUpstreamsAndServesAdminEndpoints() {
    int port = Proxies.freePort();
    int admin = Proxies.freePort();
    try (FairwayProcess p = FairwayProcess.start("--demo", "-p", String.valueOf(port), "--admin-port", String.valueOf(admin))) {
      p.awaitOutput("proxying http://", Duration.ofSeconds(30));
      Set<String> seen = new HashSet<>();
      for (int i = 0; i < 3; i++) {
        Http.Reply reply = Http.get(client, port, "/hello").await();
        assertThat(reply.status()).isEqualTo(200);
        seen.add(reply.headers().get("X-Demo-Instance"));
      }
      assertThat(seen).containsExactlyInAnyOrder("demo-5000", "demo-5001", "demo-5002");
      assertThat(Http.get(client, port, "/api/system/health").await().body()).contains("\"status\":\"ok\"");
      assertThat(Http.get(client, admin, "/health").await().status()).isEqualTo(200);
      assertThat(Http.get(client, admin, "/metrics").await().body()).contains("fairway_requests_total{code=\"200\",method=\"GET\",route=\"/\",upstream=\"127.0.0.1:5000\"}");
    }
  }

  @Test
  void anAccessLogNobodyReadsNeverHoldsUpRequests(Vertx vertx) throws Exception {
    TestUpstream backend = TestUpstream.start(vertx, "backend");
    int port = Proxies.freePort();
    try (FairwayProcess p = FairwayProcess.startWithStdoutUnread("-u", backend.id(), "-p", String.valueOf(port),
      "--admin-port", String.valueOf(Proxies.freePort()), "--access-log", "stdout")) {
      p.awaitOutput("proxying http://", Duration.ofSeconds(30));
      // about 200 bytes a line: the 64 KiB pipe is full after a few hundred, and the log's writer then waits on it
      for (int i = 0; i < 3_000; i++) {
        assertThat(Http.get(client, port, "/r" + i).await(5, TimeUnit.SECONDS).status()).as("request %d", i).isEqualTo(200);
      }
    }
  }

  @Test
  void configFileRunsWithFlagsOverridingIt(Vertx vertx) {
    TestUpstream backend = TestUpstream.start(vertx, "backend");
    int port = Proxies.freePort();
    int admin = Proxies.freePort();
    try (FairwayProcess p = FairwayProcess.start("-c", "conf/fairway.yaml", "-u", backend.id(), "-p", String.valueOf(port),
      "--admin-port", String.valueOf(admin), "-i", "2", "--health-path", "/health")) {
      p.awaitOutput("proxying http://0.0.0.0:" + port + " to 1 upstream(s) (round-robin, 2 proxy instances", Duration.ofSeconds(30));
      assertThat(Http.get(client, port, "/anything").await().body()).isEqualTo("backend");
    }
  }
}
