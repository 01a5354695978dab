package dev.fairway.cli;

import dev.fairway.support.FairwayProcess;
import dev.fairway.support.Proxies;
import dev.fairway.support.TestUpstream;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.RequestOptions;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32;

import static org.assertj.core.api.Assertions.assertThat;

/** A 1 GiB upload and a 1 GiB download through the fat jar run with a 64 MiB heap: only streaming can pass. */
@ExtendWith(VertxExtension.class)
class StreamingMemoryIT {

  private static final long GIB = 1024L * 1024 * 1024;
  private static final Buffer CHUNK = pattern(256 * 1024);

  private static Buffer pattern(int size) {
    Buffer b = Buffer.buffer(size);
    for (int i = 0; i < size; i++) b.appendByte((byte) (i * 131 + 7));
    return b;
  }

  @Test
  void oneGibibyteEachWayThroughA64MiBHeap(Vertx vertx) {
    TestUpstream backend = TestUpstream.start(vertx, "backend");
    backend.handler = req -> {
      if (req.method() == HttpMethod.PUT) {
        CRC32 crc = new CRC32();
        long[] n = {0};
        req.handler(b -> {
          n[0] += b.length();
          crc.update(b.getBytes());
        });
        req.endHandler(v -> req.response().end(n[0] + " " + crc.getValue()));
      } else {
        HttpServerResponse resp = req.response().putHeader("Content-Length", String.valueOf(GIB));
        pump(vertx, GIB / CHUNK.length(), resp::write, resp::writeQueueFull, h -> resp.drainHandler(h), resp::end);
      }
    };
    int port = Proxies.freePort();
    try (FairwayProcess p = FairwayProcess.start(List.of("-Xmx64m"), "-u", backend.id(), "-p", String.valueOf(port),
      "--admin-port", String.valueOf(Proxies.freePort()), "--health-path", "/health")) {
      p.awaitOutput("proxying http://", Duration.ofSeconds(30));
      HttpClient client = vertx.createHttpClient();
      RequestOptions base = new RequestOptions().setHost("127.0.0.1").setPort(port).setURI("/big").setIdleTimeout(60_000);

      // upload
      CRC32 sent = new CRC32();
      for (long i = 0; i < GIB / CHUNK.length(); i++) sent.update(CHUNK.getBytes());
      HttpClientRequest up = client.request(new RequestOptions(base).setMethod(HttpMethod.PUT)).await();
      up.putHeader("Content-Length", String.valueOf(GIB));
      var upReply = up.response().compose(r -> r.body());
      vertx.runOnContext(v -> pump(vertx, GIB / CHUNK.length(), up::write, up::writeQueueFull, h -> up.drainHandler(h), up::end));
      assertThat(upReply.timeout(5, TimeUnit.MINUTES).await().toString()).isEqualTo(GIB + " " + sent.getValue());

      // download
      Promise<String> down = Promise.promise();
      client.request(new RequestOptions(base).setMethod(HttpMethod.GET)).compose(HttpClientRequest::send).onSuccess(resp -> {
        CRC32 crc = new CRC32();
        long[] n = {0};
        resp.handler(b -> {
          n[0] += b.length();
          crc.update(b.getBytes());
        });
        resp.endHandler(v -> down.complete(n[0] + " " + crc.getValue()));
      }).onFailure(down::fail);
      assertThat(down.future().timeout(5, TimeUnit.MINUTES).await()).isEqualTo(GIB + " " + sent.getValue());
      assertThat(p.stderr()).doesNotContain("OutOfMemoryError");
    }
  }

  /** Writes {@code count} chunks with back-pressure, then ends. */
  private static void pump(Vertx vertx, long count, java.util.function.Consumer<Buffer> write, java.util.function.BooleanSupplier full,
                           java.util.function.Consumer<io.vertx.core.Handler<Void>> onDrain, Runnable end) {
    long[] left = {count};
    Runnable[] step = new Runnable[1];
    step[0] = () -> {
      while (left[0] > 0 && !full.getAsBoolean()) {
        write.accept(CHUNK.copy());
        left[0]--;
      }
      if (left[0] == 0) end.run();
      else onDrain.accept(v -> step[0].run());
    };
    step[0].run();
  }
}
