package dev.fairway.ops;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Watches the running process: an exception that escapes a handler is logged and counted (Vert.x keeps the verticle
 * serving, so there is nothing to redeploy), and every proxy event loop is pinged once a second, so one that is
 * blocked shows as lag in the metrics and a warning in the log, alongside Vert.x's own blocked-thread checker.
 */
public final class Supervision {

  private static final Logger log = LoggerFactory.getLogger(Supervision.class);
  /** A loop that takes longer than this to run a queued task counts as blocked. */
  static final long BLOCKED_NANOS = TimeUnit.SECONDS.toNanos(1);

  private Supervision() {
  }

  /** @return stops the watch (call when closing Vert.x) */
  public static Runnable install(Vertx vertx, MeterRegistry registry, Supplier<List<Context>> eventLoops) {
    Counter uncaught = Counter.builder("fairway.uncaught.errors")
      .description("Exceptions that escaped a handler (logged; the verticle keeps serving)").register(registry);
    vertx.exceptionHandler(err -> {
      uncaught.increment();
      log.error("unexpected error in a handler", err);
    });
    Timer lag = Timer.builder("fairway.event.loop.lag")
      .description("Delay before a proxy event loop runs a queued task").register(registry);
    Counter blocked = Counter.builder("fairway.event.loop.blocked")
      .description("Times a proxy event loop took over a second to run a queued task").register(registry);
    // pinged from a thread of its own: a timer on an event loop could be stuck behind the very loop it watches
    ScheduledExecutorService pinger = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "fairway-loop-watch");
      t.setDaemon(true);
      return t;
    });
    pinger.scheduleAtFixedRate(() -> {
      for (Context loop : eventLoops.get()) {
        long queued = System.nanoTime();
        loop.runOnContext(v -> {
          long delay = System.nanoTime() - queued;
          lag.record(delay, TimeUnit.NANOSECONDS);
          if (delay > BLOCKED_NANOS) {
            blocked.increment();
            log.warn("a proxy event loop was blocked for {} ms", delay / 1_000_000);
          }
        });
      }
    }, 1, 1, TimeUnit.SECONDS);
    return pinger::shutdownNow;
  }
}
