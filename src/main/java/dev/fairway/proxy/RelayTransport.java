package dev.fairway.proxy;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFactory;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.ChannelPromise;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.ServerChannel;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.InternetProtocolFamily;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpObjectEncoder;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.websocketx.extensions.WebSocketServerExtensionHandler;
import io.netty.handler.stream.ChunkedWriteHandler;
import io.vertx.core.datagram.DatagramSocketOptions;
import io.vertx.core.net.SocketAddress;
import io.vertx.core.net.TcpConfig;
import io.vertx.core.transport.Transport;

import java.util.List;
import java.util.concurrent.ThreadFactory;

/**
 * A Vert.x transport (epoll, io_uring, kqueue or NIO: whichever it wraps) whose TCP connections, accepted or opened,
 * read into {@link RelayBuffers} instead of Netty's pooled allocator, so Vert.x passes what it reads on without a heap
 * copy, and free those buffers once written ({@link ReleaseAfterWrite}). All through the public transport SPI: Vert.x
 * calls {@code configure} after it sets its own allocator, and makes its channels with the factories here.
 */
public final class RelayTransport implements Transport {

  private final Transport base;
  private final Relaying implementation;

  private RelayTransport(Transport base) {
    this.base = base;
    this.implementation = new Relaying(base.implementation());
  }

  /** The native transport when this platform has one (what {@code preferNativeTransport} picks), else NIO. */
  public static RelayTransport preferNative() {
    Transport natives = Transport.nativeTransport();
    return new RelayTransport(natives != null && natives.available() ? natives : Transport.NIO);
  }

  /** The relay buffers on /metrics: bytes relayed in them (the relay without a heap copy, at work) and held. */
  public static void bindMetrics(MeterRegistry registry) {
    FunctionCounter.builder("fairway.relayed.direct", RelayBuffers.class, c -> RelayBuffers.relayedBytes())
      .baseUnit("bytes").description("Bytes relayed from socket to socket in the direct buffers they were read into")
      .register(registry);
    FunctionCounter.builder("fairway.relayed.passthrough", ChunkedPassThrough.class, c -> ChunkedPassThrough.passedBytes())
      .baseUnit("bytes").description("Bytes of streamed response bodies passed from upstream to client as they came")
      .register(registry);
    FunctionCounter.builder("fairway.direct.requests", DirectHttp1.class, c -> DirectHttp1.taken())
      .description("Requests Fairway's own HTTP/1.1 path took (listen.direct-http1), the rest went through Vert.x")
      .register(registry);
    Gauge.builder("fairway.direct.connections", DirectHttp1::held)
      .description("Client connections Fairway's own HTTP/1.1 path holds: idle or served by it, not yet handed to Vert.x")
      .register(registry);
    Gauge.builder("fairway.relay.buffers.held", RelayBuffers::heldBytes).baseUnit("bytes")
      .description("Direct memory relay buffers take: in flight, kept for reuse, or waiting for the GC (at most 32 MiB)")
      .register(registry);
    Gauge.builder("fairway.relay.buffers.kept", RelayBuffers::keptBytes).baseUnit("bytes")
      .description("Of the direct memory relay buffers hold, what is kept for the next reads")
      .register(registry);
  }

  /** Bytes of relay buffers kept for the next reads. */
  public static long keptBufferBytes() {
    return RelayBuffers.keptBytes();
  }

  /** Lets go of the relay buffers kept for the next reads, for the GC to free; returns their bytes. */
  public static long dropKeptBuffers() {
    return RelayBuffers.dropKept();
  }

  @Override
  public String name() {
    return base.name();
  }

  @Override
  public boolean available() {
    return base.available();
  }

  @Override
  public Throwable unavailabilityCause() {
    return base.unavailabilityCause();
  }

  @Override
  public io.vertx.core.spi.transport.Transport implementation() {
    return implementation;
  }

  /** Everything as the wrapped transport does it, then the relay allocator and read sizes on TCP channels. */
  private record Relaying(io.vertx.core.spi.transport.Transport base) implements io.vertx.core.spi.transport.Transport {
    /** Read sizes that shrink under memory pressure (a configured receive buffer size keeps Vert.x's fixed ones). */
    private static final RelayReads READS = new RelayReads();

    @Override
    public void configure(TcpConfig config, boolean domainSocket, ServerBootstrap bootstrap) {
      base.configure(config, domainSocket, bootstrap);
      bootstrap.childOption(ChannelOption.ALLOCATOR, RelayBuffers.ALLOCATOR);
      if (config.getReceiveBufferSize() <= 0) bootstrap.childOption(ChannelOption.RCVBUF_ALLOCATOR, READS);
    }

    @Override
    public void configure(TcpConfig config, boolean domainSocket, Bootstrap bootstrap) {
      base.configure(config, domainSocket, bootstrap);
      bootstrap.option(ChannelOption.ALLOCATOR, RelayBuffers.ALLOCATOR);
      if (config.getReceiveBufferSize() <= 0) bootstrap.option(ChannelOption.RCVBUF_ALLOCATOR, READS);
    }

    @Override
    public boolean supportsDomainSockets() {
      return base.supportsDomainSockets();
    }

    @Override
    public boolean supportFileRegion() {
      return base.supportFileRegion();
    }

    @Override
    public boolean isAvailable() {
      return base.isAvailable();
    }

    @Override
    public Throwable unavailabilityCause() {
      return base.unavailabilityCause();
    }

    @Override
    public java.net.SocketAddress convert(SocketAddress address) {
      return base.convert(address);
    }

    @Override
    public SocketAddress convert(java.net.SocketAddress address) {
      return base.convert(address);
    }

    @Override
    public IoHandlerFactory ioHandlerFactory() {
      return base.ioHandlerFactory();
    }

    @Override
    public EventLoopGroup eventLoopGroup(int type, int threads, ThreadFactory threadFactory, int ioRatio) {
      return base.eventLoopGroup(type, threads, threadFactory, ioRatio);
    }

    @Override
    public DatagramChannel datagramChannel(InternetProtocolFamily family) {
      return base.datagramChannel(family);
    }

    @Override
    public ChannelFactory<? extends DatagramChannel> datagramChannelFactory() {
      return base.datagramChannelFactory();
    }

    @Override
    public ChannelFactory<? extends Channel> channelFactory(boolean domainSocket) {
      ChannelFactory<? extends Channel> channels = base.channelFactory(domainSocket);
      return () -> ReleaseInstaller.addTo(channels.newChannel());
    }

    @Override
    public ChannelFactory<? extends ServerChannel> serverChannelFactory(boolean domainSocket) {
      ChannelFactory<? extends ServerChannel> servers = base.serverChannelFactory(domainSocket);
      return () -> {
        ServerChannel server = servers.newChannel();
        server.pipeline().addLast(AcceptedChannels.INSTANCE); // before the acceptor Netty adds once it is registered
        return server;
      };
    }

    @Override
    public void configure(DatagramChannel channel, DatagramSocketOptions options) {
      base.configure(channel, options);
    }
  }

  /**
   * Gives each accepted connection a {@link ReleaseInstaller}, ahead of the handlers Vert.x gives it, which offers
   * the connection to the direct HTTP/1.1 path first.
   */
  @ChannelHandler.Sharable
  private static final class AcceptedChannels extends ChannelInboundHandlerAdapter {
    static final AcceptedChannels INSTANCE = new AcceptedChannels();

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      if (msg instanceof Channel accepted) accepted.pipeline().addFirst(new ReleaseInstaller(true));
      ctx.fireChannelRead(msg);
    }
  }

  /** Has the release handler put on {@code channel} once Vert.x builds its pipeline on it (after the direct path). */
  static void watchForVertx(Channel channel) {
    channel.pipeline().addFirst(new ReleaseInstaller(false));
  }

  /**
   * Puts {@link ReleaseAfterWrite} right before Vert.x's handler once Vert.x has built the pipeline (after a TLS
   * handshake, for one), then steps out. It watches the first events: a connection reads or writes nothing before.
   */
  private static final class ReleaseInstaller extends ChannelDuplexHandler {
    /** An accepted connection, not yet registered: the direct path may take it. */
    private final boolean accepted;
    private boolean installed;

    private ReleaseInstaller(boolean accepted) {
      this.accepted = accepted;
    }

    static <C extends Channel> C addTo(C channel) {
      channel.pipeline().addFirst(new ReleaseInstaller(false));
      return channel;
    }

    /** On an accepted connection, as it is registered with the event loop it will live on. */
    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
      if (accepted && DirectHttp1.takeAtAccept(ctx.pipeline())) {
        installed = true;
        ctx.pipeline().remove(this); // the direct path holds it: one handler, until it hands it to Vert.x
      }
    }

    private void install(ChannelHandlerContext ctx) {
      if (installed || !installIn(ctx.pipeline())) return;
      installed = true;
      ctx.pipeline().remove(this);
    }

    /** @return whether the pipeline has Vert.x's handler, and so now the release before it */
    private static boolean installIn(ChannelPipeline pipeline) {
      if (pipeline.get(ReleaseAfterWrite.VERTX_HANDLER) == null) return false;
      if (pipeline.get(ReleaseAfterWrite.NAME) == null) {
        pipeline.addBefore(ReleaseAfterWrite.VERTX_HANDLER, ReleaseAfterWrite.NAME,
          new ReleaseAfterWrite(http1Encoder(pipeline, false), http1Encoder(pipeline, true)));
      }
      ChannelHandlerContext upstreamDecoder = pipeline.context(HttpClientCodec.class);
      if (upstreamDecoder != null && pipeline.get(UpstreamReads.NAME) == null) {
        pipeline.addBefore(upstreamDecoder.name(), UpstreamReads.NAME, new UpstreamReads());
      }
      return true;
    }

    /**
     * The context of the connection's HTTP/1.1 encoder, when only handlers that pass body chunks on as they are lie
     * between it and Vert.x's handler (the WebSocket extension handler Vert.x's server adds touches only heads; with
     * {@code queuing}, also the chunked-write handler of a TLS connection, which holds writes until a flush, so what
     * is written past it must come after a flush); otherwise (an HTTP/2 or plain TCP connection, a compressor in
     * between) null.
     */
    private static ChannelHandlerContext http1Encoder(ChannelPipeline pipeline, boolean queuing) {
      ChannelHandlerContext encoder = pipeline.context(HttpObjectEncoder.class);
      if (encoder == null) encoder = pipeline.context(HttpClientCodec.class);
      if (encoder == null) encoder = pipeline.context(HttpServerCodec.class);
      if (encoder == null) return null;
      List<String> names = pipeline.names();
      int handler = names.indexOf(ReleaseAfterWrite.VERTX_HANDLER);
      for (int i = names.indexOf(encoder.name()) + 1; i < handler; i++) {
        ChannelHandler between = pipeline.get(names.get(i));
        if (!(between instanceof WebSocketServerExtensionHandler || queuing && between instanceof ChunkedWriteHandler)) {
          return null;
        }
      }
      return encoder;
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
      Channel channel = ctx.channel();
      if (installed || !channel.isRegistered()) return; // placed, or the channel is gone
      // Vert.x's HTTP client clears the pipeline it connected with, then builds its own in the same task
      channel.eventLoop().execute(() -> installIn(channel.pipeline()));
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
      install(ctx);
      ctx.fireChannelActive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      install(ctx);
      ctx.fireChannelRead(msg);
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
      install(ctx);
      ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
      install(ctx);
      ctx.write(msg, promise);
    }

    /**
     * The channel asks for more once a read is handled: on a TLS connection whose first read held the end of the
     * handshake and a request, that is the first event after Vert.x built its pipeline, before any response is written.
     */
    @Override
    public void read(ChannelHandlerContext ctx) {
      install(ctx);
      ctx.read();
    }
  }
}
