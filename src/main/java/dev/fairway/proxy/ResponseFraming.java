package dev.fairway.proxy;

import io.vertx.core.http.HttpMethod;

import java.util.List;

/** How an upstream response is framed, and whether that framing can be trusted: the rules behind a 502 or a closed connection. */
final class ResponseFraming {

  private ResponseFraming() {
  }

  /** Whether a response to {@code method} with {@code status} carries a body at all (RFC 9110 6.4.1). */
  static boolean hasBody(HttpMethod method, int status) {
    return method != HttpMethod.HEAD && status >= 200 && status != 204 && status != 304;
  }

  /**
   * Whether a response's Transfer-Encoding is just chunked. Anything else (say gzip) would reach the client still
   * encoded once the hop-by-hop header is dropped, so it is refused as nginx does ("unknown Transfer-Encoding").
   */
  static boolean onlyChunked(List<String> transferEncodings) {
    return transferEncodings.size() == 1 && transferEncodings.get(0).trim().equalsIgnoreCase("chunked");
  }

  /**
   * A response that has no body (HEAD, 1xx, 204, 304) but announces one: whatever the upstream writes after it would be
   * read as the next request's response, so its connection is never reused.
   *
   * @param framing       {@link ForwardedHeaders#copyResponse}'s bits
   * @param contentLength the response's Content-Length, or null
   */
  static boolean inDoubt(HttpMethod method, int status, int framing, String contentLength) {
    if (hasBody(method, status)) return false;
    if ((framing & ForwardedHeaders.TRANSFER_ENCODING) != 0) return true;
    if ((framing & ForwardedHeaders.CONTENT_LENGTH) == 0) return false;
    return contentLength == null || !contentLength.trim().equals("0");
  }
}
