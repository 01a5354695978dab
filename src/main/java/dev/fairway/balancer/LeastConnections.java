package dev.fairway.balancer;

import java.util.function.LongSupplier;

/**
 * Fewest in-flight requests relative to weight, ties broken round-robin. The slot is claimed with a compare-and-set
 * on the count that was seen, so two proxy instances picking at once never both take the same idle upstream. In a
 * cluster the count compared includes the other nodes' requests, as last heard (at most 200 ms old).
 */
final class LeastConnections implements Strategy {

  private final Candidates c;
  private final LongSupplier sequence;

  LeastConnections(Candidates candidates, LongSupplier sequence) {
    this.c = candidates;
    this.sequence = sequence;
  }

  @Override
  public int pick(String key) {
    return pickFrom(c, (int) Math.floorMod(sequence.getAsLong(), (long) c.size()));
  }

  /** Scans from {@code start}; shared with the strategies that fall back to it. */
  static int pickFrom(Candidates c, int start) {
    int n = c.size();
    while (true) {
      int best = -1;
      int bestCount = 0;
      int bestLoad = 0;
      for (int k = 0; k < n; k++) {
        int i = (start + k) % n;
        int count = c.inFlight[i].get();
        int load = c.load(i, count);
        // load/weight < bestLoad/bestWeight, without division
        if (c.hasCapacity(i, count) && (best < 0 || (long) load * c.weights[best] < (long) bestLoad * c.weights[i])) {
          best = i;
          bestCount = count;
          bestLoad = load;
          if (load == 0) break; // nothing beats an idle upstream: no need to scan the rest
        }
      }
      if (best < 0) return -1;
      if (c.inFlight[best].compareAndSet(bestCount, bestCount + 1)) return best;
    }
  }
}
