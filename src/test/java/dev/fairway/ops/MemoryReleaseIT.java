package dev.fairway.ops;

import dev.fairway.support.FairwayProcess;
import dev.fairway.support.Http;
import dev.fairway.support.Proxies;
import dev.fairway.support.TestUpstream;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/** The fat jar under its own JVM flags gives back the memory a burst took once it has been quiet for a while. */
@ExtendWith(VertxExtension.class)
class MemoryReleaseIT {

  private static final int SOCKETS = 1_000;
  private static final Pattern RELEASED = Pattern.compile("gave back (\\d+) MiB \\(heap (\\d+) -> (\\d+) MiB");

  /**
   * A thousand open WebSockets hold about 24 MiB of heap, and the heap grows for them; once they are closed and no
   * collection has run for {@code release-memory-after}, a full collection shrinks the heap by at least 8 MiB, and RSS
   * falls by at least 4 MiB. (While they are open the proxy is quiet too: those releases find everything live.)
   */
  @Test
  void heapThatThousandsOfWebSocketsTookGoesBackOnceTheyHaveClosedAndTheProxyIsQuiet(Vertx vertx, @TempDir Path dir)
    throws Exception {
    TestUpstream up = TestUpstream.start(vertx, "up");
    up.handler = req -> req.toWebSocket().onSuccess(ws -> ws.textMessageHandler(ws::writeTextMessage));
    int port = Proxies.freePort();
    int adminPort = Proxies.freePort();
    Path config = dir.resolve("fairway.yaml");
    Files.writeString(config, String.join("\n", "listen: {host: 127.0.0.1, port: " + port + "}",
      "admin: {port: " + adminPort + "}", "upstreams: [" + up.id() + "]", "instances: 1", "pool-size: 2000",
      "health: {enabled: false}", "access-log: off", "release-memory-after: 1s", ""));
    try (FairwayProcess p = FairwayProcess.start("-c", config.toString())) {
      p.awaitOutput("proxying http://", Duration.ofSeconds(30));
      long atStart = rssKib(p.pid());
      WebSocketClient client = vertx.createWebSocketClient(new WebSocketClientOptions().setMaxConnections(SOCKETS));
      List<WebSocket> open = new ArrayList<>();
      for (int i = 0; i < SOCKETS; i += 100) {
        List<Future<WebSocket>> batch = new ArrayList<>();
        for (int j = 0; j < 100; j++) batch.add(client.connect(port, "127.0.0.1", "/socket"));
        Future.all(batch).await(30, TimeUnit.SECONDS);
        batch.forEach(f -> open.add(f.result()));
      }
      long held = rssKib(p.pid());
      assertThat(held - atStart).as("RSS grew with the sockets (KiB)").isGreaterThan(16 * 1024);

      Future.all(open.stream().map(WebSocket::close).toList()).await(30, TimeUnit.SECONDS);
      try {
        Http.await("a release that shrank the heap", Duration.ofSeconds(60), () -> {
          Matcher m = RELEASED.matcher(p.stderr());
          while (m.find()) if (Long.parseLong(m.group(3)) <= Long.parseLong(m.group(2)) - 8) return true;
          return false;
        });
      } catch (AssertionError e) {
        throw new AssertionError(e.getMessage() + "; fairway's log: " + p.stderr(), e);
      }
      String metrics = Http.get(vertx.createHttpClient(), adminPort, "/metrics").await(10, TimeUnit.SECONDS).body();
      assertThat(metrics).containsPattern("(?m)^fairway_memory_releases_total [1-9]")
        .containsPattern("(?m)^fairway_memory_released_bytes_total [1-9]");
      // the heap's pages go back at once, though not all of a shrink was resident, and closing the sockets (the JIT
      // compiling the close path, the allocator's arenas, trimmed every second) takes some memory of its own: a 12 MiB
      // shrink has shown as 5.6 MiB less RSS
      try {
        Http.await("RSS 4 MiB under what the sockets held", Duration.ofSeconds(15),
          () -> held - rssKib(p.pid()) > 4 * 1024);
      } catch (AssertionError e) {
        throw new AssertionError(e.getMessage() + ": " + rssKib(p.pid()) + " KiB, of " + held + " held, " + atStart
          + " at start; fairway's log: " + p.stderr(), e);
      }
    }
  }

  private static long rssKib(long pid) {
    try {
      return Files.readAllLines(Path.of("/proc/" + pid + "/status")).stream().filter(l -> l.startsWith("VmRSS:"))
        .mapToLong(l -> Long.parseLong(l.replaceAll("\\D", ""))).findFirst().orElseThrow();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
