package dev.fairway.jobs;

import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpVersion;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;

/**
 * A request whose Idempotency-Key (in its scope) already has a job. Its body is read and hashed, never sent upstream;
 * the same fingerprint (method, target, body) attaches it to that job's response, from the start (a finished job's
 * answer says {@code Idempotent-Replayed: true}); a different one is a 422 problem, as the IETF draft asks.
 */
public final class IdempotentRepeat {

  public static final String HEADER = "Idempotency-Key";

  private IdempotentRepeat() {
  }

  /** Whether {@code key} can be an Idempotency-Key: 1 to 255 visible ASCII characters. */
  public static boolean wellFormed(String key) {
    return key.length() >= 1 && key.length() <= 255 && key.chars().allMatch(c -> c > 0x20 && c < 0x7f);
  }

  public static void handle(JobStore store, Job job, HttpServerRequest req, String uri) {
    Context context = Vertx.currentContext();
    MessageDigest digest = JobScope.digest();
    digest.update((req.method().name() + ' ' + uri + '\n').getBytes(StandardCharsets.UTF_8));
    req.handler(chunk -> digest.update(chunk.getBytes()));
    req.endHandler(v -> {
      String fingerprint = HexFormat.of().formatHex(digest.digest());
      job.fingerprint().whenComplete((first, err) -> context.runOnContext(x -> {
        if (err != null) {
          Problem.send(req.response(), 409, "earlier request failed",
            "the first request with this Idempotency-Key never reached the upstream whole; send it again");
        } else if (!first.equals(fingerprint)) {
          store.conflict();
          Problem.send(req.response(), 422, "Idempotency-Key reused",
            "this Idempotency-Key was used for a different request (method, target or body)");
        } else {
          store.replayed();
          JobReplay.serve(store, job, req, true);
        }
      }));
    });
    if (req.version() != HttpVersion.HTTP_2 && "100-continue".equalsIgnoreCase(req.getHeader(HttpHeaders.EXPECT))) {
      req.response().writeContinue();
    }
  }

  /** A repeated key whose job ran on a node that has left the cluster: not run again (it may have reached its upstream). */
  public static void lostWithItsNode(io.vertx.core.http.HttpServerResponse resp, String jobId) {
    Problem.send(resp, 409, "job interrupted", "the job of this Idempotency-Key (" + jobId
      + ") ran on a node that left the cluster; send the request with a new key to run it again");
  }
}
