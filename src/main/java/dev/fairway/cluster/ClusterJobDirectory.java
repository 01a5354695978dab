package dev.fairway.cluster;

import dev.fairway.jobs.Job;
import dev.fairway.jobs.JobDirectory;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.core.shareddata.AsyncMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The cluster's jobs in one map of the cluster manager (a Hazelcast map, entries kept for twice the jobs' retention):
 * {@code job:<id>} says which node runs a job, where its proxy port is and how the job last stood; {@code key:<scope>
 * <key>} which node's job an Idempotency-Key belongs to. A job whose node is no longer a member is reported
 * interrupted (unless it had ended), as soon as the cluster has dropped the node.
 */
public final class ClusterJobDirectory implements JobDirectory {

  private static final Logger log = LoggerFactory.getLogger(ClusterJobDirectory.class);
  static final String MAP = "fairway.jobs";

  private final Vertx vertx;
  private final Membership membership;
  /** This node's proxy port, as the other nodes reach it: host:port. */
  private final String address;
  private final long ttlMillis;
  private final Future<AsyncMap<String, JsonObject>> map;

  public ClusterJobDirectory(Vertx vertx, Membership membership, String address, long retentionMillis) {
    this.vertx = vertx;
    this.membership = membership;
    this.address = address;
    this.ttlMillis = 2 * retentionMillis;
    this.map = vertx.sharedData().getAsyncMap(MAP);
  }

  @Override
  public void recorded(Job job) {
    JsonObject entry = new JsonObject().put("node", membership.self()).put("address", address).put("scope", job.scope())
      .mergeIn(job.statusJson());
    map.compose(m -> m.put("job:" + job.id(), entry, ttlMillis)
        .compose(v -> job.idempotencyKey() == null ? Future.succeededFuture() // the key's entry names its job, for repeats elsewhere
          : m.put("key:" + job.scope() + " " + job.idempotencyKey(), new JsonObject().put("node", membership.self())
            .put("address", address).put("job", job.id()), ttlMillis)))
      .onFailure(err -> log.warn("cluster: job {} not recorded for the other nodes: {}", job.id(), err.getMessage()));
  }

  @Override
  public Future<Location> locate(String id) {
    return onCallersContext(map.compose(m -> m.get("job:" + id)).map(this::where));
  }

  @Override
  public Future<Location> claimKey(String scope, String key) {
    JsonObject mine = new JsonObject().put("node", membership.self()).put("address", address);
    String k = "key:" + scope + " " + key;
    return onCallersContext(map.compose(m -> m.putIfAbsent(k, mine, ttlMillis).compose(held -> {
      if (held == null || membership.self().equals(held.getString("node"))) return Future.succeededFuture((Location) null);
      return m.get("job:" + held.getString("job", "")).map(job -> {
        // the job's own entry says more (its id, its state), once its node has written it
        JsonObject status = job != null ? job : new JsonObject().put("node", held.getString("node")).put("address", held.getString("address"));
        return where(status);
      });
    })));
  }

  /** The map answers on a thread of its own; the request it is for goes on on its own event loop. */
  private <T> Future<T> onCallersContext(Future<T> answer) {
    io.vertx.core.Context caller = vertx.getOrCreateContext();
    io.vertx.core.Promise<T> promise = io.vertx.core.Promise.promise();
    answer.onComplete(ar -> caller.runOnContext(v -> promise.handle(ar)));
    return promise.future();
  }

  private Location where(JsonObject entry) {
    if (entry == null) return null;
    if (membership.members().contains(entry.getString("node"))) return new Location(entry.getString("address"), entry);
    JsonObject status = entry.copy();
    String state = status.getString("state");
    if (state == null || state.equals("queued") || state.equals("running")) status.put("state", "interrupted");
    return new Location(null, status);
  }
}
