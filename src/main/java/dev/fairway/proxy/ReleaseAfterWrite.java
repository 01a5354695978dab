package dev.fairway.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufHolder;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;

/**
 * Frees each relay buffer (see {@link RelayBuffers}) once the write that relayed it completed. It sits right after
 * Vert.x's connection handler, where each HTTP/1.1 body chunk or WebSocket frame the application writes passes exactly
 * once, whole, with the one reference its chunk holds. Further on, encoders may split, merge or copy it. HTTP/2 body
 * writes pass here only as frames Netty's HTTP/2 codec made (split or merged), so their chunks are left to the GC: they
 * are marked as such, which keeps them out of the memory pressure socket reads shrink under.
 * <p>
 * The relay writes each chunk it reads once and keeps nothing of it after the write (a job's spool copies it first),
 * which is what makes freeing it here safe.
 */
@ChannelHandler.Sharable
final class ReleaseAfterWrite extends ChannelOutboundHandlerAdapter {

  static final ReleaseAfterWrite INSTANCE = new ReleaseAfterWrite();
  /** Its name in the pipeline, right before Vert.x's handler (which Vert.x names "handler" in every TCP pipeline). */
  static final String NAME = "fairway-release-after-write";
  static final String VERTX_HANDLER = "handler";

  private ReleaseAfterWrite() {
  }

  @Override
  public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
    if (msg instanceof HttpContent || msg instanceof WebSocketFrame) {
      ByteBuf content = ((ByteBufHolder) msg).content();
      ByteBuf chunk = RelayBuffers.relayedChunk(content);
      if (chunk != null) {
        int bytes = content.readableBytes();
        promise = promise.unvoid(); // a write without a listener still fails the channel as it would have
        promise.addListener(f -> RelayBuffers.written(chunk, bytes));
      }
    } else if (msg instanceof ByteBuf frame) {
      RelayBuffers.leftToGc(frame); // an HTTP/2 frame's payload: its chunk is never released
    }
    ctx.write(msg, promise);
  }
}
