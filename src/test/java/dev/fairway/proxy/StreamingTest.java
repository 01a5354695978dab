package dev.fairway.proxy;

import dev.fairway.support.FairwayTest;
import dev.fairway.support.Http;
import dev.fairway.support.Proxies;
import dev.fairway.support.TestUpstream;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.RequestOptions;
import dev.fairway.config.HealthCheckOptions;
import dev.fairway.config.UpstreamOptions;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

class StreamingTest extends FairwayTest {

  private TestUpstream upstream;

  @BeforeEach
  void setUp(Vertx vertx) {
    upstream = TestUpstream.start(vertx, "up");
    fairway = Proxies.start(Proxies.options(upstream));
  }


  private RequestOptions to(HttpMethod method, String uri) {
    return new RequestOptions().setMethod(method).setHost("127.0.0.1").setPort(fairway.proxyPort()).setURI(uri);
  }

  @Test
  void uploadReachesTheUpstreamWhileTheClientIsStillSending() {
    Promise<Void> firstChunkUpstream = Promise.promise();
    upstream.handler = req -> {
      long[] total = {0};
      req.handler(b -> {
        total[0] += b.length();
        firstChunkUpstream.tryComplete();
      });
      req.endHandler(v -> req.response().end("received " + total[0]));
    };
    HttpClientRequest req = client.request(to(HttpMethod.POST, "/upload")).await();
    req.setChunked(true);
    Future<String> body = req.response().compose(r -> r.body()).map(Buffer::toString);
    req.write("first-part");
    // the rest is sent only once the upstream has the first part: a buffering proxy would deadlock here
    firstChunkUpstream.future().timeout(5, TimeUnit.SECONDS).await();
    req.end("second-part");
    assertThat(body.await()).isEqualTo("received 21");
  }

  @Test
  void firstResponseChunkReachesTheClientBeforeTheUpstreamFinishes() {
    Promise<Void> clientGotFirst = Promise.promise();
    upstream.handler = req -> {
      req.response().setChunked(true).write("event: 1\n\n");
      // the upstream ends only after the client saw event 1: a buffering proxy would deadlock here
      clientGotFirst.future().onComplete(v -> req.response().end("event: 2\n\n"));
    };
    StringBuilder received = new StringBuilder();
    Promise<Void> ended = Promise.promise();
    client.request(to(HttpMethod.GET, "/events")).compose(HttpClientRequest::send).onSuccess(resp -> {
      resp.handler(b -> {
        received.append(b);
        clientGotFirst.tryComplete();
      });
      resp.endHandler(v -> ended.complete());
    });
    ended.future().timeout(5, TimeUnit.SECONDS).await();
    assertThat(received.toString()).isEqualTo("event: 1\n\nevent: 2\n\n");
  }

  @Test
  void clientAbortCancelsTheUpstreamRequest() {
    Promise<Void> upstreamGotRequest = Promise.promise();
    Promise<Void> upstreamSawClose = Promise.promise();
    upstream.handler = req -> {
      req.connection().closeHandler(v -> upstreamSawClose.tryComplete());
      upstreamGotRequest.complete(); // and never answers
    };
    HttpClient own = vertx.createHttpClient();
    own.request(to(HttpMethod.GET, "/long")).compose(HttpClientRequest::send);
    upstreamGotRequest.future().timeout(5, TimeUnit.SECONDS).await();
    own.close();
    upstreamSawClose.future().timeout(5, TimeUnit.SECONDS).await();
    // the client's abort is not the upstream's failure: it stays in rotation
    upstream.handler = req -> req.response().end("ok");
    assertThat(Http.get(vertx.createHttpClient(), fairway.proxyPort(), "/after").await().status()).isEqualTo(200);
    assertThat(fairway.registry().find("fairway.ejections").counters()).isEmpty();
  }

  @Test
  void http10ClientGetsACloseDelimitedBodyWithoutChunking() throws Exception {
    upstream.handler = req -> {
      req.response().setChunked(true).write("part one, ");
      vertx.setTimer(50, id -> req.response().end("part two"));
    };
    try (java.net.Socket socket = new java.net.Socket("127.0.0.1", fairway.proxyPort())) {
      socket.setSoTimeout(5_000);
      socket.getOutputStream().write("GET /old HTTP/1.0\r\nHost: legacy\r\n\r\n".getBytes());
      // readAllBytes returns only when the proxy closes the connection: the end of a close-delimited body
      String raw = new String(socket.getInputStream().readAllBytes());
      assertThat(raw).startsWith("HTTP/1.0 200");
      assertThat(raw.toLowerCase()).doesNotContain("transfer-encoding");
      assertThat(raw).endsWith("\r\n\r\npart one, part two");
    }
  }

  @Test
  void largeBodiesPassThroughIntactBothWaysWithoutAHeapCopy() throws Exception {
    collectChunksLeftToTheGc();
    long relayedBefore = RelayBuffers.relayedBytes();
    int size = 32 * 1024 * 1024;
    upstream.handler = StreamingTest::echo;
    echoThrough(client, size);
    // the bytes both ways went from socket to socket in the direct buffers they were read into, released once
    // written; all but the odd read a decoder merged with leftovers (in a buffer of Netty's pool: copied)
    assertThat(RelayBuffers.relayedBytes() - relayedBefore).isBetween(2L * size * 95 / 100, 2L * size);
    assertThat(Http.get(client, fairway.adminPort(), "/metrics").await().body())
      .containsPattern("fairway_relayed_direct_bytes_total [1-9]");
  }

  @Test
  void largeChunkedBodiesPassThroughIntactBothWaysAndTheirBuffersAreReleased() throws Exception {
    collectChunksLeftToTheGc();
    long relayedBefore = RelayBuffers.relayedBytes();
    long inUseBefore = RelayBuffers.heldBytes() - RelayBuffers.keptBytes();
    int size = 32 * 1024 * 1024;
    upstream.handler = StreamingTest::echo;
    echoThrough(client, size, true);
    assertThat(RelayBuffers.relayedBytes() - relayedBefore).isBetween(2L * size * 95 / 100, 2L * size);
    // every buffer a chunk was read into went back once written: none waits for the GC (which the bound would stop)
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (RelayBuffers.heldBytes() - RelayBuffers.keptBytes() > inUseBefore + 256 * 1024
      && System.nanoTime() < deadline) {
      vertx.timer(10).await();
    }
    assertThat(RelayBuffers.heldBytes() - RelayBuffers.keptBytes()).isLessThanOrEqualTo(inUseBefore + 256 * 1024);
  }

  @Test
  void largeBodiesPassThroughIntactBetweenAnHttp2ClientAndAnHttp11Upstream() throws Exception {
    fairway.close().await();
    fairway = Proxies.start(Proxies.options(upstream).with(o -> o.getListen().setHttp2Cleartext(true)));
    upstream.handler = StreamingTest::echo;
    int size = 16 * 1024 * 1024;
    // Vert.x reads HTTP/2 DATA into the heap; the upstream's bytes go to the HTTP/2 stream in relay buffers
    echoThrough(vertx.createHttpClient(new HttpClientOptions().setProtocolVersion(HttpVersion.HTTP_2)
      .setHttp2ClearTextUpgrade(false)), size);
  }

  @Test
  void largeBodiesPassThroughIntactBetweenAnHttp11ClientAndAnHttp2Upstream() throws Exception {
    HttpServer h2 = vertx.createHttpServer(new HttpServerOptions().setHttp2ClearTextEnabled(true))
      .requestHandler(StreamingTest::echo).listen(0, "127.0.0.1").await();
    fairway.close().await();
    fairway = Proxies.start(Proxies.options().setHealth(new HealthCheckOptions().setEnabled(false))
      .setUpstreams(List.of(new UpstreamOptions("127.0.0.1", h2.actualPort()).setProtocol(UpstreamOptions.HTTP2))));
    int size = 16 * 1024 * 1024;
    echoThrough(client, size); // the client's bytes go to the upstream's HTTP/2 stream in relay buffers
    h2.close().await();
  }

  /**
   * Chunks an earlier test relayed to an HTTP/2 stream are freed only by a collection, and count toward the relay's
   * memory bound until then (past it, reads are copied to the heap as Vert.x does by default): collect them first.
   */
  private void collectChunksLeftToTheGc() {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (RelayBuffers.heldBytes() - RelayBuffers.keptBytes() > RelayBuffers.MAX_HELD_BYTES / 4
      && System.nanoTime() < deadline) {
      System.gc();
      vertx.timer(20).await();
    }
  }

  /** Echoes the body back as it arrives, with back-pressure. */
  private static void echo(HttpServerRequest req) {
    req.response().setChunked(req.version() != HttpVersion.HTTP_2);
    req.pipeTo(req.response());
  }

  /** PUTs {@code size} patterned bytes through Fairway to an echoing upstream; the same bytes must come back. */
  private void echoThrough(HttpClient via, int size) throws Exception {
    echoThrough(via, size, false);
  }

  /** The same, the request body chunked when {@code chunked} (else with its Content-Length). */
  private void echoThrough(HttpClient via, int size, boolean chunked) throws Exception {
    Buffer chunk = Buffer.buffer(new byte[64 * 1024]);
    for (int i = 0; i < chunk.length(); i++) chunk.setByte(i, (byte) (i * 31));
    MessageDigest sent = MessageDigest.getInstance("SHA-256");
    MessageDigest got = MessageDigest.getInstance("SHA-256");
    HttpClientRequest req = via.request(to(HttpMethod.PUT, "/echo")).await();
    if (chunked) {
      req.setChunked(true);
    } else {
      req.putHeader("Content-Length", String.valueOf(size));
    }
    Promise<Long> done = Promise.promise();
    req.response().onSuccess(resp -> {
      long[] n = {0};
      resp.handler(b -> {
        n[0] += b.length();
        got.update(b.getBytes());
      });
      resp.endHandler(v -> done.complete(n[0]));
    }).onFailure(done::fail);
    writeChunks(req, chunk, size / chunk.length(), sent);
    assertThat(done.future().timeout(60, TimeUnit.SECONDS).await()).isEqualTo(size);
    assertThat(HexFormat.of().formatHex(got.digest())).isEqualTo(HexFormat.of().formatHex(sent.digest()));
  }

  /** Writes {@code count} chunks, waiting on drain whenever the write queue is full. */
  private void writeChunks(HttpClientRequest req, Buffer chunk, int count, MessageDigest digest) {
    int[] left = {count};
    Runnable[] pump = new Runnable[1];
    pump[0] = () -> {
      while (left[0] > 0 && !req.writeQueueFull()) {
        digest.update(chunk.getBytes());
        req.write(chunk);
        left[0]--;
      }
      if (left[0] == 0) {
        req.end();
      } else {
        req.drainHandler(v -> pump[0].run());
      }
    };
    vertx.runOnContext(v -> pump[0].run());
  }
}
