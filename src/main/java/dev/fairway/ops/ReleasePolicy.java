package dev.fairway.ops;

/**
 * When to give memory back ({@link MemoryRelease}): once no garbage collection has run for the quiet period (so the
 * proxy has allocated less than its young generation in that time, and a full collection stops nothing busy), and only
 * when there is enough to give: heap grown past its size at start, or relay buffers kept for reuse. A release that
 * gave little back (what is left is live: ten thousand open connections, say) is tried again only after twice the
 * wait before it, up to an hour, so a large live set does not cost a full collection every period.
 */
final class ReleasePolicy {

  /** Less than this is not worth a full collection. */
  static final long WORTH_BYTES = 8L * 1024 * 1024;
  static final long MAX_BACKOFF_NANOS = 3_600_000_000_000L;

  /** What the JVM and the relay hold at one moment. */
  record Reading(long nanos, long collections, long heapCommitted, long keptRelayBytes) {
  }

  private final long quietNanos;
  private final long heapAtStart;
  private long collectionsSeen = -1;
  private long lastCollectionNanos;
  private long backoffNanos;
  /** No release before this, once one has run. */
  private long notBeforeNanos;
  private boolean releasedBefore;

  /**
   * @param quietNanos  how long without a collection counts as quiet (&gt; 0)
   * @param heapAtStart the heap's committed size at start: growth past it is what a release can give back
   */
  ReleasePolicy(long quietNanos, long heapAtStart) {
    this.quietNanos = quietNanos;
    this.heapAtStart = heapAtStart;
    this.backoffNanos = quietNanos;
  }

  /** Whether to release now, given this reading (each check gives one). */
  boolean due(Reading now) {
    if (now.collections() != collectionsSeen) {
      collectionsSeen = now.collections();
      lastCollectionNanos = now.nanos();
      return false;
    }
    if (now.nanos() - lastCollectionNanos < quietNanos) return false;
    if (releasedBefore && now.nanos() - notBeforeNanos < 0) return false;
    return worthReleasing(now);
  }

  private boolean worthReleasing(Reading now) {
    return now.heapCommitted() - heapAtStart >= WORTH_BYTES || now.keptRelayBytes() >= WORTH_BYTES / 2;
  }

  /**
   * Records a release: the reading before it and after it. The collection it ran starts a new quiet period, and one
   * that gave back less than is worth one doubles the wait for the next.
   */
  void released(Reading before, Reading after) {
    collectionsSeen = after.collections();
    lastCollectionNanos = after.nanos();
    boolean gaveBack = given(before, after) >= WORTH_BYTES / 2;
    backoffNanos = gaveBack ? quietNanos : Math.min(backoffNanos * 2, MAX_BACKOFF_NANOS);
    notBeforeNanos = after.nanos() + backoffNanos;
    releasedBefore = true;
  }

  /** Bytes a release gave back: the heap's shrinking and the relay buffers let go. */
  static long given(Reading before, Reading after) {
    return Math.max(0, before.heapCommitted() - after.heapCommitted()) + before.keptRelayBytes();
  }
}
