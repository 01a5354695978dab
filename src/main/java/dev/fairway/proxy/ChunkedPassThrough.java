package dev.fairway.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.channel.VoidChannelPromise;
import io.netty.handler.codec.http.HttpClientCodec;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerResponse;

import java.util.concurrent.atomic.LongAdder;

/**
 * Passes the rest of a response body from the upstream's connection to the client's chunked HTTP/1.1 response as it
 * came, beneath Vert.x, in the buffers it was read into: a chunked body as it is, chunk framing and all; a body that
 * ends when the upstream closes, each read as a chunk. A server-sent event or a streamed token so costs no object on
 * its way (through Vert.x about 250 bytes of them per read: a buffer, a promise, a decoder slice, a content object),
 * and no decoding or encoding.
 * <p>
 * Vert.x still handles the head and the end (the last chunk with its trailers, or the upstream's close): it ends the
 * response on both sides, keeps both connections' state, and the exchange records it as it does any other. In
 * between, the decoder sees nothing, so the body is passed only from a point where the decoder holds none of it and
 * everything it decoded has been written (bytes must not overtake bytes Vert.x still holds); until then reads go
 * through Vert.x as usual. Only canonical chunk framing is passed ({@link ChunkFraming}); the last chunk's size line
 * never is: a read that ends inside a size line keeps those few bytes back until the line is whole. Back-pressure is
 * the client connection's own: the upstream is not read while the client's socket is full.
 */
final class ChunkedPassThrough extends ChannelInboundHandlerAdapter {

  static final String NAME = "fairway-pass-through";
  private static final String WATCH = "fairway-pass-through-writable";
  /** Longer than any size line an upstream needs (digits and an extension): past it the framing counts as broken. */
  private static final int MAX_HELD_LINE = 1024;
  private static final byte[] CRLF = {'\r', '\n'};
  private static final LongAdder PASSED = new LongAdder();

  /** What the exchange tells it, and learns of it. */
  interface Exchange {
    /** Body bytes the exchange has written to the client (all Vert.x decoded, once it holds none). */
    long bodyBytesWritten();

    /** {@code payload} body bytes went to the client; {@code trailingNewlines} end the body so far (0 mid-chunk). */
    void passedThrough(long payload, int trailingNewlines);
  }

  private final Exchange exchange;
  /** Where the upstream's chunked body stands; null for a body that ends when the upstream closes. */
  private final ChunkFraming framing;
  /** The client connection's HTTP/1.1 encoder: what is passed is written past it, as it would write a chunk. */
  private final ChannelHandlerContext client;
  private final ChannelPromise unreported;
  private Channel upstream;
  /** Bytes of a size line a read ended in, held back: it may be the last chunk's. */
  private ByteBuf heldLine;
  private boolean passing;
  private boolean unflushed;
  private boolean finished;
  private boolean watching;
  private long payloadReported;
  /** Body bytes passed here (the rest of the payload scanned went through Vert.x). */
  private long payloadPassed;
  /** Of a body that ends with the connection: its bytes so far, and the newlines they end in. */
  private long untilClosePayload;
  private int untilCloseNewlines = 2;

  private ChunkedPassThrough(Exchange exchange, ChunkFraming framing, long payload, ChannelHandlerContext client) {
    this.exchange = exchange;
    this.framing = framing;
    this.client = client;
    this.unreported = new VoidChannelPromise(client.channel(), false);
    this.untilClosePayload = payload;
    this.payloadReported = payload;
  }

  /** Bytes passed through, framing included, since start. */
  /** Counts streamed body bytes that another path passed as they came ({@link DirectExchange}). */
  static void passed(long bytes) {
    PASSED.add(bytes);
  }

  static long passedBytes() {
    return PASSED.sum();
  }

  /**
   * Starts passing the body of the response {@code resp} relays, if it can: called while its head is handled, with
   * the client's head set (chunked) and not yet written; {@code chunked}: the upstream's body is chunked, else it ends
   * when the upstream closes. Writes the head. Null when the body stays with Vert.x: the head did not come whole in
   * the read being handled, that read holds the body's end too, or the client's head could not be written at once.
   */
  static ChunkedPassThrough start(int status, HttpServerResponse resp, Exchange exchange, boolean chunked) {
    UpstreamReads reading = UpstreamReads.current();
    if (reading == null) return null;
    ChannelHandlerContext decoder = reading.context().pipeline().context(HttpClientCodec.class);
    int body = decoder == null ? -1 : reading.bodyStart(status);
    if (body < 0) return null;
    ByteBuf read = reading.read();
    ChunkFraming framing = null;
    if (chunked) {
      framing = new ChunkFraming();
      if (framing.scan(read, body, read.writerIndex()) != ChunkFraming.Stop.END) return null;
    }
    ChannelHandlerContext client = ReleaseAfterWrite.writingHead(resp::writeHead);
    if (client == null || client.channel().eventLoop() != reading.context().channel().eventLoop()) return null;
    long payload = framing != null ? framing.payload() : read.writerIndex() - body;
    ChunkedPassThrough passThrough = new ChunkedPassThrough(exchange, framing, payload, client);
    reading.context().pipeline().addBefore(decoder.name(), NAME, passThrough);
    return passThrough;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    upstream = ctx.channel();
  }

  /**
   * Writes bytes of Fairway's own (a heartbeat) to the client as one chunk; only between chunks, where the exchange
   * writes them only (see {@link Exchange#passedThrough}). False once the body is no longer passed here.
   */
  boolean writeOwn(Buffer bytes) {
    if (!passing || finished) return false;
    if (framing != null && !framing.atBoundary()) return true; // never inside a chunk (asked only between events)
    installWatch();
    ByteBuf chunk = ReleaseAfterWrite.sizeLine(client.alloc(), bytes.length());
    chunk.writeBytes(bytes.getBytes()).writeBytes(CRLF);
    client.writeAndFlush(chunk, unreported);
    return true;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (finished || !(msg instanceof ByteBuf buf)) {
      ctx.fireChannelRead(msg);
      return;
    }
    if (framing == null) {
      passUntilClose(ctx, buf);
      return;
    }
    int at = buf.readerIndex();
    int to = buf.writerIndex();
    if (!passing) {
      if (!framing.atBoundary()) {
        ChunkFraming.Stop stop = framing.scanToBoundary(buf, at, to);
        if (stop != ChunkFraming.Stop.BOUNDARY) {
          if (stop != ChunkFraming.Stop.END) finish(ctx); // the decoder takes the end, or fails on the broken framing
          givenToDecoder();
          ctx.fireChannelRead(buf);
          return;
        }
        int boundary = framing.stoppedAt();
        givenToDecoder();
        ctx.fireChannelRead(buf.retainedSlice(at, boundary - at)); // decoded and written on now, unless Vert.x holds it
        at = boundary;
      }
      boolean drained = exchange.bodyBytesWritten() + payloadPassed == framing.payload();
      passing = at < to && drained && client.channel().isWritable();
      if (!passing) {
        buf.readerIndex(at);
        if (at == to) buf.release();
        else keepTracking(ctx, buf);
        return;
      }
    }
    pass(ctx, buf, at, to);
  }

  /**
   * A read of a body that ends when the upstream closes: passed as one chunk (its size line and CRLF written around
   * it), once Vert.x holds none of the body. The decoder ends the response when the connection closes.
   */
  private void passUntilClose(ChannelHandlerContext ctx, ByteBuf buf) {
    int length = buf.readableBytes();
    if (!passing) {
      passing = exchange.bodyBytesWritten() == untilClosePayload && client.channel().isWritable();
      if (!passing) {
        untilClosePayload += length;
        givenToDecoder();
        ctx.fireChannelRead(buf);
        return;
      }
    }
    if (length == 0) {
      buf.release();
      return;
    }
    untilCloseNewlines = ChunkFraming.trailingNewlines(buf, buf.readerIndex(), buf.writerIndex(), untilCloseNewlines);
    untilClosePayload += length;
    write(ReleaseAfterWrite.sizeLine(client.alloc(), length), 0, false);
    write(buf, length, true);
    write(client.alloc().buffer(2).writeBytes(CRLF), 0, false);
    report();
    if (!client.channel().isWritable()) upstream.config().setAutoRead(false);
  }

  /** Vert.x keeps the read: the framing is followed, to pass from the next boundary. */
  private void keepTracking(ChannelHandlerContext ctx, ByteBuf buf) {
    int at = buf.readerIndex();
    ChunkFraming.Stop stop = framing.scan(buf, at, buf.writerIndex());
    if (stop != ChunkFraming.Stop.END) finish(ctx);
    givenToDecoder();
    ctx.fireChannelRead(buf);
  }

  /**
   * Passes what this read holds of the body, up to the last chunk, to a size line Vert.x should read instead (not in
   * canonical form), or to a size line the read ends in (held back until whole).
   */
  private void pass(ChannelHandlerContext ctx, ByteBuf buf, int at, int to) {
    ChunkFraming.Stop stop = framing.scanCanonical(buf, at, to);
    if (stop == ChunkFraming.Stop.LAST_CHUNK || stop == ChunkFraming.Stop.UNUSUAL_LINE) {
      handOver(ctx, buf, at, to, stop);
      return;
    }
    if (stop == ChunkFraming.Stop.INVALID) {
      buf.release();
      ctx.close(); // nothing after broken framing can be trusted: the exchange sees the upstream cut
      return;
    }
    int lineAt = framing.inSizeLine() ? framing.lineAt() : to; // -1: the line held back goes on
    if (lineAt >= 0) passHeldLine(); // it ended in this read, as a chunk's size line
    int passEnd = Math.max(lineAt, at);
    if (passEnd < to && !hold(ctx, buf, passEnd, to)) {
      buf.release();
      return;
    }
    if (passEnd == to && to > at) {
      buf.readerIndex(at);
      write(buf, to - at, true); // the whole read, as it is: the write releases it
    } else {
      passSlice(buf, at, passEnd);
      buf.release();
    }
    report();
    if (!client.channel().isWritable()) upstream.config().setAutoRead(false); // the watch reads on once it drains
  }

  /**
   * Passes what comes before the line the scan stopped at, and gives Vert.x the rest: the last chunk (it ends the
   * response), or an unusual size line (passing resumes at a later chunk's end, once Vert.x has written it).
   */
  private void handOver(ChannelHandlerContext ctx, ByteBuf buf, int passFrom, int to, ChunkFraming.Stop stop) {
    int lineAt = framing.lineAt();
    if (lineAt >= 0) passHeldLine();
    int passEnd = Math.max(lineAt, passFrom);
    passSlice(buf, passFrom, passEnd);
    report();
    ByteBuf line = heldLine;
    heldLine = null;
    boolean ended = stop == ChunkFraming.Stop.LAST_CHUNK;
    if (!ended) {
      passing = false;
      ChunkFraming.Stop rest = framing.scan(buf, framing.stoppedAt(), to); // what the decoder is given, followed
      ended = rest == ChunkFraming.Stop.LAST_CHUNK || rest == ChunkFraming.Stop.INVALID;
      givenToDecoder();
    }
    if (ended) finish(ctx);
    flushPassed();
    if (line != null) ctx.fireChannelRead(line);
    buf.readerIndex(passEnd);
    ctx.fireChannelRead(buf);
  }

  private void passHeldLine() {
    if (heldLine != null) {
      ByteBuf line = heldLine;
      heldLine = null;
      write(line, line.readableBytes(), false);
    }
  }

  private void passSlice(ByteBuf buf, int from, int to) {
    if (to > from) write(buf.retainedSlice(from, to - from), to - from, true);
  }

  /** Holds back bytes of a size line; false (and the upstream closed) past {@link #MAX_HELD_LINE}. */
  private boolean hold(ChannelHandlerContext ctx, ByteBuf buf, int from, int to) {
    int length = to - from;
    if (heldLine == null) heldLine = ctx.alloc().buffer(Math.max(16, length));
    if (heldLine.readableBytes() + length > MAX_HELD_LINE) {
      heldLine.release();
      heldLine = null;
      ctx.close();
      return false;
    }
    heldLine.writeBytes(buf, from, length);
    return true;
  }

  private void write(ByteBuf bytes, int length, boolean read) {
    if (!unflushed && passing) installWatch();
    if (read) RelayBuffers.passedOn(bytes, length);
    PASSED.add(bytes.readableBytes());
    client.write(bytes, unreported);
    unflushed = true;
  }

  /** The payload scanned so far that is not yet reported went to the decoder: Vert.x writes it, and counts it. */
  private void givenToDecoder() {
    payloadReported = framing != null ? framing.payload() : untilClosePayload;
  }

  private void report() {
    long payload = framing != null ? framing.payload() : untilClosePayload;
    int newlines = framing == null ? untilCloseNewlines : framing.atBoundary() ? framing.trailingNewlines() : 0;
    exchange.passedThrough(payload - payloadReported, newlines);
    payloadPassed += payload - payloadReported;
    payloadReported = payload;
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) {
    flushPassed();
    ctx.fireChannelReadComplete();
  }

  private void flushPassed() {
    if (unflushed) {
      unflushed = false;
      client.flush();
    }
  }

  /** The upstream closed: what was passed goes out, then the decoder ends the response (or fails it, cut short). */
  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    flushPassed();
    release();
    ctx.fireChannelInactive();
  }

  @Override
  public void handlerRemoved(ChannelHandlerContext ctx) {
    release();
  }

  /** The body's end is Vert.x's again: this handler and the client's watch go. */
  private void finish(ChannelHandlerContext ctx) {
    finished = true;
    flushPassed();
    upstream.config().setAutoRead(true);
    if (!ctx.isRemoved()) ctx.pipeline().remove(this);
  }

  private void release() {
    finished = true;
    if (heldLine != null) {
      heldLine.release();
      heldLine = null;
    }
    if (watching) {
      watching = false;
      Channel clientChannel = client.channel();
      if (clientChannel.eventLoop().inEventLoop() && clientChannel.pipeline().get(WATCH) != null) {
        clientChannel.pipeline().remove(WATCH);
      }
    }
  }

  /**
   * Before the first bytes passed: reads the upstream again once the client's socket drains, and flushes what Vert.x
   * wrote (the head) out of any handler that holds writes until a flush (a TLS connection's chunked-write handler).
   */
  private void installWatch() {
    if (watching || !client.channel().isActive()) return;
    watching = true;
    client.channel().flush();
    client.pipeline().addFirst(WATCH, new ChannelInboundHandlerAdapter() {
      @Override
      public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (ctx.channel().isWritable() && !finished) upstream.config().setAutoRead(true);
        ctx.fireChannelWritabilityChanged();
      }
    });
  }
}
