package dev.fairway.ops;

import java.util.concurrent.atomic.AtomicBoolean;

/** Process-wide run state shared by the roles: once draining, proxies close kept-alive connections and /health/ready says 503. */
public final class Lifecycle {

  private final AtomicBoolean draining = new AtomicBoolean();

  /** @return true the first time only */
  public boolean startDraining() {
    return draining.compareAndSet(false, true);
  }

  public boolean draining() {
    return draining.get();
  }
}
