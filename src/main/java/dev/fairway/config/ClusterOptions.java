package dev.fairway.config;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Several Fairway nodes as one ({@code cluster:} and {@code --cluster}): the Hazelcast cluster they join, where this
 * node binds and is reached, and how it finds the others (a TCP-IP member list, or Kubernetes' API). Off by default:
 * without it nothing of Hazelcast starts.
 */
public final class ClusterOptions {

  public static final int DEFAULT_PORT = 5701;

  static final ConfigKeys<ClusterOptions> KEYS = new ConfigKeys<ClusterOptions>()
    .restartKey("cluster", (r, key, o) -> {
      ConfigReader c = r.object(key);
      c.rejectUnknown(Set.of("enabled", "name", "host", "port", "members", "kubernetes", "require-members", "join-timeout"));
      o.enabled = c.bool("enabled", o.enabled || !c.names().isEmpty());
      o.name = c.string("name", o.name);
      o.host = c.string("host", o.host);
      o.port = c.integer("port", o.port, 1, 65535);
      if (c.has("members")) o.members = parseMembers(c.key("members"), c.raw("members"));
      if (c.has("kubernetes")) {
        ConfigReader k = c.object("kubernetes");
        k.rejectUnknown(Set.of("service-name", "namespace"));
        o.kubernetesService = k.string("service-name", null);
        o.kubernetesNamespace = k.string("namespace", null);
        if (o.kubernetesService == null) throw ConfigException.invalid(k.key("service-name"), "missing", "the headless service of the Fairway pods");
      }
      o.requireMembers = c.integer("require-members", o.requireMembers, 0, 1000);
      o.joinTimeoutMillis = c.duration("join-timeout", o.joinTimeoutMillis);
      if (!o.members.isEmpty() && o.kubernetesService != null) {
        throw ConfigException.invalid(c.key("kubernetes"), "set with members", "one way to find the others: members or kubernetes");
      }
    }, o -> {
      JsonObject json = new JsonObject().put("enabled", o.enabled).put("name", o.name).put("host", o.host).put("port", o.port)
        .put("require-members", o.requireMembers).put("join-timeout", Durations.format(o.joinTimeoutMillis));
      if (!o.members.isEmpty()) json.put("members", new JsonArray(new ArrayList<>(o.members)));
      if (o.kubernetesService != null) {
        json.put("kubernetes", new JsonObject().put("service-name", o.kubernetesService).put("namespace", o.kubernetesNamespace));
      }
      return json;
    });

  private boolean enabled;
  private String name = "fairway";
  /** The address to bind and to advertise to the other nodes; null: Hazelcast picks one of this machine's. */
  private String host;
  private int port = DEFAULT_PORT;
  /** Other nodes as host or host:port (TCP-IP join); empty with Kubernetes discovery, or to start alone. */
  private List<String> members = List.of();
  private String kubernetesService;
  private String kubernetesNamespace;
  /** Start only once this many nodes (this one included) are in the cluster; 0: start alone if none answer. */
  private int requireMembers;
  private long joinTimeoutMillis = 10_000;

  /**
   * Members as a list or one comma-separated string: {@code 10.0.0.5,10.0.0.6:5702}. Each is a host with an optional
   * port (default 5701); IPv6 addresses go in brackets.
   */
  public static List<String> parseMembers(String key, Object value) {
    List<String> items = new ArrayList<>();
    if (value instanceof String s) {
      for (String part : s.split(",")) items.add(part.trim());
    } else if (value instanceof JsonArray a) {
      a.forEach(v -> items.add(v instanceof String s ? s.trim() : String.valueOf(v)));
    } else {
      throw ConfigException.invalid(key, value, "a list of host[:port], or one string of them separated by commas");
    }
    List<String> members = new ArrayList<>();
    for (String item : items) {
      if (item.isEmpty()) continue;
      members.add(checkMember(key, item));
    }
    if (members.isEmpty()) throw ConfigException.invalid(key, value, "at least one host[:port]");
    return List.copyOf(members);
  }

  private static String checkMember(String key, String item) {
    String host = item;
    String port = null;
    if (item.startsWith("[")) { // [::1]:5701
      int end = item.indexOf(']');
      if (end < 0) throw ConfigException.invalid(key, item, "host[:port], an IPv6 address in brackets");
      host = item.substring(1, end);
      if (end + 1 < item.length()) {
        if (item.charAt(end + 1) != ':') throw ConfigException.invalid(key, item, "host[:port]");
        port = item.substring(end + 2);
      }
    } else if (item.indexOf(':') >= 0) {
      host = item.substring(0, item.lastIndexOf(':'));
      port = item.substring(item.lastIndexOf(':') + 1);
      if (host.indexOf(':') >= 0) throw ConfigException.invalid(key, item, "host[:port], an IPv6 address in brackets");
    }
    if (host.isEmpty() || !host.matches("[A-Za-z0-9._:-]+")) throw ConfigException.invalid(key, item, "host[:port]");
    if (port != null) {
      int p;
      try {
        p = Integer.parseInt(port);
      } catch (NumberFormatException e) {
        p = -1;
      }
      if (p < 1 || p > 65535) throw ConfigException.invalid(key, item, "host[:port] with a port from 1 to 65535");
    }
    return item;
  }

  public boolean isEnabled() {
    return enabled;
  }

  public ClusterOptions setEnabled(boolean enabled) {
    this.enabled = enabled;
    return this;
  }

  public String getName() {
    return name;
  }

  public ClusterOptions setName(String name) {
    this.name = name;
    return this;
  }

  public String getHost() {
    return host;
  }

  public ClusterOptions setHost(String host) {
    this.host = host;
    return this;
  }

  public int getPort() {
    return port;
  }

  public ClusterOptions setPort(int port) {
    this.port = port;
    return this;
  }

  public List<String> getMembers() {
    return members;
  }

  public ClusterOptions setMembers(List<String> members) {
    this.members = List.copyOf(members);
    return this;
  }

  public String getKubernetesService() {
    return kubernetesService;
  }

  public String getKubernetesNamespace() {
    return kubernetesNamespace;
  }

  public int getRequireMembers() {
    return requireMembers;
  }

  public ClusterOptions setRequireMembers(int requireMembers) {
    this.requireMembers = requireMembers;
    return this;
  }

  public long getJoinTimeoutMillis() {
    return joinTimeoutMillis;
  }
}
