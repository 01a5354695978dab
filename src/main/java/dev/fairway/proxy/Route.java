package dev.fairway.proxy;

import dev.fairway.config.GroupOptions;
import dev.fairway.config.HeaderRules;
import dev.fairway.config.JobOptions;
import dev.fairway.config.RequestLimitOptions;
import dev.fairway.config.RouteOptions;
import dev.fairway.config.TimeoutOptions;

import java.util.Set;

/**
 * A route flattened for the request path: what it matches, its group, timeouts, body limit, header rules, and its
 * client limits (a shared {@link RateLimiter} or null, the lowest upload rate or 0), its jobs block (null: its
 * requests are not jobs), the silence before an SSE heartbeat (0: none) and the interval of queue events (0: none).
 */
record Route(String prefix, Set<String> methods, String host, String group, long connectMillis, long readMillis,
             long sendMillis, long totalMillis, long maxBodyBytes, HeaderRules requestHeaders, HeaderRules responseHeaders,
             RateLimiter rateLimiter, long minUploadBytesPerSecond, long uploadWindowMillis, JobOptions jobs,
             long sseHeartbeatMillis, long queueEventsMillis, boolean direct) {

  static Route of(String prefix, TimeoutOptions t, RequestLimitOptions limits, JobOptions jobs, RateLimiters limiters) {
    RateLimiter limiter = limiters.of(prefix, limits);
    JobOptions routeJobs = jobsOf(jobs);
    return new Route(prefix, Set.of(), null, GroupOptions.DEFAULT, t.getConnectMillis(), t.getReadMillis(), t.getSendMillis(), t.getTotalMillis(),
      t.getMaxBodyBytes(), HeaderRules.NONE, HeaderRules.NONE, limiter, limits.getMinUploadBytesPerSecond(),
      limits.getUploadWindowMillis(), routeJobs, t.getSseHeartbeatMillis(), 0,
      DirectHttp1.takesRoute(routeJobs, 0, limiter, HeaderRules.NONE, HeaderRules.NONE));
  }

  static Route of(RouteOptions r, JobOptions topJobs, RateLimiters limiters) {
    TimeoutOptions t = r.getTimeouts();
    String id = r.getPath() + ' ' + r.getMethods() + ' ' + r.getHost();
    RateLimiter limiter = limiters.of(id, r.getLimits());
    JobOptions routeJobs = jobsOf(r.getJobs() != null ? r.getJobs() : topJobs);
    long queueEvents = r.isQueueEvents() ? r.getQueueEventsIntervalMillis() : 0;
    return new Route(r.getPath(), r.getMethods(), r.getHost(), r.getGroup(), t.getConnectMillis(), t.getReadMillis(), t.getSendMillis(),
      t.getTotalMillis(), t.getMaxBodyBytes(), r.getRequestHeaders(), r.getResponseHeaders(), limiter,
      r.getLimits().getMinUploadBytesPerSecond(), r.getLimits().getUploadWindowMillis(), routeJobs,
      t.getSseHeartbeatMillis(), queueEvents,
      DirectHttp1.takesRoute(routeJobs, queueEvents, limiter, r.getRequestHeaders(), r.getResponseHeaders()));
  }

  /** Whether a waiting client that accepts an event stream hears of its place in the queue. */
  boolean queueEvents() {
    return queueEventsMillis > 0;
  }

  /** The route's requests feed the duration window that estimates waits: they may wait visibly, or be jobs. */
  boolean estimatesWaits() {
    return queueEventsMillis > 0 || jobs != null;
  }

  private static JobOptions jobsOf(JobOptions jobs) {
    return jobs.isEnabled() ? jobs : null;
  }

  boolean matches(String path, String method, String requestHost) {
    return path.startsWith(prefix)
      && (methods.isEmpty() || methods.contains(method))
      && (host == null || host.equalsIgnoreCase(requestHost));
  }
}
