package dev.fairway.proxy;

import dev.fairway.config.FairwayOptions;
import dev.fairway.support.Http;
import dev.fairway.support.Proxies;
import dev.fairway.support.ThreeUpstreams;
import io.vertx.core.Future;
import io.vertx.core.http.HttpClient;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class BalancingTest extends ThreeUpstreams {


  @BeforeEach
  void setUp() {
    client = client(25);
  }

  private List<String> sendConcurrently(int port, int n) {
    List<Future<Http.Reply>> replies = new ArrayList<>();
    for (int i = 0; i < n; i++) replies.add(Http.get(client, port, "/work"));
    Future.all(replies).await();
    return replies.stream().map(f -> f.result().status() + " " + f.result().body()).toList();
  }

  @Test
  void roundRobinIsExactOverThreeHundredRequests() {
    fairway = Proxies.start(Proxies.options(a, b, c).setHealth(Proxies.options().getHealth().setEnabled(false)));
    for (int i = 0; i < 300; i++) {
      Http.get(client, fairway.proxyPort(), "/work").await();
    }
    assertThat(List.of(a.hits.get(), b.hits.get(), c.hits.get())).containsExactly(100, 100, 100);
  }

  @Test
  void roundRobinIsExactAcrossFourProxyInstances() {
    FairwayOptions options = Proxies.options(a, b, c).with(o -> o.getListen().setPort(Proxies.freePort())).with(o -> o.getProcess().setInstances(4));
    options.getHealth().setEnabled(false);
    fairway = Proxies.start(options);
    List<String> replies = sendConcurrently(fairway.proxyPort(), 300);
    assertThat(replies).allMatch(r -> r.startsWith("200 "));
    assertThat(List.of(a.hits.get(), b.hits.get(), c.hits.get())).containsExactly(100, 100, 100);
  }

  @Test
  void weightsAreRespected() {
    FairwayOptions options = Proxies.options(a, b, c);
    options.getUpstreams().get(0).setWeight(3);
    options.getHealth().setEnabled(false);
    fairway = Proxies.start(options);
    sendConcurrently(fairway.proxyPort(), 500);
    assertThat(List.of(a.hits.get(), b.hits.get(), c.hits.get())).containsExactly(300, 100, 100);
  }
}
