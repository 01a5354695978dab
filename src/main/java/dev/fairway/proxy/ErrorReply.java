package dev.fairway.proxy;

import io.vertx.core.Future;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.HttpVersion;

/** Writes a {@link Failure} to the client: its status and a short plain-text body, the one form of every error. */
final class ErrorReply {

  static final String ALLOWED_METHODS = "GET, HEAD, POST, PUT, DELETE, OPTIONS, PATCH";

  private ErrorReply() {
  }

  /**
   * @param detail    added to the catalogue's message (which limit, which timeout), or null
   * @param requestId echoed in X-Request-Id, or null
   * @param close     close an HTTP/1 connection after the reply: its framing cannot be trusted, or the rest of the
   *                  request body is not read (an HTTP/2 connection stays open for its other streams)
   */
  static Future<Void> send(HttpServerRequest req, Failure failure, String detail, String requestId, boolean close) {
    HttpServerResponse resp = req.response();
    boolean closeConnection = close && req.version() != HttpVersion.HTTP_2;
    resp.setStatusCode(failure.status()).putHeader(HttpHeaders.CONTENT_TYPE, "text/plain; charset=utf-8");
    if (requestId != null) resp.putHeader(ForwardedHeaders.X_REQUEST_ID, requestId);
    if (failure.asksToRetryLater()) resp.putHeader(HttpHeaders.RETRY_AFTER, Failure.RETRY_AFTER_SECONDS);
    if (failure == Failure.METHOD_NOT_ALLOWED) resp.putHeader(HttpHeaders.ALLOW, ALLOWED_METHODS);
    if (closeConnection) resp.putHeader(HttpHeaders.CONNECTION, HttpHeaders.CLOSE);
    return resp.end(failure.message(detail) + "\n").andThen(v -> {
      if (closeConnection) req.connection().close();
    });
  }
}
