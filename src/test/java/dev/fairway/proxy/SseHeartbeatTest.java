package dev.fairway.proxy;

import dev.fairway.config.FairwayOptions;
import dev.fairway.support.FairwayTest;
import dev.fairway.support.Proxies;
import dev.fairway.support.TestUpstream;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.net.NetSocket;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** Keep-alive comments on silent event streams, seen through a hop that cuts idle connections as a tunnel does. */
class SseHeartbeatTest extends FairwayTest {

  private TestUpstream upstream;

  @BeforeEach
  void setUp(Vertx vertx) {
    upstream = TestUpstream.start(vertx, "up");
  }

  private void startFairway(long heartbeatMillis) {
    FairwayOptions o = withoutProbes(Proxies.options(upstream));
    o.getTimeouts().setSseHeartbeatMillis(heartbeatMillis);
    fairway = Proxies.start(o);
  }

  /**
   * No health probes: these tests have one upstream, and a probe held up past its 500 ms by a saturated machine would
   * mark it down (fall 1) and have the stream refused at once instead of relayed.
   */
  private static FairwayOptions withoutProbes(FairwayOptions o) {
    o.getHealth().setEnabled(false);
    return o;
  }

  /**
   * The hop's idle limit, and a silence well past it: heartbeats every 300 ms keep a stream through it with room for a
   * stalled event loop on a busy machine, and without them the hop cuts the stream well before the silence ends.
   */
  private static final long HOP_IDLE_MILLIS = 2_000;
  private static final long SILENCE_MILLIS = 3_500;

  /** A TCP hop to Fairway that closes a connection after {@code idleMillis} without a byte either way. */
  private int idleCuttingHop(long idleMillis) {
    NetServer hop = vertx.createNetServer(new NetServerOptions().setIdleTimeout((int) idleMillis)
      .setIdleTimeoutUnit(TimeUnit.MILLISECONDS));
    // one client, held by the handler: Vert.x closes a client the GC finds unreachable, and its connections with it
    NetClient toFairway = vertx.createNetClient();
    hop.connectHandler(in -> {
      in.pause();
      toFairway.connect(fairway.proxyPort(), "127.0.0.1").onSuccess(out -> {
        pipe(in, out);
        pipe(out, in);
        in.resume();
      }).onFailure(err -> in.close());
    });
    return hop.listen(0, "127.0.0.1").await().actualPort();
  }

  private static void pipe(NetSocket from, NetSocket to) {
    from.handler(to::write);
    from.closeHandler(v -> to.close());
  }

  /** Reads an event stream through {@code port}; completes with all it got, or fails if the stream is cut. */
  private String readStream(int port) throws Exception {
    return readStream(port, "text/event-stream");
  }

  /** The same, asking with {@code accept} (null: no Accept header). */
  private String readStream(int port, String accept) throws Exception {
    StringBuilder got = new StringBuilder();
    Promise<String> ended = Promise.promise();
    RequestOptions options = new RequestOptions().setMethod(HttpMethod.GET).setHost("127.0.0.1").setPort(port).setURI("/events");
    if (accept != null) options.putHeader("Accept", accept);
    HttpClientRequest req = client.request(options).await();
    req.send().onSuccess(resp -> {
      resp.handler(b -> got.append(b));
      resp.endHandler(v -> ended.tryComplete(got.toString()));
      resp.exceptionHandler(err -> ended.tryFail(new AssertionError("cut after: " + got, err)));
    }).onFailure(ended::tryFail);
    return ended.future().await(20, TimeUnit.SECONDS);
  }

  /** One event, {@link #SILENCE_MILLIS} of silence, then another and the end. */
  private void silentUpstream() {
    upstream.handler = req -> {
      HttpServerResponse resp = req.response().setChunked(true).putHeader("Content-Type", "text/event-stream");
      resp.write("data: first\n\n");
      vertx.setTimer(SILENCE_MILLIS, t -> resp.end("data: last\n\n"));
    };
  }

  @Test
  void aSilentEventStreamStaysOpenThroughAnIdleCuttingHop() throws Exception {
    silentUpstream();
    startFairway(300);
    String got = readStream(idleCuttingHop(HOP_IDLE_MILLIS));
    assertThat(got).startsWith("data: first\n\n").endsWith("data: last\n\n").contains(": keep-alive\n\n");
    assertThat(fairway.registry().get("fairway.sse.heartbeats").tag("during", "upstream").counter().count()).isGreaterThanOrEqualTo(5);
  }

  @Test
  void anEventStreamAskedForWithoutAcceptGetsHeartbeatsToo() throws Exception {
    silentUpstream();
    startFairway(300);
    long direct = DirectHttp1.taken();
    String got = readStream(idleCuttingHop(HOP_IDLE_MILLIS), null);
    assertThat(got).startsWith("data: first\n\n").endsWith("data: last\n\n").contains(": keep-alive\n\n");
    assertThat(DirectHttp1.taken() - direct).as("on the direct HTTP/1.1 path when it is on").isEqualTo(Proxies.directHttp1() ? 1 : 0);
  }

  @Test
  void withoutHeartbeatsTheSameHopCutsTheStream() {
    silentUpstream();
    startFairway(0);
    int hop = idleCuttingHop(HOP_IDLE_MILLIS);
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> readStream(hop)).hasMessageContaining("data: first");
  }

  @Test
  void anEventArrivingInPiecesIsNeverInterruptedByAHeartbeat() throws Exception {
    upstream.handler = req -> {
      HttpServerResponse resp = req.response().setChunked(true).putHeader("Content-Type", "text/event-stream");
      String[] pieces = {"data: one", " two\n", "data: three", "\n", "\n"};
      resp.write("data: start\n\n");
      vertx.setTimer(400, t0 -> { // first some silence between events: heartbeats go out
        int[] next = {0};
        vertx.setPeriodic(300, t -> {
          resp.write(pieces[next[0]++]);
          if (next[0] == pieces.length) {
            vertx.cancelTimer(t);
            vertx.setTimer(400, t2 -> resp.end());
          }
        });
      });
    };
    startFairway(100);
    long passedBefore = ChunkedPassThrough.passedBytes();
    String got = readStream(fairway.proxyPort());
    assertThat(got).contains("data: one two\ndata: three\n\n");
    assertThat(ChunkedPassThrough.passedBytes() - passedBefore).as("the pieces passed beneath Vert.x, heartbeats between")
      .isGreaterThanOrEqualTo("data: one two\ndata: three\n\n".length());
    String before = got.substring(got.indexOf("data: start\n\n"), got.indexOf("data: one"));
    String after = got.substring(got.indexOf("data: three\n\n") + "data: three\n\n".length());
    assertThat(before).as("heartbeats while silent between events").contains(": keep-alive\n\n");
    assertThat(after).as("and after it").contains(": keep-alive\n\n");
  }

  @Test
  void aQueuedEventStreamClientStaysConnectedThroughTheSameHop() throws Exception {
    java.util.Queue<io.vertx.core.http.HttpServerRequest> held = new java.util.concurrent.ConcurrentLinkedQueue<>();
    upstream.handler = req -> {
      if (req.path().equals("/busy")) held.add(req);
      else req.response().putHeader("Content-Type", "text/event-stream").end("data: finally\n\n");
    };
    FairwayOptions o = withoutProbes(Proxies.options(upstream));
    o.getTimeouts().setSseHeartbeatMillis(300);
    o.getUpstreams().get(0).setMaxConns(1);
    o.setRoutes(java.util.List.of(new dev.fairway.config.RouteOptions("/events", new dev.fairway.config.TimeoutOptions()
      .setSseHeartbeatMillis(300)).setQueueEvents(true, 60_000))); // queue events far apart: only heartbeats keep it open
    fairway = Proxies.start(o);
    dev.fairway.support.Http.get(client, fairway.proxyPort(), "/busy");
    dev.fairway.support.Http.await("the slot taken", java.time.Duration.ofSeconds(5), () -> held.size() == 1);
    vertx.setTimer(SILENCE_MILLIS, t -> held.poll().response().end("done"));
    String got = readStream(idleCuttingHop(HOP_IDLE_MILLIS));
    assertThat(got).startsWith("event: queue\n").contains(": keep-alive\n\n").endsWith("data: finally\n\n");
    assertThat(fairway.registry().get("fairway.sse.heartbeats").tag("during", "queue").counter().count()).isGreaterThanOrEqualTo(5);
  }

  @Test
  void trailingNewlinesCountAcrossChunks() {
    assertThat(SseHeartbeat.trailingNewlines(io.vertx.core.buffer.Buffer.buffer("data: x\r\n"), 2)).isEqualTo(1);
    assertThat(SseHeartbeat.trailingNewlines(io.vertx.core.buffer.Buffer.buffer("\r\n"), 1)).isEqualTo(2);
    assertThat(SseHeartbeat.trailingNewlines(io.vertx.core.buffer.Buffer.buffer("data: x"), 2)).isZero();
  }
}
