package dev.fairway.proxy;

import java.util.Arrays;
import java.util.concurrent.ConcurrentHashMap;

/**
 * How long a queued request will wait, from what Fairway has seen: per route and group, the durations of the last
 * {@value #WINDOW} requests that reached an upstream and did not fail (time from dispatch to the end of the response).
 * With S slots in the group (their max-conns) the group finishes about one request per median / S, so the request at
 * position P is dispatched after about P x median / S. It is an estimate: its error is that of the median as a guess
 * for the jobs ahead, and of the running jobs' remaining time (taken as a whole median). None before
 * {@value #MIN_SAMPLES} requests finished.
 */
final class WaitEstimates {

  static final int WINDOW = 50;
  static final int MIN_SAMPLES = 10;

  private final ConcurrentHashMap<String, Window> windows = new ConcurrentHashMap<>();

  void record(String routeAndGroup, long nanos) {
    windows.computeIfAbsent(routeAndGroup, k -> new Window()).add(nanos);
  }

  /** @return seconds (to a tenth) until dispatch at {@code position}, or null before enough requests finished */
  Double etaSeconds(String routeAndGroup, int position, int slots) {
    Window w = windows.get(routeAndGroup);
    long median = w == null ? -1 : w.median();
    if (median < 0) return null;
    return Math.round(median / 1e8 * position / Math.max(1, slots)) / 10.0;
  }

  /** The last {@link #WINDOW} durations, in a ring. */
  private static final class Window {
    private final long[] ring = new long[WINDOW];
    private int count;
    private int next;

    synchronized void add(long nanos) {
      ring[next] = nanos;
      next = (next + 1) % WINDOW;
      if (count < WINDOW) count++;
    }

    /** The median, or -1 with fewer than {@link #MIN_SAMPLES}. */
    synchronized long median() {
      if (count < MIN_SAMPLES) return -1;
      long[] sorted = Arrays.copyOf(ring, count);
      Arrays.sort(sorted);
      return count % 2 == 1 ? sorted[count / 2] : (sorted[count / 2 - 1] + sorted[count / 2]) / 2;
    }
  }
}
