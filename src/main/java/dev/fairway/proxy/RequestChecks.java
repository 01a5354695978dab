package dev.fairway.proxy;

import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpVersion;

import java.util.List;

/**
 * The request checks a proxy must make before forwarding anything, so that no request can be smuggled past it or
 * read differently by the upstream: framing (Transfer-Encoding other than a single {@code chunked}, several
 * Content-Lengths, a malformed one) and Host (missing on HTTP/1.1, several, or with characters no host has). Netty's
 * parser already refuses much (e.g. space before the colon); these are the rest.
 */
final class RequestChecks {

  private RequestChecks() {
  }

  /** @return why the request must be refused with 400, or null if it may go on */
  static String problem(HttpServerRequest req) {
    MultiMap h = req.headers();
    // getAll makes a list each time: only when the header is there at all (Content-Length and Transfer-Encoding
    // rarely are on the requests that matter most for speed)
    List<String> te = h.contains(HttpHeaders.TRANSFER_ENCODING) ? h.getAll(HttpHeaders.TRANSFER_ENCODING) : List.of();
    if (te.size() > 1) return "more than one Transfer-Encoding header";
    if (te.size() == 1 && !te.get(0).trim().equalsIgnoreCase("chunked")) {
      return "Transfer-Encoding other than chunked: " + te.get(0);
    }
    List<String> cl = h.contains(HttpHeaders.CONTENT_LENGTH) ? h.getAll(HttpHeaders.CONTENT_LENGTH) : List.of();
    if (cl.size() > 1) return "more than one Content-Length header";
    if (cl.size() == 1) {
      if (!te.isEmpty()) return "Content-Length together with Transfer-Encoding";
      String v = cl.get(0).trim();
      if (v.isEmpty() || v.length() > 18 || !allDigits(v)) return "malformed Content-Length";
    }
    if (!validTarget(req.uri())) return "control character in the request target";
    if (RequestTarget.isAbsolute(req.uri()) && RequestTarget.of(req).authority() == null) return "malformed authority in the request target";
    if (req.version() == HttpVersion.HTTP_2 && !validHeaderValues(h)) return "CR, LF or NUL in a header value";
    if (req.version() != HttpVersion.HTTP_2) {
      int hosts = HeaderEntries.count(h, "host");
      if (hosts > 1) return "more than one Host header";
      if (hosts == 0 && req.version() == HttpVersion.HTTP_1_1) return "missing Host header";
      if (hosts == 1 && !validHost(h.get(HttpHeaders.HOST))) return "malformed Host header";
    }
    return null;
  }

  /**
   * HTTP/2 frames its headers itself, so CR, LF and NUL can arrive in a value (RFC 9113 8.2.1 forbids them); passed on
   * to an HTTP/1 upstream they would split the header, and the upstream request could not even be written.
   */
  private static boolean validHeaderValues(MultiMap headers) {
    for (var header : headers) {
      String v = header.getValue();
      for (int i = 0; i < v.length(); i++) {
        char c = v.charAt(i);
        if (c == '\r' || c == '\n' || c == 0) return false;
      }
    }
    return true;
  }

  /** No control byte, space or DEL: an upstream's parser might end the target there, or pass it on to a log. */
  private static boolean validTarget(String uri) {
    if (uri == null) return true;
    for (int i = 0; i < uri.length(); i++) {
      char c = uri.charAt(i);
      if (c <= ' ' || c == 127) return false;
    }
    return true;
  }

  /** ASCII digits only: {@code Character.isDigit} would also take other scripts' digits, which no parser reads. */
  private static boolean allDigits(String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c < '0' || c > '9') return false;
    }
    return true;
  }

  /** A host name or IP literal with an optional port from 0 to 65535, and nothing a URL could hide behind. */
  static boolean validHost(String host) {
    if (host.isEmpty()) return false;
    for (int i = 0; i < host.length(); i++) {
      char c = host.charAt(i);
      if (c == '/' || c == '@' || c == '\\' || c <= ' ' || c == 127 || c == '?' || c == '#') return false;
    }
    int close = host.lastIndexOf(']');
    int colon = host.lastIndexOf(':');
    if (host.startsWith("[") ? close < 0 : host.indexOf(':') != colon) return false; // a bare IPv6 literal, or a:b:c
    if (colon <= close) return true; // no port
    int digits = host.length() - colon - 1, port = 0;
    if (digits == 0 || digits > 5) return false;
    for (int i = colon + 1; i < host.length(); i++) { // read in place: this runs for every request
      char c = host.charAt(i);
      if (c < '0' || c > '9') return false;
      port = port * 10 + (c - '0');
    }
    return port <= 65535;
  }
}
