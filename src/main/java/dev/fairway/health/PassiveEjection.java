package dev.fairway.health;

import java.util.ArrayDeque;

/**
 * nginx's max_fails/fail_timeout with Envoy's back-off: {@code maxFails} failures reported by the proxy within
 * {@code failTimeout} eject the upstream for {@code failTimeout}; an upstream ejected again soon after it came back
 * stays out twice as long each time, up to {@code maxEjection}.
 */
final class PassiveEjection {

  private final int maxFails;
  private final long failTimeout;
  private final long maxEjection;
  private final ArrayDeque<Long> failures = new ArrayDeque<>();
  private boolean ejected;
  private long lastDuration;
  private long lastEnded = Long.MIN_VALUE / 2;
  private int ejections;

  PassiveEjection(int maxFails, long failTimeout, long maxEjection) {
    this.maxFails = maxFails;
    this.failTimeout = failTimeout;
    this.maxEjection = maxEjection;
  }

  /** @return how long to eject for if this failure ejects the upstream, else 0 */
  long recordFailure(long now) {
    if (maxFails == 0 || ejected) return 0;
    while (!failures.isEmpty() && failures.peekFirst() <= now - failTimeout) failures.pollFirst();
    failures.addLast(now);
    if (failures.size() < maxFails) return 0;
    return eject(now);
  }

  /** Ejects again at once (the probe at the end of an ejection failed). */
  long ejectAgain(long now) {
    ejected = false;
    lastEnded = now;
    return eject(now);
  }

  private long eject(long now) {
    failures.clear();
    boolean soonAfterTheLast = now - lastEnded < 2 * Math.max(lastDuration, failTimeout);
    lastDuration = soonAfterTheLast && lastDuration > 0 ? Math.min(lastDuration * 2, maxEjection) : failTimeout;
    ejected = true;
    ejections++;
    return lastDuration;
  }

  void ended(long now) {
    ejected = false;
    lastEnded = now;
  }

  boolean ejected() {
    return ejected;
  }

  int ejections() {
    return ejections;
  }
}
