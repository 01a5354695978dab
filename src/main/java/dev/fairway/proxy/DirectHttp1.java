package dev.fairway.proxy;

import dev.fairway.accesslog.RequestIds;
import dev.fairway.config.HeaderRules;
import dev.fairway.config.JobOptions;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.ChannelPromise;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Predicate;

/**
 * Fairway's own HTTP/1.1 path ({@code listen.direct-http1}): a handler that takes each plain proxy connection as it is
 * accepted, before Vert.x builds anything for it, takes the requests it can and passes each byte of them itself
 * ({@link RequestHead}, {@link DirectExchange}): a bodiless GET or HEAD on a route without jobs, queue events or rate
 * limits, to a plain HTTP/1.1 upstream with room for it; any strategy, trusted proxies, header rules and heartbeats as
 * on the Vert.x path. The first request it does not take (a body, an upgrade, HTTP/1.0, HTTP/2's preface, a queue,
 * anything unusual) goes, with the connection for good, to Vert.x:
 * Vert.x's server then builds its pipeline and connection as it would have at accept, and reads the bytes as they
 * came. Until then the connection holds only Netty's channel and this handler, which is what makes idle connections
 * cheap. Requests are taken one at a time, in order: a pipelined one waits for the response before it. The client
 * deadlines, connection limits and a graceful stop apply to the connections this path holds as to Vert.x's.
 */
final class DirectHttp1 extends ChannelDuplexHandler {

  static final String NAME = "fairway-direct";
  private static final Logger log = LoggerFactory.getLogger(DirectHttp1.class);
  /** What Vert.x's decoder takes by default: a head longer than this goes to it, which answers 431 or 414. */
  private static final int MAX_HEAD = 8192;

  /** Counts a client connection and has the client deadlines watch it (what Vert.x's connections get too). */
  interface Admission {
    /**
     * @param close closes the connection (a client deadline passed)
     * @return the limit the connection is over (the caller closes it), or null
     */
    String admit(Object connection, String peer, Runnable close);
  }

  /**
   * What one proxy instance offers its connections: itself, its port, what it leaves to Vert.x (TLS upstreams, the
   * paths it answers itself), and its upstream connections, opened on its event loop once a connection shows which.
   * Event-loop confined, as the connections it holds.
   */
  static final class Instance {
    final ProxyInstance proxy;
    final int port;
    final boolean upstreamTls;
    final Predicate<String> ownPaths;
    private final Admission admission;
    private final int poolSize;
    private final int maxIdle;
    private final long idleTimeoutMillis;
    private DirectUpstreams upstreams;
    /** The connections this path holds (not yet handed to Vert.x). */
    private final Set<DirectHttp1> open = Collections.newSetFromMap(new IdentityHashMap<>());
    /** Set by a stop: no new connection is taken, and each closes once its response under way is out. */
    private Promise<Void> drained;
    /** Set once a stop's wait is over: closes no longer wait for a response under way. */
    private boolean closingNow;

    Instance(ProxyInstance proxy, int port, boolean upstreamTls, Predicate<String> ownPaths, Admission admission,
             int poolSize, int maxIdle, long idleTimeoutMillis) {
      this.proxy = proxy;
      this.port = port;
      this.upstreamTls = upstreamTls;
      this.ownPaths = ownPaths;
      this.admission = admission;
      this.poolSize = poolSize;
      this.maxIdle = maxIdle;
      this.idleTimeoutMillis = idleTimeoutMillis;
    }

    DirectUpstreams upstreams(Channel client) {
      if (upstreams == null) {
        upstreams = new DirectUpstreams(client.eventLoop(), client.getClass(), proxy.connections(), poolSize, maxIdle,
          idleTimeoutMillis);
      }
      return upstreams;
    }

    /**
     * A graceful stop of the connections this path holds: idle ones close now, the others once their response is
     * out, and any left after {@code timeoutMillis} are closed as they are. Call on the instance's event loop.
     */
    Future<Void> shutdown(Vertx vertx, long timeoutMillis) {
      if (drained == null) {
        drained = Promise.promise();
        long timer = vertx.setTimer(Math.max(1, timeoutMillis), id -> closeAll());
        drained.future().onComplete(x -> vertx.cancelTimer(timer));
        for (DirectHttp1 connection : List.copyOf(open)) connection.ctx.channel().close(); // through close() here
        closedOne();
      }
      return drained.future();
    }

    /** Closes every connection this path holds, a response under way or not. */
    void closeAll() {
      closingNow = true;
      for (DirectHttp1 connection : List.copyOf(open)) connection.ctx.channel().close(); // through close() here
    }

    private void closedOne() {
      if (drained != null && open.isEmpty()) drained.tryComplete();
    }
  }

  private static final Map<Thread, Instance> INSTANCES = new ConcurrentHashMap<>();
  private static final java.util.concurrent.atomic.LongAdder TAKEN = new java.util.concurrent.atomic.LongAdder();
  private static final java.util.concurrent.atomic.AtomicInteger HELD = new java.util.concurrent.atomic.AtomicInteger();

  private final Instance instance;
  /** What Vert.x's server put on the connection to build its pipeline: put back when the connection goes to it. */
  private final ChannelHandler vertxInitializer;
  private ChannelHandlerContext ctx;
  private ByteBuf pending;
  private DirectExchange current;
  private String peer;
  /** A close asked (a stop, a client timeout) while a response was under way: done once it ends. */
  private ChannelPromise closeAfter;
  private Channel pausedUpstream;

  private DirectHttp1(Instance instance, ChannelHandler vertxInitializer) {
    this.instance = instance;
    this.vertxInitializer = vertxInitializer;
  }

  /** Requests this path took, since start (on /metrics as fairway_direct_requests_total). */
  static long taken() {
    return TAKEN.sum();
  }

  /** Client connections this path holds now, not handed to Vert.x (on /metrics as fairway_direct_connections). */
  static int held() {
    return HELD.get();
  }

  /** Makes this event loop's proxy connections on {@code instance.port} take the direct path. */
  static void register(Instance instance) {
    INSTANCES.put(Thread.currentThread(), instance);
  }

  static void unregister() {
    INSTANCES.remove(Thread.currentThread());
  }

  /**
   * Takes a connection just accepted on this thread, if it is a proxy connection of a registered instance: in place
   * of Vert.x's initializer ({@code pipeline}'s last handler, whose turn has not come yet), which it keeps to hand the
   * connection on later. Called as the connection is registered with its event loop, before it is active.
   *
   * @return whether it took it
   */
  static boolean takeAtAccept(ChannelPipeline pipeline) {
    if (INSTANCES.isEmpty()) return false;
    Instance instance = INSTANCES.get(Thread.currentThread());
    Channel channel = pipeline.channel();
    if (instance == null || instance.drained != null || !(channel.localAddress() instanceof InetSocketAddress local)
      || local.getPort() != instance.port) {
      return false;
    }
    ChannelHandlerContext initializer = pipeline.context(ChannelInitializer.class);
    if (initializer == null) return false;
    ChannelHandler vertx = initializer.handler();
    pipeline.remove(vertx); // its own handlerAdded, not run yet, never will be: Netty skips a removed handler's
    pipeline.addLast(NAME, new DirectHttp1(instance, vertx));
    return true;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.ctx = ctx;
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) {
    peer = ctx.channel().remoteAddress() instanceof InetSocketAddress remote && remote.getAddress() != null
      ? remote.getAddress().getHostAddress() : "unknown";
    if (instance.open.add(this)) HELD.incrementAndGet();
    String over = instance.admission.admit(this, peer, () -> ctx.channel().close());
    if (over != null) ctx.close();
    ctx.fireChannelActive();
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    ByteBuf in = (ByteBuf) msg;
    if (pending == null) {
      pending = in;
    } else {
      ByteBuf both = ctx.alloc().buffer(pending.readableBytes() + in.readableBytes());
      both.writeBytes(pending).writeBytes(in);
      pending.release();
      in.release();
      pending = both;
    }
    if (current == null) {
      next();
    } else if (pending.readableBytes() > MAX_HEAD) {
      ctx.channel().config().setAutoRead(false); // pipelined past reason: read on once the response is out
    }
  }

  /** Takes the next request in the bytes read, or hands them to Vert.x. */
  private void next() {
    if (pending == null) return;
    int end = RequestHead.end(pending);
    if (end < 0) {
      if (pending.readableBytes() > MAX_HEAD) toVertx();
      return;
    }
    ClientAddress clients = instance.proxy.settings().clientAddress();
    RequestHead head = RequestHead.read(pending, end, clients == null ? null : clients.header());
    if (head == null || !take(head)) toVertx();
  }

  /** Starts the exchange for {@code head}: false (nothing done) if the request is Vert.x's. */
  private boolean take(RequestHead head) {
    ProxyInstance proxy = instance.proxy;
    ProxySettings settings = proxy.settings();
    if (instance.upstreamTls || !proxy.queue().isEmpty()
      || instance.ownPaths.test(head.path)) {
      return false;
    }
    Route route = settings.route(head.path, head.method.name(), settings.routesByHost() ? head.hostName() : null);
    if (route == null || !route.direct()) return false;
    proxy.clientDeadlines().requestStarted(this);
    DirectUpstreams upstreams = instance.upstreams(ctx.channel());
    String client = settings.clientAddress() == null ? peer : settings.clientAddress().of(head, peer);
    String key = proxy.selector().hashesRequest(route.group()) // a header or a cookie
      ? proxy.selector().hashKey(route.group(), head::firstValue, client)
      : client; // what ip-hash hashes; the other strategies ignore it
    Origin origin = proxy.selector().pick(route.group(), key);
    if (origin == null || origin.upstream().http2() || !upstreams.available(origin.id())) {
      if (origin != null) {
        origin.inFlight().decrementAndGet(); // the pick's slot: Vert.x's exchange picks again
      }
      proxy.clientDeadlines().requestEnded(this);
      return false;
    }
    String requestId = RequestIds.keepOrCreate(head.requestId);
    ByteBuf request = ctx.alloc().buffer(head.length + 256);
    head.writeUpstream(request, client, peer, requestId, settings.dropUnderscoreHeaders(), route.requestHeaders());
    head.written();
    pending.skipBytes(head.length);
    if (!pending.isReadable()) {
      pending.release();
      pending = null;
    }
    TAKEN.increment();
    current = new DirectExchange(this, ctx, proxy, upstreams, head, route, client, requestId, key, request);
    current.start(origin);
    return true;
  }

  /** Header names that frame a message or end at this hop: a route whose rules name one is left to Vert.x. */
  private static final String[] FRAMING = java.util.stream.Stream.concat(java.util.Arrays.stream(ForwardedHeaders.HOP_BY_HOP),
    java.util.stream.Stream.of("host", "content-length", "expect")).toArray(String[]::new);

  /**
   * Whether this path may take a route's requests (worked out once, as the route is built): none without jobs, queue
   * events or a rate limit, whose header rules it can apply itself, header line by header line.
   */
  static boolean takesRoute(JobOptions jobs, long queueEventsMillis, RateLimiter rateLimiter,
                            HeaderRules requestRules, HeaderRules responseRules) {
    return jobs == null && queueEventsMillis == 0 && rateLimiter == null && writable(requestRules)
      && writable(responseRules);
  }

  private static boolean writable(HeaderRules rules) {
    return rules.isEmpty() || rules.writable() && !rules.mentionsAny(FRAMING);
  }

  /**
   * Gives the connection, and the bytes read so far, to Vert.x for good: its initializer builds the pipeline and
   * connection it would have built at accept (and tells the proxy verticle, which counts the connection again), then
   * reads the bytes as they came.
   */
  private void toVertx() {
    ByteBuf bytes = pending;
    pending = null;
    ChannelPipeline pipeline = ctx.pipeline();
    forget();
    pipeline.remove(this);
    instance.proxy.clientDeadlines().handOver(this, () -> {
      RelayTransport.watchForVertx(pipeline.channel());
      pipeline.addLast(vertxInitializer);
    });
    if (bytes != null) {
      pipeline.fireChannelRead(bytes);
      pipeline.fireChannelReadComplete();
    }
  }

  /** {@code e}'s response is out (or failed): the next request may go, or the connection ends with it. */
  void ended(DirectExchange e, boolean close) {
    if (current != e) return;
    current = null;
    instance.proxy.clientDeadlines().requestEnded(this);
    if (close || closeAfter != null) {
      ChannelPromise promise = closeAfter != null ? closeAfter : ctx.newPromise();
      closeAfter = null;
      // once everything written before has gone out: a close fails writes still queued
      ctx.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(f -> ctx.close(promise));
      return;
    }
    if (!ctx.channel().config().isAutoRead()) ctx.channel().config().setAutoRead(true);
    next();
  }

  /** Nothing after this handler has anything to do with a read it took. */
  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) {
  }

  /** The upstream's reads wait until this client's socket drains. */
  void resumeWhenWritable(Channel upstream) {
    pausedUpstream = upstream;
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) {
    if (ctx.channel().isWritable() && pausedUpstream != null) {
      pausedUpstream.config().setAutoRead(true);
      pausedUpstream = null;
    }
    ctx.fireChannelWritabilityChanged();
  }

  @Override
  public void close(ChannelHandlerContext ctx, ChannelPromise promise) {
    if (current != null && closeAfter == null && !instance.closingNow) {
      closeAfter = promise; // the response under way ends first (a stop lets in-flight requests finish)
      return;
    }
    ctx.close(promise);
  }

  /**
   * The socket's faults (a reset, a broken pipe) close the connection as Vert.x's do, quietly; a fault of this path's
   * own is logged too. Either way a request it took is never passed on to Vert.x half read.
   */
  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    if (cause instanceof java.io.IOException) {
      log.debug("client connection failed", cause);
    } else {
      log.warn("closing a client connection after an error on the direct HTTP/1.1 path", cause);
    }
    ctx.close();
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    if (pending != null) pending.release();
    pending = null;
    DirectExchange e = current;
    current = null;
    if (e != null) e.clientClosed();
    instance.proxy.clientDeadlines().closed(this);
    forget();
  }

  private void forget() {
    if (instance.open.remove(this)) HELD.decrementAndGet();
    instance.closedOne();
  }
}
