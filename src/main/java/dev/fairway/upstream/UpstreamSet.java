package dev.fairway.upstream;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * An immutable snapshot of all upstreams with a monotonic revision: receivers drop a snapshot older than the one they
 * hold, so the bus may reorder or repeat messages without harm.
 */
public record UpstreamSet(long revision, Map<String, String> strategies, List<Upstream> upstreams) {

  public UpstreamSet {
    strategies = Map.copyOf(strategies);
    upstreams = List.copyOf(upstreams);
  }

  /** The default group's strategy. */
  public String strategy() {
    return strategies.getOrDefault("default", "round-robin");
  }

  /**
   * The upstreams that take traffic now: the usable primaries, or the usable backups while no primary is usable
   * (nginx's {@code backup}), or in panic mode, with nothing usable, all that are not administratively down.
   */
  public List<Upstream> eligible(String group, boolean panicTryAll) {
    List<Upstream> members = upstreams.stream().filter(u -> u.group().equals(group)).toList();
    List<Upstream> primaries = members.stream().filter(u -> u.usable() && !u.backup()).toList();
    if (!primaries.isEmpty()) return primaries;
    List<Upstream> backups = members.stream().filter(u -> u.usable() && u.backup()).toList();
    if (!backups.isEmpty() || !panicTryAll) return backups;
    // panic: the health checks may be what is wrong, so every upstream not administratively out gets traffic
    return members.stream().filter(u -> !u.down() && !u.draining()).toList();
  }

  public boolean anyUp() {
    return upstreams.stream().anyMatch(Upstream::usable);
  }

  /**
   * The next revision with one upstream's health changed, or this same set if nothing changes (so that a repeated
   * status message publishes nothing).
   */
  public UpstreamSet withHealth(String id, boolean up, String reason) {
    List<Upstream> next = new ArrayList<>(upstreams.size());
    boolean changed = false;
    for (Upstream u : upstreams) {
      if (u.id().equals(id) && (u.up() != up || !Objects.equals(u.reason(), reason))) {
        next.add(u.withHealth(up, reason));
        changed = true;
      } else {
        next.add(u);
      }
    }
    return changed ? new UpstreamSet(revision + 1, strategies, next) : this;
  }

  /** The next revision with {@code next} as the upstreams (and the groups' strategies). */
  public UpstreamSet with(Map<String, String> strategies, List<Upstream> next) {
    return new UpstreamSet(revision + 1, strategies, next);
  }

  public java.util.Optional<Upstream> find(String id) {
    return upstreams.stream().filter(u -> u.id().equals(id)).findFirst();
  }

  public JsonObject toJson() {
    JsonArray list = new JsonArray();
    upstreams.forEach(u -> list.add(u.toJson()));
    return new JsonObject().put("revision", revision).put("strategy", strategy())
      .put("groups", new JsonObject(new java.util.LinkedHashMap<>(strategies))).put("upstreams", list);
  }

  public static UpstreamSet fromJson(JsonObject json) {
    List<Upstream> list = new ArrayList<>();
    json.getJsonArray("upstreams").forEach(o -> list.add(Upstream.fromJson((JsonObject) o)));
    Map<String, String> strategies = new java.util.HashMap<>();
    JsonObject groups = json.getJsonObject("groups", new JsonObject().put("default", json.getString("strategy")));
    groups.forEach(e -> strategies.put(e.getKey(), String.valueOf(e.getValue())));
    return new UpstreamSet(json.getLong("revision"), strategies, list);
  }
}
