package dev.fairway.proxy;

import dev.fairway.accesslog.AccessLog;
import dev.fairway.bus.Addresses;
import dev.fairway.bus.UpstreamFailure;
import dev.fairway.jobs.JobForwarder;
import dev.fairway.jobs.JobStore;
import dev.fairway.metrics.ProxyMetrics;
import dev.fairway.ops.Lifecycle;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerRequest;

/**
 * What the exchanges of one proxy instance share: its event loop's timers and deadlines, its upstream connections,
 * the selector, the shared queue and meters, and the settings and access log in force. The settings and the log are
 * replaced by reloads on the instance's event loop; an exchange captures the settings once, at its start.
 */
final class ProxyInstance {

  private final Vertx vertx;
  private final int index;
  private final UpstreamSelector selector;
  private final RequestQueue queue;
  private final ProxyMetrics metrics;
  private final ProxyMetrics.UpstreamMeters noUpstream;
  private final UpstreamConnections connections;
  private final ReadDeadlines readDeadlines;
  private final ClientDeadlines clientDeadlines;
  private final Lifecycle lifecycle;
  private final JobStore jobs;
  private final WaitEstimates waits;
  private final JobForwarder jobForwarder;
  private ProxySettings settings;
  private AccessLog.Lines accessLines;

  ProxyInstance(Vertx vertx, int index, UpstreamSelector selector, RequestQueue queue, ProxyMetrics metrics,
                UpstreamConnections connections, ReadDeadlines readDeadlines, ClientDeadlines clientDeadlines, Lifecycle lifecycle,
                JobStore jobs, WaitEstimates waits) {
    this.vertx = vertx;
    this.index = index;
    this.selector = selector;
    this.queue = queue;
    this.metrics = metrics;
    this.noUpstream = metrics.forUpstream(ProxyMetrics.NO_UPSTREAM);
    this.connections = connections;
    this.readDeadlines = readDeadlines;
    this.clientDeadlines = clientDeadlines;
    this.lifecycle = lifecycle;
    this.jobs = jobs;
    this.waits = waits;
    this.jobForwarder = new JobForwarder(vertx);
  }

  /** Passes requests for a job that runs on another node of a cluster to that node. */
  JobForwarder jobForwarder() {
    return jobForwarder;
  }

  WaitEstimates waits() {
    return waits;
  }

  /** Puts new settings in force for the exchanges that start from now on, and re-times the sweeps. */
  void use(ProxySettings next) {
    settings = next;
    readDeadlines.schedule(next.shortestReadMillis());
    clientDeadlines.schedule(next.clientHeaderTimeoutMillis(), next.clientKeepAliveTimeoutMillis());
  }

  void use(AccessLog.Lines lines) {
    accessLines = lines;
  }

  /** Refuses a request before any upstream is involved, closing its connection: its framing cannot be trusted. */
  void refuse(HttpServerRequest req, Failure failure, String detail) {
    noUpstream.record(index, ProxyMetrics.NO_ROUTE, req.method(), failure.status(), 0, 0, 0);
    clientDeadlines.requestEnded(req.connection());
    ErrorReply.send(req, failure, detail, null, true);
  }

  /** Tells the health verticle, which counts it towards passive ejection (max-fails within fail-timeout). */
  void reportFailure(String upstream, String reason) {
    vertx.eventBus().publish(Addresses.PROXY_UPSTREAM_FAILED, new UpstreamFailure(upstream, reason).toJson());
  }

  ProxySettings settings() {
    return settings;
  }

  AccessLog.Lines accessLines() {
    return accessLines;
  }

  Vertx vertx() {
    return vertx;
  }

  int index() {
    return index;
  }

  UpstreamSelector selector() {
    return selector;
  }

  RequestQueue queue() {
    return queue;
  }

  ProxyMetrics metrics() {
    return metrics;
  }

  ProxyMetrics.UpstreamMeters noUpstreamMeters() {
    return noUpstream;
  }

  UpstreamConnections connections() {
    return connections;
  }

  ReadDeadlines readDeadlines() {
    return readDeadlines;
  }

  ClientDeadlines clientDeadlines() {
    return clientDeadlines;
  }

  /** The jobs, or null when no route runs jobs. */
  JobStore jobs() {
    return jobs;
  }

  /** True once Fairway is stopping: responses then close their connection. */
  boolean draining() {
    return lifecycle.draining();
  }
}
