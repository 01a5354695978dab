package dev.fairway.balancer;

import java.util.Arrays;

/**
 * Consistent hashing on a ring of virtual nodes (100 per unit of weight), for {@code ip-hash} and {@code hash}.
 * The ring holds only the usable upstreams of a snapshot, so when one of N goes down or is removed only its ~1/N of
 * keys move (to the next node on the ring), and they come back when it returns. The whole key is hashed: every
 * address of 127.0.0.0/8 lands somewhere different, unlike nginx's ip_hash on three octets. A key whose upstream
 * is at its limit walks on to the next one; a request without a key falls back to round-robin.
 */
public final class ConsistentHash implements Strategy {

  static final int POINTS_PER_WEIGHT = 100;

  private final Candidates c;
  private final Strategy fallback;
  private final long[] points;
  private final int[] owners;

  ConsistentHash(Candidates candidates, Strategy fallback) {
    this.c = candidates;
    this.fallback = fallback;
    int total = 0;
    for (int w : candidates.weights) total += w * POINTS_PER_WEIGHT;
    long[][] pairs = new long[total][];
    int k = 0;
    for (int i = 0; i < candidates.size(); i++) {
      for (int v = 0; v < candidates.weights[i] * POINTS_PER_WEIGHT; v++) {
        pairs[k++] = new long[] {hash(candidates.ids[i] + "#" + v), i};
      }
    }
    Arrays.sort(pairs, (x, y) -> Long.compare(x[0], y[0]));
    points = new long[total];
    owners = new int[total];
    for (int j = 0; j < total; j++) {
      points[j] = pairs[j][0];
      owners[j] = (int) pairs[j][1];
    }
  }

  @Override
  public int pick(String key) {
    if (key == null) return fallback.pick(null);
    int j = Arrays.binarySearch(points, hash(key));
    if (j < 0) j = -j - 1;
    int first = owners[j % points.length];
    if (c.tryClaim(first)) return first;
    // full: walk the ring to the next upstream with room (rare, so the bookkeeping may allocate)
    boolean[] tried = new boolean[c.size()];
    tried[first] = true;
    int left = c.size() - 1;
    for (int step = 1; step < points.length && left > 0; step++) {
      int owner = owners[(j + step) % points.length];
      if (tried[owner]) continue;
      if (c.tryClaim(owner)) return owner;
      tried[owner] = true;
      left--;
    }
    return -1;
  }

  /** FNV-1a over the characters, then MurmurHash3's 64-bit finalizer to spread nearby keys (127.0.0.2, .3, ...). */
  public static long hash(String s) {
    long h = 0xcbf29ce484222325L;
    for (int i = 0; i < s.length(); i++) {
      h ^= s.charAt(i);
      h *= 0x100000001b3L;
    }
    h ^= h >>> 33;
    h *= 0xff51afd7ed558ccdL;
    h ^= h >>> 33;
    h *= 0xc4ceb9fe1a85ec53L;
    h ^= h >>> 33;
    return h;
  }
}
