package dev.fairway.balancer;

import java.util.concurrent.ThreadLocalRandom;
import java.util.function.LongSupplier;

/**
 * Power of two random choices (Envoy's default): of two random upstreams, the one with fewer requests in flight per
 * weight. Constant time whatever the number of upstreams; falls back to a full scan only when both are full.
 */
final class PowerOfTwoChoices implements Strategy {

  private final Candidates c;
  private final LongSupplier sequence;

  PowerOfTwoChoices(Candidates candidates, LongSupplier sequence) {
    this.c = candidates;
    this.sequence = sequence;
  }

  @Override
  public int pick(String key) {
    int n = c.size();
    if (n == 1) return c.tryClaim(0) ? 0 : -1;
    ThreadLocalRandom random = ThreadLocalRandom.current();
    int a = random.nextInt(n);
    int b = random.nextInt(n - 1);
    if (b >= a) b++;
    long loadA = (long) c.load(a, c.inFlight[a].get()) * c.weights[b];
    long loadB = (long) c.load(b, c.inFlight[b].get()) * c.weights[a];
    int first = loadA <= loadB ? a : b;
    int second = first == a ? b : a;
    if (c.tryClaim(first)) return first;
    if (c.tryClaim(second)) return second;
    return LeastConnections.pickFrom(c, (int) Math.floorMod(sequence.getAsLong(), (long) n));
  }
}
