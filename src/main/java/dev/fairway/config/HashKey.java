package dev.fairway.config;

/** What the {@code hash} strategy hashes: a request header or a cookie, e.g. {@code header:X-Session-Id}. */
public record HashKey(Source source, String name) {

  public enum Source { HEADER, COOKIE }

  public static HashKey parse(String key, String value) {
    int colon = value.indexOf(':');
    String kind = colon > 0 ? value.substring(0, colon) : "";
    String name = colon > 0 ? value.substring(colon + 1).trim() : "";
    if (name.isEmpty() || !(kind.equals("header") || kind.equals("cookie"))) {
      throw ConfigException.invalid(key, value, "header:NAME or cookie:NAME, e.g. header:X-Session-Id");
    }
    return new HashKey(kind.equals("header") ? Source.HEADER : Source.COOKIE, name);
  }

  @Override
  public String toString() {
    return (source == Source.HEADER ? "header:" : "cookie:") + name;
  }
}
