package dev.fairway.proxy;

import dev.fairway.config.HeaderRules;
import io.netty.buffer.ByteBuf;
import io.netty.util.ByteProcessor;
import io.vertx.core.http.HttpMethod;

import java.nio.charset.StandardCharsets;

/**
 * A request head as {@link DirectHttp1} takes it, read in place in the bytes it came in: only a bodiless GET or HEAD
 * in HTTP/1.1 with a target in origin form, one valid Host, and header lines in their strict form (a token, a colon,
 * a value without control bytes, CRLF). Anything else, however valid, is not read here at all: it goes to Vert.x's
 * decoder, which answers or forwards it as for any request. Only what routing, the forwarded headers and the access
 * log need becomes a String.
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
  /** Where the header lines start and the head ends (past its blank line), in the buffer it was read from. */
  final int headersAt;
  final int end;
  final int length;
  String requestId;
  String forwardedFor;
  /** The first value of the header trusted proxies name the client in (clients.client-ip-header), if asked for. */
  String clientHeader;
  String referer;
  String userAgent;
  /** The client asked to close the connection after this response. */
  boolean close;

  private RequestHead(HttpMethod method, String uri, String path, String host, int headersAt, int end, int length) {
    this.method = method;
    this.uri = uri;
    this.path = path;
    this.host = host;
    this.headersAt = headersAt;
    this.end = end;
    this.length = length;
  }

  private static final short CRLF = '\r' << 8 | '\n';
  // bytes looked for with indexOf, which reads eight at a time (forEachByte calls its processor on each)
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

  /**
   * Reads the head at the buffer's reader index, ending at {@code end} ({@link #end}).
   *
   * @param clientHeader a header whose first value to note (lower case), or null
   * @return the head, or null if it is not one this path takes
   */
  static RequestHead read(ByteBuf buf, int end, String clientHeader) {
    int start = buf.readerIndex();
    int lineEnd = buf.indexOf(start, end, LF);
    if (lineEnd <= start || buf.getByte(lineEnd - 1) != '\r') return null;
    HttpMethod method;
    int target;
    if (startsWith(buf, start, "GET /")) {
      method = HttpMethod.GET;
      target = start + 4;
    } else if (startsWith(buf, start, "HEAD /")) {
      method = HttpMethod.HEAD;
      target = start + 5;
    } else {
      return null;
    }
    int version = lineEnd - 10; // " HTTP/1.1\r" before the LF
    if (version <= target || !startsWith(buf, version, " HTTP/1.1\r")) return null;
    // no control byte, space or DEL, and nothing beyond ASCII (a negative byte)
    if (buf.forEachByte(target, version - target, TARGET_BYTE) >= 0) return null;
    int query = buf.indexOf(target, version, (byte) '?');
    String uri = buf.toString(target, version - target, StandardCharsets.US_ASCII);
    String path = PathNormalizer.normalize(query < 0 ? uri : uri.substring(0, query - target));
    String host = null;
    RequestHead head = null;
    String requestId = null, forwardedFor = null, referer = null, userAgent = null, clientHeaderValue = null;
    boolean close = false;
    for (int line = lineEnd + 1; line < end - 2; ) {
      int le = buf.indexOf(line, end, LF);
      if (buf.getByte(le - 1) != '\r') return null;
      int colon = tokenEnd(buf, line, le);
      if (colon <= line || buf.getByte(colon) != ':' || !validValue(buf, colon + 1, le - 1)) return null;
      if (isOneOf(buf, line, colon, NOT_TAKEN)) return null;
      if (is(buf, line, colon, "host")) {
        if (host != null) return null;
        host = value(buf, colon, le);
        if (!RequestChecks.validHost(host)) return null;
      } else if (is(buf, line, colon, "connection")) {
        String v = value(buf, colon, le);
        if (v.equalsIgnoreCase("close")) close = true;
        else if (!v.equalsIgnoreCase("keep-alive")) return null; // names more hop-by-hop headers: rare, Vert.x's
      } else if (is(buf, line, colon, "x-request-id")) {
        requestId = value(buf, colon, le);
      } else if (is(buf, line, colon, "x-forwarded-for")) {
        String v = value(buf, colon, le);
        forwardedFor = forwardedFor == null ? v : forwardedFor + ", " + v;
      } else if (is(buf, line, colon, "referer")) {
        referer = value(buf, colon, le);
      } else if (is(buf, line, colon, "user-agent")) {
        userAgent = value(buf, colon, le);
      } else if (clientHeader != null && clientHeaderValue == null && is(buf, line, colon, clientHeader)) {
        clientHeaderValue = value(buf, colon, le);
      }
      line = le + 1;
    }
    if (host == null) return null;
    head = new RequestHead(method, uri, path, host, lineEnd + 1, end, end - start);
    head.requestId = requestId;
    head.forwardedFor = forwardedFor;
    head.clientHeader = clientHeaderValue;
    head.referer = referer;
    head.userAgent = userAgent;
    head.close = close;
    return head;
  }

  /** The first value of header {@code lower} (a lower-case name) in this head, read from {@code buf}; or null. */
  String firstValue(ByteBuf buf, String lower) {
    return firstValue(buf, headersAt, end, lower);
  }

  /**
   * The first value of header {@code lower} (a lower-case name) among the header lines from {@code from} in a head
   * (a request's or a response's) that ends at {@code end}, past its blank line; or null.
   */
  static String firstValue(ByteBuf buf, int from, int end, String lower) {
    for (int line = from; line < end - 2; ) {
      int le = buf.indexOf(line, end, LF);
      int colon = buf.indexOf(line, le, COLON);
      if (is(buf, line, colon, lower)) return value(buf, colon, le);
      line = le + 1;
    }
    return null;
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
  void writeUpstream(ByteBuf buf, ByteBuf out, String client, String peer, String id, boolean dropUnderscores,
                     HeaderRules rules) {
    String[] replaced = rules.replaced();
    int run = end - length; // the request line and the header lines kept since the last one left out: one copy
    for (int line = headersAt; line < end - 2; ) {
      int le = buf.indexOf(line, end, LF);
      int colon = buf.indexOf(line, le, COLON);
      if (isOneOf(buf, line, colon, NOT_FORWARDED) || isOneOf(buf, line, colon, replaced)
        || dropUnderscores && buf.indexOf(line, colon, (byte) '_') >= 0) {
        out.writeBytes(buf, run, line - run);
        run = le + 1;
      }
      line = le + 1;
    }
    out.writeBytes(buf, run, end - 2 - run);
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
  // checks the buffer as a read does (see matches)
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

  static boolean startsWith(ByteBuf buf, int at, String ascii) {
    return at + ascii.length() <= buf.writerIndex() && matches(buf, at, ascii, false);
  }

  /** Whether the header name at [at, colon) is {@code lower}, in any case. */
  static boolean is(ByteBuf buf, int at, int colon, String lower) {
    return colon - at == lower.length() && matches(buf, at, lower, true);
  }

  /**
   * Whether the bytes at {@code at} are {@code ascii}'s, any letter in either case if {@code anyCase} ({@code ascii}
   * then in lower case). Compared eight bytes at a time: each read of a buffer checks its bounds and that it is not
   * yet released, and a byte at a time those checks cost more than the comparing (about 7 % of the CPU a small
   * request took).
   */
  private static boolean matches(ByteBuf buf, int at, String ascii, boolean anyCase) {
    int n = ascii.length(), i = 0;
    for (; i + 8 <= n; i += 8) {
      long want = 0, fold = 0;
      for (int k = i; k < i + 8; k++) {
        char c = ascii.charAt(k);
        want = want << 8 | c;
        fold = fold << 8 | (anyCase && c >= 'a' && c <= 'z' ? 0x20 : 0); // 'A' | 0x20 is 'a'; only letters fold
      }
      if ((buf.getLong(at + i) | fold) != want) return false;
    }
    for (; i < n; i++) {
      int b = buf.getByte(at + i) & 0xff; // as the eight-byte compare reads it
      if (anyCase && b >= 'A' && b <= 'Z') b += 'a' - 'A';
      if (b != ascii.charAt(i)) return false;
    }
    return true;
  }

  static boolean isOneOf(ByteBuf buf, int at, int colon, String[] lowerNames) {
    for (String n : lowerNames) {
      if (is(buf, at, colon, n)) return true;
    }
    return false;
  }

  /** A value from after the colon to the line's end, without the spaces and tabs around it. */
  static String value(ByteBuf buf, int colon, int lf) {
    int from = skipSpaces(buf, colon + 1, lf - 1); // before CR
    int to = trimSpaces(buf, from, lf - 1);
    return buf.toString(from, to - from, StandardCharsets.ISO_8859_1);
  }

  /** The first index in [from, to) past spaces and tabs, or {@code to}. */
  static int skipSpaces(ByteBuf buf, int from, int to) {
    while (from < to && (buf.getByte(from) == ' ' || buf.getByte(from) == '\t')) from++;
    return from;
  }

  /** The end of [from, to) without the spaces and tabs it ends with. */
  static int trimSpaces(ByteBuf buf, int from, int to) {
    while (to > from && (buf.getByte(to - 1) == ' ' || buf.getByte(to - 1) == '\t')) to--;
    return to;
  }

  /** Where the token starting at {@code from} ends (the index of the first byte that is not a tchar). */
  private static int tokenEnd(ByteBuf buf, int from, int to) {
    int end = buf.forEachByte(from, to - from, TCHAR);
    return end < 0 ? to : end;
  }

  /** No control byte but HTAB, and no DEL (obs-text, bytes over 127, is allowed as Netty allows it). */
  private static boolean validValue(ByteBuf buf, int from, int to) {
    return buf.forEachByte(from, to - from, VALUE_BYTE) < 0;
  }

  private static final boolean[] TOKEN = new boolean[128];

  static {
    for (int c = '0'; c <= '9'; c++) TOKEN[c] = true;
    for (int c = 'a'; c <= 'z'; c++) TOKEN[c] = true;
    for (int c = 'A'; c <= 'Z'; c++) TOKEN[c] = true;
    for (char c : TOKEN_SYMBOLS.toCharArray()) TOKEN[c] = true;
  }

  // the scans go through forEachByte: one bounds check per run of bytes, not one per byte
  private static final ByteProcessor TCHAR = b -> b >= 0 && TOKEN[b];
  private static final ByteProcessor VALUE_BYTE = b -> (b >= ' ' || b == '\t' || b < 0) && b != 127;
  private static final ByteProcessor TARGET_BYTE = b -> b > ' ' && b != 127;
}
