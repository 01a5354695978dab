package dev.fairway.proxy;

import dev.fairway.metrics.ProxyMetrics;
import dev.fairway.upstream.Upstream;
import io.vertx.core.net.SocketAddress;

import java.util.concurrent.atomic.AtomicInteger;

/** An upstream as one proxy instance uses it: its resolved address, its shared in-flight counter and its meters. */
record Origin(Upstream upstream, SocketAddress address, AtomicInteger inFlight, ProxyMetrics.UpstreamMeters meters) {

  String id() {
    return upstream.id();
  }
}
