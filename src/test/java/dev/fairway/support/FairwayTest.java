package dev.fairway.support;

import dev.fairway.Fairway;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.concurrent.TimeUnit;

/**
 * Base of the end-to-end tests: the test's own Vert.x (for upstreams and clients, apart from Fairway's), an HTTP
 * client on it, and the Fairway a test starts into {@link #fairway}, closed after each test.
 */
@ExtendWith(VertxExtension.class)
public abstract class FairwayTest {

  protected Vertx vertx;
  protected HttpClient client;
  protected Fairway fairway;

  @BeforeEach
  void openClient(Vertx vertx) {
    this.vertx = vertx;
    client = vertx.createHttpClient();
  }

  @AfterEach
  void closeFairway() throws Exception {
    // bounded: a WebSocket whose close handshake never completes must not hang the build
    if (fairway != null) fairway.close().await(20, TimeUnit.SECONDS);
  }
}
