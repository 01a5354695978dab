package dev.fairway.config;

/** When a failed request goes to another upstream ({@code retries}, {@code retry-buffer}, {@code retry-timeout}), and {@code panic}. */
public final class RetryOptions {

  public static final int DEFAULT_RETRIES = 2;
  public static final int DEFAULT_BUFFER = 64 * 1024;

  static final ConfigKeys<RetryOptions> KEYS = new ConfigKeys<RetryOptions>()
    .key("retries", (r, key, o) -> o.retries = r.integer(key, o.retries, 0, 100), o -> o.retries)
    .key("retry-buffer", (r, key, o) -> o.buffer = r.integer(key, o.buffer, 0, 64 * 1024 * 1024), o -> o.buffer)
    .key("retry-timeout", (r, key, o) -> o.timeoutMillis = r.duration(key, o.timeoutMillis), o -> Durations.format(o.timeoutMillis))
    .key("panic", (r, key, o) -> {
      String panic = r.string(key, o.panicTryAll ? "try-all" : "fail");
      if (!panic.equals("fail") && !panic.equals("try-all")) {
        throw ConfigException.invalid(r.key(key), panic, "fail (503 at once) or try-all");
      }
      o.panicTryAll = panic.equals("try-all");
    }, o -> o.panicTryAll ? "try-all" : "fail");

  /** Other upstreams to try after a failure that allows it (a refused connect sent no byte: safe for any method). */
  private int retries = DEFAULT_RETRIES;
  /** Largest request body kept in memory so that an idempotent request can be retried; 0 = only bodiless ones. */
  private int buffer = DEFAULT_BUFFER;
  /** No new attempt starts this long after the request arrived; 0 = no bound but {@link #retries}. */
  private long timeoutMillis;
  /** With every upstream DOWN: false = 503 at once, true = try them all anyway (Envoy's panic threshold). */
  private boolean panicTryAll;

  public int getRetries() {
    return retries;
  }

  public RetryOptions setRetries(int retries) {
    this.retries = retries;
    return this;
  }

  public int getBuffer() {
    return buffer;
  }

  public RetryOptions setBuffer(int buffer) {
    this.buffer = buffer;
    return this;
  }

  public long getTimeoutMillis() {
    return timeoutMillis;
  }

  public RetryOptions setTimeoutMillis(long timeoutMillis) {
    this.timeoutMillis = timeoutMillis;
    return this;
  }

  public boolean isPanicTryAll() {
    return panicTryAll;
  }

  public RetryOptions setPanicTryAll(boolean panicTryAll) {
    this.panicTryAll = panicTryAll;
    return this;
  }
}
