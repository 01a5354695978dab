package dev.fairway.balancer;

import java.util.function.LongSupplier;

/**
 * nginx's smooth weighted round-robin. Its sequence repeats every sum-of-weights picks, so it is computed once per
 * snapshot and a pick is one step of a shared counter: lock-free and exact across all proxy instances
 * (weights 5,1,1 give a a b a c a a, never a a a a a b c). An upstream at its limit is skipped.
 */
final class SmoothWeightedRoundRobin implements Strategy {

  private final Candidates candidates;
  private final int[] schedule;
  private final LongSupplier sequence;

  SmoothWeightedRoundRobin(Candidates candidates, LongSupplier sequence) {
    this.candidates = candidates;
    this.schedule = schedule(candidates.weights);
    this.sequence = sequence;
  }

  /** One full period of nginx's algorithm, with weights reduced by their common divisor to keep it short. */
  static int[] schedule(int[] weights) {
    int gcd = 0;
    for (int w : weights) gcd = gcd(gcd, w);
    int total = 0;
    int[] w = new int[weights.length];
    for (int i = 0; i < w.length; i++) {
      w[i] = weights[i] / gcd;
      total += w[i];
    }
    int[] current = new int[w.length];
    int[] schedule = new int[total];
    for (int step = 0; step < total; step++) {
      int best = 0;
      for (int i = 0; i < w.length; i++) {
        current[i] += w[i];
        if (current[i] > current[best]) best = i;
      }
      current[best] -= total;
      schedule[step] = best;
    }
    return schedule;
  }

  private static int gcd(int a, int b) {
    return b == 0 ? a : gcd(b, a % b);
  }

  @Override
  public int pick(String key) {
    long start = sequence.getAsLong();
    for (int k = 0; k < schedule.length; k++) {
      int i = schedule[(int) Math.floorMod(start + k, (long) schedule.length)];
      if (candidates.tryClaim(i)) return i;
    }
    return -1;
  }
}
