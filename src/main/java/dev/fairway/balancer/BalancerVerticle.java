package dev.fairway.balancer;

import dev.fairway.bus.Addresses;
import dev.fairway.bus.StatusChange;
import dev.fairway.cluster.Membership;
import dev.fairway.cluster.Shares;
import dev.fairway.config.ConfigException;
import dev.fairway.config.FairwayOptions;
import dev.fairway.config.GroupOptions;
import dev.fairway.config.UpstreamOptions;
import dev.fairway.upstream.InFlightCounters;
import dev.fairway.upstream.Upstream;
import dev.fairway.upstream.UpstreamSet;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * The only writer of upstream state. It applies health transitions, config reloads and admin changes to its snapshot
 * and publishes each new revision; proxy instances keep the latest one locally, so no request ever waits on the bus.
 * In a cluster it also takes the cluster's set as its node joins, shares its admin changes with the other nodes and
 * applies theirs, and gives each limited upstream this node's share of max-conns.
 */
public class BalancerVerticle extends VerticleBase {

  private static final Logger log = LoggerFactory.getLogger(BalancerVerticle.class);
  /** How often upstreams being deleted are checked for their last in-flight request. */
  private static final long DRAIN_CHECK_MILLIS = 200;

  private static final DeliveryOptions JOIN_TIMEOUT = new DeliveryOptions().setSendTimeout(3_000);

  private FairwayOptions options;
  private final InFlightCounters inFlight;
  private final Membership membership;
  /** Upstreams deleted through the admin API that still have requests in flight. */
  private final Set<String> removing = new HashSet<>();
  private UpstreamSet current;

  public BalancerVerticle(FairwayOptions options, InFlightCounters inFlight) {
    this(options, inFlight, Membership.alone());
  }

  public BalancerVerticle(FairwayOptions options, InFlightCounters inFlight, Membership membership) {
    this.options = options;
    this.inFlight = inFlight;
    this.membership = membership;
  }

  @Override
  public Future<?> start() {
    current = withShares(initialSet(options));
    vertx.setPeriodic(DRAIN_CHECK_MILLIS, id -> removeDrained());
    Future<?> local = Future.all(
      vertx.eventBus().consumer(Addresses.HEALTH_STATUS_CHANGED, this::onStatusChanged).completion(),
      vertx.eventBus().localConsumer(Addresses.UPSTREAMS_GET, this::onGet).completion(),
      vertx.eventBus().localConsumer(Addresses.CONFIG_CHANGED, this::onConfigChanged).completion(),
      vertx.eventBus().localConsumer(Addresses.ADMIN_UPSTREAMS, this::onAdmin).completion());
    if (!membership.clustered()) return local;
    return local
      .compose(v -> joinCluster())
      .compose(v -> Future.all(
        vertx.eventBus().localConsumer(Addresses.CLUSTER_MEMBERS_CHANGED, msg -> publish(withShares(current), "cluster members changed")).completion(),
        vertx.eventBus().<JsonObject>consumer(Addresses.CLUSTER_ADMIN_APPLIED, this::onAdminApplied).completion(),
        vertx.eventBus().consumer(Addresses.CLUSTER_UPSTREAMS_GET, this::onGet).completion()));
  }

  /**
   * A node that joins takes the cluster's upstreams as another node holds them (admin changes and health included);
   * the first node, or one that hears no answer, keeps its config's.
   */
  private Future<Void> joinCluster() {
    return vertx.eventBus().<JsonObject>request(Addresses.CLUSTER_UPSTREAMS_GET, null, JOIN_TIMEOUT)
      .map(reply -> {
        UpstreamSet theirs = UpstreamSet.fromJson(reply.body());
        UpstreamSet adopted = new UpstreamSet(Math.max(current.revision(), theirs.revision()), theirs.strategies(), theirs.upstreams());
        publish(withShares(adopted.with(adopted.strategies(), adopted.upstreams())), "took the cluster's " + theirs.upstreams().size() + " upstream(s)");
        return (Void) null;
      })
      .otherwise(err -> {
        log.info("cluster: no other node answered ({}); starting with the configured upstreams", err.getMessage());
        return null;
      });
  }

  /** Each limited upstream with this node's share of its max-conns, for the members as they are now. */
  private UpstreamSet withShares(UpstreamSet set) {
    if (!membership.clustered()) return set;
    List<String> members = membership.members();
    List<Upstream> ups = set.upstreams().stream()
      .map(u -> u.withNodeMaxConns(Shares.of(u.maxConns(), u.id(), members, membership.self()))).toList();
    boolean same = true;
    for (int i = 0; i < ups.size(); i++) same &= ups.get(i) == set.upstreams().get(i);
    return same ? set : set.with(set.strategies(), ups);
  }

  /**
   * Without health checks upstreams are UP. With them, an upstream takes traffic only once a probe has passed,
   * unless {@code health.initial-state: up}, where the first failing probe takes it out.
   */
  static UpstreamSet initialSet(FairwayOptions options) {
    List<Upstream> ups = new ArrayList<>();
    for (GroupOptions g : options.allGroups()) {
      g.getUpstreams().forEach(u -> ups.add(newUpstream(options, g.getName(), u)));
    }
    return new UpstreamSet(1, strategies(options), ups);
  }

  private static Map<String, String> strategies(FairwayOptions options) {
    Map<String, String> strategies = new java.util.LinkedHashMap<>();
    options.allGroups().forEach(g -> strategies.put(g.getName(), g.getStrategy().configName()));
    return strategies;
  }

  private static Upstream newUpstream(FairwayOptions options, String group, UpstreamOptions u) {
    boolean checked = options.getHealth().isEnabled();
    boolean up = !checked || options.getHealth().isInitiallyUp();
    return new Upstream(u.id(), group, u.getHost(), u.getPort(), u.getProtocol(), u.getWeight(), u.getMaxConns(), u.isBackup(), u.isDown(),
      false, up, checked ? "not checked yet" : "health checks off");
  }

  private void onGet(Message<JsonObject> msg) {
    msg.reply(current.toJson());
  }

  private void publish(UpstreamSet next, String why) {
    next = withShares(next);
    if (next == current) return;
    current = next;
    log.info("{}, revision {}", why, next.revision());
    vertx.eventBus().publish(Addresses.UPSTREAMS_CHANGED, current.toJson());
  }

  private void onStatusChanged(Message<JsonObject> msg) {
    StatusChange change = StatusChange.fromJson(msg.body());
    publish(current.withHealth(change.upstream(), change.up(), change.reason()),
      "upstream " + change.upstream() + " is " + (change.up() ? "UP" : "DOWN") + " (" + change.reason() + ")");
  }

  /**
   * A reloaded config: upstreams that stay keep their health, new ones start as configured, removed ones leave the
   * snapshot at once (their in-flight requests finish, since each request holds its own upstream).
   */
  private void onConfigChanged(Message<JsonObject> msg) {
    FairwayOptions next = new FairwayOptions(msg.body());
    Map<String, Upstream> old = current.upstreams().stream().collect(Collectors.toMap(Upstream::id, Function.identity()));
    List<Upstream> ups = new ArrayList<>();
    for (GroupOptions g : next.allGroups()) {
      for (UpstreamOptions u : g.getUpstreams()) {
        Upstream kept = old.get(u.id());
        // a new protocol is a new upstream to talk to: its health is checked afresh
        ups.add(kept == null || !kept.protocol().equals(u.getProtocol()) ? newUpstream(next, g.getName(), u)
          : kept.withSettings(g.getName(), u.getWeight(), u.getMaxConns(), u.isBackup(), u.isDown(), false));
      }
    }
    options = next;
    removing.clear();
    publish(current.with(strategies(next), ups), "config reloaded: " + ups.size() + " upstream(s) in " + next.allGroups().size() + " group(s)");
  }

  /** Admin API changes: {@code {"op":"add|update|remove", ...}}; replies with the upstream, or fails with 400 and why. */
  private void onAdmin(Message<JsonObject> msg) {
    JsonObject body = msg.body();
    try {
      Upstream changed = switch (body.getString("op", "")) {
        case "add" -> add(body.getJsonObject("upstream", new JsonObject()));
        case "update" -> update(body.getString("id"), body.getJsonObject("changes", new JsonObject()));
        case "remove" -> remove(body.getString("id"));
        default -> throw new ConfigException("op: " + body.getString("op") + " (expected: add, update or remove)");
      };
      Upstream shown = current.find(changed.id()).orElse(changed); // with this node's share
      msg.reply(shown.toJson().put("in_flight", inFlight.get(changed.id())));
      if (membership.clustered()) {
        vertx.eventBus().publish(Addresses.CLUSTER_ADMIN_APPLIED, new JsonObject().put("node", membership.self()).put("change", body));
      }
    } catch (ConfigException e) {
      msg.fail(400, e.getMessage());
    } catch (UnknownUpstream e) {
      msg.fail(404, e.getMessage());
    }
  }

  /** Another node's admin change: applied here the same way (it was checked there; a conflicting one is logged). */
  private void onAdminApplied(Message<JsonObject> msg) {
    if (membership.self().equals(msg.body().getString("node"))) return;
    JsonObject change = msg.body().getJsonObject("change", new JsonObject());
    try {
      switch (change.getString("op", "")) {
        case "add" -> add(change.getJsonObject("upstream", new JsonObject()));
        case "update" -> update(change.getString("id"), change.getJsonObject("changes", new JsonObject()));
        case "remove" -> remove(change.getString("id"));
        default -> log.warn("cluster: unknown admin change from {}: {}", msg.body().getString("node"), change.encode());
      }
    } catch (ConfigException | UnknownUpstream e) {
      log.warn("cluster: admin change from node {} not applied here: {}", msg.body().getString("node"), e.getMessage());
    }
  }

  private Upstream add(JsonObject json) {
    JsonObject spec = json.copy();
    Object group = spec.remove("group");
    String groupName = group == null ? GroupOptions.DEFAULT : String.valueOf(group);
    if (!current.strategies().containsKey(groupName)) {
      throw ConfigException.invalid("upstream.group", groupName, "one of " + current.strategies().keySet());
    }
    UpstreamOptions u = new UpstreamOptions(spec, "upstream");
    if (current.find(u.id()).isPresent()) {
      throw ConfigException.invalid("upstream.address", u.id(), "an upstream that is not configured yet");
    }
    Upstream added = newUpstream(options, groupName, u);
    List<Upstream> ups = new ArrayList<>(current.upstreams());
    ups.add(added);
    publish(current.with(current.strategies(), ups), "upstream " + added.id() + " added to group " + groupName);
    return added;
  }

  private Upstream update(String id, JsonObject changes) {
    Upstream u = current.find(id).orElseThrow(() -> new UnknownUpstream(id));
    for (String key : changes.fieldNames()) {
      if (!Set.of("weight", "max-conns", "state", "backup").contains(key)) {
        throw ConfigException.invalid(key, "unknown key", "one of [backup, max-conns, state, weight]");
      }
    }
    int weight = intIn(changes, "weight", u.weight(), 1, UpstreamOptions.MAX_WEIGHT);
    int maxConns = intIn(changes, "max-conns", u.maxConns(), 0, 1_000_000);
    Object backup = changes.getValue("backup", u.backup());
    if (!(backup instanceof Boolean)) throw ConfigException.invalid("backup", backup, "true or false");
    String state = changes.getValue("state", u.state()) instanceof String s ? s : "?";
    if (!Set.of("active", "drain", "down").contains(state)) {
      throw ConfigException.invalid("state", changes.getValue("state"), "active, drain or down");
    }
    Upstream updated = u.withSettings(u.group(), weight, maxConns, (Boolean) backup, state.equals("down"), state.equals("drain"));
    removing.remove(id);
    replace(updated, "upstream " + id + " updated: weight " + weight + ", max-conns " + maxConns + ", " + state);
    return updated;
  }

  /** Drains the upstream, then drops it once its last in-flight request is done. */
  private Upstream remove(String id) {
    Upstream u = current.find(id).orElseThrow(() -> new UnknownUpstream(id));
    Upstream draining = u.withSettings(u.group(), u.weight(), u.maxConns(), u.backup(), u.down(), true);
    removing.add(id);
    replace(draining, "upstream " + id + " draining before removal (" + inFlight.get(id) + " in flight)");
    removeDrained();
    return draining;
  }

  private void removeDrained() {
    if (removing.isEmpty()) return;
    List<String> done = removing.stream().filter(id -> inFlight.get(id) == 0).toList();
    if (done.isEmpty()) return;
    done.forEach(removing::remove);
    List<Upstream> ups = current.upstreams().stream().filter(u -> !done.contains(u.id())).toList();
    publish(current.with(current.strategies(), ups), "upstream(s) " + done + " removed");
  }

  private void replace(Upstream updated, String why) {
    List<Upstream> ups = current.upstreams().stream().map(u -> u.id().equals(updated.id()) ? updated : u).toList();
    publish(current.with(current.strategies(), ups), why);
  }

  private static int intIn(JsonObject json, String key, int fallback, int min, int max) {
    Object v = json.getValue(key, fallback);
    if (!(v instanceof Integer n) || n < min || n > max) {
      throw ConfigException.invalid(key, v, "a whole number from " + min + " to " + max);
    }
    return n;
  }

  /** An admin call named an upstream that does not exist. */
  private static final class UnknownUpstream extends RuntimeException {
    UnknownUpstream(String id) {
      super("no upstream " + id);
    }
  }
}
