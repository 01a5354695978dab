package dev.fairway.bus;

/**
 * Every event-bus address Fairway uses. Bodies are {@code JsonObject}s (documented in the README), so the bus can be
 * clustered. Events are in the past tense; queries use request/reply. Most addresses are a node's own (its roles
 * register local consumers, so a clustered bus never carries them to another node); the ones marked cluster-wide
 * reach every node of a cluster.
 */
public final class Addresses {

  /** Published by the balancer on every change: the full {@code UpstreamSet} snapshot with its revision. */
  public static final String UPSTREAMS_CHANGED = "fairway.upstreams.changed";
  /** Request/reply to the balancer: answers with the current snapshot (sent once by each verticle at start). */
  public static final String UPSTREAMS_GET = "fairway.upstreams.get";
  /** Cluster-wide. Published by the health verticle (of the node that probes the upstream) on an UP/DOWN transition only. */
  public static final String HEALTH_STATUS_CHANGED = "fairway.health.status-changed";
  /** Request/reply to the health verticle: per-upstream check details (last check, last failure, ejections). */
  public static final String HEALTH_GET = "fairway.health.get";
  /**
   * Cluster-wide. Published by a proxy instance when an upstream failed a request (connect refused, reset): the health
   * verticle of the node that probes that upstream counts it towards passive ejection.
   */
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

  /** Published by the cluster node when members join or leave: {@code {"self":ID,"members":[ID,...]}}, oldest first. */
  public static final String CLUSTER_MEMBERS_CHANGED = "fairway.cluster.members-changed";
  /** Cluster-wide request/reply, sent by a balancer as its node joins: another node's balancer answers with its snapshot. */
  public static final String CLUSTER_UPSTREAMS_GET = "fairway.cluster.upstreams.get";
  /**
   * Cluster-wide. Published by a balancer after it applied an admin change: {@code {"node":ID,"change":{...}}}, the
   * change as on {@link #ADMIN_UPSTREAMS}; the other nodes' balancers apply it too.
   */
  public static final String CLUSTER_ADMIN_APPLIED = "fairway.cluster.admin-applied";
  /**
   * Cluster-wide. Published by each node's cluster verticle every 200 ms: {@code {"node","version","started_at",
   * "address","in_flight":{UPSTREAM:N},"probes":[UPSTREAM],"shares":{UPSTREAM:N},"slots":{UPSTREAM:{"share","limit",
   * "waiting","epoch"}}}}.
   */
  public static final String CLUSTER_NODE_STATUS = "fairway.cluster.node-status";
  /**
   * Cluster-wide, point to point: {@code fairway.cluster.slots-sent.<node id>} takes slots of a limited upstream that
   * another node lends or gives back: {@code {"from":ID,"upstream":"10.0.0.5:5000","slots":1,"epoch":"…"}}.
   */
  public static final String CLUSTER_SLOTS_SENT = "fairway.cluster.slots-sent";
  /** Request/reply to the cluster verticle: the body of {@code GET /admin/cluster}. No consumer: not clustered. */
  public static final String CLUSTER_GET = "fairway.cluster.get";

  private Addresses() {
  }
}
