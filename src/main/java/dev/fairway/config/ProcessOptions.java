package dev.fairway.config;

import java.util.Set;

/**
 * How the process runs: proxy instances and their upstream connections, graceful stop, config watching, per-request
 * metrics, and Fairway's own log.
 */
public final class ProcessOptions {

  /** Connections per upstream per proxy instance: long requests each hold one, so this is far above the library's 5. */
  public static final int DEFAULT_POOL_SIZE = 512;
  public static final long DEFAULT_SHUTDOWN_TIMEOUT = 30_000;
  public static final int DEFAULT_UPSTREAM_MAX_IDLE = 64;
  /** nginx's keepalive_timeout for upstream connections is 60 s too. */
  public static final long DEFAULT_UPSTREAM_IDLE_TIMEOUT = 60_000;
  /** A minute without a garbage collection: the proxy has been near idle, so a full collection stops nothing busy. */
  public static final long DEFAULT_RELEASE_MEMORY_AFTER = 60_000;

  static final ConfigKeys<ProcessOptions> KEYS = new ConfigKeys<ProcessOptions>()
    .restartKey("instances", (r, key, o) -> o.instances = r.integer(key, o.instances, 0, 1024), o -> o.instances)
    .restartKey("pool-size", (r, key, o) -> o.poolSize = r.integer(key, o.poolSize, 1, 100_000), o -> o.poolSize)
    .restartKey("upstream-max-idle", (r, key, o) -> o.upstreamMaxIdle = r.integer(key, o.upstreamMaxIdle, 0, 100_000),
      o -> o.upstreamMaxIdle)
    .restartKey("upstream-idle-timeout", (r, key, o) -> o.upstreamIdleTimeoutMillis = r.duration(key, o.upstreamIdleTimeoutMillis),
      o -> Durations.format(o.upstreamIdleTimeoutMillis))
    .restartKey("release-memory-after", (r, key, o) -> o.releaseMemoryAfterMillis = r.duration(key, o.releaseMemoryAfterMillis),
      o -> Durations.format(o.releaseMemoryAfterMillis))
    .key("shutdown-timeout", (r, key, o) -> o.shutdownTimeoutMillis = r.duration(key, o.shutdownTimeoutMillis),
      o -> Durations.format(o.shutdownTimeoutMillis))
    .key("watch-config", (r, key, o) -> o.watchConfig = r.bool(key, o.watchConfig), o -> o.watchConfig)
    .key("metrics", (r, key, o) -> o.metrics = r.bool(key, o.metrics), o -> o.metrics)
    .key("error-log", (r, key, o) -> o.errorLog = r.string(key, o.errorLog), o -> o.errorLog)
    .key("log-level", (r, key, o) -> o.setLogLevel(r.key(key), r.string(key, o.logLevel)), o -> o.logLevel);

  /** 0: one proxy verticle instance per CPU core. */
  private int instances;
  private int poolSize = DEFAULT_POOL_SIZE;
  /** Kept-alive connections kept per upstream per proxy instance (nginx's {@code keepalive}). */
  private int upstreamMaxIdle = DEFAULT_UPSTREAM_MAX_IDLE;
  /** A kept-alive upstream connection unused this long is closed; 0 = never. */
  private long upstreamIdleTimeoutMillis = DEFAULT_UPSTREAM_IDLE_TIMEOUT;
  /** Quiet this long (no garbage collection), memory a burst took goes back to the system; 0 = never. */
  private long releaseMemoryAfterMillis = DEFAULT_RELEASE_MEMORY_AFTER;
  /** How long a stop signal waits for in-flight requests (gunicorn's graceful_timeout). */
  private long shutdownTimeoutMillis = DEFAULT_SHUTDOWN_TIMEOUT;
  /** Reload when the config file changes. */
  private boolean watchConfig = true;
  /** Per-request meters (by route, upstream, method, code) and /stats; off saves their cost. */
  private boolean metrics = true;
  /** stderr, or a file path for Fairway's own log. */
  private String errorLog = "stderr";
  private String logLevel = "info";

  /** The number of proxy verticle instances to deploy. */
  public int effectiveInstances() {
    return instances > 0 ? instances : Runtime.getRuntime().availableProcessors();
  }

  public int getInstances() {
    return instances;
  }

  public ProcessOptions setInstances(int instances) {
    this.instances = instances;
    return this;
  }

  public int getPoolSize() {
    return poolSize;
  }

  public ProcessOptions setPoolSize(int poolSize) {
    this.poolSize = poolSize;
    return this;
  }

  public int getUpstreamMaxIdle() {
    return upstreamMaxIdle;
  }

  public ProcessOptions setUpstreamMaxIdle(int max) {
    this.upstreamMaxIdle = max;
    return this;
  }

  public long getUpstreamIdleTimeoutMillis() {
    return upstreamIdleTimeoutMillis;
  }

  public ProcessOptions setUpstreamIdleTimeoutMillis(long millis) {
    this.upstreamIdleTimeoutMillis = millis;
    return this;
  }

  public long getReleaseMemoryAfterMillis() {
    return releaseMemoryAfterMillis;
  }

  public ProcessOptions setReleaseMemoryAfterMillis(long millis) {
    this.releaseMemoryAfterMillis = millis;
    return this;
  }

  public long getShutdownTimeoutMillis() {
    return shutdownTimeoutMillis;
  }

  public ProcessOptions setShutdownTimeoutMillis(long shutdownTimeoutMillis) {
    this.shutdownTimeoutMillis = shutdownTimeoutMillis;
    return this;
  }

  public boolean isWatchConfig() {
    return watchConfig;
  }

  public boolean isMetrics() {
    return metrics;
  }

  public ProcessOptions setMetrics(boolean metrics) {
    this.metrics = metrics;
    return this;
  }

  public String getErrorLog() {
    return errorLog;
  }

  public String getLogLevel() {
    return logLevel;
  }

  public ProcessOptions setLogLevel(String key, String level) {
    if (!Set.of("error", "warn", "info", "debug", "trace").contains(level.toLowerCase())) {
      throw ConfigException.invalid(key, level, "error, warn, info, debug or trace");
    }
    this.logLevel = level.toLowerCase();
    return this;
  }
}
