package dev.fairway.proxy;

import io.netty.util.concurrent.EventExecutor;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;

import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * Keeps a silent event stream open through hops that cut idle connections (Cloudflare after 100 s, AWS ALB after
 * 60 s): after {@code interval} without a byte to the client it writes an SSE comment, {@code : keep-alive} and a
 * blank line, which every EventSource ignores. Only between events: a comment inside an event that arrived in pieces
 * would end it early, so a stream that stopped mid-event gets none until the event is complete. One timer per stream,
 * re-armed for when the stream will have been silent long enough.
 */
final class SseHeartbeat {

  static final Buffer COMMENT = Buffer.buffer(": keep-alive\n\n");

  /** Runs a task once after a delay, on the stream's event loop; gives back what cancels it. */
  interface Timers {
    Runnable schedule(long millis, Runnable task);

    /** Vert.x's timers, on the caller's context (the Vert.x path's exchanges). */
    static Timers of(Vertx vertx) {
      return (millis, task) -> {
        long id = vertx.setTimer(millis, x -> task.run());
        return () -> vertx.cancelTimer(id);
      };
    }

    /** The event loop's own (the direct HTTP/1.1 path, which runs on Netty's, outside any Vert.x context). */
    static Timers of(EventExecutor loop) {
      return (millis, task) -> {
        var f = loop.schedule(task, millis, java.util.concurrent.TimeUnit.MILLISECONDS);
        return () -> f.cancel(false);
      };
    }
  }

  private final Timers timers;
  private final long intervalNanos;
  private final Consumer<Buffer> writer;
  /** True while the client can take more (its write queue is not full). */
  private final BooleanSupplier canWrite;
  private final Runnable counted;
  private long lastWriteNanos = System.nanoTime();
  /** Newlines at the end of what was written so far (CRs aside): two or more is a boundary between events. */
  private int trailingNewlines = 2;
  private Runnable cancelTimer;
  private boolean stopped;

  SseHeartbeat(Vertx vertx, long intervalMillis, Consumer<Buffer> writer, BooleanSupplier canWrite, Runnable counted) {
    this(Timers.of(vertx), intervalMillis, writer, canWrite, counted);
  }

  SseHeartbeat(Timers timers, long intervalMillis, Consumer<Buffer> writer, BooleanSupplier canWrite, Runnable counted) {
    this.timers = timers;
    this.intervalNanos = intervalMillis * 1_000_000;
    this.writer = writer;
    this.canWrite = canWrite;
    this.counted = counted;
    arm(intervalMillis);
  }

  /** A chunk went to the client: the silence starts again, and its end says whether an event is open. */
  void relayed(Buffer chunk) {
    lastWriteNanos = System.nanoTime();
    trailingNewlines = trailingNewlines(chunk, trailingNewlines);
  }

  /** Body bytes were passed to the client beneath Vert.x, the body now ending in {@code trailingNewlines} newlines. */
  void passedThrough(int trailingNewlines) {
    lastWriteNanos = System.nanoTime();
    this.trailingNewlines = trailingNewlines;
  }

  static int trailingNewlines(Buffer chunk, int before) {
    int n = 0;
    for (int i = chunk.length() - 1; i >= 0; i--) {
      byte b = chunk.getByte(i);
      if (b == '\n') n++;
      else if (b != '\r') return n;
    }
    return before + n; // only newlines: they continue what came before
  }

  /** Whether the stream is between events: something of Fairway's own (a comment, an error event) may go now. */
  boolean atBoundary() {
    return trailingNewlines >= 2;
  }

  /** Newlines at the end of what was written so far: two or more is a boundary between events. */
  int trailingNewlines() {
    return trailingNewlines;
  }

  void stop() {
    stopped = true;
    if (cancelTimer != null) cancelTimer.run();
    cancelTimer = null;
  }

  private void arm(long millis) {
    cancelTimer = timers.schedule(Math.max(1, millis), this::tick);
  }

  private void tick() {
    cancelTimer = null;
    if (stopped) return;
    long silent = System.nanoTime() - lastWriteNanos;
    if (silent >= intervalNanos && trailingNewlines >= 2 && canWrite.getAsBoolean()) {
      writer.accept(COMMENT);
      lastWriteNanos = System.nanoTime();
      counted.run();
      silent = 0;
    } else if (silent >= intervalNanos) {
      silent = intervalNanos - intervalNanos / 10; // mid-event or a full queue: look again soon
    }
    arm((intervalNanos - silent) / 1_000_000);
  }
}
