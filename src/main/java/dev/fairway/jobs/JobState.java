package dev.fairway.jobs;

import java.util.Locale;

/** Where a job is in its life; the last five are final. */
public enum JobState {
  /** Waiting in the queue for an upstream slot. */
  QUEUED,
  /** Sent upstream; its response is being spooled. */
  RUNNING,
  /** The upstream's response arrived whole and is in the spool. */
  DONE,
  /** The upstream failed (no answer, closed mid-response, a timeout): what arrived is in the spool. */
  FAILED,
  /** Cancelled with DELETE, or by a client that went away on a route with on-disconnect: cancel. */
  CANCELLED,
  /** Fairway stopped while it ran: what arrived before is in the spool. */
  INTERRUPTED,
  /** The response went on to the client, but the spool stopped at max-size, max-total or a full disk. */
  TRUNCATED,
  /** Past retention: its spool is deleted; only the id is remembered, to answer 410. */
  EXPIRED;

  public boolean ended() {
    return this != QUEUED && this != RUNNING;
  }

  public String json() {
    return name().toLowerCase(Locale.ROOT);
  }

  static JobState of(String json) {
    return valueOf(json.toUpperCase(Locale.ROOT));
  }
}
