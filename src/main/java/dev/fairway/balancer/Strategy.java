package dev.fairway.balancer;

import dev.fairway.config.StrategyName;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;

/**
 * Picks one of a fixed list of candidate upstreams and claims a request slot on it. Built once per snapshot, then
 * called on the request path from any proxy instance: implementations never lock, allocate or do I/O.
 */
public interface Strategy {

  /**
   * @return the index of the chosen candidate, whose in-flight counter has already been incremented (the caller
   * decrements it when the request ends), or -1 when there is no candidate
   */
  int pick();

  /**
   * @param weights  the candidates' weights, all 1 or more
   * @param inFlight the candidates' in-flight counters, shared by every proxy instance
   * @param sequence a process-wide counter, so that rotation is exact across proxy instances
   */
  static Strategy create(StrategyName name, int[] weights, AtomicInteger[] inFlight, LongSupplier sequence) {
    if (weights.length == 0) {
      return () -> -1;
    }
    return switch (name) {
      case ROUND_ROBIN -> new SmoothWeightedRoundRobin(weights, inFlight, sequence);
      case LEAST_CONN -> new LeastConnections(weights, inFlight, sequence);
      case RANDOM -> new WeightedRandom(weights, inFlight);
    };
  }
}
