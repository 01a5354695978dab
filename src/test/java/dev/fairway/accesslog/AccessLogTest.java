package dev.fairway.accesslog;

import dev.fairway.support.FairwayTest;
import dev.fairway.Fairway;
import dev.fairway.support.Http;
import dev.fairway.support.Proxies;
import dev.fairway.support.TestUpstream;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.GZIPInputStream;

import static org.assertj.core.api.Assertions.assertThat;

class AccessLogTest extends FairwayTest {

  private static final Pattern COMBINED = Pattern.compile(
    "^(\\S+) - - \\[([^\\]]+)\\] \"(\\S+) (\\S+) (\\S+)\" (\\d{3}) (\\d+) \"([^\"]*)\" \"([^\"]*)\""
      + " upstream=(\\S+) upstream_time=(\\S+) queue_time=(\\S+) bytes_in=(\\d+) request_id=(\\S+) reason=(\\S+)$");
  private static final Pattern GUNICORN = Pattern.compile(
    "^(\\S+) - - \\[([^\\]]+)\\] \"(\\S+) (\\S+) (\\S+)\" (\\d{3}) (\\S+) \"([^\"]*)\" \"([^\"]*)\" (\\d+)"
      + " upstream=(\\S+) upstream_time=(\\S+) queue_time=(\\S+) bytes_in=(\\d+) request_id=(\\S+) reason=(\\S+)$");

  @TempDir
  Path dir;
  private TestUpstream up;

  @BeforeEach
  void setUp(Vertx vertx) {
    up = TestUpstream.start(vertx, "up");
    up.handler = req -> req.body().onSuccess(b -> req.response().end("hello " + req.getHeader("X-Request-Id")));
  }


  private Path start(String format) {
    Path log = dir.resolve("access-" + format + ".log");
    fairway = Proxies.start(Proxies.options(up).with(o -> o.getAccessLog().setDestination(log.toString())).with(o -> o.getAccessLog().setFormat("k", format)));
    return log;
  }

  private Http.Reply post(String body, String requestId) {
    RequestOptions o = new RequestOptions().setMethod(HttpMethod.POST).setHost("127.0.0.1").setPort(fairway.proxyPort())
      .setURI("/api/docs?x=1").putHeader("User-Agent", "curl/8.0").putHeader("Referer", "http://example.com/");
    if (requestId != null) o.putHeader("X-Request-Id", requestId);
    return Http.send(client, o, body).await();
  }

  private static List<String> lines(Path log, int atLeast) {
    Http.await(atLeast + " access log line(s)", Duration.ofSeconds(5), () -> read(log).size() >= atLeast);
    return read(log);
  }

  private static List<String> read(Path log) {
    try {
      return Files.exists(log) ? Files.readAllLines(log) : List.of();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Test
  void combinedLineParsesBackWithFairwaysFields() {
    Path log = start("combined");
    post("twelve bytes", "req-42");
    Matcher m = COMBINED.matcher(lines(log, 1).get(0));
    assertThat(m.matches()).as(read(log).get(0)).isTrue();
    assertThat(m.group(1)).isEqualTo("127.0.0.1");
    Instant logged = ZonedDateTime.parse(m.group(2), DateTimeFormatter.ofPattern("dd/MMM/yyyy:HH:mm:ss Z", Locale.ROOT)).toInstant();
    assertThat(Duration.between(logged, Instant.now()).abs()).as("the line's time").isLessThan(Duration.ofSeconds(10));
    assertThat(m.group(3) + " " + m.group(4) + " " + m.group(5)).isEqualTo("POST /api/docs?x=1 HTTP/1.1");
    assertThat(m.group(6)).isEqualTo("200");
    assertThat(m.group(7)).isEqualTo(String.valueOf("hello req-42".length()));
    assertThat(m.group(8)).isEqualTo("http://example.com/");
    assertThat(m.group(9)).isEqualTo("curl/8.0");
    assertThat(m.group(10)).isEqualTo(up.id());
    assertThat(Double.parseDouble(m.group(11))).isBetween(0.0, 5.0);
    assertThat(m.group(12)).isEqualTo("0.000");
    assertThat(m.group(13)).isEqualTo("12");
    assertThat(m.group(14)).isEqualTo("req-42");
    assertThat(m.group(15)).isEqualTo("-");
  }

  @Test
  void closingWritesEveryLineBeforeItReturns() {
    Path log = start("combined");
    int requests = 50;
    for (int i = 0; i < requests; i++) post("", "req-" + i);
    fairway.close().await();
    fairway = null;
    // no waiting: the lines still in an event loop's block or the writer's queue are written by close itself
    assertThat(read(log)).hasSize(requests).allSatisfy(line -> assertThat(COMBINED.matcher(line).matches()).as(line).isTrue());
  }

  @Test
  void gunicornLineIsTheUsualFlaskFormatWithMicroseconds() {
    Path log = start("gunicorn");
    post("", null);
    Matcher m = GUNICORN.matcher(lines(log, 1).get(0));
    assertThat(m.matches()).as(read(log).get(0)).isTrue();
    assertThat(m.group(6)).isEqualTo("200");
    assertThat(Long.parseLong(m.group(10))).as("%(D)s: microseconds").isPositive();
    assertThat(m.group(15)).matches("[0-9a-f]{32}");
  }

  @Test
  void jsonLineCarriesEverythingIncludingWhyARequestFailed() {
    Path log = start("json");
    post("abc", "trace-1");
    up.healthy = false;
    Http.await("up DOWN", Duration.ofSeconds(5), () -> post("abc", null).status() == 503);
    Http.await("the 503 logged", Duration.ofSeconds(5), () -> read(log).stream().anyMatch(l -> l.contains("no_healthy_upstream")));
    List<String> lines = read(log);
    JsonObject ok = new JsonObject(lines.get(0));
    assertThat(ok.getMap()).containsEntry("method", "POST").containsEntry("uri", "/api/docs?x=1").containsEntry("status", 200)
      .containsEntry("bytes_received", 3).containsEntry("request_id", "trace-1").containsEntry("upstream", up.id())
      .containsEntry("user_agent", "curl/8.0").containsEntry("reason", null);
    assertThat(ok.getDouble("duration_ms")).isPositive();
    JsonObject failed = new JsonObject(lines.stream().filter(l -> l.contains("no_healthy_upstream")).findFirst().orElseThrow());
    assertThat(failed.getMap()).containsEntry("status", 503).containsEntry("reason", "no_healthy_upstream").containsEntry("upstream", null);
  }

  @Test
  void requestIdIsKeptWhenWellFormedOtherwiseGeneratedAndAlwaysForwardedAndReturned() {
    fairway = Proxies.start(Proxies.options(up));
    Http.Reply kept = post("", "abc-123_x.y");
    assertThat(kept.body()).isEqualTo("hello abc-123_x.y");
    assertThat(kept.headers().get("X-Request-Id")).isEqualTo("abc-123_x.y");

    Http.Reply generated = post("", null);
    String id = generated.headers().get("X-Request-Id");
    assertThat(id).matches("[0-9a-f]{32}");
    assertThat(generated.body()).isEqualTo("hello " + id);

    Http.Reply replaced = post("", "bad id with spaces\"");
    assertThat(replaced.headers().get("X-Request-Id")).matches("[0-9a-f]{32}");
    assertThat(post("", null).headers().get("X-Request-Id")).isNotEqualTo(id);
  }

  @ParameterizedTest(name = "compress={0}")
  @ValueSource(booleans = {false, true})
  void fileRotatesAtItsMaxSizeAndIsGzippedOnlyWhenAsked(boolean compress) throws IOException {
    Path log = dir.resolve("access.log");
    fairway = Proxies.start(Proxies.options(up).with(o -> o.getAccessLog().setDestination(log.toString()))
      .with(o -> o.getAccessLog().setMaxSize("k", "1k")).with(o -> o.getAccessLog().setCompress(compress)));
    String rolled = log.getFileName() + "." + LocalDate.now() + ".0" + (compress ? ".gz" : "");
    // lines of ~250 bytes, each request logged before the next: the file passes 1 KiB and the next write rotates it
    for (int i = 0; i < 20 && !Files.exists(dir.resolve(rolled)); i++) {
      post("", "rot-" + i);
      int logged = i + 1;
      Http.await("request " + i + " logged", Duration.ofSeconds(5), () -> linesIn(log) + rolledLines(compress) >= logged);
    }
    Path archive = dir.resolve(rolled);
    assertThat(archive).as("rotated file " + rolled).exists();
    Http.await("archive complete", Duration.ofSeconds(5), () -> rolledLines(compress) > 0);
    try (var names = Files.list(dir)) {
      assertThat(names.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".gz")).count())
        .as("gzipped archives").isEqualTo(compress ? 1 : 0);
    }
    assertThat(readArchive(archive, compress)).first().asString().contains("request_id=rot-0");
  }

  @Test
  void aNamedPipeOrDeviceIsWrittenAsItIsAndNeverRotatedAway() throws Exception {
    Path pipe = dir.resolve("access.pipe");
    assertThat(new ProcessBuilder("mkfifo", pipe.toString()).start().waitFor()).as("mkfifo").isZero();
    // from two days ago, with a 1 KiB limit: a rotating appender would rename the pipe at the first line
    // (touch: Files.setLastModifiedTime opens the file, which for a pipe waits for a writer)
    assertThat(new ProcessBuilder("touch", "-d", "2 days ago", pipe.toString()).start().waitFor()).as("touch").isZero();
    List<String> read = new CopyOnWriteArrayList<>();
    Thread reader = new Thread(() -> {
      try (BufferedReader in = Files.newBufferedReader(pipe)) { // opens once Fairway opens the pipe to write
        in.lines().forEach(read::add);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    });
    reader.setDaemon(true); // if Fairway never opens the pipe, the reader must not keep the test JVM alive
    reader.start();
    fairway = Proxies.start(Proxies.options(up).with(o -> o.getAccessLog().setDestination(pipe.toString())).with(o -> o.getAccessLog().setMaxSize("k", "1k")));
    for (int i = 0; i < 10; i++) post("", "pipe-" + i);
    Http.await("10 lines through the pipe", Duration.ofSeconds(5), () -> read.size() >= 10);
    assertThat(read).allSatisfy(line -> assertThat(COMBINED.matcher(line).matches()).as(line).isTrue());
    assertThat(Files.isRegularFile(pipe)).as("still a pipe").isFalse();
    try (var names = Files.list(dir)) {
      assertThat(names.map(p -> p.getFileName().toString())).containsExactly("access.pipe");
    }
  }

  @Test
  void onlyRegularFilesOutsideDevAndProcAreRotated() {
    // /dev/stderr redirected to a file is a regular file behind a link: rotating it would rename the link
    assertThat(List.of("/dev/null", "/dev/stderr", "/proc/self/fd/1", "/dev/../dev/null"))
      .allSatisfy(p -> assertThat(AccessLog.writtenAsItIs(p)).as(p).isTrue());
    assertThat(AccessLog.writtenAsItIs(dir.resolve("access.log").toString())).as("a new file").isFalse();
    assertThat(AccessLog.writtenAsItIs(dir.toString())).as("a directory (fails to open instead)").isFalse();
  }

  private long linesIn(Path log) {
    return read(log).size();
  }

  /** Lines in the first rotated file, once it is complete (a gzip being written reads as 0). */
  private long rolledLines(boolean compress) {
    try (var names = Files.list(dir)) {
      Path first = names.filter(p -> p.getFileName().toString().matches("access\\.log\\..*\\.0" + (compress ? "\\.gz" : "")))
        .findFirst().orElse(null);
      return first == null ? 0 : readArchive(first, compress).size();
    } catch (IOException | UncheckedIOException e) {
      return 0;
    }
  }

  private static List<String> readArchive(Path file, boolean gzipped) {
    try (InputStream in = gzipped ? new GZIPInputStream(Files.newInputStream(file)) : Files.newInputStream(file)) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8).lines().toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Test
  void aClientsUtf8IsWrittenAsTheSameBytes() {
    Path log = start("combined");
    // HTTP carries bytes: a header value's chars here are the UTF-8 bytes of "Zoë/1.0 ☕", one per char
    String utf8 = new String("Zoë/1.0 ☕".getBytes(StandardCharsets.UTF_8), StandardCharsets.ISO_8859_1);
    Http.send(client, new RequestOptions().setHost("127.0.0.1").setPort(fairway.proxyPort()).setURI("/")
      .putHeader("User-Agent", utf8), "").await();
    assertThat(lines(log, 1).get(0)).contains("\"Zoë/1.0 ☕\"");
  }

  @Test
  void quotesInTheRequestCannotBreakTheLine() {
    AccessRecord r = new AccessRecord(0, "1.2.3.4", "GET", "/a\"b", "HTTP/1.1", 200, 5, 0, "x\"y", "agent \"z\"", 1_000_000,
      null, -1, 0, "id", null);
    assertThat(COMBINED.matcher(AccessLogFormat.COMBINED.format(r)).matches()).isTrue();
    assertThat(AccessLogFormat.COMBINED.format(r)).contains("\"GET /a%22b HTTP/1.1\"").contains("upstream=- upstream_time=-");
  }

  /** An HTTP/2 header may carry a newline: written as it came, it would forge a second line. */
  @Test
  void controlBytesAndBackslashesAreEscapedAsNginxDoesInEveryTextFormat() {
    AccessRecord r = new AccessRecord(0, "1.2.3.4", "GET", "/a\u0001b", "HTTP/2.0", 200, 5, 0, "x\\y",
      "agent\n1.2.3.4 - - [01/Jan/2026:00:00:00 +0000] \"GET /forged HTTP/1.1\" 200 0\u007f", 1_000_000, null, -1, 0, "id", null);
    for (AccessLogFormat format : new AccessLogFormat[] {AccessLogFormat.COMBINED, AccessLogFormat.GUNICORN}) {
      String line = format.format(r);
      assertThat(line).as(format.name()).doesNotContain("\n").doesNotContain("\u007f").doesNotContain("\u0001")
        .contains("/a%01b").contains("\"x\\x5Cy\"").contains("agent\\x0A1.2.3.4").contains("\\x22GET /forged").contains("0\\x7F\"");
    }
    assertThat(COMBINED.matcher(AccessLogFormat.COMBINED.format(r)).matches()).isTrue();
    String json = AccessLogFormat.JSON.format(r);
    assertThat(json).doesNotContain("\n");
    assertThat(new io.vertx.core.json.JsonObject(json).getString("user_agent")).startsWith("agent\n1.2.3.4");
  }
}
