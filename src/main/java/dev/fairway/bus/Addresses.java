package dev.fairway.bus;

/**
 * Every event-bus address Fairway uses. Bodies are {@code JsonObject}s (documented in the README) so the bus can be
 * clustered later. Events are in the past tense; queries use request/reply.
 */
public final class Addresses {

  /** Published by the balancer on every change: the full {@code UpstreamSet} snapshot with its revision. */
  public static final String UPSTREAMS_CHANGED = "fairway.upstreams.changed";
  /** Request/reply to the balancer: answers with the current snapshot (sent once by each verticle at start). */
  public static final String UPSTREAMS_GET = "fairway.upstreams.get";
  /** Published by the health verticle on an UP/DOWN transition only. */
  public static final String HEALTH_STATUS_CHANGED = "fairway.health.status-changed";
  /** Request/reply to the health verticle: per-upstream check details (last check, last failure, ejections). */
  public static final String HEALTH_GET = "fairway.health.get";
  /** Published by a proxy instance when an upstream failed a request (connect refused, reset): the health verticle counts it towards passive ejection. */
  public static final String PROXY_UPSTREAM_FAILED = "fairway.proxy.upstream-failed";

  /** Published by the reloader: a new, validated config as JSON (the config file's format). */
  public static final String CONFIG_CHANGED = "fairway.config.changed";
  /**
   * Request/reply to the reloader: {@code {"trigger":"SIGHUP"}} re-reads the config; the reply is
   * {@code {"status":"applied","restart_needed":[...]}}, or a failure (code 400) saying why the config was rejected.
   * No consumer: Fairway was started without a config file.
   */
  public static final String CONFIG_RELOAD = "fairway.config.reload";
  /** Request/reply to the balancer from the admin API: {@code {"op":"add|update|remove", ...}}. */
  public static final String ADMIN_UPSTREAMS = "fairway.admin.upstreams";

  private Addresses() {
  }
}
