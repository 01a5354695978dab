package dev.fairway.cluster;

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

  /** String.hashCode is specified, so every JVM computes the same score; the mix spreads its bits. */
  private static long score(String member, String key) {
    long h = ((long) member.hashCode() << 32) ^ (key.hashCode() & 0xffffffffL);
    h ^= h >>> 33;
    h *= 0xff51afd7ed558ccdL;
    h ^= h >>> 33;
    h *= 0xc4ceb9fe1a85ec53L;
    h ^= h >>> 33;
    return h;
  }
}
