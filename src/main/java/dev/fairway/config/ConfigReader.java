package dev.fairway.config;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.Set;
import java.util.TreeSet;

/**
 * Typed, strict access to one JSON object of the configuration: every read names the full key path in its
 * error, and {@link #rejectUnknown} refuses keys that Fairway does not know (a typo must not be ignored).
 */
public final class ConfigReader {

  private final JsonObject json;
  private final String path;

  public ConfigReader(JsonObject json, String path) {
    this.json = json == null ? new JsonObject() : json;
    this.path = path;
  }

  public String key(String name) {
    return path.isEmpty() ? name : path + "." + name;
  }

  public boolean has(String name) {
    return json.containsKey(name) && json.getValue(name) != null;
  }

  public void rejectUnknown(Set<String> known) {
    for (String name : json.fieldNames()) {
      if (!known.contains(name)) {
        throw ConfigException.invalid(key(name), "unknown key", "one of " + new TreeSet<>(known));
      }
    }
  }

  /** The keys present. */
  public Set<String> names() {
    return json.fieldNames();
  }

  /** The value as written, for keys that accept several types. */
  public Object raw(String name) {
    return json.getValue(name);
  }

  public String string(String name, String fallback) {
    if (!has(name)) return fallback;
    Object v = json.getValue(name);
    if (!(v instanceof String s) || s.isBlank()) {
      throw ConfigException.invalid(key(name), v, "a non-empty string");
    }
    return s;
  }

  public int integer(String name, int fallback, int min, int max) {
    if (!has(name)) return fallback;
    Object v = json.getValue(name);
    if (!(v instanceof Number n) || n.doubleValue() != n.longValue() || n.longValue() < min || n.longValue() > max) {
      throw ConfigException.invalid(key(name), v, "a whole number from " + min + " to " + max);
    }
    return n.intValue();
  }

  public int port(String name, int fallback) {
    return integer(name, fallback, 0, 65535);
  }

  public long duration(String name, long fallbackMillis) {
    if (!has(name)) return fallbackMillis;
    return Durations.parseMillis(key(name), json.getValue(name));
  }

  public boolean bool(String name, boolean fallback) {
    if (!has(name)) return fallback;
    Object v = json.getValue(name);
    if (!(v instanceof Boolean b)) {
      throw ConfigException.invalid(key(name), v, "true or false");
    }
    return b;
  }

  public ConfigReader object(String name) {
    if (!has(name)) return new ConfigReader(new JsonObject(), key(name));
    Object v = json.getValue(name);
    if (!(v instanceof JsonObject o)) {
      throw ConfigException.invalid(key(name), v, "a mapping of keys to values");
    }
    return new ConfigReader(o, key(name));
  }

  public JsonArray array(String name) {
    if (!has(name)) return new JsonArray();
    Object v = json.getValue(name);
    if (!(v instanceof JsonArray a)) {
      throw ConfigException.invalid(key(name), v, "a list");
    }
    return a;
  }
}
