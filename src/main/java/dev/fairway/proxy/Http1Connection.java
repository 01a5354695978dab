package dev.fairway.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.NetUtil;
import io.netty.util.ReferenceCountUtil;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.MultiMap;
import io.vertx.core.Promise;
import io.vertx.core.VertxException;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.internal.buffer.BufferInternal;
import io.vertx.core.internal.http.HttpHeadersInternal;
import io.vertx.core.internal.net.NetSocketInternal;
import io.vertx.core.net.HostAndPort;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.SocketAddress;

/**
 * An HTTP/1.1 upstream connection (plain or over TLS) on Netty's HTTP client codec, one request at a time. Vert.x's HTTP client
 * cost 16–30 % more CPU per proxied request than this codec over the same Vert.x connections (load-tests/RESULTS.md,
 * lean-client-pipe), most of what its HTTP/1 path adds over nginx. Vert.x still owns the socket: its event loop, its
 * transport (reads into relay buffers), reading with pause and resume, and closing. The codec goes into the socket's
 * pipeline the way Vert.x's own database clients put theirs ({@link NetSocketInternal}).
 * <p>
 * Bytes are handled as Vert.x's client handles them: a chunk read into a relay buffer is passed on as it is, anything
 * else is copied to the heap ({@link BufferInternal#safeBuffer}); a chunk written goes out as the buffer it wraps, so
 * {@link ReleaseAfterWrite} releases a relayed one once written. Event-loop confined.
 */
final class Http1Connection implements UpstreamConnection {

  /** Its codec's name in the socket's pipeline. */
  static final String CODEC = "fairway-http1-client";
  static final String WRITABILITY = "fairway-http1-writability";
  /** Vert.x's HTTP client defaults, so upstream responses are parsed exactly as before. */
  private static final int MAX_INITIAL_LINE = 4096;
  private static final int MAX_HEADER_SIZE = 8192;
  private static final int INITIAL_BUFFER = 128;
  private static final MultiMap NO_TRAILERS = HttpHeadersInternal.headers(EmptyHttpHeaders.INSTANCE);

  private final NetSocketInternal socket;
  /** Writes start at Vert.x's handler and go out through the codec (and the release of relayed chunks before it). */
  private final ChannelHandlerContext out;
  /** The request in progress; null while the connection is idle. */
  private Exchange current;
  private Handler<Void> closeHandler;
  private Handler<Void> drainHandler;
  /** The socket's last error, reported as the cause when the connection closes. */
  private Throwable error;
  private boolean closed;

  /** @param host the upstream's name: over TLS, the server name sent (unless an IP address) and checked */
  static Future<UpstreamConnection> connect(NetClient client, SocketAddress address, String host) {
    String serverName = NetUtil.isValidIpV4Address(host) || NetUtil.isValidIpV6Address(host) ? null : host;
    return client.connect(address, serverName).map(socket -> new Http1Connection((NetSocketInternal) socket));
  }

  private Http1Connection(NetSocketInternal socket) {
    this.socket = socket;
    this.out = socket.channelHandlerContext();
    ChannelPipeline pipeline = out.pipeline();
    // before the release of written chunks, which must see the chunks rather than the bytes they are encoded to
    String next = pipeline.get(ReleaseAfterWrite.NAME) != null ? ReleaseAfterWrite.NAME : ReleaseAfterWrite.VERTX_HANDLER;
    pipeline.addBefore(next, CODEC, new HttpClientCodec(MAX_INITIAL_LINE, MAX_HEADER_SIZE, ProxyVerticle.BODY_CHUNK, false,
      !HttpHeadersInternal.DISABLE_HTTP_HEADERS_VALIDATION, INITIAL_BUFFER));
    pipeline.addAfter(CODEC, WRITABILITY, new Writability(this));
    socket.messageHandler(this::onMessage);
    socket.exceptionHandler(err -> error = err);
    socket.closeHandler(v -> onClosed());
  }

  @Override
  public Future<UpstreamRequest> request(HttpMethod method, String uri) {
    if (closed) return Future.failedFuture(closedCause());
    if (current != null) return Future.failedFuture(new IllegalStateException("connection in use"));
    current = new Exchange(method, uri);
    return Future.succeededFuture(current);
  }

  @Override
  public void closeHandler(Handler<Void> handler) {
    closeHandler = handler;
  }

  @Override
  public void close() {
    socket.close();
  }

  @Override
  public int activeStreams() {
    return current == null ? 0 : 1;
  }

  @Override
  public int maxActiveStreams() {
    return 1;
  }

  private void onMessage(Object msg) {
    Exchange exchange = current;
    if (exchange == null) { // bytes nobody asked for: the connection's framing cannot be trusted
      ReferenceCountUtil.release(msg);
      socket.close();
      return;
    }
    if (msg instanceof HttpObject o && o.decoderResult().isFailure()) {
      ReferenceCountUtil.release(msg);
      exchange.fail(new VertxException("invalid response: " + o.decoderResult().cause().getMessage(), true));
      socket.close();
      return;
    }
    if (msg instanceof HttpResponse head) exchange.head(head);
    if (msg instanceof HttpContent content) exchange.content(content);
  }

  private void onClosed() {
    closed = true;
    drainHandler = null;
    Exchange exchange = current;
    current = null;
    if (exchange != null) exchange.fail(closedCause());
    if (closeHandler != null) closeHandler.handle(null);
  }

  private Throwable closedCause() {
    return error != null ? error : new VertxException("Connection was closed", true);
  }

  private void drained() {
    Handler<Void> handler = drainHandler;
    drainHandler = null;
    if (handler != null) handler.handle(null);
  }

  /** One request and its response. Once it is no longer the connection's current one, what it is told is ignored. */
  private final class Exchange implements UpstreamRequest {
    private final HttpMethod method;
    private final String uri;
    /** Vert.x's header map, which is Netty's too: sent without a copy. */
    private final MultiMap headers = HttpHeaders.headers();
    private final Promise<UpstreamResponse> response = Promise.promise();
    private Response res;
    private boolean chunked;
    private boolean headSent;
    private boolean ended;
    /** Between a 1xx head and its end: what comes is not the response. */
    private boolean informational;

    Exchange(HttpMethod method, String uri) {
      this.method = method;
      this.uri = uri;
    }

    @Override
    public MultiMap headers() {
      return headers;
    }

    @Override
    public void authority(HostAndPort authority) {
      headers.set(HttpHeaders.HOST, authority.toString(socket.isSsl()));
    }

    @Override
    public void setChunked(boolean chunked) {
      this.chunked = chunked;
    }

    @Override
    public boolean isChunked() {
      return chunked;
    }

    @Override
    public Future<UpstreamResponse> response() {
      return response.future();
    }

    @Override
    public void write(Buffer chunk) {
      if (current != this || ended) return;
      sendHead();
      out.writeAndFlush(new DefaultHttpContent(((BufferInternal) chunk).getByteBuf()), out.voidPromise());
    }

    @Override
    public void end() {
      if (current != this || ended) return;
      sendHead();
      ended = true;
      out.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT, out.voidPromise());
    }

    @Override
    public void end(Buffer body) {
      if (!chunked && !headers.contains(HttpHeaders.CONTENT_LENGTH)) {
        headers.set(HttpHeaders.CONTENT_LENGTH, String.valueOf(body.length()));
      }
      write(body);
      end();
    }

    /** The head goes out with the first write or the end, not flushed on its own. */
    private void sendHead() {
      if (headSent) return;
      headSent = true;
      if (chunked) {
        headers.remove(HttpHeaders.CONTENT_LENGTH);
        headers.set(HttpHeaders.TRANSFER_ENCODING, HttpHeaders.CHUNKED);
      }
      out.write(new DefaultHttpRequest(io.netty.handler.codec.http.HttpVersion.HTTP_1_1, method.toNetty(), uri,
        nettyHeaders()), out.voidPromise());
    }

    private io.netty.handler.codec.http.HttpHeaders nettyHeaders() {
      if (headers instanceof io.netty.handler.codec.http.HttpHeaders netty) return netty;
      io.netty.handler.codec.http.HttpHeaders copy = new io.netty.handler.codec.http.DefaultHttpHeaders();
      headers.forEach(h -> copy.add(h.getKey(), h.getValue()));
      return copy;
    }

    @Override
    public boolean writeQueueFull() {
      return current == this && !out.channel().isWritable();
    }

    @Override
    public void drainHandler(Handler<Void> handler) {
      if (current == this) drainHandler = handler;
    }

    @Override
    public void reset() {
      if (current != this) return;
      fail(new VertxException("request reset", true));
      socket.close();
    }

    @Override
    public void closeConnection() {
      socket.close();
    }

    private void head(HttpResponse head) {
      if (head.status().codeClass() == HttpStatusClass.INFORMATIONAL) { // 100 Continue, 103 Early Hints: not relayed
        informational = true;
        return;
      }
      res = new Response(head);
      response.tryComplete(res);
    }

    private void content(HttpContent content) {
      boolean last = content instanceof LastHttpContent;
      Response r = res;
      if (informational || r == null) {
        content.release();
        if (last) informational = false;
        return;
      }
      ByteBuf bytes = content.content();
      if (bytes.isReadable() && r.handler != null) {
        r.handler.handle(BufferInternal.safeBuffer(bytes)); // passes the reference on, or copies and releases
      } else {
        content.release();
      }
      if (last) {
        LastHttpContent end = (LastHttpContent) content;
        if (!end.trailingHeaders().isEmpty()) r.trailers = HttpHeadersInternal.headers(end.trailingHeaders());
        r.ended = true;
        drainHandler = null;
        current = null; // before the end handler, which may give the connection to the next request
        if (r.endHandler != null) r.endHandler.handle(null);
      }
    }

    /** The connection closed, the request was reset, or the response could not be read. */
    private void fail(Throwable cause) {
      if (current == this) current = null;
      if (response.tryFail(cause)) return;
      if (res != null && !res.ended && res.exceptionHandler != null) {
        res.ended = true;
        res.exceptionHandler.handle(cause);
      }
    }
  }

  private final class Response implements UpstreamResponse {
    private final HttpResponse head;
    private final MultiMap headers;
    private MultiMap trailers = NO_TRAILERS;
    private Handler<Buffer> handler;
    private Handler<Void> endHandler;
    private Handler<Throwable> exceptionHandler;
    private boolean ended;

    Response(HttpResponse head) {
      this.head = head;
      this.headers = HttpHeadersInternal.headers(head.headers());
    }

    @Override
    public int statusCode() {
      return head.status().code();
    }

    @Override
    public String statusMessage() {
      return head.status().reasonPhrase();
    }

    @Override
    public MultiMap headers() {
      return headers;
    }

    @Override
    public String getHeader(CharSequence name) {
      return head.headers().get(name);
    }

    @Override
    public HttpVersion version() {
      return head.protocolVersion() == io.netty.handler.codec.http.HttpVersion.HTTP_1_0 ? HttpVersion.HTTP_1_0
        : HttpVersion.HTTP_1_1;
    }

    @Override
    public MultiMap trailers() {
      return trailers;
    }

    @Override
    public UpstreamResponse exceptionHandler(Handler<Throwable> handler) {
      exceptionHandler = handler;
      return this;
    }

    @Override
    public UpstreamResponse handler(Handler<Buffer> handler) {
      this.handler = handler;
      return this;
    }

    // once the response has ended the socket may carry the next request: a late resume (a drained client) is not its

    @Override
    public UpstreamResponse pause() {
      if (!ended) socket.pause();
      return this;
    }

    @Override
    public UpstreamResponse resume() {
      if (!ended) socket.resume();
      return this;
    }

    @Override
    public UpstreamResponse fetch(long amount) {
      if (!ended) socket.fetch(amount);
      return this;
    }

    @Override
    public UpstreamResponse endHandler(Handler<Void> handler) {
      endHandler = handler;
      return this;
    }
  }

  /** Tells the connection when its socket can take writes again (Vert.x's own drain events follow its own writes). */
  private static final class Writability extends ChannelInboundHandlerAdapter {
    private final Http1Connection connection;

    Writability(Http1Connection connection) {
      this.connection = connection;
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
      if (ctx.channel().isWritable()) connection.drained();
      ctx.fireChannelWritabilityChanged();
    }
  }
}
