package dev.fairway.balancer;

import dev.fairway.upstream.Capacities;
import dev.fairway.upstream.InFlightCounters;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * The upstreams a strategy chooses among, as parallel arrays: ids (for hashing), weights, capacity limits and the
 * in-flight counters shared by every proxy instance. A slot is claimed only below {@code max-conns} and below what the
 * upstream last reported it can take ({@link Capacities}), whichever is lower.
 */
public final class Candidates {

  final String[] ids;
  final int[] weights;
  final int[] maxConns;
  final AtomicInteger[] inFlight;
  /** Each upstream's reported capacity (entries null: none followed). */
  final Capacities.Reported[] reported;
  /** In a cluster, each upstream's requests in flight from the other nodes, as last heard (zeros alone). */
  final AtomicInteger[] elsewhere;
  /** In a cluster, slots of a limited upstream borrowed from (positive) or lent to (negative) the other nodes. */
  final AtomicInteger[] lent;

  /**
   * @param maxConns 0 for no limit
   */
  public Candidates(String[] ids, int[] weights, int[] maxConns, AtomicInteger[] inFlight) {
    this(ids, weights, maxConns, inFlight, new Capacities.Reported[ids.length]);
  }

  public Candidates(String[] ids, int[] weights, int[] maxConns, AtomicInteger[] inFlight, Capacities.Reported[] reported) {
    this(ids, weights, maxConns, inFlight, reported, zeros(ids.length), zeros(ids.length));
  }

  /**
   * @param maxConns this node's share of each upstream's max-conns: 0 for no limit, -1 for none
   * @param lent     slots borrowed (positive) or lent (negative) on top of the share
   */
  public Candidates(String[] ids, int[] weights, int[] maxConns, AtomicInteger[] inFlight, Capacities.Reported[] reported,
                    AtomicInteger[] elsewhere, AtomicInteger[] lent) {
    this.ids = ids;
    this.weights = weights;
    this.maxConns = maxConns;
    this.inFlight = inFlight;
    this.reported = reported;
    this.elsewhere = elsewhere;
    this.lent = lent;
  }

  private static AtomicInteger[] zeros(int n) {
    AtomicInteger[] none = new AtomicInteger[n];
    for (int i = 0; i < n; i++) none[i] = new AtomicInteger();
    return none;
  }

  /** What least-conn and p2c compare: this node's requests in flight to {@code i} plus the other nodes' (as last heard). */
  int load(int i, int local) {
    return local + elsewhere[i].get();
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
    return new Candidates(ids, weights, limits, inFlight, reported, elsewhere, lent);
  }

  /** The same candidates, as a node of a cluster whose other nodes have these requests in flight to each. */
  public Candidates withElsewhere(AtomicInteger... counts) {
    return new Candidates(ids, weights, maxConns, inFlight, reported, counts, lent);
  }

  /** The same candidates, with these slots borrowed (positive) or lent (negative) on top of each share. */
  public Candidates withLent(AtomicInteger... slots) {
    return new Candidates(ids, weights, maxConns, inFlight, reported, elsewhere, slots);
  }

  /** Takes one in-flight slot on {@code i} if it is below its limit. */
  boolean tryClaim(int i) {
    AtomicInteger counter = inFlight[i];
    int max = limit(i);
    if (max == 0) {
      counter.incrementAndGet();
      return true;
    }
    while (true) {
      int n = counter.get();
      if (max < 0 || n >= max) return false;
      if (counter.compareAndSet(n, n + 1)) return true;
    }
  }

  boolean hasCapacity(int i, int count) {
    int max = limit(i);
    return max == 0 || (max > 0 && count < max);
  }

  /** The lower of max-conns and the reported limit: 0 for none, -1 for "nothing now" (a report of 0 free). */
  private int limit(int i) {
    Capacities.Reported r = reported[i];
    int report = r == null ? -1 : r.limit();
    int max = maxConns[i];
    if (max != 0) { // a limited upstream: this node's share, and what it borrowed or lent (read afresh: it moves)
      int slots = Math.max(0, max) + lent[i].get();
      max = slots > 0 ? slots : -1;
    }
    if (report < 0) return max;
    if (report == 0) return -1;
    return max == 0 ? report : Math.min(max, report);
  }
}
