package dev.fairway.balancer;

import java.util.Arrays;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;

/** Weighted random choice over cumulative weights. */
final class WeightedRandom implements Strategy {

  private final int[] cumulative;
  private final AtomicInteger[] inFlight;

  WeightedRandom(int[] weights, AtomicInteger[] inFlight) {
    this.cumulative = new int[weights.length];
    int sum = 0;
    for (int i = 0; i < weights.length; i++) {
      sum += weights[i];
      cumulative[i] = sum;
    }
    this.inFlight = inFlight;
  }

  @Override
  public int pick() {
    int r = ThreadLocalRandom.current().nextInt(cumulative[cumulative.length - 1]);
    int i = Arrays.binarySearch(cumulative, r + 1);
    if (i < 0) i = -i - 1;
    inFlight[i].incrementAndGet();
    return i;
  }
}
