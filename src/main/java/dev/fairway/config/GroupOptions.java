package dev.fairway.config;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/** A named set of upstreams with its own balancing strategy; routes send their requests to one group. */
public class GroupOptions {

  public static final String DEFAULT = "default";
  private static final Set<String> KEYS = Set.of("strategy", "hash-key", "upstreams");

  private final String name;
  private StrategyName strategy = StrategyName.ROUND_ROBIN;
  private HashKey hashKey;
  private List<UpstreamOptions> upstreams = new ArrayList<>();

  public GroupOptions(String name, StrategyName strategy, HashKey hashKey, List<UpstreamOptions> upstreams) {
    this.name = name;
    this.strategy = strategy;
    this.hashKey = hashKey;
    this.upstreams = new ArrayList<>(upstreams);
  }

  public GroupOptions(String name, ConfigReader r) {
    this.name = name;
    r.rejectUnknown(KEYS);
    strategy = StrategyName.parse(r.key("strategy"), r.string("strategy", strategy.configName()));
    if (r.has("hash-key")) hashKey = HashKey.parse(r.key("hash-key"), r.string("hash-key", null));
    upstreams = readUpstreams(r, "upstreams");
  }

  /** Reads a list of {@code HOST:PORT[,...]} strings or mappings. */
  static List<UpstreamOptions> readUpstreams(ConfigReader r, String name) {
    List<UpstreamOptions> list = new ArrayList<>();
    JsonArray array = r.array(name);
    for (int i = 0; i < array.size(); i++) {
      String key = r.key(name) + "[" + i + "]";
      Object entry = array.getValue(i);
      if (entry instanceof String spec) {
        list.add(UpstreamOptions.parse(key, spec));
      } else if (entry instanceof JsonObject o) {
        list.add(new UpstreamOptions(o, key));
      } else {
        throw ConfigException.invalid(key, entry, "HOST:PORT or {address: HOST:PORT, weight: N}");
      }
    }
    return list;
  }

  void validate(String key) {
    if (upstreams.isEmpty()) {
      throw ConfigException.invalid(key + ".upstreams", "none", "at least one upstream in the group");
    }
    if (strategy == StrategyName.HASH && hashKey == null) {
      throw ConfigException.invalid(key + ".hash-key", "missing", "header:NAME or cookie:NAME with strategy hash");
    }
  }

  public String getName() {
    return name;
  }

  public StrategyName getStrategy() {
    return strategy;
  }

  public HashKey getHashKey() {
    return hashKey;
  }

  public List<UpstreamOptions> getUpstreams() {
    return upstreams;
  }

  public JsonObject toJson() {
    JsonArray ups = new JsonArray();
    upstreams.forEach(u -> ups.add(u.toJson()));
    return new JsonObject().put("strategy", strategy.configName()).put("hash-key", hashKey == null ? null : hashKey.toString())
      .put("upstreams", ups);
  }
}
