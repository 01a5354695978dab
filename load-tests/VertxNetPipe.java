import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.internal.net.NetSocketInternal;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetClientOptions;
import io.vertx.core.net.NetServerOptions;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * The reference point for run.sh's "vertx-net-pipe" target: netty-pipe's proxy (Netty's HTTP codecs, every decoded
 * message passed through, keep-alive upstream connections, round-robin, no features) on Vert.x's TCP server and client
 * instead of bare Netty: each connection is a Vert.x NetSocket on a Vert.x event loop, with Netty's HTTP codec put in
 * its pipeline ahead of Vert.x's handler, the way Vert.x's own database clients put their codecs. What this costs over
 * netty-pipe is what Vert.x's connections cost; what vertx-pipe costs over this is Vert.x's HTTP/1 layer.
 * Small requests only: no back-pressure, no timeouts, no error handling beyond closing.
 *
 * Run from the fat jar's classes: java -cp target/fairway.jar load-tests/VertxNetPipe.java PORT UPSTREAM_PORT...
 */
public class VertxNetPipe {
  private final int[] upstreams;
  private final List<ArrayDeque<UpstreamSide>> idle = new ArrayList<>();
  private final NetClient client;
  private int next;

  VertxNetPipe(Vertx vertx, int[] upstreams) {
    this.upstreams = upstreams;
    for (int ignored : upstreams) idle.add(new ArrayDeque<>());
    client = vertx.createNetClient(new NetClientOptions().setTcpNoDelay(true));
  }

  public static void main(String[] args) {
    int port = Integer.parseInt(args[0]);
    int[] upstreams = new int[args.length - 1];
    for (int i = 1; i < args.length; i++) upstreams[i - 1] = Integer.parseInt(args[i]);
    Vertx vertx = Vertx.vertx(new VertxOptions().setPreferNativeTransport(true).setEventLoopPoolSize(1));
    // the pipe's state is confined to the one event loop: everything runs on the server's context
    vertx.runOnContext(v -> {
      VertxNetPipe pipe = new VertxNetPipe(vertx, upstreams);
      vertx.createNetServer(new NetServerOptions().setTcpNoDelay(true).setAcceptBacklog(1024))
        .connectHandler(socket -> pipe.new ClientSide((NetSocketInternal) socket))
        .listen(port, "127.0.0.1")
        .onSuccess(s -> System.out.println("vertx-net-pipe on " + port + " (" + (vertx.isNativeTransportEnabled() ? "native" : "nio") + ")"))
        .onFailure(err -> { err.printStackTrace(); System.exit(1); });
    });
  }

  /**
   * Writes through the connection's pipeline and flushes at a message's end: Vert.x's writeMessage flushes each write
   * made outside a read of that same connection, three syscalls per response instead of one.
   */
  private static void write(NetSocketInternal socket, Object msg) {
    if (msg instanceof LastHttpContent) socket.channelHandlerContext().writeAndFlush(msg);
    else socket.channelHandlerContext().write(msg);
  }

  /** One client connection: forwards each request's messages to an upstream connection taken for that request. */
  final class ClientSide {
    private final NetSocketInternal socket;
    private UpstreamSide upstream;
    private final ArrayDeque<Object> pending = new ArrayDeque<>(); // until the upstream connection is up

    ClientSide(NetSocketInternal socket) {
      this.socket = socket;
      socket.channelHandlerContext().pipeline().addBefore("handler", "http", new HttpServerCodec());
      socket.messageHandler(this::onMessage);
      socket.closeHandler(v -> pending.forEach(ReferenceCountUtil::release));
    }

    private void onMessage(Object msg) {
      if (msg instanceof HttpRequest) {
        int which = next++ % upstreams.length;
        UpstreamSide reused = idle.get(which).pollFirst();
        if (reused != null) {
          take(reused);
        } else {
          client.connect(upstreams[which], "127.0.0.1").onComplete(ar -> {
            if (ar.failed()) { socket.close(); return; }
            take(new UpstreamSide((NetSocketInternal) ar.result(), which));
          });
        }
      }
      if (upstream == null) pending.add(msg);
      else forward(msg);
    }

    private void take(UpstreamSide up) {
      upstream = up;
      up.client = this;
      Object msg;
      while ((msg = pending.poll()) != null) forward(msg);
    }

    private void forward(Object msg) {
      write(upstream.socket, msg);
      if (msg instanceof LastHttpContent) upstream = null;
    }
  }

  /** One upstream connection: relays a response to the client that took it, then goes back to the idle list. */
  final class UpstreamSide {
    final NetSocketInternal socket;
    final int which;
    ClientSide client;
    private boolean keepAlive;

    UpstreamSide(NetSocketInternal socket, int which) {
      this.socket = socket;
      this.which = which;
      socket.channelHandlerContext().pipeline().addBefore("handler", "http", new HttpClientCodec());
      socket.messageHandler(this::onMessage);
      socket.closeHandler(v -> {
        idle.get(which).remove(this);
        if (client != null) client.socket.close();
      });
    }

    private void onMessage(Object msg) {
      if (msg instanceof HttpResponse response) keepAlive = HttpUtil.isKeepAlive(response);
      write(client.socket, msg);
      if (msg instanceof LastHttpContent) {
        client = null;
        if (keepAlive) idle.get(which).addFirst(this);
        else socket.close();
      }
    }
  }
}
