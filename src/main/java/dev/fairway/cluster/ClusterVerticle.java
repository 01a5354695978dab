package dev.fairway.cluster;

import dev.fairway.bus.Addresses;
import dev.fairway.bus.UpstreamFeed;
import dev.fairway.cli.VersionProvider;
import dev.fairway.proxy.RequestQueue;
import dev.fairway.upstream.InFlightCounters;
import dev.fairway.upstream.Upstream;
import dev.fairway.upstream.UpstreamSet;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.lang.management.ManagementFactory;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * What every node of a cluster tells the others about itself, five times a second: its version, uptime, requests in
 * flight per upstream, which upstreams it probes and its share of each one's max-conns. From the others' it keeps
 * the requests they have in flight to each upstream (what least-conn and p2c add to this node's own), answers
 * {@code GET /admin/cluster} and keeps the cluster metrics. Deployed only with {@code --cluster}.
 */
public class ClusterVerticle extends VerticleBase {

  static final long STATUS_INTERVAL_MILLIS = 200;
  private static final JsonObject EMPTY = new JsonObject();

  private final ClusterNode node;
  private final InFlightCounters inFlight;
  private final RequestQueue queue;
  private final SlotLending lending = new SlotLending();
  private long round;
  private final MeterRegistry registry;
  private final long startedAt = ManagementFactory.getRuntimeMXBean().getStartTime();
  /** The last status heard from each other member. */
  private final Map<String, JsonObject> peers = new HashMap<>();
  private UpstreamSet upstreams;
  private MultiGauge shares;

  public ClusterVerticle(ClusterNode node, InFlightCounters inFlight, RequestQueue queue, MeterRegistry registry) {
    this.node = node;
    this.inFlight = inFlight;
    this.queue = queue;
    this.registry = registry;
  }

  @Override
  public Future<?> start() {
    Membership membership = node.membership();
    Gauge.builder("fairway.cluster.members", membership, m -> m.members().size())
      .description("Fairway nodes in this node's cluster, itself included").register(registry);
    shares = MultiGauge.builder("fairway.cluster.share")
      .description("This node's share of an upstream's max-conns (-1: none; 0: no limit)").register(registry);
    vertx.setPeriodic(STATUS_INTERVAL_MILLIS, id -> {
      lendSlots();
      vertx.eventBus().publish(Addresses.CLUSTER_NODE_STATUS, status());
    });
    return Future.all(
        vertx.eventBus().<JsonObject>consumer(Addresses.CLUSTER_SLOTS_SENT + "." + membership.self(), this::onSlots).completion(),
        vertx.eventBus().<JsonObject>consumer(Addresses.CLUSTER_NODE_STATUS, this::onStatus).completion(),
        vertx.eventBus().<JsonObject>localConsumer(Addresses.CLUSTER_MEMBERS_CHANGED, msg -> {
          peers.keySet().retainAll(Membership.membersOf(msg.body()));
          countElsewhere();
        }).completion(),
        vertx.eventBus().<JsonObject>localConsumer(Addresses.CLUSTER_GET, msg -> msg.reply(view())).completion())
      .compose(v -> UpstreamFeed.follow(vertx, this::onSnapshot));
  }

  private void onSnapshot(UpstreamSet set) {
    upstreams = set;
    countElsewhere();
    shares.register(set.upstreams().stream()
      .map(u -> MultiGauge.Row.of(Tags.of("upstream", u.id()), u.nodeMaxConns())).toList(), true);
  }

  private void onStatus(Message<JsonObject> msg) {
    String from = msg.body().getString("node");
    if (from == null || from.equals(node.membership().self()) || !node.membership().members().contains(from)) return;
    peers.put(from, msg.body());
    countElsewhere();
  }

  /** Sums the other nodes' in-flight requests per upstream into the counters every pick reads. */
  private void countElsewhere() {
    if (upstreams == null) return;
    for (Upstream u : upstreams.upstreams()) {
      int sum = 0;
      for (JsonObject peer : peers.values()) sum += peer.getJsonObject("in_flight", EMPTY).getInteger(u.id(), 0);
      inFlight.elsewhere(u.id()).set(sum);
    }
  }

  /** A round of lending for each limited upstream (see {@link SlotLending}): slots this node sends go point to point. */
  private void lendSlots() {
    if (upstreams == null) return;
    round++;
    List<String> members = node.membership().members();
    java.util.Set<String> limited = new java.util.HashSet<>();
    for (Upstream u : upstreams.upstreams()) {
      if (u.maxConns() <= 0) continue;
      limited.add(u.id());
      List<SlotLending.Peer> others = new java.util.ArrayList<>();
      for (Map.Entry<String, JsonObject> e : peers.entrySet()) {
        JsonObject slots = e.getValue().getJsonObject("slots", EMPTY).getJsonObject(u.id());
        if (slots == null) continue;
        others.add(new SlotLending.Peer(e.getKey(), slots.getInteger("share", 0), slots.getInteger("limit", 0),
          e.getValue().getJsonObject("in_flight", EMPTY).getInteger(u.id(), 0), slots.getInteger("waiting", 0), slots.getString("epoch", "")));
      }
      String epoch = SlotLending.epoch(members, u.maxConns());
      for (SlotLending.Grant g : lending.round(u.id(), epoch, u.nodeMaxConns(), inFlight.lent(u.id()), inFlight.get(u.id()), queue.size(), others, round)) {
        vertx.eventBus().send(Addresses.CLUSTER_SLOTS_SENT + "." + g.to(),
          new JsonObject().put("from", node.membership().self()).put("upstream", g.upstream()).put("slots", g.slots()).put("epoch", g.epoch()));
      }
    }
    lending.retain(limited);
  }

  /** Slots another node lent or gave back: usable at once, by what waits in the queue first. */
  private void onSlots(Message<JsonObject> msg) {
    JsonObject body = msg.body();
    if (lending.received(body.getString("upstream"), body.getString("epoch"), body.getInteger("slots", 0), inFlight.lent(body.getString("upstream")))) {
      queue.slotsAdded();
    }
  }

  /** This node's status: what it publishes, and its own row of /admin/cluster. */
  JsonObject status() {
    JsonObject counts = new JsonObject();
    JsonObject nodeShares = new JsonObject();
    JsonArray probes = new JsonArray();
    JsonObject slots = new JsonObject();
    List<String> members = node.membership().members();
    if (upstreams != null) {
      for (Upstream u : upstreams.upstreams()) {
        counts.put(u.id(), inFlight.get(u.id()));
        if (u.maxConns() > 0) {
          nodeShares.put(u.id(), Math.max(0, u.nodeMaxConns()));
          slots.put(u.id(), new JsonObject().put("share", u.nodeMaxConns())
            .put("limit", SlotLending.limit(u.nodeMaxConns(), inFlight.lent(u.id()))).put("waiting", queue.size())
            .put("epoch", SlotLending.epoch(members, u.maxConns())));
        }
        if (node.membership().owns(u.id())) probes.add(u.id());
      }
    }
    return new JsonObject().put("node", node.membership().self()).put("address", node.address())
      .put("version", VersionProvider.version()).put("started_at", startedAt)
      .put("in_flight", counts).put("probes", probes).put("shares", nodeShares).put("slots", slots);
  }

  /** Every member in the cluster's order (oldest first), each with its last status; one not heard from yet says so. */
  private JsonObject view() {
    long now = System.currentTimeMillis();
    JsonArray members = new JsonArray();
    List<String> ids = node.membership().members();
    for (String id : ids) {
      JsonObject s = id.equals(node.membership().self()) ? status().put("self", true) : peers.get(id);
      if (s == null) {
        members.add(new JsonObject().put("node", id).put("status", "joining"));
        continue;
      }
      members.add(s.copy().put("uptime_seconds", (now - s.getLong("started_at", now)) / 1000));
    }
    return new JsonObject().put("name", node.name()).put("self", node.membership().self()).put("size", ids.size())
      .put("members", members);
  }
}
