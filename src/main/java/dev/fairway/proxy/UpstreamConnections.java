package dev.fairway.proxy;

import io.vertx.core.Future;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientConnection;
import io.vertx.core.http.HttpConnectOptions;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;

/**
 * Kept-alive upstream connections of one proxy instance, per origin, used directly: a request takes an idle
 * connection (or opens one) and gives it back when its exchange is over. It replaces the generic client pool on the
 * hot path, whose per-request lookup and lease were the largest single cost in the profile. Event-loop confined.
 */
final class UpstreamConnections {

  private final HttpClientAgent agent;
  private final int maxPerOrigin;
  private final Map<String, ArrayDeque<HttpClientConnection>> idle = new HashMap<>();
  private final Map<String, int[]> open = new HashMap<>();

  UpstreamConnections(HttpClientAgent agent, int maxPerOrigin) {
    this.agent = agent;
    this.maxPerOrigin = maxPerOrigin;
  }

  /** A connection to {@code origin}: an idle one if any, else a new one. */
  Future<HttpClientConnection> acquire(Origin origin, long connectTimeoutMillis) {
    ArrayDeque<HttpClientConnection> free = idle.get(origin.id());
    HttpClientConnection c = free == null ? null : free.pollLast(); // most recently used: least likely timed out
    if (c != null) return Future.succeededFuture(c);
    int[] count = open.computeIfAbsent(origin.id(), id -> new int[1]);
    if (count[0] >= maxPerOrigin) {
      return Future.failedFuture(new IllegalStateException("connection pool reached max wait queue size"));
    }
    count[0]++;
    return agent.connect(new HttpConnectOptions().setServer(origin.address()).setConnectTimeout(connectTimeoutMillis))
      .andThen(ar -> {
        if (ar.failed()) {
          count[0]--;
        } else {
          HttpClientConnection conn = ar.result();
          conn.closeHandler(v -> {
            count[0]--;
            ArrayDeque<HttpClientConnection> q = idle.get(origin.id());
            if (q != null) q.remove(conn);
          });
        }
      });
  }

  /** Gives a connection back once its exchange is complete (request sent, response read). */
  void release(Origin origin, HttpClientConnection conn) {
    idle.computeIfAbsent(origin.id(), id -> new ArrayDeque<>()).addLast(conn);
  }
}
