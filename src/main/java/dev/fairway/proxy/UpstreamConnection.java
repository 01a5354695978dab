package dev.fairway.proxy;

import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpMethod;

/**
 * A connection to an upstream as an exchange uses it: plain HTTP/1.1 ones are {@link Http1Connection}s, HTTP/2 and
 * TLS ones wrap Vert.x's client ({@link VertxUpstream}). Event-loop confined.
 */
interface UpstreamConnection {

  /** A request on this connection: at once on HTTP/1.1 (one at a time), once a stream is open on HTTP/2. */
  Future<UpstreamRequest> request(HttpMethod method, String uri);

  /** Called once, when the connection has closed (either side). */
  void closeHandler(Handler<Void> handler);

  void close();

  /** HTTP/2: streams open now, and at most. HTTP/1.1: 0 and 1. */
  int activeStreams();

  int maxActiveStreams();
}
