package dev.fairway.proxy;

import dev.fairway.support.FairwayTest;
import dev.fairway.support.Http;
import dev.fairway.support.Proxies;
import dev.fairway.support.TestUpstream;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class ForwardedHeadersTest extends FairwayTest {

  private TestUpstream echo;

  @BeforeEach
  void setUp(Vertx vertx) {
    echo = TestUpstream.start(vertx, "echo");
    // answers with the request headers it received, and sends hop-by-hop headers of its own
    echo.handler = req -> {
      JsonObject seen = new JsonObject();
      req.headers().forEach(h -> seen.put(h.getKey().toLowerCase(), h.getValue()));
      req.response()
        .putHeader("Connection", "X-Upstream-Private")
        .putHeader("X-Upstream-Private", "secret")
        .putHeader("Keep-Alive", "timeout=5")
        .putHeader("X-Upstream-Public", "ok")
        .end(seen.encode());
    };
    fairway = Proxies.start(Proxies.options(echo));
  }


  private Http.Reply send(RequestOptions options) {
    return Http.send(client, options.setMethod(HttpMethod.GET).setHost("127.0.0.1").setPort(fairway.proxyPort()).setURI("/h"), null).await();
  }

  @Test
  void upstreamSeesTheClientHostAndForwardedHeaders() {
    Http.Reply reply = send(new RequestOptions().putHeader("Host", "docs.example.com:8080"));
    JsonObject seen = new JsonObject(reply.body());
    assertThat(seen.getString("host")).isEqualTo("docs.example.com:8080");
    assertThat(seen.getString("x-real-ip")).isEqualTo("127.0.0.1");
    assertThat(seen.getString("x-forwarded-for")).isEqualTo("127.0.0.1");
    assertThat(seen.getString("x-forwarded-proto")).isEqualTo("http");
    assertThat(seen.getString("x-forwarded-host")).isEqualTo("docs.example.com:8080");
  }

  @Test
  void clientForwardedForIsKeptAndThePeerAppended() {
    JsonObject seen = new JsonObject(send(new RequestOptions().putHeader("X-Forwarded-For", "203.0.113.7")
      .putHeader("X-Real-IP", "6.6.6.6")).body());
    assertThat(seen.getString("x-forwarded-for")).isEqualTo("203.0.113.7, 127.0.0.1");
    assertThat(seen.getString("x-real-ip")).as("a client cannot choose X-Real-IP").isEqualTo("127.0.0.1");
  }

  @Test
  void hopByHopHeadersAreStrippedBothWays() {
    Http.Reply reply = send(new RequestOptions()
      .putHeader("Connection", "keep-alive, X-Client-Private")
      .putHeader("X-Client-Private", "secret")
      .putHeader("Keep-Alive", "timeout=5")
      .putHeader("Proxy-Authorization", "Basic Zm9vOmJhcg==")
      .putHeader("TE", "trailers")
      .putHeader("X-Client-Public", "ok"));
    JsonObject seen = new JsonObject(reply.body());
    assertThat(seen.fieldNames()).doesNotContain("x-client-private", "keep-alive", "proxy-authorization", "te");
    assertThat(seen.getString("connection", "keep-alive")).isEqualToIgnoringCase("keep-alive");
    assertThat(seen.getString("x-client-public")).isEqualTo("ok");
    assertThat(reply.headers().contains("X-Upstream-Private")).isFalse();
    assertThat(reply.headers().contains("Keep-Alive")).isFalse();
    assertThat(reply.headers().get("X-Upstream-Public")).isEqualTo("ok");
  }
}
