package dev.fairway.ops;

import dev.fairway.Fairway;
import dev.fairway.support.Http;
import dev.fairway.support.Proxies;
import dev.fairway.support.TestUpstream;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.concurrent.locks.LockSupport;

import static org.assertj.core.api.Assertions.assertThat;

@ExtendWith(VertxExtension.class)
class SupervisionTest {

  @Test
  void aBlockedProxyEventLoopIsCountedAndAHandlerErrorIsCountedWhileServingGoesOn(Vertx vertx) {
    TestUpstream up = TestUpstream.start(vertx, "up");
    Fairway fairway = Proxies.start(Proxies.options(up));
    try {
      HttpClient client = vertx.createHttpClient();
      // block the proxy's event loop on purpose, as a buggy handler would
      var loop = fairway.registry();
      io.vertx.core.Context proxyLoop = fairway.proxyEventLoops().get(0);
      proxyLoop.runOnContext(v -> LockSupport.parkNanos(Duration.ofMillis(2_500).toNanos()));
      Http.await("blocked loop counted", Duration.ofSeconds(10),
        () -> loop.get("fairway.event.loop.blocked").counter().count() >= 1);

      proxyLoop.runOnContext(v -> {
        throw new IllegalStateException("a bug in a handler");
      });
      Http.await("uncaught error counted", Duration.ofSeconds(5), () -> loop.get("fairway.uncaught.errors").counter().count() == 1);
      assertThat(Http.get(client, fairway.proxyPort(), "/still-serving").await().status()).isEqualTo(200);
      assertThat(loop.get("fairway.event.loop.lag").timer().count()).isPositive();
    } finally {
      fairway.close().await();
    }
  }
}
