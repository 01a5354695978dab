package dev.fairway.proxy;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * The one queue, shared by every proxy instance, of requests waiting because every eligible upstream is at its
 * {@code max-conns}. It is fair across clients: each client (by {@code queue-fairness}: its address, a header's value,
 * or one for all) has its own FIFO line, and the lines take turns, so one client's backlog of a hundred adds at most one
 * turn to another client's single request. Whoever frees a slot calls {@link #drain}: the next line's first waiter
 * gets the upstream the strategy picks then, handed to it on its own event loop. Each waiter is claimed exactly once,
 * by dispatch, timeout or the client leaving, so a request is never both sent and rejected.
 * <p>
 * The lines are guarded by one lock, taken only while requests wait: a request that finds a free slot never touches
 * it ({@link #isEmpty} is one atomic read).
 */
public final class RequestQueue {

  /** One queued request. */
  static final class Waiter {
    final String key;
    /** Whose line it waits in. */
    final String client;
    final Function<String, Origin> picker;
    final Consumer<Origin> onDispatch;
    final long enqueuedNanos = System.nanoTime();
    private final AtomicBoolean claimed = new AtomicBoolean();

    Waiter(String key, String client, Function<String, Origin> picker, Consumer<Origin> onDispatch) {
      this.key = key;
      this.client = client;
      this.picker = picker;
      this.onDispatch = onDispatch;
    }

    boolean claim() {
      return claimed.compareAndSet(false, true);
    }
  }

  /** Where a waiter stands: {@code position} 1 is next; {@code ahead} requests go before it. */
  record Place(int position, int ahead) {
  }

  /** The lines, in turn order: the first is served next, then goes to the back. */
  private final LinkedHashMap<String, ArrayDeque<Waiter>> lines = new LinkedHashMap<>();
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

  /** Slots were added from outside the request path (a cluster node lent some): dispatch what waits for them. */
  public void slotsAdded() {
    drain();
  }

  /** @return the waiter, or null when the queue is full */
  Waiter offer(String key, String client, Function<String, Origin> picker, Consumer<Origin> onDispatch) {
    while (true) {
      int n = size.get();
      if (n >= capacity) return null;
      if (size.compareAndSet(n, n + 1)) break;
    }
    Waiter w = new Waiter(key, client, picker, onDispatch);
    synchronized (lines) {
      lines.computeIfAbsent(client, c -> new ArrayDeque<>()).add(w);
    }
    drain(); // a slot may have freed between the caller's failed pick and now
    return w;
  }

  /** Takes {@code w} out if nobody has claimed it yet (timeout, client gone). */
  boolean cancel(Waiter w) {
    if (!w.claim()) return false;
    synchronized (lines) {
      ArrayDeque<Waiter> line = lines.get(w.client);
      if (line != null && line.remove(w) && line.isEmpty()) lines.remove(w.client);
    }
    size.decrementAndGet();
    return true;
  }

  /**
   * Dispatches waiters while upstreams have room: each line's first in turn, a served line going to the back. A first
   * waiter whose group is full is passed over (its line keeps its turn), so one full group never holds up another's.
   * Safe to call from any thread.
   */
  void drain() {
    while (size.get() > 0) {
      List<Waiter> dispatched = new ArrayList<>(1);
      synchronized (lines) {
        Iterator<Map.Entry<String, ArrayDeque<Waiter>>> turn = lines.entrySet().iterator();
        while (turn.hasNext() && dispatched.isEmpty()) {
          Map.Entry<String, ArrayDeque<Waiter>> entry = turn.next();
          ArrayDeque<Waiter> line = entry.getValue();
          Waiter head = line.peek();
          Origin origin = head == null ? null : head.picker.apply(head.key);
          if (origin == null) continue;
          if (!head.claim()) { // cancelled meanwhile: its canceller takes it out
            origin.inFlight().decrementAndGet();
            continue;
          }
          line.poll();
          turn.remove();
          if (!line.isEmpty()) lines.put(entry.getKey(), line); // to the back of the turns
          size.decrementAndGet();
          head.onDispatch.accept(origin); // only schedules the request on its own event loop
          dispatched.add(head);
        }
      }
      if (dispatched.isEmpty()) return;
    }
  }

  /**
   * Where {@code w} stands if the lines keep taking turns: the others' waiters that come before it are, per line, as
   * many as its own place in its line, plus one for the lines whose turn comes before its own.
   *
   * @return null once it has left the queue
   */
  Place place(Waiter w) {
    synchronized (lines) {
      ArrayDeque<Waiter> own = lines.get(w.client);
      if (own == null) return null;
      int index = 0;
      for (Waiter x : own) {
        if (x == w) break;
        index++;
      }
      if (index == own.size()) return null;
      int ahead = index;
      boolean beforeOwn = true;
      for (Map.Entry<String, ArrayDeque<Waiter>> e : lines.entrySet()) {
        if (e.getKey().equals(w.client)) {
          beforeOwn = false;
          continue;
        }
        ahead += Math.min(e.getValue().size(), index + (beforeOwn ? 1 : 0));
      }
      return new Place(ahead + 1, ahead);
    }
  }
}
