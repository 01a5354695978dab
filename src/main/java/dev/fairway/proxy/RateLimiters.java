package dev.fairway.proxy;

import dev.fairway.config.RequestLimitOptions;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The rate limiters of all routes, shared by every proxy instance so that a client's requests count once whichever
 * instance takes them; a reload that keeps a route's limit keeps its buckets.
 */
public final class RateLimiters {

  private final Map<String, RateLimiter> byRoute = new ConcurrentHashMap<>();

  /** The limiter of the route at {@code path} with {@code limits}, or null when it has no rate limit. */
  RateLimiter of(String path, RequestLimitOptions limits) {
    if (!limits.rateLimited()) return null;
    String id = path + '|' + limits.getRatePerSecond() + '|' + limits.getBurst() + '|' + limits.getKey();
    return byRoute.computeIfAbsent(id, k -> new RateLimiter(limits));
  }
}
