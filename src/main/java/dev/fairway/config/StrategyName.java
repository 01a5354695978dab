package dev.fairway.config;

import java.util.Arrays;
import java.util.stream.Collectors;

/** The balancing strategies, by the names used in the config and on the command line. */
public enum StrategyName {
  ROUND_ROBIN("round-robin"),
  LEAST_CONN("least-conn"),
  IP_HASH("ip-hash"),
  HASH("hash"),
  P2C("p2c"),
  RANDOM("random");

  private final String configName;

  StrategyName(String configName) {
    this.configName = configName;
  }

  public String configName() {
    return configName;
  }

  /** For names that were validated already (e.g. read back from a bus snapshot). */
  public static StrategyName parseOrDefault(String value) {
    for (StrategyName s : values()) {
      if (s.configName.equals(value)) return s;
    }
    return ROUND_ROBIN;
  }

  public static StrategyName parse(String key, String value) {
    for (StrategyName s : values()) {
      if (s.configName.equals(value)) return s;
    }
    throw ConfigException.invalid(key, value, "one of " + Arrays.stream(values()).map(StrategyName::configName).collect(Collectors.joining(", ")));
  }
}
