package dev.fairway.config;

import io.vertx.core.json.JsonObject;

import java.util.Set;

/** How the health verticle probes each upstream. */
public class HealthCheckOptions {

  public static final String DEFAULT_PATH = "/";
  public static final long DEFAULT_INTERVAL = 5_000;
  public static final long DEFAULT_TIMEOUT = 1_000;
  public static final int DEFAULT_RISE = 2;
  public static final int DEFAULT_FALL = 3;
  private static final Set<String> KEYS = Set.of("enabled", "path", "interval", "timeout", "rise", "fall");

  private boolean enabled = true;
  private String path = DEFAULT_PATH;
  private long intervalMillis = DEFAULT_INTERVAL;
  private long timeoutMillis = DEFAULT_TIMEOUT;
  private int rise = DEFAULT_RISE;
  private int fall = DEFAULT_FALL;

  public HealthCheckOptions() {
  }

  public HealthCheckOptions(ConfigReader r) {
    this();
    r.rejectUnknown(KEYS);
    enabled = r.bool("enabled", enabled);
    setPath(r.key("path"), r.string("path", path));
    intervalMillis = positive(r.key("interval"), r.duration("interval", intervalMillis));
    timeoutMillis = positive(r.key("timeout"), r.duration("timeout", timeoutMillis));
    rise = r.integer("rise", rise, 1, 100);
    fall = r.integer("fall", fall, 1, 100);
  }

  static long positive(String key, long millis) {
    if (millis <= 0) {
      throw ConfigException.invalid(key, Durations.format(millis), "a duration greater than zero");
    }
    return millis;
  }

  public boolean isEnabled() {
    return enabled;
  }

  public HealthCheckOptions setEnabled(boolean enabled) {
    this.enabled = enabled;
    return this;
  }

  public String getPath() {
    return path;
  }

  public HealthCheckOptions setPath(String key, String path) {
    if (!path.startsWith("/")) {
      throw ConfigException.invalid(key, path, "a path starting with /");
    }
    this.path = path;
    return this;
  }

  public long getIntervalMillis() {
    return intervalMillis;
  }

  public HealthCheckOptions setIntervalMillis(long intervalMillis) {
    this.intervalMillis = positive("health.interval", intervalMillis);
    return this;
  }

  public long getTimeoutMillis() {
    return timeoutMillis;
  }

  public HealthCheckOptions setTimeoutMillis(long timeoutMillis) {
    this.timeoutMillis = timeoutMillis;
    return this;
  }

  public int getRise() {
    return rise;
  }

  public HealthCheckOptions setRise(int rise) {
    this.rise = rise;
    return this;
  }

  public int getFall() {
    return fall;
  }

  public HealthCheckOptions setFall(int fall) {
    this.fall = fall;
    return this;
  }

  public JsonObject toJson() {
    return new JsonObject().put("enabled", enabled).put("path", path)
      .put("interval", Durations.format(intervalMillis)).put("timeout", Durations.format(timeoutMillis))
      .put("rise", rise).put("fall", fall);
  }
}
