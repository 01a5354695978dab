package dev.fairway.config;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ConfigTest {

  private static FairwayOptions parse(String yaml) {
    return new FairwayOptions(ConfigLoader.parseYaml("test.yaml", yaml));
  }

  @Test
  void shippedConfigTranslatesTheUsualNginxSetupForSeveralFlaskInstances() {
    FairwayOptions o = ConfigLoader.load(Path.of("conf/fairway.yaml")).validate();
    assertThat(o.getListen().getPort()).isEqualTo(8080);
    assertThat(o.getUpstreams()).extracting(UpstreamOptions::id)
      .containsExactly("127.0.0.1:5000", "127.0.0.1:5001", "127.0.0.1:5002");
    assertThat(o.getStrategy()).isEqualTo(StrategyName.ROUND_ROBIN);
    assertThat(o.getCluster().isEnabled()).as("a single node unless asked").isFalse();
    assertThat(o.getHealth().getPath()).isEqualTo("/api/system/health");
    assertThat(o.getTimeouts().getConnectMillis()).isEqualTo(60_000);
    assertThat(o.getTimeouts().getReadMillis()).isEqualTo(1_800_000);
    assertThat(o.getTimeouts().getSendMillis()).isEqualTo(1_800_000);
    assertThat(o.getRoutes()).singleElement().satisfies(r -> {
      assertThat(r.getPath()).isEqualTo("/api/system/health");
      assertThat(r.getTimeouts().getConnectMillis()).isEqualTo(1_000);
      assertThat(r.getTimeouts().getReadMillis()).isEqualTo(1_000);
      assertThat(r.getTimeouts().getSendMillis()).isEqualTo(1_000);
    });
  }

  @Test
  void durationsAcceptUnitsAndBareSeconds() {
    assertThat(Durations.parseMillis("k", "500ms")).isEqualTo(500);
    assertThat(Durations.parseMillis("k", "5s")).isEqualTo(5_000);
    assertThat(Durations.parseMillis("k", "30m")).isEqualTo(1_800_000);
    assertThat(Durations.parseMillis("k", "1h")).isEqualTo(3_600_000);
    assertThat(Durations.parseMillis("k", 1800)).isEqualTo(1_800_000);
    assertThatThrownBy(() -> Durations.parseMillis("read-timeout", "-5s"))
      .hasMessage("read-timeout: -5s (expected: a duration such as 500ms, 5s, 30m or 1h)");
  }

  @Test
  void routesInheritTopLevelTimeouts() {
    FairwayOptions o = parse("""
      read-timeout: 10m
      routes:
        - path: /api
          connect-timeout: 2s
      """);
    assertThat(o.getRoutes().get(0).getTimeouts().getReadMillis()).isEqualTo(600_000);
    assertThat(o.getRoutes().get(0).getTimeouts().getConnectMillis()).isEqualTo(2_000);
  }

  @Test
  void upstreamsAcceptStringsAndMappings() {
    FairwayOptions o = parse("""
      upstreams:
        - 127.0.0.1:5000,weight=3
        - {address: "[::1]:5001", weight: 2}
      """);
    assertThat(o.getUpstreams()).extracting(UpstreamOptions::id).containsExactly("127.0.0.1:5000", "[::1]:5001");
    assertThat(o.getUpstreams()).extracting(UpstreamOptions::getWeight).containsExactly(3, 2);
  }

  @Test
  void unknownKeyIsNamedWithTheKnownOnes() {
    assertThatThrownBy(() -> parse("health:\n  intervall: 5s\n"))
      .isInstanceOf(ConfigException.class)
      .hasMessage("health.intervall: unknown key (expected: one of [capacity-field, capacity-header, enabled, expected-status, fail-on-status, fail-timeout, "
        + "fall, host, initial-state, interval, max-ejection-time, max-fails, path, rise, timeout])");
  }

  @Test
  void anUnknownTopLevelKeyIsRejectedWithEverySectionsKeys() {
    assertThatThrownBy(() -> parse("queue-sise: 5\n"))
      .hasMessageStartingWith("queue-sise: unknown key (expected: one of [")
      .hasMessageContaining("access-log-format").hasMessageContaining("client-ip-header").hasMessageContaining("listen")
      .hasMessageContaining("pool-size").hasMessageContaining("queue-size").hasMessageContaining("read-timeout")
      .hasMessageContaining("retry-buffer").hasMessageContaining("upstreams");
  }

  /** A reload publishes the config as JSON and every role rebuilds it: nothing may be lost on the way. */
  @Test
  void everySectionSurvivesTheJsonRoundTripOfAReload() {
    FairwayOptions o = parse("""
      listen: {host: 127.0.0.2, port: 8081}
      admin: {host: 127.0.0.3, port: 9902, token: secret}
      tls: {cert: /c.pem, key: /k.pem}
      http2-cleartext: true
      websocket-compression: true
      access-log: /tmp/x.log
      access-log-format: json
      access-log-max-size: 2m
      access-log-compress: true
      client-header-timeout: 3s
      client-keepalive-timeout: 4s
      trusted-proxies: [10.0.0.0/8]
      client-ip-header: CF-Connecting-IP
      underscores-in-headers: allow
      queue-size: 7
      queue-timeout: 8s
      retries: 3
      retry-buffer: 1024
      retry-timeout: 9s
      panic: try-all
      instances: 2
      pool-size: 10
      shutdown-timeout: 11s
      watch-config: false
      metrics: false
      error-log: /tmp/e.log
      log-level: debug
      strategy: hash
      hash-key: header:X-User
      upstreams: [127.0.0.1:5000]
      read-timeout: 12s
      max-body-size: 1m
      health: {path: /h, interval: 2s}
      max-connections: 1000
      max-client-connections: 20
      release-memory-after: 5m
      rate-limit: {rate: 100/m, burst: 10}
      min-upload-rate: 1k/s
      routes: [{path: /api, read-timeout: 13s, rate-limit: {rate: 2/s, key: "header:X-Api-Key"}, min-upload-rate: {rate: 2k/s, window: 5s}}]
      """);
    FairwayOptions back = new FairwayOptions(o.toJson());
    assertThat(back.toJson()).isEqualTo(o.toJson());
    assertThat(back.getAdmin().getToken()).isEqualTo("secret");
    assertThat(back.getClients().isDropUnderscoreHeaders()).isFalse();
    assertThat(back.getRetry().isPanicTryAll()).isTrue();
    assertThat(back.getQueue().getSize()).isEqualTo(7);
    assertThat(back.getProcess().getLogLevel()).isEqualTo("debug");
    assertThat(back.getAccessLog().getFormat()).isEqualTo("json");
    assertThat(back.getRoutes().get(0).getTimeouts().getReadMillis()).isEqualTo(13_000);
    assertThat(back.getClients().getMaxClientConnections()).isEqualTo(20);
    assertThat(back.getProcess().getReleaseMemoryAfterMillis()).isEqualTo(300_000);
    assertThat(back.getLimits().getBurst()).isEqualTo(10);
    RequestLimitOptions route = back.getRoutes().get(0).getLimits();
    assertThat(route.getRatePerSecond()).isEqualTo(2.0);
    assertThat(route.getKey()).isEqualTo("header:X-Api-Key");
    assertThat(route.getMinUploadBytesPerSecond()).isEqualTo(2048);
    assertThat(route.getUploadWindowMillis()).isEqualTo(5_000);
  }

  @Test
  void routesInheritTheTopLevelLimitsAndBadLimitsNameTheirKey() {
    FairwayOptions o = parse("rate-limit: {rate: 5/s}\nroutes: [{path: /a}, {path: /b, rate-limit: {rate: 1/m}}]\n");
    assertThat(o.getRoutes().get(0).getLimits().getRatePerSecond()).isEqualTo(5.0);
    assertThat(o.getRoutes().get(0).getLimits().getBurst()).isEqualTo(5);
    assertThat(o.getRoutes().get(1).getLimits().getRatePerSecond()).isEqualTo(1.0 / 60);
    assertThatThrownBy(() -> parse("rate-limit: {rate: fast}\n"))
      .hasMessage("rate-limit.rate: fast (expected: requests per second, minute or hour, e.g. 10/s or 100/m)");
    assertThatThrownBy(() -> parse("rate-limit: {rate: 5/s, key: cookie}\n")).hasMessage("rate-limit.key: cookie (expected: client-ip or header:NAME)");
    assertThatThrownBy(() -> parse("max-client-connections: -1\n"))
      .hasMessage("max-client-connections: -1 (expected: a whole number from 0 to 10000000)");
  }

  @Test
  void aReloadNamesTheChangedKeysThatNeedARestartAndOnlyThose() {
    FairwayOptions running = parse("upstreams: [127.0.0.1:5000]\n");
    assertThat(running.restartNeeded(parse("upstreams: [127.0.0.1:5001]\nretries: 5\nqueue-timeout: 1s\nread-timeout: 5s\n"))).isEmpty();
    assertThat(running.restartNeeded(parse("listen: {port: 81}\nadmin: {token: t}\nqueue-size: 1\npool-size: 2\n"
      + "http2-cleartext: true\nwebsocket-compression: true\nupstream-tls: {verify-host: false}\nhealth: {enabled: false}\n")))
      .containsExactlyInAnyOrder("listen", "admin", "queue-size", "pool-size", "http2-cleartext", "websocket-compression",
        "upstream-tls", "health.enabled");
  }

  @Test
  void routesInheritTheTopLevelJobsBlockAndSetTheirOwn() {
    FairwayOptions o = parse("""
      jobs: {dir: /var/spool/fairway, max-size: 2g, retention: 1h, key-scope: client-ip}
      routes:
        - {path: /a}
        - {path: /process, jobs: {enabled: true, on-disconnect: cancel, sse-ids: off}}
      """);
    assertThat(o.anyJobs()).isTrue();
    assertThat(o.getJobs().isEnabled()).isFalse();
    assertThat(o.getJobs().getMaxSize()).isEqualTo(2L << 30);
    assertThat(o.getJobs().getRetentionMillis()).isEqualTo(3_600_000);
    assertThat(o.getRoutes().get(0).getJobs()).as("inherits the top level's").isNull();
    JobOptions route = o.getRoutes().get(1).getJobs();
    assertThat(route.isEnabled()).isTrue();
    assertThat(route.isKeepOnDisconnect()).isFalse();
    assertThat(route.isSseIds()).isFalse();
    assertThat(route.getKeyScope()).as("inherited").isEqualTo("client-ip");
    FairwayOptions back = new FairwayOptions(o.toJson());
    assertThat(back.getRoutes().get(1).getJobs().routeJson()).isEqualTo(route.routeJson());
    assertThat(back.getJobs().toJson()).isEqualTo(o.getJobs().toJson());
    assertThat(parse("upstreams: [127.0.0.1:5000]\n").restartNeeded(o)).contains("jobs.dir", "jobs.max-size", "jobs.enabled");
  }

  @Test
  void queueEventsFairnessAndHeartbeatsAreReadAndBadValuesNamed() {
    FairwayOptions o = parse("queue-fairness: header:X-User\nsse-heartbeat: 20s\n"
      + "routes: [{path: /chat, queue-events: true, queue-events-interval: 2s, sse-heartbeat: 0}]\n");
    assertThat(o.getQueue().getFairness()).isEqualTo("header:X-User");
    assertThat(o.getTimeouts().getSseHeartbeatMillis()).isEqualTo(20_000);
    assertThat(o.getRoutes().get(0).isQueueEvents()).isTrue();
    assertThat(o.getRoutes().get(0).getQueueEventsIntervalMillis()).isEqualTo(2_000);
    assertThat(o.getRoutes().get(0).getTimeouts().getSseHeartbeatMillis()).isZero();
    assertThat(new FairwayOptions(o.toJson()).toJson()).isEqualTo(o.toJson());
    assertThat(parse("{}").getQueue().getFairness()).isEqualTo("client-ip");
    assertThat(parse("{}").getTimeouts().getSseHeartbeatMillis()).isEqualTo(15_000);
    assertThatThrownBy(() -> parse("queue-fairness: round-robin\n"))
      .hasMessage("queue-fairness: round-robin (expected: client-ip, header:NAME or off)");
    assertThatThrownBy(() -> parse("routes: [{path: /a, queue-events: yes please}]\n"))
      .hasMessage("routes[0].queue-events: yes please (expected: true or false)");
    assertThatThrownBy(() -> parse("upstreams: [127.0.0.1:5000]\nqueue-size: 0\nroutes: [{path: /a, queue-events: true}]\n").validate())
      .hasMessage("routes[0].queue-events: true (expected: a queue to wait in: queue-size above 0, or queue-events off)");
  }

  @Test
  void capacityReportsAreReadFromAPointerOrAHeaderAndBadOnesNamed() {
    FairwayOptions o = parse("health: {path: /h, capacity-field: /capacity, capacity-header: X-Capacity}\n");
    assertThat(o.getHealth().getCapacityField()).isEqualTo("/capacity");
    assertThat(o.getHealth().getCapacityHeader()).isEqualTo("X-Capacity");
    assertThat(new FairwayOptions(o.toJson()).getHealth().getCapacityField()).isEqualTo("/capacity");
    assertThatThrownBy(() -> parse("health: {capacity-field: capacity}\n"))
      .hasMessage("health.capacity-field: capacity (expected: a JSON pointer into the health answer, such as /capacity)");
    assertThatThrownBy(() -> parse("health: {capacity-header: 'X Capacity'}\n"))
      .hasMessage("health.capacity-header: X Capacity (expected: a header name such as X-Capacity)");
  }

  @Test
  void badJobsKeysNameTheKeyAndTheFix() {
    assertThatThrownBy(() -> parse("routes: [{path: /a, jobs: {dir: /tmp/x}}]\n"))
      .hasMessage("routes[0].jobs.dir: /tmp/x (expected: no value here: the spool's dir is set in the top-level jobs block)");
    assertThatThrownBy(() -> parse("jobs: {on-disconnect: later}\n")).hasMessage("jobs.on-disconnect: later (expected: keep or cancel)");
    assertThatThrownBy(() -> parse("jobs: {key-scope: cookie}\n")).hasMessage("jobs.key-scope: cookie (expected: header:NAME, client-ip or none)");
    assertThatThrownBy(() -> parse("jobs: {max-size: 10}\n")).hasMessage("jobs.max-size: 10 (expected: a size of at least 1k, such as 1g)");
    assertThatThrownBy(() -> parse("jobs: {prefix: /jobs/}\n"))
      .hasMessage("jobs.prefix: /jobs/ (expected: a path such as /.fairway/jobs (no trailing slash))");
  }

  @Test
  void wrongTypesAndRangesNameTheKey() {
    assertThatThrownBy(() -> parse("listen:\n  port: 70000\n")).hasMessage("listen.port: 70000 (expected: a whole number from 0 to 65535)");
    assertThatThrownBy(() -> parse("listen:\n  port: eighty\n")).hasMessage("listen.port: eighty (expected: a whole number from 0 to 65535)");
    assertThatThrownBy(() -> parse("read-timeout: -1s\n")).hasMessageStartingWith("read-timeout: -1s");
    assertThatThrownBy(() -> parse("connect-timeout: 0s\n")).hasMessage("connect-timeout: 0s (expected: a duration greater than zero)");
    assertThatThrownBy(() -> parse("upstreams:\n  - {address: 127.0.0.1:5000, weight: 0}\n"))
      .hasMessage("upstreams[0].weight: 0 (expected: a whole number from 1 to 1000)");
    assertThatThrownBy(() -> parse("upstreams:\n  - {address: 127.0.0.1:5000, protocol: h3}\n"))
      .hasMessage("upstreams[0].protocol: h3 (expected: http1, http2 or grpc)");
    assertThat(parse("upstreams: [\"127.0.0.1:50051,protocol=grpc\"]\n").getUpstreams().get(0).getProtocol()).isEqualTo("grpc");
    assertThat(parse("upstreams: [127.0.0.1:5000]\n").getUpstreams().get(0).getProtocol()).isEqualTo("http1");
    assertThatThrownBy(() -> parse("strategy: fastest\n"))
      .hasMessage("strategy: fastest (expected: one of round-robin, least-conn, ip-hash, hash, p2c, random)");
    assertThatThrownBy(() -> parse("upstreams:\n  - {address: 127.0.0.1:5000, max-conns: -1}\n"))
      .hasMessage("upstreams[0].max-conns: -1 (expected: a whole number from 0 to 1000000)");
    assertThatThrownBy(() -> parse("trusted-proxies: [10.0.0.0/33]\n"))
      .hasMessage("trusted-proxies[0]: 10.0.0.0/33 (expected: an IP network such as 10.0.0.0/8, 127.0.0.1 or ::1/128)");
    assertThatThrownBy(() -> parse("trusted-proxies: [cloudflare.com]\n")).hasMessageStartingWith("trusted-proxies[0]: cloudflare.com");
    assertThatThrownBy(() -> parse("hash-key: X-Session-Id\n"))
      .hasMessage("hash-key: X-Session-Id (expected: header:NAME or cookie:NAME, e.g. header:X-Session-Id)");
    assertThatThrownBy(() -> parse("queue-timeout: 0s\n")).hasMessage("queue-timeout: 0s (expected: a duration greater than zero)");
    assertThatThrownBy(() -> parse("routes:\n  - path: api\n")).hasMessage("routes[0].path: api (expected: a path prefix starting with /)");
  }

  @Test
  void bareOffInYamlTurnsTheAccessLogOff() {
    assertThat(parse("access-log: off\n").getAccessLog().getDestination()).isEqualTo("off");
    assertThat(parse("access-log: /var/log/fairway/access.log\n").getAccessLog().getDestination()).isEqualTo("/var/log/fairway/access.log");
  }

  @Test
  void accessLogRotationIsUncompressedAt100MiBUnlessConfigured() {
    FairwayOptions defaults = parse("access-log: /tmp/a.log\n");
    assertThat(defaults.getAccessLog().getMaxSize()).isEqualTo(100L << 20);
    assertThat(defaults.getAccessLog().isCompress()).isFalse();
    FairwayOptions set = parse("access-log-max-size: 20m\naccess-log-compress: true\n");
    assertThat(set.getAccessLog().getMaxSize()).isEqualTo(20L << 20);
    assertThat(set.getAccessLog().isCompress()).isTrue();
    assertThatThrownBy(() -> parse("access-log-max-size: 10\n"))
      .hasMessage("access-log-max-size: 10 (expected: a size of at least 1k, such as 100m)");
    assertThat(defaults.getAccessLog().same(set.getAccessLog())).as("a reload opens the new log").isFalse();
    assertThat(defaults.getAccessLog().same(parse("access-log: /tmp/a.log\n").getAccessLog())).isTrue();
    assertThat(defaults.restartNeeded(set)).as("no restart for the access log").isEmpty();
  }

  @Test
  void hashStrategyNeedsAKey() {
    assertThatThrownBy(() -> parse("strategy: hash\nupstreams: [127.0.0.1:5000]\n").validate())
      .hasMessage("hash-key: missing (expected: header:NAME or cookie:NAME with strategy hash (--hash-key))");
    assertThat(parse("strategy: hash\nhash-key: cookie:sid\nupstreams: [127.0.0.1:5000]\n").validate().getHashKey())
      .isEqualTo(new HashKey(HashKey.Source.COOKIE, "sid"));
  }

  @Test
  void upstreamSpecCarriesCapacityBackupAndDown() {
    UpstreamOptions u = UpstreamOptions.parse("--upstream", "127.0.0.1:5000,weight=2,max-conns=1,backup");
    assertThat(u.getWeight()).isEqualTo(2);
    assertThat(u.getMaxConns()).isEqualTo(1);
    assertThat(u.isBackup()).isTrue();
    assertThat(u.isDown()).isFalse();
    assertThat(UpstreamOptions.parse("--upstream", "127.0.0.1:5000,down").isDown()).isTrue();
    assertThatThrownBy(() -> UpstreamOptions.parse("--upstream", "127.0.0.1:5000,max-conns=-2"))
      .hasMessage("--upstream: 127.0.0.1:5000,max-conns=-2 (expected: max-conns=N with N of 0 (no limit) or more)");
    assertThatThrownBy(() -> UpstreamOptions.parse("--upstream", "127.0.0.1:5000,weight=0"))
      .hasMessage("--upstream: 127.0.0.1:5000,weight=0 (expected: weight=N with N from 1 to 1000)");
  }

  @Test
  void cidrMatchesByPrefix() {
    Cidr net = Cidr.parse("k", "10.1.0.0/16");
    assertThat(net.contains(Cidr.literal("10.1.200.3"))).isTrue();
    assertThat(net.contains(Cidr.literal("10.2.0.1"))).isFalse();
    assertThat(net.contains(Cidr.literal("::1"))).isFalse();
    assertThat(Cidr.parse("k", "::1").contains(Cidr.literal("::1"))).isTrue();
    assertThat(Cidr.parse("k", "0.0.0.0/0").contains(Cidr.literal("203.0.113.9"))).isTrue();
  }

  @Test
  void malformedUpstreamIsRejected() {
    assertThatThrownBy(() -> UpstreamOptions.parse("--upstream", "localhost")).hasMessageStartingWith("--upstream: localhost (expected: HOST:PORT");
    assertThatThrownBy(() -> UpstreamOptions.parse("--upstream", "localhost:99999")).hasMessageStartingWith("--upstream: localhost:99999");
    assertThatThrownBy(() -> UpstreamOptions.parse("--upstream", "h:1,wieght=2"))
      .hasMessage("--upstream: h:1,wieght=2 (expected: HOST:PORT[,weight=N][,max-conns=N][,backup][,down][,protocol=http1|http2|grpc])");
  }

  @Test
  void invalidYamlIsReportedWithTheFile() {
    assertThatThrownBy(() -> parse("listen: [unclosed\n")).hasMessageStartingWith("test.yaml: invalid YAML");
    assertThatThrownBy(() -> ConfigLoader.parseYaml("x.yaml", "- a\n- b\n")).hasMessageStartingWith("x.yaml: [a, b] (expected: a YAML mapping");
  }

  @Test
  void noUpstreamIsAnError() {
    assertThatThrownBy(() -> new FairwayOptions().validate()).hasMessageStartingWith("upstreams: none (expected: at least one upstream");
  }
}
