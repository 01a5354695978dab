package dev.fairway.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufHolder;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.channel.VoidChannelPromise;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.util.concurrent.FastThreadLocal;

import java.nio.charset.StandardCharsets;

/**
 * Hands each relay buffer (see {@link RelayBuffers}) to the write that relays it, so Netty frees it once written, and
 * writes HTTP/1.1 body chunks with less garbage than Netty's encoder. It sits right after Vert.x's connection
 * handler, where each HTTP/1.1 body chunk or WebSocket frame the application writes passes exactly once, whole, with
 * the one reference its chunk holds. HTTP/2 body writes pass here only as frames Netty's HTTP/2 codec made (split or
 * merged), so their chunks are left to the GC: they are marked as such, which keeps them out of the memory pressure
 * socket reads shrink under.
 * <p>
 * Vert.x writes a chunk wrapped so that nothing releases it; a body chunk or frame with a relay buffer inside is
 * written on with the buffer itself, whose reference Netty drops once the bytes are on the wire (or the write
 * failed). The relay writes each chunk it reads once and keeps nothing of it after the write (a job's spool copies it
 * first), which is what makes that safe.
 * <p>
 * Netty's HTTP/1.1 encoder writes each chunk of a chunked body as three buffers, with a promise for each and one
 * combining them: the most garbage a streamed upload or server-sent event made. Body chunks between a head and the
 * last chunk are written past the encoder: as they are for a body of known length (the encoder would write them on
 * unchanged), or with the size line before and the CRLF after in chunked encoding, the write's own promise on the
 * bytes. Heads, last chunks and trailers go through the encoder, which so keeps its state.
 */
final class ReleaseAfterWrite extends ChannelOutboundHandlerAdapter {

  /** Its name in the pipeline, right before Vert.x's handler (which Vert.x names "handler" in every TCP pipeline). */
  static final String NAME = "fairway-release-after-write";
  static final String VERTX_HANDLER = "handler";
  private static final byte[] CRLF = {'\r', '\n'};
  private static final byte[] HEX = "0123456789abcdef".getBytes(StandardCharsets.US_ASCII);

  /**
   * The HTTP/1.1 encoder's context, where framed chunks are written from (only handlers that pass body chunks on
   * unchanged lie between it and this one); null on connections without one, or with other handlers in between.
   */
  private final ChannelHandlerContext encoder;
  /** How the body of the message being written goes on the wire past the encoder, if it does. */
  private Framing framing = Framing.BY_ENCODER;

  private enum Framing {
    /** Through the encoder: no message, one without a body, or no encoder to write past. */
    BY_ENCODER,
    /** As they are (a Content-Length or close-delimited body, which the encoder writes on unchanged). */
    AS_IS,
    /** Each in chunked encoding. */
    CHUNKED
  }

  /**
   * While {@link #writingHead} runs on this thread: {@link #ASKED}, then the encoder context of the connection that
   * wrote a chunked response head. Nothing is kept otherwise (no context of a closed connection stays reachable).
   */
  private static final FastThreadLocal<Object> HEAD_WRITER = new FastThreadLocal<>();
  private static final Object ASKED = new Object();

  /** For the size line and CRLF around a chunk: a failed write fails the chunk's own write, which reports it. */
  private ChannelPromise unreported;

  /**
   * The encoder's context for bytes passed beneath Vert.x ({@link ChunkedPassThrough}): the same, or also past a TLS
   * connection's chunked-write handler (which a pass-through flushes before its first write).
   */
  private final ChannelHandlerContext passEncoder;

  ReleaseAfterWrite(ChannelHandlerContext encoder, ChannelHandlerContext passEncoder) {
    this.encoder = encoder;
    this.passEncoder = passEncoder;
  }

  @Override
  public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
    if (msg instanceof HttpMessage head) {
      framing = encoder == null || msg instanceof LastHttpContent ? Framing.BY_ENCODER : framingOf(head);
      if (passEncoder != null && msg instanceof HttpResponse response && !(msg instanceof HttpContent)
        && HEAD_WRITER.get() == ASKED && framingOf(response) == Framing.CHUNKED) {
        HEAD_WRITER.set(passEncoder);
      }
      ctx.write(msg, msg instanceof HttpContent first ? releaseWhenWritten(first, promise) : promise);
    } else if (msg instanceof HttpContent content) {
      boolean last = msg instanceof LastHttpContent;
      if (last || framing == Framing.BY_ENCODER || encoder.isRemoved() || !content.content().isReadable()) {
        ctx.write(handOver(content), promise);
      } else if (framing == Framing.CHUNKED) {
        writeChunk(content, promise);
      } else {
        encoder.write(ownBytes(content), promise);
      }
      if (last) framing = Framing.BY_ENCODER;
    } else if (msg instanceof WebSocketFrame frame) {
      ctx.write(msg, releaseWhenWritten(frame, promise));
    } else {
      if (msg instanceof ByteBuf frame) RelayBuffers.leftToGc(frame); // an HTTP/2 frame's payload: never released
      ctx.write(msg, promise);
    }
  }

  /**
   * Runs {@code writeHead} and returns the HTTP/1.1 encoder context of the connection it wrote a chunked response head
   * on at once, on this thread; null when it wrote none so (an HTTP/2 stream, a head Vert.x queued).
   */
  static ChannelHandlerContext writingHead(Runnable writeHead) {
    HEAD_WRITER.set(ASKED);
    try {
      writeHead.run();
      return HEAD_WRITER.get() instanceof ChannelHandlerContext encoder ? encoder : null;
    } finally {
      HEAD_WRITER.set(null);
    }
  }

  /** Writes a body chunk framed as HTTP/1.1 chunked encoding does, past the encoder. */
  private void writeChunk(HttpContent content, ChannelPromise promise) {
    ByteBuf bytes = ownBytes(content);
    if (unreported == null) unreported = new VoidChannelPromise(encoder.channel(), false);
    encoder.write(sizeLine(encoder.alloc(), bytes.readableBytes()), unreported);
    encoder.write(bytes, promise);
    encoder.write(encoder.alloc().buffer(2).writeBytes(CRLF), unreported);
  }

  /** A chunk's size line, for {@code size} > 0: hex digits and CRLF. */
  static ByteBuf sizeLine(ByteBufAllocator alloc, int size) {
    int digits = (35 - Integer.numberOfLeadingZeros(size)) / 4;
    ByteBuf line = alloc.buffer(digits + 2);
    for (int shift = (digits - 1) * 4; shift >= 0; shift -= 4) line.writeByte(HEX[(size >>> shift) & 0xf]);
    return line.writeBytes(CRLF);
  }

  /**
   * The body chunk with the relay buffer inside as its content, so that Netty frees the buffer once it is written
   * (anything else is written as it is). Vert.x's own chunk types cannot be given other content: Netty's are made.
   */
  private static HttpContent handOver(HttpContent content) {
    ByteBuf buffer = relayBuffer(content.content());
    if (buffer == null) return content;
    return content instanceof LastHttpContent last
      ? new DefaultLastHttpContent(buffer, last.trailingHeaders())
      : new DefaultHttpContent(buffer);
  }

  /** The chunk's bytes, with the reference the chunk held: the relay buffer handed over, or its own content. */
  private static ByteBuf ownBytes(HttpContent content) {
    ByteBuf buffer = relayBuffer(content.content());
    return buffer != null ? buffer : content.content();
  }

  /**
   * The relay buffer (or the slice of it) inside what Vert.x wrote, counted as handed to the write that relays it; null
   * for bytes that are not a relay buffer's.
   */
  private static ByteBuf relayBuffer(ByteBuf written) {
    if (RelayBuffers.relayedChunk(written) == null) return null;
    RelayBuffers.handedOver(written.readableBytes());
    return written.unwrap(); // holds the chunk's one reference
  }

  /**
   * The promise for a write of a body chunk written with its head, or of a WebSocket frame (neither can be given
   * other content), that releases the relay buffer it carries once the write completed.
   */
  private static ChannelPromise releaseWhenWritten(ByteBufHolder holder, ChannelPromise promise) {
    ByteBuf content = holder.content();
    ByteBuf chunk = RelayBuffers.relayedChunk(content);
    if (chunk == null) return promise;
    int bytes = content.readableBytes();
    promise = promise.unvoid(); // a write without a listener still fails the channel as it would have
    promise.addListener(f -> RelayBuffers.written(chunk, bytes));
    return promise;
  }

  /**
   * How Netty's encoder would write this message's body: in chunks when its head says chunked, else as it is; by the
   * encoder itself for a response that never has a body (1xx, 204, 304, where it drops what it is given; a response
   * to HEAD has none to relay either).
   */
  private static Framing framingOf(HttpMessage head) {
    if (head instanceof HttpResponse response) {
      int status = response.status().code();
      if (status < 200 || status == 204 || status == 304) return Framing.BY_ENCODER;
    }
    boolean chunked = head.headers().get(HttpHeaderNames.TRANSFER_ENCODING) != null // one lookup, no iterator
      && HttpUtil.isTransferEncodingChunked(head);
    return chunked ? Framing.CHUNKED : Framing.AS_IS;
  }
}
