package dev.fairway.health;

import dev.fairway.bus.Addresses;
import dev.fairway.bus.StatusChange;
import dev.fairway.bus.UpstreamFailure;
import dev.fairway.bus.UpstreamFeed;
import dev.fairway.config.HealthCheckOptions;
import dev.fairway.upstream.Upstream;
import dev.fairway.upstream.UpstreamSet;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.Message;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * Probes each upstream's health path on a jittered interval and publishes only UP/DOWN transitions. A failure report
 * from a proxy instance triggers an immediate probe, so a dead upstream is found without waiting for the interval.
 */
public class HealthVerticle extends VerticleBase {

  private final HealthCheckOptions options;
  private final Map<String, Probe> probes = new HashMap<>();
  private HttpClient client;

  public HealthVerticle(HealthCheckOptions options) {
    this.options = options;
  }

  /** One upstream's probe loop. */
  private final class Probe {
    final Upstream upstream;
    final ProbeState state;
    long timerId = -1;
    boolean running;
    boolean stopped;

    Probe(Upstream upstream) {
      this.upstream = upstream;
      this.state = new ProbeState(upstream.up(), options.getRise(), options.getFall());
    }
  }

  @Override
  public Future<?> start() {
    client = vertx.createHttpClient(new HttpClientOptions().setKeepAlive(false).setConnectTimeout((int) options.getTimeoutMillis()),
      new PoolOptions().setHttp1MaxSize(4));
    return vertx.eventBus().<JsonObject>consumer(Addresses.PROXY_UPSTREAM_FAILED, this::onUpstreamFailed).completion()
      .compose(v -> UpstreamFeed.follow(vertx, this::onSnapshot));
  }

  @Override
  public Future<?> stop() {
    probes.values().forEach(p -> p.stopped = true);
    return client.close();
  }

  private void onSnapshot(UpstreamSet set) {
    var ids = new HashSet<String>();
    for (Upstream u : set.upstreams()) {
      ids.add(u.id());
      probes.computeIfAbsent(u.id(), id -> {
        Probe p = new Probe(u);
        vertx.runOnContext(v -> probe(p));
        return p;
      });
    }
    probes.values().removeIf(p -> {
      if (ids.contains(p.upstream.id())) return false;
      p.stopped = true;
      vertx.cancelTimer(p.timerId);
      return true;
    });
  }

  private void onUpstreamFailed(Message<JsonObject> msg) {
    Probe p = probes.get(UpstreamFailure.fromJson(msg.body()).upstream());
    if (p != null && !p.running) {
      vertx.cancelTimer(p.timerId);
      probe(p);
    }
  }

  private void probe(Probe p) {
    if (p.stopped || p.running) return;
    p.running = true;
    long timeout = options.getTimeoutMillis();
    RequestOptions req = new RequestOptions().setMethod(HttpMethod.GET)
      .setHost(p.upstream.host()).setPort(p.upstream.port()).setURI(options.getPath())
      .setConnectTimeout(timeout).setIdleTimeout(timeout);
    client.request(req)
      .compose(r -> r.send())
      .compose(resp -> resp.body().map(body -> resp.statusCode()))
      .timeout(timeout, TimeUnit.MILLISECONDS)
      .onComplete(ar -> {
        p.running = false;
        if (ar.succeeded()) {
          int status = ar.result();
          record(p, status >= 200 && status < 400, "status " + status);
        } else {
          record(p, false, UpstreamFailure.describe(ar.cause()));
        }
        schedule(p);
      });
  }

  private void record(Probe p, boolean success, String reason) {
    if (p.stopped) return;
    if (p.state.record(success)) {
      StatusChange change = new StatusChange(p.upstream.id(), p.state.up(), reason, System.currentTimeMillis());
      vertx.eventBus().publish(Addresses.HEALTH_STATUS_CHANGED, change.toJson());
    }
  }

  /** ±10% jitter so that probes of many upstreams (and many Fairways) do not align. */
  private void schedule(Probe p) {
    if (p.stopped) return;
    long interval = options.getIntervalMillis();
    long jitter = interval / 10;
    long delay = Math.max(1, interval + (jitter > 0 ? ThreadLocalRandom.current().nextLong(-jitter, jitter + 1) : 0));
    p.timerId = vertx.setTimer(delay, id -> probe(p));
  }
}
