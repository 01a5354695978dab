package dev.fairway.proxy;

import dev.fairway.jobs.JobStore;
import dev.fairway.metrics.ProxyMetrics;
import dev.fairway.ops.Lifecycle;
import dev.fairway.upstream.InFlightCounters;

/**
 * What every proxy instance of one Fairway shares in memory: the in-flight counters (with the balancer), the request
 * meters, the wait queue, the rate limiters and the client connection counts, and the lifecycle. Shared so that
 * least-conn, max-conns, rate limits and connection caps hold across instances without touching the bus.
 */
public record ProxyShared(InFlightCounters counters, ProxyMetrics metrics, RequestQueue queue, RateLimiters rateLimiters,
                          ClientConnections clientConnections, Lifecycle lifecycle, JobStore jobs, WaitEstimates waits,
                          RequestAges ages) {

  public static ProxyShared create(InFlightCounters counters, ProxyMetrics metrics, int queueSize, Lifecycle lifecycle, JobStore jobs) {
    return new ProxyShared(counters, metrics, new RequestQueue(queueSize), new RateLimiters(), new ClientConnections(), lifecycle, jobs,
      new WaitEstimates(), new RequestAges());
  }
}
