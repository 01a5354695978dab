package dev.fairway.config;

/** A configuration or command-line value that Fairway cannot use; the message names the key, the value and what is expected. */
public class ConfigException extends RuntimeException {

  public ConfigException(String message) {
    super(message);
  }

  /** The one message form used everywhere: {@code key: value (expected: ...)}. */
  public static ConfigException invalid(String key, Object value, String expected) {
    return new ConfigException(key + ": " + value + " (expected: " + expected + ")");
  }
}
