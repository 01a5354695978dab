package dev.fairway.support;

import dev.fairway.Fairway;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.PoolOptions;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.extension.ExtendWith;

/** Base of the end-to-end tests that run a Fairway (started by each test) in front of three upstreams a, b and c. */
@ExtendWith(VertxExtension.class)
public abstract class ThreeUpstreams {

  protected Vertx vertx;
  protected Fairway fairway;
  protected TestUpstream a, b, c;

  @BeforeEach
  protected void startUpstreams(Vertx vertx) {
    this.vertx = vertx;
    a = TestUpstream.start(vertx, "a");
    b = TestUpstream.start(vertx, "b");
    c = TestUpstream.start(vertx, "c");
  }

  @AfterEach
  protected void closeFairway() {
    if (fairway != null) fairway.close().await();
  }

  /** A client that opens up to {@code connections} connections to one server. */
  protected HttpClient client(int connections) {
    return vertx.createHttpClient(new HttpClientOptions(), new PoolOptions().setHttp1MaxSize(connections));
  }
}
