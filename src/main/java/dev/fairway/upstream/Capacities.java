package dev.fairway.upstream;

import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What upstreams say they can take, shared by the health checks (their health JSON, {@code health.capacity-field}),
 * the proxy instances (a response header, {@code health.capacity-header}) and every pick. A report turns into a limit
 * on Fairway's own requests in flight to that upstream, used with {@code max-conns} (the lower wins):
 * <ul>
 *   <li>slots and free known ({@code {"slots":4,"busy":3}}, {@code X-Capacity: 1/4}): at most the slots, and at most
 *   Fairway's requests in flight when the report came plus the free ones. A report that lags (it does not yet count
 *   requests Fairway just sent) can then not push Fairway past the slots;</li>
 *   <li>free slots only (a number): at most that many of Fairway's, as if the report counted none of them: a lagging
 *   report never over-dispatches, at the price of leaving slots unused when it is exact.</li>
 * </ul>
 * A report that cannot be read (not a number, negative, over a million) is ignored with a warning at most once a
 * minute per upstream; max-conns alone then applies, as it does before any report.
 */
public final class Capacities {

  private static final Logger log = LoggerFactory.getLogger(Capacities.class);
  private static final Pattern HEADER = Pattern.compile("\\s*(\\d{1,7})\\s*(?:/\\s*(\\d{1,7})\\s*)?");
  private static final int MAX = 1_000_000;
  private static final long WARN_EVERY_NANOS = 60_000_000_000L;

  /** One upstream's last report. */
  public static final class Reported {
    private volatile int limit = -1;
    private volatile int free = -1;
    private volatile int slots = -1;
    private volatile long at;
    private volatile long warnedNanos;

    /** The most of Fairway's requests it may have in flight, or -1 without a report. */
    public int limit() {
      return limit;
    }

    public JsonObject toJson() {
      return limit < 0 ? null : new JsonObject().put("free", free).put("slots", slots < 0 ? null : slots).put("limit", limit)
        .put("reported_at", at);
    }
  }

  private final ConcurrentHashMap<String, Reported> reports = new ConcurrentHashMap<>();
  private final InFlightCounters inFlight;
  private final CopyOnWriteArrayList<Runnable> onChange = new CopyOnWriteArrayList<>();

  public Capacities(InFlightCounters inFlight) {
    this.inFlight = inFlight;
  }

  public Reported of(String upstream) {
    return reports.computeIfAbsent(upstream, id -> new Reported());
  }

  /** Runs {@code action} after a report that may let more requests go (the queue drains). */
  public void onChange(Runnable action) {
    onChange.add(action);
  }

  /** A value from a health JSON: {@code {"slots":N,"busy":M}} or a number of free slots. */
  public void reportJson(String upstream, Object value) {
    if (value instanceof Number n && n.doubleValue() == n.intValue() && n.intValue() >= 0 && n.intValue() <= MAX) {
      apply(upstream, n.intValue(), -1);
    } else if (value instanceof JsonObject o && o.getValue("slots") instanceof Number s && o.getValue("busy") instanceof Number b
      && s.doubleValue() == s.intValue() && b.doubleValue() == b.intValue() && s.intValue() >= 0 && s.intValue() <= MAX
      && b.intValue() >= 0) {
      apply(upstream, Math.max(0, s.intValue() - b.intValue()), s.intValue());
    } else {
      unreadable(upstream, String.valueOf(value));
    }
  }

  /** A response header's value: {@code free/total} or {@code free}. */
  public void reportHeader(String upstream, String value) {
    Matcher m = HEADER.matcher(value);
    if (!m.matches() || Integer.parseInt(m.group(1)) > MAX || (m.group(2) != null && Integer.parseInt(m.group(2)) > MAX)) {
      unreadable(upstream, value);
      return;
    }
    int free = Integer.parseInt(m.group(1));
    apply(upstream, m.group(2) == null ? free : Math.min(free, Integer.parseInt(m.group(2))),
      m.group(2) == null ? -1 : Integer.parseInt(m.group(2)));
  }

  private void apply(String upstream, int free, int slots) {
    Reported r = of(upstream);
    int ours = inFlight.get(upstream);
    int before = r.limit;
    r.free = free;
    r.slots = slots;
    r.at = System.currentTimeMillis();
    r.limit = slots < 0 ? free : Math.min(slots, ours + free);
    if (r.limit > before) onChange.forEach(Runnable::run);
  }

  private void unreadable(String upstream, String value) {
    Reported r = of(upstream);
    r.limit = -1;
    long now = System.nanoTime();
    if (r.warnedNanos == 0 || now - r.warnedNanos >= WARN_EVERY_NANOS) {
      r.warnedNanos = now;
      String shown = value.length() > 80 ? value.substring(0, 80) + "..." : value;
      log.warn("upstream {}: capacity report not understood, ignored (max-conns applies): {}", upstream, shown);
    }
  }
}
