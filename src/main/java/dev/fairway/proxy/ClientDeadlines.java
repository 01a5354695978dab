package dev.fairway.proxy;

import io.vertx.core.Vertx;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;

/**
 * Closes client connections that hold a slot without a request in progress: one that has not completed its first
 * request head within client-header-timeout (slowloris), and a kept-alive one idle for client-keepalive-timeout
 * (nginx's client_header_timeout and keepalive_timeout). A connection with a request in progress is never touched,
 * however long it lasts. One periodic sweep per proxy instance, as for read timeouts: nothing per request but two
 * field writes. Event-loop confined.
 * <p>
 * It also runs what a connection's close must undo, exactly once: on the connection's close, or on the close of the
 * WebSocket it was upgraded to, as Vert.x then hands the socket to the WebSocket and never closes the HTTP connection.
 * A connection is any object that stands for one: Vert.x's {@code HttpConnection}, or the direct path's handler.
 */
final class ClientDeadlines {

  /** What is known about one client connection. */
  private static final class Waiting {
    final Object connection;
    /** The peer's address, as text: made once per connection, not per request. */
    final String peer;
    final Runnable onClosed;
    final Runnable close;
    /** When the connection last became idle (opened, or its last response ended). */
    long idleSince;
    int active;
    boolean served;

    Waiting(Object connection, String peer, Runnable onClosed, Runnable close, long now) {
      this.connection = connection;
      this.peer = peer;
      this.onClosed = onClosed;
      this.close = close;
      this.idleSince = now;
    }
  }

  private final Map<Object, Waiting> connections = new IdentityHashMap<>();
  private final Vertx vertx;
  private final BiConsumer<String, String> onTimeout;
  /** A connection being handed from the direct path to Vert.x: its clock goes on, see {@link #handOver}. */
  private Waiting carried;
  private long headerNanos;
  private long keepAliveNanos;
  private long timerId = -1;

  /** @param onTimeout told before a connection is closed, with its peer and {@code header} or {@code keepalive} */
  ClientDeadlines(Vertx vertx, BiConsumer<String, String> onTimeout) {
    this.vertx = vertx;
    this.onTimeout = onTimeout;
  }

  /** (Re)starts the sweep for these timeouts in milliseconds, 0 meaning none (after start and each reload). */
  void schedule(long headerMillis, long keepAliveMillis) {
    headerNanos = headerMillis * 1_000_000;
    keepAliveNanos = keepAliveMillis * 1_000_000;
    if (timerId >= 0) vertx.cancelTimer(timerId);
    timerId = -1;
    long shortest = Math.min(headerMillis == 0 ? Long.MAX_VALUE : headerMillis, keepAliveMillis == 0 ? Long.MAX_VALUE : keepAliveMillis);
    if (shortest != Long.MAX_VALUE) {
      timerId = vertx.setPeriodic(ReadDeadlines.sweepMillis(shortest), id -> sweep());
    }
  }

  /**
   * @param onClosed what the connection's close undoes, run once by {@link #closed} (or as the sweep closes it)
   * @param close closes the connection
   */
  void opened(Object connection, String peer, Runnable onClosed, Runnable close) {
    Waiting w = new Waiting(connection, peer, onClosed, close, System.nanoTime());
    if (carried != null) { // the same socket, now Vert.x's: a slow head gets no second client-header-timeout
      w.idleSince = carried.idleSince;
      w.served = carried.served;
      carried = null;
    }
    connections.put(connection, w);
  }

  /**
   * The socket of {@code from} goes to whatever {@code takeOver} opens on it (Vert.x's connection): {@code from}'s
   * close action runs now, and the connection opened during {@code takeOver} keeps its idle clock.
   */
  void handOver(Object from, Runnable takeOver) {
    Waiting w = connections.remove(from);
    if (w != null) w.onClosed.run();
    carried = w;
    try {
      takeOver.run();
    } finally {
      carried = null;
    }
  }

  /** The connection closed, or the WebSocket it was upgraded to did: forgets it, and runs its close action once. */
  void closed(Object connection) {
    Waiting w = connections.remove(connection);
    if (w != null) w.onClosed.run();
  }

  /** @return the connection's peer address as text, or null for a connection not seen opening (HTTP/2 streams) */
  String requestStarted(Object connection) {
    Waiting w = connections.get(connection);
    if (w == null) return null;
    w.active++;
    w.served = true;
    return w.peer;
  }

  void requestEnded(Object connection) {
    Waiting w = connections.get(connection);
    if (w != null && w.active > 0 && --w.active == 0) w.idleSince = System.nanoTime();
  }

  private void sweep() {
    long now = System.nanoTime();
    List<Waiting> expired = null;
    for (Waiting w : connections.values()) {
      long limit = w.served ? keepAliveNanos : headerNanos;
      if (w.active == 0 && limit > 0 && now - w.idleSince > limit) {
        if (expired == null) expired = new ArrayList<>();
        expired.add(w);
      }
    }
    if (expired == null) return;
    for (Waiting w : expired) {
      onTimeout.accept(w.peer, w.served ? "keepalive" : "header");
      closed(w.connection); // at once: the next sweep must not find it while it closes
      w.close.run();
    }
  }
}
