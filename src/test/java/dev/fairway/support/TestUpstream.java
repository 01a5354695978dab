package dev.fairway.support;

import dev.fairway.config.UpstreamOptions;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * A real HTTP server on a port chosen by the OS, standing in for a backend. {@code /health} answers 200 while
 * {@link #healthy} is true (503 otherwise); every other request counts a hit and goes to {@link #handler}, which by
 * default answers with the upstream's name.
 */
public final class TestUpstream {

  public final String name;
  public final AtomicInteger hits = new AtomicInteger();
  public volatile boolean healthy = true;
  /** Delay before answering /health, to make probes time out. */
  public volatile long healthDelayMillis;
  /** Accepts connections and requests but never answers anything, /health included. */
  public volatile boolean hang;
  public final AtomicInteger healthHits = new AtomicInteger();
  public volatile Handler<HttpServerRequest> handler;
  private final HttpServer server;
  private final Vertx vertx;

  private TestUpstream(Vertx vertx, String name, HttpServer server) {
    this.vertx = vertx;
    this.name = name;
    this.server = server;
    this.handler = req -> req.response().end(name);
  }

  public static TestUpstream start(Vertx vertx, String name) {
    TestUpstream[] self = new TestUpstream[1];
    HttpServer server = vertx.createHttpServer().requestHandler(req -> self[0].handle(req));
    self[0] = new TestUpstream(vertx, name, server);
    server.listen(0, "127.0.0.1").await();
    return self[0];
  }

  private void handle(HttpServerRequest req) {
    if (hang) return;
    if (req.path().equals("/health")) {
      healthHits.incrementAndGet();
      int status = healthy ? 200 : 503;
      if (healthDelayMillis > 0) {
        vertx.setTimer(healthDelayMillis, id -> req.response().setStatusCode(status).end());
      } else {
        req.response().setStatusCode(status).end();
      }
      return;
    }
    hits.incrementAndGet();
    handler.handle(req);
  }

  public int port() {
    return server.actualPort();
  }

  public String id() {
    return "127.0.0.1:" + port();
  }

  public UpstreamOptions options() {
    return new UpstreamOptions("127.0.0.1", port());
  }

  public Future<Void> close() {
    return server.close();
  }
}
