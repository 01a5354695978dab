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
  /** The names remove and set take away, in lower case. */
  private final String[] replaced;
  private final boolean writable;

  public HeaderRules(Map<String, String> set, Map<String, String> add, List<String> remove) {
    this.set = Map.copyOf(set);
    this.add = Map.copyOf(add);
    this.remove = List.copyOf(remove);
    this.replaced = replaced(this.set, this.remove);
    this.writable = writable(this.set, this.add);
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
    this.replaced = replaced(set, remove);
    this.writable = writable(set, add);
  }

  private static String[] replaced(Map<String, String> set, List<String> remove) {
    return java.util.stream.Stream.concat(remove.stream(), set.keySet().stream())
      .map(n -> n.toLowerCase(java.util.Locale.ROOT)).distinct().toArray(String[]::new);
  }

  /**
   * The names whose headers {@link #apply} takes away (remove and set), in lower case: what a copy header by header
   * leaves out before it writes {@link #forEachWritten}'s.
   */
  public String[] replaced() {
    return replaced;
  }

  /**
   * Whether every name is a token and every value free of control bytes (but tab): rules a copy that writes header
   * lines itself can write as they are.
   */
  public boolean writable() {
    return writable;
  }

  private static boolean writable(Map<String, String> set, Map<String, String> add) {
    java.util.function.Predicate<String> token = n -> n.matches("[!#$%&'*+.^_`|~0-9A-Za-z-]+");
    java.util.function.Predicate<String> value = v -> v.chars().allMatch(c -> (c >= ' ' || c == '\t') && c != 127);
    return set.keySet().stream().allMatch(token) && add.keySet().stream().allMatch(token)
      && set.values().stream().allMatch(value) && add.values().stream().allMatch(value);
  }

  /** Whether a header named {@code lower} (lower case) is taken away. */
  public boolean replaces(String lower) {
    for (String n : replaced) {
      if (n.equals(lower)) return true;
    }
    return false;
  }

  /** Whether the rules name (to remove, set or add) any of {@code lowerNames}. */
  public boolean mentionsAny(String... lowerNames) {
    for (String n : lowerNames) {
      if (replaces(n)) return true;
      for (String a : add.keySet()) {
        if (a.equalsIgnoreCase(n)) return true;
      }
    }
    return false;
  }

  /** The headers {@link #apply} writes, set ones first: name and value. */
  public void forEachWritten(java.util.function.BiConsumer<String, String> header) {
    set.forEach(header);
    add.forEach(header);
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
