package dev.fairway.config;

import io.vertx.core.json.JsonObject;

import java.nio.file.Path;
import java.util.Set;

/**
 * Long jobs ({@code jobs:}): requests on a job route are spooled to disk while they are relayed, so a client that goes
 * away can resume, and a repeat with the same Idempotency-Key attaches instead of running again. At the top level the
 * block sets the spool (dir, sizes, retention, URL prefix) and the defaults of every route; a route's own
 * {@code jobs:} may set {@code enabled}, {@code on-disconnect}, {@code sse-ids} and {@code key-scope}.
 */
public final class JobOptions {

  public static final String DEFAULT_PREFIX = "/.fairway/jobs";
  static final Set<String> ROUTE_KEYS = Set.of("enabled", "on-disconnect", "sse-ids", "key-scope");
  static final Set<String> TOP_KEYS = Set.of("enabled", "on-disconnect", "sse-ids", "key-scope", "dir", "max-size",
    "max-total", "retention", "prefix");

  private boolean enabled;
  /** keep: a client that goes away after its request was sent leaves the job running; cancel: it is cancelled. */
  private boolean keepOnDisconnect = true;
  /** Number the events of a text/event-stream response that come without an id: line. */
  private boolean sseIds = true;
  /** Who may read a job and whose Idempotency-Keys meet: {@code header:NAME}, {@code client-ip} or {@code none}. */
  private String keyScope = "header:Authorization";
  private Path dir = Path.of(System.getProperty("java.io.tmpdir"), "fairway-jobs");
  private long maxSize = 1L << 30;
  private long maxTotal = 10L << 30;
  private long retentionMillis = 24 * 3600_000L;
  private String prefix = DEFAULT_PREFIX;

  public JobOptions() {
  }

  /** The top-level block. */
  public JobOptions(ConfigReader r) {
    r.rejectUnknown(TOP_KEYS);
    readRouteKeys(r);
    if (r.has("dir")) dir = Path.of(r.string("dir", null));
    if (r.has("max-size")) maxSize = atLeast(r, "max-size", 1024);
    if (r.has("max-total")) maxTotal = atLeast(r, "max-total", 1024);
    retentionMillis = HealthCheckOptions.positive(r.key("retention"), r.duration("retention", retentionMillis));
    prefix = r.string("prefix", prefix);
    if (!prefix.matches("/[A-Za-z0-9._~/-]*[A-Za-z0-9._~-]")) {
      throw ConfigException.invalid(r.key("prefix"), prefix, "a path such as /.fairway/jobs (no trailing slash)");
    }
  }

  /** A route's block: its keys override {@code defaults}; the spool is the top level's. */
  public JobOptions(ConfigReader r, JobOptions defaults) {
    copy(defaults);
    if (!r.names().isEmpty()) {
      for (String name : r.names()) {
        if (TOP_KEYS.contains(name) && !ROUTE_KEYS.contains(name)) {
          throw ConfigException.invalid(r.key(name), r.raw(name), "no value here: the spool's " + name + " is set in the top-level jobs block");
        }
      }
      r.rejectUnknown(ROUTE_KEYS);
      readRouteKeys(r);
    }
  }

  private void readRouteKeys(ConfigReader r) {
    enabled = r.bool("enabled", enabled);
    String onDisconnect = r.string("on-disconnect", keepOnDisconnect ? "keep" : "cancel");
    if (!Set.of("keep", "cancel").contains(onDisconnect)) throw ConfigException.invalid(r.key("on-disconnect"), onDisconnect, "keep or cancel");
    keepOnDisconnect = onDisconnect.equals("keep");
    Object ids = r.raw("sse-ids");
    if (ids instanceof Boolean b) { // YAML 1.1 reads a bare off as false
      sseIds = b;
    } else if (ids != null) {
      if (!Set.of("auto", "off").contains(ids)) throw ConfigException.invalid(r.key("sse-ids"), ids, "auto or off");
      sseIds = ids.equals("auto");
    }
    keyScope = r.string("key-scope", keyScope);
    if (!keyScope.equals("client-ip") && !keyScope.equals("none") && !keyScope.matches("header:[A-Za-z0-9!#$%&'*+.^_`|~-]+")) {
      throw ConfigException.invalid(r.key("key-scope"), keyScope, "header:NAME, client-ip or none");
    }
  }

  private static long atLeast(ConfigReader r, String key, long min) {
    long bytes = Sizes.parseBytes(r.key(key), r.raw(key));
    if (bytes < min) throw ConfigException.invalid(r.key(key), r.raw(key), "a size of at least 1k, such as 1g");
    return bytes;
  }

  private void copy(JobOptions o) {
    enabled = o.enabled;
    keepOnDisconnect = o.keepOnDisconnect;
    sseIds = o.sseIds;
    keyScope = o.keyScope;
    dir = o.dir;
    maxSize = o.maxSize;
    maxTotal = o.maxTotal;
    retentionMillis = o.retentionMillis;
    prefix = o.prefix;
  }

  /** The top-level block, in the config file's format. */
  public JsonObject toJson() {
    return routeJson().put("dir", dir.toString()).put("max-size", maxSize).put("max-total", maxTotal)
      .put("retention", Durations.format(retentionMillis)).put("prefix", prefix);
  }

  /** A route's block. */
  public JsonObject routeJson() {
    return new JsonObject().put("enabled", enabled).put("on-disconnect", keepOnDisconnect ? "keep" : "cancel")
      .put("sse-ids", sseIds ? "auto" : "off").put("key-scope", keyScope);
  }

  public boolean isEnabled() {
    return enabled;
  }

  public JobOptions setEnabled(boolean enabled) {
    this.enabled = enabled;
    return this;
  }

  public boolean isKeepOnDisconnect() {
    return keepOnDisconnect;
  }

  public JobOptions setKeepOnDisconnect(boolean keep) {
    this.keepOnDisconnect = keep;
    return this;
  }

  public boolean isSseIds() {
    return sseIds;
  }

  public String getKeyScope() {
    return keyScope;
  }

  public JobOptions setKeyScope(String keyScope) {
    this.keyScope = keyScope;
    return this;
  }

  public Path getDir() {
    return dir;
  }

  public JobOptions setDir(Path dir) {
    this.dir = dir;
    return this;
  }

  public long getMaxSize() {
    return maxSize;
  }

  public JobOptions setMaxSize(long maxSize) {
    this.maxSize = maxSize;
    return this;
  }

  public long getMaxTotal() {
    return maxTotal;
  }

  public long getRetentionMillis() {
    return retentionMillis;
  }

  public JobOptions setRetentionMillis(long retentionMillis) {
    this.retentionMillis = retentionMillis;
    return this;
  }

  public String getPrefix() {
    return prefix;
  }
}
