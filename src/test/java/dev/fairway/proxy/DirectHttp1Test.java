package dev.fairway.proxy;

import dev.fairway.config.FairwayOptions;
import dev.fairway.support.FairwayTest;
import dev.fairway.support.Http;
import dev.fairway.support.Proxies;
import io.vertx.core.net.NetServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.time.Duration;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Fairway's own HTTP/1.1 path (listen.direct-http1) against a raw upstream that records what it receives: what it
 * takes and forwards, and how the requests it does not take go on through Vert.x on the same connection. (The other
 * proxy tests run with the path on, as it is by default, and again with it off in the build's "vertx-http1" test run.)
 */
@Timeout(value = 1, unit = TimeUnit.MINUTES)
class DirectHttp1Test extends FairwayTest {

  private NetServer upstream;
  private final List<String> received = new CopyOnWriteArrayList<>();
  private final AtomicInteger connections = new AtomicInteger();

  @AfterEach
  void closeUpstream() throws Exception {
    if (upstream != null) upstream.close().await(10, TimeUnit.SECONDS);
  }

  /** An upstream that records each request head and answers it with {@code answer} (given the head). */
  private int startUpstream(java.util.function.Function<String, String> answer) {
    upstream = vertx.createNetServer().connectHandler(so -> {
      connections.incrementAndGet();
      StringBuilder in = new StringBuilder();
      so.handler(b -> {
        in.append(b.toString(StandardCharsets.ISO_8859_1));
        int end;
        while ((end = in.indexOf("\r\n\r\n")) >= 0) {
          String head = in.substring(0, end + 4);
          int length = contentLength(head);
          if (in.length() < end + 4 + length) return;
          received.add(in.substring(0, end + 4 + length));
          in.delete(0, end + 4 + length);
          String response = answer.apply(head);
          if (response != null) so.write(response); // null: never answered
        }
      });
    });
    return upstream.listen(0, "127.0.0.1").await().actualPort();
  }

  private static int contentLength(String head) {
    for (String line : head.split("\r\n")) {
      if (line.toLowerCase().startsWith("content-length:")) return Integer.parseInt(line.substring(15).trim());
    }
    return 0;
  }

  private void startFairway(int port) {
    FairwayOptions o = Proxies.toUncheckedUpstream(port);
    o.getListen().setDirectHttp1(true);
    fairway = Proxies.start(o);
  }

  @Test
  void aGetIsForwardedWithTheForwardedHeadersAndWithoutHopByHopOnesBothWays() throws Exception {
    startFairway(startUpstream(head -> "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nKeep-Alive: timeout=5\r\nX-Up: 1\r\n\r\nok"));
    long before = DirectHttp1.taken();
    try (Socket s = client()) {
      send(s, "GET /a/b?q=1 HTTP/1.1\r\nHost: example.test:8080\r\nConnection: keep-alive\r\nKeep-Alive: 30\r\n"
        + "TE: trailers\r\nX-Forwarded-For: 10.0.0.1\r\nX-Forwarded-Host: spoofed\r\nX-Real-IP: spoofed\r\n"
        + "X-Request-Id: abc-123\r\nAccept: text/plain\r\n\r\n");
      String response = readResponse(s.getInputStream());
      assertThat(response).startsWith("HTTP/1.1 200 OK\r\n").contains("\r\nX-Up: 1\r\n", "\r\nx-request-id: abc-123\r\n")
        .doesNotContainIgnoringCase("keep-alive").endsWith("\r\n\r\nok");
    }
    assertThat(DirectHttp1.taken() - before).as("taken by the direct path").isEqualTo(1);
    String up = received.get(0);
    assertThat(up).startsWith("GET /a/b?q=1 HTTP/1.1\r\n")
      .contains("\r\nAccept: text/plain\r\n", "\r\nhost: example.test:8080\r\n", "\r\nx-real-ip: 127.0.0.1\r\n",
        "\r\nx-forwarded-for: 10.0.0.1, 127.0.0.1\r\n", "\r\nx-forwarded-proto: http\r\n",
        "\r\nx-request-id: abc-123\r\n", "\r\nx-forwarded-host: example.test:8080\r\n")
      .doesNotContainIgnoringCase("keep-alive").doesNotContainIgnoringCase("\r\nTE:").doesNotContain("spoofed");
  }

  @Test
  void responsesOfEverySizeArriveWhole() throws Exception {
    startFairway(startUpstream(head -> {
      int size = Integer.parseInt(head.substring(5, head.indexOf(' ', 5)));
      return "HTTP/1.1 200 OK\r\nContent-Length: " + size + "\r\n\r\n" + "y".repeat(size);
    }));
    String longId = "i".repeat(120);
    try (Socket s = client()) {
      InputStream in = s.getInputStream();
      for (int size : new int[] {0, 1, 1024, 4095, 4096, 4097, 70_000}) {
        send(s, "GET /" + size + " HTTP/1.1\r\nHost: h\r\nX-Request-Id: " + longId + "\r\n\r\n");
        String response = readResponse(in);
        assertThat(response).as("size " + size).contains("x-request-id: " + longId).endsWith("\r\n\r\n" + "y".repeat(size));
      }
    }
  }

  @Test
  void poolSizeBoundsTheUpstreamConnectionsOfBothPathsTogether() throws Exception {
    int port = startUpstream(head -> head.startsWith("GET /slow") ? null : "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    FairwayOptions o = Proxies.toUncheckedUpstream(port);
    o.getListen().setDirectHttp1(true);
    o.getProcess().setPoolSize(1);
    fairway = Proxies.start(o);
    long before = DirectHttp1.taken();
    try (Socket slow = client(); Socket post = client()) {
      send(slow, "GET /slow HTTP/1.1\r\nHost: h\r\n\r\n");
      Http.await("the GET upstream", Duration.ofSeconds(10), () -> received.size() == 1);
      assertThat(DirectHttp1.taken() - before).as("the GET, on the direct path").isEqualTo(1);
      send(post, "POST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\n\r\nx");
      assertThat(readHead(post.getInputStream())).as("the POST, on Vert.x's path, finds the pool full")
        .startsWith("HTTP/1.1 503");
    }
    assertThat(connections).as("pool-size 1 across both paths").hasValue(1);
  }

  @Test
  void pipelinedGetsAreAnsweredInOrderOnKeptAliveConnections() throws Exception {
    startFairway(startUpstream(head -> {
      String path = head.substring(4, head.indexOf(' ', 4));
      return "HTTP/1.1 200 OK\r\nContent-Length: " + path.length() + "\r\n\r\n" + path;
    }));
    try (Socket s = client()) {
      send(s, "GET /one HTTP/1.1\r\nHost: h\r\n\r\nGET /two HTTP/1.1\r\nHost: h\r\n\r\nGET /three HTTP/1.1\r\nHost: h\r\n\r\n");
      InputStream in = s.getInputStream();
      assertThat(readResponse(in)).endsWith("/one");
      assertThat(readResponse(in)).endsWith("/two");
      assertThat(readResponse(in)).endsWith("/three");
    }
    assertThat(connections).as("one upstream connection, kept alive").hasValue(1);
  }

  @Test
  void aRequestItDoesNotTakeGoesToVertxOnTheSameConnectionAndSoDoTheNextOnes() throws Exception {
    startFairway(startUpstream(head -> "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n" + head.substring(0, 4)));
    long before = DirectHttp1.taken();
    int heldBefore = DirectHttp1.held();
    try (Socket s = client()) {
      InputStream in = s.getInputStream();
      send(s, "GET /x HTTP/1.1\r\nHost: h\r\n\r\n");
      assertThat(readResponse(in)).endsWith("GET ");
      assertThat(DirectHttp1.held() - heldBefore).as("the connection, held by the direct path alone").isEqualTo(1);
      send(s, "POST /y HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc");
      assertThat(readResponse(in)).endsWith("POST");
      assertThat(DirectHttp1.held()).as("handed to Vert.x").isEqualTo(heldBefore);
      send(s, "GET /z HTTP/1.1\r\nHost: h\r\n\r\n");
      assertThat(readResponse(in)).endsWith("GET ");
    }
    assertThat(DirectHttp1.taken() - before).as("only the first GET: the connection is Vert.x's after the POST").isEqualTo(1);
    assertThat(received.get(1)).startsWith("POST /y HTTP/1.1\r\n").endsWith("\r\n\r\nabc");
  }

  @Test
  void aHeadResponseEndsWithItsHeadEvenWithAContentLength() throws Exception {
    startFairway(startUpstream(head -> "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"));
    try (Socket s = client()) {
      InputStream in = s.getInputStream();
      for (int i = 0; i < 2; i++) {
        send(s, "HEAD /h HTTP/1.1\r\nHost: h\r\n\r\n");
        assertThat(readHead(in)).startsWith("HTTP/1.1 200 OK\r\n").contains("Content-Length: 1000\r\n");
      }
    }
    // a bodiless answer that announces a body leaves its connection's framing in doubt (ResponseFraming.inDoubt)
    assertThat(connections).as("the upstream connection was not reused, the client's was").hasValue(2);
  }

  @Test
  void aClientThatAsksToCloseGetsConnectionCloseAndTheConnectionEnds() throws Exception {
    startFairway(startUpstream(head -> "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"));
    try (Socket s = client()) {
      send(s, "GET /c HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
      InputStream in = s.getInputStream();
      assertThat(readResponse(in)).contains("\r\nconnection: close\r\n").endsWith("ok");
      assertThat(in.read()).as("closed after the response").isEqualTo(-1);
    }
  }

  @Test
  void anUpstreamThatDiesMidBodyCutsTheClientAndOneThatNeverAnswersGetsA502() throws Exception {
    AtomicInteger n = new AtomicInteger();
    upstream = vertx.createNetServer().connectHandler(so -> so.handler(b -> {
      if (n.incrementAndGet() == 1) {
        so.write("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial").onComplete(v -> so.close());
      } else {
        so.close();
      }
    }));
    startFairway(upstream.listen(0, "127.0.0.1").await().actualPort());
    try (Socket s = client()) {
      send(s, "GET /cut HTTP/1.1\r\nHost: h\r\n\r\n");
      InputStream in = s.getInputStream();
      assertThat(readHead(in)).startsWith("HTTP/1.1 200");
      assertThat(new String(in.readAllBytes(), StandardCharsets.ISO_8859_1)).as("what came, then the close").isEqualTo("partial");
    }
    try (Socket s = client()) {
      send(s, "GET /gone HTTP/1.1\r\nHost: h\r\n\r\n");
      assertThat(readResponse(s.getInputStream())).startsWith("HTTP/1.1 502 ").endsWith("upstream closed the connection\n");
    }
  }

  /**
   * A client that reads nothing until the upstream is held back: the upstream is paused under back-pressure, its
   * connection still goes back to the pool reading, and a response that closes the connection arrives whole first.
   */
  @Test
  void largeResponsesToAClientThatWaitsArriveWholeOnAReusedUpstreamAndBeforeAClose() throws Exception {
    int size = 8 * 1024 * 1024;
    java.util.concurrent.atomic.AtomicBoolean heldBack = new java.util.concurrent.atomic.AtomicBoolean();
    upstream = vertx.createNetServer().connectHandler(so -> {
      connections.incrementAndGet();
      so.handler(b -> {
        if (!b.toString(StandardCharsets.ISO_8859_1).contains("\r\n\r\n")) return;
        heldBack.set(false);
        so.write("HTTP/1.1 200 OK\r\nContent-Length: " + size + "\r\n\r\n");
        writeBlocks(so, size / BLOCK.length(), heldBack);
      });
    });
    startFairway(upstream.listen(0, "127.0.0.1").await().actualPort());
    try (Socket s = client()) {
      InputStream in = s.getInputStream();
      send(s, "GET /one HTTP/1.1\r\nHost: h\r\n\r\n");
      dev.fairway.support.Http.await("the upstream held back", java.time.Duration.ofSeconds(10), heldBack::get);
      assertThat(readHead(in)).startsWith("HTTP/1.1 200");
      assertThat(in.readNBytes(size)).hasSize(size);
      send(s, "GET /two HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
      dev.fairway.support.Http.await("the upstream held back again", java.time.Duration.ofSeconds(10), heldBack::get);
      assertThat(readHead(in)).contains("connection: close");
      assertThat(in.readAllBytes()).as("the whole body, then the close").hasSize(size);
    }
    assertThat(connections).as("the upstream connection was reused").hasValue(1);
  }

  private static final io.vertx.core.buffer.Buffer BLOCK = io.vertx.core.buffer.Buffer.buffer("x".repeat(64 * 1024));

  /** Writes {@code blocks} blocks as fast as the socket takes them, noting when it had to wait. */
  private static void writeBlocks(io.vertx.core.net.NetSocket so, int blocks, java.util.concurrent.atomic.AtomicBoolean heldBack) {
    for (int i = 0; i < blocks; i++) {
      so.write(BLOCK);
      if (so.writeQueueFull()) {
        heldBack.set(true);
        int left = blocks - i - 1;
        so.drainHandler(v -> writeBlocks(so, left, heldBack));
        return;
      }
    }
  }

  private Socket client() throws IOException {
    Socket s = new Socket("127.0.0.1", fairway.proxyPort());
    s.setSoTimeout(10_000);
    return s;
  }

  private static void send(Socket s, String request) throws IOException {
    s.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
  }

  private static String readHead(InputStream in) throws IOException {
    ByteArrayOutputStream head = new ByteArrayOutputStream();
    int b;
    while ((b = in.read()) >= 0) {
      head.write(b);
      String text = head.toString(StandardCharsets.ISO_8859_1);
      if (text.endsWith("\r\n\r\n")) return text;
    }
    throw new IOException("closed before a head: " + head.toString(StandardCharsets.ISO_8859_1));
  }

  /** One response with a Content-Length body. */
  private static String readResponse(InputStream in) throws IOException {
    String head = readHead(in);
    return head + new String(in.readNBytes(contentLength(head)), StandardCharsets.ISO_8859_1);
  }
}
