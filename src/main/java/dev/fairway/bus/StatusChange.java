package dev.fairway.bus;

import io.vertx.core.json.JsonObject;

/** The body of {@link Addresses#HEALTH_STATUS_CHANGED}: one upstream went UP or DOWN, and why. */
public record StatusChange(String upstream, boolean up, String reason, long at) {

  public JsonObject toJson() {
    return new JsonObject().put("upstream", upstream).put("status", up ? "UP" : "DOWN").put("reason", reason).put("at", at);
  }

  public static StatusChange fromJson(JsonObject json) {
    return new StatusChange(json.getString("upstream"), "UP".equals(json.getString("status")), json.getString("reason"),
      json.getLong("at", 0L));
  }
}
