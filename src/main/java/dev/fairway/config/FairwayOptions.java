package dev.fairway.config;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * The whole Fairway configuration, validated: built from YAML/JSON, then overridden by command-line flags. The config
 * file is flat (its top-level keys are the README's table), and its keys are declared once each, by section: where
 * clients connect ({@link ListenOptions}), the admin server ({@link AdminOptions}), the access log, what is allowed of
 * clients, the wait queue, retries, how the process runs; and here the upstreams and their groups, health checks,
 * timeouts and routes.
 */
public class FairwayOptions {

  /** The upstreams and how they are balanced, the top-level timeouts, health checks and routes. */
  private static final ConfigKeys<FairwayOptions> KEYS = new ConfigKeys<FairwayOptions>()
    .key("strategy", (r, key, o) -> o.strategy = StrategyName.parse(r.key(key), r.string(key, o.strategy.configName())),
      o -> o.strategy.configName())
    .key("hash-key", (r, key, o) -> {
      if (r.has(key)) o.hashKey = HashKey.parse(r.key(key), r.string(key, null));
    }, o -> o.hashKey == null ? null : o.hashKey.toString())
    .key("upstreams", (r, key, o) -> o.upstreams = GroupOptions.readUpstreams(r, key),
      o -> new JsonArray(o.upstreams.stream().map(UpstreamOptions::toJson).toList()))
    .key("groups", (r, key, o) -> {
      ConfigReader groups = r.object(key);
      for (String name : groups.names()) {
        if (name.equals(GroupOptions.DEFAULT)) {
          throw ConfigException.invalid(groups.key(name), name, "another name: the top-level upstreams are the default group");
        }
        o.groups.put(name, new GroupOptions(name, groups.object(name)));
      }
    }, o -> {
      JsonObject groups = new JsonObject();
      o.groups.forEach((name, g) -> groups.put(name, g.toJson()));
      return groups;
    })
    .restartKey("upstream-tls", (r, key, o) -> o.upstreamTls = new UpstreamTlsOptions(r.object(key)), o -> o.upstreamTls.toJson())
    .key("health", (r, key, o) -> o.health = new HealthCheckOptions(r.object(key)), o -> o.health.toJson())
    .key("jobs", (r, key, o) -> o.jobs = new JobOptions(r.object(key)), o -> o.jobs.toJson())
    .key("routes", (r, key, o) -> {
      JsonArray list = r.array(key);
      for (int i = 0; i < list.size(); i++) {
        if (!(list.getValue(i) instanceof JsonObject route)) {
          throw ConfigException.invalid(key + "[" + i + "]", list.getValue(i), "a mapping with path and timeouts");
        }
        o.routes.add(new RouteOptions(new ConfigReader(route, key + "[" + i + "]"), o.timeouts, o.limits, o.jobs));
      }
    }, o -> new JsonArray(o.routes.stream().map(RouteOptions::toJson).toList()));

  /** A section of the flat config file, and where this class keeps it. */
  private record Section<O>(ConfigKeys<O> keys, Function<FairwayOptions, O> of) {
    void read(ConfigReader r, FairwayOptions o) {
      keys.read(r, of.apply(o));
    }

    void write(FairwayOptions o, JsonObject json) {
      keys.write(of.apply(o), json);
    }

    void restartNeeded(FairwayOptions running, FairwayOptions next, List<String> into) {
      keys.restartNeeded(of.apply(running), of.apply(next), into);
    }
  }

  private static final List<Section<?>> SECTIONS = List.of(
    new Section<>(ListenOptions.KEYS, FairwayOptions::getListen),
    new Section<>(AdminOptions.KEYS, FairwayOptions::getAdmin),
    new Section<>(AccessLogOptions.KEYS, FairwayOptions::getAccessLog),
    new Section<>(ClientOptions.KEYS, FairwayOptions::getClients),
    new Section<>(QueueOptions.KEYS, FairwayOptions::getQueue),
    new Section<>(RetryOptions.KEYS, FairwayOptions::getRetry),
    new Section<>(ProcessOptions.KEYS, FairwayOptions::getProcess),
    new Section<>(ClusterOptions.KEYS, FairwayOptions::getCluster));
  private static final Set<String> ALL_KEYS;

  static {
    Set<String> keys = new HashSet<>(KEYS.names());
    keys.addAll(TimeoutOptions.KEYS);
    keys.addAll(RequestLimitOptions.KEYS);
    SECTIONS.forEach(section -> keys.addAll(section.keys().names()));
    ALL_KEYS = Set.copyOf(keys);
  }

  private final ListenOptions listen = new ListenOptions();
  private final AdminOptions admin = new AdminOptions();
  private final AccessLogOptions accessLog = new AccessLogOptions();
  private final ClientOptions clients = new ClientOptions();
  private final QueueOptions queue = new QueueOptions();
  private final RetryOptions retry = new RetryOptions();
  private final ProcessOptions process = new ProcessOptions();
  private final ClusterOptions cluster = new ClusterOptions();
  private StrategyName strategy = StrategyName.ROUND_ROBIN;
  /** For the hash strategy: what to hash. */
  private HashKey hashKey;
  private List<UpstreamOptions> upstreams = new ArrayList<>();
  /** Groups besides the default one (the top-level strategy, hash-key and upstreams). */
  private Map<String, GroupOptions> groups = new LinkedHashMap<>();
  private UpstreamTlsOptions upstreamTls = new UpstreamTlsOptions();
  private HealthCheckOptions health = new HealthCheckOptions();
  /** The top-level timeouts and body limit: the catch-all route's, and the defaults of every route. */
  private TimeoutOptions timeouts = new TimeoutOptions();
  /** The top-level rate limit and upload rate: the catch-all route's, and the defaults of every route. */
  private RequestLimitOptions limits = new RequestLimitOptions();
  private List<RouteOptions> routes = new ArrayList<>();
  /** The spool of long jobs and the defaults of every route's jobs block. */
  private JobOptions jobs = new JobOptions();

  public FairwayOptions() {
  }

  public FairwayOptions(JsonObject json) {
    this();
    ConfigReader r = new ConfigReader(json, "");
    r.rejectUnknown(ALL_KEYS);
    SECTIONS.forEach(section -> section.read(r, this));
    timeouts = new TimeoutOptions(r, new TimeoutOptions()); // before routes, which inherit them
    limits = new RequestLimitOptions(r, new RequestLimitOptions());
    KEYS.read(r, this);
  }

  /** The config in its file's format: what a reload publishes on the bus. */
  public JsonObject toJson() {
    JsonObject json = limits.toJson(timeouts.toJson());
    SECTIONS.forEach(section -> section.write(this, json));
    return KEYS.write(this, json);
  }

  /** The keys whose change a reload from this config to {@code next} cannot apply while running. */
  public List<String> restartNeeded(FairwayOptions next) {
    List<String> keys = new ArrayList<>();
    SECTIONS.forEach(section -> section.restartNeeded(this, next, keys));
    KEYS.restartNeeded(this, next, keys);
    if (health.isEnabled() != next.health.isEnabled()) keys.add("health.enabled");
    JsonObject spool = jobs.toJson(), nextSpool = next.jobs.toJson();
    for (String key : List.of("dir", "max-size", "max-total", "retention", "prefix")) {
      if (!spool.getValue(key).equals(nextSpool.getValue(key))) keys.add("jobs." + key);
    }
    if (next.anyJobs() && !anyJobs()) keys.add("jobs.enabled"); // the spool is opened at start
    return keys;
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
    Set<String> seen = new HashSet<>();
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
    for (int i = 0; i < routes.size(); i++) {
      if (routes.get(i).isQueueEvents() && queue.getSize() == 0) {
        throw ConfigException.invalid("routes[" + i + "].queue-events", true, "a queue to wait in: queue-size above 0, or queue-events off");
      }
    }
    if (listen.getPort() != 0 && listen.getPort() == admin.getPort() && listen.getHost().equals(admin.getHost())) {
      throw ConfigException.invalid("admin.port", admin.getPort(), "a port other than the proxy's listen.port");
    }
    return this;
  }

  /** Applies {@code change} and returns this, for options built in code: {@code options.with(o -> o.getQueue().setSize(1))}. */
  public FairwayOptions with(Consumer<FairwayOptions> change) {
    change.accept(this);
    return this;
  }

  public ListenOptions getListen() {
    return listen;
  }

  public AdminOptions getAdmin() {
    return admin;
  }

  public AccessLogOptions getAccessLog() {
    return accessLog;
  }

  public ClientOptions getClients() {
    return clients;
  }

  public QueueOptions getQueue() {
    return queue;
  }

  public RetryOptions getRetry() {
    return retry;
  }

  public ProcessOptions getProcess() {
    return process;
  }

  public ClusterOptions getCluster() {
    return cluster;
  }

  public StrategyName getStrategy() {
    return strategy;
  }

  public FairwayOptions setStrategy(StrategyName strategy) {
    this.strategy = strategy;
    return this;
  }

  public HashKey getHashKey() {
    return hashKey;
  }

  public FairwayOptions setHashKey(HashKey hashKey) {
    this.hashKey = hashKey;
    return this;
  }

  public List<UpstreamOptions> getUpstreams() {
    return upstreams;
  }

  public FairwayOptions setUpstreams(List<UpstreamOptions> upstreams) {
    this.upstreams = new ArrayList<>(upstreams);
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
    groups = new LinkedHashMap<>();
    extra.forEach(g -> groups.put(g.getName(), g));
    return this;
  }

  public UpstreamTlsOptions getUpstreamTls() {
    return upstreamTls;
  }

  public FairwayOptions setUpstreamTls(UpstreamTlsOptions upstreamTls) {
    this.upstreamTls = upstreamTls;
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

  public RequestLimitOptions getLimits() {
    return limits;
  }

  public JobOptions getJobs() {
    return jobs;
  }

  /** Whether any route (or the catch-all) runs its requests as jobs: only then is the spool opened. */
  public boolean anyJobs() {
    return jobs.isEnabled() || routes.stream().anyMatch(r -> r.getJobs() != null && r.getJobs().isEnabled());
  }

  public List<RouteOptions> getRoutes() {
    return routes;
  }

  public FairwayOptions setRoutes(List<RouteOptions> routes) {
    this.routes = new ArrayList<>(routes);
    return this;
  }
}
