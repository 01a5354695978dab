package dev.fairway.proxy;

import dev.fairway.config.ConfigLoader;
import dev.fairway.config.FairwayOptions;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** Route matching on its own: the longest prefix that fits method and host wins; the top level catches the rest. */
class RouteTableTest {

  private final RouteTable routes = new RouteTable(new FairwayOptions(ConfigLoader.parseYaml("t.yaml", """
    read-timeout: 30m
    routes:
      - {path: /api, read-timeout: 10m}
      - {path: /api/system/health, read-timeout: 1s}
      - {path: /api, methods: [POST], read-timeout: 20m}
      - {path: /api, host: docs.example.com, read-timeout: 5m}
    """)), new RateLimiters());

  private long readTimeoutOf(String path, String method, String host) {
    return routes.match(path, method, host).readMillis();
  }

  @Test
  void theLongestMatchingPrefixWins() {
    assertThat(readTimeoutOf("/api/system/health", "GET", null)).isEqualTo(1_000);
    assertThat(readTimeoutOf("/api/docs", "GET", null)).isEqualTo(600_000);
  }

  @Test
  void aRouteWithMethodsOrAHostMatchesOnlyThose() {
    assertThat(readTimeoutOf("/api/docs", "POST", null)).isEqualTo(1_200_000);
    assertThat(readTimeoutOf("/api/docs", "GET", "DOCS.example.com")).as("host compared without case").isEqualTo(300_000);
    assertThat(readTimeoutOf("/api/docs", "GET", "other.example.com")).isEqualTo(600_000);
  }

  @Test
  void anythingElseGetsTheTopLevelSettingsAsRouteSlash() {
    Route fallback = routes.match("/static/x.css", "GET", null);
    assertThat(fallback.prefix()).isEqualTo("/");
    assertThat(fallback.readMillis()).isEqualTo(1_800_000);
    assertThat(routes.match(null, "GET", null).prefix()).as("no path at all (a malformed target)").isEqualTo("/");
  }
}
