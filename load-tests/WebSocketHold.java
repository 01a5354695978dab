import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * For websockets.sh: a WebSocket echo upstream on UPSTREAM_PORT, and N WebSockets opened to it through a proxy on
 * PROXY_PORT, as a browser opens them (offering permessage-deflate), each echoing MESSAGES 1 KiB text messages, one
 * after another (default 1); prints
 * "ready" once every echo is back, holds them HOLD_SECONDS and exits, which closes them. Loopback only; at most
 * 200 handshakes at a time, 120 s to open.
 *
 * Run from the fat jar's classes: java -cp target/fairway.jar load-tests/WebSocketHold.java UPSTREAM_PORT PROXY_PORT N HOLD_SECONDS [MESSAGES]
 * (with PROXY_PORT 0 it only serves the upstream, until killed).
 */
public class WebSocketHold {
  public static void main(String[] args) throws Exception {
    int upstreamPort = Integer.parseInt(args[0]);
    int proxyPort = Integer.parseInt(args[1]);
    Vertx vertx = Vertx.vertx();
    vertx.createHttpServer(new HttpServerOptions().setHost("127.0.0.1"))
      .webSocketHandler(ws -> ws.textMessageHandler(ws::writeTextMessage))
      .requestHandler(req -> req.response().end("ok\n"))
      .listen(upstreamPort).await(10, TimeUnit.SECONDS);
    if (proxyPort == 0) {
      System.out.println("serving " + upstreamPort);
      return;
    }
    int n = Integer.parseInt(args[2]);
    long holdMillis = (long) (Double.parseDouble(args[3]) * 1000);
    WebSocketClient client = vertx.createWebSocketClient(new WebSocketClientOptions()
      .setTryUsePerMessageCompression(true).setMaxConnections(n + 1).setConnectTimeout(10_000));
    int messages = args.length > 4 ? Integer.parseInt(args[4]) : 1;
    List<WebSocket> open = new ArrayList<>();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
    for (int started = 0; started < n; ) {
      int batch = Math.min(200, n - started);
      List<Future<WebSocket>> echoed = new ArrayList<>();
      for (int i = 0; i < batch; i++) {
        echoed.add(client.connect(proxyPort, "127.0.0.1", "/hold").compose(ws -> echo(ws, messages)));
      }
      for (WebSocket ws : Future.all(echoed).await(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)
        .<WebSocket>list()) {
        open.add(ws);
      }
      started += batch;
    }
    String extensions = open.get(0).headers() == null ? "" : String.valueOf(open.get(0).headers().get("Sec-WebSocket-Extensions"));
    System.out.println("ready " + open.size() + " extensions: " + extensions);
    Thread.sleep(holdMillis);
    System.exit(0); // the sockets close with the process
  }

  /** Sends {@code left} messages, each once the one before came back: text like a stream of tokens. */
  private static Future<WebSocket> echo(WebSocket ws, int left) {
    if (left == 0) return Future.succeededFuture(ws);
    StringBuilder text = new StringBuilder();
    for (int i = 0; text.length() < 1024; i++) text.append("{\"token\":\"w").append(left * 31 + i).append("\"} ");
    io.vertx.core.Promise<Void> back = io.vertx.core.Promise.promise();
    ws.textMessageHandler(t -> back.tryComplete());
    return ws.writeTextMessage(text.substring(0, 1024)).compose(v -> back.future()).compose(v -> echo(ws, left - 1));
  }
}
