package dev.fairway.proxy;

import dev.fairway.config.FairwayOptions;

import java.util.Comparator;

/**
 * Longest-prefix match over the configured routes (a route may also require methods or a Host), with the top-level
 * settings as the catch-all "/" route. Among routes of the same prefix, the more specific goes first (a host, then
 * methods), then the config's order.
 */
final class RouteTable {

  private final Route[] routes;
  private final Route fallback;
  private final boolean byHost;

  RouteTable(FairwayOptions options, RateLimiters limiters) {
    fallback = Route.of("/", options.getTimeouts(), options.getLimits(), options.getJobs(), limiters);
    routes = options.getRoutes().stream()
      .map(r -> Route.of(r, options.getJobs(), limiters))
      .sorted(Comparator.comparingInt((Route r) -> r.prefix().length()).thenComparingInt(RouteTable::specificity).reversed())
      .toArray(Route[]::new);
    byHost = java.util.Arrays.stream(routes).anyMatch(r -> r.host() != null);
  }

  /** Whether a route names a host: if none does, a request's host need not be worked out to match one. */
  boolean byHost() {
    return byHost;
  }

  /** Among routes of one prefix, one that names a host, then one that names methods, goes before a plain one. */
  private static int specificity(Route r) {
    return (r.host() != null ? 2 : 0) + (r.methods().isEmpty() ? 0 : 1);
  }

  /** @param host the request's host without port, or null */
  Route match(String path, String method, String host) {
    if (path != null) {
      for (Route r : routes) {
        if (r.matches(path, method, host)) return r;
      }
    }
    return fallback;
  }
}
