package dev.fairway.config;

import io.vertx.core.json.JsonObject;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.YAMLException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/** Reads a YAML (or JSON, which is YAML) config file into a {@link JsonObject}. vertx-config does not resolve under our BOM. */
public final class ConfigLoader {

  private ConfigLoader() {
  }

  public static JsonObject readYaml(Path file) {
    String text;
    try {
      text = Files.readString(file);
    } catch (IOException e) {
      throw ConfigException.invalid("--config", file, "a readable YAML file (" + e.getClass().getSimpleName() + ": " + e.getMessage() + ")");
    }
    return parseYaml(file.toString(), text);
  }

  public static JsonObject parseYaml(String source, String text) {
    Object doc;
    try {
      doc = new Yaml(new SafeConstructor(new LoaderOptions())).load(text);
    } catch (YAMLException e) {
      throw new ConfigException(source + ": invalid YAML (" + e.getMessage().replace('\n', ' ') + ")");
    }
    if (doc == null) {
      return new JsonObject();
    }
    if (!(doc instanceof Map<?, ?> map)) {
      throw ConfigException.invalid(source, doc, "a YAML mapping of keys to values at the top level");
    }
    @SuppressWarnings("unchecked")
    Map<String, Object> m = (Map<String, Object>) map;
    return new JsonObject(m);
  }

  public static FairwayOptions load(Path file) {
    return new FairwayOptions(readYaml(file));
  }
}
