package dev.fairway.config;

import io.vertx.core.json.JsonObject;

import java.util.Set;

/** One upstream server: where it is, how much traffic it gets and how much it can take at once. */
public class UpstreamOptions {

  public static final int DEFAULT_WEIGHT = 1;
  public static final int MAX_WEIGHT = 1000;
  /** 0: no limit on concurrent requests. */
  public static final int DEFAULT_MAX_CONNS = 0;
  private static final Set<String> KEYS = Set.of("address", "weight", "max-conns", "backup", "down", "protocol");
  private static final String SPEC = "HOST:PORT[,weight=N][,max-conns=N][,backup][,down][,protocol=http1|http2|grpc]";
  /** HTTP/1.1 to the upstream (the default). */
  public static final String HTTP1 = "http1";
  /** HTTP/2: prior knowledge on plain TCP (h2c), ALPN h2 with upstream-tls. */
  public static final String HTTP2 = "http2";
  /** HTTP/2, and health probes speak the gRPC health protocol (grpc.health.v1.Health/Check) instead of GET. */
  public static final String GRPC = "grpc";
  private static final Set<String> PROTOCOLS = Set.of(HTTP1, HTTP2, GRPC);

  private String host;
  private int port;
  private int weight = DEFAULT_WEIGHT;
  private int maxConns = DEFAULT_MAX_CONNS;
  private boolean backup;
  private boolean down;
  private String protocol = HTTP1;

  public UpstreamOptions() {
  }

  public UpstreamOptions(String host, int port) {
    this.host = host;
    this.port = port;
  }

  /** Reads {@code {address: "host:port", weight: N, max-conns: N, backup: bool, down: bool}}; {@code key} names the entry in errors. */
  public UpstreamOptions(JsonObject json, String key) {
    this();
    ConfigReader r = new ConfigReader(json, key);
    r.rejectUnknown(KEYS);
    if (!r.has("address")) {
      throw ConfigException.invalid(r.key("address"), "missing", "HOST:PORT, e.g. 127.0.0.1:5000");
    }
    setAddress(r.key("address"), r.string("address", null));
    weight = r.integer("weight", DEFAULT_WEIGHT, 1, MAX_WEIGHT);
    maxConns = r.integer("max-conns", DEFAULT_MAX_CONNS, 0, 1_000_000);
    backup = r.bool("backup", false);
    down = r.bool("down", false);
    protocol = protocol(r.key("protocol"), r.string("protocol", HTTP1));
  }

  private static String protocol(String key, String value) {
    if (!PROTOCOLS.contains(value)) throw ConfigException.invalid(key, value, "http1, http2 or grpc");
    return value;
  }

  /** Parses the command-line form {@code HOST:PORT[,weight=N][,max-conns=N][,backup][,down]}. */
  public static UpstreamOptions parse(String key, String spec) {
    String[] parts = spec.split(",");
    UpstreamOptions u = new UpstreamOptions();
    u.setAddress(key, parts[0].trim());
    for (int i = 1; i < parts.length; i++) {
      String[] kv = parts[i].trim().split("=", 2);
      switch (kv[0]) {
        case "weight" -> u.weight = number(key, spec, kv, "weight=N with N from 1 to " + MAX_WEIGHT, 1, MAX_WEIGHT);
        case "max-conns" -> u.maxConns = number(key, spec, kv, "max-conns=N with N of 0 (no limit) or more", 0, 1_000_000);
        case "backup" -> u.backup = flag(key, spec, kv);
        case "down" -> u.down = flag(key, spec, kv);
        case "protocol" -> u.protocol = protocol(key, kv.length == 2 ? kv[1].trim() : "");
        default -> throw ConfigException.invalid(key, spec, SPEC);
      }
    }
    return u;
  }

  private static int number(String key, String spec, String[] kv, String expected, int min, int max) {
    try {
      int n = Integer.parseInt(kv.length == 2 ? kv[1].trim() : "");
      if (n >= min && n <= max) return n;
    } catch (NumberFormatException ignored) {
      // reported below
    }
    throw ConfigException.invalid(key, spec, expected);
  }

  private static boolean flag(String key, String spec, String[] kv) {
    if (kv.length != 1) throw ConfigException.invalid(key, spec, SPEC);
    return true;
  }

  private void setAddress(String key, String address) {
    int colon = address.lastIndexOf(':');
    String h = colon > 0 ? address.substring(0, colon) : "";
    if (h.startsWith("[") && h.endsWith("]")) {
      h = h.substring(1, h.length() - 1);
    }
    int p = -1;
    try {
      p = Integer.parseInt(address.substring(colon + 1));
    } catch (NumberFormatException | IndexOutOfBoundsException ignored) {
      // reported below
    }
    if (h.isEmpty() || h.contains("/") || p < 1 || p > 65535) {
      throw ConfigException.invalid(key, address, "HOST:PORT with a port from 1 to 65535, e.g. 127.0.0.1:5000");
    }
    this.host = h;
    this.port = p;
  }

  public String getHost() {
    return host;
  }

  public int getPort() {
    return port;
  }

  public int getWeight() {
    return weight;
  }

  public UpstreamOptions setWeight(int weight) {
    this.weight = weight;
    return this;
  }

  public int getMaxConns() {
    return maxConns;
  }

  public UpstreamOptions setMaxConns(int maxConns) {
    this.maxConns = maxConns;
    return this;
  }

  public boolean isBackup() {
    return backup;
  }

  public UpstreamOptions setBackup(boolean backup) {
    this.backup = backup;
    return this;
  }

  public boolean isDown() {
    return down;
  }

  public UpstreamOptions setDown(boolean down) {
    this.down = down;
    return this;
  }

  public String getProtocol() {
    return protocol;
  }

  public UpstreamOptions setProtocol(String protocol) {
    this.protocol = protocol("protocol", protocol);
    return this;
  }

  /** The id that names this upstream in metrics, logs and bus messages. */
  public String id() {
    return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
  }

  public JsonObject toJson() {
    return new JsonObject().put("address", id()).put("weight", weight).put("max-conns", maxConns)
      .put("backup", backup).put("down", down).put("protocol", protocol);
  }
}
