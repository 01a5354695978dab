package dev.fairway.proxy;

import dev.fairway.accesslog.RequestIds;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.vertx.core.http.HttpConnection;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Predicate;

/**
 * Fairway's own HTTP/1.1 path ({@code listen.direct-http1}): a handler before Vert.x's decoder on each plain proxy
 * connection that takes the requests it can and passes each byte of them itself ({@link RequestHead},
 * {@link DirectExchange}): a bodiless GET or HEAD on a route without jobs, rate limits, header rules or trusted
 * proxies, to a plain HTTP/1.1 upstream with room for it. The first request it does not take (a body, an upgrade,
 * HTTP/1.0, a queue, anything unusual) goes to Vert.x's decoder as it came, with the connection for good, and is
 * handled as if this path did not exist. Requests are taken one at a time, in order: a pipelined one waits for the
 * response before it. Vert.x keeps the connection itself (its count, its timeouts, its close).
 */
final class DirectHttp1 extends ChannelDuplexHandler {

  static final String NAME = "fairway-direct";
  private static final Logger log = LoggerFactory.getLogger(DirectHttp1.class);
  /** What Vert.x's decoder takes by default: a head longer than this goes to it, which answers 431 or 414. */
  private static final int MAX_HEAD = 8192;

  /**
   * What one proxy instance offers its connections: itself, its port, what it leaves to Vert.x (TLS upstreams, the
   * paths it answers itself), and its upstream connections, opened on its event loop once a connection shows which.
   */
  static final class Instance {
    final ProxyInstance proxy;
    final int port;
    final boolean upstreamTls;
    final Predicate<String> ownPaths;
    private final int poolSize;
    private final int maxIdle;
    private final long idleTimeoutMillis;
    private DirectUpstreams upstreams;
    /** Vert.x's connections by their peer's port, from when Vert.x opens one to its first request here. */
    private final Map<Integer, HttpConnection> opened = new java.util.HashMap<>();

    Instance(ProxyInstance proxy, int port, boolean upstreamTls, Predicate<String> ownPaths, int poolSize, int maxIdle,
             long idleTimeoutMillis) {
      this.proxy = proxy;
      this.port = port;
      this.upstreamTls = upstreamTls;
      this.ownPaths = ownPaths;
      this.poolSize = poolSize;
      this.maxIdle = maxIdle;
      this.idleTimeoutMillis = idleTimeoutMillis;
    }

    DirectUpstreams upstreams(Channel client) {
      if (upstreams == null) {
        upstreams = new DirectUpstreams(client.eventLoop(), client.getClass(), poolSize, maxIdle, idleTimeoutMillis);
      }
      return upstreams;
    }
  }

  private static final Map<Thread, Instance> INSTANCES = new ConcurrentHashMap<>();
  private static final java.util.concurrent.atomic.LongAdder TAKEN = new java.util.concurrent.atomic.LongAdder();

  private final Instance instance;
  private final int peerPort;
  /** Vert.x's connection over this one, for the client timeouts (found at the first request). */
  private HttpConnection connection;
  private ChannelHandlerContext ctx;
  private ByteBuf pending;
  private DirectExchange current;
  private String peer;
  /** A close asked (by Vert.x: a stop, a client timeout) while a response was under way: done once it ends. */
  private ChannelPromise closeAfter;
  private Channel pausedUpstream;

  private DirectHttp1(Instance instance, int peerPort) {
    this.instance = instance;
    this.peerPort = peerPort;
  }

  /** Requests this path took, since start (on /metrics as fairway_direct_requests_total). */
  static long taken() {
    return TAKEN.sum();
  }

  /** Makes this event loop's proxy connections on {@code instance.port} take the direct path. */
  static void register(Instance instance) {
    INSTANCES.put(Thread.currentThread(), instance);
  }

  static void unregister() {
    INSTANCES.remove(Thread.currentThread());
  }

  /** Vert.x opened {@code connection} on this thread: the direct path's handler on it finds it by its peer's port. */
  static void opened(HttpConnection connection) {
    Instance instance = INSTANCES.isEmpty() ? null : INSTANCES.get(Thread.currentThread());
    if (instance != null && connection.remoteAddress() != null && !connection.isSsl()) {
      instance.opened.put(connection.remoteAddress().port(), connection);
    }
  }

  /** Vert.x closed {@code connection}: forgets it, if no handler of this path took it (an HTTP/2 one, say). */
  static void closed(HttpConnection connection) {
    Instance instance = INSTANCES.isEmpty() ? null : INSTANCES.get(Thread.currentThread());
    if (instance != null && connection.remoteAddress() != null) {
      instance.opened.remove(connection.remoteAddress().port(), connection);
    }
  }

  /** The handler for a new connection's pipeline, or null when it is not a proxy connection of a registered instance. */
  static DirectHttp1 forChannel(Channel channel) {
    if (INSTANCES.isEmpty()) return null;
    Instance instance = INSTANCES.get(Thread.currentThread());
    if (instance == null || !(channel.localAddress() instanceof InetSocketAddress local) || local.getPort() != instance.port
      || !(channel.remoteAddress() instanceof InetSocketAddress remote)) {
      return null;
    }
    return new DirectHttp1(instance, remote.getPort());
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.ctx = ctx;
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
    RequestHead head = RequestHead.read(pending, end);
    if (head == null || !take(head)) toVertx();
  }

  /** Starts the exchange for {@code head}: false (nothing done) if the request is Vert.x's. */
  private boolean take(RequestHead head) {
    ProxyInstance proxy = instance.proxy;
    ProxySettings settings = proxy.settings();
    if (connection == null) {
      connection = instance.opened.remove(peerPort);
      if (connection == null) return false; // not seen opening: Vert.x's
    }
    if (instance.upstreamTls || settings.clientAddress() != null || !proxy.queue().isEmpty()
      || instance.ownPaths.test(head.path)) {
      return false;
    }
    Route route = settings.route(head.path, head.method.name(), head.hostName());
    if (route == null || route.jobs() != null || route.estimatesWaits() || route.rateLimiter() != null
      || !route.requestHeaders().isEmpty()
      || !route.responseHeaders().isEmpty() || route.sseHeartbeatMillis() > 0 && head.acceptsEventStream
      || proxy.selector().hashesRequest(route.group())) {
      return false;
    }
    String known = proxy.clientDeadlines().requestStarted(connection);
    if (peer == null) peer = known != null ? known : ForwardedHeaders.peer(connection.remoteAddress());
    DirectUpstreams upstreams = instance.upstreams(ctx.channel());
    String key = peer; // what ip-hash hashes; the other strategies ignore it
    Origin origin = proxy.selector().pick(route.group(), key);
    if (origin == null || origin.upstream().http2() || !upstreams.available(origin.id())) {
      if (origin != null) {
        origin.inFlight().decrementAndGet(); // the pick's slot: Vert.x's exchange picks again
      }
      proxy.clientDeadlines().requestEnded(connection);
      return false;
    }
    String requestId = RequestIds.keepOrCreate(head.requestId);
    ByteBuf request = ctx.alloc().buffer(head.length + 256);
    head.writeUpstream(pending, request, peer, peer, requestId, settings.dropUnderscoreHeaders());
    pending.readerIndex(head.end);
    if (!pending.isReadable()) {
      pending.release();
      pending = null;
    }
    TAKEN.increment();
    current = new DirectExchange(this, ctx, proxy, upstreams, head, route, peer, requestId, key, request);
    current.start(origin);
    return true;
  }

  /** Gives the connection, and the bytes read so far, to Vert.x's decoder for good. */
  private void toVertx() {
    ByteBuf bytes = pending;
    pending = null;
    ctx.pipeline().remove(this);
    if (bytes != null) {
      ctx.fireChannelRead(bytes);
      ctx.fireChannelReadComplete();
    }
  }

  /** {@code e}'s response is out (or failed): the next request may go, or the connection ends with it. */
  void ended(DirectExchange e, boolean close) {
    if (current != e) return;
    current = null;
    instance.proxy.clientDeadlines().requestEnded(connection);
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

  /** Vert.x's handlers after this one have nothing to do with a read this path took (and are not told of it). */
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
    if (current != null && closeAfter == null) {
      closeAfter = promise; // the response under way ends first (a stop lets in-flight requests finish)
      return;
    }
    ctx.close(promise);
  }

  /**
   * A fault of this path's own (not the socket's, which Vert.x's handler is told of as usual) is logged, and the
   * connection closed: a request it took is never passed on to Vert.x half read.
   */
  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    if (cause instanceof java.io.IOException) {
      ctx.fireExceptionCaught(cause);
      return;
    }
    log.warn("closing a client connection after an error on the direct HTTP/1.1 path", cause);
    ctx.close();
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    if (connection == null) instance.opened.remove(peerPort);
    if (pending != null) pending.release();
    pending = null;
    DirectExchange e = current;
    current = null;
    if (e != null) {
      e.clientClosed();
      instance.proxy.clientDeadlines().requestEnded(connection);
    }
    ctx.fireChannelInactive();
  }
}
