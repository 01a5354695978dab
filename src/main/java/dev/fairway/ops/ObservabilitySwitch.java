package dev.fairway.ops;

import dev.fairway.accesslog.AccessLog;
import dev.fairway.accesslog.AccessLogFormat;
import dev.fairway.config.FairwayOptions;
import dev.fairway.metrics.ProxyMetrics;
import io.vertx.core.Future;
import io.vertx.core.Vertx;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The settings a reload applies inside this process rather than over the bus, because what they switch is an object,
 * not JSON: whether per-request metrics record ({@code metrics}), and the access log ({@code access-log} and its
 * format and rotation). A changed access log is opened first, so one that cannot be written rejects the reload and
 * the running log stays; then each proxy instance switches to it on its own event loop, and only then does the
 * previous log write what it was handed and close its file.
 */
public final class ObservabilitySwitch {

  /** A writer of the access log (a proxy instance): it moves to the next log on its own event loop. */
  public interface Follower {
    Future<Void> useAccessLog(AccessLog next);
  }

  private final Vertx vertx;
  private final ProxyMetrics metrics;
  private final List<Follower> followers = new CopyOnWriteArrayList<>();
  private volatile AccessLog accessLog;

  public ObservabilitySwitch(Vertx vertx, ProxyMetrics metrics, AccessLog accessLog) {
    this.vertx = vertx;
    this.metrics = metrics;
    this.accessLog = accessLog;
  }

  /** {@code follower} writes to {@link #accessLog()} now and is switched by each reload that changes it. */
  public void follow(Follower follower) {
    followers.add(follower);
  }

  /** Opens the access log {@code options} describe. Blocking file I/O: not on an event loop. */
  public static AccessLog open(FairwayOptions options) {
    return AccessLog.create(options.getAccessLog().getDestination(), format(options), rotation(options));
  }

  /** The access log the proxy instances write to now. */
  public AccessLog accessLog() {
    return accessLog;
  }

  /** Applies what differs from {@code previous} in {@code next}; a failed future (nothing changed) says why not. */
  public Future<Void> apply(FairwayOptions previous, FairwayOptions next) {
    if (previous.getAccessLog().same(next.getAccessLog())) {
      metrics.setEnabled(next.getProcess().isMetrics());
      return Future.succeededFuture();
    }
    AccessLog old = accessLog;
    return vertx.executeBlocking(() -> old.successor(next.getAccessLog().getDestination(), format(next), rotation(next)), false)
      .compose(log -> {
        metrics.setEnabled(next.getProcess().isMetrics());
        accessLog = log;
        return Future.all(followers.stream().map(f -> f.useAccessLog(log)).toList());
      })
      .compose(all -> vertx.executeBlocking(() -> {
        old.close();
        return null;
      }, false));
  }

  private static AccessLogFormat format(FairwayOptions o) {
    return AccessLogFormat.parse("access-log-format", o.getAccessLog().getFormat());
  }

  private static AccessLog.Rotation rotation(FairwayOptions o) {
    return new AccessLog.Rotation(o.getAccessLog().getMaxSize(), o.getAccessLog().isCompress());
  }
}
