package dev.fairway.demo;

import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonObject;

/**
 * A built-in backend for {@code --demo}: answers the health path, says who it is, and has a slow and a streaming
 * endpoint so that balancing and streaming can be seen with curl.
 *
 * <ul>
 *   <li>{@code GET /api/system/health}: {@code {"status":"ok","instance":"demo-5000","capacity":{"slots":4,"busy":1}}}:
 *   busy counts its /slow, /stream and /process requests in progress</li>
 *   <li>{@code GET /slow?seconds=N}: answers after N seconds (default 5)</li>
 *   <li>{@code GET /stream?chunks=N&interval=MS}: N lines, one every MS milliseconds, chunked</li>
 *   <li>{@code POST /process?seconds=N}: a long job (default 30 s) that reports its progress as server-sent events,
 *   one a second, then its result; it stops when its client goes</li>
 *   <li>anything else: a one-line answer naming the instance, method and URI; a request body is counted</li>
 * </ul>
 */
public class DemoUpstreamVerticle extends VerticleBase {

  private final String host;
  private final int port;
  private final String name;
  /** Added to every default answer, to stand in for a slower backend in benchmarks. */
  private final long delayMillis;
  private HttpServer server;
  /** Long requests it takes at once, as it reports them (a real backend: its workers or model slots). */
  static final int SLOTS = 4;
  private int busy;

  public DemoUpstreamVerticle(String host, int port) {
    this(host, port, 0);
  }

  public DemoUpstreamVerticle(String host, int port, long delayMillis) {
    this.host = host;
    this.port = port;
    this.name = "demo-" + port;
    this.delayMillis = delayMillis;
  }

  @Override
  public Future<?> start() {
    return vertx.createHttpServer().requestHandler(this::handle).listen(port, host).onSuccess(s -> server = s);
  }

  private void handle(HttpServerRequest req) {
    HttpServerResponse resp = req.response().putHeader("X-Demo-Instance", name);
    switch (req.path()) {
      case "/api/system/health" -> resp.putHeader("Content-Type", "application/json")
        .end(new JsonObject().put("status", "ok").put("instance", name)
          .put("capacity", new JsonObject().put("slots", SLOTS).put("busy", busy)).encode());
      case "/slow" -> {
        long seconds = param(req, "seconds", 5);
        long timer = vertx.setTimer(Math.max(1, seconds * 1000), id -> resp.end(name + " finished after " + seconds + "s\n"));
        working(resp, () -> vertx.cancelTimer(timer));
      }
      case "/stream" -> stream(resp, param(req, "chunks", 10), Math.max(1, param(req, "interval", 500)));
      case "/process" -> process(req, resp, Math.max(1, param(req, "seconds", 30)));
      default -> {
        long[] bytes = {0};
        req.handler(b -> bytes[0] += b.length());
        req.endHandler(v -> {
          String answer = "hello from " + name + ": " + req.method() + " " + req.uri()
            + (bytes[0] > 0 ? " (" + bytes[0] + " bytes received)" : "") + "\n";
          if (delayMillis > 0) {
            vertx.setTimer(delayMillis, id -> resp.putHeader("Content-Type", "text/plain").end(answer));
          } else {
            resp.putHeader("Content-Type", "text/plain").end(answer);
          }
        });
      }
    }
  }

  /** Counts a long request as busy until its response ends or its client goes (then {@code onClientGone} stops it). */
  private void working(HttpServerResponse resp, Runnable onClientGone) {
    busy++;
    boolean[] counted = {true};
    Runnable done = () -> {
      if (counted[0]) {
        counted[0] = false;
        busy--;
      }
    };
    resp.endHandler(v -> done.run());
    resp.closeHandler(v -> {
      done.run();
      onClientGone.run();
    });
  }

  private void stream(HttpServerResponse resp, long chunks, long interval) {
    resp.setChunked(true).putHeader("Content-Type", "text/plain");
    long[] sent = {0};
    long timer = vertx.setPeriodic(interval, id -> {
      resp.write(name + " chunk " + (++sent[0]) + " of " + chunks + "\n");
      if (sent[0] >= chunks) {
        vertx.cancelTimer(id);
        resp.end();
      }
    });
    working(resp, () -> vertx.cancelTimer(timer));
  }

  /** Progress as server-sent events, one a second, then the result; stops if its client goes. */
  private void process(HttpServerRequest req, HttpServerResponse resp, long seconds) {
    long[] bytes = {0};
    req.handler(b -> bytes[0] += b.length());
    req.endHandler(v -> {
      resp.setChunked(true).putHeader("Content-Type", "text/event-stream").putHeader("Cache-Control", "no-cache");
      long[] done = {0};
      long timer = vertx.setPeriodic(1000, id -> {
        done[0]++;
        if (done[0] < seconds) {
          resp.write("event: progress\ndata: {\"percent\":" + done[0] * 100 / seconds + "}\n\n");
        } else {
          vertx.cancelTimer(id);
          resp.end("event: done\ndata: {\"instance\":\"" + name + "\",\"bytes\":" + bytes[0] + ",\"seconds\":" + seconds + "}\n\n");
        }
      });
      working(resp, () -> vertx.cancelTimer(timer));
    });
  }

  private static long param(HttpServerRequest req, String name, long fallback) {
    try {
      String v = req.getParam(name);
      return v == null ? fallback : Long.parseLong(v);
    } catch (NumberFormatException e) {
      return fallback;
    }
  }

  public int actualPort() {
    return server.actualPort();
  }
}
