package dev.fairway.config;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Parses byte sizes such as {@code 1048576}, {@code 512k}, {@code 100m}, {@code 2g} (binary units, as nginx). */
public final class Sizes {

  private static final Pattern SIZE = Pattern.compile("(\\d+)\\s*([kmg])?b?", Pattern.CASE_INSENSITIVE);

  private Sizes() {
  }

  public static long parseBytes(String key, Object value) {
    if (value instanceof Number n && n.longValue() >= 0 && n.doubleValue() == n.longValue()) return n.longValue();
    Matcher m = value instanceof String s ? SIZE.matcher(s.trim()) : null;
    if (m == null || !m.matches()) {
      throw ConfigException.invalid(key, value, "a size in bytes such as 1048576, 512k, 100m or 2g (0: no limit)");
    }
    long n = Long.parseLong(m.group(1));
    String unit = m.group(2) == null ? "" : m.group(2).toLowerCase();
    return switch (unit) {
      case "k" -> n << 10;
      case "m" -> n << 20;
      case "g" -> n << 30;
      default -> n;
    };
  }
}
