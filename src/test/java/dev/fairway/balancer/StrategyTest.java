package dev.fairway.balancer;

import dev.fairway.config.StrategyName;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

class StrategyTest {

  private static AtomicInteger[] counters(int n) {
    AtomicInteger[] c = new AtomicInteger[n];
    for (int i = 0; i < n; i++) c[i] = new AtomicInteger();
    return c;
  }

  private static int[] countPicks(Strategy s, int n, int picks, AtomicInteger[] inFlight) {
    int[] hits = new int[n];
    for (int i = 0; i < picks; i++) {
      int k = s.pick();
      hits[k]++;
      inFlight[k].decrementAndGet();
    }
    return hits;
  }

  @Test
  void roundRobinIsExactOverEqualWeights() {
    AtomicInteger[] inFlight = counters(3);
    AtomicLong seq = new AtomicLong();
    Strategy s = Strategy.create(StrategyName.ROUND_ROBIN, new int[] {1, 1, 1}, inFlight, seq::getAndIncrement);
    assertThat(countPicks(s, 3, 300, inFlight)).containsExactly(100, 100, 100);
  }

  @Test
  void roundRobinIsSmoothLikeNginx() {
    // nginx's documented example: weights 5, 1, 1 give a a b a c a a
    assertThat(SmoothWeightedRoundRobin.schedule(new int[] {5, 1, 1})).containsExactly(0, 0, 1, 0, 2, 0, 0);
  }

  @Test
  void roundRobinRespectsWeightsAndReducesThem() {
    assertThat(SmoothWeightedRoundRobin.schedule(new int[] {200, 100, 100})).hasSize(4);
    AtomicInteger[] inFlight = counters(3);
    AtomicLong seq = new AtomicLong();
    Strategy s = Strategy.create(StrategyName.ROUND_ROBIN, new int[] {3, 1, 1}, inFlight, seq::getAndIncrement);
    assertThat(countPicks(s, 3, 500, inFlight)).containsExactly(300, 100, 100);
  }

  @Test
  void roundRobinSurvivesSequenceOverflow() {
    AtomicInteger[] inFlight = counters(3);
    AtomicLong seq = new AtomicLong(Long.MAX_VALUE - 5);
    Strategy s = Strategy.create(StrategyName.ROUND_ROBIN, new int[] {1, 1, 1}, inFlight, seq::getAndIncrement);
    for (int i = 0; i < 12; i++) {
      assertThat(s.pick()).isBetween(0, 2);
    }
  }

  @Test
  void everyPickClaimsAnInFlightSlot() {
    for (StrategyName name : StrategyName.values()) {
      AtomicInteger[] inFlight = counters(2);
      AtomicLong seq = new AtomicLong();
      Strategy s = Strategy.create(name, new int[] {1, 1}, inFlight, seq::getAndIncrement);
      int k = s.pick();
      assertThat(inFlight[k].get()).as(name.configName()).isEqualTo(1);
    }
  }

  @Test
  void noCandidateGivesMinusOne() {
    assertThat(Strategy.create(StrategyName.ROUND_ROBIN, new int[0], new AtomicInteger[0], () -> 0).pick()).isEqualTo(-1);
  }

  @Test
  void leastConnPicksTheLeastLoadedRelativeToWeight() {
    AtomicInteger[] inFlight = counters(3);
    inFlight[0].set(2);
    inFlight[1].set(1);
    inFlight[2].set(3);
    AtomicLong seq = new AtomicLong();
    assertThat(Strategy.create(StrategyName.LEAST_CONN, new int[] {1, 1, 1}, inFlight, seq::getAndIncrement).pick()).isEqualTo(1);
    inFlight[1].set(1);
    // weight 4 with 3 in flight (0.75) beats weight 1 with 1 in flight (1.0)
    assertThat(Strategy.create(StrategyName.LEAST_CONN, new int[] {1, 1, 4}, inFlight, seq::getAndIncrement).pick()).isEqualTo(2);
  }

  @Test
  void leastConnNeverGivesTwoToOneWhileAnotherHasNoneUnderConcurrency() throws Exception {
    for (int round = 0; round < 200; round++) {
      AtomicInteger[] inFlight = counters(4);
      AtomicLong seq = new AtomicLong();
      Strategy s = Strategy.create(StrategyName.LEAST_CONN, new int[] {1, 1, 1, 1}, inFlight, seq::getAndIncrement);
      CountDownLatch go = new CountDownLatch(1);
      List<Thread> threads = new ArrayList<>();
      for (int t = 0; t < 4; t++) {
        Thread th = new Thread(() -> {
          try {
            go.await();
          } catch (InterruptedException e) {
            return;
          }
          s.pick();
        });
        th.start();
        threads.add(th);
      }
      go.countDown();
      for (Thread th : threads) th.join();
      for (AtomicInteger c : inFlight) {
        assertThat(c.get()).isEqualTo(1);
      }
    }
  }

  @Test
  void randomFollowsWeights() {
    AtomicInteger[] inFlight = counters(2);
    Strategy s = Strategy.create(StrategyName.RANDOM, new int[] {3, 1}, inFlight, () -> 0);
    int[] hits = countPicks(s, 2, 40_000, inFlight);
    assertThat(hits[0] / (double) 40_000).isBetween(0.72, 0.78);
  }
}
