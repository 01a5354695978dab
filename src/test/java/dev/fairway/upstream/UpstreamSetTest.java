package dev.fairway.upstream;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The snapshot every role shares: which upstreams take traffic, and how a change makes a new revision. */
class UpstreamSetTest {

  private static Upstream upstream(int port, boolean up) {
    return new Upstream("127.0.0.1:" + port, "default", "127.0.0.1", port, "http1", 1, 0, false, false, false, up, up ? "status 200" : "timeout");
  }

  private static Upstream backup(int port, boolean up) {
    return upstream(port, up).withSettings("default", 1, 0, true, false, false);
  }

  private static UpstreamSet set(Upstream... upstreams) {
    return new UpstreamSet(1, Map.of("default", "round-robin"), List.of(upstreams));
  }

  private static List<String> ids(List<Upstream> upstreams) {
    return upstreams.stream().map(Upstream::id).toList();
  }

  @Test
  void usablePrimariesTakeTrafficAndBackupsOnlyWhileNoPrimaryIsUsable() {
    assertThat(ids(set(upstream(1, true), upstream(2, false), backup(3, true)).eligible("default", false)))
      .containsExactly("127.0.0.1:1");
    assertThat(ids(set(upstream(1, false), backup(3, true)).eligible("default", false))).containsExactly("127.0.0.1:3");
  }

  @Test
  void withNothingUsablePanicTriesAllButTheAdministrativelyDown() {
    Upstream draining = upstream(2, false).withSettings("default", 1, 0, false, false, true);
    Upstream down = upstream(3, false).withSettings("default", 1, 0, false, true, false);
    UpstreamSet allDown = set(upstream(1, false), draining, down);
    assertThat(allDown.eligible("default", false)).isEmpty();
    assertThat(ids(allDown.eligible("default", true))).containsExactly("127.0.0.1:1");
  }

  @Test
  void eligibilityIsPerGroup() {
    Upstream llm = upstream(2, true).withSettings("llm", 1, 0, false, false, false);
    UpstreamSet both = new UpstreamSet(1, Map.of("default", "round-robin", "llm", "least-conn"), List.of(upstream(1, true), llm));
    assertThat(ids(both.eligible("llm", false))).containsExactly("127.0.0.1:2");
    assertThat(ids(both.eligible("default", false))).containsExactly("127.0.0.1:1");
  }

  @Test
  void aHealthChangeMakesTheNextRevisionAndARepeatMakesNone() {
    UpstreamSet first = set(upstream(1, true));
    UpstreamSet down = first.withHealth("127.0.0.1:1", false, "timeout");
    assertThat(down.revision()).isEqualTo(2);
    assertThat(down.anyUp()).isFalse();
    assertThat(first.anyUp()).as("snapshots are immutable").isTrue();
    assertThat(down.withHealth("127.0.0.1:1", false, "timeout")).isSameAs(down);
    assertThat(down.withHealth("127.0.0.1:1", false, "connection refused").revision()).as("a new reason is news").isEqualTo(3);
  }

  @Test
  void aSnapshotCrossesTheBusAsJsonUnchanged() {
    Upstream llm = new Upstream("127.0.0.1:7", "llm", "127.0.0.1", 7, "grpc", 3, 2, true, false, true, false, "status 503");
    UpstreamSet set = new UpstreamSet(42, Map.of("default", "ip-hash", "llm", "least-conn"), List.of(upstream(1, true), llm));
    UpstreamSet back = UpstreamSet.fromJson(set.toJson());
    assertThat(back).isEqualTo(set);
    assertThat(back.strategy()).isEqualTo("ip-hash");
    assertThat(back.upstreams().get(1).http2()).isTrue();
    assertThat(back.upstreams().get(1).state()).isEqualTo("drain");
  }

  @Test
  void anUpstreamIsUsableOnlyWhenUpActiveAndNotDraining() {
    assertThat(upstream(1, true).usable()).isTrue();
    assertThat(upstream(1, false).usable()).isFalse();
    assertThat(upstream(1, true).withSettings("default", 1, 0, false, true, false).usable()).isFalse();
    assertThat(upstream(1, true).withSettings("default", 1, 0, false, false, true).usable()).isFalse();
  }
}
