package dev.fairway.config;

import io.vertx.core.json.JsonObject;

import java.util.Set;

/** One upstream server: where it is and how much traffic it gets. */
public class UpstreamOptions {

  public static final int DEFAULT_WEIGHT = 1;
  public static final int MAX_WEIGHT = 1000;
  private static final Set<String> KEYS = Set.of("address", "weight");

  private String host;
  private int port;
  private int weight = DEFAULT_WEIGHT;

  public UpstreamOptions() {
  }

  public UpstreamOptions(String host, int port) {
    this.host = host;
    this.port = port;
  }

  /** Reads {@code {address: "host:port", weight: N}}; {@code key} names the entry in errors. */
  public UpstreamOptions(JsonObject json, String key) {
    this();
    ConfigReader r = new ConfigReader(json, key);
    r.rejectUnknown(KEYS);
    if (!r.has("address")) {
      throw ConfigException.invalid(r.key("address"), "missing", "HOST:PORT, e.g. 127.0.0.1:5000");
    }
    setAddress(r.key("address"), r.string("address", null));
    weight = r.integer("weight", DEFAULT_WEIGHT, 1, MAX_WEIGHT);
  }

  /** Parses the command-line form {@code HOST:PORT[,weight=N]}. */
  public static UpstreamOptions parse(String key, String spec) {
    String[] parts = spec.split(",");
    UpstreamOptions u = new UpstreamOptions();
    u.setAddress(key, parts[0].trim());
    for (int i = 1; i < parts.length; i++) {
      String[] kv = parts[i].split("=", 2);
      String name = kv[0].trim();
      if (name.equals("weight") && kv.length == 2) {
        try {
          u.weight = Integer.parseInt(kv[1].trim());
        } catch (NumberFormatException e) {
          u.weight = -1;
        }
        if (u.weight < 1 || u.weight > MAX_WEIGHT) {
          throw ConfigException.invalid(key, spec, "weight=N with N from 1 to " + MAX_WEIGHT);
        }
      } else {
        throw ConfigException.invalid(key, spec, "HOST:PORT[,weight=N]");
      }
    }
    return u;
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

  /** The id that names this upstream in metrics, logs and bus messages. */
  public String id() {
    return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
  }

  public JsonObject toJson() {
    return new JsonObject().put("address", id()).put("weight", weight);
  }
}
