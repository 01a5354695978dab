package dev.fairway.metrics;

import dev.fairway.admin.AdminApi;
import dev.fairway.config.AdminOptions;
import dev.fairway.jobs.JobStore;
import dev.fairway.proxy.RequestAges;
import dev.fairway.upstream.Capacities;
import io.vertx.core.http.HttpServerOptions;
import dev.fairway.bus.UpstreamFeed;
import dev.fairway.upstream.InFlightCounters;
import dev.fairway.upstream.Upstream;
import dev.fairway.upstream.UpstreamSet;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.healthchecks.HealthChecks;
import io.vertx.ext.healthchecks.Status;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.healthchecks.HealthCheckHandler;
import io.vertx.micrometer.PrometheusScrapingHandler;

import dev.fairway.bus.Addresses;
import dev.fairway.ops.Lifecycle;

import java.nio.charset.StandardCharsets;
import io.vertx.core.Context;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.ext.web.RoutingContext;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.IntSupplier;
import java.util.function.Supplier;
import java.util.List;
import java.util.Map;

/**
 * The admin server, one router: {@code /health} (UP while any upstream is up, with each upstream's detail),
 * {@code /health/live} (every proxy event loop answers), {@code /health/ready} (an upstream is up) and
 * {@code /metrics} (Prometheus text), {@code /stats} and its dashboard at {@code /}; the {@link AdminApi} is mounted
 * at {@code /admin}.
 */
public class MetricsVerticle extends VerticleBase {

  private final AdminOptions options;
  private final JobStore jobs;
  private final RequestAges ages;
  private final Capacities capacities;
  private final PrometheusMeterRegistry registry;
  private final InFlightCounters inFlight;
  private final Supplier<List<Context>> eventLoops;
  private final Lifecycle lifecycle;
  private final ProxyMetrics proxyMetrics;
  private final IntSupplier queueLength;
  private final String dashboard;
  private final Map<String, List<Meter>> gauges = new HashMap<>();
  private volatile UpstreamSet current;
  private HttpServer server;

  /**
   * @param eventLoops the contexts that must answer for {@code /health/live} (the proxy instances')
   */
  public MetricsVerticle(AdminOptions options, PrometheusMeterRegistry registry, InFlightCounters inFlight,
                         Supplier<List<Context>> eventLoops, Lifecycle lifecycle,
                         ProxyMetrics proxyMetrics, IntSupplier queueLength, JobStore jobs, RequestAges ages,
                         Capacities capacities) {
    this.capacities = capacities;
    this.jobs = jobs;
    this.ages = ages;
    this.proxyMetrics = proxyMetrics;
    this.queueLength = queueLength;
    this.dashboard = readDashboard();
    this.options = options;
    this.registry = registry;
    this.inFlight = inFlight;
    this.eventLoops = eventLoops;
    this.lifecycle = lifecycle;

  }

  @Override
  public Future<?> start() {
    HealthChecks checks = HealthChecks.create(vertx).register("upstreams", this::checkUpstreams);
    Router router = Router.router(vertx);
    router.get("/health/live").handler(this::live);
    router.get("/health/ready").handler(this::ready);
    router.get("/health").handler(HealthCheckHandler.createWithHealthChecks(checks));
    router.get("/metrics").handler(PrometheusScrapingHandler.create(registry));
    router.get("/stats").handler(this::stats);
    router.get("/").handler(ctx -> ctx.response().putHeader("Content-Type", "text/html; charset=utf-8").end(dashboard));
    vertx.setPeriodic(1_000, id -> proxyMetrics.roll());
    router.route("/admin/*").subRouter(new AdminApi(vertx, options.getToken(), () -> current, inFlight, jobs, ages).router());
    return UpstreamFeed.follow(vertx, this::onSnapshot)
      .compose(v -> vertx.createHttpServer(serverOptions()).requestHandler(router).listen())
      .onSuccess(s -> server = s);
  }

  private HttpServerOptions serverOptions() {
    return options.getTls().applyTo(new HttpServerOptions().setHost(options.getHost()).setPort(options.getPort()));
  }

  /** The port the admin server listens on (useful when configured as 0). */
  public int actualPort() {
    return server.actualPort();
  }

  private void checkUpstreams(Promise<Status> promise) {
    UpstreamSet set = current;
    healthDetails().onSuccess(details -> {
        JsonArray list = new JsonArray();
        for (Upstream u : set.upstreams()) {
          JsonObject detail = details.getJsonObject(u.id(), new JsonObject());
          list.add(u.toJson().mergeIn(detail).put("in_flight", inFlight.get(u.id())).put("capacity", capacities.of(u.id()).toJson()));
        }
        JsonObject data = new JsonObject().put("revision", set.revision()).put("upstreams", list);
        promise.complete(set.anyUp() ? Status.OK(data) : Status.KO(data));
      });
  }

  /** Jobs shown in /stats and on the dashboard: the newest; the admin API lists all. */
  private static final int STATS_JOBS = 20;

  /** The figures of the dashboard as JSON: per upstream, its state and its last minute; the newest jobs. */
  private void stats(RoutingContext ctx) {
    UpstreamSet set = current;
    Future<JsonObject> cluster = clusterView();
    healthDetails().compose(details -> cluster.map(c -> {
      statsWith(ctx, set, details, c);
      return null;
    }));
  }

  /** The cluster as its verticle last heard it; null when not clustered. */
  private Future<JsonObject> clusterView() {
    return vertx.eventBus().<JsonObject>request(Addresses.CLUSTER_GET, null, new DeliveryOptions().setSendTimeout(1_000))
      .map(reply -> reply.body())
      .otherwise((JsonObject) null);
  }

  private void statsWith(RoutingContext ctx, UpstreamSet set, JsonObject details, JsonObject cluster) {
    JsonArray list = new JsonArray();
    int inFlightTotal = 0;
    for (Upstream u : set.upstreams()) {
      int n = inFlight.get(u.id());
      inFlightTotal += n;
      JsonObject detail = details.getJsonObject(u.id(), new JsonObject());
      list.add(new JsonObject().put("id", u.id()).put("group", u.group()).put("status", u.up() ? "UP" : "DOWN").put("state", u.state())
        .put("reason", u.reason()).put("weight", u.weight()).put("max_conns", u.maxConns()).put("in_flight", n)
        .put("capacity", capacities.of(u.id()).toJson())
        .put("last_failure", detail.getString("last_failure")).put("ejections", detail.getInteger("ejections", 0))
        .mergeIn(proxyMetrics.liveStats(u.id())));
    }
    json(ctx, 200, new JsonObject().put("time", System.currentTimeMillis()).put("revision", set.revision())
      .put("strategy", set.strategy()).put("draining", lifecycle.draining())
      .put("queue_length", queueLength.getAsInt()).put("in_flight", inFlightTotal).put("upstreams", list)
      .put("rejected", proxyMetrics.liveStats(ProxyMetrics.NO_UPSTREAM))
      .put("jobs", jobs == null ? null : jobs.recent(STATS_JOBS)).put("cluster", cluster));
  }

  private Future<JsonObject> healthDetails() {
    return vertx.eventBus().<JsonObject>request(Addresses.HEALTH_GET, null, new DeliveryOptions().setSendTimeout(1_000))
      .map(reply -> reply.body())
      .otherwise(new JsonObject()); // health checks off, or busy: report what the snapshot says
  }

  private static String readDashboard() {
    try (var in = MetricsVerticle.class.getResourceAsStream("/dashboard.html")) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (java.io.IOException | NullPointerException e) {
      throw new IllegalStateException("dashboard.html missing from the jar", e);
    }
  }

  /** Liveness: the process answers and so does every proxy event loop, within a second. */
  private void live(RoutingContext ctx) {
    List<Future<Void>> pings = new ArrayList<>();
    for (Context loop : eventLoops.get()) {
      Promise<Void> answered = Promise.promise();
      loop.runOnContext(v -> answered.complete());
      pings.add(answered.future().timeout(1, TimeUnit.SECONDS));
    }
    Future.all(pings).onComplete(ar -> ctx.response().setStatusCode(ar.succeeded() ? 200 : 503)
      .putHeader("Content-Type", "application/json")
      .end(new JsonObject().put("status", ar.succeeded() ? "UP" : "DOWN").put("event_loops", pings.size()).encode()));
  }

  /** Readiness: at least one upstream can take traffic, and Fairway is not stopping. */
  private void ready(RoutingContext ctx) {
    boolean up = current.anyUp() && !lifecycle.draining();
    ctx.response().setStatusCode(up ? 200 : 503).putHeader("Content-Type", "application/json")
      .end(new JsonObject().put("status", up ? "UP" : "DOWN").encode());
  }

  private static void json(RoutingContext ctx, int status, JsonObject body) {
    ctx.response().setStatusCode(status).putHeader("Content-Type", "application/json").end(body.encode());
  }

  private void onSnapshot(UpstreamSet set) {
    UpstreamSet previous = current;
    current = set;
    countTransitions(previous, set);
    for (Upstream u : set.upstreams()) {
      gauges.computeIfAbsent(u.id(), id -> List.of(
        Gauge.builder("fairway.upstream.up", () -> isUp(id) ? 1 : 0)
          .description("1 while the upstream is UP, 0 while DOWN").tag("upstream", id).register(registry),
        Gauge.builder("fairway.upstream.in.flight", () -> inFlight.get(id))
          .description("Requests in flight to the upstream, across all proxy instances").tag("upstream", id).register(registry)));
    }
    gauges.entrySet().removeIf(e -> {
      if (set.upstreams().stream().anyMatch(u -> u.id().equals(e.getKey()))) return false;
      e.getValue().forEach(registry::remove);
      return true;
    });
  }

  /** Health transitions and ejections, from the difference between two snapshots. */
  private void countTransitions(UpstreamSet previous, UpstreamSet next) {
    if (previous == null) return;
    for (Upstream u : next.upstreams()) {
      previous.find(u.id()).ifPresent(p -> {
        if (p.up() != u.up()) {
          registry.counter("fairway.health.transitions", "upstream", u.id(), "to", u.up() ? "UP" : "DOWN").increment();
        }
        if (!u.up() && u.reason() != null && u.reason().startsWith("ejected") && !u.reason().equals(p.reason())) {
          registry.counter("fairway.ejections", "upstream", u.id()).increment();
        }
      });
    }
  }

  private boolean isUp(String id) {
    return current.upstreams().stream().anyMatch(u -> u.id().equals(id) && u.up());
  }
}
