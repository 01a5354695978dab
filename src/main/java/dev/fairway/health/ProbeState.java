package dev.fairway.health;

/**
 * The rise/fall state machine of one upstream's active probes, HAProxy style: {@code fall} consecutive failures take
 * it DOWN, {@code rise} consecutive successes bring it back. The very first result decides at once, so an upstream
 * is neither kept out for {@code rise} intervals at start-up nor given traffic for {@code fall} intervals while dead.
 */
final class ProbeState {

  private final int rise;
  private final int fall;
  private boolean up;
  private int results;
  private int streak;

  ProbeState(boolean up, int rise, int fall) {
    this.up = up;
    this.rise = rise;
    this.fall = fall;
  }

  boolean up() {
    return up;
  }

  /** Another node's probes decided the state (it probed this upstream): later results count from there. */
  void heard(boolean up) {
    this.up = up;
    results = Math.max(results, 1);
    streak = 0;
  }

  /** @return true if this result changed the state; the first result always does (from "not checked" to checked) */
  boolean record(boolean success) {
    results++;
    if (results == 1) {
      up = success;
      return true;
    }
    if (success == up) {
      streak = 0;
      return false;
    }
    streak++;
    if (streak >= (up ? fall : rise)) {
      up = !up;
      streak = 0;
      return true;
    }
    return false;
  }
}
