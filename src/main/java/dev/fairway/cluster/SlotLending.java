package dev.fairway.cluster;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Lends the unused part of this node's share of a limited upstream to nodes whose requests wait for it, and gives
 * borrowed slots back to a node that lent them once it needs them again. A slot is only ever moved by its holder:
 * it lowers its own limit first, and sends the slot once its requests in flight fit under the lowered limit (at the
 * next round at the earliest, so that a pick that read the old limit has landed); the receiver raises its limit when
 * the slot arrives. So the limits of all nodes never add up to more than the upstream's max-conns. Slots are counted
 * per epoch (the member list and max-conns): when either changes, every node goes back to its plain share, and a slot
 * sent in an older epoch is dropped.
 * <p>
 * Run by the cluster verticle on its event loop, once per status round; the counts it moves are read by every pick.
 */
final class SlotLending {

  /** What another node said of one limited upstream in its last status. */
  record Peer(String node, int share, int limit, int inFlight, int waiting, String epoch) {
  }

  /** Slots to send to another node. */
  record Grant(String to, String upstream, int slots, String epoch) {
  }

  /** Rounds a node that was sent slots is left alone, so that its next status can show them. */
  static final int COOLDOWN_ROUNDS = 3;

  private static final class State {
    String epoch;
    /** Slots this node gave up and still has to send, by node. */
    final Map<String, Integer> owed = new HashMap<>();
    /** The round until which a node that was sent slots gets no more. */
    final Map<String, Long> quietUntil = new HashMap<>();
  }

  private final Map<String, State> states = new HashMap<>();

  /** The epoch of an upstream's slots: the members, in the cluster's order, and its max-conns. */
  static String epoch(List<String> members, int maxConns) {
    return Integer.toHexString((String.join(",", members) + "/" + maxConns).hashCode());
  }

  /** This node's limit for the upstream: its share (none counts as 0) plus what it borrowed, minus what it lent. */
  static int limit(int share, AtomicInteger lent) {
    return Math.max(0, share) + lent.get();
  }

  /**
   * One round for one upstream.
   *
   * @param share    this node's share of its max-conns ({@link Shares#NONE} for none)
   * @param lent     borrowed (positive) or lent (negative) slots, read by every pick
   * @param waiting  requests waiting in this node's queue
   * @return slots to send now
   */
  List<Grant> round(String upstream, String epoch, int share, AtomicInteger lent, int inFlight, int waiting, List<Peer> peers, long round) {
    State st = state(upstream, epoch, lent);
    List<Grant> grants = new ArrayList<>();
    int limit = limit(share, lent);
    if (!st.owed.isEmpty()) {
      if (inFlight > limit) return grants; // still running over the lowered limit: send once they fit
      st.owed.forEach((node, slots) -> grants.add(new Grant(node, upstream, slots, epoch)));
      st.owed.clear();
      return grants;
    }
    List<Peer> needy = new ArrayList<>(peers.stream()
      .filter(p -> p.epoch().equals(epoch) && p.waiting() > 0 && p.inFlight() >= p.limit())
      .filter(p -> st.quietUntil.getOrDefault(p.node(), Long.MIN_VALUE) < round).toList());
    // those below their own share (they lent) first, then those with the most waiting
    needy.sort(Comparator.comparingInt((Peer p) -> Math.max(0, p.share()) - p.limit()).reversed()
      .thenComparing(Comparator.comparingInt(Peer::waiting).reversed()));
    for (Peer p : needy) {
      int borrowed = lent.get();
      int slots = 0;
      if (borrowed > 0 && p.limit() < Math.max(0, p.share())) {
        slots = Math.min(borrowed, Math.min(Math.max(0, p.share()) - p.limit(), p.waiting())); // back to the node that lent it
      } else if (waiting == 0) {
        slots = Math.min(limit - inFlight, p.waiting()); // unused here
      }
      if (slots <= 0) continue;
      lent.addAndGet(-slots);
      limit -= slots;
      st.owed.merge(p.node(), slots, Integer::sum);
      st.quietUntil.put(p.node(), round + COOLDOWN_ROUNDS);
    }
    return grants;
  }

  /** Slots another node sent: this node may use them, unless they belong to an epoch that has passed. */
  boolean received(String upstream, String epoch, int slots, AtomicInteger lent) {
    State st = states.get(upstream);
    if (st == null || !epoch.equals(st.epoch) || slots <= 0) return false;
    lent.addAndGet(slots);
    return true;
  }

  /** Opens this round's state; a new epoch starts from the plain share. */
  private State state(String upstream, String epoch, AtomicInteger lent) {
    State st = states.computeIfAbsent(upstream, u -> new State());
    if (!epoch.equals(st.epoch)) {
      st.epoch = epoch;
      st.owed.clear();
      st.quietUntil.clear();
      lent.set(0);
    }
    return st;
  }

  /** Forgets upstreams that are gone or no longer limited. */
  void retain(java.util.Set<String> limited) {
    states.keySet().retainAll(limited);
  }
}
