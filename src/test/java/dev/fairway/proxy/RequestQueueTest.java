package dev.fairway.proxy;

import dev.fairway.upstream.Upstream;
import io.vertx.core.net.SocketAddress;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

import static org.assertj.core.api.Assertions.assertThat;

/** The shared wait queue on its own: order, fairness across clients, capacity, and each waiter claimed exactly once. */
class RequestQueueTest {

  private final Origin origin = new Origin(
    new Upstream("127.0.0.1:5000", "default", "127.0.0.1", 5000, "http1", 1, 1, false, false, false, true, "status 200"),
    SocketAddress.inetSocketAddress(5000, "127.0.0.1"), new AtomicInteger(), null);
  /** Free slots on the one origin: a pick claims one, as a strategy does at max-conns. */
  private final AtomicInteger free = new AtomicInteger();
  private final Function<String, Origin> picker = key -> {
    if (free.getAndUpdate(n -> Math.max(0, n - 1)) == 0) return null;
    origin.inFlight().incrementAndGet();
    return origin;
  };
  private final List<String> dispatched = new ArrayList<>();

  private RequestQueue.Waiter offer(RequestQueue queue, String name) {
    return offer(queue, "one client", name);
  }

  private RequestQueue.Waiter offer(RequestQueue queue, String client, String name) {
    return queue.offer(name, client, picker, o -> dispatched.add(name));
  }

  @Test
  void waitersGoInArrivalOrderOnePerFreedSlot() {
    RequestQueue queue = new RequestQueue(10);
    offer(queue, "first");
    offer(queue, "second");
    offer(queue, "third");
    assertThat(queue.size()).isEqualTo(3);
    assertThat(dispatched).isEmpty();

    free.set(2);
    queue.drain();
    assertThat(dispatched).containsExactly("first", "second");
    assertThat(queue.size()).isEqualTo(1);
    free.set(1);
    queue.drain();
    assertThat(dispatched).containsExactly("first", "second", "third");
    assertThat(queue.isEmpty()).isTrue();
  }

  @Test
  void aFullQueueRefusesTheNextWaiter() {
    RequestQueue queue = new RequestQueue(2);
    assertThat(offer(queue, "a")).isNotNull();
    assertThat(offer(queue, "b")).isNotNull();
    assertThat(offer(queue, "c")).isNull();
    assertThat(queue.size()).isEqualTo(2);
  }

  @Test
  void aCancelledWaiterIsNeverDispatchedAndADispatchedOneCannotBeCancelled() {
    RequestQueue queue = new RequestQueue(10);
    RequestQueue.Waiter leaving = offer(queue, "leaving");
    RequestQueue.Waiter staying = offer(queue, "staying");
    assertThat(queue.cancel(leaving)).isTrue();
    assertThat(queue.cancel(leaving)).as("claimed once").isFalse();
    free.set(5);
    queue.drain();
    assertThat(dispatched).containsExactly("staying");
    assertThat(queue.cancel(staying)).as("already dispatched: a timeout must not answer it too").isFalse();
    assertThat(origin.inFlight().get()).as("one slot claimed, for the one dispatched").isEqualTo(1);
  }

  @Test
  void anOfferDispatchesAtOnceIfASlotFreedMeanwhile() {
    RequestQueue queue = new RequestQueue(10);
    free.set(1);
    offer(queue, "lucky");
    assertThat(dispatched).containsExactly("lucky");
    assertThat(queue.isEmpty()).isTrue();
  }

  @Test
  void clientsTakeTurnsSoABacklogAddsAtMostOneTurnToAnothersWait() {
    RequestQueue queue = new RequestQueue(100);
    for (int i = 1; i <= 50; i++) offer(queue, "A", "a" + i);
    RequestQueue.Waiter b = offer(queue, "B", "b1");
    assertThat(queue.place(b)).isEqualTo(new RequestQueue.Place(2, 1));
    free.set(2);
    queue.drain();
    assertThat(dispatched).containsExactly("a1", "b1");
    assertThat(queue.place(b)).as("left the queue").isNull();
  }

  @Test
  void aPlaceCountsTheTurnsOfEveryLine() {
    RequestQueue queue = new RequestQueue(100);
    offer(queue, "A", "a1");
    offer(queue, "A", "a2");
    offer(queue, "A", "a3");
    RequestQueue.Waiter b1 = offer(queue, "B", "b1");
    RequestQueue.Waiter b2 = offer(queue, "B", "b2");
    RequestQueue.Waiter c1 = offer(queue, "C", "c1");
    assertThat(queue.place(b1).position()).isEqualTo(2); // a1, b1
    assertThat(queue.place(c1).position()).isEqualTo(3); // a1, b1, c1
    assertThat(queue.place(b2).position()).isEqualTo(5); // a1, b1, c1, a2, b2
    free.set(6);
    queue.drain();
    assertThat(dispatched).containsExactly("a1", "b1", "c1", "a2", "b2", "a3");
  }
}
