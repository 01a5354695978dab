package dev.fairway.balancer;

import java.util.Arrays;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.LongSupplier;

/** Weighted random choice over cumulative weights; a full upstream hands over to the least loaded one. */
final class WeightedRandom implements Strategy {

  private final Candidates c;
  private final int[] cumulative;
  private final LongSupplier sequence;

  WeightedRandom(Candidates candidates, LongSupplier sequence) {
    this.c = candidates;
    this.sequence = sequence;
    this.cumulative = new int[candidates.size()];
    int sum = 0;
    for (int i = 0; i < cumulative.length; i++) {
      sum += candidates.weights[i];
      cumulative[i] = sum;
    }
  }

  @Override
  public int pick(String key) {
    int r = ThreadLocalRandom.current().nextInt(cumulative[cumulative.length - 1]);
    int i = Arrays.binarySearch(cumulative, r + 1);
    if (i < 0) i = -i - 1;
    if (c.tryClaim(i)) return i;
    return LeastConnections.pickFrom(c, (int) Math.floorMod(sequence.getAsLong(), (long) c.size()));
  }
}
