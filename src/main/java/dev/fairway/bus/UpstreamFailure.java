package dev.fairway.bus;

import io.vertx.core.json.JsonObject;

/** The body of {@link Addresses#PROXY_UPSTREAM_FAILED}: a proxied request could not reach an upstream. */
public record UpstreamFailure(String upstream, String reason) {

  public JsonObject toJson() {
    return new JsonObject().put("upstream", upstream).put("reason", reason);
  }

  /** A short reason for logs and /health: "connection refused", "timeout", or the cause's message. */
  public static String describe(Throwable cause) {
    if (cause instanceof java.util.concurrent.TimeoutException || cause instanceof io.netty.channel.ConnectTimeoutException) {
      return "timeout";
    }
    if (cause instanceof java.net.ConnectException) return "connection refused";
    String msg = cause.getMessage();
    return msg == null ? cause.getClass().getSimpleName() : msg;
  }

  public static UpstreamFailure fromJson(JsonObject json) {
    return new UpstreamFailure(json.getString("upstream"), json.getString("reason"));
  }
}
