package dev.fairway.metrics;

import io.vertx.core.json.JsonObject;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

import java.util.ArrayDeque;
import java.util.concurrent.atomic.LongAdder;

/**
 * One upstream's last minute, for {@code /stats} and the dashboard: requests, 5xx and a latency histogram per
 * second (HdrHistogram's {@link Recorder}: lock-free for the event loops that record, one reader that rolls it).
 */
public final class LiveStats {

  static final int WINDOW_SECONDS = 60;
  private static final long MAX_MICROS = 2L * 3600 * 1_000_000;

  private final Recorder latency = new Recorder(MAX_MICROS, 2);
  private final LongAdder requests = new LongAdder();
  private final LongAdder errors = new LongAdder();
  /** Rolled by one thread (the admin verticle's) once a second. */
  private final ArrayDeque<Second> window = new ArrayDeque<>();
  private Histogram recycled;

  private record Second(long requests, long errors, Histogram latency) {
  }

  void record(long nanos, int status) {
    latency.recordValue(Math.min(Math.max(nanos / 1_000, 1), MAX_MICROS));
    requests.increment();
    if (status >= 500) errors.increment();
  }

  /** Closes the current second. */
  void roll() {
    Histogram h = latency.getIntervalHistogram(recycled);
    window.addLast(new Second(requests.sumThenReset(), errors.sumThenReset(), h));
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
