package dev.fairway.admin;

import dev.fairway.bus.Addresses;
import dev.fairway.jobs.Job;
import dev.fairway.jobs.JobStore;
import dev.fairway.config.ConfigException;
import dev.fairway.config.Durations;
import dev.fairway.proxy.RequestAges;
import dev.fairway.upstream.Upstream;
import io.vertx.core.Future;
import dev.fairway.upstream.InFlightCounters;
import dev.fairway.upstream.UpstreamSet;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.function.Supplier;

/**
 * The {@code /admin} API, mounted on the admin server's router: every call needs the bearer token; reloads and
 * upstream changes are requests on the bus, answered by the reloader and the balancer, so this class holds no state
 * of theirs. Without a configured token the API is off (404).
 */
public final class AdminApi {

  private static final DeliveryOptions RELOAD_TIMEOUT = new DeliveryOptions().setSendTimeout(30_000);
  private static final DeliveryOptions CHANGE_TIMEOUT = new DeliveryOptions().setSendTimeout(5_000);

  private final Vertx vertx;
  private final byte[] token;
  private final Supplier<UpstreamSet> upstreams;
  private final InFlightCounters inFlight;
  /** The jobs, or null when no route runs jobs. */
  private final JobStore jobs;
  private final RequestAges ages;

  /**
   * @param token     the bearer token, or null/empty: the API is off
   * @param upstreams the latest snapshot, as the admin server follows it
   */
  public AdminApi(Vertx vertx, String token, Supplier<UpstreamSet> upstreams, InFlightCounters inFlight, JobStore jobs,
                  RequestAges ages) {
    this.vertx = vertx;
    this.token = token == null || token.isEmpty() ? null : token.getBytes(StandardCharsets.UTF_8);
    this.upstreams = upstreams;
    this.inFlight = inFlight;
    this.jobs = jobs;
    this.ages = ages;
  }

  /** The sub-router to mount at {@code /admin}. */
  public Router router() {
    Router router = Router.router(vertx);
    router.route().handler(BodyHandler.create().setBodyLimit(64 * 1024)).handler(this::authorize);
    router.post("/reload").handler(this::reload);
    router.get("/upstreams").handler(this::listUpstreams);
    router.get("/upstreams/:id").handler(this::showUpstream);
    router.post("/upstreams/:id/drain").handler(this::drain);
    router.post("/upstreams").handler(ctx -> changeUpstreams(ctx, new JsonObject().put("op", "add").put("upstream", body(ctx)), 201));
    router.put("/upstreams/:id").handler(ctx -> changeUpstreams(ctx,
      new JsonObject().put("op", "update").put("id", ctx.pathParam("id")).put("changes", body(ctx)), 200));
    router.delete("/upstreams/:id").handler(ctx -> changeUpstreams(ctx,
      new JsonObject().put("op", "remove").put("id", ctx.pathParam("id")), 202));
    router.get("/cluster").handler(this::cluster);
    router.get("/jobs").handler(this::listJobs);
    router.delete("/jobs/:id").handler(this::cancelJob);
    return router;
  }

  /** The cluster's members as the cluster verticle last heard them; 404 on a node started without --cluster. */
  private void cluster(RoutingContext ctx) {
    vertx.eventBus().<JsonObject>request(Addresses.CLUSTER_GET, null, CHANGE_TIMEOUT)
      .onSuccess(reply -> json(ctx, 200, reply.body()))
      .onFailure(err -> {
        if (err instanceof ReplyException re && re.failureType() == ReplyFailure.NO_HANDLERS) {
          error(ctx, 404, "not clustered: start with --cluster (see cluster: in the config)");
        } else {
          error(ctx, 500, err.getMessage());
        }
      });
  }

  private void listJobs(RoutingContext ctx) {
    json(ctx, 200, new JsonObject().put("jobs", jobs == null ? new JsonArray() : jobs.list()));
  }

  /** Cancels a queued or running job, whoever created it; answers at once (the upstream request is reset next). */
  private void cancelJob(RoutingContext ctx) {
    Job job = jobs == null ? null : jobs.get(ctx.pathParam("id"));
    if (job == null) {
      error(ctx, 404, "no job " + ctx.pathParam("id"));
    } else if (!jobs.cancel(job)) {
      error(ctx, 409, "the job has ended: " + job.state().json());
    } else {
      json(ctx, 202, job.statusJson());
    }
  }

  /** Compared in constant time, so the token cannot be guessed byte by byte from response times. */
  private void authorize(RoutingContext ctx) {
    if (token == null) {
      error(ctx, 404, "the admin API is off: set admin.token in the config or FAIRWAY_ADMIN_TOKEN");
      return;
    }
    String header = ctx.request().getHeader("Authorization");
    byte[] given = header != null && header.startsWith("Bearer ") ? header.substring(7).trim().getBytes(StandardCharsets.UTF_8) : new byte[0];
    if (!MessageDigest.isEqual(given, token)) {
      ctx.response().putHeader("WWW-Authenticate", "Bearer");
      error(ctx, 401, "missing or wrong bearer token");
      return;
    }
    ctx.next();
  }

  private void reload(RoutingContext ctx) {
    vertx.eventBus().<JsonObject>request(Addresses.CONFIG_RELOAD, new JsonObject().put("trigger", "POST /admin/reload"), RELOAD_TIMEOUT)
      .onSuccess(reply -> json(ctx, 200, reply.body()))
      .onFailure(err -> {
        if (err instanceof ReplyException re && re.failureType() == ReplyFailure.NO_HANDLERS) {
          error(ctx, 409, "nothing to reload: Fairway was started without --config");
        } else {
          error(ctx, statusOf(err, 400), err.getMessage());
        }
      });
  }

  private void listUpstreams(RoutingContext ctx) {
    UpstreamSet set = upstreams.get();
    JsonArray list = new JsonArray();
    set.upstreams().forEach(u -> list.add(u.toJson().put("in_flight", inFlight.get(u.id()))));
    json(ctx, 200, new JsonObject().put("revision", set.revision()).put("strategy", set.strategy()).put("upstreams", list));
  }

  /** One upstream, with its requests in flight and how long the oldest of them has run. */
  private void showUpstream(RoutingContext ctx) {
    String id = ctx.pathParam("id");
    Upstream u = find(id);
    if (u == null) {
      error(ctx, 404, "no upstream " + id);
      return;
    }
    inFlightNow(id).onSuccess(state -> json(ctx, 200, u.toJson().mergeIn(state)));
  }

  private Upstream find(String id) {
    return upstreams.get().upstreams().stream().filter(u -> u.id().equals(id)).findFirst().orElse(null);
  }

  private Future<JsonObject> inFlightNow(String id) {
    return ages.oldestSeconds(id).map(oldest -> new JsonObject().put("in_flight", inFlight.get(id)).put("oldest_request_seconds", oldest));
  }

  /**
   * A drain for deploys: no new requests go to the upstream; with {@code ?wait=DURATION} the answer comes once its
   * last request has ended (200), or at the deadline (504, with what is still in flight). Nothing is cut: route
   * timeouts still apply, nothing else.
   */
  private void drain(RoutingContext ctx) {
    String id = ctx.pathParam("id");
    String wait = ctx.request().getParam("wait");
    long waitMillis;
    try {
      waitMillis = wait == null ? 0 : Durations.parseMillis("wait", wait);
    } catch (ConfigException e) {
      error(ctx, 400, e.getMessage());
      return;
    }
    long started = System.nanoTime();
    vertx.eventBus().<JsonObject>request(Addresses.ADMIN_UPSTREAMS,
        new JsonObject().put("op", "update").put("id", id).put("changes", new JsonObject().put("state", "drain")), CHANGE_TIMEOUT)
      .onFailure(err -> error(ctx, statusOf(err, 500), err.getMessage()))
      .onSuccess(reply -> {
        if (waitMillis == 0) {
          inFlightNow(id).onSuccess(state -> json(ctx, 202, reply.body().mergeIn(state)));
          return;
        }
        long deadline = started + waitMillis * 1_000_000;
        vertx.setPeriodic(1, 100, timer -> {
          boolean idle = inFlight.get(id) == 0;
          if (!idle && System.nanoTime() < deadline && !ctx.response().closed()) return;
          vertx.cancelTimer(timer);
          double waited = Math.round((System.nanoTime() - started) / 1e6) / 1000.0;
          inFlightNow(id).onSuccess(state -> json(ctx, idle ? 200 : 504,
            reply.body().mergeIn(state).put("drained", idle).put("waited_seconds", waited)));
        });
      });
  }

  /** Changes go through the balancer on the bus, like every other state change. */
  private void changeUpstreams(RoutingContext ctx, JsonObject request, int okStatus) {
    if (request.containsKey("upstream") && request.getValue("upstream") == null
      || request.containsKey("changes") && request.getValue("changes") == null) {
      error(ctx, 400, "the body must be a JSON object");
      return;
    }
    vertx.eventBus().<JsonObject>request(Addresses.ADMIN_UPSTREAMS, request, CHANGE_TIMEOUT)
      .onSuccess(reply -> json(ctx, okStatus, reply.body()))
      .onFailure(err -> error(ctx, statusOf(err, 500), err.getMessage()));
  }

  /** A reply's failure code is the HTTP status its handler chose; anything else (a timeout) gets {@code otherwise}. */
  private static int statusOf(Throwable err, int otherwise) {
    return err instanceof ReplyException re && re.failureType() == ReplyFailure.RECIPIENT_FAILURE && re.failureCode() > 0
      ? re.failureCode() : otherwise;
  }

  private static JsonObject body(RoutingContext ctx) {
    try {
      return ctx.body().asJsonObject();
    } catch (RuntimeException e) {
      return null;
    }
  }

  private static void json(RoutingContext ctx, int status, JsonObject body) {
    ctx.response().setStatusCode(status).putHeader("Content-Type", "application/json").end(body.encode());
  }

  private static void error(RoutingContext ctx, int status, String message) {
    json(ctx, status, new JsonObject().put("error", message));
  }
}
