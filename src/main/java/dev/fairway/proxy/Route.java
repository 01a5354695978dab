package dev.fairway.proxy;

import dev.fairway.config.TimeoutOptions;

/** A path prefix with the timeouts and body limit of requests under it, flattened for the request path. */
record Route(String prefix, long connectMillis, long readMillis, long sendMillis, long totalMillis, long maxBodyBytes) {

  static Route of(String prefix, TimeoutOptions t) {
    return new Route(prefix, t.getConnectMillis(), t.getReadMillis(), t.getSendMillis(), t.getTotalMillis(), t.getMaxBodyBytes());
  }
}
