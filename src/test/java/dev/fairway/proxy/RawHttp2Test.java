package dev.fairway.proxy;

import dev.fairway.support.FairwayTest;
import dev.fairway.support.Proxies;
import dev.fairway.support.TestUpstream;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.channel.ChannelInboundHandlerAdapter;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** HTTP/2 requests no well-behaved client sends, written with Netty's frame codec and its header checks off. */
class RawHttp2Test extends FairwayTest {

  private final NioEventLoopGroup group = new NioEventLoopGroup(1);
  private TestUpstream up;

  @BeforeEach
  void setUp() {
    up = TestUpstream.start(vertx, "up");
    fairway = Proxies.start(Proxies.options(up).with(o -> o.getListen().setHttp2Cleartext(true)));
  }

  @AfterEach
  void closeGroup() {
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
  }

  /** The status of one request sent with {@code headers} over HTTP/2 with prior knowledge. */
  private String status(Http2Headers headers) throws Exception {
    Channel connection = new Bootstrap().group(group).channel(NioSocketChannel.class).handler(new ChannelInitializer<Channel>() {
      @Override
      protected void initChannel(Channel ch) {
        ch.pipeline().addLast(Http2FrameCodecBuilder.forClient().validateHeaders(false).build(),
          new Http2MultiplexHandler(new ChannelInboundHandlerAdapter()));
      }
    }).connect("127.0.0.1", fairway.proxyPort()).sync().channel();
    try {
      CompletableFuture<String> status = new CompletableFuture<>();
      Http2StreamChannel stream = new Http2StreamChannelBootstrap(connection).handler(new SimpleChannelInboundHandler<Object>() {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, Object frame) {
          if (frame instanceof Http2HeadersFrame h) status.complete(String.valueOf(h.headers().status()));
        }
      }).open().sync().getNow();
      stream.writeAndFlush(new DefaultHttp2HeadersFrame(headers, true)).sync();
      return status.get(10, TimeUnit.SECONDS);
    } finally {
      connection.close();
    }
  }

  private static Http2Headers get(String path) {
    return new DefaultHttp2Headers(false).method("GET").scheme("http").authority("h").path(path);
  }

  @Test
  void crLfOrNulInAHeaderValueIsRefusedWith400AndNothingGoesUpstream() throws Exception {
    assertThat(status(get("/x").add("x-a", "1\r\nx-injected: yes"))).isEqualTo("400");
    assertThat(status(get("/x").add("x-a", "1\u00002"))).isEqualTo("400");
    assertThat(up.hits.get()).isZero();
    assertThat(status(get("/x").add("x-a", "fine"))).isEqualTo("200");
  }

  @Test
  void aControlByteInThePathIsRefusedWith400() throws Exception {
    assertThat(status(get("/x\r\ny"))).isEqualTo("400");
    assertThat(up.hits.get()).isZero();
  }
}
