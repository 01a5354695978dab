package dev.fairway.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.concurrent.FastThreadLocal;

import java.nio.charset.StandardCharsets;

/**
 * Sits before the HTTP/1.1 decoder of every upstream connection and notes, while Vert.x handles a socket read (on this
 * thread, synchronously), which connection it came from and what it held: so the exchange a response head reaches can
 * find the connection beneath it, and where that response's body stands, with no lookup and nothing per connection
 * but this handler. Two thread-local writes and a reference held on the read while it is handled, per read.
 */
final class UpstreamReads extends ChannelInboundHandlerAdapter {

  static final String NAME = "fairway-upstream-reads";
  private static final FastThreadLocal<UpstreamReads> READING = new FastThreadLocal<>();
  private static final byte[] HTTP_1_X = "HTTP/1.".getBytes(StandardCharsets.US_ASCII);

  private ChannelHandlerContext ctx;
  private ByteBuf read;
  private int readFrom;

  /** The upstream connection whose read is being handled on this thread right now, or null. */
  static UpstreamReads current() {
    return READING.get();
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.ctx = ctx;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (!(msg instanceof ByteBuf buf)) {
      ctx.fireChannelRead(msg);
      return;
    }
    read = buf.retain(); // the decoder frees a read it has decoded whole before it hands on what it decoded
    readFrom = buf.readerIndex();
    READING.set(this);
    try {
      ctx.fireChannelRead(msg);
    } finally {
      READING.set(null);
      read = null;
      buf.release();
    }
  }

  ChannelHandlerContext context() {
    return ctx;
  }

  /** The read being handled. */
  ByteBuf read() {
    return read;
  }

  /**
   * Where the body of the response whose head this read ends begins in it: -1 if the read does not hold that whole
   * head (it began in an earlier read, or a 1xx came first).
   */
  int bodyStart(int status) {
    ByteBuf buf = read;
    if (buf == null) return -1;
    int to = buf.writerIndex();
    int from = readFrom;
    if (to - from < HTTP_1_X.length + 5) return -1;
    for (int i = 0; i < HTTP_1_X.length; i++) {
      if (buf.getByte(from + i) != HTTP_1_X[i]) return -1;
    }
    byte minor = buf.getByte(from + HTTP_1_X.length);
    if ((minor != '0' && minor != '1') || buf.getByte(from + HTTP_1_X.length + 1) != ' ') return -1;
    int code = 0;
    for (int i = 0; i < 3; i++) code = code * 10 + (buf.getByte(from + HTTP_1_X.length + 2 + i) - '0');
    return code == status ? headEnd(buf, from + HTTP_1_X.length, to) : -1;
  }

  /** The index right after the first CRLF CRLF from {@code from}, or -1. */
  private static int headEnd(ByteBuf buf, int from, int to) {
    for (int i = from; i + 3 < to; i++) {
      if (buf.getByte(i) == '\r' && buf.getByte(i + 1) == '\n' && buf.getByte(i + 2) == '\r' && buf.getByte(i + 3) == '\n') {
        return i + 4;
      }
    }
    return -1;
  }
}
