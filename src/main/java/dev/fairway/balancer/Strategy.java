package dev.fairway.balancer;

import dev.fairway.config.StrategyName;

import java.util.function.LongSupplier;

/**
 * Picks one of a fixed set of candidate upstreams and claims a request slot on it. Built once per snapshot, then
 * called on the request path from any proxy instance: implementations never lock or do I/O.
 */
public interface Strategy {

  /**
   * @param key the client's hash key (address, header or cookie value) for the hashing strategies, or null;
   *            other strategies ignore it
   * @return the index of the chosen candidate, whose in-flight counter has already been incremented (the caller
   * decrements it when the request ends), or -1 when every candidate is at its {@code max-conns} (or there is none)
   */
  int pick(String key);

  /**
   * @param sequence a process-wide counter, so that rotation is exact across proxy instances
   */
  static Strategy create(StrategyName name, Candidates candidates, LongSupplier sequence) {
    if (candidates.size() == 0) {
      return key -> -1;
    }
    return switch (name) {
      case ROUND_ROBIN -> new SmoothWeightedRoundRobin(candidates, sequence);
      case LEAST_CONN -> new LeastConnections(candidates, sequence);
      case IP_HASH, HASH -> new ConsistentHash(candidates, new SmoothWeightedRoundRobin(candidates, sequence));
      case P2C -> new PowerOfTwoChoices(candidates, sequence);
      case RANDOM -> new WeightedRandom(candidates, sequence);
    };
  }
}
