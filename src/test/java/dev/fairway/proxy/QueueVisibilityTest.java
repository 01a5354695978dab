package dev.fairway.proxy;

import dev.fairway.config.FairwayOptions;
import dev.fairway.config.RouteOptions;
import dev.fairway.config.TimeoutOptions;
import dev.fairway.support.FairwayTest;
import dev.fairway.support.Http;
import dev.fairway.support.Proxies;
import dev.fairway.support.TestUpstream;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/** Waiting that clients can see: queue events over SSE, the wait's estimate, Fairway-Queue-Wait, fair turns. */
class QueueVisibilityTest extends FairwayTest {

  private static final Pattern QUEUE_EVENT = Pattern.compile("event: queue\ndata: (\\{[^\n]*})\n\n");

  private TestUpstream upstream;
  /** Requests the upstream holds until the test answers them. */
  private final ConcurrentLinkedQueue<HttpServerRequest> held = new ConcurrentLinkedQueue<>();
  private final List<String> arrivals = new CopyOnWriteArrayList<>();

  @BeforeEach
  void setUp(Vertx vertx) {
    client = vertx.createHttpClient(new HttpClientOptions(), new PoolOptions().setHttp1MaxSize(100));
    upstream = TestUpstream.start(vertx, "up");
    upstream.handler = req -> {
      arrivals.add(req.path() + (req.getHeader("X-Client") == null ? "" : " " + req.getHeader("X-Client")));
      if (req.path().startsWith("/stream")) {
        req.response().setChunked(true).putHeader("Content-Type", "text/event-stream").end("data: hello\n\n");
      } else {
        held.add(req);
      }
    };
  }

  /** One upstream taking one request at a time; /stream has queue events every 200 ms. */
  private FairwayOptions options() {
    FairwayOptions o = Proxies.options(upstream);
    o.getUpstreams().get(0).setMaxConns(1);
    o.setRoutes(List.of(new RouteOptions("/stream", new TimeoutOptions()).setQueueEvents(true, 200)));
    return o;
  }

  private RequestOptions get(String uri) {
    return new RequestOptions().setMethod(HttpMethod.GET).setHost("127.0.0.1").setPort(fairway.proxyPort()).setURI(uri);
  }

  private void answerOne() {
    HttpServerRequest req = held.poll();
    assertThat(req).isNotNull();
    req.response().end("done");
  }

  /** Starts an SSE request; its text so far is in {@code got}, and the future completes with all of it at the end. */
  private Future<String> events(StringBuilder got) {
    Promise<String> ended = Promise.promise();
    client.request(get("/stream").putHeader("Accept", "text/event-stream")).compose(HttpClientRequest::send).onSuccess(resp -> {
      got.append("status ").append(resp.statusCode()).append('\n');
      resp.handler(b -> {
        synchronized (got) {
          got.append(b);
        }
      });
      resp.endHandler(v -> ended.tryComplete(got.toString()));
    }).onFailure(ended::tryFail);
    return ended.future();
  }

  private static List<JsonObject> queueEvents(String text) {
    List<JsonObject> events = new ArrayList<>();
    Matcher m = QUEUE_EVENT.matcher(text);
    while (m.find()) events.add(new JsonObject(m.group(1)));
    return events;
  }

  @Test
  void aWaitingEventStreamClientHearsItsPlaceCountDownThenTheUpstreamsEvents() throws Exception {
    fairway = Proxies.start(options());
    Future<Http.Reply> first = Http.send(client, get("/busy"), null);
    Http.await("the slot taken", Duration.ofSeconds(5), () -> held.size() == 1);
    Future<Http.Reply> second = Http.send(client, get("/busy"), null);
    Http.await("one waiting", Duration.ofSeconds(5), () -> fairway.registry().get("fairway.queue.length").gauge().value() == 1);
    StringBuilder got = new StringBuilder();
    Future<String> stream = events(got);
    Http.await("told it is second", Duration.ofSeconds(5), () -> queueEvents(snapshot(got)).size() == 1);
    assertThat(snapshot(got)).startsWith("status 200\n");
    assertThat(queueEvents(snapshot(got)).get(0)).isEqualTo(new JsonObject().put("position", 2).put("ahead", 1).putNull("eta_seconds"));

    answerOne();
    Http.await("told it is next", Duration.ofSeconds(5), () -> queueEvents(snapshot(got)).stream().anyMatch(e -> e.getInteger("position") == 1));
    answerOne();
    String all = stream.await(10, TimeUnit.SECONDS);
    assertThat(queueEvents(all)).extracting(e -> e.getInteger("position")).startsWith(2).endsWith(1).doesNotHaveDuplicates();
    assertThat(all).endsWith("data: hello\n\n");
    assertThat(first.await(5, TimeUnit.SECONDS).headers().get("Fairway-Queue-Wait")).as("never waited").isNull();
    assertThat(Double.parseDouble(second.await(5, TimeUnit.SECONDS).headers().get("Fairway-Queue-Wait"))).isPositive();
  }

  private static String snapshot(StringBuilder got) {
    synchronized (got) {
      return got.toString();
    }
  }

  @Test
  void anUpstreamFailureAfterTheStreamOpenedIsAnErrorEvent() throws Exception {
    fairway = Proxies.start(options());
    upstream.handler = req -> {
      if (req.path().startsWith("/stream")) req.response().setStatusCode(500).end("{\"error\":\"model crashed\"}");
      else held.add(req);
    };
    Http.send(client, get("/busy"), null);
    Http.await("the slot taken", Duration.ofSeconds(5), () -> held.size() == 1);
    StringBuilder got = new StringBuilder();
    Future<String> stream = events(got);
    Http.await("queued", Duration.ofSeconds(5), () -> queueEvents(snapshot(got)).size() == 1);
    answerOne();
    String all = stream.await(10, TimeUnit.SECONDS);
    assertThat(all).endsWith("event: error\ndata: {\"status\":500,\"reason\":\"upstream_status\"}\n\n").doesNotContain("model crashed");
  }

  @Test
  void aClientsBacklogAddsAtMostOneTurnToAnotherClientsRequest() {
    FairwayOptions o = options();
    o.getQueue().setFairness("queue-fairness", "header:X-Client");
    fairway = Proxies.start(o);
    Http.send(client, get("/busy"), null);
    Http.await("the slot taken", Duration.ofSeconds(5), () -> held.size() == 1);
    for (int i = 0; i < 50; i++) Http.send(client, get("/work").putHeader("X-Client", "A"), null);
    Http.await("A's 50 waiting", Duration.ofSeconds(5), () -> fairway.registry().get("fairway.queue.length").gauge().value() == 50);
    Http.send(client, get("/work").putHeader("X-Client", "B"), null);
    Http.await("B waiting", Duration.ofSeconds(5), () -> fairway.registry().get("fairway.queue.length").gauge().value() == 51);
    for (int slot = 0; slot < 2; slot++) {
      int before = arrivals.size();
      answerOne();
      Http.await("the next dispatched", Duration.ofSeconds(5), () -> arrivals.size() == before + 1);
    }
    assertThat(arrivals.subList(1, 3)).as("B within the next two slots").contains("/work B");
  }

  @Test
  void theWaitEstimateIsNullUntilTenRequestsFinishedThenWithinHalfOfTheTruth() throws Exception {
    upstream.handler = req -> {
      if (req.path().startsWith("/stream")) {
        vertx.setTimer(300, t -> req.response().setChunked(true).putHeader("Content-Type", "text/event-stream").end("data: done\n\n"));
      } else {
        held.add(req);
      }
    };
    fairway = Proxies.start(options());
    for (int i = 0; i < 10; i++) {
      Http.send(client, get("/stream"), null).await(5, TimeUnit.SECONDS); // ten requests of 300 ms: the history
    }
    StringBuilder a = new StringBuilder();
    StringBuilder b = new StringBuilder();
    StringBuilder c = new StringBuilder();
    Future<String> first = events(a); // dispatched at once: 300 ms at the upstream
    Http.await("the first at the upstream", Duration.ofSeconds(5), () -> upstream.hits.get() == 11);
    Future<String> second = events(b);
    Http.await("the second waiting", Duration.ofSeconds(5), () -> queueEvents(snapshot(b)).size() == 1);
    long queuedAt = System.nanoTime();
    Future<String> third = events(c);
    Http.await("the third waiting", Duration.ofSeconds(5), () -> queueEvents(snapshot(c)).size() == 1);
    double estimate = queueEvents(snapshot(c)).get(0).getDouble("eta_seconds");
    Http.await("the third dispatched", Duration.ofSeconds(10), () -> upstream.hits.get() == 13);
    double waited = (System.nanoTime() - queuedAt) / 1e9;
    assertThat(estimate).as("estimate %s s, waited %s s", estimate, waited).isBetween(waited * 0.5, waited * 1.5);
    Future.all(first, second, third).await(10, TimeUnit.SECONDS);
  }
}
