package dev.fairway.proxy;

import dev.fairway.support.ChunkedBody;
import dev.fairway.support.FairwayTest;
import dev.fairway.support.Http;
import dev.fairway.support.Proxies;
import dev.fairway.config.FairwayOptions;
import dev.fairway.config.UpstreamTlsOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.SelfSignedCertificate;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.function.IntConsumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A chunked response body passed from upstream to client as it comes, beneath Vert.x ({@link ChunkedPassThrough}):
 * whatever the socket reads split (size lines, the CRLF after data, the last chunk and its trailers), the client gets
 * every byte and a well-framed end, both connections serve the next request, a slow client holds the upstream back,
 * and a cut or broken upstream cuts the client rather than ending its response cleanly.
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES) // a relay that stalls fails its test, not the build
class PassThroughTest extends FairwayTest {

  private static final String HEAD = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: text/event-stream\r\n"
    + "Trailer: X-Sum\r\n\r\n";
  /** Pieces the upstream writes apart: every split a read can make of chunked framing. */
  private static final List<String> SPLIT_EVERYWHERE = List.of(
    HEAD + "6\r\nevent1\r\n", // the head's read: relayed by Vert.x
    "6\r\nevent2\r\n", // a whole chunk
    "1", // a size line begun ...
    "0\r\n0123456789abcdef\r\n", // ... and ended, not the last chunk's
    "5\r\nabc", // inside data
    "de\r", // inside the CRLF after data
    "\n3;name=value\r\nxyz\r\n", // an extension: Vert.x's decoder takes this chunk (and drops it) ...
    "3e8\r\n" + "k".repeat(1000) + "\r\n", // ... and passing resumes
    "0", // the last chunk's size line begun
    "\r\nX-Sum: 7\r\n", // its trailers
    "\r\n");
  private static final String SPLIT_BODY = "event1event2" + "0123456789abcdef" + "abcde" + "xyz" + "k".repeat(1000);

  private NetServer upstream;

  @AfterEach
  void closeUpstream() throws Exception {
    if (upstream != null) upstream.close().await(10, TimeUnit.SECONDS);
  }

  @Test
  void readsThatSplitSizeLinesDataAndTheLastChunkStillGiveTheClientEveryByteTrailersAndAUsableConnection() throws Exception {
    AtomicInteger connections = new AtomicInteger();
    startUpstream(so -> {
      connections.incrementAndGet();
      answerEachRequest(so, n -> SPLIT_EVERYWHERE);
    });
    long passedBefore = ChunkedPassThrough.passedBytes();
    try (Socket s = clientSocket()) {
      for (int i = 0; i < 2; i++) { // the same client connection and the same upstream connection, twice
        ChunkedBody.Decoded got = get(s, "/events");
        assertThat(new String(got.body(), StandardCharsets.US_ASCII)).isEqualTo(SPLIT_BODY);
        assertThat(got.trailers()).extracting(String::toLowerCase).containsExactly("x-sum: 7");
      }
    }
    assertThat(connections).as("the upstream connection was reused").hasValue(1);
    assertThat(ChunkedPassThrough.passedBytes() - passedBefore).as("passed through, not relayed by Vert.x")
      .isGreaterThanOrEqualTo(2 * (SPLIT_BODY.length() - "event1".length() - "xyz".length()));
    assertThat(sentBytes()).as("passed bytes count as sent").isEqualTo(2 * SPLIT_BODY.length());
  }

  @Test
  void aBodyWhoseHeadCameInAReadOfItsOwnIsPassedToo() throws Exception {
    startUpstream(so -> onEachRequest(so, n -> writeApart(so,
      List.of(Buffer.buffer(HEAD), Buffer.buffer("6\r\nevent1\r\n"), Buffer.buffer("6\r\nevent2\r\n0\r\n\r\n")), () -> { })));
    long passedBefore = ChunkedPassThrough.passedBytes();
    try (Socket s = clientSocket()) {
      for (int i = 0; i < 2; i++) {
        assertThat(new String(get(s, "/events").body(), StandardCharsets.US_ASCII)).isEqualTo("event1event2");
      }
    }
    assertThat(ChunkedPassThrough.passedBytes() - passedBefore).as("both bodies passed through")
      .isEqualTo(2 * "6\r\nevent1\r\n6\r\nevent2\r\n".length());
  }

  @Test
  void randomlySplitBodiesInAnyFramingTheDecoderTakesArriveWholeAndCanonicallyFramed() throws Exception {
    Random random = new Random(20261207);
    List<byte[]> bodies = new ArrayList<>();
    List<List<Buffer>> scripts = new ArrayList<>();
    for (int r = 0; r < 12; r++) {
      Buffer wire = Buffer.buffer(HEAD);
      Buffer body = Buffer.buffer();
      for (int c = 0, chunks = 1 + random.nextInt(12); c < chunks; c++) {
        byte[] data = new byte[1 + random.nextInt(random.nextBoolean() ? 40 : 5000)];
        random.nextBytes(data);
        body.appendBytes(data);
        // now and then what Netty's decoder also takes: an extension, spaces (never passed as they are)
        String[] lineEnds = {"\r\n", "\r\n", "\r\n", ";x=" + c + "\r\n", " \r\n", " ; y\r\n"};
        wire.appendString(Integer.toHexString(data.length) + lineEnds[random.nextInt(lineEnds.length)])
          .appendBytes(data).appendString("\r\n");
      }
      wire.appendString(random.nextBoolean() ? "0\r\n\r\n" : "0\r\nX-Sum: " + r + "\r\n\r\n");
      bodies.add(body.getBytes());
      scripts.add(splitRandomly(wire, HEAD.length() + 1, random));
    }
    startUpstream(so -> answerEachRequestWith(so, scripts::get));
    try (Socket s = clientSocket()) {
      for (int r = 0; r < bodies.size(); r++) {
        assertThat(get(s, "/r" + r).body()).as("response " + r).isEqualTo(bodies.get(r));
      }
    }
  }

  @Test
  void aClientThatDoesNotReadHoldsTheUpstreamBackAndThenGetsEveryByte() throws Exception {
    int chunk = 64 * 1024;
    int chunks = 1024; // 64 MiB: more than the sockets and Fairway's bounds hold between them
    AtomicLong written = new AtomicLong();
    AtomicLong lastProgress = new AtomicLong(System.nanoTime());
    MessageDigest sent = MessageDigest.getInstance("SHA-256");
    startUpstream(so -> onEachRequest(so, n -> {
      so.write(HEAD);
      writeChunks(so, chunk, chunks, written, lastProgress, sent);
    }));
    try (Socket s = clientSocket()) {
      s.getOutputStream().write(ascii("GET /big HTTP/1.1\r\nHost: fairway\r\n\r\n"));
      InputStream in = s.getInputStream();
      ChunkedBody.readHead(in);
      Http.await("the upstream held back", Duration.ofSeconds(20),
        () -> System.nanoTime() - lastProgress.get() > TimeUnit.MILLISECONDS.toNanos(300));
      assertThat(written.get()).as("bytes the upstream could write while the client read nothing")
        .isLessThan(40L * 1024 * 1024);
      MessageDigest got = MessageDigest.getInstance("SHA-256");
      assertThat(readChunkedStream(in, got)).isEqualTo((long) chunk * chunks);
      assertThat(got.digest()).isEqualTo(sent.digest());
    }
  }

  @Test
  void aBodyThatEndsWithTheUpstreamConnectionIsPassedInChunksAndEndsTheClientsResponseCleanly() throws Exception {
    String head = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n";
    List<String> pieces = List.of(head + "data: one\n\n", "data: two\n\n", "data: thr", "ee\n\n");
    startUpstream(so -> onEachRequest(so, n -> writeApart(so, pieces.stream().map(Buffer::buffer).toList(), so::close)));
    long passedBefore = ChunkedPassThrough.passedBytes();
    try (Socket s = clientSocket()) {
      for (int i = 0; i < 2; i++) { // the client's connection stays usable (the upstream's closes each time)
        ChunkedBody.Decoded got = get(s, "/events");
        assertThat(new String(got.body(), StandardCharsets.US_ASCII)).isEqualTo("data: one\n\ndata: two\n\ndata: three\n\n");
        assertThat(got.sizes()).as("a chunk per read, and the last").hasSizeGreaterThanOrEqualTo(4);
      }
    }
    assertThat(ChunkedPassThrough.passedBytes() - passedBefore).as("passed through, not relayed by Vert.x")
      .isGreaterThanOrEqualTo(2 * "data: two\n\ndata: three\n\n".length());
    assertThat(sentBytes()).as("passed bytes count as sent").isEqualTo(2 * "data: one\n\ndata: two\n\ndata: three\n\n".length());
  }

  @Test
  void aBodyIsPassedBetweenTlsConnectionsOnBothSides() throws Exception {
    SelfSignedCertificate cert = SelfSignedCertificate.create("localhost");
    HttpServer tlsUpstream = vertx.createHttpServer(new HttpServerOptions().setSsl(true)
        .setKeyCertOptions(new PemKeyCertOptions().setCertPath(cert.certificatePath()).setKeyPath(cert.privateKeyPath())))
      .requestHandler(req -> {
        HttpServerResponse resp = req.response().setChunked(true).putHeader("Content-Type", "text/event-stream");
        resp.write("data: 0\n\n");
        int[] next = {1};
        vertx.setPeriodic(20, t -> {
          if (next[0] == 5) {
            vertx.cancelTimer(t);
            resp.end();
          } else {
            resp.write("data: " + next[0]++ + "\n\n");
          }
        });
      })
      .listen(0, "127.0.0.1").await();
    FairwayOptions options = Proxies.toUncheckedUpstream(tlsUpstream.actualPort())
      .setUpstreamTls(new UpstreamTlsOptions().setEnabled(true).setCa(cert.certificatePath()).setVerifyHost(false));
    options.getListen().setTls(cert.certificatePath(), cert.privateKeyPath());
    fairway = Proxies.start(options);
    HttpClient tlsClient = vertx.createHttpClient(new HttpClientOptions().setSsl(true).setTrustAll(true).setVerifyHost(false));
    long passedBefore = ChunkedPassThrough.passedBytes();
    String body = tlsClient.request(HttpMethod.GET, fairway.proxyPort(), "127.0.0.1", "/events")
      .compose(req -> req.send().compose(HttpClientResponse::body)).await(20, TimeUnit.SECONDS).toString();
    assertThat(body).isEqualTo("data: 0\n\ndata: 1\n\ndata: 2\n\ndata: 3\n\ndata: 4\n\n");
    assertThat(ChunkedPassThrough.passedBytes() - passedBefore).as("passed through, decrypted and encrypted again")
      .isGreaterThanOrEqualTo("data: 1\n\ndata: 2\n\ndata: 3\n\ndata: 4\n\n".length());
    tlsUpstream.close().await(10, TimeUnit.SECONDS);
  }

  @Test
  void anUpstreamCutInTheMiddleOfAPassedBodyCutsTheClient() throws Exception {
    startUpstream(so -> onEachRequest(so, n -> writeApart(so,
      List.of(Buffer.buffer(HEAD + "4\r\none\n\r\n"), Buffer.buffer("4\r\ntwo\n\r\n"), Buffer.buffer("6\r\nth")), so::close)));
    try (Socket s = clientSocket()) {
      assertThatThrownBy(() -> get(s, "/cut")).isInstanceOf(IOException.class).hasMessageContaining("closed before the body ended");
    }
  }

  @Test
  void aPassedBodyThatKeepsComingOutlivesTheReadTimeoutAndASilentOneIsCutByIt() throws Exception {
    List<Buffer> flowing = new ArrayList<>(List.of(Buffer.buffer(HEAD + "2\r\n0\n\r\n")));
    for (int i = 1; i < 10; i++) flowing.add(Buffer.buffer("2\r\n" + i + "\n\r\n"));
    flowing.add(Buffer.buffer("0\r\n\r\n"));
    startUpstream(so -> onEachRequest(so, n -> {
      if (n == 0) writeApart(so, flowing, 100, () -> { }); // 1 s in all, never 300 ms silent
      else writeApart(so, List.of(Buffer.buffer(HEAD + "2\r\na\n\r\n"), Buffer.buffer("2\r\nb\n\r\n")), () -> { }); // then silent
    }), options -> options.getTimeouts().setReadMillis(300));
    long passedBefore = ChunkedPassThrough.passedBytes();
    try (Socket s = clientSocket()) {
      assertThat(new String(get(s, "/flowing").body(), StandardCharsets.US_ASCII)).isEqualTo("0\n1\n2\n3\n4\n5\n6\n7\n8\n9\n");
      assertThat(ChunkedPassThrough.passedBytes() - passedBefore).as("passed through").isGreaterThan(0);
      assertThatThrownBy(() -> get(s, "/silent")).isInstanceOf(IOException.class).hasMessageContaining("closed before the body ended");
    }
  }

  @Test
  void aClientThatGoesAwayWhileItsBodyIsPassedClosesTheUpstreamConnection() throws Exception {
    io.vertx.core.Promise<Void> upstreamClosed = io.vertx.core.Promise.promise();
    startUpstream(so -> {
      so.closeHandler(v -> upstreamClosed.tryComplete());
      onEachRequest(so, n -> writeApart(so, List.of(Buffer.buffer(HEAD + "4\r\none\n\r\n"), Buffer.buffer("4\r\ntwo\n\r\n")),
        () -> { })); // and never ends
    });
    long passedBefore = ChunkedPassThrough.passedBytes();
    try (Socket s = clientSocket()) {
      s.getOutputStream().write(ascii("GET /gone HTTP/1.1\r\nHost: fairway\r\n\r\n"));
      InputStream in = s.getInputStream();
      ChunkedBody.readHead(in);
      Http.await("the second chunk passed", Duration.ofSeconds(10), () -> ChunkedPassThrough.passedBytes() > passedBefore);
    }
    upstreamClosed.future().timeout(10, TimeUnit.SECONDS).await();
  }

  @Test
  void brokenFramingInAPassedBodyCutsTheClientInsteadOfRelayingIt() throws Exception {
    startUpstream(so -> answerEachRequest(so, n -> List.of(HEAD + "4\r\none\n\r\n", "4\r\ntwo\n\r\n", "zz\r\nnot framing\r\n0\r\n\r\n")));
    try (Socket s = clientSocket()) {
      assertThatThrownBy(() -> get(s, "/broken")).isInstanceOf(IOException.class).hasMessageContaining("closed before the body ended");
    }
  }

  private void startUpstream(io.vertx.core.Handler<NetSocket> connections) {
    startUpstream(connections, options -> { });
  }

  private void startUpstream(io.vertx.core.Handler<NetSocket> connections, java.util.function.Consumer<FairwayOptions> tweak) {
    upstream = vertx.createNetServer().connectHandler(connections).listen(0, "127.0.0.1").await();
    FairwayOptions options = Proxies.toUncheckedUpstream(upstream.actualPort());
    tweak.accept(options);
    fairway = Proxies.start(options);
  }

  /** Answers each request head on {@code so} with the pieces {@code script} gives for it, written apart. */
  private void answerEachRequest(NetSocket so, Function<Integer, List<String>> script) {
    answerEachRequestWith(so, n -> script.apply(n).stream().map(Buffer::buffer).toList());
  }

  private void answerEachRequestWith(NetSocket so, Function<Integer, List<Buffer>> script) {
    onEachRequest(so, n -> writeApart(so, script.apply(n), () -> { }));
  }

  /** Runs {@code answer} with the request's number for each request head (GETs: no bodies) that arrives on it. */
  private static void onEachRequest(NetSocket so, IntConsumer answer) {
    Buffer got = Buffer.buffer();
    int[] answered = {0};
    so.handler(b -> {
      got.appendBuffer(b);
      String text = got.toString(StandardCharsets.ISO_8859_1);
      int heads = text.split("\r\n\r\n", -1).length - 1;
      while (answered[0] < heads) answer.accept(answered[0]++);
    });
  }

  /** Writes each piece in a TCP segment and a read of its own: the next 20 ms later. */
  private void writeApart(NetSocket so, List<Buffer> pieces, Runnable then) {
    writeApart(so, pieces, 20, then);
  }

  private void writeApart(NetSocket so, List<Buffer> pieces, long gapMillis, Runnable then) {
    int[] next = {0};
    so.write(pieces.get(next[0]++));
    if (pieces.size() == 1) {
      then.run();
      return;
    }
    vertx.setPeriodic(gapMillis, t -> {
      so.write(pieces.get(next[0]++));
      if (next[0] == pieces.size()) {
        vertx.cancelTimer(t);
        then.run();
      }
    });
  }

  /** {@code wire} cut into pieces at random points, the first at least {@code first} bytes long. */
  private static List<Buffer> splitRandomly(Buffer wire, int first, Random random) {
    List<Buffer> pieces = new ArrayList<>();
    int at = 0;
    int end = first + random.nextInt(8);
    while (at < wire.length()) {
      end = Math.min(end, wire.length());
      pieces.add(wire.getBuffer(at, end));
      at = end;
      end = at + 1 + (random.nextBoolean() ? random.nextInt(6) : random.nextInt(3000));
    }
    return pieces;
  }

  private static void writeChunks(NetSocket so, int size, int count, AtomicLong written, AtomicLong lastProgress,
                                  MessageDigest digest) {
    byte[] data = new byte[size];
    int[] left = {count};
    Runnable[] more = new Runnable[1];
    more[0] = () -> {
      if (left[0] < 0) return; // ended: a drain after the last write
      while (left[0] > 0 && !so.writeQueueFull()) {
        Arrays.fill(data, (byte) left[0]);
        digest.update(data);
        so.write(Buffer.buffer(Integer.toHexString(size) + "\r\n").appendBytes(data).appendString("\r\n"));
        written.addAndGet(size);
        lastProgress.set(System.nanoTime());
        left[0]--;
      }
      if (left[0] == 0) {
        so.write("0\r\n\r\n");
        left[0] = -1;
      } else {
        so.drainHandler(v -> more[0].run());
      }
    };
    more[0].run();
  }

  private Socket clientSocket() throws IOException {
    Socket s = new Socket("127.0.0.1", fairway.proxyPort());
    s.setSoTimeout(20_000);
    return s;
  }

  private static ChunkedBody.Decoded get(Socket s, String path) throws IOException {
    s.getOutputStream().write(ascii("GET " + path + " HTTP/1.1\r\nHost: fairway\r\n\r\n"));
    InputStream in = s.getInputStream();
    String head = ChunkedBody.readHead(in);
    assertThat(head.toLowerCase()).startsWith("http/1.1 200").contains("transfer-encoding: chunked");
    return readChunkedBody(in);
  }

  /** Reads exactly one chunked body (so the next response on the connection stays unread). */
  private static ChunkedBody.Decoded readChunkedBody(InputStream in) throws IOException {
    byte[] wire = new byte[0];
    while (true) {
      ChunkedBody.Decoded decoded = ChunkedBody.decode(wire, 0);
      if (decoded != null) return decoded;
      int b = in.read();
      if (b < 0) throw new IOException("closed before the body ended: " + wire.length + " bytes");
      int available = in.available();
      byte[] more = new byte[1 + available];
      more[0] = (byte) b;
      if (available > 0) in.readNBytes(more, 1, available);
      wire = Arrays.copyOf(wire, wire.length + more.length);
      System.arraycopy(more, 0, wire, wire.length - more.length, more.length);
    }
  }

  /** Reads a chunked body as it streams, into {@code digest}; returns its length. */
  private static long readChunkedStream(InputStream in, MessageDigest digest) throws IOException {
    long length = 0;
    byte[] buffer = new byte[64 * 1024];
    while (true) {
      String line = readLine(in);
      int size = Integer.parseInt(line.split(";")[0].trim(), 16);
      if (size == 0) {
        while (!readLine(in).isEmpty()) {
          // trailers
        }
        return length;
      }
      for (int left = size; left > 0; ) {
        int n = in.read(buffer, 0, Math.min(left, buffer.length));
        if (n < 0) throw new IOException("closed in a chunk");
        digest.update(buffer, 0, n);
        left -= n;
      }
      length += size;
      assertThat(readLine(in)).as("CRLF after a chunk's data").isEmpty();
    }
  }

  private static String readLine(InputStream in) throws IOException {
    StringBuilder line = new StringBuilder();
    for (int b = in.read(); b != '\n'; b = in.read()) {
      if (b < 0) throw new IOException("closed in a line");
      if (b != '\r') line.append((char) b);
    }
    return line.toString();
  }

  private long sentBytes() {
    String metrics = Http.get(client, fairway.adminPort(), "/metrics").await().body();
    Matcher m = Pattern.compile("(?m)^fairway_sent_bytes_total\\{[^}]*} (\\S+)$").matcher(metrics);
    long sum = 0;
    while (m.find()) sum += (long) Double.parseDouble(m.group(1));
    return sum;
  }

  private static byte[] ascii(String s) {
    return s.getBytes(StandardCharsets.US_ASCII);
  }
}
