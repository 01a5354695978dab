package dev.fairway.support;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Debian's headless Chromium, driven over the DevTools protocol with a Vert.x WebSocket: opens a page, evaluates
 * JavaScript in it. Started with the flags that keep it off the network; ended by its PID.
 */
public final class HeadlessChromium implements AutoCloseable {

  private static final Pattern DEVTOOLS = Pattern.compile("DevTools listening on ws://127\\.0\\.0\\.1:(\\d+)/");

  private final Process process;
  private final Path profile;
  /** Held for as long as the page is: Vert.x closes a client that is no longer referenced, and its sockets with it. */
  private final WebSocketClient devTools;
  private final WebSocket page;
  private final AtomicInteger ids = new AtomicInteger();
  private final Map<Integer, Promise<JsonObject>> pending = new ConcurrentHashMap<>();

  private HeadlessChromium(Process process, Path profile, WebSocketClient devTools, WebSocket page) {
    this.process = process;
    this.profile = profile;
    this.devTools = devTools;
    this.page = page;
    page.textMessageHandler(text -> {
      JsonObject msg = new JsonObject(text);
      Promise<JsonObject> p = msg.containsKey("id") ? pending.remove(msg.getInteger("id")) : null;
      if (p != null) p.complete(msg);
    });
  }

  public static boolean installed() {
    return Files.isExecutable(Path.of("/usr/bin/chromium"));
  }

  public static HeadlessChromium open(Vertx vertx, String url) throws IOException {
    Path profile = Files.createTempDirectory("fairway-chromium");
    Process process = new ProcessBuilder("/usr/bin/chromium", "--headless", "--no-sandbox", "--disable-gpu",
      "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update",
      "--disable-sync", "--user-data-dir=" + profile, "--remote-debugging-port=0", url)
      .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    HttpClient http = vertx.createHttpClient();
    WebSocketClient devTools = vertx.createWebSocketClient();
    try {
      int port = devToolsPort(process);
      JsonArray targets = http.request(HttpMethod.GET, port, "127.0.0.1", "/json/list")
        .compose(req -> req.send().compose(resp -> resp.body())).map(b -> new JsonArray(b)).await();
      String wsUrl = targets.stream().map(JsonObject.class::cast).filter(t -> "page".equals(t.getString("type")))
        .findFirst().orElseThrow().getString("webSocketDebuggerUrl");
      WebSocket ws = devTools.connect(new WebSocketConnectOptions().setAbsoluteURI(wsUrl)).await();
      return new HeadlessChromium(process, profile, devTools, ws);
    } catch (IOException | RuntimeException e) {
      stop(process);
      deleteProfile(profile);
      devTools.close();
      throw e;
    } finally {
      http.close();
    }
  }

  /** Chromium's profile directory: some MB per run, so it goes once Chromium has exited. */
  private static void deleteProfile(Path profile) {
    try (var paths = Files.walk(profile)) {
      paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      // a leftover temp directory is not worth failing a test for
    }
  }

  private static int devToolsPort(Process process) throws IOException {
    BufferedReader err = new BufferedReader(new InputStreamReader(process.getErrorStream()));
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    String line;
    while (System.nanoTime() < deadline && (line = err.readLine()) != null) {
      Matcher m = DEVTOOLS.matcher(line);
      if (m.find()) {
        Thread drain = new Thread(() -> err.lines().forEach(l -> { }), "chromium-stderr");
        drain.setDaemon(true);
        drain.start();
        return Integer.parseInt(m.group(1));
      }
    }
    process.destroyForcibly();
    throw new IOException("chromium did not report its DevTools port");
  }

  /** Evaluates {@code expression} in the page and returns its value as a string. */
  public String evaluate(String expression) {
    int id = ids.incrementAndGet();
    Promise<JsonObject> reply = Promise.promise();
    pending.put(id, reply);
    page.writeTextMessage(new JsonObject().put("id", id).put("method", "Runtime.evaluate")
      .put("params", new JsonObject().put("expression", expression).put("returnByValue", true)).encode());
    JsonObject result = reply.future().timeout(10, TimeUnit.SECONDS).await();
    return String.valueOf(result.getJsonObject("result").getJsonObject("result").getValue("value"));
  }

  @Override
  public void close() {
    page.close();
    devTools.close();
    stop(process);
    deleteProfile(profile);
  }

  /** Ends Chromium and the helper processes it started (they may still be writing into the profile). */
  private static void stop(Process process) {
    List<ProcessHandle> helpers = process.descendants().toList();
    process.destroy();
    try {
      if (!process.waitFor(10, TimeUnit.SECONDS)) process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      for (ProcessHandle helper : helpers) {
        try {
          helper.onExit().get(5, TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
          helper.destroyForcibly();
        }
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
  }
}
