package dev.fairway.proxy;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * How long the requests in flight to an upstream have been running, asked of every proxy instance on its own event
 * loop (each keeps its requests in its {@link ReadDeadlines}): for the admin API's drain, nothing on the request path.
 */
public final class RequestAges {

  private record Instance(Context context, ReadDeadlines requests) {
  }

  private final List<Instance> instances = new CopyOnWriteArrayList<>();

  void register(Context context, ReadDeadlines requests) {
    instances.add(new Instance(context, requests));
  }

  /** Seconds since the oldest request in flight to {@code upstream} started, or null if none is. */
  public Future<Double> oldestSeconds(String upstream) {
    List<Future<Long>> starts = new ArrayList<>();
    for (Instance i : instances) {
      Promise<Long> start = Promise.promise();
      i.context().runOnContext(v -> start.complete(i.requests().oldestStart(upstream)));
      starts.add(start.future());
    }
    return Future.all(starts).map(all -> {
      long oldest = Long.MAX_VALUE;
      for (int k = 0; k < all.size(); k++) oldest = Math.min(oldest, all.<Long>resultAt(k));
      return oldest == Long.MAX_VALUE ? null : Math.round((System.nanoTime() - oldest) / 1e6) / 1000.0;
    });
  }
}
