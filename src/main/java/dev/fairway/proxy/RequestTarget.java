package dev.fairway.proxy;

import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.net.HostAndPort;

/**
 * The request target as Fairway routes and forwards it. A target in absolute form ({@code GET http://host/x}, which
 * a client may send to any server) names the authority itself, and RFC 9112 3.2.2 has it replace the Host header: the
 * request is routed by it and forwarded in origin form ({@code /x}) with it as Host.
 *
 * @param uri       origin form: path and query
 * @param path      the path alone and normalised ({@link PathNormalizer}), for route matching
 * @param authority the authority to route by and forward, or null (an HTTP/1.0 request without Host)
 */
record RequestTarget(String uri, String path, HostAndPort authority) {

  static RequestTarget of(HttpServerRequest req) {
    String uri = req.uri();
    if (!isAbsolute(uri)) return new RequestTarget(uri, PathNormalizer.normalize(req.path()), req.authority());
    int start = uri.indexOf("//") + 2;
    int end = start;
    while (end < uri.length() && "/?#".indexOf(uri.charAt(end)) < 0) end++;
    String rest = end == uri.length() ? "/" : uri.charAt(end) == '/' ? uri.substring(end) : "/" + uri.substring(end);
    int query = rest.indexOf('?');
    return new RequestTarget(rest, PathNormalizer.normalize(query < 0 ? rest : rest.substring(0, query)),
      HostAndPort.parseAuthority(uri.substring(start, end), -1));
  }

  static boolean isAbsolute(String uri) {
    return uri != null && (uri.regionMatches(true, 0, "http://", 0, 7) || uri.regionMatches(true, 0, "https://", 0, 8));
  }
}
