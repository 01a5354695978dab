package dev.fairway.support;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.PoolOptions;
import org.junit.jupiter.api.BeforeEach;

/** Base of the end-to-end tests that run a Fairway (started by each test) in front of three upstreams a, b and c. */
public abstract class ThreeUpstreams extends FairwayTest {

  protected TestUpstream a, b, c;

  @BeforeEach
  protected void startUpstreams(Vertx vertx) {
    a = TestUpstream.start(vertx, "a");
    b = TestUpstream.start(vertx, "b");
    c = TestUpstream.start(vertx, "c");
  }

  /** A client that opens up to {@code connections} connections to one server. */
  protected HttpClient client(int connections) {
    return vertx.createHttpClient(new HttpClientOptions(), new PoolOptions().setHttp1MaxSize(connections));
  }
}
