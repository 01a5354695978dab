package dev.fairway.cluster;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/** Moving unused slots of a limited upstream between nodes without ever holding more than max-conns in all. */
class SlotLendingTest {

  private static final String U = "10.0.0.5:5000";
  private static final String EPOCH = SlotLending.epoch(List.of("a", "b", "c"), 2);

  @Test
  void anIdleNodeLendsItsSlotToOneWhoseRequestsWaitAndSendsItOnlyARoundLater() {
    SlotLending a = new SlotLending();
    AtomicInteger lent = new AtomicInteger();
    // a: share 1, idle; c: share none, 3 waiting
    List<SlotLending.Peer> peers = List.of(new SlotLending.Peer("c", Shares.NONE, 0, 0, 3, EPOCH));
    assertThat(a.round(U, EPOCH, 1, lent, 0, 0, peers, 1)).isEmpty();
    assertThat(lent.get()).as("the limit is lowered before the slot leaves").isEqualTo(-1);
    assertThat(SlotLending.limit(1, lent)).isZero();
    assertThat(a.round(U, EPOCH, 1, lent, 0, 0, peers, 2)).containsExactly(new SlotLending.Grant("c", U, 1, EPOCH));

    SlotLending c = new SlotLending();
    AtomicInteger borrowed = new AtomicInteger();
    c.round(U, EPOCH, Shares.NONE, borrowed, 0, 3, List.of(), 1);
    assertThat(c.received(U, EPOCH, 1, borrowed)).isTrue();
    assertThat(SlotLending.limit(Shares.NONE, borrowed)).isEqualTo(1);
    assertThat(c.received(U, "another-epoch", 1, borrowed)).as("a slot of a past epoch is dropped").isFalse();
    assertThat(borrowed.get()).isEqualTo(1);
  }

  @Test
  void aBusyNodeOrOneWithItsOwnQueueLendsNothing() {
    List<SlotLending.Peer> needy = List.of(new SlotLending.Peer("c", Shares.NONE, 0, 0, 3, EPOCH));
    AtomicInteger lent = new AtomicInteger();
    assertThat(new SlotLending().round(U, EPOCH, 1, lent, 1, 0, needy, 1)).isEmpty();
    assertThat(lent.get()).as("its one slot is in use").isZero();
    assertThat(new SlotLending().round(U, EPOCH, 1, lent, 0, 2, needy, 1)).isEmpty();
    assertThat(lent.get()).as("its own requests wait").isZero();
    List<SlotLending.Peer> notFull = List.of(new SlotLending.Peer("c", 1, 1, 0, 3, EPOCH));
    new SlotLending().round(U, EPOCH, 1, lent, 0, 0, notFull, 1);
    assertThat(lent.get()).as("a node with a free slot of its own needs none").isZero();
    List<SlotLending.Peer> otherEpoch = List.of(new SlotLending.Peer("c", Shares.NONE, 0, 0, 3, "older"));
    new SlotLending().round(U, EPOCH, 1, lent, 0, 0, otherEpoch, 1);
    assertThat(lent.get()).as("a node that counts another epoch").isZero();
  }

  @Test
  void aBorrowerGivesTheSlotBackWhenItsLenderNeedsItOnceItsRequestsFit() {
    SlotLending c = new SlotLending();
    AtomicInteger borrowed = new AtomicInteger();
    c.round(U, EPOCH, Shares.NONE, borrowed, 0, 0, List.of(), 1);
    c.received(U, EPOCH, 1, borrowed);
    // a, which lent its slot (share 1, limit 0), now has waiting requests; c is busy with the borrowed slot and has a queue
    List<SlotLending.Peer> lender = List.of(new SlotLending.Peer("a", 1, 0, 0, 2, EPOCH));
    assertThat(c.round(U, EPOCH, Shares.NONE, borrowed, 1, 5, lender, 2)).isEmpty();
    assertThat(borrowed.get()).as("no new request of c's gets the slot").isZero();
    assertThat(c.round(U, EPOCH, Shares.NONE, borrowed, 1, 5, lender, 3)).as("still in use").isEmpty();
    assertThat(c.round(U, EPOCH, Shares.NONE, borrowed, 0, 5, lender, 4)).containsExactly(new SlotLending.Grant("a", U, 1, EPOCH));
  }

  @Test
  void aNodeSentSlotsGetsNoMoreUntilItsStatusCanShowThem() {
    SlotLending a = new SlotLending();
    AtomicInteger lent = new AtomicInteger();
    a.round(U, EPOCH, 1, lent, 0, 0, List.of(), 1);
    a.received(U, EPOCH, 2, lent); // a holds 3 slots, all free
    List<SlotLending.Peer> needy = List.of(new SlotLending.Peer("c", Shares.NONE, 0, 0, 1, EPOCH));
    a.round(U, EPOCH, 1, lent, 0, 0, needy, 2);
    assertThat(a.round(U, EPOCH, 1, lent, 0, 0, needy, 3)).hasSize(1);
    assertThat(lent.get()).isEqualTo(1);
    a.round(U, EPOCH, 1, lent, 0, 0, needy, 4);
    assertThat(lent.get()).as("c's status still says it waits, but it was just sent one").isEqualTo(1);
  }

  @Test
  void aNewEpochStartsFromThePlainShare() {
    SlotLending a = new SlotLending();
    AtomicInteger lent = new AtomicInteger();
    a.round(U, EPOCH, 1, lent, 0, 0, List.of(new SlotLending.Peer("c", Shares.NONE, 0, 0, 3, EPOCH)), 1);
    assertThat(lent.get()).isEqualTo(-1);
    String next = SlotLending.epoch(List.of("a", "b"), 2);
    assertThat(a.round(U, next, 1, lent, 0, 0, List.of(), 2)).as("what was owed in the old epoch is not sent").isEmpty();
    assertThat(lent.get()).isZero();
  }
}
