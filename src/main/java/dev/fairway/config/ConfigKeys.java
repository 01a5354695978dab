package dev.fairway.config;

import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.function.Function;

/**
 * The keys of one config section, each declared once: its name, how it is read into the section (through
 * {@link ConfigReader}, so every error has the one form), how it is written back in the config file's format (the
 * config crosses the bus as JSON), and whether changing it needs a restart. Unknown-key rejection, {@code toJson}
 * and a reload's "restart needed" list all come from this one declaration.
 *
 * @param <O> the section's options class
 */
public final class ConfigKeys<O> {

  /** Reads key {@code key} of {@code r} into {@code target}, keeping the target's value when the key is absent. */
  @FunctionalInterface
  public interface Reader<O> {
    void read(ConfigReader r, String key, O target);
  }

  private record Key<O>(String name, Reader<O> reader, Function<O, Object> writer, boolean restart) {
  }

  private final List<Key<O>> keys = new ArrayList<>();

  /** A key a reload applies while running. */
  public ConfigKeys<O> key(String name, Reader<O> read, Function<O, Object> write) {
    keys.add(new Key<>(name, read, write, false));
    return this;
  }

  /** A key whose change needs a restart (a listening socket, a pool sized at start): a reload names it instead. */
  public ConfigKeys<O> restartKey(String name, Reader<O> read, Function<O, Object> write) {
    keys.add(new Key<>(name, read, write, true));
    return this;
  }

  public Set<String> names() {
    Set<String> names = new LinkedHashSet<>();
    keys.forEach(k -> names.add(k.name()));
    return names;
  }

  /** Reads every declared key of {@code r} into {@code target}; unknown keys are the caller's to reject. */
  public O read(ConfigReader r, O target) {
    keys.forEach(k -> k.reader().read(r, k.name(), target));
    return target;
  }

  /** Writes every key of {@code source} into {@code json}, in the config file's format. */
  public JsonObject write(O source, JsonObject json) {
    keys.forEach(k -> json.put(k.name(), k.writer().apply(source)));
    return json;
  }

  /** The restart keys whose values differ between {@code running} and {@code next}, added to {@code into}. */
  public void restartNeeded(O running, O next, List<String> into) {
    for (Key<O> k : keys) {
      if (k.restart() && !Objects.equals(k.writer().apply(running), k.writer().apply(next))) into.add(k.name());
    }
  }

  /** Whether every key has the same value in {@code a} and {@code b}. */
  public boolean same(O a, O b) {
    return keys.stream().allMatch(k -> Objects.equals(k.writer().apply(a), k.writer().apply(b)));
  }
}
