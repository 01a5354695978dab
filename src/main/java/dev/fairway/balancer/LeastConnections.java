package dev.fairway.balancer;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;

/**
 * Fewest in-flight requests relative to weight, ties broken round-robin. The slot is claimed with a compare-and-set
 * on the count that was seen, so two proxy instances picking at once never both take the same idle upstream.
 */
final class LeastConnections implements Strategy {

  private final int[] weights;
  private final AtomicInteger[] inFlight;
  private final LongSupplier sequence;

  LeastConnections(int[] weights, AtomicInteger[] inFlight, LongSupplier sequence) {
    this.weights = weights;
    this.inFlight = inFlight;
    this.sequence = sequence;
  }

  @Override
  public int pick() {
    int n = weights.length;
    int start = (int) Math.floorMod(sequence.getAsLong(), (long) n);
    while (true) {
      int best = -1;
      int bestCount = 0;
      for (int k = 0; k < n; k++) {
        int i = (start + k) % n;
        int count = inFlight[i].get();
        // count/weight < bestCount/bestWeight, without division
        if (best < 0 || (long) count * weights[best] < (long) bestCount * weights[i]) {
          best = i;
          bestCount = count;
        }
      }
      if (inFlight[best].compareAndSet(bestCount, bestCount + 1)) {
        return best;
      }
    }
  }
}
