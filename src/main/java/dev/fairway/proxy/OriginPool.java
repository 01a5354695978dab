package dev.fairway.proxy;

import dev.fairway.balancer.Strategy;
import dev.fairway.config.StrategyName;
import dev.fairway.metrics.ProxyMetrics;
import dev.fairway.upstream.InFlightCounters;
import dev.fairway.upstream.Upstream;
import dev.fairway.upstream.UpstreamSet;
import io.vertx.core.net.SocketAddress;

import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/** The healthy origins of one snapshot and the strategy over them; rebuilt when a new snapshot arrives. */
final class OriginPool {

  private final Origin[] origins;
  private final Strategy strategy;

  OriginPool(UpstreamSet set, InFlightCounters counters, ProxyMetrics metrics) {
    List<Upstream> healthy = set.healthy();
    origins = new Origin[healthy.size()];
    int[] weights = new int[origins.length];
    AtomicInteger[] inFlight = new AtomicInteger[origins.length];
    for (int i = 0; i < origins.length; i++) {
      Upstream u = healthy.get(i);
      origins[i] = new Origin(u, SocketAddress.inetSocketAddress(u.port(), u.host()), counters.of(u.id()),
        metrics.forUpstream(u.id()));
      weights[i] = u.weight();
      inFlight[i] = origins[i].inFlight();
    }
    strategy = Strategy.create(StrategyName.parseOrDefault(set.strategy()), weights, inFlight, counters::next);
  }

  /** @return an origin whose in-flight slot is already claimed, or null if no upstream is healthy */
  Origin pick() {
    int i = strategy.pick();
    return i < 0 ? null : origins[i];
  }

  int size() {
    return origins.length;
  }
}
