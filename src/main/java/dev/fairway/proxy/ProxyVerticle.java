package dev.fairway.proxy;

import dev.fairway.bus.Addresses;
import dev.fairway.bus.UpstreamFailure;
import dev.fairway.bus.UpstreamFeed;
import dev.fairway.config.FairwayOptions;
import dev.fairway.metrics.ProxyMetrics;
import dev.fairway.upstream.InFlightCounters;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.PoolOptions;

import java.util.List;

/**
 * One instance of the proxy; N of them share the listen port. Each keeps its own HTTP client (connections stay on its
 * event loop) and its own copy of the balancer's latest snapshot, so picking an upstream is a local, lock-free call.
 */
public class ProxyVerticle extends VerticleBase {

  private final FairwayOptions options;
  private final InFlightCounters counters;
  private final ProxyMetrics metrics;
  private ProxyMetrics.UpstreamMeters noUpstream;
  private RouteTable routes;
  private OriginPool pool;
  private HttpClient client;
  private HttpServer server;

  public ProxyVerticle(FairwayOptions options, InFlightCounters counters, ProxyMetrics metrics) {
    this.options = options;
    this.counters = counters;
    this.metrics = metrics;
  }

  @Override
  public Future<?> start() {
    routes = new RouteTable(options);
    noUpstream = metrics.forUpstream(ProxyMetrics.NO_UPSTREAM);
    client = vertx.createHttpClient(clientOptions(), new PoolOptions()
      .setHttp1MaxSize(options.getPoolSize())
      .setMaxWaitQueueSize(options.getPoolSize()));
    return UpstreamFeed.follow(vertx, set -> pool = new OriginPool(set, counters, metrics))
      .compose(v -> vertx.createHttpServer(serverOptions()).requestHandler(this::handle).listen())
      .onSuccess(s -> server = s);
  }

  @Override
  public Future<?> stop() {
    return client.close();
  }

  private HttpServerOptions serverOptions() {
    return new HttpServerOptions()
      .setHost(options.getHost())
      .setPort(options.getPort())
      .setTcpNoDelay(true)
      .setCompressionSupported(false)
      .setDecompressionSupported(false)
      .setHandle100ContinueAutomatically(true)
      .setHttp2ClearTextEnabled(false); // no h2c upgrade: upstream and client both stay HTTP/1.1 for now
  }

  private HttpClientOptions clientOptions() {
    return new HttpClientOptions()
      .setProtocolVersion(HttpVersion.HTTP_1_1)
      .setKeepAlive(true)
      .setKeepAliveTimeout(60)
      .setTcpNoDelay(true)
      .setDecompressionSupported(false);
  }

  private void handle(HttpServerRequest req) {
    Origin origin = pool.pick();
    if (origin == null) {
      rejectNoUpstream(req);
      return;
    }
    new ProxyExchange(this, req, routes.match(req.path())).start(origin);
  }

  private void rejectNoUpstream(HttpServerRequest req) {
    long start = System.nanoTime();
    boolean unreadBody = ProxyExchange.hasBody(req);
    req.response().setStatusCode(503).putHeader(HttpHeaders.CONTENT_TYPE, "text/plain; charset=utf-8");
    if (unreadBody) {
      req.response().putHeader(HttpHeaders.CONNECTION, HttpHeaders.CLOSE);
    }
    req.response().end("no healthy upstream\n").onComplete(v -> {
      if (unreadBody) req.connection().close();
    });
    noUpstream.record(req.method(), 503, start);
  }

  /** Another origin than those already tried, with its slot claimed, or null. */
  Origin pickExcept(List<String> tried) {
    OriginPool current = pool;
    for (int i = 0; i < current.size(); i++) {
      Origin o = current.pick();
      if (o == null) return null;
      if (!tried.contains(o.id())) return o;
      o.inFlight().decrementAndGet();
    }
    return null;
  }

  /** Tells the health verticle at once, so it probes now instead of at the next interval. */
  void reportFailure(String upstream, Throwable cause) {
    vertx.eventBus().publish(Addresses.PROXY_UPSTREAM_FAILED, new UpstreamFailure(upstream, UpstreamFailure.describe(cause)).toJson());
  }

  /** The port this instance listens on (useful when configured as 0). */
  public int actualPort() {
    return server.actualPort();
  }

  Vertx vertx() {
    return vertx;
  }

  HttpClient client() {
    return client;
  }

  int retries() {
    return options.getRetries();
  }
}
