package dev.fairway.config;

import io.vertx.core.json.JsonObject;

import java.util.Set;

/**
 * The four timeouts of a proxied request, as nginx names them, the body limit, and how long an event stream may stay
 * silent before Fairway writes a keep-alive comment. Read at the top level as defaults and in each route, where unset
 * keys inherit the defaults.
 */
public class TimeoutOptions {

  public static final long DEFAULT_CONNECT = 60_000;
  public static final long DEFAULT_READ = 1_800_000;
  public static final long DEFAULT_SEND = 1_800_000;
  /** 0: no bound on the whole request. */
  public static final long DEFAULT_TOTAL = 0;
  /** Cloudflare cuts a connection idle for 100 s, AWS ALB at 60 s by default: well under both. */
  public static final long DEFAULT_SSE_HEARTBEAT = 15_000;
  public static final Set<String> KEYS = Set.of("connect-timeout", "read-timeout", "send-timeout", "total-timeout",
    "max-body-size", "sse-heartbeat");

  private long connectMillis = DEFAULT_CONNECT;
  private long readMillis = DEFAULT_READ;
  private long sendMillis = DEFAULT_SEND;
  private long totalMillis = DEFAULT_TOTAL;
  /** Largest request body accepted, in bytes; 0: no limit (unlike nginx's 1 MiB default). */
  private long maxBodyBytes;
  /** Silence on a text/event-stream response after which an SSE comment goes to the client; 0: none. */
  private long sseHeartbeatMillis = DEFAULT_SSE_HEARTBEAT;

  public TimeoutOptions() {
  }

  public TimeoutOptions(TimeoutOptions other) {
    this.connectMillis = other.connectMillis;
    this.readMillis = other.readMillis;
    this.sendMillis = other.sendMillis;
    this.totalMillis = other.totalMillis;
    this.maxBodyBytes = other.maxBodyBytes;
    this.sseHeartbeatMillis = other.sseHeartbeatMillis;
  }

  /** Reads the timeout keys present in {@code r}, keeping {@code defaults} for the rest. */
  public TimeoutOptions(ConfigReader r, TimeoutOptions defaults) {
    this(defaults);
    connectMillis = HealthCheckOptions.positive(r.key("connect-timeout"), r.duration("connect-timeout", connectMillis));
    readMillis = HealthCheckOptions.positive(r.key("read-timeout"), r.duration("read-timeout", readMillis));
    sendMillis = HealthCheckOptions.positive(r.key("send-timeout"), r.duration("send-timeout", sendMillis));
    totalMillis = r.duration("total-timeout", totalMillis);
    if (r.has("max-body-size")) maxBodyBytes = Sizes.parseBytes(r.key("max-body-size"), r.raw("max-body-size"));
    sseHeartbeatMillis = r.duration("sse-heartbeat", sseHeartbeatMillis);
  }

  public long getSseHeartbeatMillis() {
    return sseHeartbeatMillis;
  }

  public TimeoutOptions setSseHeartbeatMillis(long millis) {
    this.sseHeartbeatMillis = millis;
    return this;
  }

  public long getMaxBodyBytes() {
    return maxBodyBytes;
  }

  public TimeoutOptions setMaxBodyBytes(long maxBodyBytes) {
    this.maxBodyBytes = maxBodyBytes;
    return this;
  }

  public long getConnectMillis() {
    return connectMillis;
  }

  public TimeoutOptions setConnectMillis(long connectMillis) {
    this.connectMillis = connectMillis;
    return this;
  }

  public long getReadMillis() {
    return readMillis;
  }

  public TimeoutOptions setReadMillis(long readMillis) {
    this.readMillis = readMillis;
    return this;
  }

  public long getSendMillis() {
    return sendMillis;
  }

  public TimeoutOptions setSendMillis(long sendMillis) {
    this.sendMillis = sendMillis;
    return this;
  }

  public long getTotalMillis() {
    return totalMillis;
  }

  public TimeoutOptions setTotalMillis(long totalMillis) {
    this.totalMillis = totalMillis;
    return this;
  }

  public JsonObject toJson() {
    return new JsonObject().put("connect-timeout", Durations.format(connectMillis))
      .put("read-timeout", Durations.format(readMillis)).put("send-timeout", Durations.format(sendMillis))
      .put("total-timeout", Durations.format(totalMillis)).put("max-body-size", maxBodyBytes)
      .put("sse-heartbeat", Durations.format(sseHeartbeatMillis));
  }
}
