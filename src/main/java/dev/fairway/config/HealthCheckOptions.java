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
  public static final int DEFAULT_MAX_FAILS = 1;
  public static final long DEFAULT_FAIL_TIMEOUT = 10_000;
  public static final long DEFAULT_MAX_EJECTION = 300_000;
  private static final Set<String> KEYS = Set.of("enabled", "path", "interval", "timeout", "rise", "fall",
    "expected-status", "host", "initial-state", "max-fails", "fail-timeout", "max-ejection-time", "fail-on-status",
    "capacity-field", "capacity-header");

  private boolean enabled = true;
  private String path = DEFAULT_PATH;
  private long intervalMillis = DEFAULT_INTERVAL;
  private long timeoutMillis = DEFAULT_TIMEOUT;
  private int rise = DEFAULT_RISE;
  private int fall = DEFAULT_FALL;
  /** Whether path was set: an unset path probes "/", which many APIs do not serve, so any answer below 500 passes. */
  private boolean pathSet;
  /** Whether expected-status was set; unset, it is 200-399 on a set path and 100-499 on the default one. */
  private boolean expectedStatusSet;
  private int expectedStatusMin = 200;
  private int expectedStatusMax = 399;
  /** Host header of probes; null: the upstream's own host:port. */
  private String host;
  /** Whether an upstream takes traffic before its first probe: false = checked first. */
  private boolean initiallyUp;
  /** Passive detection: failures within failTimeout that eject an upstream; 0 = off. */
  private int maxFails = DEFAULT_MAX_FAILS;
  private long failTimeoutMillis = DEFAULT_FAIL_TIMEOUT;
  private long maxEjectionMillis = DEFAULT_MAX_EJECTION;
  /** Upstream response codes the proxy counts as failures, e.g. [502, 503, 504]; none by default. */
  private Set<Integer> failOnStatus = Set.of();
  /** A JSON pointer into the health answer to the capacity the upstream reports; null: none read. */
  private String capacityField;
  /** A response header in which the upstream reports its capacity on every answer ({@code free/total}); null: none. */
  private String capacityHeader;

  public HealthCheckOptions() {
  }

  public HealthCheckOptions(ConfigReader r) {
    this();
    r.rejectUnknown(KEYS);
    enabled = r.bool("enabled", enabled);
    if (r.has("path")) setPath(r.key("path"), r.string("path", path));
    intervalMillis = positive(r.key("interval"), r.duration("interval", intervalMillis));
    timeoutMillis = positive(r.key("timeout"), r.duration("timeout", timeoutMillis));
    rise = r.integer("rise", rise, 1, 100);
    fall = r.integer("fall", fall, 1, 100);
    if (r.has("expected-status")) setExpectedStatus(r.key("expected-status"), String.valueOf(r.raw("expected-status")));
    host = r.string("host", null);
    String initial = r.string("initial-state", "down");
    if (!initial.equals("down") && !initial.equals("up")) {
      throw ConfigException.invalid(r.key("initial-state"), initial, "down (checked before it takes traffic) or up");
    }
    initiallyUp = initial.equals("up");
    maxFails = r.integer("max-fails", maxFails, 0, 1000);
    failTimeoutMillis = positive(r.key("fail-timeout"), r.duration("fail-timeout", failTimeoutMillis));
    maxEjectionMillis = positive(r.key("max-ejection-time"), r.duration("max-ejection-time", maxEjectionMillis));
    var codes = r.array("fail-on-status");
    var set = new java.util.TreeSet<Integer>();
    for (int i = 0; i < codes.size(); i++) {
      Object v = codes.getValue(i);
      if (!(v instanceof Integer code) || code < 500 || code > 599) {
        throw ConfigException.invalid(r.key("fail-on-status") + "[" + i + "]", v, "a 5xx status code such as 502");
      }
      set.add(code);
    }
    failOnStatus = Set.copyOf(set);
    if (r.has("capacity-field")) setCapacityField(r.key("capacity-field"), r.string("capacity-field", null));
    if (r.has("capacity-header")) setCapacityHeader(r.key("capacity-header"), r.string("capacity-header", null));
  }

  public String getCapacityField() {
    return capacityField;
  }

  /** @param pointer an RFC 6901 JSON pointer such as {@code /capacity} */
  public HealthCheckOptions setCapacityField(String key, String pointer) {
    try {
      if (!pointer.startsWith("/")) throw new IllegalArgumentException("no leading /");
      io.vertx.core.json.pointer.JsonPointer.from(pointer);
    } catch (IllegalArgumentException e) {
      throw ConfigException.invalid(key, pointer, "a JSON pointer into the health answer, such as /capacity");
    }
    this.capacityField = pointer;
    return this;
  }

  public String getCapacityHeader() {
    return capacityHeader;
  }

  public HealthCheckOptions setCapacityHeader(String key, String header) {
    if (!header.matches("[A-Za-z0-9!#$%&'*+.^_`|~-]+")) {
      throw ConfigException.invalid(key, header, "a header name such as X-Capacity");
    }
    this.capacityHeader = header;
    return this;
  }

  /** Parses {@code 200-399} or a single code such as {@code 200}. */
  public HealthCheckOptions setExpectedStatus(String key, String range) {
    String[] parts = range.trim().split("-", 2);
    try {
      int lo = Integer.parseInt(parts[0].trim());
      int hi = parts.length == 2 ? Integer.parseInt(parts[1].trim()) : lo;
      if (lo >= 100 && hi <= 599 && lo <= hi) {
        expectedStatusMin = lo;
        expectedStatusMax = hi;
        expectedStatusSet = true;
        return this;
      }
    } catch (NumberFormatException ignored) {
      // reported below
    }
    throw ConfigException.invalid(key, range, "a status or range such as 200 or 200-399");
  }

  /**
   * Whether a probe's status means the upstream is up: within expected-status if set; else 200-399 for a configured
   * path, and any answer below 500 for the default "/" (the server is up and speaking HTTP, though it may have no
   * such page: a Flask API without a "/" route answers 404 there).
   */
  public boolean isExpected(int status) {
    if (!expectedStatusSet && !pathSet) return status >= 100 && status < 500;
    return status >= expectedStatusMin && status <= expectedStatusMax;
  }

  /** Whether probes use the default path and its any-answer-below-500 rule. */
  public boolean isDefaultPath() {
    return !pathSet;
  }

  /** The statuses that pass, in words, for the startup log. */
  public String expectedInWords() {
    if (!expectedStatusSet && !pathSet) return "any answer below 500";
    return expectedStatusMin == expectedStatusMax ? "status " + expectedStatusMin : "status " + expectedStatusMin + "-" + expectedStatusMax;
  }

  public String getHost() {
    return host;
  }

  public HealthCheckOptions setHost(String host) {
    this.host = host;
    return this;
  }

  public boolean isInitiallyUp() {
    return initiallyUp;
  }

  public HealthCheckOptions setInitiallyUp(boolean initiallyUp) {
    this.initiallyUp = initiallyUp;
    return this;
  }

  public int getMaxFails() {
    return maxFails;
  }

  public HealthCheckOptions setMaxFails(int maxFails) {
    this.maxFails = maxFails;
    return this;
  }

  public long getFailTimeoutMillis() {
    return failTimeoutMillis;
  }

  public HealthCheckOptions setFailTimeoutMillis(long failTimeoutMillis) {
    this.failTimeoutMillis = failTimeoutMillis;
    return this;
  }

  public long getMaxEjectionMillis() {
    return maxEjectionMillis;
  }

  public HealthCheckOptions setMaxEjectionMillis(long maxEjectionMillis) {
    this.maxEjectionMillis = maxEjectionMillis;
    return this;
  }

  public Set<Integer> getFailOnStatus() {
    return failOnStatus;
  }

  public HealthCheckOptions setFailOnStatus(Set<Integer> failOnStatus) {
    this.failOnStatus = Set.copyOf(failOnStatus);
    return this;
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
    this.pathSet = true;
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
    JsonObject json = new JsonObject().put("enabled", enabled);
    if (pathSet) json.put("path", path);
    json.put("interval", Durations.format(intervalMillis)).put("timeout", Durations.format(timeoutMillis))
      .put("rise", rise).put("fall", fall);
    if (expectedStatusSet) json.put("expected-status", expectedStatusMin + "-" + expectedStatusMax);
    return json.put("host", host)
      .put("initial-state", initiallyUp ? "up" : "down").put("max-fails", maxFails)
      .put("fail-timeout", Durations.format(failTimeoutMillis)).put("max-ejection-time", Durations.format(maxEjectionMillis))
      .put("fail-on-status", new io.vertx.core.json.JsonArray(new java.util.ArrayList<>(new java.util.TreeSet<>(failOnStatus))))
      .put("capacity-field", capacityField).put("capacity-header", capacityHeader);
  }
}
