package dev.fairway.proxy;

import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.WebSocketBase;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketConnectOptions;

import java.util.Map;

/**
 * Proxies one WebSocket: opens the upstream side first (so a refusal becomes a 502 for the client), then accepts
 * the client and relays data frames both ways with back-pressure: a slow reader pauses the other side instead of
 * growing a buffer. Either side closing closes the other with its status code. The client's requested sub-protocols
 * go upstream and the upstream's choice comes back (a Vert.x client fails the handshake if the upstream picks none
 * of those requested, so that is a 502, as a browser would fail it too).
 */
final class WebSocketRelay {

  private static final String SUB_PROTOCOL = "Sec-WebSocket-Protocol";

  private WebSocketRelay() {
  }

  /** @return completes when both sides are connected; fails if the upstream refused */
  static Future<Void> open(HttpServerRequest req, WebSocketClient client, Origin origin, MultiMap forwarded, Runnable onClose) {
    req.pause();
    // the WebSocket client connects to host:port (it has no separate server address); the client's Host travels in
    // X-Forwarded-Host, as with every proxied request
    WebSocketConnectOptions options = new WebSocketConnectOptions()
      .setHost(origin.upstream().host())
      .setPort(origin.upstream().port())
      .setURI(req.uri());
    String requested = req.getHeader(SUB_PROTOCOL);
    if (requested != null) {
      for (String p : requested.split(",")) {
        if (!p.isBlank()) options.addSubProtocol(p.trim());
      }
    }
    for (Map.Entry<String, String> h : forwarded) {
      String name = h.getKey().toLowerCase();
      if (!name.startsWith("sec-websocket-") && !name.equals("host")) {
        options.addHeader(h.getKey(), h.getValue());
      }
    }
    return client.connect(options).compose(upstream -> acceptWithSubProtocol(req, upstream.subProtocol()).map(downstream -> {
      relay(downstream, upstream);
      relay(upstream, downstream);
      boolean[] closed = {false};
      Runnable closeBoth = () -> {
        if (closed[0]) return;
        closed[0] = true;
        onClose.run();
      };
      downstream.closeHandler(v -> {
        closeBoth.run();
        if (!upstream.isClosed()) upstream.close(status(downstream), downstream.closeReason());
      });
      upstream.closeHandler(v -> {
        closeBoth.run();
        if (!downstream.isClosed()) downstream.close(status(upstream), upstream.closeReason());
      });
      return (Void) null;
    }), err -> {
      req.response().setStatusCode(502).putHeader(HttpHeaders.CONTENT_TYPE, "text/plain; charset=utf-8")
        .end("upstream refused the WebSocket\n");
      onClose.run();
      return Future.failedFuture(err);
    });
  }

  /**
   * Accepts the client with the sub-protocol the upstream chose. The server is configured to accept any ("*"), and
   * Netty picks the first requested one it accepts: leaving only the upstream's choice in the request makes that
   * the answer.
   */
  private static Future<io.vertx.core.http.ServerWebSocket> acceptWithSubProtocol(HttpServerRequest req, String chosen) {
    if (chosen == null) {
      req.headers().remove(SUB_PROTOCOL);
    } else {
      req.headers().set(SUB_PROTOCOL, chosen);
    }
    return req.toWebSocket();
  }

  private static short status(WebSocketBase ws) {
    Short code = ws.closeStatusCode();
    return code == null || code == 1005 || code == 1006 ? 1000 : code;
  }

  /** Data frames only: each side answers pings and closes itself. */
  private static void relay(WebSocketBase from, WebSocketBase to) {
    from.frameHandler(frame -> {
      if (!(frame.isText() || frame.isBinary() || frame.isContinuation())) return; // control frames: each side does its own
      to.writeFrame(frame);
      if (to.writeQueueFull()) {
        from.pause();
        to.drainHandler(v -> from.resume());
      }
    });
  }
}
