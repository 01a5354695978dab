package dev.fairway.proxy;

import dev.fairway.support.FairwayTest;
import dev.fairway.config.ConfigException;
import dev.fairway.config.ConfigLoader;
import dev.fairway.config.FairwayOptions;
import dev.fairway.support.Http;
import dev.fairway.support.Proxies;
import dev.fairway.support.TestUpstream;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Several upstream groups, each with its own strategy, chosen by route. */
class GroupsTest extends FairwayTest {



  private static String yaml(TestUpstream web1, TestUpstream web2, TestUpstream llm1, TestUpstream llm2) {
    return """
      listen: {host: 127.0.0.1, port: 0}
      admin: {port: 0}
      instances: 1
      access-log: off
      health: {path: /health, interval: 100ms, rise: 1, fall: 1}
      upstreams: [%s, %s]
      groups:
        llm:
          strategy: ip-hash
          upstreams: [%s, %s]
      routes:
        - path: /api/generate
          group: llm
      """.formatted(web1.id(), web2.id(), llm1.id(), llm2.id());
  }

  @Test
  void routesSendRequestsToTheirGroupWithTheGroupsStrategy(Vertx vertx) {
    TestUpstream web1 = TestUpstream.start(vertx, "web1"), web2 = TestUpstream.start(vertx, "web2");
    TestUpstream llm1 = TestUpstream.start(vertx, "llm1"), llm2 = TestUpstream.start(vertx, "llm2");
    fairway = Proxies.start(new FairwayOptions(ConfigLoader.parseYaml("t", yaml(web1, web2, llm1, llm2))));
    HttpClient client = vertx.createHttpClient();
    Set<String> web = new HashSet<>();
    Set<String> llm = new HashSet<>();
    for (int i = 0; i < 6; i++) {
      web.add(Http.get(client, fairway.proxyPort(), "/index.html").await().body());
      llm.add(Http.get(client, fairway.proxyPort(), "/api/generate").await().body());
    }
    assertThat(web).containsExactlyInAnyOrder("web1", "web2");
    assertThat(llm).as("ip-hash: one client, one upstream of the llm group").hasSize(1).isSubsetOf("llm1", "llm2");
    JsonObject stats = new JsonObject(Http.get(client, fairway.adminPort(), "/stats").await().body());
    assertThat(stats.getJsonArray("upstreams").stream().map(o -> ((JsonObject) o).getString("group")))
      .containsExactly("default", "default", "llm", "llm");
  }

  @Test
  void groupMistakesAreNamed() {
    assertThatThrownBy(() -> new FairwayOptions(ConfigLoader.parseYaml("t", """
      upstreams: [127.0.0.1:5000]
      routes: [{path: /x, group: llm}]
      """)).validate()).isInstanceOf(ConfigException.class).hasMessage("routes[0].group: llm (expected: one of [default])");
    assertThatThrownBy(() -> new FairwayOptions(ConfigLoader.parseYaml("t", """
      upstreams: [127.0.0.1:5000]
      groups: {llm: {upstreams: [127.0.0.1:5000]}}
      """)).validate()).hasMessage("groups.llm: 127.0.0.1:5000 (expected: each upstream address in one group only)");
    assertThatThrownBy(() -> new FairwayOptions(ConfigLoader.parseYaml("t", """
      upstreams: [127.0.0.1:5000]
      groups: {llm: {strategy: hash, upstreams: [127.0.0.1:5001]}}
      """)).validate()).hasMessage("groups.llm.hash-key: missing (expected: header:NAME or cookie:NAME with strategy hash)");
    assertThatThrownBy(() -> new FairwayOptions(ConfigLoader.parseYaml("t", "groups: {llm: {upstreams: []}}\nupstreams: [127.0.0.1:5000]\n")).validate())
      .hasMessage("groups.llm.upstreams: none (expected: at least one upstream in the group)");
  }
}
