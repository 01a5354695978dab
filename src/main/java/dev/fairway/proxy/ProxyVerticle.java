package dev.fairway.proxy;

import dev.fairway.accesslog.AccessLog;
import dev.fairway.accesslog.AccessRecord;
import dev.fairway.bus.Addresses;
import dev.fairway.bus.UpstreamFeed;
import dev.fairway.config.FairwayOptions;
import dev.fairway.config.ProcessOptions;
import dev.fairway.jobs.JobEndpoint;
import dev.fairway.metrics.ProxyMetrics;
import dev.fairway.ops.Lifecycle;
import dev.fairway.upstream.InFlightCounters;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.json.JsonObject;

import java.time.Duration;
import java.util.List;

/**
 * One instance of the proxy; N of them share the listen port. This class is wiring: the server, the upstream clients,
 * following the balancer's snapshots into the {@link UpstreamSelector}, and reloads into new {@link ProxySettings}.
 * Each request is a {@link ProxyExchange} (or a {@link WebSocketRelay}) over the instance's {@link ProxyInstance}.
 * Picking an upstream is a local, lock-free call; the in-flight counters and the wait queue are shared by all
 * instances.
 */
public class ProxyVerticle extends VerticleBase {

  /** Largest body chunk decoded at once, both ways (Netty's default is 8 KiB). */
  static final int BODY_CHUNK = 64 * 1024;

  private final int index;
  private final FairwayOptions startOptions;
  private final ProxyShared shared;
  private final ProxyMetrics metrics;
  private final RequestQueue queue;
  /** Replaced by a reload ({@link #useAccessLog}) on this instance's event loop. */
  private AccessLog accessLog;
  private ProxyInstance instance;
  private WebSocketRelay webSockets;
  /** {@code <jobs.prefix>/<id>}, when jobs are on. */
  private JobEndpoint jobEndpoint;
  private HttpClientAgent client;
  private HttpClientAgent http2Client;
  private HttpServer server;
  /** The direct HTTP/1.1 path on this instance's event loop, when listen.direct-http1 is on. */
  private DirectHttp1.Instance direct;

  /**
   * @param index this instance's number, from 0: its slot in per-event-loop state shared by all instances
   * @param options the config at start; reloads arrive on {@link Addresses#CONFIG_CHANGED}
   */
  public ProxyVerticle(int index, FairwayOptions options, ProxyShared shared, AccessLog accessLog) {
    this.index = index;
    this.startOptions = options;
    this.shared = shared;
    this.metrics = shared.metrics();
    this.queue = shared.queue();
    this.accessLog = accessLog;
  }

  @Override
  public Future<?> start() {
    UpstreamSelector selector = new UpstreamSelector(shared.counters(), metrics, shared.capacities());
    // connections are opened by the agent and pooled by UpstreamConnections, not by the client's own pool
    client = vertx.createHttpClient(clientOptions(HttpVersion.HTTP_1_1));
    http2Client = vertx.createHttpClient(clientOptions(HttpVersion.HTTP_2));
    ReadDeadlines readDeadlines = new ReadDeadlines(vertx);
    instance = new ProxyInstance(vertx, index, selector, queue, metrics,
      new UpstreamConnections(vertx, client, http2Client, startOptions.getProcess().getPoolSize(),
        startOptions.getProcess().getUpstreamMaxIdle(), startOptions.getProcess().getUpstreamIdleTimeoutMillis()),
      readDeadlines, new ClientDeadlines(vertx, this::onClientTimeout), shared.lifecycle(), shared.jobs(),
      shared.waits());
    shared.ages().register(context, readDeadlines);
    jobEndpoint = shared.jobs() == null ? null : new JobEndpoint(shared.jobs(), instance.jobForwarder());
    instance.use(linesOf(accessLog));
    reconfigure(startOptions);
    int poolSize = startOptions.getProcess().getPoolSize();
    webSockets = new WebSocketRelay(instance, vertx.createWebSocketClient(
      startOptions.getUpstreamTls().applyTo(new WebSocketClientOptions().setMaxConnections(poolSize))), poolSize);
    return UpstreamFeed.follow(vertx, set -> {
        selector.follow(set);
        queue.drain(); // an upstream may have come back: queued requests can go now
      })
      .compose(v -> vertx.eventBus().<JsonObject>localConsumer(Addresses.CONFIG_CHANGED,
        msg -> reconfigure(new FairwayOptions(msg.body()))).completion())
      .compose(v -> vertx.createHttpServer(serverOptions()).requestHandler(this::handle).connectionHandler(this::opened)
        .listen())
      .onSuccess(s -> {
        server = s;
        if (startOptions.getListen().isDirectHttp1() && !startOptions.getListen().getTls().enabled()) {
          ProcessOptions process = startOptions.getProcess();
          direct = new DirectHttp1.Instance(instance, s.actualPort(), startOptions.getUpstreamTls().isEnabled(),
            path -> jobEndpoint != null && jobEndpoint.owns(path), this::admit, process.getPoolSize(),
            process.getUpstreamMaxIdle(), process.getUpstreamIdleTimeoutMillis());
          DirectHttp1.register(direct);
        }
      });
  }

  /** Routes, timeouts, retries, hash keys and client-address rules: everything a reload can change without a restart. */
  private void reconfigure(FairwayOptions next) {
    instance.selector().configure(next);
    instance.use(ProxySettings.of(next, shared.rateLimiters()));
  }

  /** Vert.x opened a client connection: counted, watched, and closed at once if it is over a limit. */
  private void opened(HttpConnection conn) {
    String over = admit(conn, ForwardedHeaders.peer(conn.remoteAddress()), conn::close);
    conn.closeHandler(x -> instance.clientDeadlines().closed(conn));
    if (over != null) conn.close();
  }

  /**
   * Counts a new client connection (Vert.x's, or one the direct path holds) and has the client deadlines watch it.
   *
   * @return the limit it is over ({@code max-connections}, {@code max-client-connections}), for the caller to close
   *     it, or null
   */
  private String admit(Object conn, String address, Runnable close) {
    ProxySettings settings = instance.settings();
    int open = metrics.clientConnections().incrementAndGet();
    int fromClient = shared.clientConnections().opened(address);
    instance.clientDeadlines().opened(conn, address, () -> {
      metrics.clientConnections().decrementAndGet();
      shared.clientConnections().closed(address);
    }, close);
    String over = settings.maxConnections() > 0 && open > settings.maxConnections() ? "max-connections"
      : settings.maxClientConnections() > 0 && fromClient > settings.maxClientConnections() ? "max-client-connections" : null;
    if (over != null) metrics.connectionRefused(over);
    return over;
  }

  private void handle(HttpServerRequest req) {
    String peer = instance.clientDeadlines().requestStarted(req.connection());
    if (peer == null) peer = ForwardedHeaders.peer(req.remoteAddress());
    HttpMethod method = req.method();
    if (method == HttpMethod.TRACE || method == HttpMethod.CONNECT) {
      instance.refuse(req, Failure.METHOD_NOT_ALLOWED, "(" + method.name() + ")");
      return;
    }
    String problem = RequestChecks.problem(req);
    if (problem != null) {
      instance.refuse(req, Failure.BAD_REQUEST, "(" + problem + ")");
      return;
    }
    RequestTarget target = RequestTarget.of(req);
    if (jobEndpoint != null && target.path() != null && jobEndpoint.owns(target.path())) {
      jobEndpoint.handle(req, target.path(), instance.settings().client(req, peer));
      instance.clientDeadlines().requestEnded(req.connection());
      return;
    }
    if (isWebSocketUpgrade(req)) {
      webSockets.open(req, target, peer);
      return;
    }
    new ProxyExchange(instance, req, target, peer).start();
  }

  private static boolean isWebSocketUpgrade(HttpServerRequest req) {
    String upgrade = req.getHeader(HttpHeaders.UPGRADE);
    return upgrade != null && upgrade.equalsIgnoreCase("websocket") && req.version() == HttpVersion.HTTP_1_1;
  }

  /**
   * A client connection closed by {@link ClientDeadlines}. A head that never completed is logged as nginx does, a
   * 408 without a request line: there is no request to answer, and Vert.x gives no way to write one before the head.
   */
  private void onClientTimeout(String peer, String phase) {
    metrics.clientTimedOut(phase);
    AccessLog.Lines lines = instance.accessLines();
    if (phase.equals("header") && lines.enabled()) {
      Failure timeout = Failure.HEADER_TIMEOUT;
      lines.log(new AccessRecord(System.currentTimeMillis(), peer, null, null, null,
        timeout.status(), 0, 0, null, null, instance.settings().clientHeaderTimeoutMillis() * 1_000_000, null, -1, 0, null,
        timeout.code()));
    }
  }

  /**
   * Switches this instance to another access log (a reload changed its settings): the lines formatted so far go to
   * the previous log's writer first, so none is lost or written to the wrong file.
   */
  public Future<Void> useAccessLog(AccessLog next) {
    Promise<Void> switched = Promise.promise();
    context.runOnContext(v -> {
      instance.accessLines().handOff();
      accessLog = next;
      instance.use(linesOf(next));
      switched.complete();
    });
    return switched.future();
  }

  /** This instance's side of {@code log}: a block's lines go to the writer at the latest a hand-off delay after its first. */
  private AccessLog.Lines linesOf(AccessLog log) {
    return log.lines(() -> vertx.setTimer(AccessLog.HANDOFF_MILLIS, id -> instance.accessLines().handOff()));
  }

  /**
   * Stops accepting connections and lets in-flight requests finish, up to {@code timeout}; kept-alive connections
   * are closed after their current response.
   */
  public Future<Void> shutdown(Duration timeout) {
    Future<Void> vertxConnections = server.shutdown(timeout);
    if (direct == null) return vertxConnections;
    Promise<Void> directConnections = Promise.promise();
    context.runOnContext(v -> direct.shutdown(vertx, timeout.toMillis()).onComplete(directConnections));
    return Future.join(vertxConnections, directConnections.future()).mapEmpty();
  }

  @Override
  public Future<?> stop() {
    DirectHttp1.unregister();
    if (direct != null) direct.closeAll(); // Vert.x closes its own connections; these it has never seen
    instance.accessLines().handOff();
    return Future.join(client.close(), http2Client.close());
  }

  /** The port this instance listens on (useful when configured as 0). */
  public int actualPort() {
    return server.actualPort();
  }

  /** This instance's event-loop context, for the liveness check. */
  public Context eventLoop() {
    return context;
  }

  private HttpServerOptions serverOptions() {
    FairwayOptions options = startOptions;
    HttpServerOptions o = new HttpServerOptions()
      .setHost(options.getListen().getHost())
      .setPort(options.getListen().getPort())
      .setTcpNoDelay(true)
      .setCompressionSupported(false)
      .setDecompressionSupported(false)
      .setMaxChunkSize(BODY_CHUNK) // fewer, larger body events: an upload through Fairway went from ~610 to ~790 MB/s
      // Expect: 100-continue is answered only once the request is going upstream, so a request refused early
      // (413, 503) never has its body sent
      .setHandle100ContinueAutomatically(false)
      .setHttp2ClearTextEnabled(options.getListen().isHttp2Cleartext())
      .setWebSocketSubProtocols(List.of("*")) // the upstream chooses; WebSocketRelay passes its choice on
      // without compression Vert.x adds no extension handler (and its two handshakers) to each connection
      .setPerMessageWebSocketCompressionSupported(options.getListen().isWebSocketCompression())
      .setPerFrameWebSocketCompressionSupported(options.getListen().isWebSocketCompression())
      // each exchange runs on this verticle's event loop, so client connections can write directly: this saves
      // Vert.x's cross-thread write queue per connection, 4 KiB of an idle connection's 8 (load-tests/idle.sh)
      .setStrictThreadMode(true);
    if (options.getListen().getTls().enabled()) {
      options.getListen().getTls().applyTo(o).setUseAlpn(true).setAlpnVersions(List.of(HttpVersion.HTTP_2, HttpVersion.HTTP_1_1));
    }
    return o;
  }

  /** HTTP/2 upstreams: prior knowledge on plain TCP, ALPN over TLS. */
  private HttpClientOptions clientOptions(HttpVersion version) {
    HttpClientOptions o = startOptions.getUpstreamTls().applyTo(new HttpClientOptions());
    if (version == HttpVersion.HTTP_2) o.setHttp2ClearTextUpgrade(false).setUseAlpn(o.isSsl());
    return o.setProtocolVersion(version)
      .setKeepAlive(true)
      .setKeepAliveTimeout(60)
      .setTcpNoDelay(true)
      .setDecompressionSupported(false)
      .setMaxChunkSize(BODY_CHUNK);
  }
}
