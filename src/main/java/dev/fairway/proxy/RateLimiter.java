package dev.fairway.proxy;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.fairway.config.RequestLimitOptions;
import io.github.bucket4j.Bandwidth;
import io.github.bucket4j.Bucket;
import io.github.bucket4j.ConsumptionProbe;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;

import java.time.Duration;

/**
 * One route's {@code rate-limit}: a token bucket (Bucket4j, lock-free) per client address or per value of a header,
 * shared by every proxy instance. Buckets live in a bounded Caffeine cache and expire once unused long enough to have
 * refilled, so a client that comes back finds a full bucket either way.
 */
final class RateLimiter {

  private static final int MAX_CLIENTS = 100_000;

  private final Bandwidth bandwidth;
  private final String header;
  private final Cache<String, Bucket> buckets;

  RateLimiter(RequestLimitOptions limits) {
    long periodNanos = Math.max(1, Math.round(1e9 / limits.getRatePerSecond())); // one token per period
    bandwidth = Bandwidth.builder().capacity(limits.getBurst()).refillGreedy(1, Duration.ofNanos(periodNanos)).build();
    header = limits.getKey().startsWith("header:") ? limits.getKey().substring(7) : null;
    Duration refilled = Duration.ofNanos(Math.min(periodNanos * limits.getBurst(), Duration.ofDays(1).toNanos()));
    buckets = Caffeine.newBuilder().maximumSize(MAX_CLIENTS).expireAfterAccess(refilled.plusSeconds(1)).build();
  }

  /**
   * Takes a token for this request's client.
   *
   * @return 0 if the request may go, else the nanoseconds until the client's next token
   */
  long take(HttpServerRequest req, String client) {
    String key = header == null ? client : req.getHeader(header);
    if (key == null) key = client; // no such header: the client address is the key
    ConsumptionProbe probe = buckets.get(key, k -> Bucket.builder().addLimit(bandwidth).build()).tryConsumeAndReturnRemaining(1);
    return probe.isConsumed() ? 0 : Math.max(1, probe.getNanosToWaitForRefill());
  }

  /**
   * Whether a route with {@code limiter} (null: none) admits this request: takes a token for its client; when there is
   * none, puts Retry-After on the response (whole seconds until the client's next token, rounded up).
   */
  static boolean admits(RateLimiter limiter, HttpServerRequest req, String client) {
    long waitNanos = limiter == null ? 0 : limiter.take(req, client);
    if (waitNanos == 0) return true;
    req.response().putHeader(HttpHeaders.RETRY_AFTER, String.valueOf((waitNanos + 999_999_999) / 1_000_000_000));
    return false;
  }
}
