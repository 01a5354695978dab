package dev.fairway.proxy;

import dev.fairway.accesslog.RequestIds;
import dev.fairway.bus.UpstreamFailure;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.http.UpgradeRejectedException;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketBase;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.http.WebSocketFrame;

import java.util.HashMap;
import java.util.Map;

/**
 * Proxies one WebSocket: picks an upstream (its slot is held until the connection closes), opens the upstream side
 * first (so a refusal becomes a 502 for the client), then accepts the client and relays data frames both ways with
 * back-pressure: a slow reader pauses the other side instead of growing a buffer. Either side closing closes the
 * other with its status code. The client's requested sub-protocols go upstream and the upstream's choice comes back
 * (a Vert.x client fails the handshake if the upstream picks none of those requested, so that is a 502, as a browser
 * would fail it too).
 */
final class WebSocketRelay {

  private static final String SUB_PROTOCOL = "Sec-WebSocket-Protocol";

  private final ProxyInstance proxy;
  private final WebSocketClient client;
  /** Upstream connections a WebSocket may hold per upstream (pool-size): the client's own limit would queue the rest. */
  private final int poolSize;
  /** Open upstream WebSockets of this instance, by upstream id (on this instance's event loop only). */
  private final Map<String, Integer> open = new HashMap<>();

  /** @param client a WebSocket client whose connection limit per upstream is {@code poolSize} */
  WebSocketRelay(ProxyInstance proxy, WebSocketClient client, int poolSize) {
    this.proxy = proxy;
    this.client = client;
    this.poolSize = poolSize;
  }

  /** @param peer the TCP peer's address as text, as the request's exchange would get it ({@link ForwardedHeaders#peer}) */
  void open(HttpServerRequest req, RequestTarget target, String peer) {
    ProxySettings settings = proxy.settings();
    Route route = settings.route(req, target);
    String clientAddress = settings.client(req, peer);
    if (!RateLimiter.admits(route.rateLimiter(), req, clientAddress)) { // an upgrade is a request of its route
      proxy.metrics().rejected(Failure.RATE_LIMITED.code());
      proxy.clientDeadlines().requestEnded(req.connection());
      ErrorReply.send(req, Failure.RATE_LIMITED, null, null, false);
      return;
    }
    UpstreamSelector selector = proxy.selector();
    Origin origin = selector.pick(route.group(), selector.hashKey(route.group(), req, clientAddress));
    if (origin == null) {
      proxy.refuse(req, Failure.NO_HEALTHY_UPSTREAM, "for a WebSocket");
      return;
    }
    if (open.getOrDefault(origin.id(), 0) >= poolSize) { // answered now, as a request is, rather than left waiting
      release(origin);
      proxy.clientDeadlines().requestEnded(req.connection());
      ErrorReply.send(req, Failure.POOL_FULL, "(" + poolSize + " WebSockets to " + origin.id() + ")", null, false);
      return;
    }
    open.merge(origin.id(), 1, Integer::sum);
    proxy.metrics().webSockets().incrementAndGet();
    MultiMap forwarded = HttpHeaders.headers();
    ForwardedHeaders.copyRequest(req, target.authority(), clientAddress, peer, RequestIds.keepOrCreate(req.getHeader(ForwardedHeaders.X_REQUEST_ID)),
      settings.dropUnderscoreHeaders(), forwarded);
    route.requestHeaders().apply(forwarded); // the route's rules hold for its upgrades too
    Runnable onClose = () -> {
      open.computeIfPresent(origin.id(), (id, n) -> n == 1 ? null : n - 1);
      proxy.metrics().webSockets().decrementAndGet();
      release(origin);
    };
    req.pause();
    client.connect(connectOptions(req, target, origin, forwarded)).onComplete(connected -> {
      if (connected.failed()) {
        proxy.clientDeadlines().requestEnded(req.connection());
        upstreamFailed(req, origin, connected.cause());
        onClose.run();
        return;
      }
      WebSocket upstream = connected.result();
      HttpConnection connection = req.connection();
      acceptWithSubProtocol(req, upstream.subProtocol()).onComplete(accepted -> {
        if (accepted.succeeded()) {
          // Vert.x never closes an upgraded connection, only its WebSocket: so the client connection ends with it
          relay(accepted.result(), upstream, onClose, () -> proxy.clientDeadlines().closed(connection));
        } else { // the client's handshake was malformed, and Vert.x has answered it: the upstream side goes too
          proxy.clientDeadlines().requestEnded(connection);
          upstream.close();
          onClose.run();
        }
      });
    });
  }

  /** Gives back the upstream slot the pick took, so that a request waiting for one can have it. */
  private void release(Origin origin) {
    origin.inFlight().decrementAndGet();
    proxy.queue().drain();
  }

  private void upstreamFailed(HttpServerRequest req, Origin origin, Throwable err) {
    // an upstream that answers the upgrade with a status of its own (say 404) is working: the request was wrong
    Failure failure = err instanceof UpgradeRejectedException ? Failure.WEBSOCKET_DECLINED : Failure.WEBSOCKET_UNREACHABLE;
    if (failure.countsAgainstUpstream()) proxy.reportFailure(origin.id(), UpstreamFailure.describe(err));
    String detail = err instanceof UpgradeRejectedException rejected ? "(it answered " + rejected.getStatus() + ")" : null;
    ErrorReply.send(req, failure, detail, null, false);
  }

  /**
   * The WebSocket client connects to host:port (it has no separate server address); the client's Host travels in
   * X-Forwarded-Host, as with every proxied request.
   */
  private static WebSocketConnectOptions connectOptions(HttpServerRequest req, RequestTarget target, Origin origin, MultiMap forwarded) {
    WebSocketConnectOptions options = new WebSocketConnectOptions()
      .setHost(origin.upstream().host())
      .setPort(origin.upstream().port())
      .setURI(target.uri());
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
    return options;
  }

  /**
   * Accepts the client with the sub-protocol the upstream chose. The server is configured to accept any ("*"), and
   * Netty picks the first requested one it accepts: leaving only the upstream's choice in the request makes that
   * the answer.
   */
  private static Future<ServerWebSocket> acceptWithSubProtocol(HttpServerRequest req, String chosen) {
    if (chosen == null) {
      req.headers().remove(SUB_PROTOCOL);
    } else {
      req.headers().set(SUB_PROTOCOL, chosen);
    }
    return req.toWebSocket();
  }

  /** @param onClientClosed run once the client's side has closed */
  private static void relay(WebSocketBase downstream, WebSocketBase upstream, Runnable onClose, Runnable onClientClosed) {
    relayFrames(downstream, upstream);
    relayFrames(upstream, downstream);
    boolean[] closed = {false};
    Runnable closeBoth = () -> {
      if (closed[0]) return;
      closed[0] = true;
      onClose.run();
    };
    downstream.closeHandler(v -> {
      closeBoth.run();
      onClientClosed.run();
      if (!upstream.isClosed()) upstream.close(status(downstream), downstream.closeReason());
    });
    upstream.closeHandler(v -> {
      closeBoth.run();
      if (!downstream.isClosed()) downstream.close(status(upstream), upstream.closeReason());
    });
  }

  private static short status(WebSocketBase ws) {
    Short code = ws.closeStatusCode();
    return code == null || code == 1005 || code == 1006 ? 1000 : code;
  }

  /** Data frames only: each side answers pings and closes itself. */
  private static void relayFrames(WebSocketBase from, WebSocketBase to) {
    from.frameHandler(BodyPump.<WebSocketFrame>between(from, to, frame -> {
      if (!(frame.isText() || frame.isBinary() || frame.isContinuation())) return false;
      to.writeFrame(frame);
      return true;
    }));
  }
}
