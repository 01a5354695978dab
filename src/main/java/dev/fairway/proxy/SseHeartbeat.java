package dev.fairway.proxy;

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

  private final Vertx vertx;
  private final long intervalNanos;
  private final Consumer<Buffer> writer;
  /** True while the client can take more (its write queue is not full). */
  private final BooleanSupplier canWrite;
  private final Runnable counted;
  private long lastWriteNanos = System.nanoTime();
  /** Newlines at the end of what was written so far (CRs aside): two or more is a boundary between events. */
  private int trailingNewlines = 2;
  private long timer = -1;
  private boolean stopped;

  SseHeartbeat(Vertx vertx, long intervalMillis, Consumer<Buffer> writer, BooleanSupplier canWrite, Runnable counted) {
    this.vertx = vertx;
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

  void stop() {
    stopped = true;
    if (timer >= 0) vertx.cancelTimer(timer);
  }

  private void arm(long millis) {
    timer = vertx.setTimer(Math.max(1, millis), id -> tick());
  }

  private void tick() {
    timer = -1;
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
