package dev.fairway.support;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntFunction;

/** A bounded stream of requests from a few concurrent loops, each sending its next request when the last one ends. */
public final class SteadyLoad {

  /** Requests issued so far. */
  public final AtomicInteger issued = new AtomicInteger();
  private final List<Integer> statuses = Collections.synchronizedList(new ArrayList<>());
  private final Future<?> done;

  /**
   * @param send sends request number n; a failed future counts as status -1
   */
  private SteadyLoad(Vertx vertx, int loops, int total, IntFunction<Future<Http.Reply>> send) {
    List<Future<Void>> ends = new ArrayList<>();
    for (int l = 0; l < loops; l++) {
      Promise<Void> loopDone = Promise.promise();
      ends.add(loopDone.future());
      Runnable[] next = new Runnable[1];
      next[0] = () -> {
        int n = issued.getAndIncrement();
        if (n >= total) {
          loopDone.tryComplete();
          return;
        }
        send.apply(n).onComplete(ar -> {
          statuses.add(ar.succeeded() ? ar.result().status() : -1);
          next[0].run();
        });
      };
      vertx.runOnContext(v -> next[0].run());
    }
    done = Future.all(ends);
  }

  public static SteadyLoad start(Vertx vertx, int loops, int total, IntFunction<Future<Http.Reply>> send) {
    return new SteadyLoad(vertx, loops, total, send);
  }

  /** Waits for every request to end and returns their statuses. */
  public List<Integer> statuses() {
    done.await();
    return new ArrayList<>(statuses);
  }
}
