package dev.fairway.proxy;

import dev.fairway.balancer.Candidates;
import dev.fairway.balancer.Strategy;
import dev.fairway.config.StrategyName;
import dev.fairway.metrics.ProxyMetrics;
import dev.fairway.upstream.Capacities;
import dev.fairway.upstream.InFlightCounters;
import dev.fairway.upstream.Upstream;
import dev.fairway.upstream.UpstreamSet;
import io.vertx.core.net.SocketAddress;

import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/** The eligible origins of one group in one snapshot and the strategy over them; rebuilt with each snapshot. */
final class OriginPool {

  private final Origin[] origins;
  private final Strategy strategy;
  private final StrategyName strategyName;

  OriginPool(UpstreamSet set, String group, boolean panicTryAll, InFlightCounters counters, ProxyMetrics metrics,
             Capacities capacities) {
    List<Upstream> eligible = set.eligible(group, panicTryAll);
    int n = eligible.size();
    origins = new Origin[n];
    String[] ids = new String[n];
    int[] weights = new int[n];
    int[] maxConns = new int[n];
    AtomicInteger[] inFlight = new AtomicInteger[n];
    Capacities.Reported[] reported = new Capacities.Reported[n];
    AtomicInteger[] elsewhere = new AtomicInteger[n];
    AtomicInteger[] lent = new AtomicInteger[n];
    for (int i = 0; i < n; i++) {
      Upstream u = eligible.get(i);
      origins[i] = new Origin(u, SocketAddress.inetSocketAddress(u.port(), u.host()), counters.of(u.id()),
        metrics.forUpstream(u.id()));
      ids[i] = u.id();
      weights[i] = u.weight();
      maxConns[i] = u.nodeMaxConns(); // in a cluster, this node's share
      inFlight[i] = origins[i].inFlight();
      reported[i] = capacities == null ? null : capacities.of(u.id());
      elsewhere[i] = counters.elsewhere(u.id());
      lent[i] = counters.lent(u.id());
    }
    strategyName = StrategyName.parseOrDefault(set.strategies().get(group));
    strategy = Strategy.create(strategyName, new Candidates(ids, weights, maxConns, inFlight, reported, elsewhere, lent), counters::next);
  }

  /** @return an origin whose in-flight slot is already claimed, or null if none is eligible or all are full */
  Origin pick(String key) {
    int i = strategy.pick(key);
    return i < 0 ? null : origins[i];
  }

  StrategyName strategy() {
    return strategyName;
  }

  int size() {
    return origins.length;
  }

  /** Requests the group's eligible upstreams take at once: their max-conns (one for an upstream without a limit). */
  int slots() {
    int slots = 0;
    for (Origin o : origins) slots += Math.max(1, o.upstream().nodeMaxConns());
    return Math.max(1, slots);
  }
}
