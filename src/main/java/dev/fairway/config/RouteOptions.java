package dev.fairway.config;

import io.vertx.core.json.JsonObject;

import java.util.HashSet;
import java.util.Set;

/** A path prefix with its own timeouts, like an nginx {@code location} block. */
public class RouteOptions {

  private static final Set<String> KEYS;

  static {
    Set<String> keys = new HashSet<>(TimeoutOptions.KEYS);
    keys.add("path");
    KEYS = Set.copyOf(keys);
  }

  private String path = "/";
  private TimeoutOptions timeouts = new TimeoutOptions();

  public RouteOptions() {
  }

  public RouteOptions(String path, TimeoutOptions timeouts) {
    this.path = path;
    this.timeouts = timeouts;
  }

  public RouteOptions(ConfigReader r, TimeoutOptions defaults) {
    r.rejectUnknown(KEYS);
    if (!r.has("path")) {
      throw ConfigException.invalid(r.key("path"), "missing", "a path prefix starting with /");
    }
    path = r.string("path", "/");
    if (!path.startsWith("/")) {
      throw ConfigException.invalid(r.key("path"), path, "a path prefix starting with /");
    }
    timeouts = new TimeoutOptions(r, defaults);
  }

  public String getPath() {
    return path;
  }

  public TimeoutOptions getTimeouts() {
    return timeouts;
  }

  public JsonObject toJson() {
    return timeouts.toJson().put("path", path);
  }
}
