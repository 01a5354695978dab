package dev.fairway.config;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Parses human durations such as {@code 500ms}, {@code 5s}, {@code 30m}, {@code 1h}; a bare number means seconds, as in nginx. */
public final class Durations {

  private static final Pattern DURATION = Pattern.compile("(\\d+)(ms|s|m|h)?");

  private Durations() {
  }

  /** @return the duration in milliseconds */
  public static long parseMillis(String key, Object value) {
    if (value instanceof Number n && n.longValue() >= 0 && n.doubleValue() == n.longValue()) {
      return n.longValue() * 1000;
    }
    Matcher m = value instanceof String s ? DURATION.matcher(s.trim()) : null;
    if (m == null || !m.matches()) {
      throw ConfigException.invalid(key, value, "a duration such as 500ms, 5s, 30m or 1h");
    }
    long amount = Long.parseLong(m.group(1));
    String unit = m.group(2) == null ? "s" : m.group(2);
    return switch (unit) {
      case "ms" -> amount;
      case "s" -> amount * 1000;
      case "m" -> amount * 60_000;
      default -> amount * 3_600_000;
    };
  }

  /** Formats milliseconds back in the largest whole unit, for toJson() and messages. */
  public static String format(long millis) {
    if (millis % 3_600_000 == 0 && millis > 0) return millis / 3_600_000 + "h";
    if (millis % 60_000 == 0 && millis > 0) return millis / 60_000 + "m";
    if (millis % 1000 == 0) return millis / 1000 + "s";
    return millis + "ms";
  }
}
