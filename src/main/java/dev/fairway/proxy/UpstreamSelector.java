package dev.fairway.proxy;

import dev.fairway.config.FairwayOptions;
import dev.fairway.config.HashKey;
import dev.fairway.config.StrategyName;
import dev.fairway.metrics.ProxyMetrics;
import dev.fairway.upstream.Capacities;
import dev.fairway.upstream.InFlightCounters;
import dev.fairway.upstream.UpstreamSet;
import io.vertx.core.http.HttpServerRequest;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Picks upstreams for one proxy instance from local state: one {@link OriginPool} per group, rebuilt from each balancer
 * snapshot, and what the hashing strategies hash. A pick reads a volatile field and claims an in-flight slot with one
 * atomic operation: no lock, no I/O. Other instances pick through it too when they drain the shared queue.
 */
final class UpstreamSelector {

  private static final OriginPool EMPTY = new OriginPool(new UpstreamSet(0, Map.of(), List.of()), "none", false,
    new InFlightCounters(), null, null);

  private final InFlightCounters counters;
  private final ProxyMetrics metrics;
  private final Capacities capacities;
  private volatile Map<String, OriginPool> pools = Map.of();
  private volatile Map<String, HashKey> hashKeys = Map.of();
  private volatile boolean panicTryAll;

  UpstreamSelector(InFlightCounters counters, ProxyMetrics metrics, Capacities capacities) {
    this.counters = counters;
    this.metrics = metrics;
    this.capacities = capacities;
  }

  /** Takes the config's hash keys and panic mode (at start and on reload); pools follow at the next snapshot. */
  void configure(FairwayOptions options) {
    Map<String, HashKey> keys = new HashMap<>();
    options.allGroups().forEach(g -> {
      if (g.getHashKey() != null) keys.put(g.getName(), g.getHashKey());
    });
    hashKeys = Map.copyOf(keys);
    panicTryAll = options.getRetry().isPanicTryAll();
  }

  /** Rebuilds the pools from the balancer's latest snapshot. */
  void follow(UpstreamSet set) {
    Map<String, OriginPool> next = new HashMap<>();
    for (String group : set.strategies().keySet()) {
      next.put(group, new OriginPool(set, group, panicTryAll, counters, metrics, capacities));
    }
    pools = next;
  }

  /** An origin of {@code group} with its slot claimed, or null if all are full or none is eligible. Thread-safe. */
  Origin pick(String group, String key) {
    return pool(group).pick(key);
  }

  /** Another origin of {@code group} than those already tried, with its slot claimed, or null. */
  Origin pickExcept(String group, List<String> tried, String key) {
    OriginPool current = pool(group);
    for (int i = 0; i < current.size(); i++) {
      Origin o = current.pick(key);
      if (o == null) return null;
      if (!tried.contains(o.id())) return o;
      o.inFlight().decrementAndGet();
      key = null; // a hash key maps to the same upstream every time: rotate instead
    }
    return null;
  }

  /** An upstream's answer carried its capacity ({@code health.capacity-header}). */
  void reportCapacity(String upstream, String headerValue) {
    capacities.reportHeader(upstream, headerValue);
  }

  int slots(String group) {
    return pool(group).slots();
  }

  int eligibleCount(String group) {
    return pool(group).size();
  }

  /** Whether the group's strategy hashes a header or cookie of the request (not just its client's address). */
  boolean hashesRequest(String group) {
    return pool(group).strategy() == StrategyName.HASH;
  }

  /**
   * What the hashing strategies hash for a request; null for the others or when the key is absent. {@code header}
   * gives a header's first value by its lower-case name (the direct HTTP/1.1 path reads it from the head's bytes); a
   * cookie is read from the first Cookie header as Vert.x's request reads it (RFC 6265, strictly).
   */
  String hashKey(String group, java.util.function.Function<String, String> header, String client) {
    return switch (pool(group).strategy()) {
      case IP_HASH -> client;
      case HASH -> {
        HashKey key = hashKeys.get(group);
        if (key == null) yield null;
        if (key.source() == HashKey.Source.HEADER) yield header.apply(key.name().toLowerCase(java.util.Locale.ROOT));
        String cookies = header.apply("cookie");
        if (cookies == null) yield null;
        for (io.netty.handler.codec.http.cookie.Cookie c : io.netty.handler.codec.http.cookie.ServerCookieDecoder.STRICT.decode(cookies)) {
          if (c.name().equals(key.name())) yield c.value();
        }
        yield null;
      }
      default -> null;
    };
  }

  /** The same for a request through Vert.x. */
  String hashKey(String group, HttpServerRequest req, String client) {
    return hashKey(group, req::getHeader, client);
  }

  private OriginPool pool(String group) {
    OriginPool p = pools.get(group);
    return p != null ? p : EMPTY;
  }
}
