package dev.fairway.jobs;

import io.vertx.core.Future;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonObject;

/** An error about a job as an RFC 9457 problem: {@code application/problem+json} with a title and a detail. */
final class Problem {

  private Problem() {
  }

  static Future<Void> send(HttpServerResponse resp, int status, String title, String detail) {
    JsonObject body = new JsonObject().put("type", "about:blank").put("title", title).put("status", status).put("detail", detail);
    return resp.setStatusCode(status).putHeader("content-type", "application/problem+json").end(body.encode() + "\n");
  }
}
