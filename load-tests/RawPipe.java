import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.util.ByteProcessor;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * The floor for run.sh's and idle.sh's "raw-pipe" target: about the least an HTTP/1.1 proxy on Netty can do. No HTTP
 * codec and no message objects: a request's head is found by its blank line and goes upstream as the bytes it came
 * in; a response goes back as the bytes it came in, its end found from its Content-Length. One event loop, keep-alive
 * upstream connections, round-robin. Requests without a body and responses with a Content-Length only (what the
 * benchmarks' backends send); anything else closes the client's connection. An idle client connection holds Netty's
 * channel and one small handler. No header is read beyond those two, none is added, nothing is checked: CPU per
 * request and memory per connection below this are out of reach of any proxy on Netty on this JVM.
 *
 * Run from the fat jar's classes: java -cp target/fairway.jar load-tests/RawPipe.java PORT UPSTREAM_PORT...
 */
public class RawPipe {
  private static final int MAX_HEAD = 64 * 1024;
  private final int[] upstreams;
  private final List<ArrayDeque<Channel>> idle = new ArrayList<>();
  private final Bootstrap connector;
  private int next;

  RawPipe(int[] upstreams, EventLoop loop) {
    this.upstreams = upstreams;
    for (int ignored : upstreams) idle.add(new ArrayDeque<>());
    connector = new Bootstrap().group(loop).channel(EpollSocketChannel.class).option(ChannelOption.TCP_NODELAY, true)
      .handler(new ChannelInitializer<Channel>() {
        @Override protected void initChannel(Channel ch) {
          ch.pipeline().addLast(new UpstreamSide());
        }
      });
  }

  public static void main(String[] args) throws Exception {
    int port = Integer.parseInt(args[0]);
    int[] upstreams = new int[args.length - 1];
    for (int i = 1; i < args.length; i++) upstreams[i - 1] = Integer.parseInt(args[i]);
    MultiThreadIoEventLoopGroup group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
    RawPipe pipe = new RawPipe(upstreams, group.next());
    new ServerBootstrap().group(group).channel(EpollServerSocketChannel.class).option(ChannelOption.SO_BACKLOG, 1024)
      .childOption(ChannelOption.TCP_NODELAY, true)
      .childHandler(new ChannelInitializer<Channel>() {
        @Override protected void initChannel(Channel ch) {
          ch.pipeline().addLast(pipe.new ClientSide());
        }
      }).bind("127.0.0.1", port).sync();
    System.out.println("raw-pipe on " + port);
  }

  /** The index just past a head's blank line in {@code buf}'s readable bytes, or -1 while it is not all there. */
  static int headEnd(ByteBuf buf) {
    int from = buf.readerIndex(), to = buf.writerIndex();
    while (true) {
      int lf = buf.forEachByte(from, to - from, ByteProcessor.FIND_LF);
      if (lf < 0) return -1;
      if (lf + 2 >= to) return -1;
      if (buf.getByte(lf + 1) == '\r' && buf.getByte(lf + 2) == '\n') return lf + 3;
      from = lf + 1;
    }
  }

  /** The value of header {@code name} (lower case, with its colon) in the head at [from, to) as a number; -1 if absent. */
  static long header(ByteBuf buf, int from, int to, String name) {
    int line = buf.forEachByte(from, to - from, ByteProcessor.FIND_LF) + 1; // past the start line
    while (line > 0 && line < to) {
      int end = buf.forEachByte(line, to - line, ByteProcessor.FIND_LF);
      if (end < 0) return -1;
      if (end - line > name.length() && startsWithIgnoringCase(buf, line, name)) {
        long value = 0;
        for (int i = line + name.length(); i < end; i++) {
          byte b = buf.getByte(i);
          if (b >= '0' && b <= '9') value = value * 10 + (b - '0');
          else if (b != ' ' && b != '\t' && b != '\r') return Long.MAX_VALUE; // not a plain number: unhandled here
        }
        return value;
      }
      line = end + 1;
    }
    return -1;
  }

  private static boolean startsWithIgnoringCase(ByteBuf buf, int at, String lowerName) {
    for (int i = 0; i < lowerName.length(); i++) {
      int b = buf.getByte(at + i);
      if (b >= 'A' && b <= 'Z') b += 'a' - 'A';
      if (b != lowerName.charAt(i)) return false;
    }
    return true;
  }

  /** One client connection: the bytes of its requests, one at a time, each to an upstream connection taken for it. */
  final class ClientSide extends ChannelInboundHandlerAdapter {
    /** Bytes read and not yet sent: a head not yet whole, or the next request while one is in flight. */
    private ByteBuf pending;
    /** The upstream connection of the request in flight; null between requests. */
    Channel upstream;

    @Override public void channelRead(ChannelHandlerContext ctx, Object msg) {
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
      if (upstream == null) next(ctx);
    }

    /** Sends the next whole request head upstream, if one is there. */
    void next(ChannelHandlerContext ctx) {
      if (pending == null) return;
      int end = headEnd(pending);
      if (end < 0) {
        if (pending.readableBytes() > MAX_HEAD) ctx.close();
        return;
      }
      int start = pending.readerIndex();
      if (header(pending, start, end, "content-length:") > 0 || header(pending, start, end, "transfer-encoding:") >= 0) {
        ctx.close(); // a request body: beyond this floor
        return;
      }
      ByteBuf head = pending.readRetainedSlice(end - start);
      if (!pending.isReadable()) {
        pending.release();
        pending = null;
      }
      int which = next++ % upstreams.length;
      Channel reused = idle.get(which).pollFirst();
      if (reused != null) {
        send(reused, head, ctx.channel(), which);
      } else {
        upstream = ctx.channel(); // a placeholder: no next request before this one is answered
        connector.connect("127.0.0.1", upstreams[which]).addListener((ChannelFutureListener) f -> {
          if (!f.isSuccess()) {
            head.release();
            ctx.close();
            return;
          }
          send(f.channel(), head, ctx.channel(), which);
        });
      }
    }

    private void send(Channel up, ByteBuf head, Channel client, int which) {
      UpstreamSide side = (UpstreamSide) up.pipeline().first();
      side.client = client;
      side.which = which;
      upstream = up;
      up.writeAndFlush(head);
    }

    @Override public void channelInactive(ChannelHandlerContext ctx) {
      if (pending != null) pending.release();
      pending = null;
      if (upstream != null && upstream != ctx.channel()) upstream.close(); // mid-response: its rest is not wanted
    }
  }

  /** One upstream connection: relays a response's bytes to the client that took it, then waits in the idle list. */
  final class UpstreamSide extends ChannelInboundHandlerAdapter {
    Channel client;
    int which;
    /** Body bytes still to come; -1 while the head is read. */
    private long remaining = -1;

    @Override public void channelRead(ChannelHandlerContext ctx, Object msg) {
      ByteBuf in = (ByteBuf) msg;
      if (client == null) { // nothing asked: an upstream that talks out of turn is not reused
        in.release();
        ctx.close();
        return;
      }
      if (remaining < 0) {
        int end = headEnd(in);
        long length = end < 0 ? -1 : header(in, in.readerIndex(), end, "content-length:");
        if (length < 0 || length == Long.MAX_VALUE) { // a head split across reads, or no plain length: beyond this floor
          in.release();
          ctx.close();
          return;
        }
        remaining = length - (in.writerIndex() - end);
      } else {
        remaining -= in.readableBytes();
      }
      Channel to = client;
      to.write(in);
      if (remaining <= 0) {
        remaining = -1;
        client = null;
        to.flush();
        idle.get(which).addFirst(ctx.channel());
        ClientSide side = (ClientSide) to.pipeline().first();
        side.upstream = null;
        side.next(to.pipeline().firstContext());
      }
    }

    /** A response longer than one read reaches the client as it arrives. */
    @Override public void channelReadComplete(ChannelHandlerContext ctx) {
      if (client != null) client.flush();
    }

    @Override public void channelInactive(ChannelHandlerContext ctx) {
      idle.get(which).remove(ctx.channel());
      if (client != null) client.close();
    }
  }
}
