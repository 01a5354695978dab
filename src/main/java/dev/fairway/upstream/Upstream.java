package dev.fairway.upstream;

import io.vertx.core.json.JsonObject;

/**
 * One upstream server as the balancer sees it at one revision: immutable, so a snapshot can be shared by every
 * proxy instance without locks.
 *
 * @param id     "host:port", unique in a set
 * @param weight relative share of traffic, 1 or more
 * @param up     false while the health checks say it is down
 * @param reason why it is in its current health state (e.g. "status 503", "timeout"), for /health
 */
public record Upstream(String id, String host, int port, int weight, boolean up, String reason) {

  public Upstream withHealth(boolean up, String reason) {
    return new Upstream(id, host, port, weight, up, reason);
  }

  public JsonObject toJson() {
    return new JsonObject().put("id", id).put("host", host).put("port", port).put("weight", weight)
      .put("status", up ? "UP" : "DOWN").put("reason", reason);
  }

  public static Upstream fromJson(JsonObject json) {
    return new Upstream(json.getString("id"), json.getString("host"), json.getInteger("port"),
      json.getInteger("weight"), "UP".equals(json.getString("status")), json.getString("reason"));
  }
}
