package dev.fairway.cluster;

import dev.fairway.balancer.ConsistentHash;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Rendezvous (highest random weight) hashing: every node ranks the members for a key the same way, from the member
 * list alone, with no coordination; when a member leaves, only the keys it ranked first move. Used to choose which
 * node probes an upstream and which nodes hold the remainder of its max-conns.
 */
public final class Rendezvous {

  private Rendezvous() {
  }

  /** The members, best first, for {@code key}. */
  public static List<String> rank(String key, List<String> members) {
    List<String> ranked = new ArrayList<>(members);
    ranked.sort(Comparator.comparingLong((String m) -> score(m, key)).reversed().thenComparing(Comparator.naturalOrder()));
    return ranked;
  }

  /** The member that ranks first for {@code key}, or null for no members. */
  public static String owner(String key, List<String> members) {
    String best = null;
    long bestScore = Long.MIN_VALUE;
    for (String m : members) {
      long s = score(m, key);
      if (best == null || s > bestScore || (s == bestScore && m.compareTo(best) < 0)) {
        best = m;
        bestScore = s;
      }
    }
    return best;
  }

  /** The same on every JVM (a hash of the characters, no seed), spread so that similar ids score apart. */
  private static long score(String member, String key) {
    return ConsistentHash.hash(member + '|' + key);
  }
}
