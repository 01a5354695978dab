package dev.fairway.config;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/** The whole Fairway configuration, validated: built from YAML/JSON, then overridden by command-line flags. */
public class FairwayOptions {

  public static final String DEFAULT_HOST = "0.0.0.0";
  public static final int DEFAULT_PORT = 8080;
  public static final String DEFAULT_ADMIN_HOST = "127.0.0.1";
  public static final int DEFAULT_ADMIN_PORT = 9901;
  /** Connections per upstream per proxy instance: long requests each hold one, so this is far above the library's 5. */
  public static final int DEFAULT_POOL_SIZE = 512;
  public static final int DEFAULT_RETRIES = 2;
  public static final int DEFAULT_QUEUE_SIZE = 1000;
  public static final int DEFAULT_RETRY_BUFFER = 64 * 1024;
  public static final long DEFAULT_SHUTDOWN_TIMEOUT = 30_000;
  public static final long DEFAULT_QUEUE_TIMEOUT = 60_000;
  /** nginx's client_header_timeout (60 s there; 10 s here, as slowloris advice has it). */
  public static final long DEFAULT_CLIENT_HEADER_TIMEOUT = 10_000;
  /** nginx's keepalive_timeout. */
  public static final long DEFAULT_CLIENT_KEEPALIVE_TIMEOUT = 75_000;
  private static final Set<String> KEYS;

  static {
    List<String> keys = new ArrayList<>(List.of("listen", "admin", "instances", "strategy", "upstreams", "health",
      "routes", "groups", "pool-size", "retries", "hash-key", "queue-size", "queue-timeout", "trusted-proxies",
      "client-ip-header", "retry-buffer", "retry-timeout", "panic", "shutdown-timeout", "watch-config",
      "access-log", "access-log-format", "access-log-max-size", "access-log-compress", "error-log", "log-level",
      "tls", "http2-cleartext", "max-body-size", "underscores-in-headers", "upstream-tls",
      "client-header-timeout", "client-keepalive-timeout", "metrics"));
    keys.addAll(TimeoutOptions.KEYS);
    KEYS = Set.copyOf(keys);
  }

  private String host = DEFAULT_HOST;
  private int port = DEFAULT_PORT;
  private String adminHost = DEFAULT_ADMIN_HOST;
  private int adminPort = DEFAULT_ADMIN_PORT;
  /** 0: one proxy verticle instance per CPU core. */
  private int instances = 0;
  private StrategyName strategy = StrategyName.ROUND_ROBIN;
  private int poolSize = DEFAULT_POOL_SIZE;
  /** Other upstreams to try when a connect fails (no byte was sent, so this is safe for any method). */
  private int retries = DEFAULT_RETRIES;
  /** Largest request body kept in memory so that an idempotent request can be retried; 0 = only bodiless ones. */
  private int retryBuffer = DEFAULT_RETRY_BUFFER;
  /** No new attempt starts this long after the request arrived; 0 = no bound but {@link #retries}. */
  private long retryTimeoutMillis;
  /** With every upstream DOWN: false = 503 at once, true = try them all anyway (Envoy's panic threshold). */
  private boolean panicTryAll;
  /** How long a stop signal waits for in-flight requests (gunicorn's graceful_timeout). */
  private long shutdownTimeoutMillis = DEFAULT_SHUTDOWN_TIMEOUT;
  /** Reload when the config file changes. */
  private boolean watchConfig = true;
  /** PEM files of the proxy's TLS certificate and key; null: plain HTTP. */
  private String tlsCert;
  private String tlsKey;
  private UpstreamTlsOptions upstreamTls = new UpstreamTlsOptions();
  /** HTTP/2 without TLS (prior knowledge) on the listen port. */
  private boolean http2Cleartext;
  /** A new client connection must complete its first request head within this; 0 = no limit. */
  private long clientHeaderTimeoutMillis = DEFAULT_CLIENT_HEADER_TIMEOUT;
  /** A kept-alive client connection with no request in progress is closed after this; 0 = never. */
  private long clientKeepAliveTimeoutMillis = DEFAULT_CLIENT_KEEPALIVE_TIMEOUT;
  /** Per-request meters (by route, upstream, method, code) and /stats; off saves their cost. */
  private boolean metrics = true;
  /** Drop request headers whose names contain '_' (many backends read them as '-'): nginx's default. */
  private boolean dropUnderscoreHeaders = true;
  /** off, stdout, or a file path. */
  private String accessLog = "stdout";
  private String accessLogFormat = "combined";
  /** Size at which the access log file is rotated (it is also rotated daily). */
  private long accessLogMaxSize = 100L << 20;
  /** Gzip rotated access log files: off by default, as compressing costs about as much CPU as writing the log. */
  private boolean accessLogCompress = false;
  /** stderr, or a file path for Fairway's own log. */
  private String errorLog = "stderr";
  private String logLevel = "info";
  /** Bearer token of the /admin API; null: the admin API is off. */
  private String adminToken;
  /** For the hash strategy: what to hash. */
  private HashKey hashKey;
  /** Requests that wait when every upstream is at max-conns; 0 = reject at once. */
  private int queueSize = DEFAULT_QUEUE_SIZE;
  private long queueTimeoutMillis = DEFAULT_QUEUE_TIMEOUT;
  /** Peers whose X-Forwarded-For (or client-ip-header) is believed. */
  private List<Cidr> trustedProxies = new ArrayList<>();
  /** A header a trusted peer sets to the client address, e.g. CF-Connecting-IP; null = use X-Forwarded-For. */
  private String clientIpHeader;
  private List<UpstreamOptions> upstreams = new ArrayList<>();
  /** Groups besides the default one (the top-level strategy, hash-key and upstreams). */
  private java.util.Map<String, GroupOptions> groups = new java.util.LinkedHashMap<>();
  private HealthCheckOptions health = new HealthCheckOptions();
  private TimeoutOptions timeouts = new TimeoutOptions();
  private List<RouteOptions> routes = new ArrayList<>();

  public FairwayOptions() {
  }

  public FairwayOptions(JsonObject json) {
    this();
    ConfigReader r = new ConfigReader(json, "");
    r.rejectUnknown(KEYS);
    ConfigReader listen = r.object("listen");
    listen.rejectUnknown(Set.of("host", "port"));
    host = listen.string("host", host);
    port = listen.port("port", port);
    ConfigReader admin = r.object("admin");
    admin.rejectUnknown(Set.of("host", "port", "token"));
    adminHost = admin.string("host", adminHost);
    adminPort = admin.port("port", adminPort);
    adminToken = admin.string("token", null);
    shutdownTimeoutMillis = r.duration("shutdown-timeout", shutdownTimeoutMillis);
    watchConfig = r.bool("watch-config", watchConfig);
    metrics = r.bool("metrics", metrics);
    clientHeaderTimeoutMillis = r.duration("client-header-timeout", clientHeaderTimeoutMillis);
    clientKeepAliveTimeoutMillis = r.duration("client-keepalive-timeout", clientKeepAliveTimeoutMillis);
    ConfigReader tls = r.object("tls");
    tls.rejectUnknown(Set.of("cert", "key"));
    tlsCert = tls.string("cert", null);
    tlsKey = tls.string("key", null);
    if ((tlsCert == null) != (tlsKey == null)) {
      throw ConfigException.invalid(tlsCert == null ? "tls.cert" : "tls.key", "missing", "both tls.cert and tls.key (PEM files)");
    }
    http2Cleartext = r.bool("http2-cleartext", false);
    upstreamTls = new UpstreamTlsOptions(r.object("upstream-tls"));
    String underscores = r.string("underscores-in-headers", "drop");
    if (!underscores.equals("drop") && !underscores.equals("allow")) {
      throw ConfigException.invalid(r.key("underscores-in-headers"), underscores, "drop or allow");
    }
    dropUnderscoreHeaders = underscores.equals("drop");
    // YAML 1.1 reads a bare off/on as false/true
    Object log = r.raw("access-log");
    setAccessLog(log instanceof Boolean on ? (on ? "stdout" : "off") : r.string("access-log", accessLog));
    setAccessLogFormat(r.key("access-log-format"), r.string("access-log-format", accessLogFormat));
    if (r.has("access-log-max-size")) setAccessLogMaxSize(r.key("access-log-max-size"), r.raw("access-log-max-size"));
    accessLogCompress = r.bool("access-log-compress", accessLogCompress);
    errorLog = r.string("error-log", errorLog);
    setLogLevel(r.key("log-level"), r.string("log-level", logLevel));
    instances = r.integer("instances", instances, 0, 1024);
    strategy = StrategyName.parse(r.key("strategy"), r.string("strategy", strategy.configName()));
    poolSize = r.integer("pool-size", poolSize, 1, 100_000);
    retries = r.integer("retries", retries, 0, 100);
    retryBuffer = r.integer("retry-buffer", retryBuffer, 0, 64 * 1024 * 1024);
    retryTimeoutMillis = r.duration("retry-timeout", retryTimeoutMillis);
    String panic = r.string("panic", "fail");
    if (!panic.equals("fail") && !panic.equals("try-all")) {
      throw ConfigException.invalid(r.key("panic"), panic, "fail (503 at once) or try-all");
    }
    panicTryAll = panic.equals("try-all");
    if (r.has("hash-key")) hashKey = HashKey.parse(r.key("hash-key"), r.string("hash-key", null));
    queueSize = r.integer("queue-size", queueSize, 0, 1_000_000);
    queueTimeoutMillis = HealthCheckOptions.positive(r.key("queue-timeout"), r.duration("queue-timeout", queueTimeoutMillis));
    JsonArray cidrs = r.array("trusted-proxies");
    for (int i = 0; i < cidrs.size(); i++) {
      Object v = cidrs.getValue(i);
      trustedProxies.add(Cidr.parse("trusted-proxies[" + i + "]", String.valueOf(v)));
    }
    clientIpHeader = r.string("client-ip-header", null);
    upstreams = GroupOptions.readUpstreams(r, "upstreams");
    ConfigReader groupsReader = r.object("groups");
    for (String name : groupsReader.names()) {
      if (name.equals(GroupOptions.DEFAULT)) {
        throw ConfigException.invalid(groupsReader.key(name), name, "another name: the top-level upstreams are the default group");
      }
      groups.put(name, new GroupOptions(name, groupsReader.object(name)));
    }
    health = new HealthCheckOptions(r.object("health"));
    timeouts = new TimeoutOptions(r, new TimeoutOptions());
    JsonArray routeList = r.array("routes");
    for (int i = 0; i < routeList.size(); i++) {
      Object entry = routeList.getValue(i);
      if (!(entry instanceof JsonObject o)) {
        throw ConfigException.invalid("routes[" + i + "]", entry, "a mapping with path and timeouts");
      }
      routes.add(new RouteOptions(new ConfigReader(o, "routes[" + i + "]"), timeouts));
    }
  }

  /** Checks what only the whole configuration can tell; called once the flags are applied. */
  public FairwayOptions validate() {
    if (upstreams.isEmpty()) {
      throw ConfigException.invalid("upstreams", "none", "at least one upstream: -u HOST:PORT, upstreams: in the config, or --demo");
    }
    if (strategy == StrategyName.HASH && hashKey == null) {
      throw ConfigException.invalid("hash-key", "missing", "header:NAME or cookie:NAME with strategy hash (--hash-key)");
    }
    groups.forEach((name, g) -> g.validate("groups." + name));
    java.util.Set<String> seen = new java.util.HashSet<>();
    for (GroupOptions g : allGroups()) {
      for (UpstreamOptions u : g.getUpstreams()) {
        if (!seen.add(u.id())) {
          throw ConfigException.invalid(g.getName().equals(GroupOptions.DEFAULT) ? "upstreams" : "groups." + g.getName(), u.id(),
            "each upstream address in one group only");
        }
      }
    }
    for (int i = 0; i < routes.size(); i++) {
      String group = routes.get(i).getGroup();
      if (!group.equals(GroupOptions.DEFAULT) && !groups.containsKey(group)) {
        throw ConfigException.invalid("routes[" + i + "].group", group, "one of " + allGroups().stream().map(GroupOptions::getName).toList());
      }
    }
    if (port != 0 && port == adminPort && host.equals(adminHost)) {
      throw ConfigException.invalid("admin.port", adminPort, "a port other than the proxy's listen.port");
    }
    return this;
  }

  /** The number of proxy verticle instances to deploy. */
  public int effectiveInstances() {
    return instances > 0 ? instances : Runtime.getRuntime().availableProcessors();
  }

  public boolean isMetrics() {
    return metrics;
  }

  public FairwayOptions setMetrics(boolean metrics) {
    this.metrics = metrics;
    return this;
  }

  public long getClientHeaderTimeoutMillis() {
    return clientHeaderTimeoutMillis;
  }

  public FairwayOptions setClientHeaderTimeoutMillis(long millis) {
    this.clientHeaderTimeoutMillis = millis;
    return this;
  }

  public long getClientKeepAliveTimeoutMillis() {
    return clientKeepAliveTimeoutMillis;
  }

  public FairwayOptions setClientKeepAliveTimeoutMillis(long millis) {
    this.clientKeepAliveTimeoutMillis = millis;
    return this;
  }

  public String getHost() {
    return host;
  }

  public FairwayOptions setHost(String host) {
    this.host = host;
    return this;
  }

  public int getPort() {
    return port;
  }

  public FairwayOptions setPort(int port) {
    this.port = port;
    return this;
  }

  public String getAdminHost() {
    return adminHost;
  }

  public FairwayOptions setAdminHost(String adminHost) {
    this.adminHost = adminHost;
    return this;
  }

  public int getAdminPort() {
    return adminPort;
  }

  public FairwayOptions setAdminPort(int adminPort) {
    this.adminPort = adminPort;
    return this;
  }

  public int getInstances() {
    return instances;
  }

  public FairwayOptions setInstances(int instances) {
    this.instances = instances;
    return this;
  }

  public StrategyName getStrategy() {
    return strategy;
  }

  public FairwayOptions setStrategy(StrategyName strategy) {
    this.strategy = strategy;
    return this;
  }

  public int getPoolSize() {
    return poolSize;
  }

  public FairwayOptions setPoolSize(int poolSize) {
    this.poolSize = poolSize;
    return this;
  }

  public int getRetries() {
    return retries;
  }

  public FairwayOptions setRetries(int retries) {
    this.retries = retries;
    return this;
  }

  public String getTlsCert() {
    return tlsCert;
  }

  public String getTlsKey() {
    return tlsKey;
  }

  public FairwayOptions setTls(String cert, String key) {
    this.tlsCert = cert;
    this.tlsKey = key;
    return this;
  }

  public UpstreamTlsOptions getUpstreamTls() {
    return upstreamTls;
  }

  public FairwayOptions setUpstreamTls(UpstreamTlsOptions upstreamTls) {
    this.upstreamTls = upstreamTls;
    return this;
  }

  public boolean isHttp2Cleartext() {
    return http2Cleartext;
  }

  public FairwayOptions setHttp2Cleartext(boolean http2Cleartext) {
    this.http2Cleartext = http2Cleartext;
    return this;
  }

  public boolean isDropUnderscoreHeaders() {
    return dropUnderscoreHeaders;
  }

  public String getAccessLog() {
    return accessLog;
  }

  public FairwayOptions setAccessLog(String accessLog) {
    this.accessLog = accessLog;
    return this;
  }

  public String getAccessLogFormat() {
    return accessLogFormat;
  }

  public FairwayOptions setAccessLogFormat(String key, String format) {
    if (!Set.of("combined", "gunicorn", "json").contains(format)) {
      throw ConfigException.invalid(key, format, "combined, gunicorn or json");
    }
    this.accessLogFormat = format;
    return this;
  }

  public long getAccessLogMaxSize() {
    return accessLogMaxSize;
  }

  /** @param value a size such as {@code 100m}, at least 1 KiB */
  public FairwayOptions setAccessLogMaxSize(String key, Object value) {
    long bytes = Sizes.parseBytes(key, value);
    if (bytes < 1024) throw ConfigException.invalid(key, value, "a size of at least 1k, such as 100m");
    this.accessLogMaxSize = bytes;
    return this;
  }

  public boolean isAccessLogCompress() {
    return accessLogCompress;
  }

  public FairwayOptions setAccessLogCompress(boolean accessLogCompress) {
    this.accessLogCompress = accessLogCompress;
    return this;
  }

  public String getErrorLog() {
    return errorLog;
  }

  public FairwayOptions setErrorLog(String errorLog) {
    this.errorLog = errorLog;
    return this;
  }

  public String getLogLevel() {
    return logLevel;
  }

  public FairwayOptions setLogLevel(String key, String level) {
    if (!Set.of("error", "warn", "info", "debug", "trace").contains(level.toLowerCase())) {
      throw ConfigException.invalid(key, level, "error, warn, info, debug or trace");
    }
    this.logLevel = level.toLowerCase();
    return this;
  }

  public long getShutdownTimeoutMillis() {
    return shutdownTimeoutMillis;
  }

  public FairwayOptions setShutdownTimeoutMillis(long shutdownTimeoutMillis) {
    this.shutdownTimeoutMillis = shutdownTimeoutMillis;
    return this;
  }

  public boolean isWatchConfig() {
    return watchConfig;
  }

  public String getAdminToken() {
    return adminToken;
  }

  public FairwayOptions setAdminToken(String adminToken) {
    this.adminToken = adminToken;
    return this;
  }

  /**
   * Settings that only a restart can change: what differs between this running config and {@code next}.
   */
  public List<String> restartNeeded(FairwayOptions next) {
    List<String> keys = new ArrayList<>();
    if (!host.equals(next.host) || port != next.port) keys.add("listen");
    if (!adminHost.equals(next.adminHost) || adminPort != next.adminPort) keys.add("admin.host/admin.port");
    if (effectiveInstances() != next.effectiveInstances()) keys.add("instances");
    if (health.isEnabled() != next.health.isEnabled()) keys.add("health.enabled");
    if (poolSize != next.poolSize) keys.add("pool-size");
    if (!java.util.Objects.equals(tlsCert, next.tlsCert) || !java.util.Objects.equals(tlsKey, next.tlsKey)
      || http2Cleartext != next.http2Cleartext) keys.add("tls/http2-cleartext");
    if (!upstreamTls.toJson().equals(next.upstreamTls.toJson())) keys.add("upstream-tls");
    if (queueSize != next.queueSize) keys.add("queue-size");
    if (!java.util.Objects.equals(adminToken, next.adminToken)) keys.add("admin.token");
    return keys;
  }

  /** True when {@code other} writes the same access log: destination, format and rotation. */
  public boolean sameAccessLog(FairwayOptions other) {
    return accessLog.equals(other.accessLog) && accessLogFormat.equals(other.accessLogFormat)
      && accessLogMaxSize == other.accessLogMaxSize && accessLogCompress == other.accessLogCompress;
  }

  public int getRetryBuffer() {
    return retryBuffer;
  }

  public FairwayOptions setRetryBuffer(int retryBuffer) {
    this.retryBuffer = retryBuffer;
    return this;
  }

  public long getRetryTimeoutMillis() {
    return retryTimeoutMillis;
  }

  public FairwayOptions setRetryTimeoutMillis(long retryTimeoutMillis) {
    this.retryTimeoutMillis = retryTimeoutMillis;
    return this;
  }

  public boolean isPanicTryAll() {
    return panicTryAll;
  }

  public FairwayOptions setPanicTryAll(boolean panicTryAll) {
    this.panicTryAll = panicTryAll;
    return this;
  }

  public HashKey getHashKey() {
    return hashKey;
  }

  public FairwayOptions setHashKey(HashKey hashKey) {
    this.hashKey = hashKey;
    return this;
  }

  public int getQueueSize() {
    return queueSize;
  }

  public FairwayOptions setQueueSize(int queueSize) {
    this.queueSize = queueSize;
    return this;
  }

  public long getQueueTimeoutMillis() {
    return queueTimeoutMillis;
  }

  public FairwayOptions setQueueTimeoutMillis(long queueTimeoutMillis) {
    this.queueTimeoutMillis = queueTimeoutMillis;
    return this;
  }

  public List<Cidr> getTrustedProxies() {
    return trustedProxies;
  }

  public FairwayOptions setTrustedProxies(List<Cidr> trustedProxies) {
    this.trustedProxies = new ArrayList<>(trustedProxies);
    return this;
  }

  public String getClientIpHeader() {
    return clientIpHeader;
  }

  public FairwayOptions setClientIpHeader(String clientIpHeader) {
    this.clientIpHeader = clientIpHeader;
    return this;
  }

  /** The default group (top-level strategy, hash-key, upstreams) followed by the configured ones. */
  public List<GroupOptions> allGroups() {
    List<GroupOptions> all = new ArrayList<>();
    all.add(new GroupOptions(GroupOptions.DEFAULT, strategy, hashKey, upstreams));
    all.addAll(groups.values());
    return all;
  }

  public FairwayOptions setGroups(List<GroupOptions> extra) {
    groups = new java.util.LinkedHashMap<>();
    extra.forEach(g -> groups.put(g.getName(), g));
    return this;
  }

  public List<UpstreamOptions> getUpstreams() {
    return upstreams;
  }

  public FairwayOptions setUpstreams(List<UpstreamOptions> upstreams) {
    this.upstreams = new ArrayList<>(upstreams);
    return this;
  }

  public HealthCheckOptions getHealth() {
    return health;
  }

  public FairwayOptions setHealth(HealthCheckOptions health) {
    this.health = health;
    return this;
  }

  public TimeoutOptions getTimeouts() {
    return timeouts;
  }

  public FairwayOptions setTimeouts(TimeoutOptions timeouts) {
    this.timeouts = timeouts;
    return this;
  }

  public List<RouteOptions> getRoutes() {
    return routes;
  }

  public FairwayOptions setRoutes(List<RouteOptions> routes) {
    this.routes = new ArrayList<>(routes);
    return this;
  }

  public JsonObject toJson() {
    JsonObject json = timeouts.toJson()
      .put("listen", new JsonObject().put("host", host).put("port", port))
      .put("admin", new JsonObject().put("host", adminHost).put("port", adminPort).put("token", adminToken))
      .put("shutdown-timeout", Durations.format(shutdownTimeoutMillis))
      .put("tls", tlsCert == null ? null : new JsonObject().put("cert", tlsCert).put("key", tlsKey))
      .put("http2-cleartext", http2Cleartext)
      .put("upstream-tls", upstreamTls.toJson())
      .put("underscores-in-headers", dropUnderscoreHeaders ? "drop" : "allow")
      .put("access-log", accessLog).put("access-log-format", accessLogFormat)
      .put("access-log-max-size", accessLogMaxSize).put("access-log-compress", accessLogCompress)
      .put("error-log", errorLog).put("log-level", logLevel)
      .put("watch-config", watchConfig)
      .put("metrics", metrics)
      .put("client-header-timeout", Durations.format(clientHeaderTimeoutMillis))
      .put("client-keepalive-timeout", Durations.format(clientKeepAliveTimeoutMillis))
      .put("instances", instances)
      .put("strategy", strategy.configName())
      .put("pool-size", poolSize)
      .put("retries", retries)
      .put("retry-buffer", retryBuffer)
      .put("retry-timeout", Durations.format(retryTimeoutMillis))
      .put("panic", panicTryAll ? "try-all" : "fail")
      .put("hash-key", hashKey == null ? null : hashKey.toString())
      .put("queue-size", queueSize)
      .put("queue-timeout", Durations.format(queueTimeoutMillis))
      .put("trusted-proxies", new JsonArray(trustedProxies.stream().map(Cidr::toString).toList()))
      .put("client-ip-header", clientIpHeader)
      .put("health", health.toJson());
    JsonArray ups = new JsonArray();
    upstreams.forEach(u -> ups.add(u.toJson()));
    JsonArray rs = new JsonArray();
    routes.forEach(route -> rs.add(route.toJson()));
    JsonObject gs = new JsonObject();
    groups.forEach((name, g) -> gs.put(name, g.toJson()));
    return json.put("upstreams", ups).put("routes", rs).put("groups", gs);
  }
}
