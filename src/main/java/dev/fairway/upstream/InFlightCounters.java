package dev.fairway.upstream;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Process-wide per-upstream counters shared by every proxy verticle instance: in-flight requests (exact across
 * instances, so least-conn sees the whole picture, unlike nginx workers without a shared zone) and the round-robin
 * sequence. Proxy instances resolve their counters once per snapshot, so the request path only touches atomics.
 */
public final class InFlightCounters {

  private final ConcurrentHashMap<String, AtomicInteger> inFlight = new ConcurrentHashMap<>();
  /** In a cluster: requests in flight from the other nodes, per upstream, as their last status said. */
  private final ConcurrentHashMap<String, AtomicInteger> elsewhere = new ConcurrentHashMap<>();
  /** In a cluster: slots of a limited upstream borrowed from (positive) or lent to (negative) the other nodes. */
  private final ConcurrentHashMap<String, AtomicInteger> lent = new ConcurrentHashMap<>();
  private final AtomicLong sequence = new AtomicLong();

  public AtomicInteger of(String upstreamId) {
    return inFlight.computeIfAbsent(upstreamId, id -> new PaddedCounter());
  }

  /** The other nodes' requests in flight to this upstream (0 when not clustered), kept by the cluster verticle. */
  public AtomicInteger elsewhere(String upstreamId) {
    return elsewhere.computeIfAbsent(upstreamId, id -> new PaddedCounter());
  }

  /** Slots of this upstream borrowed (positive) or lent (negative) on top of this node's share, kept by the cluster verticle. */
  public AtomicInteger lent(String upstreamId) {
    return lent.computeIfAbsent(upstreamId, id -> new PaddedCounter());
  }

  public int get(String upstreamId) {
    AtomicInteger n = inFlight.get(upstreamId);
    return n == null ? 0 : n.get();
  }

  /** Requests in flight to all upstreams. */
  public int total() {
    return inFlight.values().stream().mapToInt(AtomicInteger::get).sum();
  }

  /** The next value of the one sequence that round-robin and tie-breaks step through. */
  public long next() {
    return sequence.getAndIncrement();
  }
}
