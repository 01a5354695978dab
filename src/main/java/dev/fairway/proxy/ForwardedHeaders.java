package dev.fairway.proxy;

import io.netty.util.AsciiString;
import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.net.HostAndPort;
import io.vertx.core.net.SocketAddress;

import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * Header rewriting in both directions: hop-by-hop headers (and any named in {@code Connection}) are dropped, and the
 * request gains what the usual nginx config in front of Flask sets: X-Real-IP, X-Forwarded-For (appended), X-Forwarded-Proto and
 * X-Forwarded-Host. The client's Host is forwarded as the request authority. Headers are copied once, straight into
 * the outgoing message, and names are compared without lower-casing (this runs for every header of every request).
 */
final class ForwardedHeaders {

  static final CharSequence X_REAL_IP = HttpHeaders.createOptimized("x-real-ip");
  static final CharSequence X_FORWARDED_FOR = HttpHeaders.createOptimized("x-forwarded-for");
  static final CharSequence X_FORWARDED_PROTO = HttpHeaders.createOptimized("x-forwarded-proto");
  static final CharSequence X_FORWARDED_HOST = HttpHeaders.createOptimized("x-forwarded-host");
  static final CharSequence X_REQUEST_ID = HttpHeaders.createOptimized("x-request-id");

  /** Headers that end at this hop, both ways (also read by the direct HTTP/1.1 path: {@link DirectExchange}). */
  static final String[] HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization",
    "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade"};
  /**
   * Request headers that Fairway sets itself, so a client cannot choose their values; and Expect, which Fairway
   * answers itself (the body is streamed upstream at once, under back-pressure).
   */
  static final String[] SET_BY_PROXY = {"host", "x-real-ip", "x-forwarded-proto", "x-forwarded-host", "expect",
    "x-request-id"};

  private ForwardedHeaders() {
  }

  /**
   * Copies the headers to send upstream for {@code req} into {@code out}; {@code client} becomes X-Real-IP and
   * {@code authority} (the request's, see {@link RequestTarget}) X-Forwarded-Host.
   */
  static void copyRequest(HttpServerRequest req, HostAndPort authority, String client, String peer, String requestId,
                          boolean dropUnderscores, MultiMap out) {
    MultiMap in = req.headers();
    Set<String> named = namedInConnection(in);
    String forwardedFor = null;
    for (var entries = HeaderEntries.of(in); entries.hasNext(); ) {
      Map.Entry<? extends CharSequence, ? extends CharSequence> h = entries.next();
      CharSequence name = h.getKey();
      if (HeaderEntries.is(name, "x-forwarded-for")) {
        String value = h.getValue().toString();
        forwardedFor = forwardedFor == null ? value : forwardedFor + ", " + value;
      } else if (!isOneOf(name, HOP_BY_HOP) && !isOneOf(name, SET_BY_PROXY)
        && (named == null || !named.contains(name.toString().toLowerCase()))
        && !(dropUnderscores && AsciiString.indexOf(name, '_', 0) >= 0)) {
        out.add(name, h.getValue());
      }
    }
    out.set(X_REAL_IP, client);
    out.set(X_FORWARDED_FOR, forwardedFor == null ? peer : forwardedFor + ", " + peer);
    out.set(X_FORWARDED_PROTO, req.scheme() == null ? "http" : req.scheme());
    out.set(X_REQUEST_ID, requestId);
    if (authority != null) {
      out.set(X_FORWARDED_HOST, authority.toString());
    }
  }

  /** A TCP peer's address as text (Vert.x makes a new string each time it is asked: ask once per connection). */
  static String peer(SocketAddress peer) {
    String address = peer == null ? null : peer.hostAddress();
    return address == null ? "unknown" : address;
  }

  /** Bits of {@link #copyResponse}'s answer. */
  static final int CONTENT_LENGTH = 1;
  static final int TRANSFER_ENCODING = 2;
  static final int CONNECTION_CLOSE = 4;

  /**
   * Copies the upstream's response headers to the client response, without hop-by-hop ones, in one pass.
   *
   * @return which framing headers the upstream sent: {@link #CONTENT_LENGTH}, {@link #TRANSFER_ENCODING},
   * {@link #CONNECTION_CLOSE}
   */
  static int copyResponse(MultiMap from, MultiMap to) {
    int framing = 0;
    String connection = null;
    for (Map.Entry<String, String> h : from) {
      String name = h.getKey();
      if (isOneOf(name, HOP_BY_HOP)) {
        if (name.equalsIgnoreCase("transfer-encoding")) framing |= TRANSFER_ENCODING;
        else if (name.equalsIgnoreCase("connection")) connection = h.getValue();
      } else {
        if (name.equalsIgnoreCase("content-length")) framing |= CONTENT_LENGTH;
        to.add(name, h.getValue());
      }
    }
    if (connection != null) {
      if (connection.equalsIgnoreCase("close")) {
        framing |= CONNECTION_CLOSE;
      } else if (!connection.equalsIgnoreCase("keep-alive")) {
        for (String token : connection.split(",")) { // headers named in Connection are hop-by-hop too (rare)
          String t = token.trim();
          if (t.equalsIgnoreCase("close")) framing |= CONNECTION_CLOSE;
          else if (!t.isEmpty()) to.remove(t);
        }
      }
    }
    return framing;
  }

  private static boolean isOneOf(CharSequence name, String[] lowerCaseNames) {
    for (String n : lowerCaseNames) {
      if (HeaderEntries.is(name, n)) return true;
    }
    return false;
  }

  /** The extra header names listed in Connection (lower case), or null when there are none: the common case. */
  private static Set<String> namedInConnection(MultiMap headers) {
    String connection = headers.get(HttpHeaders.CONNECTION);
    if (connection == null) return null;
    java.util.List<String> lines = headers.getAll(HttpHeaders.CONNECTION);
    if (lines.size() == 1 && (connection.equalsIgnoreCase("keep-alive") || connection.equalsIgnoreCase("close"))) {
      return null;
    }
    Set<String> names = new HashSet<>();
    for (String line : lines) { // every Connection line counts: a second one must not smuggle a hop-by-hop header through
      for (String token : line.split(",")) {
        names.add(token.trim().toLowerCase());
      }
    }
    return names;
  }
}
