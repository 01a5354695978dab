package dev.fairway.proxy;

import dev.fairway.accesslog.AccessLog;
import dev.fairway.accesslog.AccessRecord;
import dev.fairway.bus.UpstreamFailure;
import dev.fairway.metrics.ProxyMetrics;
import dev.fairway.config.HeaderRules;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.util.concurrent.FastThreadLocal;
import io.netty.util.concurrent.ScheduledFuture;
import io.vertx.core.http.HttpMethod;

import java.net.ConnectException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * One request on {@link DirectHttp1}'s path, from its upstream's pick to the end of the response: the request head
 * goes up as bytes, the response head comes back rewritten in place, and the body passes as it was read (counted by
 * its Content-Length, followed through its chunks, or, read until the upstream closes, sent on as chunks). What the
 * Vert.x path does around that, this does the same way: a refused connect tried elsewhere, a kept-alive connection
 * found closed replaced once, read, total and connect timeouts, the failure catalogue's replies, passive failure
 * reports, metrics and the access log. Event-loop confined.
 */
final class DirectExchange implements ReadDeadlines.Watched {

  private static final int MAX_RESPONSE_HEAD = 64 * 1024;
  /** The event loop's array response heads are read in (one apart from request heads', which a request keeps). */
  private static final FastThreadLocal<byte[]> RESPONSE_HEADS = RequestHead.scratch();
  private static final byte[] LAST_CHUNK = "0\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

  private enum Body { NONE, LENGTH, CHUNKED, UNTIL_CLOSE }

  /** Where a chunked body stands: in a size line (its digits, spaces, an extension, its LF), data, the CRLF after. */
  private enum Chunk { SIZE, SIZE_SPACE, EXTENSION, SIZE_LF, DATA, DATA_CR, DATA_LF, TRAILERS }

  private final DirectHttp1 front;
  private final ChannelHandlerContext client;
  private final ProxyInstance proxy;
  private final ProxySettings settings;
  private final DirectUpstreams upstreams;
  private final RequestHead head;
  private final Route route;
  private final String clientAddress;
  private final String requestId;
  private final String hashKey;
  /** The head to send upstream, kept until the end for a retry. */
  private ByteBuf request;
  private final long startNanos = System.nanoTime();
  /** The upstreams tried, the first on its own: a list is made only when a request goes to a second. */
  private String firstTried;
  private List<String> tried;
  private Origin origin;
  private Channel upstream;
  private boolean holdingSlot;
  private boolean reused;
  private boolean staleRetried;
  private long upstreamNanos = -1;
  private long lastUpstreamNanos;
  private ScheduledFuture<?> totalTimer;
  private boolean done;
  private String reason;

  private ByteBuf headPart;
  private boolean headWritten;
  private int status;
  private Body body;
  private long remaining;
  private Chunk chunk = Chunk.SIZE;
  private long chunkSize;
  private boolean sizeDigits;
  /** In a chunked body's trailers: the bytes of the line being read (0 at a line's start: a blank one ends them). */
  private int trailerLine;
  private boolean keepAlive;
  private long sent;
  /** The client's response head, until the first body bytes go with it. */
  private ByteBuf headOut;
  /** A body up to this size that came with its head is copied behind it: one write, not two. */
  private static final int SMALL_BODY = 4096;
  /** Keep-alive comments on a silent event stream (sse-heartbeat), as the Vert.x path writes them; or null. */
  private SseHeartbeat heartbeat;

  DirectExchange(DirectHttp1 front, ChannelHandlerContext client, ProxyInstance proxy, DirectUpstreams upstreams,
                 RequestHead head, Route route, String clientAddress, String requestId, String hashKey, ByteBuf request) {
    this.front = front;
    this.client = client;
    this.proxy = proxy;
    this.settings = proxy.settings();
    this.upstreams = upstreams;
    this.head = head;
    this.route = route;
    this.clientAddress = clientAddress;
    this.requestId = requestId;
    this.hashKey = hashKey;
    this.request = request;
  }

  /** Sends the request to {@code first}, whose in-flight slot the pick claimed. */
  void start(Origin first) {
    if (route.totalMillis() > 0) {
      totalTimer = client.executor().schedule(() -> onTimeout(Failure.TOTAL_TIMEOUT, "(total-timeout " + route.totalMillis() + "ms)"),
        route.totalMillis(), TimeUnit.MILLISECONDS);
    }
    connect(first);
  }

  private void connect(Origin o) {
    origin = o;
    holdingSlot = true;
    if (firstTried == null) {
      firstTried = o.id();
    } else {
      if (tried == null) {
        tried = new ArrayList<>(2);
        tried.add(firstTried);
      }
      tried.add(o.id());
    }
    attach(false);
  }

  /** Takes a kept-alive connection to {@link #origin} (unless {@code fresh}) or opens one, and sends the head on it. */
  private void attach(boolean fresh) {
    Channel idle = fresh ? null : upstreams.idle(origin.id());
    reused = idle != null;
    if (idle != null) {
      send(idle);
      return;
    }
    if (!upstreams.available(origin.id())) {
      releaseSlot();
      fail(Failure.POOL_FULL, null);
      return;
    }
    var address = origin.address();
    upstreams.open(origin.id(), address.host(), address.port(), route.connectMillis()).addListener((ChannelFutureListener) f -> {
      if (!f.isSuccess()) {
        onConnectFailed(f.cause());
      } else if (done) {
        f.channel().close();
      } else {
        send(f.channel());
      }
    });
  }

  private void send(Channel ch) {
    upstream = ch;
    DirectUpstreams.attach(ch, this);
    lastUpstreamNanos = System.nanoTime();
    proxy.readDeadlines().watch(this);
    ch.writeAndFlush(request.retainedDuplicate(), ch.voidPromise()); // a failed write closes it: upstreamClosed
  }

  private void onConnectFailed(Throwable cause) {
    releaseSlot();
    if (done) return;
    boolean timeout = ProxyExchange.isTimeout(cause);
    Failure failure = timeout ? Failure.CONNECT_TIMEOUT : Failure.UPSTREAM_UNREACHABLE;
    proxy.reportFailure(origin.id(), UpstreamFailure.describe(cause));
    if (cause instanceof ConnectException && tryAnother(failure)) return;
    fail(failure, null);
  }

  /** Sends the request to another upstream of the group after {@code failure}, if one is free: false if none. */
  private boolean tryAnother(Failure failure) {
    if (!withinRetryBudget()) return false;
    Origin next = proxy.selector().pickExcept(route.group(), tried != null ? tried : List.of(firstTried), hashKey);
    if (next == null) return false;
    proxy.metrics().retried(failure.code());
    connect(next);
    return true;
  }

  private boolean withinRetryBudget() {
    return settings.withinRetryBudget(tried != null ? tried.size() : 1, startNanos); // called once one was tried
  }

  /** A read from the upstream connection this exchange holds. */
  void upstreamRead(ByteBuf in) {
    if (done) {
      in.release();
      return;
    }
    lastUpstreamNanos = System.nanoTime();
    if (!headWritten) {
      if (headPart != null) {
        ByteBuf both = client.alloc().buffer(headPart.readableBytes() + in.readableBytes());
        both.writeBytes(headPart).writeBytes(in);
        headPart.release();
        in.release();
        in = both;
        headPart = null;
      }
      if (upstreamNanos < 0) {
        upstreamNanos = lastUpstreamNanos - startNanos;
        origin.meters().recordResponseHead(proxy.index(), route.prefix(), upstreamNanos);
      }
      while (!headWritten) {
        int end = RequestHead.end(in);
        if (end < 0) {
          if (in.readableBytes() > MAX_RESPONSE_HEAD) {
            in.release();
            invalidResponse();
          } else {
            headPart = in;
          }
          return;
        }
        if (!respond(RequestHead.copy(in, end, RESPONSE_HEADS), end - in.readerIndex())) { // read as a request head is
          in.release();
          if (!done) invalidResponse();
          return;
        }
        in.readerIndex(end);
      }
    }
    relayBody(in);
  }

  /**
   * Reads a response head, {@code b}'s first {@code end} bytes (to its blank line), and writes the client's; an interim
   * (1xx) head is skipped.
   *
   * @return false if the head is not a valid HTTP/1 response head
   */
  private boolean respond(byte[] b, int end) {
    int lineEnd = RequestHead.indexOf(b, 0, end, RequestHead.LF);
    if (lineEnd < 13 || !RequestHead.startsWith(b, 0, end, "HTTP/1.") || b[8] != ' ' || b[lineEnd - 1] != '\r') {
      return false;
    }
    boolean http11 = b[7] == '1';
    int code = 0;
    for (int i = 9; i < 12; i++) {
      if (b[i] < '0' || b[i] > '9') return false;
      code = code * 10 + (b[i] - '0');
    }
    if (code < 100 || (b[12] != ' ' && b[12] != '\r')) return false;
    if (code == 101) return false; // no upgrade was asked
    if (code < 200) return true; // interim: not passed on, the final head follows
    // one pass: the framing headers read, the client's head written (a 204's Content-Length and hop-by-hop headers
    // left out); a head whose Connection names other headers is written again without those (rare)
    long length = -1;
    boolean chunked = false, close = !http11, eventStream = false;
    String connectionNames = null;
    HeaderRules rules = route.responseHeaders();
    String[] replaced = rules.replaced(); // the route's response header rules, as on the Vert.x path
    ByteBuf out = client.alloc().buffer(end + 160 + requestId.length() + SMALL_BODY);
    out.writeCharSequence("HTTP/1.1", StandardCharsets.US_ASCII);
    out.writeBytes(b, 8, lineEnd + 1 - 8);
    int run = lineEnd + 1; // header lines kept since the last one left out: copied at once
    for (int line = lineEnd + 1; line < end - 2; ) {
      int le = RequestHead.indexOf(b, line, end, RequestHead.LF);
      int colon = RequestHead.indexOf(b, line, le, RequestHead.COLON);
      if (colon <= line || b[le - 1] != '\r') {
        out.release();
        return false;
      }
      boolean keep = true;
      if (RequestHead.is(b, line, colon, "content-length")) {
        long l = digits(b, colon + 1, le - 1);
        if (l < 0 || (length >= 0 && l != length)) {
          out.release();
          return false;
        }
        length = l;
        keep = code != 204; // never allowed there (RFC 9110 8.6)
      } else if (RequestHead.isOneOf(b, line, colon, ForwardedHeaders.HOP_BY_HOP)) {
        keep = false;
        if (RequestHead.is(b, line, colon, "transfer-encoding")) {
          if (chunked || !valueIs(b, colon, le, "chunked")) {
            out.release();
            return false;
          }
          chunked = true;
        } else if (RequestHead.is(b, line, colon, "connection")) {
          if (valueIs(b, colon, le, "close")) {
            close = true;
          } else if (valueIs(b, colon, le, "keep-alive")) {
            close &= http11;
          } else {
            String v = RequestHead.value(b, colon, le);
            connectionNames = connectionNames == null ? v : connectionNames + "," + v;
          }
        }
      }
      if (keep && route.sseHeartbeatMillis() > 0 && RequestHead.is(b, line, colon, "content-type")) {
        eventStream = valueStartsWith(b, colon, le, "text/event-stream");
      }
      if (!keep || RequestHead.isOneOf(b, line, colon, replaced)) {
        out.writeBytes(b, run, line - run);
        run = le + 1;
      }
      line = le + 1;
    }
    out.writeBytes(b, run, end - 2 - run);
    if (chunked && length >= 0) { // never pass on framing that two parsers could read two ways
      out.release();
      return false;
    }
    if (connectionNames != null) {
      for (String t : connectionNames.split(",")) {
        if (t.trim().equalsIgnoreCase("close")) close = true;
      }
      out.writerIndex(0);
      out.writeCharSequence("HTTP/1.1", StandardCharsets.US_ASCII);
      out.writeBytes(b, 8, lineEnd + 1 - 8);
      for (int line = lineEnd + 1; line < end - 2; ) {
        int le = RequestHead.indexOf(b, line, end, RequestHead.LF);
        int colon = RequestHead.indexOf(b, line, le, RequestHead.COLON);
        boolean drop = RequestHead.isOneOf(b, line, colon, ForwardedHeaders.HOP_BY_HOP) || named(connectionNames, b, line, colon)
          || (code == 204 && RequestHead.is(b, line, colon, "content-length")) || RequestHead.isOneOf(b, line, colon, replaced);
        if (!drop) out.writeBytes(b, line, le + 1 - line);
        line = le + 1;
      }
    }
    boolean noBody = head.method == HttpMethod.HEAD || code == 204 || code == 304;
    body = noBody ? Body.NONE : chunked ? Body.CHUNKED : length >= 0 ? Body.LENGTH : Body.UNTIL_CLOSE;
    remaining = length;
    // a bodiless answer that announces a body leaves the connection's framing in doubt (ResponseFraming.inDoubt)
    keepAlive = !close && body != Body.UNTIL_CLOSE && !(noBody && (chunked || length > 0));
    status = code;
    if (eventStream && (body == Body.CHUNKED || body == Body.UNTIL_CLOSE)) { // a comment goes as a chunk of its own
      heartbeat = new SseHeartbeat(SseHeartbeat.Timers.of(client.executor()), route.sseHeartbeatMillis(),
        this::writeHeartbeat, this::canHeartbeat, () -> proxy.metrics().sseHeartbeat("upstream"));
    }
    if (settings.capacityHeader() != null) {
      String capacity = RequestHead.firstValue(b, lineEnd + 1, end, settings.capacityHeader());
      if (capacity != null) proxy.selector().reportCapacity(origin.id(), capacity);
    }
    if (!settings.failOnStatus().isEmpty() && settings.failOnStatus().contains(code)) { // no boxing in the usual case
      proxy.reportFailure(origin.id(), "status " + code);
    }
    if (body == Body.CHUNKED || body == Body.UNTIL_CLOSE) out.writeBytes(RequestHead.TRANSFER_ENCODING_CHUNKED);
    if (!rules.replaces("x-request-id")) RequestHead.header(out, RequestHead.X_REQUEST_ID, requestId);
    if (!rules.isEmpty()) rules.forEachWritten((name, value) -> RequestHead.header(out, name, value));
    if (closesClient()) out.writeBytes(RequestHead.CONNECTION_CLOSE);
    out.writeByte('\r').writeByte('\n');
    headWritten = true;
    headOut = out; // written with the body's first bytes (one write for a small response)
    return true;
  }

  /** The digits between optional spaces in [from, to) as a number; -1 unless they are 1 to 18 ASCII digits. */
  private static long digits(byte[] b, int from, int to) {
    from = RequestHead.skipSpaces(b, from, to);
    to = RequestHead.trimSpaces(b, from, to);
    if (to == from || to - from > 18) return -1;
    long value = 0;
    for (int i = from; i < to; i++) {
      if (b[i] < '0' || b[i] > '9') return -1;
      value = value * 10 + (b[i] - '0');
    }
    return value;
  }

  /** Whether the value after {@code colon} (leading spaces aside) starts with {@code lower}, in any case. */
  private static boolean valueStartsWith(byte[] b, int colon, int lf, String lower) {
    int from = RequestHead.skipSpaces(b, colon + 1, lf);
    return lf - 1 - from >= lower.length() && RequestHead.is(b, from, from + lower.length(), lower);
  }

  /** Whether the value after the colon, spaces around it aside, is {@code lower} in any case. */
  private static boolean valueIs(byte[] b, int colon, int lf, String lower) {
    int from = RequestHead.skipSpaces(b, colon + 1, lf - 1); // before CR
    return RequestHead.is(b, from, RequestHead.trimSpaces(b, from, lf - 1), lower);
  }

  private static boolean named(String connectionNames, byte[] b, int line, int colon) {
    for (String t : connectionNames.split(",")) {
      if (RequestHead.is(b, line, colon, t.trim().toLowerCase(java.util.Locale.ROOT))) return true;
    }
    return false;
  }

  /** The client's connection ends with this response: it asked to, or Fairway is stopping. */
  private boolean closesClient() {
    return head.close || proxy.draining();
  }

  /** Passes on body bytes (the rest of a read after the head, or a later read). */
  private void relayBody(ByteBuf in) {
    int from = in.readerIndex(), to = in.writerIndex();
    ByteBuf head = headOut;
    if (head != null) {
      headOut = null;
      if (body == Body.LENGTH && remaining <= SMALL_BODY && to - from >= remaining) { // the whole body is here
        head.writeBytes(in, from, (int) remaining);
        sent += remaining;
        if (to - from > remaining) keepAlive = false; // more than its length said
        remaining = 0;
        in.release();
        client.write(head, client.voidPromise());
        complete();
        return;
      }
      client.write(head, client.voidPromise());
    }
    switch (body) {
      case NONE -> {
        if (from < to) keepAlive = false; // bytes after a bodiless response: not a connection to reuse
        in.release();
        complete();
      }
      case LENGTH -> {
        long n = Math.min(remaining, to - from);
        if (to - from > n) {
          keepAlive = false; // more than its length said
          in.writerIndex((int) (from + n));
        }
        remaining -= n;
        write(in, n);
        if (remaining == 0) complete();
      }
      case CHUNKED -> relayChunks(in, from, to);
      case UNTIL_CLOSE -> {
        int n = to - from;
        if (n == 0) {
          in.release();
          return;
        }
        if (heartbeat != null) heartbeat.passedThrough(ChunkFraming.trailingNewlines(in, from, to, heartbeat.trailingNewlines()));
        ByteBuf size = client.alloc().buffer(10);
        size.writeCharSequence(Integer.toHexString(n), StandardCharsets.US_ASCII);
        size.writeByte('\r').writeByte('\n');
        client.write(size, client.voidPromise());
        client.write(in, client.voidPromise());
        client.write(client.alloc().buffer(2).writeByte('\r').writeByte('\n'), client.voidPromise());
        sent += n;
        ChunkedPassThrough.passed(size.readableBytes() + n + 2L);
        backPressure();
      }
    }
  }

  /**
   * Passes on a chunked body in canonical framing: each chunk's data as it was read (a slice of the read) behind a
   * size line of Fairway's own, so an extension or spaces after a size (which Netty's decoder takes, and the Vert.x
   * path drops) never reach the client; trailers pass as they came. Broken framing (what that decoder refuses too, a
   * bare LF among it) ends the client's response.
   */
  private void relayChunks(ByteBuf in, int from, int to) {
    int i = from;
    while (i < to) {
      if (chunk == Chunk.DATA) {
        int n = (int) Math.min(remaining, to - i);
        if (heartbeat != null) heartbeat.passedThrough(ChunkFraming.trailingNewlines(in, i, i + n, heartbeat.trailingNewlines()));
        passChunkBytes(in.retainedSlice(i, n));
        sent += n;
        remaining -= n;
        i += n;
        if (remaining == 0) chunk = Chunk.DATA_CR;
        continue;
      }
      if (chunk == Chunk.TRAILERS) {
        int end = trailersEnd(in, i, to);
        client.write(in.retainedSlice(i, (end < 0 ? to : end) - i), client.voidPromise());
        if (end < 0) break;
        if (end < to) keepAlive = false; // bytes after the body: not a connection to reuse
        in.release();
        complete();
        return;
      }
      byte b = in.getByte(i++);
      Chunk next = chunkLine(b);
      if (next == null) {
        in.release();
        cut(Failure.UPSTREAM_INVALID.code());
        return;
      }
      chunk = next;
    }
    in.release();
    backPressure();
  }

  /** One byte of a size line or of the CRLF after data: the state it leads to, null if the framing is broken. */
  private Chunk chunkLine(byte b) {
    switch (chunk) {
      case SIZE -> {
        int digit = Character.digit(b, 16);
        if (digit >= 0) {
          if (chunkSize > Integer.MAX_VALUE >> 4) return null; // what Netty's decoder takes: an int
          chunkSize = chunkSize << 4 | digit;
          sizeDigits = true;
          return Chunk.SIZE;
        }
        if (!sizeDigits) return null;
        return b == '\r' ? Chunk.SIZE_LF : b == ' ' || b == '\t' ? Chunk.SIZE_SPACE : b == ';' ? Chunk.EXTENSION : null;
      }
      case SIZE_SPACE -> {
        return b == ' ' || b == '\t' ? Chunk.SIZE_SPACE : b == ';' ? Chunk.EXTENSION : b == '\r' ? Chunk.SIZE_LF : null;
      }
      case EXTENSION -> {
        return b == '\r' ? Chunk.SIZE_LF : b == '\n' ? null : Chunk.EXTENSION;
      }
      case SIZE_LF -> {
        if (b != '\n') return null;
        long size = chunkSize;
        chunkSize = 0;
        sizeDigits = false;
        if (size == 0) {
          client.write(client.alloc().buffer(3).writeByte('0').writeByte('\r').writeByte('\n'), client.voidPromise());
          trailerLine = 0;
          return Chunk.TRAILERS;
        }
        remaining = size;
        ByteBuf line = client.alloc().buffer(10);
        line.writeCharSequence(Long.toHexString(size), StandardCharsets.US_ASCII);
        line.writeByte('\r').writeByte('\n');
        passChunkBytes(line);
        return Chunk.DATA;
      }
      case DATA_CR -> {
        return b == '\r' ? Chunk.DATA_LF : null;
      }
      case DATA_LF -> {
        if (b != '\n') return null;
        passChunkBytes(client.alloc().buffer(2).writeByte('\r').writeByte('\n'));
        return Chunk.SIZE;
      }
      default -> throw new IllegalStateException(chunk.name());
    }
  }

  /** Between chunks (none begun) and with room in the client's socket: where a heartbeat's chunk may go. */
  private boolean canHeartbeat() {
    return !done && client.channel().isWritable() && (body == Body.UNTIL_CLOSE || chunk == Chunk.SIZE && !sizeDigits);
  }

  private void writeHeartbeat(io.vertx.core.buffer.Buffer comment) {
    ByteBuf out = client.alloc().buffer(comment.length() + 8);
    out.writeCharSequence(Integer.toHexString(comment.length()), StandardCharsets.US_ASCII);
    out.writeByte('\r').writeByte('\n').writeBytes(comment.getBytes()).writeByte('\r').writeByte('\n');
    sent += comment.length();
    client.writeAndFlush(out, client.voidPromise());
  }

  /** Writes part of a streamed body (framing and data) to the client, counted as passed as it came. */
  private void passChunkBytes(ByteBuf bytes) {
    ChunkedPassThrough.passed(bytes.readableBytes());
    client.write(bytes, client.voidPromise());
  }

  /** From {@code from} on, within trailers: the index past their blank line, or -1 if it is not in these bytes. */
  private int trailersEnd(ByteBuf in, int from, int to) {
    for (int i = from; i < to; i++) {
      byte b = in.getByte(i);
      if (b == '\n') {
        if (trailerLine == 0) return i + 1;
        trailerLine = 0;
      } else if (b != '\r') {
        trailerLine++;
      }
    }
    return -1;
  }

  private void write(ByteBuf in, long n) {
    if (n == 0) {
      in.release();
      return;
    }
    sent += n; // body bytes, as the Vert.x path counts them
    client.write(in, client.voidPromise());
    backPressure();
  }

  /** The client's socket cannot take more now: the upstream is not read until it drains. */
  private void backPressure() {
    if (!client.channel().isWritable()) {
      client.flush();
      if (!client.channel().isWritable()) {
        upstream.config().setAutoRead(false);
        front.resumeWhenWritable(upstream);
      }
    }
  }

  void upstreamReadComplete() {
    if (!done) client.flush();
  }

  /** The upstream connection closed (or broke, with {@code cause}). */
  void upstreamClosed(Throwable cause) {
    if (done) return;
    Channel closed = upstream;
    upstream = null;
    if (headWritten) {
      if (body == Body.UNTIL_CLOSE) {
        client.write(client.alloc().buffer(5).writeBytes(LAST_CHUNK), client.voidPromise());
        keepAlive = false;
        complete();
      } else {
        cut(Failure.UPSTREAM_CLOSED.code());
      }
      return;
    }
    if (headPart != null) {
      headPart.release();
      headPart = null;
    }
    proxy.readDeadlines().unwatch(this);
    if (upstreamNanos < 0 && reused && !staleRetried && withinRetryBudget()) {
      // a kept-alive connection the upstream closed as this request went out: the usual race of keep-alive; a GET
      // or HEAD goes again on a new connection to the same upstream (as on the Vert.x path)
      staleRetried = true;
      proxy.metrics().retried("stale_connection");
      attach(true);
      return;
    }
    proxy.reportFailure(origin.id(), cause == null ? "connection closed" : UpstreamFailure.describe(cause));
    releaseSlot();
    if (closed != null) closed.close();
    if (tryAnother(Failure.UPSTREAM_CLOSED)) return;
    fail(Failure.UPSTREAM_CLOSED, null);
  }

  private void invalidResponse() {
    proxy.reportFailure(origin.id(), "invalid response");
    closeUpstream();
    if (headWritten) cut(Failure.UPSTREAM_INVALID.code());
    else fail(Failure.UPSTREAM_INVALID, null);
  }

  @Override
  public boolean readExpired(long now) {
    return !done && upstream != null && now - lastUpstreamNanos > route.readMillis() * 1_000_000;
  }

  @Override
  public void onReadTimeout() {
    if (done) return;
    proxy.reportFailure(origin.id(), "timeout");
    onTimeout(Failure.UPSTREAM_TIMEOUT, "(read-timeout " + route.readMillis() + "ms)");
  }

  @Override
  public String upstreamId() {
    return origin == null ? null : origin.id();
  }

  @Override
  public long startNanos() {
    return startNanos;
  }

  private void onTimeout(Failure failure, String detail) {
    if (done) return;
    closeUpstream();
    if (headWritten) cut(failure.code());
    else fail(failure, detail);
  }

  /** The client's connection closed before the response ended. */
  void clientClosed() {
    if (done) return;
    reason = Failure.CLIENT_ABORT.code();
    closeUpstream();
    finish(Failure.CLIENT_ABORT.status());
  }

  /** Ends the client's connection mid-response: its head is out, so no error can be answered. */
  private void cut(String why) {
    reason = why;
    closeUpstream();
    finish(status);
    client.close();
  }

  /** Answers {@code failure} from the catalogue (the head is not out yet). */
  private void fail(Failure failure, String detail) {
    reason = failure.code();
    closeUpstream();
    status = failure.status();
    String message = failure.message(detail) + "\n";
    ByteBuf out = client.alloc().buffer(256 + message.length());
    out.writeCharSequence("HTTP/1.1 " + failure.status() + " " + HttpResponseStatus.valueOf(failure.status()).reasonPhrase()
      + "\r\n", StandardCharsets.US_ASCII);
    RequestHead.header(out, "content-type", "text/plain; charset=utf-8");
    RequestHead.header(out, "x-request-id", requestId);
    if (failure.asksToRetryLater()) RequestHead.header(out, "retry-after", Failure.RETRY_AFTER_SECONDS);
    if (closesClient()) RequestHead.header(out, "connection", "close");
    int length = ByteBufUtil.utf8Bytes(message);
    RequestHead.header(out, "content-length", String.valueOf(length));
    out.writeByte('\r').writeByte('\n');
    ByteBufUtil.writeUtf8(out, message);
    sent += length;
    finish(failure.status());
    client.writeAndFlush(out, client.voidPromise());
    front.ended(this, closesClient());
  }

  /** The whole response is out. */
  private void complete() {
    Channel ch = upstream;
    upstream = null;
    if (ch != null) {
      if (!ch.config().isAutoRead()) { // paused by the last write: the next exchange reads it from the start
        ch.config().setAutoRead(true);
        front.resumeWhenWritable(null);
      }
      if (keepAlive) upstreams.release(origin.id(), ch);
      else ch.close();
    }
    finish(status);
    client.flush();
    front.ended(this, closesClient());
  }

  private void closeUpstream() {
    Channel ch = upstream;
    upstream = null;
    if (ch != null) {
      DirectUpstreams.attach(ch, null);
      ch.close();
    }
  }

  private void releaseSlot() {
    if (holdingSlot) {
      holdingSlot = false;
      origin.inFlight().decrementAndGet();
      proxy.queue().drain();
    }
  }

  private void finish(int status) {
    if (done) return;
    done = true;
    proxy.readDeadlines().unwatch(this);
    if (totalTimer != null) totalTimer.cancel(false);
    if (heartbeat != null) heartbeat.stop();
    if (headPart != null) headPart.release();
    headPart = null;
    if (headOut != null) headOut.release();
    headOut = null;
    releaseSlot();
    if (request != null) {
      request.release();
      request = null;
    }
    AccessLog.Lines lines = proxy.accessLines();
    boolean logged = lines.enabled();
    if (!proxy.metrics().enabled() && !logged) return;
    long now = System.nanoTime();
    ProxyMetrics.UpstreamMeters meters = origin != null ? origin.meters() : proxy.noUpstreamMeters();
    meters.record(proxy.index(), route.prefix(), head.method, status, now - startNanos, 0, sent); // no body came
    if (logged) {
      lines.log(new AccessRecord(lines.epochMillis(now), clientAddress, head.method.name(), head.uri, "HTTP/1.1", status,
        sent, 0, head.referer, head.userAgent, now - startNanos, origin == null ? null : origin.id(),
        upstreamNanos, 0, requestId, reason));
    }
  }
}
