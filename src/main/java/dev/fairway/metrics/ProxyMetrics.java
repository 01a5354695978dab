package dev.fairway.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Records each proxied request. Meters are looked up once per (upstream, route, method, status code) and cached, so
 * the request path does no tag building or registry lookup after warm-up. What every request adds to (the request
 * counters, the histograms and byte counts of {@link RouteFigures}) is written per event loop, without atomic
 * read-modify-writes, and read by a collector of its own at scrape time; the rest are Micrometer meters.
 */
public final class ProxyMetrics {

  private static final HttpMethod[] METHODS = {HttpMethod.GET, HttpMethod.HEAD, HttpMethod.POST, HttpMethod.PUT,
    HttpMethod.DELETE, HttpMethod.PATCH, HttpMethod.OPTIONS};
  /** Upstream label for requests that never reached one (e.g. 503 with no healthy upstream). */
  public static final String NO_UPSTREAM = "none";

  private final PrometheusMeterRegistry registry;
  private final ConcurrentHashMap<String, UpstreamMeters> byUpstream = new ConcurrentHashMap<>();
  private final Timer queueWait;
  /** Counters of rare events with one tag, by name and tag value. */
  private final ConcurrentHashMap<String, Counter> events = new ConcurrentHashMap<>();

  private final AtomicInteger clientConnections = new AtomicInteger();

  private final AtomicInteger webSockets = new AtomicInteger();

  /**
   * False: per-request meters record nothing (to measure their cost, or to save it); gauges stay. A reload may flip
   * it; each request reads it once or twice, a plain load on x86.
   */
  private volatile boolean enabled;
  private boolean collecting;

  /** The event loops that record (proxy instances), numbered from 0: each has its own live statistics recorder. */
  private final int eventLoops;

  public ProxyMetrics(PrometheusMeterRegistry registry, boolean enabled, int eventLoops) {
    this.registry = registry;
    this.eventLoops = eventLoops;
    Gauge.builder("fairway.websocket.connections", webSockets, AtomicInteger::get)
      .description("Open proxied WebSocket connections").register(registry);
    Gauge.builder("fairway.client.connections", clientConnections, AtomicInteger::get)
      .description("Open client connections, across all proxy instances").register(registry);
    this.queueWait = Timer.builder("fairway.queue.wait")
      .description("Time requests waited in the queue for an upstream slot")
      .serviceLevelObjectives(RouteFigures.BOUNDS)
      .register(registry);
    setEnabled(enabled);
  }

  /** False when per-request meters are off ({@code metrics: false}). */
  public boolean enabled() {
    return enabled;
  }

  /**
   * Turns per-request meters on or off (a reload of {@code metrics}). Figures recorded so far stay in /metrics while
   * off, unchanged, so counters never go back; with metrics never on, their series are not written at all.
   */
  public synchronized void setEnabled(boolean on) {
    if (on && !collecting) {
      registry.getPrometheusRegistry().register(new FiguresCollector());
      collecting = true;
    }
    enabled = on;
  }

  /** A request left the wait queue: dispatched, timed out, or its client went away. */
  public void queueLeft(long enqueuedNanos, String outcome) {
    queueWait.record(System.nanoTime() - enqueuedNanos, TimeUnit.NANOSECONDS);
    count("fairway.queue.left", "Requests that left the wait queue, by outcome", "outcome", outcome);
  }

  /** A request was sent again to another upstream, and why (the failure of the attempt: upstream_unreachable, connect_timeout, upstream_closed). */
  public void retried(String reason) {
    count("fairway.retries", "Requests sent again to another upstream, by reason", "reason", reason);
  }

  /** A request was refused before reaching an upstream (no_healthy_upstream, queue_full, queue_timeout: 503; rate_limited: 429). */
  public void rejected(String reason) {
    count("fairway.rejected", "Requests refused before reaching an upstream, by reason", "reason", reason);
  }

  /** A client connection was closed as it opened: over {@code max-connections} or {@code max-client-connections}. */
  public void connectionRefused(String limit) {
    count("fairway.client.connections.refused", "Client connections closed at once for a connection cap, by cap", "limit", limit);
  }

  /**
   * A client connection closed for holding a slot without a request, {@code header} (slowloris) or {@code keepalive}
   * (idle), or a request cut for uploading slower than min-upload-rate ({@code upload_rate}).
   */
  public void clientTimedOut(String phase) {
    count("fairway.client.timeouts", "Client connections closed by client-header-timeout or client-keepalive-timeout", "phase", phase);
  }

  /** An SSE comment written to keep a silent event stream open ({@code upstream}: the upstream was silent; {@code queue}: the request waits). */
  public void sseHeartbeat(String while_) {
    count("fairway.sse.heartbeats", "SSE keep-alive comments written to clients, by what was silent", "during", while_);
  }

  /** Increments the counter {@code name} with one tag, registering it the first time (these events are rare). */
  private void count(String name, String description, String tag, String value) {
    events.computeIfAbsent(name + '|' + value, k -> Counter.builder(name).description(description).tag(tag, value)
      .register(registry)).increment();
  }

  /** The meters of one upstream; proxy instances hold this per snapshot entry. */
  public UpstreamMeters forUpstream(String upstream) {
    return byUpstream.computeIfAbsent(upstream, UpstreamMeters::new);
  }

  /** Route label for requests refused before routing (bad framing, TRACE). */
  public static final String NO_ROUTE = "none";

  /** Per-upstream meters, split by route: what /metrics shows per (route, upstream), and the live stats of /stats. */
  public final class UpstreamMeters {
    private final String upstream;
    private final ConcurrentHashMap<String, RouteMeters> byRoute = new ConcurrentHashMap<>();
    private final LiveStats live = new LiveStats(eventLoops);
    /**
     * The route asked for last: most requests to an upstream share a route, and comparing the route's own prefix
     * string (the same instance, so equals returns at once) costs less than a map lookup, which profiled at 2% of the
     * event loop (two per request). Not volatile: a RouteMeters is safely published by its final fields, and a stale
     * value only means a map lookup.
     */
    private RouteMeters last;

    private UpstreamMeters(String upstream) {
      this.upstream = upstream;
    }

    private RouteMeters route(String route) {
      RouteMeters r = last;
      if (r != null && r.route.equals(route)) return r;
      r = byRoute.get(route);
      if (r == null) r = byRoute.computeIfAbsent(route, RouteMeters::new);
      last = r;
      return r;
    }

    /** The upstream's response head arrived, this long after the request did (time to first byte). */
    public void recordResponseHead(int eventLoop, String route, long nanosSinceStart) {
      if (enabled) route(route).figures.responseHead(eventLoop, nanosSinceStart);
    }

    /**
     * One finished request, recorded by event loop {@code eventLoop}: {@code route} is the matched route's path
     * prefix; {@code nanos} its time from arrival to the end; bytes are body bytes each way.
     */
    public void record(int eventLoop, String route, HttpMethod method, int status, long nanos, long received, long sent) {
      if (!enabled) return;
      live.record(eventLoop, nanos, status);
      RouteMeters r = route(route);
      r.count(eventLoop, method, status);
      r.figures.request(eventLoop, nanos, received, sent);
    }

    /** The meters of one (route, upstream): a counter per method and status code, histograms and byte counts. */
    private final class RouteMeters {
      private final String route;
      /** Every counter of this (route, upstream), created once each; the rows below only cache them. */
      private final ConcurrentHashMap<Integer, LoopCounter> counters = new ConcurrentHashMap<>();
      private final LoopCounter[][] requests = new LoopCounter[METHODS.length + 1][];
      private final RouteFigures figures;

      RouteMeters(String route) {
        this.route = route;
        this.figures = new RouteFigures(eventLoops, Labels.of("route", route, "upstream", upstream));
      }

      void count(int eventLoop, HttpMethod method, int status) {
        int m = methodIndex(method);
        int code = Math.min(Math.max(status, 100), 599) - 100;
        LoopCounter[] row = requests[m];
        if (row == null) {
          row = new LoopCounter[500];
          requests[m] = row; // benign race: a lost row only means one more lookup below
        }
        LoopCounter c = row[code];
        if (c == null) {
          // the map makes sure two loops never count the same cell in two counters; a counter's fields are final,
          // so another loop reading it from the row sees it whole
          c = counters.computeIfAbsent(m * 1000 + code, k -> new LoopCounter(eventLoops, Labels.of(
            "code", String.valueOf(code + 100), "method", m < METHODS.length ? METHODS[m].name() : "OTHER",
            "route", route, "upstream", upstream)));
          row[code] = c;
        }
        c.increment(eventLoop);
      }
    }
  }

  /** Open client connections; proxy instances count them up and down. */
  public AtomicInteger clientConnections() {
    return clientConnections;
  }

  /** Open proxied WebSockets. */
  public AtomicInteger webSockets() {
    return webSockets;
  }

  /** Closes the current second of every upstream's live stats; called once a second by the admin verticle. */
  public void roll() {
    byUpstream.values().forEach(m -> m.live.roll());
  }

  /** The last minute of one upstream, or an empty one. */
  public JsonObject liveStats(String upstream) {
    UpstreamMeters m = byUpstream.get(upstream);
    return (m == null ? new LiveStats(0) : m.live).toJson();
  }

  /**
   * Writes every (route, upstream)'s request counters and {@link RouteFigures} at scrape time, under the names and
   * units Micrometer would give them: {@code fairway_requests_total}, {@code fairway_request_duration_seconds},
   * {@code fairway_upstream_response_seconds}, {@code fairway_received_bytes_total} and {@code fairway_sent_bytes_total}.
   */
  private final class FiguresCollector implements MultiCollector {
    @Override
    public MetricSnapshots collect() {
      CounterSnapshot.Builder requests = CounterSnapshot.builder().name("fairway_requests")
        .help("Proxied requests by route, upstream, method and status code");
      HistogramSnapshot.Builder duration = HistogramSnapshot.builder().name("fairway_request_duration_seconds")
        .help("Time from receiving a request to the end of its response");
      HistogramSnapshot.Builder response = HistogramSnapshot.builder().name("fairway_upstream_response_seconds")
        .help("Time from receiving a request to the upstream's response head (time to first byte)");
      CounterSnapshot.Builder received = CounterSnapshot.builder().name("fairway_received_bytes")
        .help("Request body bytes received from clients");
      CounterSnapshot.Builder sent = CounterSnapshot.builder().name("fairway_sent_bytes")
        .help("Response body bytes sent to clients");
      for (UpstreamMeters u : byUpstream.values()) {
        for (UpstreamMeters.RouteMeters r : u.byRoute.values()) {
          r.counters.values().forEach(c -> requests.dataPoint(c.snapshot()));
          duration.dataPoint(r.figures.duration());
          response.dataPoint(r.figures.responseHead());
          received.dataPoint(r.figures.received());
          sent.dataPoint(r.figures.sent());
        }
      }
      return new MetricSnapshots(requests.build(), duration.build(), response.build(), received.build(), sent.build());
    }
  }

  private static int methodIndex(HttpMethod method) {
    for (int i = 0; i < METHODS.length; i++) {
      if (METHODS[i].equals(method)) return i;
    }
    return METHODS.length;
  }
}
