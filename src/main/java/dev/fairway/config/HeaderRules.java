package dev.fairway.config;

import io.vertx.core.MultiMap;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Header rules of a route, applied in this order: {@code remove} names, {@code set} (replace) and {@code add}
 * (append) values. Like nginx's proxy_set_header / add_header / proxy_hide_header.
 */
public final class HeaderRules {

  public static final HeaderRules NONE = new HeaderRules(Map.of(), Map.of(), List.of());
  private static final Set<String> KEYS = Set.of("set", "add", "remove");

  private final Map<String, String> set;
  private final Map<String, String> add;
  private final List<String> remove;

  public HeaderRules(Map<String, String> set, Map<String, String> add, List<String> remove) {
    this.set = Map.copyOf(set);
    this.add = Map.copyOf(add);
    this.remove = List.copyOf(remove);
  }

  public HeaderRules(ConfigReader r) {
    r.rejectUnknown(KEYS);
    this.set = strings(r.object("set"), "set");
    this.add = strings(r.object("add"), "add");
    List<String> names = new ArrayList<>();
    JsonArray list = r.array("remove");
    for (int i = 0; i < list.size(); i++) {
      if (!(list.getValue(i) instanceof String name) || name.isBlank()) {
        throw ConfigException.invalid(r.key("remove") + "[" + i + "]", list.getValue(i), "a header name");
      }
      names.add(name);
    }
    this.remove = List.copyOf(names);
  }

  private static Map<String, String> strings(ConfigReader r, String what) {
    Map<String, String> out = new LinkedHashMap<>();
    for (String name : r.names()) {
      Object v = r.raw(name);
      if (v == null || v instanceof JsonObject || v instanceof JsonArray) {
        throw ConfigException.invalid(r.key(name), v, "a header value");
      }
      out.put(name, String.valueOf(v));
    }
    return out;
  }

  public boolean isEmpty() {
    return set.isEmpty() && add.isEmpty() && remove.isEmpty();
  }

  public void apply(MultiMap headers) {
    if (isEmpty()) return; // the usual case, twice per request: no iterator, no lambdas
    for (String name : remove) headers.remove(name);
    set.forEach(headers::set);
    add.forEach(headers::add);
  }

  public JsonObject toJson() {
    return new JsonObject().put("set", new JsonObject(new LinkedHashMap<>(set))).put("add", new JsonObject(new LinkedHashMap<>(add)))
      .put("remove", new JsonArray(new ArrayList<>(remove)));
  }
}
