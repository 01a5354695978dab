package dev.fairway.metrics;

import dev.fairway.support.FairwayTest;
import dev.fairway.Fairway;
import dev.fairway.support.Http;
import dev.fairway.support.Proxies;
import dev.fairway.support.TestUpstream;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

class AdminEndpointsTest extends FairwayTest {

  private TestUpstream up;
  private TestUpstream down;

  @BeforeEach
  void setUp(Vertx vertx) {
    up = TestUpstream.start(vertx, "up");
    down = TestUpstream.start(vertx, "down");
    down.healthy = false;
    up.handler = req -> req.response().setStatusCode(req.path().equals("/missing") ? 404 : 200).end();
    fairway = Proxies.start(Proxies.options(up, down)
      .setRoutes(java.util.List.of(new dev.fairway.config.RouteOptions("/ok/special", new dev.fairway.config.TimeoutOptions()))));
    Http.await("down marked DOWN", Duration.ofSeconds(5), () -> metrics().contains("fairway_upstream_up{upstream=\"" + down.id() + "\"} 0"));
  }


  private String metrics() {
    return Http.get(client, fairway.adminPort(), "/metrics").await().body();
  }

  @Test
  void metricsCountRequestsByUpstreamMethodAndStatusClass() {
    for (int i = 0; i < 4; i++) Http.get(client, fairway.proxyPort(), "/ok").await();
    Http.get(client, fairway.proxyPort(), "/ok/special").await();
    for (int i = 0; i < 2; i++) Http.get(client, fairway.proxyPort(), "/missing").await();
    Http.send(client, new RequestOptions().setMethod(HttpMethod.POST).setHost("127.0.0.1").setPort(fairway.proxyPort()).setURI("/ok"), "x").await();

    // the client can see a response end a few microseconds before the proxy has recorded it
    Http.await("the last request recorded", Duration.ofSeconds(5),
      () -> metrics().contains("fairway_request_duration_seconds_count{route=\"/\",upstream=\"" + up.id() + "\"} 7"));
    String text = metrics();
    String id = up.id();
    assertThat(text)
      .contains("fairway_requests_total{code=\"200\",method=\"GET\",route=\"/\",upstream=\"" + id + "\"} 4.0")
      .contains("fairway_requests_total{code=\"404\",method=\"GET\",route=\"/\",upstream=\"" + id + "\"} 2.0")
      .contains("fairway_requests_total{code=\"200\",method=\"POST\",route=\"/\",upstream=\"" + id + "\"} 1.0")
      .contains("fairway_requests_total{code=\"200\",method=\"GET\",route=\"/ok/special\",upstream=\"" + id + "\"} 1.0")
      .contains("fairway_request_duration_seconds_count{route=\"/\",upstream=\"" + id + "\"} 7")
      .contains("fairway_request_duration_seconds_bucket{route=\"/\",upstream=\"" + id + "\",le=\"1800.0\"} 7")
      .contains("fairway_upstream_up{upstream=\"" + id + "\"} 1.0")
      .contains("fairway_upstream_up{upstream=\"" + down.id() + "\"} 0.0")
      .contains("fairway_upstream_in_flight{upstream=\"" + id + "\"} 0.0")
      .contains("fairway_upstream_response_seconds_count{route=\"/\",upstream=\"" + id + "\"} 7")
      .contains("fairway_upstream_response_seconds_count{route=\"/ok/special\",upstream=\"" + id + "\"} 1")
      .contains("fairway_received_bytes_total{route=\"/\",upstream=\"" + id + "\"} 1.0")
      .contains("fairway_client_connections ")
      .contains("jvm_memory_used_bytes")
      .contains("process_cpu_usage")
      .contains("vertx_eventbus_published_total");
    assertThat(text).doesNotContain("fairway_requests_total{code=\"200\",method=\"GET\",route=\"/\",upstream=\"" + down.id());
  }

  /** For an admin port that is not on loopback: admin.tls, and then nothing of it answers in plain HTTP. */
  @Test
  void theAdminServerSpeaksTlsWhenGivenACertificate(Vertx vertx) {
    io.vertx.core.net.SelfSignedCertificate cert = io.vertx.core.net.SelfSignedCertificate.create("localhost");
    Fairway secured = Proxies.start(Proxies.options(up).with(o -> o.getAdmin().setTls(cert.certificatePath(), cert.privateKeyPath())));
    try {
      HttpClient https = vertx.createHttpClient(new io.vertx.core.http.HttpClientOptions().setSsl(true).setTrustAll(true).setVerifyHost(false));
      assertThat(Http.get(https, secured.adminPort(), "/health/ready").await().status()).isEqualTo(200);
      assertThat(Http.get(client, secured.adminPort(), "/health/ready").toCompletionStage().toCompletableFuture()
        .handle((reply, err) -> err != null || reply.status() >= 400).join()).as("plain HTTP gets no answer").isTrue();
    } finally {
      secured.close().await();
    }
  }

  @Test
  void metricsOffRecordsNoRequestMetersButKeepsTheGauges(Vertx vertx) {
    Fairway bare = Proxies.start(Proxies.options(up).with(o -> o.getProcess().setMetrics(false)));
    try {
      Http.get(client, bare.proxyPort(), "/ok").await();
      String text = Http.get(client, bare.adminPort(), "/metrics").await().body();
      assertThat(text).doesNotContain("fairway_requests_total").doesNotContain("fairway_request_duration_seconds")
        .contains("fairway_upstream_up{upstream=\"" + up.id() + "\"} 1.0");
    } finally {
      bare.close().await();
    }
  }

  @Test
  void statsGiveEachUpstreamsLastMinute() {
    up.handler = req -> req.response().setStatusCode(req.path().equals("/broken") ? 500 : 200).end();
    for (int i = 0; i < 9; i++) Http.get(client, fairway.proxyPort(), "/ok").await();
    Http.get(client, fairway.proxyPort(), "/broken").await();
    Http.await("the second with the requests rolled into the window", Duration.ofSeconds(5), () -> {
      JsonObject stats = new JsonObject(Http.get(client, fairway.adminPort(), "/stats").await().body());
      return stats.getJsonArray("upstreams").getJsonObject(0).getDouble("requests_per_second") > 0;
    });
    JsonObject stats = new JsonObject(Http.get(client, fairway.adminPort(), "/stats").await().body());
    JsonObject a = stats.getJsonArray("upstreams").getJsonObject(0);
    assertThat(a.getMap()).containsEntry("id", up.id()).containsEntry("status", "UP").containsEntry("state", "active")
      .containsEntry("in_flight", 0).containsEntry("error_rate", 0.1);
    assertThat(a.getJsonObject("latency_ms").getDouble("p99")).isPositive();
    assertThat(stats.getJsonArray("upstreams").getJsonObject(1).getMap()).containsEntry("status", "DOWN").containsEntry("last_failure", "status 503");
    assertThat(stats.getMap()).containsEntry("queue_length", 0).containsEntry("strategy", "round-robin");
  }

  @Test
  void healthIsUpWithEachUpstreamWhileOneIsUp() {
    Http.Reply reply = Http.get(client, fairway.adminPort(), "/health").await();
    assertThat(reply.status()).isEqualTo(200);
    JsonObject json = new JsonObject(reply.body());
    assertThat(json.getString("status")).isEqualTo("UP");
    JsonObject data = json.getJsonArray("checks").getJsonObject(0).getJsonObject("data");
    assertThat(data.getJsonArray("upstreams").stream().map(o -> ((JsonObject) o).getString("id") + "=" + ((JsonObject) o).getString("status")))
      .containsExactly(up.id() + "=UP", down.id() + "=DOWN");
    assertThat(data.getJsonArray("upstreams").getJsonObject(1).getString("reason")).isEqualTo("status 503");
  }
}
