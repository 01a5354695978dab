package dev.fairway.metrics;

import dev.fairway.Fairway;
import dev.fairway.support.HeadlessChromium;
import dev.fairway.support.Http;
import dev.fairway.support.Proxies;
import dev.fairway.support.TestUpstream;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/** The dashboard in a real browser: it lists the upstreams and shows a state change without a reload. */
@ExtendWith(VertxExtension.class)
class DashboardBrowserIT {

  @TempDir
  Path spool;

  private static final String TABLE = "document.querySelector('#upstreams tbody').innerText";

  @Test
  void dashboardShowsEachUpstreamAndAStateChangeWithoutReloading(Vertx vertx) throws Exception {
    // CI installs Debian's chromium (.ci/run); elsewhere this test needs it too, but does not fail for lack of it
    Assumptions.assumeTrue(HeadlessChromium.installed() || "true".equals(System.getenv("CI")), "chromium not installed");
    TestUpstream a = TestUpstream.start(vertx, "a");
    TestUpstream b = TestUpstream.start(vertx, "b");
    Fairway fairway = Proxies.start(Proxies.options(a, b).with(o -> o.getJobs().setEnabled(true).setDir(spool)));
    HttpClient client = vertx.createHttpClient();
    for (int i = 0; i < 20; i++) Http.get(client, fairway.proxyPort(), "/x").await();
    String job = Http.get(client, fairway.proxyPort(), "/job").await().headers().get("Fairway-Job");
    try (HeadlessChromium chromium = HeadlessChromium.open(vertx, "http://127.0.0.1:" + fairway.adminPort() + "/")) {
      Http.await("both upstreams listed UP", Duration.ofSeconds(20), () -> {
        String table = chromium.evaluate(TABLE);
        return table.contains(a.id() + "\tUP") && table.contains(b.id() + "\tUP");
      });
      String loadedAt = chromium.evaluate("String(performance.timeOrigin)");

      b.healthy = false;
      Http.await("b shown DOWN", Duration.ofSeconds(20), () -> chromium.evaluate(TABLE).contains(b.id() + "\tDOWN"));
      assertThat(chromium.evaluate(TABLE)).contains(a.id() + "\tUP");
      assertThat(chromium.evaluate("String(performance.timeOrigin)")).as("same page, not reloaded").isEqualTo(loadedAt);
      assertThat(chromium.evaluate("document.getElementById('summary').innerText")).contains("1 of 2 upstreams up");
      Http.await("the job listed done", Duration.ofSeconds(20),
        () -> chromium.evaluate("document.querySelector('#jobs tbody').innerText").contains(job + "\tdone\t/"));
    } finally {
      fairway.close().await();
    }
  }

  @Test
  void aClusteredNodesDashboardListsTheMembers(Vertx vertx) throws Exception {
    Assumptions.assumeTrue(HeadlessChromium.installed() || "true".equals(System.getenv("CI")), "chromium not installed");
    TestUpstream a = TestUpstream.start(vertx, "a");
    int clusterPort = Proxies.portBelowEphemeral();
    Fairway fairway = Proxies.start(Proxies.options(a).with(o -> o.getCluster().setEnabled(true).setHost("127.0.0.1").setPort(clusterPort)));
    try (HeadlessChromium chromium = HeadlessChromium.open(vertx, "http://127.0.0.1:" + fairway.adminPort() + "/")) {
      Http.await("this node listed with its address", Duration.ofSeconds(20), () -> {
        String table = chromium.evaluate("document.querySelector('#cluster tbody').innerText");
        return table.contains("(this node)\t[127.0.0.1]:" + clusterPort) && table.contains(a.id());
      });
    } finally {
      fairway.close().await();
    }
  }
}
