package dev.fairway.proxy;

import dev.fairway.config.GroupOptions;
import dev.fairway.config.HeaderRules;
import dev.fairway.config.RouteOptions;
import dev.fairway.config.TimeoutOptions;

import java.util.Set;

/** A route flattened for the request path: what it matches, its group, timeouts, body limit and header rules. */
record Route(String prefix, Set<String> methods, String host, String group, long connectMillis, long readMillis,
             long sendMillis, long totalMillis, long maxBodyBytes, HeaderRules requestHeaders, HeaderRules responseHeaders) {

  static Route of(String prefix, TimeoutOptions t) {
    return new Route(prefix, Set.of(), null, GroupOptions.DEFAULT, t.getConnectMillis(), t.getReadMillis(), t.getSendMillis(), t.getTotalMillis(),
      t.getMaxBodyBytes(), HeaderRules.NONE, HeaderRules.NONE);
  }

  static Route of(RouteOptions r) {
    TimeoutOptions t = r.getTimeouts();
    return new Route(r.getPath(), r.getMethods(), r.getHost(), r.getGroup(), t.getConnectMillis(), t.getReadMillis(), t.getSendMillis(),
      t.getTotalMillis(), t.getMaxBodyBytes(), r.getRequestHeaders(), r.getResponseHeaders());
  }

  boolean matches(String path, String method, String requestHost) {
    return path.startsWith(prefix)
      && (methods.isEmpty() || methods.contains(method))
      && (host == null || host.equalsIgnoreCase(requestHost));
  }
}
