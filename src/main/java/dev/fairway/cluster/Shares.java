package dev.fairway.cluster;

import java.util.List;

/**
 * Splits an upstream's cluster-wide max-conns into per-node shares that add up to it: each node gets the quotient,
 * and the nodes ranked first for the upstream (rendezvous) one more each for the remainder, so remainders of
 * different upstreams land on different nodes. A node's share is what it may send the upstream at once: the limit is
 * kept cluster-wide with no message per request.
 */
public final class Shares {

  /** A node with no share of a limited upstream: it sends that upstream nothing. */
  public static final int NONE = -1;

  private Shares() {
  }

  /**
   * @param maxConns the upstream's limit, 0 for none
   * @return this node's share: 0 for no limit, {@link #NONE} for a zero share, else the share
   */
  public static int of(int maxConns, String upstream, List<String> members, String self) {
    if (maxConns <= 0 || members.size() <= 1) return maxConns;
    int n = members.size();
    int rank = Rendezvous.rank(upstream, members).indexOf(self);
    if (rank < 0) return NONE; // not (yet) a member: take nothing
    int share = maxConns / n + (rank < maxConns % n ? 1 : 0);
    return share == 0 ? NONE : share;
  }
}
