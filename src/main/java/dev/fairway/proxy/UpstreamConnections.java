package dev.fairway.proxy;

import io.vertx.core.Future;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientConnection;
import io.vertx.core.http.HttpConnectOptions;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Kept-alive upstream connections of one proxy instance, per origin, used directly: an HTTP/1.1 request takes an
 * idle connection (or opens one) and gives it back when its exchange is over. It replaces the generic client pool on
 * the hot path, whose per-request lookup and lease were the largest single cost in the profile. HTTP/2 origins share
 * their connections: a request opens a stream on one with room (within the upstream's max concurrent streams), and
 * a failed exchange resets its stream, never the connection. Event-loop confined.
 */
final class UpstreamConnections {

  private final HttpClientAgent http1;
  private final HttpClientAgent http2;
  private final int maxPerOrigin;
  private final Map<String, ArrayDeque<HttpClientConnection>> idle = new HashMap<>();
  private final Map<String, int[]> openCounts = new HashMap<>();
  private final Map<String, List<HttpClientConnection>> shared = new HashMap<>();
  /** An HTTP/2 connection being opened: requests arriving meanwhile wait for it rather than each opening one. */
  private final Map<String, Future<HttpClientConnection>> opening = new HashMap<>();

  /** Every connection this instance may open to an origin (pool-size) is in use. */
  static final class PoolFullException extends RuntimeException {
    PoolFullException(int limit) {
      super("all " + limit + " connections of pool-size are in use", null, false, false);
    }
  }

  UpstreamConnections(HttpClientAgent http1, HttpClientAgent http2, int maxPerOrigin) {
    this.http1 = http1;
    this.http2 = http2;
    this.maxPerOrigin = maxPerOrigin;
  }

  /** A connection to {@code origin}: an idle (or, for HTTP/2, not full) one if any, else a new one. */
  Future<HttpClientConnection> acquire(Origin origin, long connectTimeoutMillis) {
    if (origin.upstream().http2()) return acquireShared(origin, connectTimeoutMillis);
    ArrayDeque<HttpClientConnection> free = idle.get(origin.id());
    HttpClientConnection c = free == null ? null : free.pollLast(); // most recently used: least likely timed out
    if (c != null) return Future.succeededFuture(c);
    return open(http1, origin, connectTimeoutMillis, conn -> {
      ArrayDeque<HttpClientConnection> q = idle.get(origin.id());
      if (q != null) q.remove(conn);
    });
  }

  private Future<HttpClientConnection> acquireShared(Origin origin, long connectTimeoutMillis) {
    List<HttpClientConnection> conns = shared.computeIfAbsent(origin.id(), id -> new ArrayList<>(1));
    for (HttpClientConnection c : conns) {
      if (c.activeStreams() < c.maxActiveStreams()) return Future.succeededFuture(c);
    }
    Future<HttpClientConnection> pending = opening.get(origin.id());
    if (pending != null) return pending;
    Future<HttpClientConnection> next = open(http2, origin, connectTimeoutMillis, conns::remove)
      .andThen(ar -> {
        opening.remove(origin.id());
        if (ar.succeeded()) conns.add(ar.result());
      });
    if (!next.isComplete()) opening.put(origin.id(), next);
    return next;
  }

  private Future<HttpClientConnection> open(HttpClientAgent agent, Origin origin, long connectTimeoutMillis,
                                            java.util.function.Consumer<HttpClientConnection> onClose) {
    int[] count = openCounts.computeIfAbsent(origin.id(), id -> new int[1]);
    if (count[0] >= maxPerOrigin) {
      return Future.failedFuture(new PoolFullException(maxPerOrigin));
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
            onClose.accept(conn);
          });
        }
      });
  }

  /**
   * Ends an exchange's use of a connection. {@code clean}: request sent and response read in full, so an HTTP/1.1
   * connection can carry the next request; otherwise its framing is unknown and it is closed. An HTTP/2 connection
   * stays: the exchange's stream was complete or has been reset.
   */
  void release(Origin origin, HttpClientConnection conn, boolean clean) {
    if (origin.upstream().http2()) return;
    if (clean) {
      idle.computeIfAbsent(origin.id(), id -> new ArrayDeque<>()).addLast(conn);
    } else {
      conn.close();
    }
  }
}
