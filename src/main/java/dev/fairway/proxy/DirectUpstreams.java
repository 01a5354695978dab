package dev.fairway.proxy;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;

/**
 * The upstream HTTP/1.1 connections of {@link DirectHttp1}'s exchanges on one event loop: opened on that loop with the
 * transport's own channels, kept alive per upstream (those beyond upstream-max-idle closed once unused for a
 * second, as {@link UpstreamConnections} does, the rest after upstream-idle-timeout), at most pool-size open per
 * upstream, counted together with the Vert.x path's connections to it ({@link UpstreamConnections#openCount}). Each
 * connection hands what it reads to the exchange
 * that holds it. Event-loop confined.
 */
final class DirectUpstreams {

  /** One upstream's connections: the idle ones (most recently used first), and how many are open on both paths. */
  private static final class Pool {
    final ArrayDeque<Channel> idle = new ArrayDeque<>();
    final int[] open;

    Pool(int[] open) {
      this.open = open;
    }
  }

  private final Map<String, Pool> pools = new HashMap<>();
  private final UpstreamConnections vertxPath;
  private final Bootstrap connector;
  private final int maxOpen;
  private final int maxIdle;
  private final long idleTimeoutNanos;

  /** @param vertxPath the Vert.x path's connections of the same proxy instance, whose open count this path shares */
  DirectUpstreams(EventLoop loop, Class<? extends Channel> channels, UpstreamConnections vertxPath, int maxOpen,
                  int maxIdle, long idleTimeoutMillis) {
    this.vertxPath = vertxPath;
    this.maxOpen = maxOpen;
    this.maxIdle = maxIdle;
    this.idleTimeoutNanos = idleTimeoutMillis * 1_000_000;
    this.connector = new Bootstrap().group(loop).channel(channels)
      .option(ChannelOption.TCP_NODELAY, true)
      // upstream reads into relay chunks, as client reads: with one buffer class on the path the JIT inlines the
      // buffer calls that three classes left as virtual calls (-6 % CPU per small request)
      .option(ChannelOption.ALLOCATOR, RelayBuffers.ALLOCATOR)
      .option(ChannelOption.RCVBUF_ALLOCATOR, new RelayReads())
      .handler(new ChannelInitializer<Channel>() {
        @Override
        protected void initChannel(Channel ch) {
          ch.pipeline().addLast(new Reader());
        }
      });
    long sweep = Math.min(UpstreamConnections.SURPLUS_IDLE_MILLIS / 2,
      idleTimeoutMillis > 0 ? ReadDeadlines.sweepMillis(idleTimeoutMillis) : Long.MAX_VALUE);
    loop.scheduleAtFixedRate(this::closeIdle, sweep, sweep, java.util.concurrent.TimeUnit.MILLISECONDS);
  }

  /** Whether a connection to {@code upstream} can be had now: an idle one, or room to open one. */
  boolean available(String upstream) {
    Pool p = pool(upstream);
    return !p.idle.isEmpty() || p.open[0] < maxOpen;
  }

  private Pool pool(String upstream) {
    Pool p = pools.get(upstream);
    if (p == null) {
      p = new Pool(vertxPath.openCount(upstream));
      pools.put(upstream, p);
    }
    return p;
  }

  /** A kept-alive connection to {@code upstream}, or null if there is none. */
  Channel idle(String upstream) {
    Pool p = pools.get(upstream);
    if (p == null) return null;
    Channel ch;
    while ((ch = p.idle.pollFirst()) != null) {
      if (ch.isActive()) return ch;
    }
    return null;
  }

  /** Opens a connection to {@code upstream} at host:port, counted against pool-size from now until it closes. */
  ChannelFuture open(String upstream, String host, int port, long connectMillis) {
    Pool p = pool(upstream);
    p.open[0]++;
    ChannelFuture f = connector.clone()
      .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE, connectMillis))
      .connect(host, port);
    f.channel().closeFuture().addListener(c -> {
      p.open[0]--;
      p.idle.remove(f.channel());
    });
    return f;
  }

  /** Gives back a connection whose exchange ended cleanly, for the next request to the same upstream. */
  void release(String upstream, Channel ch) {
    reader(ch).exchange = null;
    Pool p = pools.get(upstream);
    if (p == null || !ch.isActive()) {
      ch.close();
      return;
    }
    reader(ch).idleSince = System.nanoTime();
    p.idle.addFirst(ch);
  }

  static void attach(Channel ch, DirectExchange exchange) {
    reader(ch).exchange = exchange;
  }

  private static Reader reader(Channel ch) {
    return (Reader) ch.pipeline().first();
  }

  /** Closes the connections beyond upstream-max-idle unused for a second, and any unused for upstream-idle-timeout. */
  private void closeIdle() {
    long now = System.nanoTime();
    long surplusNanos = UpstreamConnections.SURPLUS_IDLE_MILLIS * 1_000_000;
    for (Pool p : pools.values()) {
      for (Iterator<Channel> it = p.idle.descendingIterator(); it.hasNext(); ) { // the longest idle are last
        Channel ch = it.next();
        long unused = now - reader(ch).idleSince;
        boolean surplus = p.idle.size() > maxIdle && unused >= surplusNanos;
        if (!surplus && (idleTimeoutNanos == 0 || unused < idleTimeoutNanos)) break;
        it.remove();
        ch.close();
      }
    }
  }

  /** Hands an upstream connection's reads and its close to the exchange holding it; an idle one that speaks is closed. */
  private static final class Reader extends ChannelInboundHandlerAdapter {
    DirectExchange exchange;
    long idleSince;

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      DirectExchange e = exchange;
      if (e == null) { // nothing was asked: nothing it says can be trusted, nor the connection
        ((ByteBuf) msg).release();
        ctx.close();
        return;
      }
      e.upstreamRead((ByteBuf) msg);
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
      DirectExchange e = exchange;
      if (e != null) e.upstreamReadComplete();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      DirectExchange e = exchange;
      exchange = null;
      if (e != null) e.upstreamClosed(null);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      DirectExchange e = exchange;
      exchange = null;
      ctx.close();
      if (e != null) e.upstreamClosed(cause);
    }
  }
}
