package dev.fairway.ops;

import dev.fairway.ops.ReleasePolicy.Reading;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class ReleasePolicyTest {

  private static final long SECOND = 1_000_000_000L;
  private static final long MIB = 1024 * 1024;
  private static final long START = 32 * MIB;

  private final ReleasePolicy policy = new ReleasePolicy(60 * SECOND, START);

  private static Reading at(long seconds, long collections, long heapMib, long keptMib) {
    return new Reading(seconds * SECOND, collections, heapMib * MIB, keptMib * MIB);
  }

  @Test
  void aGrownHeapIsReleasedOnlyOnceNoCollectionHasRunForTheQuietPeriod() {
    assertThat(policy.due(at(0, 10, 64, 0))).isFalse();
    assertThat(policy.due(at(30, 11, 64, 0))).as("a collection 30 s in: busy").isFalse();
    assertThat(policy.due(at(89, 11, 64, 0))).as("59 s quiet").isFalse();
    assertThat(policy.due(at(90, 11, 64, 0))).as("60 s quiet").isTrue();
  }

  @Test
  void nothingIsReleasedWhenThereIsTooLittleToGive() {
    policy.due(at(0, 1, 39, 3));
    assertThat(policy.due(at(600, 1, 39, 3))).as("heap 7 MiB over its start, 3 MiB of kept buffers").isFalse();
    assertThat(policy.due(at(601, 1, 39, 4))).as("4 MiB of kept buffers").isTrue();
  }

  @Test
  void aReleaseThatGaveLittleDoublesTheWaitForTheNextUpToAnHour() {
    policy.due(at(0, 1, 64, 0));
    long now = 60;
    long collections = 1;
    long[] waits = new long[8];
    for (int i = 0; i < waits.length; i++) {
      assertThat(policy.due(at(now, collections, 64, 0))).isTrue();
      policy.released(at(now, collections, 64, 0), at(now, ++collections, 63, 0)); // live: 1 MiB given back
      long next = now + 1;
      while (!policy.due(at(next, collections, 64, 0))) next++;
      waits[i] = next - now;
      now = next;
    }
    assertThat(waits).containsExactly(120, 240, 480, 960, 1920, 3600, 3600, 3600);
  }

  @Test
  void afterAReleaseThatGaveBackTheNextWaitsOnlyForQuietAgain() {
    policy.due(at(0, 1, 64, 0));
    assertThat(policy.due(at(60, 1, 64, 0))).isTrue();
    policy.released(at(60, 1, 64, 10), at(60, 2, 40, 0));
    assertThat(ReleasePolicy.given(at(60, 1, 64, 10), at(60, 2, 40, 0))).isEqualTo(34 * MIB);
    assertThat(policy.due(at(119, 2, 48, 0))).isFalse();
    assertThat(policy.due(at(120, 2, 48, 0))).as("grown again, quiet for 60 s since the release").isTrue();
  }
}
