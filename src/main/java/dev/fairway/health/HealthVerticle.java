package dev.fairway.health;

import dev.fairway.bus.Addresses;
import dev.fairway.bus.StatusChange;
import dev.fairway.bus.UpstreamFailure;
import dev.fairway.bus.UpstreamFeed;
import dev.fairway.cluster.Membership;
import dev.fairway.config.Durations;
import dev.fairway.config.FairwayOptions;
import dev.fairway.config.HealthCheckOptions;
import dev.fairway.config.UpstreamOptions;
import dev.fairway.upstream.Upstream;
import dev.fairway.upstream.UpstreamSet;
import io.vertx.core.Future;
import io.vertx.core.json.pointer.JsonPointer;
import dev.fairway.upstream.Capacities;
import io.vertx.core.VerticleBase;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.Message;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * Decides whether each upstream is UP, from two sources: active probes of its health path on a jittered interval
 * (rise/fall), and failures the proxy instances report (max-fails within fail-timeout ejects it for a while, longer
 * each time it happens again soon). Only changes of the combined state are published. Its start completes after the
 * first round of probes, so Fairway serves only once it knows which upstreams are up. In a cluster each upstream is
 * probed by one node, the one that ranks first for it among the members (rendezvous), which also counts the failures
 * every node reports; the other nodes follow its transitions, so whichever takes over starts from the same state.
 */
public class HealthVerticle extends VerticleBase {

  private static final Logger log = LoggerFactory.getLogger(HealthVerticle.class);
  /** The gRPC health service's Check method (grpc.health.v1), what {@code protocol: grpc} upstreams are probed with. */
  private static final String GRPC_HEALTH_CHECK = "/grpc.health.v1.Health/Check";

  /** Replaced by a config reload. */
  private HealthCheckOptions options;
  private final Map<String, Monitored> monitored = new LinkedHashMap<>();
  private HttpClient client;
  /** For http2 and grpc upstreams: a kept connection per upstream, so a probe is one stream. */
  private HttpClient http2Client;
  /** Completes when every upstream of the first snapshot has had its first probe. */
  private Future<Void> firstRound;

  private final dev.fairway.config.UpstreamTlsOptions tls;

  public HealthVerticle(HealthCheckOptions options, dev.fairway.config.UpstreamTlsOptions tls, Capacities capacities) {
    this(options, tls, capacities, Membership.alone());
  }

  public HealthVerticle(HealthCheckOptions options, dev.fairway.config.UpstreamTlsOptions tls, Capacities capacities, Membership membership) {
    this.options = options;
    this.tls = tls;
    this.capacities = capacities;
    this.membership = membership;
  }

  private final Membership membership;

  private final Capacities capacities;

  /** One upstream's probe loop and passive record. */
  private final class Monitored {
    final Upstream upstream;
    final ProbeState probes;
    final PassiveEjection passive;
    boolean up;
    boolean published;
    long timerId = -1;
    boolean probing;
    boolean stopped;
    long lastCheckAt;
    String lastCheck = "none yet";
    String lastFailure;
    long lastFailureAt;
    long ejectedUntil;

    Monitored(Upstream upstream) {
      this.upstream = upstream;
      this.up = upstream.up();
      this.probes = new ProbeState(upstream.up(), options.getRise(), options.getFall());
      this.passive = new PassiveEjection(options.getMaxFails(), options.getFailTimeoutMillis(), options.getMaxEjectionMillis());
    }

    JsonObject toJson() {
      return new JsonObject().put("last_check", lastCheck).put("last_check_at", lastCheckAt)
        .put("last_failure", lastFailure).put("last_failure_at", lastFailureAt)
        .put("ejected", passive.ejected()).put("ejected_until", passive.ejected() ? ejectedUntil : 0)
        .put("ejections", passive.ejections());
    }
  }

  @Override
  public Future<?> start() {
    client = vertx.createHttpClient(tls.applyTo(new HttpClientOptions().setKeepAlive(false).setConnectTimeout((int) options.getTimeoutMillis())),
      new PoolOptions().setHttp1MaxSize(8));
    HttpClientOptions h2 = tls.applyTo(new HttpClientOptions().setConnectTimeout((int) options.getTimeoutMillis()));
    http2Client = vertx.createHttpClient(h2.setProtocolVersion(HttpVersion.HTTP_2).setHttp2ClearTextUpgrade(false).setUseAlpn(h2.isSsl()));
    return Future.all(
        vertx.eventBus().<JsonObject>consumer(Addresses.PROXY_UPSTREAM_FAILED, this::onUpstreamFailed).completion(),
        membership.clustered() ? vertx.eventBus().<JsonObject>consumer(Addresses.HEALTH_STATUS_CHANGED, this::onStatusChanged).completion()
          : Future.succeededFuture(),
        vertx.eventBus().<JsonObject>localConsumer(Addresses.HEALTH_GET, this::onGet).completion(),
        vertx.eventBus().<JsonObject>localConsumer(Addresses.CONFIG_CHANGED,
          msg -> options = new FairwayOptions(msg.body()).getHealth()).completion())
      .compose(v -> UpstreamFeed.follow(vertx, this::onSnapshot))
      .compose(v -> firstRound)
      .onSuccess(v -> describeProbes());
  }

  /** Says what is probed, so that an upstream kept DOWN by a path it does not serve is easy to tell from a dead one. */
  private void describeProbes() {
    log.info("health checks: GET {} on each upstream every {}; {} counts as up", options.getPath(),
      Durations.format(options.getIntervalMillis()), options.expectedInWords());
    if (options.isDefaultPath()) {
      log.info("health checks: no health path is set, so a server that answers at all is up; set health.path "
        + "(or --health-path) to a path that answers 200 only while the upstream can serve, e.g. /health");
    }
  }

  @Override
  public Future<?> stop() {
    monitored.values().forEach(m -> m.stopped = true);
    return Future.join(client.close(), http2Client.close());
  }

  private void onSnapshot(UpstreamSet set) {
    var ids = new HashSet<String>();
    List<Future<Void>> probes = new ArrayList<>();
    for (Upstream u : set.upstreams()) {
      ids.add(u.id());
      Monitored known = monitored.get(u.id());
      if (known != null && !known.upstream.protocol().equals(u.protocol())) { // reloaded with another protocol: probe afresh
        known.stopped = true;
        vertx.cancelTimer(known.timerId);
        monitored.remove(u.id());
      }
      if (!monitored.containsKey(u.id())) {
        Monitored m = new Monitored(u);
        monitored.put(u.id(), m);
        probes.add(probe(m));
      }
    }
    monitored.values().removeIf(m -> {
      if (ids.contains(m.upstream.id())) return false;
      m.stopped = true;
      vertx.cancelTimer(m.timerId);
      return true;
    });
    if (firstRound == null) {
      firstRound = Future.join(probes).mapEmpty();
    }
  }

  private void onGet(Message<JsonObject> msg) {
    JsonObject all = new JsonObject();
    monitored.forEach((id, m) -> all.put(id, m.toJson()));
    msg.reply(all);
  }

  /** A transition published by the node that probes the upstream: followed here, in case this node takes over. */
  private void onStatusChanged(Message<JsonObject> msg) {
    StatusChange change = StatusChange.fromJson(msg.body());
    Monitored m = monitored.get(change.upstream());
    if (m == null || membership.owns(change.upstream())) return;
    m.up = change.up();
    m.published = true;
    m.probes.heard(change.up());
  }

  private void onUpstreamFailed(Message<JsonObject> msg) {
    UpstreamFailure failure = UpstreamFailure.fromJson(msg.body());
    Monitored m = monitored.get(failure.upstream());
    if (m == null || m.stopped || !membership.owns(failure.upstream())) return;
    long now = System.currentTimeMillis();
    m.lastFailure = failure.reason();
    m.lastFailureAt = now;
    long ejectFor = m.passive.recordFailure(now);
    if (ejectFor > 0) {
      eject(m, ejectFor, "ejected for " + ejectFor + "ms after " + failure.reason());
    }
  }

  private void eject(Monitored m, long millis, String reason) {
    m.ejectedUntil = System.currentTimeMillis() + millis;
    update(m, reason);
    vertx.cancelTimer(m.timerId);
    // at the end of the ejection, one probe decides whether it comes back
    m.timerId = vertx.setTimer(millis, id -> probe(m));
  }

  private Future<Void> probe(Monitored m) {
    if (m.stopped || m.probing) return Future.succeededFuture();
    if (!membership.owns(m.upstream.id())) { // another node probes it; check again next interval, in case that changes
      m.lastCheck = "probed by another node";
      schedule(m);
      return Future.succeededFuture();
    }
    m.probing = true;
    long timeout = options.getTimeoutMillis();
    Future<Outcome> attempt = m.upstream.protocol().equals(UpstreamOptions.GRPC) ? grpcCheck(m.upstream, timeout)
      : httpCheck(m.upstream, timeout);
    return attempt
      .timeout(timeout, TimeUnit.MILLISECONDS)
      .transform(ar -> {
        m.probing = false;
        if (m.stopped) return Future.succeededFuture();
        boolean ok = ar.succeeded() && ar.result().ok();
        String result = ar.succeeded() ? ar.result().description() : UpstreamFailure.describe(ar.cause());
        m.lastCheckAt = System.currentTimeMillis();
        m.lastCheck = result;
        if (!ok) {
          m.lastFailure = result;
          m.lastFailureAt = m.lastCheckAt;
        }
        if (m.passive.ejected()) {
          if (!ok) {
            long again = m.passive.ejectAgain(m.lastCheckAt);
            eject(m, again, "ejected for " + again + "ms, still failing: " + result);
            return Future.succeededFuture();
          }
          m.passive.ended(m.lastCheckAt);
        }
        m.probes.record(ok);
        update(m, result);
        schedule(m);
        return Future.succeededFuture();
      });
  }

  /** What a probe found: healthy or not, and in words (e.g. "status 200"). */
  record Outcome(boolean ok, String description) {
  }

  private RequestOptions probeRequest(Upstream u, HttpMethod method, String uri, long timeout) {
    RequestOptions req = new RequestOptions().setMethod(method).setHost(u.host()).setPort(u.port()).setURI(uri)
      .setConnectTimeout(timeout).setIdleTimeout(timeout);
    if (options.getHost() != null) req.putHeader("Host", options.getHost());
    return req;
  }

  /** GET health.path; healthy if the status is in expected-status. A healthy answer may report capacity too. */
  private Future<Outcome> httpCheck(Upstream u, long timeout) {
    return (u.http2() ? http2Client : client).request(probeRequest(u, HttpMethod.GET, options.getPath(), timeout))
      .compose(r -> r.send())
      .compose(resp -> resp.body().map(body -> {
        boolean ok = options.isExpected(resp.statusCode());
        if (ok) readCapacity(u.id(), resp, body);
        return new Outcome(ok, "status " + resp.statusCode());
      }));
  }

  /** The capacity in the health answer ({@code capacity-field}) or its header ({@code capacity-header}), if either is set. */
  private void readCapacity(String upstream, HttpClientResponse resp, Buffer body) {
    String header = options.getCapacityHeader();
    if (header != null && resp.getHeader(header) != null) capacities.reportHeader(upstream, resp.getHeader(header));
    String field = options.getCapacityField();
    if (field == null) return;
    Object value;
    try {
      value = JsonPointer.from(field).queryJson(body.toJsonObject());
    } catch (RuntimeException e) { // not JSON, or not an object
      value = body.length() > 80 ? body.getString(0, 80) : body.toString();
    }
    capacities.reportJson(upstream, value);
  }

  /**
   * The gRPC health protocol, by hand (two fixed messages do not need protobuf): grpc.health.v1.Health/Check with an
   * empty HealthCheckRequest (the server as a whole); healthy if grpc-status is 0 and the answer is SERVING.
   */
  private Future<Outcome> grpcCheck(Upstream u, long timeout) {
    RequestOptions req = probeRequest(u, HttpMethod.POST, GRPC_HEALTH_CHECK, timeout)
      .putHeader("content-type", "application/grpc").putHeader("te", "trailers");
    return http2Client.request(req)
      .compose(r -> r.send(Buffer.buffer(new byte[5]))) // one uncompressed message of length 0
      .compose(resp -> resp.body().map(body -> grpcOutcome(resp, body)));
  }

  private static Outcome grpcOutcome(HttpClientResponse resp, Buffer body) {
    String status = resp.getTrailer("grpc-status");
    if (status == null) status = resp.getHeader("grpc-status"); // a trailers-only answer
    if (resp.statusCode() != 200 || status == null) return new Outcome(false, "status " + resp.statusCode() + ", not gRPC");
    if (!status.equals("0")) return new Outcome(false, "grpc-status " + status);
    // HealthCheckResponse after the 5-byte message prefix: field 1 (status) as a varint, SERVING = 1
    boolean serving = body.length() >= 7 && body.getByte(5) == 0x08 && body.getByte(6) == 0x01;
    return new Outcome(serving, serving ? "grpc SERVING" : "grpc not SERVING");
  }

  /**
   * Publishes the combined state if it changed, and always the first time (to replace "not checked yet"). In a
   * cluster, after every probe: a node that joined after a change, or missed it, learns the state within an interval
   * (the balancers publish nothing when nothing changed).
   */
  private void update(Monitored m, String reason) {
    boolean up = m.probes.up() && !m.passive.ejected();
    if (up != m.up || !m.published || membership.clustered()) {
      m.up = up;
      m.published = true;
      log.debug("{} -> {} ({})", m.upstream.id(), up ? "UP" : "DOWN", reason);
      vertx.eventBus().publish(Addresses.HEALTH_STATUS_CHANGED,
        new StatusChange(m.upstream.id(), up, reason, System.currentTimeMillis()).toJson());
    }
  }

  /** ±10% jitter so that probes of many upstreams (and many Fairways) do not align. */
  private void schedule(Monitored m) {
    if (m.stopped || m.passive.ejected()) return;
    long interval = options.getIntervalMillis();
    long jitter = interval / 10;
    long delay = Math.max(1, interval + (jitter > 0 ? ThreadLocalRandom.current().nextLong(-jitter, jitter + 1) : 0));
    vertx.cancelTimer(m.timerId);
    m.timerId = vertx.setTimer(delay, id -> probe(m));
  }
}
