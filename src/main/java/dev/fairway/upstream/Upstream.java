package dev.fairway.upstream;

import io.vertx.core.json.JsonObject;

/**
 * One upstream server as the balancer sees it at one revision: immutable, so a snapshot can be shared by every
 * proxy instance without locks.
 *
 * @param id       "host:port", unique in a set
 * @param group    the upstream group it belongs to
 * @param protocol http1, http2, or grpc (HTTP/2 with gRPC health probes)
 * @param weight   relative share of traffic, 1 or more
 * @param maxConns most requests in flight to it at once; 0 = no limit
 * @param backup   used only while no primary upstream is up
 * @param down     administratively out: never used, whatever its health
 * @param draining no new requests; in-flight ones finish (then, if it is being deleted, it goes)
 * @param up       false while the health checks say it is down
 * @param reason   why it is in its current health state (e.g. "status 503", "timeout"), for /health
 * @param nodeMaxConns this node's share of maxConns in a cluster (0 = no limit, -1 = none), else maxConns
 */
public record Upstream(String id, String group, String host, int port, String protocol, int weight, int maxConns, boolean backup,
                       boolean down, boolean draining, boolean up, String reason, int nodeMaxConns) {

  public Upstream(String id, String group, String host, int port, String protocol, int weight, int maxConns, boolean backup,
                  boolean down, boolean draining, boolean up, String reason) {
    this(id, group, host, port, protocol, weight, maxConns, backup, down, draining, up, reason, maxConns);
  }

  public Upstream withHealth(boolean up, String reason) {
    return new Upstream(id, group, host, port, protocol, weight, maxConns, backup, down, draining, up, reason, nodeMaxConns);
  }

  /** The same upstream with new settings, keeping its health (and, until it is shared out again, no share but the whole limit). */
  public Upstream withSettings(String group, int weight, int maxConns, boolean backup, boolean down, boolean draining) {
    return new Upstream(id, group, host, port, protocol, weight, maxConns, backup, down, draining, up, reason);
  }

  /** The same upstream with this node's share of its max-conns. */
  public Upstream withNodeMaxConns(int share) {
    return share == nodeMaxConns ? this : new Upstream(id, group, host, port, protocol, weight, maxConns, backup, down, draining, up, reason, share);
  }

  /** Spoken to over HTTP/2. */
  public boolean http2() {
    return !protocol.equals("http1");
  }

  /** Can take traffic now: healthy, not administratively down, not draining. */
  public boolean usable() {
    return up && !down && !draining;
  }

  /** The admin state: active, drain or down. */
  public String state() {
    return down ? "down" : draining ? "drain" : "active";
  }

  public JsonObject toJson() {
    return new JsonObject().put("id", id).put("group", group).put("host", host).put("port", port).put("protocol", protocol).put("weight", weight)
      .put("max_conns", maxConns).put("backup", backup).put("down", down).put("draining", draining).put("state", state())
      .put("status", up ? "UP" : "DOWN").put("reason", reason).put("node_max_conns", nodeMaxConns);
  }

  public static Upstream fromJson(JsonObject json) {
    return new Upstream(json.getString("id"), json.getString("group", "default"), json.getString("host"), json.getInteger("port"),
      json.getString("protocol", "http1"),
      json.getInteger("weight"), json.getInteger("max_conns", 0), json.getBoolean("backup", false),
      json.getBoolean("down", false), json.getBoolean("draining", false), "UP".equals(json.getString("status")), json.getString("reason"),
      json.getInteger("node_max_conns", json.getInteger("max_conns", 0)));
  }
}
