package dev.fairway.proxy;

import io.netty.channel.ConnectTimeoutException;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
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

  private final Vertx vertx;
  private final HttpClientAgent http1;
  private final HttpClientAgent http2;
  private final int maxPerOrigin;
  private final int maxIdlePerOrigin;
  private final long idleTimeoutNanos;
  /**
   * Connections beyond {@code maxIdlePerOrigin} are closed once unused this long, not as their exchanges end: under a
   * steady load above the cap, a batch of responses leaves more connections idle for a moment than the cap, and
   * closing them at once made every later request open a new one (a third of the throughput at 500 connections).
   */
  static final long SURPLUS_IDLE_MILLIS = 1_000;
  /** Per origin, oldest first: a request takes the newest (least likely to have been closed by the upstream). */
  private final Map<String, ArrayDeque<Idle>> idle = new HashMap<>();
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

  /** A kept-alive connection waiting for its next request, and since when. */
  private record Idle(HttpClientConnection connection, long sinceNanos) {
  }

  /**
   * @param maxIdlePerOrigin kept-alive connections kept per origin; more are closed once unused for a second
   * @param idleTimeoutMillis a kept-alive connection unused this long is closed (0: never)
   */
  UpstreamConnections(Vertx vertx, HttpClientAgent http1, HttpClientAgent http2, int maxPerOrigin, int maxIdlePerOrigin,
                      long idleTimeoutMillis) {
    this.vertx = vertx;
    this.http1 = http1;
    this.http2 = http2;
    this.maxPerOrigin = maxPerOrigin;
    this.maxIdlePerOrigin = maxIdlePerOrigin;
    this.idleTimeoutNanos = idleTimeoutMillis * 1_000_000;
    long shortest = idleTimeoutMillis > 0 ? Math.min(idleTimeoutMillis, SURPLUS_IDLE_MILLIS) : SURPLUS_IDLE_MILLIS;
    vertx.setPeriodic(ReadDeadlines.sweepMillis(shortest), id -> closeUnused());
  }

  /**
   * A connection to {@code origin}: an idle (or, for HTTP/2, not full) one if any and not {@code fresh}, else a new one.
   * A kept-alive connection is returned as an already completed future, a new one completes after its connect.
   */
  Future<HttpClientConnection> acquire(Origin origin, long connectTimeoutMillis, boolean fresh) {
    if (origin.upstream().http2()) return acquireShared(origin, connectTimeoutMillis);
    ArrayDeque<Idle> free = fresh ? null : idle.get(origin.id());
    Idle newest = free == null ? null : free.pollLast(); // most recently used: least likely timed out
    if (newest != null) return Future.succeededFuture(newest.connection());
    return open(http1, origin, connectTimeoutMillis, conn -> {
      ArrayDeque<Idle> q = idle.get(origin.id());
      if (q != null) q.removeIf(i -> i.connection() == conn);
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

  /**
   * The count of connections open to {@code origin} from this instance, held in a one-element array that the direct
   * HTTP/1.1 path's connections count in too, so that pool-size bounds both paths together.
   */
  int[] openCount(String origin) {
    return openCounts.computeIfAbsent(origin, id -> new int[1]);
  }

  private Future<HttpClientConnection> open(HttpClientAgent agent, Origin origin, long connectTimeoutMillis,
                                            java.util.function.Consumer<HttpClientConnection> onClose) {
    int[] count = openCount(origin.id());
    if (count[0] >= maxPerOrigin) {
      return Future.failedFuture(new PoolFullException(maxPerOrigin));
    }
    Future<HttpClientConnection> connecting;
    try {
      connecting = agent.connect(new HttpConnectOptions().setServer(origin.address()));
    } catch (IllegalStateException closed) { // Fairway is stopping and the client is closed: a failure, not a throw
      return Future.failedFuture(closed);
    }
    count[0]++;
    return withDeadline(connecting, origin, connectTimeoutMillis)
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
   * Fails {@code connecting} with a connect timeout after {@code millis} (0: no bound): the client does not apply a
   * per-connect timeout, and a listener whose backlog is full drops SYNs, so a connect would wait a minute or more for
   * the kernel to give up. A connection that arrives after its deadline is closed at once.
   */
  private Future<HttpClientConnection> withDeadline(Future<HttpClientConnection> connecting, Origin origin, long millis) {
    if (millis <= 0 || connecting.isComplete()) return connecting;
    Promise<HttpClientConnection> bounded = Promise.promise();
    long timer = vertx.setTimer(millis, id ->
      bounded.tryFail(new ConnectTimeoutException("connect to " + origin.id() + " timed out after " + millis + " ms")));
    connecting.onComplete(ar -> {
      vertx.cancelTimer(timer);
      boolean inTime = ar.succeeded() ? bounded.tryComplete(ar.result()) : bounded.tryFail(ar.cause());
      if (!inTime && ar.succeeded()) ar.result().close();
    });
    return bounded.future();
  }

  /**
   * Ends an exchange's use of a connection. {@code clean}: request sent and response read in full, so an HTTP/1.1
   * connection can carry the next request; otherwise its framing is unknown and it is closed. An HTTP/2 connection
   * stays: the exchange's stream was complete or has been reset.
   */
  void release(Origin origin, HttpClientConnection conn, boolean clean) {
    if (origin.upstream().http2()) return;
    if (!clean) {
      conn.close();
      return;
    }
    idle.computeIfAbsent(origin.id(), id -> new ArrayDeque<>()).addLast(new Idle(conn, System.nanoTime()));
  }

  /**
   * Closes kept-alive connections unused for the idle timeout, and those beyond the cap unused for a second, oldest
   * first. Each queue is in order of release and requests take the newest, so the oldest are the ones no request
   * needed: after a burst, what a normal load reuses stays.
   */
  private void closeUnused() {
    long now = System.nanoTime();
    for (ArrayDeque<Idle> q : idle.values()) {
      while (!q.isEmpty()) {
        long unused = now - q.peekFirst().sinceNanos();
        boolean expired = idleTimeoutNanos > 0 && unused > idleTimeoutNanos;
        boolean surplus = q.size() > maxIdlePerOrigin && unused > SURPLUS_IDLE_MILLIS * 1_000_000;
        if (!expired && !surplus) break;
        q.pollFirst().connection().close();
      }
    }
  }
}
