package dev.fairway.config;

import java.util.Set;

/** The access log: {@code access-log} (off, stdout or a file), its format and the rotation of a file. */
public final class AccessLogOptions {

  public static final long DEFAULT_MAX_SIZE = 100L << 20;

  static final ConfigKeys<AccessLogOptions> KEYS = new ConfigKeys<AccessLogOptions>()
    .key("access-log", (r, key, o) -> {
      // YAML 1.1 reads a bare off/on as false/true
      Object log = r.raw(key);
      o.destination = log instanceof Boolean on ? (on ? "stdout" : "off") : r.string(key, o.destination);
    }, o -> o.destination)
    .key("access-log-format", (r, key, o) -> o.setFormat(r.key(key), r.string(key, o.format)), o -> o.format)
    .key("access-log-max-size", (r, key, o) -> {
      if (r.has(key)) o.setMaxSize(r.key(key), r.raw(key));
    }, o -> o.maxSize)
    .key("access-log-compress", (r, key, o) -> o.compress = r.bool(key, o.compress), o -> o.compress);

  /** off, stdout, or a file path. */
  private String destination = "stdout";
  private String format = "combined";
  /** Size at which the file is rotated (it is also rotated daily). */
  private long maxSize = DEFAULT_MAX_SIZE;
  /** Gzip rotated files: off by default, as compressing costs about as much CPU as writing the log. */
  private boolean compress;

  /** True when {@code other} writes the same log: destination, format and rotation. */
  public boolean same(AccessLogOptions other) {
    return KEYS.same(this, other);
  }

  public String getDestination() {
    return destination;
  }

  public AccessLogOptions setDestination(String destination) {
    this.destination = destination;
    return this;
  }

  public String getFormat() {
    return format;
  }

  public AccessLogOptions setFormat(String key, String format) {
    if (!Set.of("combined", "gunicorn", "json").contains(format)) {
      throw ConfigException.invalid(key, format, "combined, gunicorn or json");
    }
    this.format = format;
    return this;
  }

  public long getMaxSize() {
    return maxSize;
  }

  /** @param value a size such as {@code 100m}, at least 1 KiB */
  public AccessLogOptions setMaxSize(String key, Object value) {
    long bytes = Sizes.parseBytes(key, value);
    if (bytes < 1024) throw ConfigException.invalid(key, value, "a size of at least 1k, such as 100m");
    this.maxSize = bytes;
    return this;
  }

  public boolean isCompress() {
    return compress;
  }

  public AccessLogOptions setCompress(boolean compress) {
    this.compress = compress;
    return this;
  }
}
