package dev.fairway.support;

import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;

import java.time.Duration;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

/** Small client helpers for end-to-end tests. */
public final class Http {

  /** Status, headers and body of one exchange. */
  public record Reply(int status, MultiMap headers, String body) {
  }

  private Http() {
  }

  public static Future<Reply> get(HttpClient client, int port, String uri) {
    return send(client, new RequestOptions().setMethod(HttpMethod.GET).setHost("127.0.0.1").setPort(port).setURI(uri), null);
  }

  public static Future<Reply> send(HttpClient client, RequestOptions options, String body) {
    // body() is asked for in the same callback that receives the response, so no chunk can arrive before it
    return client.request(options)
      .compose(req -> (body == null ? req.send() : req.send(body))
        .compose(resp -> resp.body().map(b -> new Reply(resp.statusCode(), resp.headers(), b.toString()))));
  }

  /** Polls {@code condition} every 20 ms until it holds, failing after {@code timeout}. */
  public static void await(String what, Duration timeout, BooleanSupplier condition) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out after " + timeout + " waiting for " + what);
      }
      LockSupport.parkNanos(20_000_000);
    }
  }
}
