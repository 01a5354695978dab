package dev.fairway.proxy;

import dev.fairway.config.Cidr;
import dev.fairway.config.FairwayOptions;
import dev.fairway.config.HashKey;
import dev.fairway.config.StrategyName;
import dev.fairway.support.Http;
import dev.fairway.support.Proxies;
import dev.fairway.support.TestUpstream;
import dev.fairway.support.ThreeUpstreams;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/** ip-hash and hash stickiness with real source addresses, and who the client is behind trusted proxies. */
class StickyAndClientAddressTest extends ThreeUpstreams {

  @BeforeEach
  void setUp() {
    for (TestUpstream u : List.of(a, b, c)) {
      u.handler = req -> req.response().end(u.name + " " + req.getHeader("X-Real-IP"));
    }
  }

  /** One request over a plain socket bound to {@code localAddress}: every address in 127.0.0.0/8 is loopback. */
  private String getFrom(String localAddress) {
    try (java.net.Socket socket = new java.net.Socket("127.0.0.1", fairway.proxyPort(), java.net.InetAddress.getByName(localAddress), 0)) {
      socket.setSoTimeout(5_000);
      socket.getOutputStream().write("GET /x HTTP/1.1\r\nHost: fairway\r\nConnection: close\r\n\r\n".getBytes());
      String raw = new String(socket.getInputStream().readAllBytes());
      return raw.substring(raw.indexOf("\r\n\r\n") + 4);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private String get(HttpClient client, RequestOptions extra) {
    return Http.send(client, extra.setMethod(HttpMethod.GET).setHost("127.0.0.1").setPort(fairway.proxyPort()).setURI("/x"), null).await().body();
  }

  private Map<String, String> upstreamPerClient() {
    Map<String, String> chosen = new HashMap<>();
    for (int host = 2; host <= 21; host++) {
      String address = "127.0.0." + host;
      for (int i = 0; i < 3; i++) {
        String body = getFrom(address);
        assertThat(body).endsWith(" " + address);
        String upstream = body.split(" ")[0];
        assertThat(chosen.getOrDefault(address, upstream)).as(address + " sticks").isEqualTo(upstream);
        chosen.put(address, upstream);
      }
    }
    return chosen;
  }

  @Test
  void ipHashKeepsEachOfTwentyClientsOnOneUpstreamAndUsesThemAll() {
    FairwayOptions o = Proxies.options(a, b, c).setStrategy(StrategyName.IP_HASH);
    fairway = Proxies.start(o);
    Map<String, String> before = upstreamPerClient();
    assertThat(new HashSet<>(before.values())).containsExactlyInAnyOrder("a", "b", "c");

    // b goes down: only b's clients move, and they come back when it recovers
    b.healthy = false;
    Http.await("b out", Duration.ofSeconds(5), () -> fairway.registry().get("fairway.upstream.up").tag("upstream", b.id()).gauge().value() == 0);
    Map<String, String> during = upstreamPerClient();
    before.forEach((client, up) -> {
      if (!up.equals("b")) assertThat(during.get(client)).as(client).isEqualTo(up);
      else assertThat(during.get(client)).isIn("a", "c");
    });
    b.healthy = true;
    Http.await("b back", Duration.ofSeconds(5), () -> fairway.registry().get("fairway.upstream.up").tag("upstream", b.id()).gauge().value() == 1);
    assertThat(upstreamPerClient()).isEqualTo(before);
  }

  @Test
  void hashOnAHeaderIsStickyAndFallsBackToRoundRobinWithoutIt() {
    FairwayOptions o = Proxies.options(a, b, c).setStrategy(StrategyName.HASH).setHashKey(HashKey.parse("k", "header:X-Session-Id"));
    o.getHealth().setEnabled(false);
    fairway = Proxies.start(o);
    HttpClient client = vertx.createHttpClient();
    Set<String> used = new HashSet<>();
    for (int s = 0; s < 30; s++) {
      String first = get(client, new RequestOptions().putHeader("X-Session-Id", "session-" + s)).split(" ")[0];
      for (int i = 0; i < 3; i++) {
        assertThat(get(client, new RequestOptions().putHeader("X-Session-Id", "session-" + s))).startsWith(first + " ");
      }
      used.add(first);
    }
    assertThat(used).hasSize(3);
    String post = Http.send(client, new RequestOptions().setMethod(HttpMethod.POST).setHost("127.0.0.1")
      .setPort(fairway.proxyPort()).setURI("/x").putHeader("x-session-id", "session-0"), "body").await().body();
    String session0 = get(client, new RequestOptions().putHeader("X-Session-Id", "session-0")).split(" ")[0];
    assertThat(post).as("a POST, through Vert.x, hashes the same").startsWith(session0 + " ");
    Set<String> rotation = new HashSet<>();
    for (int i = 0; i < 3; i++) rotation.add(get(client, new RequestOptions()).split(" ")[0]);
    assertThat(rotation).containsExactlyInAnyOrder("a", "b", "c");
  }

  @Test
  void hashOnACookie() {
    FairwayOptions o = Proxies.options(a, b, c).setStrategy(StrategyName.HASH).setHashKey(HashKey.parse("k", "cookie:sid"));
    o.getHealth().setEnabled(false);
    fairway = Proxies.start(o);
    HttpClient client = vertx.createHttpClient();
    long direct = DirectHttp1.taken();
    String first = get(client, new RequestOptions().putHeader("Cookie", "theme=dark; sid=abc123")).split(" ")[0];
    for (int i = 0; i < 6; i++) {
      assertThat(get(client, new RequestOptions().putHeader("Cookie", "sid=abc123"))).startsWith(first + " ");
    }
    assertThat(DirectHttp1.taken() - direct).as("the GETs, on the direct HTTP/1.1 path when it is on")
      .isEqualTo(Proxies.directHttp1() ? 7 : 0);
    String post = Http.send(client, new RequestOptions().setMethod(HttpMethod.POST).setHost("127.0.0.1")
      .setPort(fairway.proxyPort()).setURI("/x").putHeader("Cookie", "sid=abc123"), "body").await().body();
    assertThat(post).as("a POST, through Vert.x, hashes the same").startsWith(first + " ");
  }

  @Test
  void spoofedForwardedForFromAnUntrustedPeerIsIgnored() {
    fairway = Proxies.start(Proxies.options(a));
    String body = get(vertx.createHttpClient(), new RequestOptions().putHeader("X-Forwarded-For", "203.0.113.66"));
    assertThat(body).isEqualTo("a 127.0.0.1");
  }

  @Test
  void trustedPeerForwardedForGivesTheRightmostUntrustedHop() {
    FairwayOptions o = Proxies.options(a).with(x -> x.getClients().setTrustedProxies(List.of(Cidr.parse("t", "127.0.0.0/8"), Cidr.parse("t", "10.0.0.0/8"))));
    fairway = Proxies.start(o);
    // 198.51.100.1 is what the client claims; 203.0.113.9 is who connected to our trusted 10.0.0.2
    String body = get(vertx.createHttpClient(), new RequestOptions().putHeader("X-Forwarded-For", "198.51.100.1, 203.0.113.9, 10.0.0.2"));
    assertThat(body).isEqualTo("a 203.0.113.9");
  }

  @Test
  void trustedPeerClientIpHeaderIsUsedLikeCloudflaresAndIpHashFollowsIt() {
    FairwayOptions o = Proxies.options(a, b, c).setStrategy(StrategyName.IP_HASH)
      .with(x -> x.getClients().setTrustedProxies(List.of(Cidr.parse("t", "127.0.0.1")))).with(x -> x.getClients().setClientIpHeader("CF-Connecting-IP"));
    fairway = Proxies.start(o);
    HttpClient client = vertx.createHttpClient();
    Set<String> used = new HashSet<>();
    long direct = DirectHttp1.taken();
    for (int i = 0; i < 30; i++) {
      String ip = "198.51.100." + i;
      String body = get(client, new RequestOptions().putHeader("CF-Connecting-IP", ip));
      assertThat(body).endsWith(" " + ip);
      used.add(body.split(" ")[0]);
    }
    assertThat(used).as("thirty tunnel clients from one peer still spread").hasSize(3);
    assertThat(DirectHttp1.taken() - direct).as("taken by the direct HTTP/1.1 path when it is on")
      .isEqualTo(Proxies.directHttp1() ? 30 : 0);
  }
}
