package dev.fairway.upstream;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * An {@link AtomicInteger} padded to its own cache line: in-flight counters of different upstreams are written by
 * every proxy instance, and unpadded neighbours would make each write invalidate the others (false sharing).
 */
@SuppressWarnings("unused")
final class PaddedCounter extends AtomicInteger {

  private long p1, p2, p3, p4, p5, p6, p7;
}
