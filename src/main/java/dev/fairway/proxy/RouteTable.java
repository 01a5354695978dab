package dev.fairway.proxy;

import dev.fairway.config.FairwayOptions;

import java.util.Comparator;

/** Longest-prefix match over the configured routes, with the top-level timeouts as the catch-all "/" route. */
final class RouteTable {

  private final Route[] routes;
  private final Route fallback;

  RouteTable(FairwayOptions options) {
    fallback = Route.of("/", options.getTimeouts());
    routes = options.getRoutes().stream()
      .map(r -> Route.of(r.getPath(), r.getTimeouts()))
      .sorted(Comparator.comparingInt((Route r) -> r.prefix().length()).reversed())
      .toArray(Route[]::new);
  }

  Route match(String path) {
    if (path != null) {
      for (Route r : routes) {
        if (path.startsWith(r.prefix())) return r;
      }
    }
    return fallback;
  }
}
