package dev.fairway.proxy;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.ChannelFactory;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.ServerChannel;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.InternetProtocolFamily;
import io.vertx.core.datagram.DatagramSocketOptions;
import io.vertx.core.net.SocketAddress;
import io.vertx.core.net.TcpConfig;
import io.vertx.core.transport.Transport;

import java.util.concurrent.ThreadFactory;

/**
 * A Vert.x transport (epoll, io_uring, kqueue or NIO: whichever it wraps) whose TCP connections, accepted or opened,
 * read into {@link RelayBuffers} instead of Netty's pooled allocator, so Vert.x passes what it reads on without a heap
 * copy. Vert.x calls {@code configure} after it sets its own allocator, through the public transport SPI.
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

  /** Everything as the wrapped transport does it, then the relay allocator on TCP channels. */
  private record Relaying(io.vertx.core.spi.transport.Transport base) implements io.vertx.core.spi.transport.Transport {

    @Override
    public void configure(TcpConfig config, boolean domainSocket, ServerBootstrap bootstrap) {
      base.configure(config, domainSocket, bootstrap);
      bootstrap.childOption(ChannelOption.ALLOCATOR, RelayBuffers.ALLOCATOR);
    }

    @Override
    public void configure(TcpConfig config, boolean domainSocket, Bootstrap bootstrap) {
      base.configure(config, domainSocket, bootstrap);
      bootstrap.option(ChannelOption.ALLOCATOR, RelayBuffers.ALLOCATOR);
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
    public ChannelFactory<? extends io.netty.channel.Channel> channelFactory(boolean domainSocket) {
      return base.channelFactory(domainSocket);
    }

    @Override
    public ChannelFactory<? extends ServerChannel> serverChannelFactory(boolean domainSocket) {
      return base.serverChannelFactory(domainSocket);
    }

    @Override
    public void configure(DatagramChannel channel, DatagramSocketOptions options) {
      base.configure(channel, options);
    }
  }
}
