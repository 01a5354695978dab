package dev.fairway.ops;

import dev.fairway.proxy.RelayTransport;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Vertx;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Gives back to the system the memory a burst took, once the proxy has been quiet ({@code release-memory-after}).
 * A burst (thousands of connections, a hundred concurrent transfers) grows the heap, and keeps relay buffers for the
 * next reads; neither shrinks on its own: the serial collector gives heap back only after a full collection, which a
 * proxy that allocates little seldom needs, and the JDK frees direct memory only by collecting it. So, when {@link
 * ReleasePolicy} says, this lets go of the kept relay buffers and runs a full collection, after which the heap shrinks
 * to what its live objects need (Fairway's JVM flags shrink it at once, to at most twice that) and the buffers' memory
 * is freed. Checks run on a worker thread: the collection stops every thread anyway, but never from an event loop.
 */
public final class MemoryRelease {

  private static final Logger LOG = LoggerFactory.getLogger(MemoryRelease.class);
  private static final long MIB = 1024 * 1024;

  private final ReleasePolicy policy;
  private final MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
  private final List<GarbageCollectorMXBean> collectors = ManagementFactory.getGarbageCollectorMXBeans();
  private final AtomicLong releases = new AtomicLong();
  private final AtomicLong releasedBytes = new AtomicLong();
  /** A check still running (a collection can outlast a short period) makes the next one a no-op. */
  private final AtomicBoolean checking = new AtomicBoolean();

  private MemoryRelease(long quietMillis) {
    this.policy = new ReleasePolicy(TimeUnit.MILLISECONDS.toNanos(quietMillis), memory.getHeapMemoryUsage().getCommitted());
  }

  /**
   * Checks a few times per quiet period from now on (until Vert.x closes), and counts releases on /metrics.
   *
   * @param quietMillis how long without a garbage collection counts as quiet; 0 = never release
   */
  public static void start(Vertx vertx, long quietMillis, MeterRegistry registry) {
    if (quietMillis <= 0) return;
    MemoryRelease release = new MemoryRelease(quietMillis);
    FunctionCounter.builder("fairway.memory.releases", release.releases, AtomicLong::get)
      .description("Times memory taken by a burst was given back once the proxy was quiet").register(registry);
    FunctionCounter.builder("fairway.memory.released", release.releasedBytes, AtomicLong::get).baseUnit("bytes")
      .description("Memory given back: heap the collector shrank and relay buffers let go").register(registry);
    long every = Math.max(100, Math.min(15_000, quietMillis / 4));
    vertx.setPeriodic(every, id -> {
      if (release.checking.compareAndSet(false, true)) {
        vertx.executeBlocking(() -> {
          release.check();
          return null;
        }, false).onComplete(done -> release.checking.set(false));
      }
    });
  }

  private void check() {
    ReleasePolicy.Reading before = reading();
    if (!policy.due(before)) return;
    RelayTransport.dropKeptBuffers();
    System.gc(); // a full collection; it returns once done (unless -XX:+DisableExplicitGC makes it nothing)
    ReleasePolicy.Reading after = reading();
    policy.released(before, after);
    long given = ReleasePolicy.given(before, after);
    releases.incrementAndGet();
    releasedBytes.addAndGet(given);
    LOG.info("quiet for a while: gave back {} MiB (heap {} -> {} MiB, {} MiB of relay buffers) in a {} ms collection",
      given / MIB, before.heapCommitted() / MIB, after.heapCommitted() / MIB, before.keptRelayBytes() / MIB,
      TimeUnit.NANOSECONDS.toMillis(after.nanos() - before.nanos()));
  }

  private ReleasePolicy.Reading reading() {
    long collections = 0;
    for (GarbageCollectorMXBean collector : collectors) collections += Math.max(0, collector.getCollectionCount());
    return new ReleasePolicy.Reading(System.nanoTime(), collections, memory.getHeapMemoryUsage().getCommitted(),
      RelayTransport.keptBufferBytes());
  }
}
