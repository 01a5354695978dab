package dev.fairway.jobs;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonObject;

/**
 * {@code <prefix>/<id>} on the proxy port: GET replays and follows a job's response (or, with
 * {@code Accept: application/json}, says how it stands), DELETE cancels it. A job is found only with the scope that
 * created it (404 otherwise, as for an unknown id: ids are never confirmed to others); ids are never listed here.
 */
public final class JobEndpoint {

  private final JobStore store;
  /** Passes requests for jobs of other nodes of a cluster to them. */
  private final JobForwarder forwarder;

  public JobEndpoint(JobStore store, JobForwarder forwarder) {
    this.store = store;
    this.forwarder = forwarder;
  }

  /** Whether {@code path} is under the jobs prefix. */
  public boolean owns(String path) {
    String prefix = store.options().getPrefix();
    return path.length() > prefix.length() && path.startsWith(prefix) && path.charAt(prefix.length()) == '/';
  }

  /** @param client the client's address (for key-scope client-ip) */
  public void handle(HttpServerRequest req, String path, String client) {
    HttpServerResponse resp = req.response();
    String id = path.substring(store.options().getPrefix().length() + 1);
    HttpMethod method = req.method();
    if (method != HttpMethod.GET && method != HttpMethod.HEAD && method != HttpMethod.DELETE) {
      resp.putHeader(HttpHeaders.ALLOW, "GET, HEAD, DELETE");
      Problem.send(resp, 405, "method not allowed", "a job takes GET, HEAD or DELETE");
      return;
    }
    if (!JobStore.wellFormedId(id)) {
      Problem.send(resp, 400, "malformed job id", "a job id is 22 characters of A-Z, a-z, 0-9, - and _");
      return;
    }
    Job job = store.get(id);
    JobDirectory directory = store.directory();
    if (job == null && directory != null && req.getHeader(JobDirectory.FORWARDED) == null) {
      req.pause();
      directory.locate(id).onComplete(ar -> {
        JobDirectory.Location where = ar.succeeded() ? ar.result() : null;
        if (where != null && !where.gone()) {
          forwarder.forward(req, where.address());
          return;
        }
        req.resume();
        if (where == null || !JobScope.same(where.status().getString("scope", ""), req, client)) {
          Problem.send(resp, 404, "no such job", "no job " + id + " for this caller");
        } else {
          answerGone(where.status().copy(), req, resp);
        }
      });
      return;
    }
    if (job == null || !JobScope.same(job.scope(), req, client)) {
      Problem.send(resp, 404, "no such job", "no job " + id + " for this caller");
      return;
    }
    if (method == HttpMethod.DELETE) {
      cancel(job, resp);
    } else if (job.state() == JobState.EXPIRED) {
      Problem.send(resp, 410, "job expired", "the job's retention ended and its response was deleted");
    } else if (wantsStatus(req)) {
      resp.putHeader(HttpHeaders.CONTENT_TYPE, "application/json").end(job.statusJson().encode() + "\n");
    } else {
      JobReplay.serve(store, job, req, false);
    }
  }

  /** A job of a node that has left the cluster: what was last recorded of it; its response left with the node. */
  private static void answerGone(JsonObject status, HttpServerRequest req, HttpServerResponse resp) {
    status.remove("scope");
    if (req.method() == HttpMethod.DELETE) {
      Problem.send(resp, 409, "job already ended", "the job is " + status.getString("state") + ": the node that ran it left the cluster");
    } else if (wantsStatus(req)) {
      resp.putHeader(HttpHeaders.CONTENT_TYPE, "application/json").end(status.encode() + "\n");
    } else {
      Problem.send(resp, 410, "job gone with its node", "the job is " + status.getString("state")
        + ": the node that ran it left the cluster, and its response with it");
    }
  }

  /** Accept names application/json and not the response's own kind (an event stream). */
  private static boolean wantsStatus(HttpServerRequest req) {
    String accept = req.getHeader(HttpHeaders.ACCEPT);
    return accept != null && accept.contains("application/json") && !accept.contains("text/event-stream");
  }

  /** Cancels the job and answers once it has ended (its upstream request reset), with its status. */
  private void cancel(Job job, HttpServerResponse resp) {
    if (!store.cancel(job)) {
      Problem.send(resp, 409, "job already ended", "the job is " + job.state().json());
      return;
    }
    answerWhenEnded(job, resp);
  }

  private static void answerWhenEnded(Job job, HttpServerResponse resp) {
    if (resp.closed()) return;
    if (job.state().ended()) {
      resp.putHeader(HttpHeaders.CONTENT_TYPE, "application/json").end(job.statusJson().encode() + "\n");
    } else {
      job.onProgress(Vertx.currentContext(), () -> answerWhenEnded(job, resp));
    }
  }
}
