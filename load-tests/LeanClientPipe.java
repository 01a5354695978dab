import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.net.NetSocketInternal;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetClientOptions;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * The reference point for run.sh's "lean-client-pipe" target: vertx-pipe's server side (Vert.x's HttpServer, headers
 * copied both ways) with its upstream side on Netty's HTTP client codec over a Vert.x NetSocket (as vertx-net-pipe)
 * instead of Vert.x's HttpClient. What vertx-pipe costs over this is Vert.x's HTTP/1 client; what this costs over
 * vertx-net-pipe is Vert.x's HTTP/1 server. Bodiless requests only (it is measured with GETs): no request bodies,
 * no back-pressure, no timeouts, no error handling beyond a 502 or a close.
 *
 * Run from the fat jar's classes: java -cp target/fairway.jar load-tests/LeanClientPipe.java PORT UPSTREAM_PORT...
 */
public class LeanClientPipe {
  private final int[] upstreams;
  private final List<ArrayDeque<Upstream>> idle = new ArrayList<>();
  private final NetClient client;
  private int next;

  LeanClientPipe(Vertx vertx, int[] upstreams) {
    this.upstreams = upstreams;
    for (int ignored : upstreams) idle.add(new ArrayDeque<>());
    client = vertx.createNetClient(new NetClientOptions().setTcpNoDelay(true));
  }

  public static void main(String[] args) {
    int port = Integer.parseInt(args[0]);
    int[] upstreams = new int[args.length - 1];
    for (int i = 1; i < args.length; i++) upstreams[i - 1] = Integer.parseInt(args[i]);
    Vertx vertx = Vertx.vertx(new VertxOptions().setPreferNativeTransport(true).setEventLoopPoolSize(1));
    vertx.runOnContext(v -> {
      LeanClientPipe pipe = new LeanClientPipe(vertx, upstreams);
      vertx.createHttpServer(new HttpServerOptions().setTcpNoDelay(true).setAcceptBacklog(1024).setStrictThreadMode(true))
        .requestHandler(pipe::proxy)
        .listen(port, "127.0.0.1")
        .onSuccess(s -> System.out.println("lean-client-pipe on " + port + " (" + (vertx.isNativeTransportEnabled() ? "native" : "nio") + ")"))
        .onFailure(err -> { err.printStackTrace(); System.exit(1); });
    });
  }

  private void proxy(HttpServerRequest req) {
    int which = next++ % upstreams.length;
    Upstream reused = idle.get(which).pollFirst();
    if (reused != null) {
      reused.send(req);
      return;
    }
    req.pause();
    client.connect(upstreams[which], "127.0.0.1").onComplete(ar -> {
      if (ar.failed()) {
        req.response().setStatusCode(502).end();
        return;
      }
      new Upstream((NetSocketInternal) ar.result(), which).send(req);
    });
  }

  /** One kept-alive upstream connection: sends one request at a time and relays its response. */
  final class Upstream {
    final NetSocketInternal socket;
    final int which;
    private HttpServerResponse response;
    private boolean keepAlive;

    Upstream(NetSocketInternal socket, int which) {
      this.socket = socket;
      this.which = which;
      socket.channelHandlerContext().pipeline().addBefore("handler", "http", new HttpClientCodec());
      socket.messageHandler(this::onMessage);
      socket.closeHandler(v -> {
        idle.get(which).remove(this);
        if (response != null) response.reset();
      });
    }

    void send(HttpServerRequest req) {
      response = req.response();
      DefaultHttpRequest head = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.valueOf(req.method().name()), req.uri());
      req.headers().forEach(h -> head.headers().add(h.getKey(), h.getValue()));
      socket.channelHandlerContext().write(head);
      socket.channelHandlerContext().writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT);
    }

    private void onMessage(Object msg) {
      if (msg instanceof HttpResponse head) {
        keepAlive = HttpUtil.isKeepAlive(head);
        response.setStatusCode(head.status().code());
        head.headers().forEach(h -> response.headers().add(h.getKey(), h.getValue()));
      }
      if (msg instanceof HttpContent content) {
        ByteBuf bytes = content.content();
        boolean last = msg instanceof LastHttpContent;
        // copied to the heap as Vert.x's own client does with what it reads
        Buffer chunk = Buffer.buffer(ByteBufUtil.getBytes(bytes));
        bytes.release();
        if (last) response.end(chunk);
        else response.write(chunk);
        if (last) {
          response = null;
          if (keepAlive) idle.get(which).addFirst(this);
          else socket.close();
        }
      }
    }
  }
}
