package dev.fairway.cluster;

import dev.fairway.config.ClusterOptions;
import dev.fairway.config.ConfigException;
import dev.fairway.config.FairwayOptions;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** How a cluster divides work with no messages: who probes which upstream, and each node's share of max-conns. */
class SharesTest {

  private static List<String> nodes(int n) {
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < n; i++) ids.add(UUID.nameUUIDFromBytes(("node" + i).getBytes()).toString());
    return ids;
  }

  @Test
  void sharesAddUpToMaxConnsForEveryClusterSize() {
    for (int n = 1; n <= 6; n++) {
      List<String> members = nodes(n);
      for (int max = 1; max <= 13; max++) {
        for (String upstream : List.of("10.0.0.1:5000", "10.0.0.2:5001", "backend:80")) {
          int sum = 0;
          for (String self : members) {
            int share = Shares.of(max, upstream, members, self);
            assertThat(share).isNotZero(); // 0 would mean "no limit"
            sum += Math.max(0, share);
          }
          assertThat(sum).as("%d nodes, max-conns %d, %s", n, max, upstream).isEqualTo(max);
        }
      }
    }
  }

  @Test
  void noLimitStaysNoLimitAndANodeNotYetAMemberTakesNothing() {
    List<String> members = nodes(3);
    assertThat(Shares.of(0, "u:1", members, members.get(0))).isZero();
    assertThat(Shares.of(5, "u:1", members, "a-node-that-left")).isEqualTo(Shares.NONE);
    assertThat(Shares.of(5, "u:1", List.of("local"), "local")).isEqualTo(5);
  }

  @Test
  void remaindersOfDifferentUpstreamsLandOnDifferentNodes() {
    List<String> members = nodes(3);
    Map<String, Integer> extra = new HashMap<>();
    for (int i = 0; i < 300; i++) {
      String upstream = "10.0.0." + i + ":80";
      for (String m : members) if (Shares.of(1, upstream, members, m) == 1) extra.merge(m, 1, Integer::sum);
    }
    assertThat(extra).hasSize(3);
    extra.values().forEach(count -> assertThat(count).isBetween(60, 140));
  }

  @Test
  void everyNodeNamesTheSameProberAndOnlyTheLeaversUpstreamsMove() {
    List<String> members = nodes(4);
    Map<String, String> before = new HashMap<>();
    for (int i = 0; i < 200; i++) {
      String upstream = "10.1.0." + i + ":8000";
      String owner = Rendezvous.owner(upstream, members);
      List<String> shuffled = new ArrayList<>(members);
      java.util.Collections.reverse(shuffled);
      assertThat(Rendezvous.owner(upstream, shuffled)).as("independent of the list's order").isEqualTo(owner);
      before.put(upstream, owner);
    }
    String leaver = members.get(2);
    List<String> after = members.stream().filter(m -> !m.equals(leaver)).toList();
    before.forEach((upstream, owner) -> {
      if (!owner.equals(leaver)) assertThat(Rendezvous.owner(upstream, after)).isEqualTo(owner);
      else assertThat(Rendezvous.owner(upstream, after)).isNotEqualTo(leaver);
    });
    Membership view = new Membership(members.get(0), members);
    long owned = before.keySet().stream().filter(view::owns).count();
    assertThat(owned).as("about a quarter each").isBetween(25L, 80L);
  }

  @Test
  void clusterConfigIsCheckedWithTheKeyAndTheFix() {
    FairwayOptions o = new FairwayOptions(new JsonObject().put("cluster", new JsonObject()
      .put("members", "10.0.0.5, 10.0.0.6:5702,[::1]:5703").put("port", 5801).put("require-members", 2)));
    ClusterOptions c = o.getCluster();
    assertThat(c.isEnabled()).as("a cluster block turns clustering on").isTrue();
    assertThat(c.getMembers()).containsExactly("10.0.0.5", "10.0.0.6:5702", "[::1]:5703");
    assertThat(c.getName()).isEqualTo("fairway");
    assertThat(new FairwayOptions(o.toJson()).getCluster().getMembers()).isEqualTo(c.getMembers());
    assertThat(new FairwayOptions(new JsonObject()).getCluster().isEnabled()).isFalse();

    assertThatThrownBy(() -> new FairwayOptions(new JsonObject().put("cluster", new JsonObject().put("members", "10.0.0.5:0"))))
      .isInstanceOf(ConfigException.class).hasMessage("cluster.members: 10.0.0.5:0 (expected: host[:port] with a port from 1 to 65535)");
    assertThatThrownBy(() -> new FairwayOptions(new JsonObject().put("cluster", new JsonObject().put("members", "a b"))))
      .hasMessage("cluster.members: a b (expected: host[:port])");
    assertThatThrownBy(() -> new FairwayOptions(new JsonObject().put("cluster", new JsonObject().put("multicast", true))))
      .hasMessageStartingWith("cluster.multicast");
    assertThatThrownBy(() -> new FairwayOptions(new JsonObject().put("cluster", new JsonObject().put("members", "10.0.0.5")
      .put("kubernetes", new JsonObject().put("service-name", "fairway")))))
      .hasMessage("cluster.kubernetes: set with members (expected: one way to find the others: members or kubernetes)");
    assertThatThrownBy(() -> new FairwayOptions(new JsonObject().put("cluster", new JsonObject().put("kubernetes", new JsonObject()))))
      .hasMessage("cluster.kubernetes.service-name: missing (expected: the headless service of the Fairway pods)");
  }
}
