import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayDeque;
import java.util.List;

/**
 * The floor for run.sh's "netty-pipe" target: an HTTP/1.1 proxy written straight on Netty's HTTP codecs, on one
 * event loop, with keep-alive upstream connections, round-robin, and every decoded message passed through as it is
 * (no header copies, no features). What Vert.x's HTTP/1 path costs over Netty's own codecs is the gap between
 * vertx-pipe and this; what the JVM and Netty's codecs cost over nginx is the gap between this and nginx.
 * Responses stream (a flush per read, back-pressure towards the client); request bodies are small only (no
 * back-pressure upstream). No timeouts, no error handling beyond closing.
 *
 * Run from the fat jar's classes: java -cp target/fairway.jar load-tests/NettyPipe.java PORT UPSTREAM_PORT...
 */
public class NettyPipe {
  private final int[] upstreams;
  private final List<ArrayDeque<Channel>> idle = new java.util.ArrayList<>();
  private final Bootstrap connector;
  private int next;

  NettyPipe(int[] upstreams, EventLoop loop) {
    this.upstreams = upstreams;
    for (int ignored : upstreams) idle.add(new ArrayDeque<>());
    connector = new Bootstrap().group(loop).channel(EpollSocketChannel.class).option(ChannelOption.TCP_NODELAY, true)
      .handler(new ChannelInitializer<Channel>() {
        @Override protected void initChannel(Channel ch) {
          ch.pipeline().addLast(new HttpClientCodec(), new UpstreamSide());
        }
      });
  }

  public static void main(String[] args) throws Exception {
    int port = Integer.parseInt(args[0]);
    int[] upstreams = new int[args.length - 1];
    for (int i = 1; i < args.length; i++) upstreams[i - 1] = Integer.parseInt(args[i]);
    MultiThreadIoEventLoopGroup group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
    NettyPipe pipe = new NettyPipe(upstreams, group.next());
    new ServerBootstrap().group(group).channel(EpollServerSocketChannel.class).option(ChannelOption.SO_BACKLOG, 1024)
      .childOption(ChannelOption.TCP_NODELAY, true)
      .childHandler(new ChannelInitializer<Channel>() {
        @Override protected void initChannel(Channel ch) {
          ch.pipeline().addLast(new HttpServerCodec(), pipe.new ClientSide());
        }
      }).bind("127.0.0.1", port).sync();
    System.out.println("netty-pipe on " + port);
  }

  /** One client connection: forwards each request's messages to an upstream connection taken for that request. */
  final class ClientSide extends SimpleChannelInboundHandler<HttpObject> {
    private Channel upstream;
    private final ArrayDeque<HttpObject> pending = new ArrayDeque<>(); // until the upstream connection is up

    ClientSide() { super(false); }

    @Override protected void channelRead0(ChannelHandlerContext ctx, HttpObject msg) {
      if (msg instanceof HttpRequest) {
        int which = next++ % upstreams.length;
        Channel reused = idle.get(which).pollFirst();
        if (reused != null) {
          take(reused, ctx.channel(), which);
        } else {
          connector.connect("127.0.0.1", upstreams[which]).addListener((ChannelFutureListener) f -> {
            if (!f.isSuccess()) { ctx.close(); return; }
            take(f.channel(), ctx.channel(), which);
          });
        }
      }
      if (upstream == null) pending.add(msg);
      else forward(msg);
    }

    private void take(Channel up, Channel client, int which) {
      UpstreamSide side = up.pipeline().get(UpstreamSide.class);
      side.client = client;
      side.which = which;
      upstream = up;
      HttpObject msg;
      while ((msg = pending.poll()) != null) forward(msg);
    }

    private void forward(HttpObject msg) {
      if (msg instanceof LastHttpContent) {
        upstream.writeAndFlush(msg);
        upstream = null;
      } else {
        upstream.write(msg);
      }
    }

    /** An upstream connection paused because this client was not writable. */
    Channel resumeOnWritable;

    @Override public void channelWritabilityChanged(ChannelHandlerContext ctx) {
      if (ctx.channel().isWritable() && resumeOnWritable != null) {
        resumeOnWritable.config().setAutoRead(true);
        resumeOnWritable = null;
      }
    }

    @Override public void channelInactive(ChannelHandlerContext ctx) { pending.forEach(ReferenceCountUtil::release); }
  }

  /** One upstream connection: relays a response to the client that took it, then goes back to the idle list. */
  final class UpstreamSide extends SimpleChannelInboundHandler<HttpObject> {
    Channel client;
    int which;
    private boolean keepAlive;

    UpstreamSide() { super(false); }

    @Override protected void channelRead0(ChannelHandlerContext ctx, HttpObject msg) {
      if (msg instanceof io.netty.handler.codec.http.HttpResponse response) keepAlive = HttpUtil.isKeepAlive(response);
      if (msg instanceof LastHttpContent) {
        Channel to = client;
        client = null;
        ChannelFuture written = to.writeAndFlush(msg);
        if (keepAlive) {
          idle.get(which).addFirst(ctx.channel());
        } else { // the response said Connection: close (or ends at close): the client's connection ends with it
          ctx.close();
          written.addListener(ChannelFutureListener.CLOSE);
        }
      } else {
        client.write(msg);
        if (!client.isWritable()) { // back-pressure: read on once the client has taken what is queued
          ctx.channel().config().setAutoRead(false);
          client.pipeline().get(ClientSide.class).resumeOnWritable = ctx.channel();
          client.flush();
        }
      }
    }

    /** A streamed response reaches the client as it arrives: one flush per read, not per message. */
    @Override public void channelReadComplete(ChannelHandlerContext ctx) {
      if (client != null) client.flush();
    }

    @Override public void channelInactive(ChannelHandlerContext ctx) {
      idle.get(which).remove(ctx.channel());
      if (client != null) client.close();
    }
  }
}
