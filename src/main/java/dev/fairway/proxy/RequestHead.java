package dev.fairway.proxy;

import dev.fairway.config.HeaderRules;
import io.netty.buffer.ByteBuf;
import io.netty.util.concurrent.FastThreadLocal;
import io.vertx.core.http.HttpMethod;

import java.nio.charset.StandardCharsets;

/**
 * A request head as {@link DirectHttp1} takes it: only a bodiless GET or HEAD in HTTP/1.1 with a target in origin
 * form, one valid Host, and header lines in their strict form (a token, a colon, a value without control bytes, CRLF).
 * Anything else, however valid, is not read here at all: it goes to Vert.x's decoder, which answers or forwards it as
 * for any request. The head's bytes are copied out of the socket's buffer once, and read from that array: a buffer
 * checks its bounds and that it is not yet released on every read, and the JIT left a direct buffer's byte reads as
 * calls (4 % of the CPU at 500 connections in one profile; reading from the array took 10 % off the user time per
 * request). Only what routing, the forwarded headers and the access log need becomes a String.
 */
final class RequestHead {

  /** Headers Fairway sets itself on the way up, or that end at this hop (as {@link ForwardedHeaders}). */
  private static final String[] NOT_FORWARDED = java.util.stream.Stream.of(ForwardedHeaders.HOP_BY_HOP,
    ForwardedHeaders.SET_BY_PROXY, new String[] {"x-forwarded-for"}).flatMap(java.util.Arrays::stream).distinct()
    .toArray(String[]::new);
  /** Requests with these are Vert.x's: a body, a protocol switch, an interim response. */
  private static final String[] NOT_TAKEN = {"content-length", "transfer-encoding", "upgrade", "expect"};
  /** What tchar (RFC 9110 5.6.2) allows besides letters and digits. */
  private static final String TOKEN_SYMBOLS = "!#$%&'*+-.^_`|~";

  final HttpMethod method;
  /** The target as sent: path and query, forwarded as it is. */
  final String uri;
  /** The path alone, normalised, for route matching. */
  final String path;
  final String host;
  /**
   * The head as it came, request line to blank line, in its first {@link #length} bytes: the event loop's array,
   * overwritten by its next head, so let go once the request is written upstream ({@link #written}).
   */
  private byte[] bytes;
  /** Where the header lines start in {@link #bytes}. */
  private final int headersAt;
  /** The head's length in bytes, its blank line included. */
  final int length;
  String requestId;
  String forwardedFor;
  /** The first value of the header trusted proxies name the client in (clients.client-ip-header), if asked for. */
  String clientHeader;
  String referer;
  String userAgent;
  /** The client asked to close the connection after this response. */
  boolean close;

  private RequestHead(HttpMethod method, String uri, String path, String host, byte[] bytes, int length, int headersAt) {
    this.method = method;
    this.uri = uri;
    this.path = path;
    this.host = host;
    this.bytes = bytes;
    this.headersAt = headersAt;
    this.length = length;
  }

  private static final short CRLF = '\r' << 8 | '\n';
  // looked for in a head's array, and LF in the socket's buffer, where indexOf reads eight bytes at a time
  static final byte LF = '\n';
  static final byte COLON = ':';

  /** The index just past a head's blank line in {@code buf}'s readable bytes, or -1 while it is not all there. */
  static int end(ByteBuf buf) {
    int from = buf.readerIndex(), to = buf.writerIndex();
    while (true) {
      int lf = buf.indexOf(from, to, LF);
      if (lf < 0 || lf + 2 >= to) return -1;
      if (buf.getShort(lf + 1) == CRLF) return lf + 3;
      from = lf + 1;
    }
  }

  /** Each event loop's array request heads are copied into; a head longer than it gets one of its own. */
  private static final FastThreadLocal<byte[]> HEADS = scratch();

  /** An event loop's array to copy heads into: one copy per head and no allocation (most heads are under 2 KiB). */
  static FastThreadLocal<byte[]> scratch() {
    return new FastThreadLocal<>() {
      @Override
      protected byte[] initialValue() {
        return new byte[2048];
      }
    };
  }

  /**
   * Copies the bytes from {@code buf}'s reader index to {@code end} at once to the start of {@code scratch}'s array, or
   * of a new one if they do not fit, and returns that array.
   */
  static byte[] copy(ByteBuf buf, int end, FastThreadLocal<byte[]> scratch) {
    int n = end - buf.readerIndex();
    byte[] b = scratch.get();
    if (b.length < n) b = new byte[n];
    buf.getBytes(buf.readerIndex(), b, 0, n);
    return b;
  }

  /**
   * Reads the head at the buffer's reader index, ending at {@code end} ({@link #end}).
   *
   * @param clientHeader a header whose first value to note (lower case), or null
   * @return the head, or null if it is not one this path takes
   */
  static RequestHead read(ByteBuf buf, int end, String clientHeader) {
    return read(copy(buf, end, HEADS), end - buf.readerIndex(), clientHeader);
  }

  /** Reads the head in {@code b}'s first {@code end} bytes, up to its blank line: null if this path does not take it. */
  static RequestHead read(byte[] b, int end, String clientHeader) {
    int lineEnd = indexOf(b, 0, end, LF);
    if (lineEnd <= 0 || b[lineEnd - 1] != '\r') return null;
    HttpMethod method;
    int target;
    if (startsWith(b, 0, end, "GET /")) {
      method = HttpMethod.GET;
      target = 4;
    } else if (startsWith(b, 0, end, "HEAD /")) {
      method = HttpMethod.HEAD;
      target = 5;
    } else {
      return null;
    }
    int version = lineEnd - 10; // " HTTP/1.1\r" before the LF
    if (version <= target || !startsWith(b, version, end, " HTTP/1.1\r")) return null;
    for (int i = target; i < version; i++) {
      if (b[i] <= ' ' || b[i] == 127) return null; // no control byte, space or DEL, nothing beyond ASCII (negative)
    }
    int query = indexOf(b, target, version, (byte) '?');
    String uri = new String(b, target, version - target, StandardCharsets.ISO_8859_1); // ASCII, as checked
    String path = PathNormalizer.normalize(query < 0 ? uri : uri.substring(0, query - target));
    String host = null;
    String requestId = null, forwardedFor = null, referer = null, userAgent = null, clientHeaderValue = null;
    boolean close = false;
    for (int line = lineEnd + 1; line < end - 2; ) {
      int le = indexOf(b, line, end, LF);
      if (b[le - 1] != '\r') return null;
      int colon = tokenEnd(b, line, le);
      if (colon <= line || b[colon] != ':' || !validValue(b, colon + 1, le - 1)) return null;
      if (isOneOf(b, line, colon, NOT_TAKEN)) return null;
      if (is(b, line, colon, "host")) {
        if (host != null) return null;
        host = value(b, colon, le);
        if (!RequestChecks.validHost(host)) return null;
      } else if (is(b, line, colon, "connection")) {
        String v = value(b, colon, le);
        if (v.equalsIgnoreCase("close")) close = true;
        else if (!v.equalsIgnoreCase("keep-alive")) return null; // names more hop-by-hop headers: rare, Vert.x's
      } else if (is(b, line, colon, "x-request-id")) {
        requestId = value(b, colon, le);
      } else if (is(b, line, colon, "x-forwarded-for")) {
        String v = value(b, colon, le);
        forwardedFor = forwardedFor == null ? v : forwardedFor + ", " + v;
      } else if (is(b, line, colon, "referer")) {
        referer = value(b, colon, le);
      } else if (is(b, line, colon, "user-agent")) {
        userAgent = value(b, colon, le);
      } else if (clientHeader != null && clientHeaderValue == null && is(b, line, colon, clientHeader)) {
        clientHeaderValue = value(b, colon, le);
      }
      line = le + 1;
    }
    if (host == null) return null;
    RequestHead head = new RequestHead(method, uri, path, host, b, end, lineEnd + 1);
    head.requestId = requestId;
    head.forwardedFor = forwardedFor;
    head.clientHeader = clientHeaderValue;
    head.referer = referer;
    head.userAgent = userAgent;
    head.close = close;
    return head;
  }

  /** The first value of header {@code lower} (a lower-case name) in this head; or null. */
  String firstValue(String lower) {
    return firstValue(bytes, headersAt, length, lower);
  }

  /**
   * The first value of header {@code lower} (a lower-case name) among the header lines from {@code from} in a head
   * (a request's or a response's) that ends at {@code end}, past its blank line; or null.
   */
  static String firstValue(byte[] b, int from, int end, String lower) {
    for (int line = from; line < end - 2; ) {
      int le = indexOf(b, line, end, LF);
      int colon = indexOf(b, line, le, COLON);
      if (is(b, line, colon, lower)) return value(b, colon, le);
      line = le + 1;
    }
    return null;
  }

  /** The head has been written upstream: its bytes are not read again (the array is the next head's). */
  void written() {
    bytes = null;
  }

  /** The host without its port, as routes match it. */
  String hostName() {
    int colon = host.lastIndexOf(':');
    return colon > 0 && host.lastIndexOf(']') < colon ? host.substring(0, colon) : host;
  }

  /**
   * Writes the head to send upstream into {@code out}: the request line and the client's headers as they came, less
   * hop-by-hop ones and those Fairway sets, then Fairway's (as {@link ForwardedHeaders#copyRequest}: X-Real-IP,
   * X-Forwarded-For appended, X-Forwarded-Proto, X-Request-Id, X-Forwarded-Host), Host last as the client sent it;
   * the route's request header {@code rules} applied as {@link HeaderRules#apply} applies them on the Vert.x path.
   */
  void writeUpstream(ByteBuf out, String client, String peer, String id, boolean dropUnderscores, HeaderRules rules) {
    String[] replaced = rules.replaced();
    byte[] b = bytes;
    int end = length;
    int run = 0; // the request line and the header lines kept since the last one left out: one copy
    for (int line = headersAt; line < end - 2; ) {
      int le = indexOf(b, line, end, LF);
      int colon = indexOf(b, line, le, COLON);
      if (isOneOf(b, line, colon, NOT_FORWARDED) || isOneOf(b, line, colon, replaced)
        || dropUnderscores && indexOf(b, line, colon, (byte) '_') >= 0) {
        out.writeBytes(b, run, line - run);
        run = le + 1;
      }
      line = le + 1;
    }
    out.writeBytes(b, run, end - 2 - run);
    header(out, HOST, host);
    if (!rules.replaces("x-real-ip")) header(out, X_REAL_IP, client);
    if (!rules.replaces("x-forwarded-for")) {
      header(out, X_FORWARDED_FOR, forwardedFor == null ? peer : forwardedFor + ", " + peer);
    }
    if (!rules.replaces("x-forwarded-proto")) out.writeBytes(X_FORWARDED_PROTO_HTTP);
    if (!rules.replaces("x-request-id")) header(out, X_REQUEST_ID, id);
    if (!rules.replaces("x-forwarded-host")) header(out, X_FORWARDED_HOST, host);
    if (!rules.isEmpty()) rules.forEachWritten((name, value) -> header(out, name, value));
    out.writeShort(CRLF);
  }

  // the headers Fairway writes, each as "name: " in bytes: a header then goes out in three writes, and each write
  // checks the buffer
  static final byte[] HOST = prefix("host");
  static final byte[] X_REAL_IP = prefix("x-real-ip");
  static final byte[] X_FORWARDED_FOR = prefix("x-forwarded-for");
  static final byte[] X_REQUEST_ID = prefix("x-request-id");
  static final byte[] X_FORWARDED_HOST = prefix("x-forwarded-host");
  static final byte[] X_FORWARDED_PROTO_HTTP = "x-forwarded-proto: http\r\n".getBytes(StandardCharsets.US_ASCII);
  static final byte[] TRANSFER_ENCODING_CHUNKED = "transfer-encoding: chunked\r\n".getBytes(StandardCharsets.US_ASCII);
  static final byte[] CONNECTION_CLOSE = "connection: close\r\n".getBytes(StandardCharsets.US_ASCII);
  private static final short COLON_SPACE = ':' << 8 | ' ';

  private static byte[] prefix(String name) {
    return (name + ": ").getBytes(StandardCharsets.US_ASCII);
  }

  static void header(ByteBuf out, byte[] prefix, String value) {
    out.writeBytes(prefix);
    out.writeCharSequence(value, StandardCharsets.ISO_8859_1);
    out.writeShort(CRLF);
  }

  static void header(ByteBuf out, String name, String value) {
    out.writeCharSequence(name, StandardCharsets.US_ASCII);
    out.writeShort(COLON_SPACE);
    out.writeCharSequence(value, StandardCharsets.ISO_8859_1);
    out.writeShort(CRLF);
  }

  /** The index of the first {@code value} in [from, to) of {@code b}, or -1. */
  static int indexOf(byte[] b, int from, int to, byte value) {
    for (int i = from; i < to; i++) {
      if (b[i] == value) return i;
    }
    return -1;
  }

  /** Whether the bytes at {@code at}, before {@code end}, start with {@code ascii}. */
  static boolean startsWith(byte[] b, int at, int end, String ascii) {
    return at + ascii.length() <= end && matches(b, at, ascii, false);
  }

  /** Whether the header name at [at, colon) is {@code lower}, in any case. */
  static boolean is(byte[] b, int at, int colon, String lower) {
    return colon - at == lower.length() && matches(b, at, lower, true);
  }

  /**
   * Whether the bytes at {@code at} are {@code ascii}'s, any letter in either case if {@code anyCase} ({@code ascii}
   * then in lower case). Only A-Z fold: a byte one case bit away from another that is not a letter never matches.
   */
  private static boolean matches(byte[] b, int at, String ascii, boolean anyCase) {
    for (int i = 0, n = ascii.length(); i < n; i++) {
      int c = b[at + i] & 0xff;
      if (anyCase && c >= 'A' && c <= 'Z') c += 'a' - 'A';
      if (c != ascii.charAt(i)) return false;
    }
    return true;
  }

  static boolean isOneOf(byte[] b, int at, int colon, String[] lowerNames) {
    for (String n : lowerNames) {
      if (is(b, at, colon, n)) return true;
    }
    return false;
  }

  /** A value from after the colon to the line's end, without the spaces and tabs around it. */
  static String value(byte[] b, int colon, int lf) {
    int from = skipSpaces(b, colon + 1, lf - 1); // before CR
    int to = trimSpaces(b, from, lf - 1);
    return new String(b, from, to - from, StandardCharsets.ISO_8859_1);
  }

  /** The first index in [from, to) past spaces and tabs, or {@code to}. */
  static int skipSpaces(byte[] b, int from, int to) {
    while (from < to && (b[from] == ' ' || b[from] == '\t')) from++;
    return from;
  }

  /** The end of [from, to) without the spaces and tabs it ends with. */
  static int trimSpaces(byte[] b, int from, int to) {
    while (to > from && (b[to - 1] == ' ' || b[to - 1] == '\t')) to--;
    return to;
  }

  /** Where the token starting at {@code from} ends (the index of the first byte that is not a tchar), or {@code to}. */
  private static int tokenEnd(byte[] b, int from, int to) {
    for (int i = from; i < to; i++) {
      if (b[i] < 0 || !TOKEN[b[i]]) return i;
    }
    return to;
  }

  /** No control byte but HTAB, and no DEL (obs-text, bytes over 127, is allowed as Netty allows it). */
  private static boolean validValue(byte[] b, int from, int to) {
    for (int i = from; i < to; i++) {
      byte c = b[i];
      if (c >= 0 && c < ' ' && c != '\t' || c == 127) return false;
    }
    return true;
  }

  private static final boolean[] TOKEN = new boolean[128];

  static {
    for (int c = '0'; c <= '9'; c++) TOKEN[c] = true;
    for (int c = 'a'; c <= 'z'; c++) TOKEN[c] = true;
    for (int c = 'A'; c <= 'Z'; c++) TOKEN[c] = true;
    for (char c : TOKEN_SYMBOLS.toCharArray()) TOKEN[c] = true;
  }
}
