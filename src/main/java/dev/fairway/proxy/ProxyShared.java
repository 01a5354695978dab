package dev.fairway.proxy;

import dev.fairway.jobs.JobStore;
import dev.fairway.metrics.ProxyMetrics;
import dev.fairway.ops.Lifecycle;
import dev.fairway.upstream.Capacities;
import dev.fairway.upstream.InFlightCounters;

/**
 * What every proxy instance of one Fairway shares in memory: the in-flight counters (with the balancer), the request
 * meters, the wait queue, the rate limiters and the client connection counts, the lifecycle, the jobs (null when no
 * route runs jobs), the recent request durations that estimate waits, the ages of requests in flight (for drains) and
 * the capacity upstreams report (with the health checks). Shared so that least-conn, max-conns, rate limits and
 * connection caps hold across instances without touching the bus.
 */
public record ProxyShared(InFlightCounters counters, ProxyMetrics metrics, RequestQueue queue, RateLimiters rateLimiters,
                          ClientConnections clientConnections, Lifecycle lifecycle, JobStore jobs, WaitEstimates waits,
                          RequestAges ages, Capacities capacities) {

  public static ProxyShared create(InFlightCounters counters, ProxyMetrics metrics, int queueSize, Lifecycle lifecycle, JobStore jobs) {
    RequestQueue queue = new RequestQueue(queueSize);
    Capacities capacities = new Capacities(counters);
    capacities.onChange(queue::drain); // a report that frees slots lets waiting requests go
    return new ProxyShared(counters, metrics, queue, new RateLimiters(), new ClientConnections(), lifecycle, jobs,
      new WaitEstimates(), new RequestAges(), capacities);
  }
}
