package dev.fairway.balancer;

import dev.fairway.config.StrategyName;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

class StrategyTest {

  private final AtomicLong sequence = new AtomicLong();

  private Strategy create(StrategyName name, Candidates c) {
    return Strategy.create(name, c, sequence::getAndIncrement);
  }

  private static int[] countPicks(Strategy s, Candidates c, int picks) {
    int[] hits = new int[c.size()];
    for (int i = 0; i < picks; i++) {
      int k = s.pick(null);
      hits[k]++;
      c.inFlight(k).decrementAndGet();
    }
    return hits;
  }

  @Test
  void roundRobinIsExactOverEqualWeights() {
    Candidates c = Candidates.of(1, 1, 1);
    assertThat(countPicks(create(StrategyName.ROUND_ROBIN, c), c, 300)).containsExactly(100, 100, 100);
  }

  @Test
  void roundRobinIsSmoothLikeNginx() {
    // nginx's documented example: weights 5, 1, 1 give a a b a c a a
    assertThat(SmoothWeightedRoundRobin.schedule(new int[] {5, 1, 1})).containsExactly(0, 0, 1, 0, 2, 0, 0);
  }

  @Test
  void roundRobinRespectsWeightsAndReducesThem() {
    assertThat(SmoothWeightedRoundRobin.schedule(new int[] {200, 100, 100})).hasSize(4);
    Candidates c = Candidates.of(3, 1, 1);
    assertThat(countPicks(create(StrategyName.ROUND_ROBIN, c), c, 500)).containsExactly(300, 100, 100);
  }

  @Test
  void roundRobinSurvivesSequenceOverflow() {
    sequence.set(Long.MAX_VALUE - 5);
    Candidates c = Candidates.of(1, 1, 1);
    Strategy s = create(StrategyName.ROUND_ROBIN, c);
    for (int i = 0; i < 12; i++) {
      assertThat(s.pick(null)).isBetween(0, 2);
    }
  }

  @Test
  void leastConnCountsTheOtherNodesRequestsButClaimsOnlyThisNodesSlot() {
    Candidates c = Candidates.of(1, 1, 1).withElsewhere(new AtomicInteger(5), new AtomicInteger(0), new AtomicInteger(2));
    Strategy s = create(StrategyName.LEAST_CONN, c);
    // loads 5, 0, 2: the second takes picks until it is as busy as the third, then they alternate; the first waits
    int[] picks = new int[3];
    for (int i = 0; i < 6; i++) picks[s.pick(null)]++;
    assertThat(picks).containsExactly(0, 4, 2);
    assertThat(c.inFlight(1).get()).as("only this node's own count is claimed").isEqualTo(4);
    Candidates p2c = Candidates.of(1, 1).withElsewhere(new AtomicInteger(50), new AtomicInteger(0));
    Strategy two = create(StrategyName.P2C, p2c);
    for (int i = 0; i < 10; i++) assertThat(two.pick(null)).isEqualTo(1);
  }

  @Test
  void everyPickClaimsAnInFlightSlot() {
    for (StrategyName name : StrategyName.values()) {
      Candidates c = Candidates.of(1, 1);
      int k = create(name, c).pick("10.1.2.3");
      assertThat(c.inFlight(k).get()).as(name.configName()).isEqualTo(1);
    }
  }

  @Test
  void noCandidateGivesMinusOne() {
    assertThat(create(StrategyName.ROUND_ROBIN, Candidates.of()).pick(null)).isEqualTo(-1);
  }

  @Test
  void everyStrategySkipsFullUpstreamsAndReportsWhenAllAreFull() {
    for (StrategyName name : StrategyName.values()) {
      Candidates c = Candidates.of(1, 1, 1).withMaxConns(1, 1, 1);
      Strategy s = create(name, c);
      Set<Integer> taken = new HashSet<>();
      for (int i = 0; i < 3; i++) taken.add(s.pick("192.0.2." + i));
      assertThat(taken).as(name.configName()).containsExactlyInAnyOrder(0, 1, 2);
      assertThat(s.pick("192.0.2.9")).as(name.configName() + " when all are full").isEqualTo(-1);
      c.inFlight(1).decrementAndGet();
      assertThat(s.pick("192.0.2.9")).as(name.configName() + " once a slot frees").isEqualTo(1);
    }
  }

  @Test
  void leastConnPicksTheLeastLoadedRelativeToWeight() {
    Candidates c = Candidates.of(1, 1, 1);
    c.inFlight(0).set(2);
    c.inFlight(1).set(1);
    c.inFlight(2).set(3);
    assertThat(create(StrategyName.LEAST_CONN, c).pick(null)).isEqualTo(1);
    Candidates weighted = Candidates.of(1, 1, 4);
    weighted.inFlight(0).set(1);
    weighted.inFlight(1).set(1);
    weighted.inFlight(2).set(3);
    // weight 4 with 3 in flight (0.75) beats weight 1 with 1 in flight (1.0)
    assertThat(create(StrategyName.LEAST_CONN, weighted).pick(null)).isEqualTo(2);
  }

  @Test
  void leastConnNeverGivesTwoToOneWhileAnotherHasNoneUnderConcurrency() throws Exception {
    for (int round = 0; round < 200; round++) {
      Candidates c = Candidates.of(1, 1, 1, 1);
      Strategy s = create(StrategyName.LEAST_CONN, c);
      CountDownLatch go = new CountDownLatch(1);
      List<Thread> threads = new ArrayList<>();
      for (int t = 0; t < 4; t++) {
        Thread th = new Thread(() -> {
          try {
            go.await();
          } catch (InterruptedException e) {
            return;
          }
          s.pick(null);
        });
        th.start();
        threads.add(th);
      }
      go.countDown();
      for (Thread th : threads) th.join();
      for (int i = 0; i < 4; i++) {
        assertThat(c.inFlight(i).get()).isEqualTo(1);
      }
    }
  }

  @Test
  void p2cPrefersTheLessLoadedOfItsTwoChoices() {
    Candidates c = Candidates.of(1, 1);
    c.inFlight(0).set(5);
    Strategy s = create(StrategyName.P2C, c);
    for (int i = 0; i < 20; i++) {
      assertThat(s.pick(null)).isEqualTo(1);
      c.inFlight(1).decrementAndGet();
    }
  }

  @Test
  void randomFollowsWeights() {
    Candidates c = Candidates.of(3, 1);
    int[] hits = countPicks(create(StrategyName.RANDOM, c), c, 40_000);
    assertThat(hits[0] / 40_000.0).isBetween(0.72, 0.78);
  }

  @Test
  void ipHashIsStickyAndHashesTheWholeAddress() {
    Candidates c = Candidates.of(1, 1, 1);
    Strategy s = create(StrategyName.IP_HASH, c);
    Set<Integer> used = new HashSet<>();
    for (int host = 2; host <= 21; host++) {
      String client = "127.0.0." + host;
      int first = s.pick(client);
      c.inFlight(first).decrementAndGet();
      for (int again = 0; again < 5; again++) {
        int k = s.pick(client);
        c.inFlight(k).decrementAndGet();
        assertThat(k).as(client).isEqualTo(first);
      }
      used.add(first);
    }
    // nginx hashes 127.0.0 only and sends all twenty to one upstream
    assertThat(used).hasSize(3);
  }

  @Test
  void removingOneOfNUpstreamsRemapsOnlyItsShareOfClients() {
    for (int n : new int[] {3, 5, 10}) {
      int[] weights = new int[n];
      java.util.Arrays.fill(weights, 1);
      Candidates all = Candidates.of(weights);
      // the same upstreams less the last one
      Candidates less = new Candidates(java.util.Arrays.copyOf(all.ids, n - 1), java.util.Arrays.copyOf(weights, n - 1),
        new int[n - 1], java.util.Arrays.copyOf(all.inFlight, n - 1));
      Strategy before = create(StrategyName.IP_HASH, all);
      Strategy after = create(StrategyName.IP_HASH, less);
      int clients = 10_000;
      int moved = 0;
      for (int i = 0; i < clients; i++) {
        String client = "10." + (i >> 16 & 255) + "." + (i >> 8 & 255) + "." + (i & 255);
        int a = before.pick(client);
        int b = after.pick(client);
        all.inFlight(a).decrementAndGet();
        all.inFlight(b).decrementAndGet();
        if (a != b) {
          moved++;
          assertThat(a).as("only clients of the removed upstream move").isEqualTo(n - 1);
        }
      }
      assertThat(moved / (double) clients).as("n=" + n).isLessThanOrEqualTo(1.0 / n + 0.05);
    }
  }

  @Test
  void hashWithoutAKeyFallsBackToRoundRobin() {
    Candidates c = Candidates.of(1, 1, 1);
    assertThat(countPicks(create(StrategyName.HASH, c), c, 30)).containsExactly(10, 10, 10);
  }
}
