package dev.fairway.metrics;

import io.vertx.core.json.JsonObject;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.SingleWriterRecorder;

import java.util.ArrayDeque;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * One upstream's last minute, for {@code /stats} and the dashboard: requests, 5xx and a latency histogram per
 * second. Each event loop records into its own {@link SingleWriterRecorder} (plain increments of the histogram and two
 * uncontended atomic increments of the recorder's phaser, not the half a dozen atomic updates per value of a shared
 * recorder: the live statistics were about 40% of the metrics' cost); one reader, the admin verticle, rolls them all
 * once a second.
 */
public final class LiveStats {

  static final int WINDOW_SECONDS = 60;
  private static final long MAX_MICROS = 2L * 3600 * 1_000_000;

  private final SingleWriterRecorder[] latency;
  /** 5xx responses by event loop: each written by its loop alone (release stores, no read-modify-write). */
  private final AtomicLongArray errors;
  /** Rolled by one thread (the admin verticle's) once a second. */
  private final ArrayDeque<Second> window = new ArrayDeque<>();
  private final Histogram[] parts;
  private final long[] errorsSeen;
  private Histogram recycled;

  private record Second(long requests, long errors, Histogram latency) {
  }

  /** @param writers the event loops that record, numbered from 0 */
  LiveStats(int writers) {
    latency = new SingleWriterRecorder[writers];
    for (int i = 0; i < writers; i++) latency[i] = new SingleWriterRecorder(MAX_MICROS, 2);
    errors = new AtomicLongArray(writers);
    parts = new Histogram[writers];
    errorsSeen = new long[writers];
  }

  /** Called by event loop {@code writer} only. */
  void record(int writer, long nanos, int status) {
    latency[writer].recordValue(Math.min(Math.max(nanos / 1_000, 1), MAX_MICROS));
    if (status >= 500) errors.setRelease(writer, errors.getPlain(writer) + 1);
  }

  /** Closes the current second. */
  void roll() {
    Histogram second = recycled != null ? recycled : new Histogram(MAX_MICROS, 2);
    second.reset();
    long errs = 0;
    for (int i = 0; i < latency.length; i++) {
      parts[i] = latency[i].getIntervalHistogram(parts[i]);
      second.add(parts[i]);
      long total = errors.get(i);
      errs += total - errorsSeen[i];
      errorsSeen[i] = total;
    }
    window.addLast(new Second(second.getTotalCount(), errs, second));
    recycled = null;
    if (window.size() > WINDOW_SECONDS) {
      recycled = window.removeFirst().latency();
    }
  }

  /** The last minute (or less, right after start) as JSON. */
  JsonObject toJson() {
    long reqs = 0;
    long errs = 0;
    Histogram all = new Histogram(MAX_MICROS, 2);
    for (Second s : window) {
      reqs += s.requests();
      errs += s.errors();
      all.add(s.latency());
    }
    int seconds = Math.max(1, window.size());
    return new JsonObject()
      .put("requests_per_second", Math.round(reqs * 10.0 / seconds) / 10.0)
      .put("error_rate", reqs == 0 ? 0.0 : Math.round(errs * 10_000.0 / reqs) / 10_000.0)
      .put("latency_ms", new JsonObject()
        .put("p50", millis(all, 50)).put("p95", millis(all, 95)).put("p99", millis(all, 99)));
  }

  private static double millis(Histogram h, double percentile) {
    return h.getTotalCount() == 0 ? 0.0 : Math.round(h.getValueAtPercentile(percentile) / 100.0) / 10.0;
  }
}
