package dev.fairway.jobs;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;

/**
 * Where the jobs of a cluster run: each node records its jobs and the Idempotency-Keys they claimed, so that a
 * resume or a repeated key reaching another node is passed to the node that runs the job (its spool is there).
 * Null in a {@link JobStore} that is not clustered.
 */
public interface JobDirectory {

  /** Marks a request one node passed to another: the receiver serves it from its own jobs and never passes it on. */
  String FORWARDED = "Fairway-Job-Forwarded";

  /**
   * A job that runs on another node.
   *
   * @param address where that node's proxy port is reached (host:port); null when the node has left the cluster
   * @param status  what was last recorded of the job (with its scope); "interrupted" if its node left before it ended
   */
  record Location(String address, JsonObject status) {
    public boolean gone() {
      return address == null;
    }
  }

  /** A job of this node was created or ended. */
  void recorded(Job job);

  /** @return where job {@code id} runs, or null if no node recorded it */
  Future<Location> locate(String id);

  /**
   * Claims an Idempotency-Key for this node, unless another node holds it already.
   *
   * @return null when this node holds it (run the request here), else where the key's job runs
   */
  Future<Location> claimKey(String scope, String key);
}
