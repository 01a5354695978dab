package dev.fairway.proxy;

import dev.fairway.accesslog.AccessLog;
import dev.fairway.accesslog.AccessRecord;
import dev.fairway.accesslog.RequestIds;
import dev.fairway.bus.Addresses;
import dev.fairway.bus.UpstreamFailure;
import dev.fairway.bus.UpstreamFeed;
import dev.fairway.config.FairwayOptions;
import dev.fairway.config.HashKey;
import dev.fairway.metrics.ProxyMetrics;
import dev.fairway.ops.Lifecycle;
import dev.fairway.upstream.InFlightCounters;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import io.vertx.core.http.Cookie;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.PemKeyCertOptions;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One instance of the proxy; N of them share the listen port. Each keeps its own HTTP client (connections stay on its
 * event loop) and its own copy of the balancer's latest snapshot, so picking an upstream is a local, lock-free call.
 * The in-flight counters and the wait queue are shared by all instances.
 */
public class ProxyVerticle extends VerticleBase {

  /** Largest body chunk decoded at once, both ways (Netty's default is 8 KiB). */
  static final int BODY_CHUNK = 64 * 1024;

  /** Replaced by a config reload; read per request on this instance's event loop. */
  private volatile FairwayOptions options;
  private final InFlightCounters counters;
  private final ProxyMetrics metrics;
  private final RequestQueue queue;
  private final Lifecycle lifecycle;
  private final int index;
  /** Replaced by a reload ({@link #useAccessLog}); like its lines, used on this instance's event loop only. */
  private AccessLog accessLog;
  /** This instance's side of the access log: lines are formatted here, on the event loop, and handed to the writer. */
  private AccessLog.Lines accessLines;
  private ClientAddress clientAddress;
  private boolean resolveClient;
  private ProxyMetrics.UpstreamMeters noUpstream;
  private RouteTable routes;
  /** One pool per upstream group. Replaced on this instance's event loop; read by other instances when they drain the shared queue. */
  private volatile Map<String, OriginPool> pools = Map.of();
  private io.vertx.core.http.HttpClientAgent client;
  private io.vertx.core.http.HttpClientAgent http2Client;
  private UpstreamConnections connections;
  private HttpServer server;
  private WebSocketClient webSocketClient;
  private ReadDeadlines readDeadlines;
  private ClientDeadlines clientDeadlines;
  private Map<String, HashKey> hashKeys = Map.of();
  private static final OriginPool EMPTY = new OriginPool(
    new dev.fairway.upstream.UpstreamSet(0, Map.of(), List.of()), "none", false, new InFlightCounters(), null);

  /**
   * @param index this instance's number, from 0: its slot in per-event-loop state shared by all instances
   */
  public ProxyVerticle(int index, FairwayOptions options, InFlightCounters counters, ProxyMetrics metrics, RequestQueue queue,
                       Lifecycle lifecycle, AccessLog accessLog) {
    this.index = index;
    this.accessLog = accessLog;
    this.options = options;
    this.counters = counters;
    this.metrics = metrics;
    this.queue = queue;
    this.lifecycle = lifecycle;
  }

  /** The queue that every proxy instance of one Fairway shares. */
  public static RequestQueue newSharedQueue(FairwayOptions options) {
    return new RequestQueue(options.getQueueSize());
  }

  @Override
  public Future<?> start() {
    readDeadlines = new ReadDeadlines(vertx);
    clientDeadlines = new ClientDeadlines(vertx, this::onClientTimeout);
    applySettings(options);
    noUpstream = metrics.forUpstream(ProxyMetrics.NO_UPSTREAM);
    accessLines = linesOf(accessLog);
    // connections are opened by the agent and pooled by UpstreamConnections, not by the client's own pool
    client = vertx.createHttpClient(clientOptions(HttpVersion.HTTP_1_1));
    http2Client = vertx.createHttpClient(clientOptions(HttpVersion.HTTP_2));
    connections = new UpstreamConnections(client, http2Client, options.getPoolSize());
    webSocketClient = vertx.createWebSocketClient(options.getUpstreamTls().applyTo(new WebSocketClientOptions().setMaxConnections(options.getPoolSize())));
    return UpstreamFeed.follow(vertx, set -> {
        Map<String, OriginPool> next = new HashMap<>();
        for (String group : set.strategies().keySet()) {
          next.put(group, new OriginPool(set, group, options.isPanicTryAll(), counters, metrics));
        }
        pools = next;
        queue.drain(); // an upstream may have come back: queued requests can go now
      })
      .compose(v -> vertx.eventBus().<JsonObject>consumer(Addresses.CONFIG_CHANGED, msg -> applySettings(new FairwayOptions(msg.body()))).completion())
      .compose(v -> vertx.createHttpServer(serverOptions()).requestHandler(this::handle).connectionHandler(conn -> {
        metrics.clientConnections().incrementAndGet();
        clientDeadlines.opened(conn);
        conn.closeHandler(x -> {
          metrics.clientConnections().decrementAndGet();
          clientDeadlines.closed(conn);
        });
      }).listen())
      .onSuccess(s -> server = s);
  }

  /** Routes, timeouts, retries and client-address rules: everything a reload can change without a restart. */
  private void applySettings(FairwayOptions next) {
    options = next;
    readDeadlines.schedule(next.getRoutes().stream().mapToLong(r -> r.getTimeouts().getReadMillis())
      .reduce(next.getTimeouts().getReadMillis(), Math::min));
    clientDeadlines.schedule(next.getClientHeaderTimeoutMillis(), next.getClientKeepAliveTimeoutMillis());
    Map<String, HashKey> keys = new HashMap<>();
    next.allGroups().forEach(g -> {
      if (g.getHashKey() != null) keys.put(g.getName(), g.getHashKey());
    });
    hashKeys = keys;
    routes = new RouteTable(next);
    clientAddress = new ClientAddress(next.getTrustedProxies(), next.getClientIpHeader());
    resolveClient = !next.getTrustedProxies().isEmpty();
  }

  /**
   * Stops accepting connections and lets in-flight requests finish, up to {@code timeout}; kept-alive connections
   * are closed after their current response.
   */
  public Future<Void> shutdown(Duration timeout) {
    return server.shutdown(timeout);
  }

  boolean dropUnderscoreHeaders() {
    return options.isDropUnderscoreHeaders();
  }

  ReadDeadlines readDeadlines() {
    return readDeadlines;
  }

  ClientDeadlines clientDeadlines() {
    return clientDeadlines;
  }

  /**
   * A client connection closed by {@link ClientDeadlines}. A head that never completed is logged as nginx does, a
   * 408 without a request line: there is no request to answer, and Vert.x gives no way to write one before the head.
   */
  private void onClientTimeout(HttpConnection conn, String phase) {
    metrics.clientTimedOut(phase);
    if (phase.equals("header") && accessLog.enabled()) {
      accessLines.log(new AccessRecord(System.currentTimeMillis(), conn.remoteAddress().hostAddress(), null, null, null,
        408, 0, 0, null, null, options.getClientHeaderTimeoutMillis() * 1_000_000, null, -1, 0, null, "header_timeout"));
    }
  }

  int index() {
    return index;
  }

  /**
   * Switches this instance to another access log (a reload changed its settings): the lines formatted so far go to
   * the previous log's writer first, so none is lost or written to the wrong file.
   */
  public Future<Void> useAccessLog(AccessLog next) {
    Promise<Void> switched = Promise.promise();
    context.runOnContext(v -> {
      accessLines.handOff();
      accessLog = next;
      accessLines = linesOf(next);
      switched.complete();
    });
    return switched.future();
  }

  /** This instance's side of {@code log}: a block's lines go to the writer at the latest a hand-off delay after its first. */
  private AccessLog.Lines linesOf(AccessLog log) {
    return log.lines(() -> vertx.setTimer(AccessLog.HANDOFF_MILLIS, id -> accessLines.handOff()));
  }

  AccessLog accessLog() {
    return accessLog;
  }

  AccessLog.Lines accessLines() {
    return accessLines;
  }

  /** True once Fairway is stopping: responses then close their connection. */
  boolean draining() {
    return lifecycle.draining();
  }

  @Override
  public Future<?> stop() {
    accessLines.handOff();
    return Future.join(client.close(), http2Client.close());
  }

  private HttpServerOptions serverOptions() {
    HttpServerOptions o = new HttpServerOptions()
      .setHost(options.getHost())
      .setPort(options.getPort())
      .setTcpNoDelay(true)
      .setCompressionSupported(false)
      .setDecompressionSupported(false)
      .setMaxChunkSize(BODY_CHUNK) // fewer, larger body events: an upload through Fairway went from ~610 to ~790 MB/s
      // Expect: 100-continue is answered only once the request is going upstream, so a request refused early
      // (413, 503) never has its body sent
      .setHandle100ContinueAutomatically(false)
      .setHttp2ClearTextEnabled(options.isHttp2Cleartext())
      .setWebSocketSubProtocols(List.of("*")) // the upstream chooses; WebSocketRelay passes its choice on
      // each exchange runs on this verticle's event loop, so client connections can write directly: this saves
      // Vert.x's cross-thread write queue per connection, 4 KiB of an idle connection's 8 (load-tests/idle.sh)
      .setStrictThreadMode(true);
    if (options.getTlsCert() != null) {
      o.setSsl(true).setUseAlpn(true).setAlpnVersions(List.of(HttpVersion.HTTP_2, HttpVersion.HTTP_1_1))
        .setKeyCertOptions(new PemKeyCertOptions().setCertPath(options.getTlsCert()).setKeyPath(options.getTlsKey()));
    }
    return o;
  }

  /** HTTP/2 upstreams: prior knowledge on plain TCP, ALPN over TLS. */
  private HttpClientOptions clientOptions(HttpVersion version) {
    HttpClientOptions o = options.getUpstreamTls().applyTo(new HttpClientOptions());
    if (version == HttpVersion.HTTP_2) o.setHttp2ClearTextUpgrade(false).setUseAlpn(o.isSsl());
    return o.setProtocolVersion(version)
      .setKeepAlive(true)
      .setKeepAliveTimeout(60)
      .setTcpNoDelay(true)
      .setDecompressionSupported(false)
      .setMaxChunkSize(BODY_CHUNK);
  }

  private void handle(HttpServerRequest req) {
    clientDeadlines.requestStarted(req.connection());
    HttpMethod method = req.method();
    if (method == HttpMethod.TRACE || method == HttpMethod.CONNECT) {
      refuse(req, 405, "method not allowed: " + method.name());
      return;
    }
    String problem = RequestChecks.problem(req);
    if (problem != null) {
      refuse(req, 400, "bad request: " + problem);
      return;
    }
    if (isWebSocketUpgrade(req)) {
      upgrade(req);
      return;
    }
    new ProxyExchange(this, req, route(req)).start();
  }

  /** Refuses a request before any upstream is involved, closing the connection: its framing cannot be trusted. */
  private void refuse(HttpServerRequest req, int status, String message) {
    HttpServerResponse resp = req.response().setStatusCode(status).putHeader(HttpHeaders.CONTENT_TYPE, "text/plain; charset=utf-8");
    if (status == 405) resp.putHeader(HttpHeaders.ALLOW, "GET, HEAD, POST, PUT, DELETE, OPTIONS, PATCH");
    if (req.version() != HttpVersion.HTTP_2) resp.putHeader(HttpHeaders.CONNECTION, HttpHeaders.CLOSE);
    noUpstream.record(index, ProxyMetrics.NO_ROUTE, req.method(), status, 0, 0, 0);
    clientDeadlines.requestEnded(req.connection()); // an HTTP/2 connection stays open for its other streams
    resp.end(message + "\n").onComplete(v -> {
      if (req.version() != HttpVersion.HTTP_2) req.connection().close();
    });
  }

  private static boolean isWebSocketUpgrade(HttpServerRequest req) {
    String upgrade = req.getHeader(HttpHeaders.UPGRADE);
    return upgrade != null && upgrade.equalsIgnoreCase("websocket") && req.version() == HttpVersion.HTTP_1_1;
  }

  private Route route(HttpServerRequest req) {
    return routes.match(req.path(), req.method().name(), req.authority() == null ? null : req.authority().host());
  }

  /** A WebSocket: the picked upstream's slot is held until the connection closes. */
  private void upgrade(HttpServerRequest req) {
    String group = route(req).group();
    String peer = ForwardedHeaders.peer(req);
    String client = clientAddress(req, peer);
    Origin origin = pick(group, hashKey(group, req, client));
    if (origin == null) {
      refuse(req, 503, "no upstream available for a WebSocket");
      return;
    }
    metrics.webSockets().incrementAndGet();
    MultiMap forwarded = HttpHeaders.headers();
    ForwardedHeaders.copyRequest(req, client, peer, RequestIds.keepOrCreate(req.getHeader(ForwardedHeaders.X_REQUEST_ID)),
      options.isDropUnderscoreHeaders(), forwarded);
    WebSocketRelay.open(req, webSocketClient, origin, forwarded, () -> {
      metrics.webSockets().decrementAndGet();
      origin.inFlight().decrementAndGet();
      queue.drain();
    }).onFailure(err -> reportFailure(origin.id(), err));
  }

  private OriginPool pool(String group) {
    OriginPool p = pools.get(group);
    return p != null ? p : EMPTY;
  }

  /** An origin of {@code group} with its slot claimed, or null if all are full or none is eligible. Thread-safe. */
  Origin pick(String group, String key) {
    return pool(group).pick(key);
  }

  /** Another origin of {@code group} than those already tried, with its slot claimed, or null. */
  Origin pickExcept(String group, List<String> tried, String key) {
    OriginPool current = pool(group);
    for (int i = 0; i < current.size(); i++) {
      Origin o = current.pick(key);
      if (o == null) return null;
      if (!tried.contains(o.id())) return o;
      o.inFlight().decrementAndGet();
      key = null; // a hash key maps to the same upstream every time: rotate instead
    }
    return null;
  }

  int eligibleCount(String group) {
    return pool(group).size();
  }

  /** The client's address: the peer, or what a trusted proxy in front says it is. */
  String clientAddress(HttpServerRequest req, String peer) {
    return resolveClient ? clientAddress.of(req, peer) : peer;
  }

  /** What the hashing strategies hash for this request; null for the others or when the key is absent. */
  String hashKey(String group, HttpServerRequest req, String client) {
    return switch (pool(group).strategy()) {
      case IP_HASH -> client;
      case HASH -> {
        HashKey key = hashKeys.get(group);
        if (key == null) yield null;
        if (key.source() == HashKey.Source.HEADER) yield req.getHeader(key.name());
        Cookie cookie = req.getCookie(key.name());
        yield cookie == null ? null : cookie.getValue();
      }
      default -> null;
    };
  }

  /** Tells the health verticle, which counts it towards passive ejection (max-fails within fail-timeout). */
  void reportFailure(String upstream, Throwable cause) {
    reportFailure(upstream, UpstreamFailure.describe(cause));
  }

  void reportFailure(String upstream, String reason) {
    vertx.eventBus().publish(Addresses.PROXY_UPSTREAM_FAILED, new UpstreamFailure(upstream, reason).toJson());
  }

  Set<Integer> failOnStatus() {
    return options.getHealth().getFailOnStatus();
  }

  int retryBuffer() {
    return options.getRetryBuffer();
  }

  long retryTimeoutMillis() {
    return options.getRetryTimeoutMillis();
  }

  /** The port this instance listens on (useful when configured as 0). */
  public int actualPort() {
    return server.actualPort();
  }

  /** This instance's event-loop context, for the liveness check. */
  public io.vertx.core.Context eventLoop() {
    return context;
  }

  Vertx vertx() {
    return vertx;
  }

  UpstreamConnections connections() {
    return connections;
  }

  RequestQueue queue() {
    return queue;
  }

  long queueTimeoutMillis() {
    return options.getQueueTimeoutMillis();
  }

  ProxyMetrics metrics() {
    return metrics;
  }

  ProxyMetrics.UpstreamMeters noUpstreamMeters() {
    return noUpstream;
  }

  int retries() {
    return options.getRetries();
  }
}
