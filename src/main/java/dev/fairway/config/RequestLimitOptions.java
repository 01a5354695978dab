package dev.fairway.config;

import io.vertx.core.json.JsonObject;

import java.util.Set;

/**
 * What one client may ask of a route: a request rate ({@code rate-limit}, a token bucket per client address or per
 * value of a header) and a lowest upload rate ({@code min-upload-rate}). Read at the top level as defaults and in each
 * route, where unset keys inherit them, like {@link TimeoutOptions}. Both off by default.
 */
public final class RequestLimitOptions {

  public static final Set<String> KEYS = Set.of("rate-limit", "min-upload-rate");

  /** Requests per second a client may make on average, or 0: no limit. */
  private double ratePerSecond;
  /** Requests a client may make at once before the rate applies (the bucket's size). */
  private long burst;
  /** {@code client-ip}, or {@code header:NAME} (an API key, a user id set by an authenticating proxy in front). */
  private String key = "client-ip";
  /** Lowest average upload rate in bytes per second over {@link #uploadWindowMillis}, or 0: none. */
  private long minUploadBytesPerSecond;
  /** The window over which an upload's rate is measured: short stalls within it are fine. */
  private long uploadWindowMillis = DEFAULT_UPLOAD_WINDOW;

  public static final long DEFAULT_UPLOAD_WINDOW = 10_000;

  public RequestLimitOptions() {
  }

  /** Reads the keys present in {@code r}, keeping {@code defaults} for the rest. */
  public RequestLimitOptions(ConfigReader r, RequestLimitOptions defaults) {
    ratePerSecond = defaults.ratePerSecond;
    burst = defaults.burst;
    key = defaults.key;
    minUploadBytesPerSecond = defaults.minUploadBytesPerSecond;
    uploadWindowMillis = defaults.uploadWindowMillis;
    if (r.has("rate-limit")) readRateLimit(r.object("rate-limit"));
    if (r.raw("min-upload-rate") instanceof JsonObject) { // {rate: 1k/s, window: 10s}
      ConfigReader upload = r.object("min-upload-rate");
      upload.rejectUnknown(Set.of("rate", "window"));
      minUploadBytesPerSecond = uploadRate(upload.key("rate"), upload.raw("rate"));
      uploadWindowMillis = HealthCheckOptions.positive(upload.key("window"), upload.duration("window", uploadWindowMillis));
    } else if (r.has("min-upload-rate")) {
      minUploadBytesPerSecond = uploadRate(r.key("min-upload-rate"), r.raw("min-upload-rate"));
    }
  }

  private void readRateLimit(ConfigReader r) {
    r.rejectUnknown(Set.of("rate", "burst", "key"));
    if (!r.has("rate")) throw ConfigException.invalid(r.key("rate"), "missing", "requests per second, minute or hour, e.g. 10/s or 100/m");
    Object rate = r.raw("rate");
    String[] parts = String.valueOf(rate).trim().split("/", 2);
    try {
      double count = Double.parseDouble(parts[0].trim());
      long periodSeconds = parts.length < 2 ? 1 : switch (parts[1].trim()) {
        case "s" -> 1;
        case "m" -> 60;
        case "h" -> 3600;
        default -> -1;
      };
      if (count <= 0 || periodSeconds < 0) throw new NumberFormatException();
      ratePerSecond = count / periodSeconds;
      burst = r.integer("burst", (int) Math.max(1, Math.ceil(count)), 1, 1_000_000);
    } catch (NumberFormatException e) {
      throw ConfigException.invalid(r.key("rate"), rate, "requests per second, minute or hour, e.g. 10/s or 100/m");
    }
    key = r.string("key", "client-ip");
    if (!key.equals("client-ip") && !(key.startsWith("header:") && key.length() > 7)) {
      throw ConfigException.invalid(r.key("key"), key, "client-ip or header:NAME");
    }
  }

  private static long uploadRate(String key, Object value) {
    if (value == null) throw ConfigException.invalid(key, "missing", "bytes per second, e.g. 1k/s");
    String text = String.valueOf(value).trim();
    String size = text.endsWith("/s") ? text.substring(0, text.length() - 2) : text;
    long bytes = Sizes.parseBytes(key, size);
    if (bytes <= 0) throw ConfigException.invalid(key, value, "bytes per second, e.g. 1k/s");
    return bytes;
  }

  public boolean rateLimited() {
    return ratePerSecond > 0;
  }

  public double getRatePerSecond() {
    return ratePerSecond;
  }

  public long getBurst() {
    return burst;
  }

  public String getKey() {
    return key;
  }

  public long getMinUploadBytesPerSecond() {
    return minUploadBytesPerSecond;
  }

  public long getUploadWindowMillis() {
    return uploadWindowMillis;
  }

  /** The keys in the config file's format (what a reload carries on the bus). */
  public JsonObject toJson(JsonObject into) {
    if (rateLimited()) {
      into.put("rate-limit", new JsonObject().put("rate", ratePerSecond + "/s").put("burst", burst).put("key", key));
    }
    if (minUploadBytesPerSecond > 0) {
      into.put("min-upload-rate", new JsonObject().put("rate", minUploadBytesPerSecond + "/s").put("window", Durations.format(uploadWindowMillis)));
    }
    return into;
  }
}
