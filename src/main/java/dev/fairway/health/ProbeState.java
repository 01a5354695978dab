package dev.fairway.health;

/**
 * The rise/fall state machine of one upstream, HAProxy style: {@code fall} consecutive failures take it DOWN,
 * {@code rise} consecutive successes bring it back. The very first result decides at once, so an upstream that is
 * down at start-up does not get traffic for {@code fall} intervals.
 */
final class ProbeState {

  private final int rise;
  private final int fall;
  private boolean up;
  private boolean checked;
  private int streak;

  ProbeState(boolean up, int rise, int fall) {
    this.up = up;
    this.rise = rise;
    this.fall = fall;
  }

  boolean up() {
    return up;
  }

  /** @return true if this result changed the state; the first result always does (from "unchecked" to checked) */
  boolean record(boolean success) {
    if (!checked) {
      checked = true;
      streak = 0;
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
