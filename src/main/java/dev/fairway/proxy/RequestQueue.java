package dev.fairway.proxy;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * The one FIFO queue, shared by every proxy instance, of requests waiting because every eligible upstream is at its
 * {@code max-conns}. Whoever frees a slot calls {@link #drain}: the head waiter gets the upstream the strategy picks
 * then, and is handed it on its own event loop. Each waiter is claimed exactly once, by dispatch, timeout or the
 * client leaving, so a request is never both sent and rejected.
 */
public final class RequestQueue {

  /** One queued request. */
  static final class Waiter {
    final String key;
    final Function<String, Origin> picker;
    final Consumer<Origin> onDispatch;
    final long enqueuedNanos = System.nanoTime();
    private final AtomicBoolean claimed = new AtomicBoolean();

    Waiter(String key, Function<String, Origin> picker, Consumer<Origin> onDispatch) {
      this.key = key;
      this.picker = picker;
      this.onDispatch = onDispatch;
    }

    boolean claim() {
      return claimed.compareAndSet(false, true);
    }
  }

  private final ConcurrentLinkedQueue<Waiter> waiters = new ConcurrentLinkedQueue<>();
  private final AtomicInteger size = new AtomicInteger();
  private final int capacity;

  RequestQueue(int capacity) {
    this.capacity = capacity;
  }

  boolean isEmpty() {
    return size.get() == 0;
  }

  /** Requests waiting now, across all proxy instances. */
  public int size() {
    return size.get();
  }

  /** @return the waiter, or null when the queue is full */
  Waiter offer(String key, Function<String, Origin> picker, Consumer<Origin> onDispatch) {
    while (true) {
      int n = size.get();
      if (n >= capacity) return null;
      if (size.compareAndSet(n, n + 1)) break;
    }
    Waiter w = new Waiter(key, picker, onDispatch);
    waiters.add(w);
    drain(); // a slot may have freed between the caller's failed pick and now
    return w;
  }

  /** Takes {@code w} out if nobody has claimed it yet (timeout, client gone). */
  boolean cancel(Waiter w) {
    if (!w.claim()) return false;
    waiters.remove(w);
    size.decrementAndGet();
    return true;
  }

  /** Dispatches waiters, oldest first, while upstreams have room. Safe to call from any thread. */
  void drain() {
    while (size.get() > 0) {
      Waiter head = waiters.peek();
      if (head == null) return;
      if (head.claimed.get()) {
        waiters.remove(head); // cancelled; its owner is removing it too
        continue;
      }
      Origin origin = head.picker.apply(head.key);
      if (origin == null) return;
      if (head.claim()) {
        waiters.remove(head);
        size.decrementAndGet();
        head.onDispatch.accept(origin);
      } else {
        origin.inFlight().decrementAndGet(); // lost the race for this waiter; give the slot back and look again
      }
    }
  }
}
