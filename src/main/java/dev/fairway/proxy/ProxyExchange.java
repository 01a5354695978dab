package dev.fairway.proxy;

import dev.fairway.accesslog.AccessLog;
import dev.fairway.accesslog.AccessRecord;
import dev.fairway.accesslog.RequestIds;
import dev.fairway.metrics.ProxyMetrics;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpClientConnection;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.json.JsonObject;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.net.HostAndPort;

import dev.fairway.bus.UpstreamFailure;
import dev.fairway.jobs.IdempotentRepeat;
import dev.fairway.jobs.JobRun;
import dev.fairway.jobs.JobScope;
import dev.fairway.jobs.JobState;
import dev.fairway.jobs.JobDirectory;
import dev.fairway.jobs.JobScope;
import dev.fairway.jobs.JobStore;

import java.net.ConnectException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * One client request on its way through Fairway: pick an origin (or wait in the queue while all are full), connect
 * (retrying a refused connect elsewhere, which is safe because no byte was sent), stream the body up and the
 * response down with back-pressure, and answer every failure from the {@link Failure} catalogue. It runs under the
 * settings in force when it started, on its proxy instance's event loop only.
 * <p>
 * It is longer than the other classes on purpose: a request's life is one state machine (queued, connecting,
 * sending, relaying, done) whose fields — the claimed slot, the connection, the timers, {@code done} — every step
 * reads and changes. Split across classes, those fields would become shared mutable state; what does not touch them
 * lives elsewhere (the catalogue in {@link Failure}, the writer in {@link ErrorReply}, the relay loop in
 * {@link BodyPump}, the choice of upstream in {@link UpstreamSelector}, headers in {@link ForwardedHeaders}, the
 * upload's deadlines in {@link UploadWatch}, the rules of response framing in {@link ResponseFraming}, a job's spool
 * and detach in {@link JobRun}, a waiting client's place in {@link QueueEvents}, keep-alive comments in
 * {@link SseHeartbeat}).
 */
final class ProxyExchange implements ChunkedPassThrough.Exchange, ReadDeadlines.Watched {

  /** Seconds the request waited in the queue, on every response that waited. */
  static final String QUEUE_WAIT = "Fairway-Queue-Wait";

  /** Methods that may be sent twice (RFC 9110 idempotent, less TRACE which Fairway does not forward). */
  static final java.util.Set<HttpMethod> IDEMPOTENT = java.util.Set.of(HttpMethod.GET, HttpMethod.HEAD, HttpMethod.OPTIONS,
    HttpMethod.PUT, HttpMethod.DELETE);

  private final ProxyInstance proxy;
  private final ProxySettings settings;
  private final UpstreamSelector selector;
  private final HttpServerRequest req;
  private final HttpServerResponse resp;
  private final RequestTarget target;
  private final Route route;
  private final boolean hasBody;
  private final String peer;
  private final String client;
  private final String requestId;
  private String referer;
  private String userAgent;
  /** False if the log was off when the request came (a reload may switch it on before it ends). */
  private boolean loggedHeadersRead;
  /** Why the request failed, for the access log (e.g. upstream_timeout); null while all is well. */
  private String reason;
  private long upstreamNanos = -1;
  private long queueNanos;
  private final long startNanos = System.nanoTime();
  private final List<String> tried = new ArrayList<>(2);
  private Origin origin;
  private HttpClientRequest upstreamReq;
  /** The upstream connection of the current attempt; given back to the pool when the exchange completes cleanly. */
  private io.vertx.core.http.HttpClientConnection connection;
  private boolean upstreamDone;
  /** The current attempt's connection was a kept-alive one, not opened for it. */
  private boolean reusedConnection;
  /** A stale kept-alive connection was already replaced once: the next failure counts. */
  private boolean staleRetried;
  /** Connections this request was sent on so far, to any upstream: from the second on, the kept body goes. */
  private int attempts;
  /** The whole request (head and body) has gone upstream: from then on the read timeout runs. */
  private boolean requestSent;
  /** Fairway itself reset the upstream request: the failure that follows is not the upstream's. */
  private boolean cancelled;
  /** The upstream said it keeps the connection open (HTTP/1.1 without Connection: close). */
  private boolean upstreamKeepsAlive;
  private RequestQueue.Waiter waiter;
  private boolean done;
  /** True while this exchange holds an in-flight slot on {@link #origin} (claimed by the strategy's pick). */
  private boolean holdingSlot;
  private long totalTimer = -1;
  /** Watches the request body while it streams upstream (send-timeout, min-upload-rate); null before and without one. */
  private UploadWatch uploadWatch;
  private long queueTimer = -1;
  /** When the upstream last sent a byte (or the request went out): the read timeout runs from here. */
  private long lastUpstreamNanos;
  /** The request body as sent so far, kept while it fits in retry-buffer so an idempotent request can be retried. */
  private Buffer bodyCopy;
  /** On a job route: the job this request runs (its response spooled, its client free to go); null elsewhere. */
  private JobRun job;
  /** {@code Prefer: respond-async} with a body: 202 once the body has gone upstream. */
  private boolean acceptWhenSent;
  /** Keep-alive comments on a silent event stream; null on other responses. */
  private SseHeartbeat heartbeat;
  /** The client was answered 200 and an event stream while it waited ({@code queue-events}). */
  private boolean streamOpened;
  /** The place updates of a waiting event-stream client; null otherwise. */
  private QueueEvents queueEvents;
  /** Passes a chunked response body on beneath Vert.x, once it can; null when the body goes through Vert.x. */
  private ChunkedPassThrough passThrough;
  /** Response body bytes written through Vert.x by the relay loop, and those passed through beneath it. */
  private long bodyWritten;
  private long bodyPassed;

  /** @param peer the TCP peer's address as text ({@link ForwardedHeaders#peer}) */
  ProxyExchange(ProxyInstance proxy, HttpServerRequest req, RequestTarget target, String peer) {
    this.proxy = proxy;
    this.settings = proxy.settings();
    this.selector = proxy.selector();
    this.req = req;
    this.resp = req.response();
    this.target = target;
    this.route = settings.route(req, target);
    this.hasBody = hasBody(req);
    this.peer = peer;
    this.client = settings.client(req, peer);
    this.requestId = RequestIds.keepOrCreate(req.getHeader(ForwardedHeaders.X_REQUEST_ID));
    if (proxy.accessLines().enabled()) readLoggedHeaders();
  }

  /**
   * The headers only the access log needs, read on arrival: at the end of a request its header map has gone cold, and
   * the same two lookups there were 1.9% of the event loop's time (JFR, 50 connections).
   */
  private void readLoggedHeaders() {
    referer = req.getHeader(HttpHeaders.REFERER);
    userAgent = req.getHeader(HttpHeaders.USER_AGENT);
    loggedHeadersRead = true;
  }

  static boolean hasBody(HttpServerRequest req) {
    if (req.version() == HttpVersion.HTTP_2) return !req.isEnded(); // DATA frames may follow without any length
    MultiMap h = req.headers();
    String length = h.get(HttpHeaders.CONTENT_LENGTH);
    return h.contains(HttpHeaders.TRANSFER_ENCODING) || (length != null && !length.equals("0"));
  }

  private boolean http2() {
    return req.version() == HttpVersion.HTTP_2;
  }

  void start() {
    long max = route.maxBodyBytes();
    String length = req.getHeader(HttpHeaders.CONTENT_LENGTH);
    if (max > 0 && length != null && Long.parseLong(length.trim()) > max) {
      fail(Failure.BODY_TOO_LARGE, max + " (Content-Length: " + length.trim() + ")"); // never read
      return;
    }
    if (!RateLimiter.admits(route.rateLimiter(), req, client)) {
      reject(Failure.RATE_LIMITED, null);
      return;
    }
    if (route.jobs() != null) {
      if (keyHeldElsewhere()) return;
      if (!startJob()) return;
    }
    proceed();
  }

  /**
   * In a cluster, a request with an Idempotency-Key claims the key for this node first; if another node holds it,
   * the request goes there, where its job runs. Resumes {@link #proceed} here otherwise.
   *
   * @return true if the request left this path (it waits for the cluster's answer)
   */
  private boolean keyHeldElsewhere() {
    JobDirectory directory = proxy.jobs().directory();
    String key = req.getHeader(IdempotentRepeat.HEADER);
    if (directory == null || key == null || !IdempotentRepeat.wellFormed(key) || req.getHeader(JobDirectory.FORWARDED) != null) {
      return false;
    }
    req.pause();
    directory.claimKey(JobScope.of(route.jobs().getKeyScope(), req, client), key).onComplete(ar -> {
      JobDirectory.Location where = ar.succeeded() ? ar.result() : null;
      if (where == null) { // this node holds the key (or the cluster could not say): the job runs here
        if (!hasBody) req.resume();
        if (startJob()) proceed();
      } else if (where.gone()) {
        proxy.clientDeadlines().requestEnded(req.connection());
        req.resume();
        IdempotentRepeat.lostWithItsNode(resp, where.status().getString("id"));
      } else {
        proxy.clientDeadlines().requestEnded(req.connection());
        proxy.jobForwarder().forward(req, where.address());
      }
    });
    return true;
  }

  /** The request past its job's claim: to an upstream now, or into the queue. */
  private void proceed() {
    if (hasBody) {
      req.pause(); // the body waits in the socket (TCP back-pressure) until the upstream can take it
    }
    if (clientAttached()) resp.closeHandler(v -> onClientClosed()); // not after a 202
    if (route.totalMillis() > 0) {
      totalTimer = proxy.vertx().setTimer(route.totalMillis(), id -> onTimeout("total-timeout " + route.totalMillis() + "ms"));
    }
    String key = selector.hashKey(route.group(), req, client);
    RequestQueue queue = proxy.queue();
    // FIFO: while others wait, a newcomer queues behind them even if a slot is free this instant
    Origin first = queue.isEmpty() ? selector.pick(route.group(), key) : null;
    if (first != null) {
      connect(first);
    } else if (selector.eligibleCount(route.group()) == 0) {
      reject(Failure.NO_HEALTHY_UPSTREAM, null);
    } else {
      enqueue(queue, key);
    }
  }

  /**
   * On a job route: claims a job for this request, or hands a repeated Idempotency-Key to the job it belongs to.
   *
   * @return false if the request was answered here (a repeat, a malformed key)
   */
  private boolean startJob() {
    JobStore store = proxy.jobs();
    String key = req.getHeader(IdempotentRepeat.HEADER);
    if (key != null && !IdempotentRepeat.wellFormed(key)) {
      fail(Failure.BAD_REQUEST, "(Idempotency-Key: 1 to 255 visible ASCII characters)");
      return false;
    }
    String scope = JobScope.of(route.jobs().getKeyScope(), req, client);
    JobStore.Claim claim = store.claim(route.prefix(), req.method().name(), target.uri(), scope, key);
    if (!claim.fresh()) {
      proxy.clientDeadlines().requestEnded(req.connection());
      IdempotentRepeat.handle(store, claim.job(), req, target.uri());
      return false;
    }
    job = JobRun.start(store, claim.job(), route.jobs(), resp, req.method().name(), target.uri(),
      proxy.vertx().getOrCreateContext(), this::onJobCancelled);
    String prefer = req.getHeader("Prefer");
    if (prefer != null && prefer.toLowerCase(java.util.Locale.ROOT).contains("respond-async")) {
      if (hasBody) {
        acceptWhenSent = true;
      } else {
        acceptNow();
      }
    }
    return true;
  }

  /** {@code Prefer: respond-async}: 202 with the job's URL; the request runs on without its client. */
  private void acceptNow() {
    acceptWhenSent = false;
    proxy.clientDeadlines().requestEnded(req.connection());
    job.accepted();
  }

  private boolean clientAttached() {
    return job == null || job.attached();
  }

  private void enqueue(RequestQueue queue, String key) {
    var context = proxy.vertx().getOrCreateContext();
    String group = route.group();
    waiter = queue.offer(key, settings.queueLine(req, client), k -> selector.pick(group, k),
      o -> context.runOnContext(v -> dispatched(o)));
    if (waiter == null) {
      reject(Failure.QUEUE_FULL, null);
      return;
    }
    if (job != null) job.queued(this::placeJson);
    if (route.queueEvents() && clientAttached() && acceptsEventStream()) openQueueEvents();
    queueTimer = proxy.vertx().setTimer(settings.queueTimeoutMillis(), id -> {
      queueTimer = -1;
      if (proxy.queue().cancel(waiter)) {
        proxy.metrics().queueLeft(waiter.enqueuedNanos, "timeout");
        reject(Failure.QUEUE_TIMEOUT, settings.queueTimeoutMillis() + "ms");
      }
    });
  }

  private boolean acceptsEventStream() {
    String accept = req.getHeader(HttpHeaders.ACCEPT);
    return accept != null && accept.contains("text/event-stream");
  }

  /** Where this request stands in the queue, and when it may expect an upstream: null once it left. */
  private JsonObject placeJson() {
    RequestQueue.Place place = waiter == null ? null : proxy.queue().place(waiter);
    if (place == null) return null;
    return new JsonObject().put("position", place.position()).put("ahead", place.ahead())
      .put("eta_seconds", proxy.waits().etaSeconds(waitKey(), place.position(), selector.slots(route.group())));
  }

  private String waitKey() {
    return route.prefix() + ' ' + route.group();
  }

  /**
   * {@code queue-events}: the client that accepts an event stream is answered 200 at once, and hears of its place
   * ({@code event: queue}) every queue-events-interval and whenever it moves; the upstream's events follow once it is
   * dispatched. From here on a failure can only be an {@code event: error}.
   */
  private void openQueueEvents() {
    resp.setStatusCode(200).putHeader(HttpHeaders.CONTENT_TYPE, "text/event-stream").putHeader(HttpHeaders.CACHE_CONTROL, "no-cache")
      .putHeader(ForwardedHeaders.X_REQUEST_ID, requestId);
    if (req.version() == HttpVersion.HTTP_1_1) resp.setChunked(true);
    else if (req.version() == HttpVersion.HTTP_1_0) resp.putHeader(HttpHeaders.CONNECTION, HttpHeaders.CLOSE);
    streamOpened = true;
    if (route.sseHeartbeatMillis() > 0) {
      heartbeat = new SseHeartbeat(proxy.vertx(), route.sseHeartbeatMillis(), this::writeToClient,
        () -> clientAttached() && !resp.writeQueueFull(), () -> proxy.metrics().sseHeartbeat("queue"));
    }
    queueEvents = new QueueEvents(proxy.vertx(), route.queueEventsMillis(), () -> done ? null : placeJson(), event -> {
      resp.write(event);
      if (heartbeat != null) heartbeat.relayed(event);
    });
  }

  /** A slot freed up for this queued request (already claimed on {@code o}); runs on this request's event loop. */
  private void dispatched(Origin o) {
    if (queueTimer >= 0) proxy.vertx().cancelTimer(queueTimer);
    stopQueueEvents();
    if (job != null) job.queued(null);
    queueNanos = System.nanoTime() - waiter.enqueuedNanos;
    proxy.metrics().queueLeft(waiter.enqueuedNanos, "dispatched");
    if (done) {
      o.inFlight().decrementAndGet();
      proxy.queue().drain();
      return;
    }
    connect(o);
  }

  private void connect(Origin o) {
    origin = o;
    holdingSlot = true;
    tried.add(o.id());
    if (job != null) job.started(o.id());
    attach(false);
  }

  /** Takes a connection to {@link #origin} (a new one if {@code fresh}) and sends the request on it. */
  private void attach(boolean fresh) {
    attempts++;
    RequestOptions options = new RequestOptions()
      .setMethod(req.method())
      .setURI(target.uri());
    Future<HttpClientConnection> acquiring = proxy.connections().acquire(origin, route.connectMillis(), fresh);
    reusedConnection = acquiring.succeeded(); // a kept-alive connection comes at once; a new one only after its connect
    // two callbacks rather than compose(): one promise less per request on the hottest path
    acquiring.onComplete(acquired -> {
      if (acquired.failed()) {
        onConnectFailed(acquired.cause());
        return;
      }
      connection = acquired.result();
      connection.request(options).onComplete(ar -> {
        if (ar.succeeded()) {
          send(ar.result());
        } else {
          onConnectFailed(ar.cause());
        }
      });
    });
  }

  private void onConnectFailed(Throwable cause) {
    releaseSlot();
    if (done) return;
    Failure failure = cause instanceof UpstreamConnections.PoolFullException ? Failure.POOL_FULL
      : isTimeout(cause) ? Failure.CONNECT_TIMEOUT : Failure.UPSTREAM_UNREACHABLE;
    if (failure.countsAgainstUpstream()) proxy.reportFailure(origin.id(), UpstreamFailure.describe(cause));
    if (cause instanceof ConnectException && failure.retry() == Failure.Retry.ANY_METHOD && tryAnother(failure)) return;
    fail(failure, null);
  }

  /** Sends the request to another upstream of the group after {@code failure}, if one is free: false if none. */
  private boolean tryAnother(Failure failure) {
    if (!withinRetryBudget()) return false;
    Origin next = selector.pickExcept(route.group(), tried, selector.hashKey(route.group(), req, client));
    if (next == null) return false;
    proxy.metrics().retried(failure.code());
    connect(next);
    return true;
  }

  private void send(HttpClientRequest creq) {
    upstreamReq = creq;
    if (done) {
      cancelUpstream();
      return;
    }
    lastUpstreamNanos = System.nanoTime();
    proxy.readDeadlines().watch(this);
    ForwardedHeaders.copyRequest(req, target.authority(), client, peer, requestId, settings.dropUnderscoreHeaders(), creq.headers());
    route.requestHeaders().apply(creq.headers());
    if (origin.upstream().http2() && "trailers".equalsIgnoreCase(req.getHeader("te"))) {
      creq.putHeader("te", "trailers"); // the one TE value HTTP/2 allows; gRPC servers require it
    }
    HostAndPort authority = target.authority();
    creq.authority(authority != null ? authority : HostAndPort.create(origin.upstream().host(), origin.upstream().port()));
    if (req.headers().contains(HttpHeaders.TRANSFER_ENCODING)) {
      creq.setChunked(true);
    }
    creq.response().onComplete(ar -> {
      if (ar.succeeded()) {
        relay(ar.result());
      } else {
        onUpstreamFailed(ar.cause());
      }
    });
    if (!hasBody) {
      creq.end();
      sent();
    } else if (attempts > 1 && bodyCopy != null && req.isEnded()) {
      creq.end(bodyCopy); // a retry: the whole body was kept
      sent();
    } else {
      uploadWatch = UploadWatch.start(proxy.vertx(), req, creq, route, proxy.metrics(), (failure, detail) -> {
        if (done) return;
        fail(failure, detail);
        cancelUpstream();
      });
      streamBody(creq);
    }
  }

  /**
   * Streams the request body upstream with back-pressure (the client is paused while the upstream's write queue is
   * full), keeping a copy while it fits in retry-buffer and the method is idempotent.
   */
  private void streamBody(HttpClientRequest creq) {
    int retryBuffer = settings.retryBuffer();
    bodyCopy = IDEMPOTENT.contains(req.method()) && retryBuffer > 0 ? Buffer.buffer() : null;
    long max = route.maxBodyBytes();
    req.handler(BodyPump.<Buffer>between(req, creq, chunk -> {
      if (max > 0 && req.bytesRead() > max) {
        if (!done) {
          fail(Failure.BODY_TOO_LARGE, String.valueOf(max));
          cancelUpstream();
        }
        return false;
      }
      if (bodyCopy != null) {
        bodyCopy = bodyCopy.length() + chunk.length() <= retryBuffer ? bodyCopy.appendBuffer(chunk) : null;
      }
      if (job != null) job.bodyChunk(chunk);
      if (!creq.isChunked() && !req.headers().contains(HttpHeaders.CONTENT_LENGTH)) {
        // HTTP/2 DATA without a length: chunked only once a byte comes, so a GET that ends with its headers goes
        // upstream without a body rather than as an empty chunked one
        creq.setChunked(true);
      }
      creq.write(chunk);
      return true;
    }));
    req.exceptionHandler(err -> onClientClosed()); // the client's side broke: not the upstream's fault
    req.endHandler(v -> {
      creq.end();
      sent();
      lastUpstreamNanos = System.nanoTime(); // the read timeout starts now, as nginx's proxy_read_timeout does
    });
    if (!http2() && "100-continue".equalsIgnoreCase(req.getHeader(HttpHeaders.EXPECT))) {
      resp.writeContinue(); // only now: an upstream was found and the body can go
    }
    req.resume();
  }

  /** The whole request has gone upstream: the read timeout may run, and a job's request is final. */
  private void sent() {
    if (requestSent) return;
    requestSent = true;
    if (job != null) {
      job.requestSent();
      if (acceptWhenSent && !resp.headWritten() && !done) acceptNow();
    }
  }

  private void relay(HttpClientResponse cres) {
    if (done) {
      cancelUpstream();
      return;
    }
    lastUpstreamNanos = System.nanoTime();
    upstreamNanos = lastUpstreamNanos - startNanos;
    origin.meters().recordResponseHead(proxy.index(), route.prefix(), upstreamNanos);
    int status = cres.statusCode();
    if (settings.capacityHeader() != null) {
      String capacity = cres.getHeader(settings.capacityHeader());
      if (capacity != null) selector.reportCapacity(origin.id(), capacity);
    }
    if (streamOpened && clientAttached()) {
      relayIntoOpenStream(cres, status);
      return;
    }
    // one pass over the upstream's headers copies them and notes the framing ones; a job whose client went away
    // keeps them for its readers only
    MultiMap headers = clientAttached() ? resp.headers() : HttpHeaders.headers();
    int framing = ForwardedHeaders.copyResponse(cres.headers(), headers);
    upstreamKeepsAlive = cres.version() == HttpVersion.HTTP_2
      || (cres.version() == HttpVersion.HTTP_1_1 && (framing & ForwardedHeaders.CONNECTION_CLOSE) == 0
        && !ResponseFraming.inDoubt(req.method(), status, framing, cres.getHeader(HttpHeaders.CONTENT_LENGTH)));
    if ((framing & ForwardedHeaders.TRANSFER_ENCODING) != 0
      && ((framing & ForwardedHeaders.CONTENT_LENGTH) != 0
        || !ResponseFraming.onlyChunked(cres.headers().getAll(HttpHeaders.TRANSFER_ENCODING)))) {
      headers.clear();
      upstreamReq.connection().close(); // its framing cannot be trusted: never pass it through, never reuse it
      proxy.reportFailure(origin.id(), "invalid response framing");
      fail(Failure.UPSTREAM_INVALID, null);
      return;
    }
    if (status == 204 || status < 200) {
      headers.remove(HttpHeaders.CONTENT_LENGTH); // never allowed there (RFC 9110 8.6); it would promise a body
    }
    if (!settings.failOnStatus().isEmpty() && settings.failOnStatus().contains(status)) { // no boxing in the usual case
      proxy.reportFailure(origin.id(), "status " + status);
    }
    if (!clientAttached()) {
      route.responseHeaders().apply(headers);
      job.head(status, headers);
      relayBody(cres, status);
      return;
    }
    resp.setStatusCode(status);
    String message = cres.statusMessage();
    if (!HttpResponseStatus.valueOf(status).reasonPhrase().equals(message)) {
      resp.setStatusMessage(message); // only a custom one: the standard phrase needs no status object of its own
    }
    resp.putHeader(ForwardedHeaders.X_REQUEST_ID, requestId);
    if (queueNanos > 0) resp.putHeader(QUEUE_WAIT, String.format(java.util.Locale.ROOT, "%.3f", queueNanos / 1e9));
    route.responseHeaders().apply(resp.headers());
    if (job != null && job.head(status, resp.headers())) framing &= ~ForwardedHeaders.CONTENT_LENGTH; // SSE ids added
    if ((proxy.draining() || (hasBody && !req.isEnded())) && !http2()) {
      // stopping (the client should reconnect elsewhere), or answering before the upload is done (the rest is not read)
      resp.putHeader(HttpHeaders.CONNECTION, HttpHeaders.CLOSE);
    }
    if (heartbeat == null && route.sseHeartbeatMillis() > 0 && isEventStream(resp.headers().get(HttpHeaders.CONTENT_TYPE))) {
      heartbeat = new SseHeartbeat(proxy.vertx(), route.sseHeartbeatMillis(), this::writeToClient,
        () -> clientAttached() && !resp.writeQueueFull(), () -> proxy.metrics().sseHeartbeat("upstream"));
    }
    if ((framing & ForwardedHeaders.CONTENT_LENGTH) == 0 && ResponseFraming.hasBody(req.method(), status)) {
      if (req.version() == HttpVersion.HTTP_1_0) {
        resp.putHeader(HttpHeaders.CONNECTION, HttpHeaders.CLOSE); // close-delimited: nothing is held in memory
      } else if (!http2()) {
        resp.setChunked(true);
      }
    }
    boolean chunked = (framing & ForwardedHeaders.TRANSFER_ENCODING) != 0;
    if (resp.isChunked() && job == null && (!hasBody || req.isEnded())
      && (chunked ? cres.version() == HttpVersion.HTTP_1_1 : cres.version() != HttpVersion.HTTP_2)) {
      // to a chunked response, from a chunked or close-delimited one: the body can pass as it comes
      passThrough = ChunkedPassThrough.start(status, resp, this, chunked);
    }
    relayBody(cres, status);
  }

  @Override
  public long bodyBytesWritten() {
    return bodyWritten;
  }

  @Override
  public void passedThrough(long payload, int trailingNewlines) {
    lastUpstreamNanos = System.nanoTime();
    bodyPassed += payload;
    if (heartbeat != null) heartbeat.passedThrough(trailingNewlines);
  }

  /**
   * The upstream's answer to a request whose client already has a 200 event stream (queue events): its events are
   * relayed; any other answer (another status, another type) becomes an {@code event: error} and the stream ends.
   */
  private void relayIntoOpenStream(HttpClientResponse cres, int status) {
    upstreamKeepsAlive = false; // what remains of an answer not relayed is not read: the connection is not reused
    if (status >= 200 && status < 300 && isEventStream(cres.getHeader(HttpHeaders.CONTENT_TYPE))) {
      if (job != null) { // a job's spool starts at the upstream's first byte (the queue events were the live client's)
        MultiMap headers = HttpHeaders.headers();
        ForwardedHeaders.copyResponse(cres.headers(), headers);
        job.head(status, headers);
      }
      relayBody(cres, status);
      return;
    }
    reason = "upstream_status";
    if (settings.failOnStatus().contains(status)) proxy.reportFailure(origin.id(), "status " + status);
    cancelUpstream();
    finish(status);
    endWithErrorEvent(status, "upstream_status");
  }

  /** Ends an opened event stream with {@code event: error}, at an event boundary; mid-event, the connection is cut. */
  private void endWithErrorEvent(int status, String code) {
    if (heartbeat != null && !heartbeat.atBoundary()) {
      resp.reset();
      return;
    }
    resp.end("event: error\ndata: " + new JsonObject().put("status", status).put("reason", code).encode() + "\n\n");
  }

  private void stopQueueEvents() {
    if (queueEvents != null) {
      queueEvents.stop();
      queueEvents = null;
    }
  }

  static boolean isEventStream(String contentType) {
    return contentType != null && contentType.regionMatches(true, 0, "text/event-stream", 0, 17);
  }

  /** Writes bytes of Fairway's own (a heartbeat) where the response's body goes: the client, and a job's spool. */
  private void writeToClient(Buffer bytes) {
    if (job != null) job.write(bytes);
    else if (passThrough != null && passThrough.writeOwn(bytes)) bodyPassed += bytes.length();
    else resp.write(bytes);
  }

  /** Streams the response body with back-pressure: the upstream is paused while the client's write queue is full. */
  private void relayBody(HttpClientResponse cres, int status) {
    if (job != null) {
      JobRun run = job;
      cres.handler(BodyPump.<Buffer>between(cres, run::writeQueueFull, run::drainHandler, chunk -> {
        if (done) return false;
        lastUpstreamNanos = System.nanoTime();
        if (heartbeat != null) heartbeat.relayed(chunk); // first: once written, the chunk's memory may be freed
        run.write(chunk);
        return true;
      }));
    } else {
      cres.handler(BodyPump.<Buffer>between(cres, resp, chunk -> {
        if (done) return false; // cut by a timeout or the client; the upstream request is being reset
        lastUpstreamNanos = System.nanoTime();
        if (heartbeat != null) heartbeat.relayed(chunk); // first: once written, the chunk's memory may be freed
        bodyWritten += chunk.length();
        resp.write(chunk);
        return true;
      }));
    }
    cres.exceptionHandler(err -> {
      if (!done) {
        reason = Failure.UPSTREAM_CLOSED.code();
        cancelUpstream();
        if (clientAttached()) resp.reset();
        finish(status);
      }
    });
    cres.endHandler(v -> {
      upstreamDone = true;
      if (!done) {
        boolean unreadBody = hasBody && !req.isEnded() && !http2();
        if (!clientAttached()) {
          finish(status);
          return;
        }
        if (!cres.trailers().isEmpty()) {
          ForwardedHeaders.copyResponse(cres.trailers(), resp.trailers()); // e.g. gRPC's grpc-status
        }
        finish(status); // recorded before the client can see the end: a scrape right after the response counts it
        resp.end();
        if (unreadBody) {
          // the upstream answered early (e.g. 413): stop taking the upload once the answer is out
          req.connection().shutdown(1, TimeUnit.MILLISECONDS);
        }
      }
    });
  }

  /** The upstream this request was sent to, or null before one was chosen. */
  @Override
  public String upstreamId() {
    return origin == null ? null : origin.id();
  }

  @Override
  public long startNanos() {
    return startNanos;
  }

  /**
   * No byte from the upstream for read-timeout, counted once the request is sent (or the upstream answered early): a
   * long upload is watched by send-timeout instead, which tells a stalled client from an upstream that stopped reading.
   */
  @Override
  public boolean readExpired(long now) {
    return !done && upstreamReq != null && (requestSent || upstreamNanos >= 0)
      && now - lastUpstreamNanos > route.readMillis() * 1_000_000;
  }

  /** No byte from the upstream for read-timeout: 504 if nothing was sent to the client yet, else the connection is cut. */
  @Override
  public void onReadTimeout() {
    if (done) return;
    proxy.reportFailure(origin.id(), "timeout");
    fail(Failure.UPSTREAM_TIMEOUT, readTimeoutDetail());
    cancelUpstream();
  }

  private String readTimeoutDetail() {
    return "(read-timeout " + route.readMillis() + "ms)";
  }

  /** The upstream failed before its response head: reset, closed, or no byte within read-timeout. */
  private void onUpstreamFailed(Throwable cause) {
    if (done || cancelled) return;
    Failure failure = isTimeout(cause) ? Failure.UPSTREAM_TIMEOUT : Failure.UPSTREAM_CLOSED;
    if (failure == Failure.UPSTREAM_CLOSED && reusedConnection && !staleRetried && !origin.upstream().http2()
      && upstreamNanos < 0 && canResend() && withinRetryBudget()) {
      // a kept-alive connection the upstream closed as this request went out (its idle timeout, a restart): the
      // usual race of keep-alive, not a fault; a safe request goes again on a new connection to the same upstream
      staleRetried = true;
      proxy.readDeadlines().unwatch(this);
      cancelUploadWatch();
      proxy.connections().release(origin, connection, false);
      connection = null;
      upstreamReq = null;
      proxy.metrics().retried("stale_connection");
      attach(true);
      return;
    }
    proxy.reportFailure(origin.id(), UpstreamFailure.describe(cause));
    if (failure.retry() == Failure.Retry.IDEMPOTENT && canResend()) {
      proxy.readDeadlines().unwatch(this);
      releaseSlot(); // the broken connection is closed there, never given back
      cancelUploadWatch();
      HttpClientRequest broken = upstreamReq;
      upstreamReq = null;
      if (tryAnother(failure)) return;
      upstreamReq = broken;
    }
    fail(failure, failure == Failure.UPSTREAM_TIMEOUT ? readTimeoutDetail() : null);
  }

  /**
   * Whether a request that may have reached the upstream can be sent again: only an idempotent one whose whole body
   * (if any) is still in hand, within retries and retry-timeout. A streamed POST is never sent twice.
   */
  private boolean canResend() {
    boolean bodyInHand = !hasBody || (bodyCopy != null && req.isEnded());
    return IDEMPOTENT.contains(req.method()) && bodyInHand;
  }

  private boolean withinRetryBudget() {
    return settings.withinRetryBudget(tried.size(), startNanos);
  }

  private void onTimeout(String what) {
    if (done) return;
    if (waiter != null && proxy.queue().cancel(waiter)) {
      proxy.metrics().queueLeft(waiter.enqueuedNanos, "timeout");
    }
    fail(Failure.TOTAL_TIMEOUT, "(" + what + ")");
    cancelUpstream();
  }

  private void onClientClosed() {
    if (done || !clientAttached()) return;
    if (job != null && job.keepOnDisconnect() && (requestSent || !hasBody)) {
      job.detach(); // the request is whole upstream (or in hand): it runs on, into the spool
      return;
    }
    if (waiter != null && proxy.queue().cancel(waiter)) {
      proxy.metrics().queueLeft(waiter.enqueuedNanos, "client_closed"); // left the queue: never sent upstream
    }
    reason = Failure.CLIENT_ABORT.code();
    finish(Failure.CLIENT_ABORT.status());
    cancelUpstream(); // the upstream stops working on a request nobody will read
  }

  /**
   * Resets the upstream request on Fairway's own account (timeout, limit, client gone). Vert.x fails the response
   * at once; marking it first keeps that from being answered as a 502 or counted against the upstream.
   */
  private void cancelUpstream() {
    cancelled = true;
    if (upstreamReq != null) upstreamReq.reset();
  }

  /** DELETE on the job's URL (or the admin API, or a stop): the upstream request is reset, as if its client went. */
  private void onJobCancelled() {
    if (done) return;
    if (waiter != null && proxy.queue().cancel(waiter)) {
      proxy.metrics().queueLeft(waiter.enqueuedNanos, "cancelled");
    }
    fail(Failure.JOB_CANCELLED, null);
    cancelUpstream();
  }

  /** Refused before any upstream was tried (no upstream, queue full or timed out): counted as a rejection. */
  private void reject(Failure failure, String detail) {
    proxy.metrics().rejected(failure.code());
    fail(failure, detail);
  }

  /** Answers {@code failure}, or cuts the connection if the response head is already out. */
  private void fail(Failure failure, String detail) {
    reason = failure.code();
    if (!clientAttached()) {
      finish(failure.status());
      return;
    }
    if (streamOpened) {
      finish(failure.status());
      endWithErrorEvent(failure.status(), failure.code());
      return;
    }
    if (resp.headWritten()) {
      resp.reset();
      finish(failure.status());
      return;
    }
    boolean unreadBody = hasBody && !req.isEnded(); // the rest of the body is not read, so no keep-alive
    finish(failure.status());
    ErrorReply.send(req, failure, detail, requestId, unreadBody);
  }

  private void finish(int status) {
    if (done) return;
    done = true;
    proxy.readDeadlines().unwatch(this);
    if (clientAttached()) proxy.clientDeadlines().requestEnded(req.connection());
    if (job != null) endJob();
    if (totalTimer >= 0) proxy.vertx().cancelTimer(totalTimer);
    cancelUploadWatch();
    if (queueTimer >= 0) proxy.vertx().cancelTimer(queueTimer);
    if (heartbeat != null) heartbeat.stop();
    stopQueueEvents();
    if (job != null) job.queued(null);
    if (origin != null && upstreamDone && status < 500 && route.estimatesWaits()) {
      proxy.waits().record(waitKey(), System.nanoTime() - startNanos - queueNanos); // time at the upstream, queue aside
    }
    releaseSlot();
    AccessLog.Lines lines = proxy.accessLines();
    boolean logged = lines.enabled();
    if (!proxy.metrics().enabled() && !logged) return; // nothing records it: no clock read either
    long now = System.nanoTime(); // the one clock read the metrics and the log share
    long received = req.bytesRead(); // each count is read under its connection's lock: once
    long sent = resp.bytesWritten() + bodyPassed;
    ProxyMetrics.UpstreamMeters meters = origin != null ? origin.meters() : proxy.noUpstreamMeters();
    meters.record(proxy.index(), route.prefix(), req.method(), status, now - startNanos, received, sent);
    if (logged) {
      if (!loggedHeadersRead) readLoggedHeaders();
      lines.log(new AccessRecord(lines.epochMillis(now), client, req.method().name(), req.uri(), protocol(), status,
        sent, received, referer, userAgent,
        now - startNanos, origin == null ? null : origin.id(), upstreamNanos, queueNanos, requestId, reason));
    }
  }

  /** The job ends with the exchange: done if the upstream's response came whole, else why not. */
  private void endJob() {
    JobState state = upstreamDone ? JobState.DONE
      : Failure.JOB_CANCELLED.code().equals(reason) || Failure.CLIENT_ABORT.code().equals(reason) ? JobState.CANCELLED
      : JobState.FAILED;
    job.end(state, requestSent);
  }

  private String protocol() {
    return switch (req.version()) {
      case HTTP_1_0 -> "HTTP/1.0";
      case HTTP_1_1 -> "HTTP/1.1";
      default -> "HTTP/2.0";
    };
  }

  private void releaseSlot() {
    if (holdingSlot) {
      holdingSlot = false;
      origin.inFlight().decrementAndGet();
      if (connection != null) {
        proxy.connections().release(origin, connection, upstreamDone && upstreamKeepsAlive && (req.isEnded() || !hasBody));
        connection = null;
      }
      proxy.queue().drain();
    }
  }

  private void cancelUploadWatch() {
    if (uploadWatch != null) {
      uploadWatch.cancel();
      uploadWatch = null;
    }
  }

  static boolean isTimeout(Throwable cause) {
    return cause instanceof TimeoutException || cause instanceof io.netty.channel.ConnectTimeoutException;
  }
}
