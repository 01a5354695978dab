package dev.fairway.metrics;

import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;

import java.util.concurrent.atomic.AtomicLongArray;

/**
 * A counter that each event loop adds to in a slot of its own (a plain load and a release store: one writer per
 * slot, so no atomic read-modify-write), summed when scraped. Micrometer's counter costs a compare-and-swap per
 * increment; for the request counter that was one of the three atomic updates each request made.
 */
final class LoopCounter {

  /** Longs between two loops' slots: 128 bytes, so neighbouring loops never write to the same or adjacent cache line. */
  private static final int STRIDE = 16;

  private final AtomicLongArray slots;
  private final Labels labels;

  LoopCounter(int eventLoops, Labels labels) {
    this.slots = new AtomicLongArray(eventLoops * STRIDE);
    this.labels = labels;
  }

  /** Called by event loop {@code loop} only. */
  void increment(int loop) {
    int i = loop * STRIDE;
    slots.setRelease(i, slots.getPlain(i) + 1);
  }

  long sum() {
    long n = 0;
    for (int i = 0; i < slots.length(); i += STRIDE) n += slots.getAcquire(i);
    return n;
  }

  CounterSnapshot.CounterDataPointSnapshot snapshot() {
    return CounterSnapshot.CounterDataPointSnapshot.builder().value(sum()).labels(labels).build();
  }
}
