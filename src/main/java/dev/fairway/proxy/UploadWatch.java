package dev.fairway.proxy;

import dev.fairway.metrics.ProxyMetrics;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpServerRequest;

import java.util.function.BiConsumer;

/**
 * Watches one request body on its way upstream: nothing for send-timeout is 408 if the client stopped sending and 504
 * if the upstream stopped reading; slower than the route's min-upload-rate over its window is 408. A window in which
 * the upstream stopped reading (so the client was paused) never counts against the client. Event-loop confined.
 */
final class UploadWatch {

  private final Vertx vertx;
  private final HttpServerRequest req;
  private final HttpClientRequest upstream;
  private final Route route;
  private final ProxyMetrics metrics;
  /** Ends the exchange with a failure and resets the upstream request. */
  private final BiConsumer<Failure, String> stop;
  private long sendTimer = -1;
  private long rateTimer = -1;

  private UploadWatch(Vertx vertx, HttpServerRequest req, HttpClientRequest upstream, Route route, ProxyMetrics metrics,
                      BiConsumer<Failure, String> stop) {
    this.vertx = vertx;
    this.req = req;
    this.upstream = upstream;
    this.route = route;
    this.metrics = metrics;
    this.stop = stop;
  }

  static UploadWatch start(Vertx vertx, HttpServerRequest req, HttpClientRequest upstream, Route route, ProxyMetrics metrics,
                           BiConsumer<Failure, String> stop) {
    UploadWatch watch = new UploadWatch(vertx, req, upstream, route, metrics, stop);
    watch.armSend(req.bytesRead());
    if (route.minUploadBytesPerSecond() > 0) watch.armRate(req.bytesRead());
    return watch;
  }

  /** The exchange is over, or the body was sent: no more verdicts. */
  void cancel() {
    if (sendTimer >= 0) vertx.cancelTimer(sendTimer);
    if (rateTimer >= 0) vertx.cancelTimer(rateTimer);
    sendTimer = rateTimer = -1;
  }

  private void armSend(long bytesBefore) {
    sendTimer = vertx.setTimer(route.sendMillis(), id -> {
      sendTimer = -1;
      if (req.isEnded()) return;
      if (req.bytesRead() != bytesBefore) {
        armSend(req.bytesRead());
        return;
      }
      cancel();
      stop.accept(upstream.writeQueueFull() ? Failure.UPSTREAM_STALLED : Failure.CLIENT_STALLED,
        "(send-timeout " + route.sendMillis() + "ms)");
    });
  }

  private void armRate(long bytesBefore) {
    long window = route.uploadWindowMillis();
    rateTimer = vertx.setTimer(window, id -> {
      rateTimer = -1;
      if (req.isEnded()) return;
      long received = req.bytesRead() - bytesBefore;
      if (received * 1000 >= route.minUploadBytesPerSecond() * window || upstream.writeQueueFull()) {
        armRate(req.bytesRead());
        return;
      }
      cancel();
      metrics.clientTimedOut("upload_rate");
      stop.accept(Failure.CLIENT_TOO_SLOW, "(" + received * 1000 / window + " bytes/s, min-upload-rate " + route.minUploadBytesPerSecond() + ")");
    });
  }
}
