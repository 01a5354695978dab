package dev.fairway.proxy;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;

import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * The {@code event: queue} messages of one waiting request whose client accepts an event stream: its place now, sent
 * when it changes (looked at every second) and at least every {@code queue-events-interval}, until it is dispatched
 * or gone. Runs on the request's event loop.
 */
final class QueueEvents {

  private final Vertx vertx;
  private final long intervalNanos;
  /** Where the request stands ({@code position}, {@code ahead}, {@code eta_seconds}); null once it left the queue. */
  private final Supplier<JsonObject> place;
  private final Consumer<Buffer> writer;
  private final long timer;
  private long lastSentNanos;
  private String lastSent;

  QueueEvents(Vertx vertx, long intervalMillis, Supplier<JsonObject> place, Consumer<Buffer> writer) {
    this.vertx = vertx;
    this.intervalNanos = intervalMillis * 1_000_000;
    this.place = place;
    this.writer = writer;
    tell();
    timer = vertx.setPeriodic(Math.min(1_000, intervalMillis), id -> tell());
  }

  private void tell() {
    JsonObject now = place.get();
    if (now == null) return;
    String text = now.encode();
    long at = System.nanoTime();
    if (text.equals(lastSent) && at - lastSentNanos < intervalNanos) return;
    lastSent = text;
    lastSentNanos = at;
    writer.accept(Buffer.buffer("event: queue\ndata: " + text + "\n\n"));
  }

  void stop() {
    vertx.cancelTimer(timer);
  }
}
