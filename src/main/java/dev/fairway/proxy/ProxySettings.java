package dev.fairway.proxy;

import dev.fairway.config.FairwayOptions;
import io.vertx.core.http.HttpServerRequest;

import java.util.Set;

/**
 * Everything a reload can change on the request path, as one immutable snapshot: a proxy instance swaps it on reload
 * and each exchange captures it once, so a request runs start to end under one set of rules (routes, retries, limits)
 * even when a reload lands halfway through it.
 */
record ProxySettings(RouteTable routes, ClientAddress clientAddress, int retries, int retryBuffer, long retryTimeoutMillis,
                     long queueTimeoutMillis, Set<Integer> failOnStatus, boolean dropUnderscoreHeaders,
                     long clientHeaderTimeoutMillis, long clientKeepAliveTimeoutMillis, long shortestReadMillis,
                     int maxConnections, int maxClientConnections, String queueFairness, String capacityHeader) {
  // capacityHeader in lower case, as the direct path matches header names (Vert.x's lookup ignores case)

  static ProxySettings of(FairwayOptions o, RateLimiters limiters) {
    long shortestRead = o.getRoutes().stream().mapToLong(r -> r.getTimeouts().getReadMillis())
      .reduce(o.getTimeouts().getReadMillis(), Math::min);
    return new ProxySettings(new RouteTable(o, limiters),
      o.getClients().getTrustedProxies().isEmpty() ? null : new ClientAddress(o.getClients().getTrustedProxies(), o.getClients().getClientIpHeader()),
      o.getRetry().getRetries(), o.getRetry().getBuffer(), o.getRetry().getTimeoutMillis(), o.getQueue().getTimeoutMillis(),
      Set.copyOf(o.getHealth().getFailOnStatus()), o.getClients().isDropUnderscoreHeaders(),
      o.getClients().getHeaderTimeoutMillis(), o.getClients().getKeepAliveTimeoutMillis(), shortestRead,
      o.getClients().getMaxConnections(), o.getClients().getMaxClientConnections(), o.getQueue().getFairness(),
      o.getHealth().getCapacityHeader() == null ? null : o.getHealth().getCapacityHeader().toLowerCase(java.util.Locale.ROOT));
  }

  /** Whether a request that has tried {@code tried} upstreams since {@code startNanos} may try one more. */
  boolean withinRetryBudget(int tried, long startNanos) {
    long elapsedMillis = (System.nanoTime() - startNanos) / 1_000_000;
    return tried <= retries && (retryTimeoutMillis == 0 || elapsedMillis < retryTimeoutMillis);
  }

  Route route(String path, String method, String host) {
    return routes.match(path, method, host);
  }

  /** Whether a route names a host ({@link RouteTable#byHost}). */
  boolean routesByHost() {
    return routes.byHost();
  }

  Route route(HttpServerRequest req, RequestTarget target) {
    return routes.match(target.path(), req.method().name(), target.authority() == null ? null : target.authority().host());
  }

  /** The line a waiting request joins ({@code queue-fairness}): its client's address, a header's value, or one for all. */
  String queueLine(HttpServerRequest req, String client) {
    if (queueFairness.equals("client-ip")) return client;
    if (queueFairness.equals("off")) return "";
    String value = req.getHeader(queueFairness.substring("header:".length()));
    return value == null ? "" : value;
  }

  /** The client's address: the peer, or what a trusted proxy in front says it is. */
  String client(HttpServerRequest req, String peer) {
    return clientAddress == null ? peer : clientAddress.of(req, peer);
  }
}
