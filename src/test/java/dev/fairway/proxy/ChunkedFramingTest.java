package dev.fairway.proxy;

import dev.fairway.support.ChunkedBody;
import dev.fairway.support.FairwayTest;
import dev.fairway.support.Proxies;
import io.vertx.core.Handler;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Chunked bodies on the wire, both ways: what arrives is strictly well-framed HTTP/1.1 chunked encoding carrying every
 * byte, whatever the sizes of the chunks that came in (Fairway frames the chunks between a body's head and its last
 * chunk itself, past Netty's encoder).
 */
class ChunkedFramingTest extends FairwayTest {

  /** Chunk sizes around each boundary of the hex size line's length, and past the largest socket read. */
  private static final int[] SIZES = {1, 15, 16, 255, 256, 4095, 4096, 65_535, 65_536, 100_000, 3};
  private static final byte[] BODY = patterned(IntStream.of(SIZES).sum());

  private NetServer upstream;

  @AfterEach
  void closeUpstream() {
    if (upstream != null) upstream.close().await();
  }

  @Test
  void aChunkedUploadReachesTheUpstreamWellFramedWithEveryByte() throws Exception {
    Promise<byte[]> request = Promise.promise();
    startUpstream(so -> collect(so, request, () -> so.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")));
    try (Socket s = new Socket("127.0.0.1", fairway.proxyPort())) {
      s.setSoTimeout(10_000);
      OutputStream out = s.getOutputStream();
      out.write(ascii("POST /upload HTTP/1.1\r\nHost: fairway\r\nTransfer-Encoding: chunked\r\n\r\n"));
      writeChunks(out);
      out.write(ascii("0\r\n\r\n"));
      out.flush();

      byte[] wire = request.future().timeout(10, TimeUnit.SECONDS).await();
      int head = ChunkedBody.headEnd(wire);
      assertThat(new String(wire, 0, head, StandardCharsets.ISO_8859_1).toLowerCase())
        .contains("transfer-encoding: chunked").doesNotContain("content-length");
      ChunkedBody.Decoded upload = ChunkedBody.decode(wire, head);
      assertThat(Arrays.equals(upload.body(), BODY)).as("the upstream got every byte, in order").isTrue();
      assertThat(upload.sizes()).as("framed in several chunks").hasSizeGreaterThan(3);
      assertThat(readResponse(s.getInputStream())).startsWith("HTTP/1.1 200").endsWith("ok");
    }
  }

  @Test
  void aChunkedResponseReachesTheClientWellFramedWithEveryByteAndItsTrailers() throws Exception {
    startUpstream(so -> collectHead(so, () -> {
      so.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\n\r\n");
      int at = 0;
      for (int size : SIZES) {
        so.write(Buffer.buffer(Integer.toHexString(size) + "\r\n")
          .appendBytes(BODY, at, size).appendString("\r\n"));
        at += size;
      }
      so.write("0\r\nX-Sum: 42\r\n\r\n");
    }));
    try (Socket s = new Socket("127.0.0.1", fairway.proxyPort())) {
      s.setSoTimeout(10_000);
      s.getOutputStream().write(ascii("GET /stream HTTP/1.1\r\nHost: fairway\r\n\r\n"));
      ChunkedBody.Decoded response = readChunked(s.getInputStream());
      assertThat(Arrays.equals(response.body(), BODY)).as("the client got every byte, in order").isTrue();
      assertThat(response.sizes()).as("framed in several chunks").hasSizeGreaterThan(3);
      assertThat(response.trailers()).extracting(String::toLowerCase).containsExactly("x-sum: 42");
    }
  }

  @Test
  void aResponseToHeadThatSaysChunkedHasNoBodyAndTheNextResponseIsFramedRight() throws Exception {
    startUpstream(so -> {
      Buffer got = Buffer.buffer();
      int[] consumed = {0};
      so.handler(b -> {
        got.appendBuffer(b);
        int end;
        while ((end = ChunkedBody.headEnd(got.getBytes(consumed[0], got.length()))) > 0) {
          boolean head = got.getString(consumed[0], consumed[0] + 4).equals("HEAD");
          consumed[0] += end;
          so.write(head ? "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
            : "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
        }
      });
    });
    try (Socket s = new Socket("127.0.0.1", fairway.proxyPort())) {
      s.setSoTimeout(10_000);
      s.getOutputStream().write(ascii("HEAD /doc HTTP/1.1\r\nHost: fairway\r\n\r\n"));
      InputStream in = s.getInputStream();
      assertThat(ChunkedBody.readHead(in)).startsWith("HTTP/1.1 200");
      s.getOutputStream().write(ascii("GET /doc HTTP/1.1\r\nHost: fairway\r\n\r\n"));
      ChunkedBody.Decoded next = readChunked(in); // a body written for the HEAD would be read here and fail
      assertThat(new String(next.body(), StandardCharsets.US_ASCII)).isEqualTo("hello world");
    }
  }

  private void startUpstream(Handler<NetSocket> connections) {
    upstream = vertx.createNetServer().connectHandler(connections).listen(0, "127.0.0.1").await();
    fairway = Proxies.start(Proxies.toUncheckedUpstream(upstream.actualPort()));
  }

  /** Collects a chunked request until its body is complete (or fails on the first malformed byte), then answers. */
  private static void collect(NetSocket so, Promise<byte[]> request, Runnable answer) {
    Buffer got = Buffer.buffer();
    so.handler(b -> {
      got.appendBuffer(b);
      byte[] wire = got.getBytes();
      int head = ChunkedBody.headEnd(wire);
      if (head < 0) return;
      try {
        if (ChunkedBody.decode(wire, head) == null) return;
      } catch (ChunkedBody.Malformed e) {
        request.tryFail(e);
        return;
      }
      if (request.tryComplete(wire)) answer.run();
    });
  }

  /** Answers once a request's head is in (a GET: no body). */
  private static void collectHead(NetSocket so, Runnable answer) {
    Buffer got = Buffer.buffer();
    boolean[] answered = {false};
    so.handler(b -> {
      got.appendBuffer(b);
      if (!answered[0] && ChunkedBody.headEnd(got.getBytes()) > 0) {
        answered[0] = true;
        answer.run();
      }
    });
  }

  /** Writes the body in chunks of {@link #SIZES}, each flushed on its own. */
  private static void writeChunks(OutputStream out) throws IOException {
    int at = 0;
    for (int size : SIZES) {
      out.write(ascii(Integer.toHexString(size) + "\r\n"));
      out.write(BODY, at, size);
      out.write(ascii("\r\n"));
      out.flush();
      at += size;
    }
  }

  private static ChunkedBody.Decoded readChunked(InputStream in) throws IOException {
    String head = ChunkedBody.readHead(in);
    assertThat(head.toLowerCase()).startsWith("http/1.1 200").contains("transfer-encoding: chunked");
    byte[] wire = new byte[0];
    while (true) {
      ChunkedBody.Decoded decoded = ChunkedBody.decode(wire, 0);
      if (decoded != null) return decoded;
      byte[] more = new byte[8192];
      int n = in.read(more);
      if (n < 0) throw new IOException("closed before the body ended: " + wire.length + " bytes");
      wire = Arrays.copyOf(wire, wire.length + n);
      System.arraycopy(more, 0, wire, wire.length - n, n);
    }
  }

  private static String readResponse(InputStream in) throws IOException {
    String head = ChunkedBody.readHead(in);
    int length = Integer.parseInt(head.toLowerCase().split("content-length: ")[1].split("\r\n")[0].trim());
    return head + new String(in.readNBytes(length), StandardCharsets.ISO_8859_1);
  }

  private static byte[] patterned(int size) {
    byte[] bytes = new byte[size];
    for (int i = 0; i < size; i++) bytes[i] = (byte) (i * 31 + i / 251);
    return bytes;
  }

  private static byte[] ascii(String s) {
    return s.getBytes(StandardCharsets.US_ASCII);
  }
}
