package dev.fairway.cluster;

import dev.fairway.bus.Addresses;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.List;

/**
 * Who is in the cluster, as this node last heard: its own id and every member's, in the cluster's order (oldest
 * first, the same on every node). A single Fairway is a cluster of one. Changes are also published on
 * {@link Addresses#CLUSTER_MEMBERS_CHANGED} (local to the node) as {@link #toJson()}.
 */
public final class Membership {

  private final String self;
  private volatile List<String> members;

  public Membership(String self, List<String> members) {
    this.self = self;
    this.members = List.copyOf(members);
  }

  /** The view of a Fairway that is not clustered. */
  public static Membership alone() {
    return new Membership("local", List.of("local"));
  }

  /** Whether this node is part of a cluster (started with --cluster), even while it is the only member. */
  public boolean clustered() {
    return !self.equals("local");
  }

  public String self() {
    return self;
  }

  public List<String> members() {
    return members;
  }

  void set(List<String> next) {
    members = List.copyOf(next);
  }

  /** Whether this node is the one that ranks first for {@code key}: the one that probes that upstream. */
  public boolean owns(String key) {
    return self.equals(Rendezvous.owner(key, members));
  }

  public JsonObject toJson() {
    return new JsonObject().put("self", self).put("members", new JsonArray(members));
  }

  public static List<String> membersOf(JsonObject json) {
    return json.getJsonArray("members").stream().map(String::valueOf).toList();
  }
}
