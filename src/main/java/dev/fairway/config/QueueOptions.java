package dev.fairway.config;

/**
 * The wait queue for requests that find every eligible upstream at its {@code max-conns}: its size, how long a request
 * may wait, and whose turns it takes ({@code queue-fairness}).
 */
public final class QueueOptions {

  public static final int DEFAULT_SIZE = 1000;
  public static final long DEFAULT_TIMEOUT = 60_000;

  static final ConfigKeys<QueueOptions> KEYS = new ConfigKeys<QueueOptions>()
    .restartKey("queue-size", (r, key, o) -> o.size = r.integer(key, o.size, 0, 1_000_000), o -> o.size)
    .key("queue-timeout", (r, key, o) -> o.timeoutMillis = HealthCheckOptions.positive(r.key(key), r.duration(key, o.timeoutMillis)),
      o -> Durations.format(o.timeoutMillis))
    .key("queue-fairness", (r, key, o) -> o.setFairness(r.key(key), r.string(key, o.fairness)), o -> o.fairness);

  /** Requests that may wait; 0 = reject at once. Shared by all proxy instances, sized at start. */
  private int size = DEFAULT_SIZE;
  private long timeoutMillis = DEFAULT_TIMEOUT;
  /** Whose line a waiting request joins: {@code client-ip}, {@code header:NAME}, or {@code off} (one FIFO line). */
  private String fairness = "client-ip";

  public int getSize() {
    return size;
  }

  public QueueOptions setSize(int size) {
    this.size = size;
    return this;
  }

  public String getFairness() {
    return fairness;
  }

  public QueueOptions setFairness(String key, String fairness) {
    if (!fairness.equals("client-ip") && !fairness.equals("off") && !fairness.matches("header:[A-Za-z0-9!#$%&'*+.^_`|~-]+")) {
      throw ConfigException.invalid(key, fairness, "client-ip, header:NAME or off");
    }
    this.fairness = fairness;
    return this;
  }

  public long getTimeoutMillis() {
    return timeoutMillis;
  }

  public QueueOptions setTimeoutMillis(long timeoutMillis) {
    this.timeoutMillis = timeoutMillis;
    return this;
  }
}
