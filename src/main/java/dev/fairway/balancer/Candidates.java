package dev.fairway.balancer;

import dev.fairway.upstream.InFlightCounters;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * The upstreams a strategy chooses among, as parallel arrays: ids (for hashing), weights, capacity limits and the
 * in-flight counters shared by every proxy instance. A slot is claimed only below {@code max-conns}.
 */
public final class Candidates {

  final String[] ids;
  final int[] weights;
  final int[] maxConns;
  final AtomicInteger[] inFlight;

  /**
   * @param maxConns 0 for no limit
   */
  public Candidates(String[] ids, int[] weights, int[] maxConns, AtomicInteger[] inFlight) {
    this.ids = ids;
    this.weights = weights;
    this.maxConns = maxConns;
    this.inFlight = inFlight;
  }

  /** Given weights, no limits, fresh counters (padded, as in production): for tests and benchmarks. */
  public static Candidates of(int... weights) {
    String[] ids = new String[weights.length];
    AtomicInteger[] counters = new AtomicInteger[weights.length];
    InFlightCounters fresh = new InFlightCounters();
    for (int i = 0; i < weights.length; i++) {
      ids[i] = "127.0.0.1:" + (5000 + i);
      counters[i] = fresh.of(ids[i]);
    }
    return new Candidates(ids, weights, new int[weights.length], counters);
  }

  public int size() {
    return weights.length;
  }

  public AtomicInteger inFlight(int i) {
    return inFlight[i];
  }

  public Candidates withMaxConns(int... limits) {
    return new Candidates(ids, weights, limits, inFlight);
  }

  /** Takes one in-flight slot on {@code i} if it is below its limit. */
  boolean tryClaim(int i) {
    AtomicInteger counter = inFlight[i];
    int max = maxConns[i];
    if (max == 0) {
      counter.incrementAndGet();
      return true;
    }
    while (true) {
      int n = counter.get();
      if (n >= max) return false;
      if (counter.compareAndSet(n, n + 1)) return true;
    }
  }

  boolean hasCapacity(int i, int count) {
    return maxConns[i] == 0 || count < maxConns[i];
  }
}
