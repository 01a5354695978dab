package dev.fairway.proxy;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Open client connections per client address, across all proxy instances: what {@code max-client-connections} caps
 * (nginx's {@code limit_conn} by address). An address's entry goes when its last connection closes.
 */
public final class ClientConnections {

  private final Map<String, AtomicInteger> byAddress = new ConcurrentHashMap<>();

  /** Counts a new connection from {@code address}; @return the connections it now has open */
  int opened(String address) {
    return byAddress.computeIfAbsent(address, a -> new AtomicInteger()).incrementAndGet();
  }

  void closed(String address) {
    byAddress.computeIfPresent(address, (a, n) -> n.decrementAndGet() <= 0 ? null : n);
  }
}
