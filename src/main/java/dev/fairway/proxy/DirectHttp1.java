package dev.fairway.proxy;

import dev.fairway.accesslog.RequestIds;
import dev.fairway.metrics.ProxyMetrics;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.util.ByteProcessor;
import io.vertx.core.http.HttpMethod;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * EXPERIMENT: an HTTP/1.1 path of Fairway's own for bodiless GET/HEAD requests on plain routes, placed before Vert.x's
 * decoder on a proxy connection. Heads are read in place and passed on as the bytes they came in, less hop-by-hop
 * headers and plus the forwarded ones; a Content-Length response goes back the same way. Anything else is handed to
 * Vert.x, and the connection stays with Vert.x from then on. No timeouts, no retries, no access log: a measurement.
 */
final class DirectHttp1 extends ChannelInboundHandlerAdapter {
  static final boolean ENABLED = Boolean.getBoolean("fairway.direct-http1");
  static final String NAME = "fairway-direct";
  private static final Map<Thread, ProxyInstance> INSTANCES = new ConcurrentHashMap<>();
  private static volatile int port;
  private static final int MAX_HEAD = 8192;

  private final ProxyInstance proxy;
  private final Pool pool;
  private ByteBuf pending;
  private Exchange current;
  private String peer;

  private DirectHttp1(ProxyInstance proxy) {
    this.proxy = proxy;
    this.pool = POOLS.get().computeIfAbsent(proxy, p -> new Pool());
  }

  private static final ThreadLocal<Map<ProxyInstance, Pool>> POOLS = ThreadLocal.withInitial(HashMap::new);

  static void register(ProxyInstance instance, int listenPort) {
    if (!ENABLED) return;
    INSTANCES.put(Thread.currentThread(), instance);
    port = listenPort;
  }

  /** For a proxy connection on a registered event loop: the handler, else null. */
  static DirectHttp1 forThisThread(Channel channel) {
    if (!ENABLED || !(channel.localAddress() instanceof InetSocketAddress local) || local.getPort() != port) return null;
    ProxyInstance instance = INSTANCES.get(Thread.currentThread());
    return instance == null ? null : new DirectHttp1(instance);
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
    if (current == null) next(ctx);
  }

  private void toVertx(ChannelHandlerContext ctx) {
    ByteBuf bytes = pending;
    pending = null;
    ctx.pipeline().remove(this);
    if (bytes != null) {
      ctx.fireChannelRead(bytes);
      ctx.fireChannelReadComplete();
    }
  }

  void next(ChannelHandlerContext ctx) {
    if (pending == null) return;
    int end = headEnd(pending);
    if (end < 0) {
      if (pending.readableBytes() > MAX_HEAD) toVertx(ctx);
      return;
    }
    Exchange e = Exchange.read(this, pending, pending.readerIndex(), end);
    if (e == null) {
      toVertx(ctx);
      return;
    }
    ProxySettings settings = proxy.settings();
    Route route = settings.routes().match(e.path, e.method.name(), e.hostOnly());
    if (route == null || route.jobs() != null || route.rateLimiter() != null
      || !route.requestHeaders().isEmpty() || !route.responseHeaders().isEmpty() || route.totalMillis() > 0
      || proxy.accessLines().enabled() || !proxy.queue().isEmpty() || settings.clientAddress() != null) {
      toVertx(ctx);
      return;
    }
    Origin origin = proxy.selector().pick(route.group(), null);
    if (origin == null) {
      toVertx(ctx);
      return;
    }
    if (peer == null) peer = ((InetSocketAddress) ctx.channel().remoteAddress()).getAddress().getHostAddress();
    e.route = route;
    e.origin = origin;
    e.client = ctx;
    ByteBuf upstreamHead = e.upstreamHead(ctx, pending, end, peer);
    pending.readerIndex(end);
    if (!pending.isReadable()) {
      pending.release();
      pending = null;
    }
    current = e;
    pool.send(ctx.channel(), origin, upstreamHead, e);
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    if (pending != null) pending.release();
    pending = null;
    if (current != null) current.clientGone();
    ctx.fireChannelInactive();
  }

  void ended(Exchange e) {
    current = null;
    next(e.client);
  }

  /** The index just past a head's blank line in {@code buf}'s readable bytes, or -1 while it is not all there. */
  static int headEnd(ByteBuf buf) {
    int from = buf.readerIndex(), to = buf.writerIndex();
    while (true) {
      int lf = buf.forEachByte(from, to - from, ByteProcessor.FIND_LF);
      if (lf < 0 || lf + 2 >= to) return -1;
      if (buf.getByte(lf + 1) == '\r' && buf.getByte(lf + 2) == '\n') return lf + 3;
      from = lf + 1;
    }
  }

  static boolean nameIs(ByteBuf buf, int at, int colon, String lower) {
    if (colon - at != lower.length()) return false;
    for (int i = 0; i < lower.length(); i++) {
      int b = buf.getByte(at + i);
      if (b >= 'A' && b <= 'Z') b += 'a' - 'A';
      if (b != lower.charAt(i)) return false;
    }
    return true;
  }

  private static final String[] HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization",
    "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade"};
  private static final String[] SET_BY_PROXY = {"x-real-ip", "x-forwarded-proto", "x-forwarded-host", "x-request-id",
    "x-forwarded-for"};

  static boolean isOneOf(ByteBuf buf, int at, int colon, String[] names) {
    for (String n : names) {
      if (nameIs(buf, at, colon, n)) return true;
    }
    return false;
  }

  static String value(ByteBuf buf, int colon, int lineEnd) {
    int from = colon + 1, to = lineEnd;
    while (from < to && (buf.getByte(from) == ' ' || buf.getByte(from) == '\t')) from++;
    while (to > from && (buf.getByte(to - 1) == ' ' || buf.getByte(to - 1) == '\t' || buf.getByte(to - 1) == '\r')) to--;
    return buf.toString(from, to - from, StandardCharsets.ISO_8859_1);
  }

  /** One request on the direct path. */
  static final class Exchange {
    final DirectHttp1 front;
    final HttpMethod method;
    final String path;
    String host;
    String requestId;
    String forwardedFor;
    Route route;
    Origin origin;
    ChannelHandlerContext client;
    Channel upstream;
    final long startNanos = System.nanoTime();
    long upstreamNanos = -1;
    long sent;
    int finishStatus;
    boolean done;

    private Exchange(DirectHttp1 front, HttpMethod method, String path) {
      this.front = front;
      this.method = method;
      this.path = path;
    }

    String hostOnly() {
      if (host == null) return null;
      int colon = host.lastIndexOf(':');
      return colon > 0 && host.indexOf(']') < colon ? host.substring(0, colon) : host;
    }

    /** Reads a head: null unless it is a bodiless GET or HEAD in HTTP/1.1 with an origin-form target. */
    static Exchange read(DirectHttp1 front, ByteBuf buf, int start, int end) {
      int lineEnd = buf.forEachByte(start, end - start, ByteProcessor.FIND_LF);
      HttpMethod method;
      int targetAt;
      if (buf.getByte(start) == 'G' && buf.getByte(start + 1) == 'E' && buf.getByte(start + 2) == 'T' && buf.getByte(start + 3) == ' ') {
        method = HttpMethod.GET;
        targetAt = start + 4;
      } else {
        return null;
      }
      if (buf.getByte(targetAt) != '/') return null;
      int space = buf.forEachByte(targetAt, lineEnd - targetAt, ByteProcessor.FIND_ASCII_SPACE);
      if (space < 0 || lineEnd - space != 10 || buf.getByte(lineEnd - 1) != '\r'
        || !buf.toString(space + 1, 8, StandardCharsets.US_ASCII).equals("HTTP/1.1")) return null;
      int pathEnd = buf.forEachByte(targetAt, space - targetAt, b -> b != '?');
      String rawPath = buf.toString(targetAt, (pathEnd < 0 ? space : pathEnd) - targetAt, StandardCharsets.ISO_8859_1);
      if (rawPath.indexOf('%') >= 0 || rawPath.contains("/.") || rawPath.contains("//")) return null; // normaliser's cases
      Exchange e = new Exchange(front, method, rawPath);
      for (int line = lineEnd + 1; line < end - 2; ) {
        int le = buf.forEachByte(line, end - line, ByteProcessor.FIND_LF);
        int colon = buf.forEachByte(line, le - line, b -> b != ':');
        if (colon <= line || buf.getByte(le - 1) != '\r') return null;
        if (nameIs(buf, line, colon, "host")) {
          if (e.host != null) return null;
          e.host = value(buf, colon, le);
        } else if (nameIs(buf, line, colon, "content-length") || nameIs(buf, line, colon, "transfer-encoding")
          || nameIs(buf, line, colon, "upgrade") || nameIs(buf, line, colon, "expect")) {
          return null;
        } else if (nameIs(buf, line, colon, "connection")) {
          if (!value(buf, colon, le).equalsIgnoreCase("keep-alive")) return null;
        } else if (nameIs(buf, line, colon, "x-request-id")) {
          e.requestId = value(buf, colon, le);
        } else if (nameIs(buf, line, colon, "x-forwarded-for")) {
          String v = value(buf, colon, le);
          e.forwardedFor = e.forwardedFor == null ? v : e.forwardedFor + ", " + v;
        }
        line = le + 1;
      }
      if (e.host == null) return null;
      return e;
    }

    ByteBuf upstreamHead(ChannelHandlerContext ctx, ByteBuf buf, int end, String peer) {
      int start = buf.readerIndex();
      requestId = RequestIds.keepOrCreate(requestId);
      ByteBuf out = ctx.alloc().directBuffer(end - start + 256);
      int lineEnd = buf.forEachByte(start, end - start, ByteProcessor.FIND_LF);
      out.writeBytes(buf, start, lineEnd + 1 - start);
      for (int line = lineEnd + 1; line < end - 2; ) {
        int le = buf.forEachByte(line, end - line, ByteProcessor.FIND_LF);
        int colon = buf.forEachByte(line, le - line, b -> b != ':');
        if (!isOneOf(buf, line, colon, HOP_BY_HOP) && !isOneOf(buf, line, colon, SET_BY_PROXY)) {
          out.writeBytes(buf, line, le + 1 - line);
        }
        line = le + 1;
      }
      header(out, "X-Real-IP", peer);
      header(out, "X-Forwarded-For", forwardedFor == null ? peer : forwardedFor + ", " + peer);
      header(out, "X-Forwarded-Proto", "http");
      header(out, "X-Request-Id", requestId);
      header(out, "X-Forwarded-Host", host);
      out.writeByte('\r').writeByte('\n');
      return out;
    }

    static void header(ByteBuf out, String name, String value) {
      out.writeCharSequence(name, StandardCharsets.US_ASCII);
      out.writeByte(':').writeByte(' ');
      out.writeCharSequence(value, StandardCharsets.ISO_8859_1);
      out.writeByte('\r').writeByte('\n');
    }

    void clientGone() {
      if (done) return;
      if (upstream != null) upstream.close();
      finish(499);
    }

    void finish(int status) {
      if (done) return;
      done = true;
      origin.inFlight().decrementAndGet();
      front.proxy.queue().drain();
      ProxyMetrics.UpstreamMeters meters = origin.meters();
      if (front.proxy.metrics().enabled()) {
        meters.record(front.proxy.index(), route.prefix(), method, status, System.nanoTime() - startNanos, 0, sent);
      }
    }
  }

  /** Kept-alive upstream connections of one proxy instance, by upstream. */
  static final class Pool {
    private final Map<String, ArrayDeque<Channel>> idle = new HashMap<>();
    private Bootstrap connector;

    void send(Channel client, Origin origin, ByteBuf head, Exchange e) {
      ArrayDeque<Channel> free = idle.computeIfAbsent(origin.id(), k -> new ArrayDeque<>());
      Channel reused;
      while ((reused = free.pollFirst()) != null && !reused.isActive()) { /* closed while idle */ }
      if (reused != null) {
        start(reused, head, e);
        return;
      }
      if (connector == null) {
        connector = new Bootstrap().group(client.eventLoop())
          .channel(client.getClass()) // the transport's own: epoll's or NIO's
          .option(ChannelOption.TCP_NODELAY, true)
          .handler(new ChannelInitializer<Channel>() {
            @Override
            protected void initChannel(Channel ch) {
              ch.pipeline().addLast(new UpstreamSide(Pool.this));
            }
          });
      }
      var address = origin.address();
      connector.connect(address.host(), address.port()).addListener((ChannelFutureListener) f -> {
        if (!f.isSuccess()) {
          head.release();
          e.client.close();
          e.finish(502);
          return;
        }
        ((UpstreamSide) f.channel().pipeline().first()).originId = origin.id();
        start(f.channel(), head, e);
      });
    }

    private void start(Channel up, ByteBuf head, Exchange e) {
      e.upstream = up;
      ((UpstreamSide) up.pipeline().first()).exchange = e;
      up.writeAndFlush(head);
    }

    void idle(String originId, Channel ch) {
      idle.computeIfAbsent(originId, k -> new ArrayDeque<>()).addFirst(ch);
    }
  }

  /** One upstream connection: a response's head rewritten, its body passed as it comes. */
  static final class UpstreamSide extends ChannelInboundHandlerAdapter {
    private final Pool pool;
    String originId;
    Exchange exchange;
    private long remaining = -1;
    private boolean keepAlive;

    UpstreamSide(Pool pool) {
      this.pool = pool;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      ByteBuf in = (ByteBuf) msg;
      Exchange e = exchange;
      if (e == null || e.done) {
        in.release();
        ctx.close();
        return;
      }
      ChannelHandlerContext client = e.client;
      if (remaining < 0) {
        int end = headEnd(in);
        if (end < 0) { // spike: heads in one read only
          in.release();
          ctx.close();
          client.close();
          e.finish(502);
          return;
        }
        e.upstreamNanos = System.nanoTime() - e.startNanos;
        e.origin.meters().recordResponseHead(e.front.proxy.index(), e.route.prefix(), e.upstreamNanos);
        int start = in.readerIndex();
        int lineEnd = in.forEachByte(start, end - start, ByteProcessor.FIND_LF);
        int status = (in.getByte(start + 9) - '0') * 100 + (in.getByte(start + 10) - '0') * 10 + (in.getByte(start + 11) - '0');
        ByteBuf out = client.alloc().directBuffer(end - start + 64);
        out.writeBytes(in, start, lineEnd + 1 - start);
        long length = -1;
        boolean close = false;
        for (int line = lineEnd + 1; line < end - 2; ) {
          int le = in.forEachByte(line, end - line, ByteProcessor.FIND_LF);
          int colon = in.forEachByte(line, le - line, b -> b != ':');
          if (nameIs(in, line, colon, "content-length")) {
            length = Long.parseLong(value(in, colon, le));
            out.writeBytes(in, line, le + 1 - line);
          } else if (nameIs(in, line, colon, "connection")) {
            close = value(in, colon, le).equalsIgnoreCase("close");
          } else if (!isOneOf(in, line, colon, HOP_BY_HOP)) {
            out.writeBytes(in, line, le + 1 - line);
          } else if (nameIs(in, line, colon, "transfer-encoding")) {
            length = -2;
          }
          line = le + 1;
        }
        keepAlive = !close;
        if (length < 0) { // spike: Content-Length only
          out.release();
          in.release();
          ctx.close();
          client.close();
          e.finish(502);
          return;
        }
        Exchange.header(out, "X-Request-Id", e.requestId);
        out.writeByte('\r').writeByte('\n');
        e.sent += out.readableBytes();
        client.write(out);
        in.readerIndex(end);
        remaining = length;
        e.finishStatus = status;
      }
      int body = in.readableBytes();
      remaining -= body;
      e.sent += body;
      if (body > 0) client.write(in);
      else in.release();
      if (remaining <= 0) {
        remaining = -1;
        exchange = null;
        client.flush();
        if (keepAlive) pool.idle(originId, ctx.channel());
        else ctx.close();
        e.finish(e.finishStatus);
        e.front.ended(e);
      }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
      if (exchange != null) exchange.client.flush();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      Exchange e = exchange;
      if (e != null && !e.done) {
        e.client.close();
        e.finish(502);
      }
    }
  }
}
