package dev.fairway.cluster;

import com.hazelcast.cluster.Member;
import com.hazelcast.cluster.MembershipEvent;
import com.hazelcast.cluster.MembershipListener;
import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.NetworkConfig;
import dev.fairway.bus.Addresses;
import dev.fairway.config.ClusterOptions;
import dev.fairway.config.Durations;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxBuilder;
import io.vertx.core.VertxOptions;
import io.vertx.spi.cluster.hazelcast.ConfigUtil;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;

/**
 * This node's place in a cluster: Vert.x's clustered event bus on Hazelcast's cluster manager, configured from
 * {@code cluster:} (TCP-IP members or Kubernetes discovery, never multicast), and the {@link Membership} every role
 * reads, kept current from Hazelcast's member events.
 */
public final class ClusterNode {

  private static final Logger log = LoggerFactory.getLogger(ClusterNode.class);

  private final Vertx vertx;
  private final HazelcastClusterManager manager;
  private final Membership membership;
  private final ClusterOptions options;

  private ClusterNode(Vertx vertx, HazelcastClusterManager manager, ClusterOptions options) {
    this.vertx = vertx;
    this.manager = manager;
    this.options = options;
    this.membership = new Membership(manager.getNodeId(), manager.getNodes());
  }

  /**
   * Starts clustered Vert.x and joins. Members that do not answer within join-timeout are not waited for (this node
   * starts alone and they join it later), unless require-members asks for them: then the start fails, naming them.
   */
  public static Future<ClusterNode> start(ClusterOptions options, VertxOptions vertxOptions, VertxBuilder builder) {
    // read by Hazelcast before its config is: its first lines go to Fairway's log too
    System.setProperty("hazelcast.logging.type", "slf4j");
    HazelcastClusterManager manager = new HazelcastClusterManager(hazelcastConfig(options));
    if (options.getHost() != null) {
      vertxOptions.getEventBusOptions().setHost(options.getHost()).setClusterPublicHost(options.getHost());
    }
    return builder.with(vertxOptions).withClusterManager(manager).buildClustered()
      .compose(vertx -> {
        ClusterNode node = new ClusterNode(vertx, manager, options);
        node.listen();
        return node.awaitRequiredMembers()
          .map(node)
          .recover(err -> vertx.close().transform(v -> Future.failedFuture(err)));
      });
  }

  /** Vert.x's defaults for its own maps, with the network and join from {@code cluster:}. */
  static Config hazelcastConfig(ClusterOptions o) {
    Config config = ConfigUtil.loadConfig();
    config.setClusterName(o.getName());
    config.setProperty("hazelcast.logging.type", "slf4j");
    config.setProperty("hazelcast.phone.home.enabled", "false");
    config.setProperty("hazelcast.shutdownhook.enabled", "false"); // Fairway's own stop leaves the cluster
    // a node killed without a goodbye is noticed within 5 s (the default waits a minute)
    config.setProperty("hazelcast.heartbeat.interval.seconds", "1");
    config.setProperty("hazelcast.max.no.heartbeat.seconds", "5");
    config.setProperty("hazelcast.wait.seconds.before.join", "1");
    config.setProperty("hazelcast.max.join.seconds", String.valueOf(Math.max(1, o.getJoinTimeoutMillis() / 1000)));
    // halves of a split cluster (a paused node, a partition) find each other again within seconds
    config.setProperty("hazelcast.merge.first.run.delay.seconds", "5");
    config.setProperty("hazelcast.merge.next.run.delay.seconds", "5");
    NetworkConfig network = config.getNetworkConfig();
    network.setPort(o.getPort()).setPortAutoIncrement(false);
    if (o.getHost() != null) {
      network.setPublicAddress(o.getHost() + ":" + o.getPort());
      network.getInterfaces().setEnabled(true).setInterfaces(List.of(o.getHost()));
      config.setProperty("hazelcast.local.localAddress", o.getHost());
    }
    JoinConfig join = network.getJoin();
    join.getMulticastConfig().setEnabled(false);
    join.getAutoDetectionConfig().setEnabled(false);
    if (o.getKubernetesService() != null) {
      join.getKubernetesConfig().setEnabled(true).setProperty("service-name", o.getKubernetesService());
      if (o.getKubernetesNamespace() != null) join.getKubernetesConfig().setProperty("namespace", o.getKubernetesNamespace());
    } else {
      join.getTcpIpConfig().setEnabled(true).setMembers(o.getMembers())
        .setConnectionTimeoutSeconds((int) Math.max(1, o.getJoinTimeoutMillis() / 1000));
    }
    return config;
  }

  private void listen() {
    manager.getHazelcastInstance().getCluster().addMembershipListener(new MembershipListener() {
      @Override
      public void memberAdded(MembershipEvent event) {
        changed("joined", event.getMember());
      }

      @Override
      public void memberRemoved(MembershipEvent event) {
        changed("left", event.getMember());
      }
    });
    log.info("cluster {}: this node is {} at {}; {} member(s): {}", options.getName(), membership.self(),
      manager.getHazelcastInstance().getCluster().getLocalMember().getAddress(), membership.members().size(), membership.members());
    if (membership.members().size() == 1 && (!options.getMembers().isEmpty() || options.getKubernetesService() != null)) {
      log.warn("cluster {}: no other node answered within cluster.join-timeout ({}); running alone until one joins ({})",
        options.getName(), Durations.format(options.getJoinTimeoutMillis()),
        options.getKubernetesService() != null ? "kubernetes service " + options.getKubernetesService() : "members " + String.join(",", options.getMembers()));
    }
  }

  private void changed(String what, Member member) {
    membership.set(manager.getNodes()); // Vert.x's node ids, in Hazelcast's member order (oldest first)
    log.info("cluster: a node at {} {}; {} member(s)", member.getAddress(), what, membership.members().size());
    vertx.eventBus().publish(Addresses.CLUSTER_MEMBERS_CHANGED, membership.toJson());
  }

  private Future<Void> awaitRequiredMembers() {
    int required = options.getRequireMembers();
    if (membership.members().size() >= required) return Future.succeededFuture();
    Promise<Void> enough = Promise.promise();
    long deadline = System.nanoTime() + options.getJoinTimeoutMillis() * 1_000_000;
    vertx.setPeriodic(100, id -> {
      if (membership.members().size() >= required) {
        vertx.cancelTimer(id);
        enough.tryComplete();
      } else if (System.nanoTime() >= deadline) {
        vertx.cancelTimer(id);
        enough.tryFail("cluster.require-members: " + required + " node(s) required, but " + membership.members().size()
          + " joined within cluster.join-timeout (" + Durations.format(options.getJoinTimeoutMillis()) + "); not reached: "
          + (options.getMembers().isEmpty() ? "(no members listed)" : String.join(",", options.getMembers()))
          + " (check that they run with the same cluster.name and can reach port " + options.getPort() + ")");
      }
    });
    return enough.future();
  }

  public Vertx vertx() {
    return vertx;
  }

  public Membership membership() {
    return membership;
  }

  public String name() {
    return options.getName();
  }

  /** The host the other nodes reach this one at: cluster.host, or the address Hazelcast bound. */
  public String host() {
    return options.getHost() != null ? options.getHost() : manager.getHazelcastInstance().getCluster().getLocalMember().getAddress().getHost();
  }

  /** Where the other nodes reach this one (host:port of the member protocol). */
  public String address() {
    return manager.getHazelcastInstance().getCluster().getLocalMember().getAddress().toString();
  }
}
