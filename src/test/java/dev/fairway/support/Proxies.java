package dev.fairway.support;

import dev.fairway.Fairway;
import dev.fairway.config.FairwayOptions;
import dev.fairway.config.HealthCheckOptions;
import dev.fairway.config.UpstreamOptions;

import java.io.IOException;
import java.net.ServerSocket;
import java.util.Arrays;
import java.util.List;

/** Starts Fairway in-process on OS-chosen ports, with fast health checks for tests. */
public final class Proxies {

  private Proxies() {
  }

  public static FairwayOptions options(TestUpstream... upstreams) {
    List<UpstreamOptions> ups = Arrays.stream(upstreams).map(TestUpstream::options).toList();
    FairwayOptions options = new FairwayOptions().setUpstreams(ups)
      .setHealth(new HealthCheckOptions().setPath("/", "/health").setIntervalMillis(100).setTimeoutMillis(500).setRise(1).setFall(1));
    options.getListen().setHost("127.0.0.1").setPort(0);
    options.getAdmin().setPort(0);
    options.getProcess().setInstances(1);
    options.getAccessLog().setDestination("off");
    // the proxy tests run a second time with Fairway's own HTTP/1.1 path off (the surefire execution "vertx-http1")
    String direct = System.getProperty("fairway.test.direct-http1");
    if (direct != null) options.getListen().setDirectHttp1(Boolean.parseBoolean(direct));
    return options;
  }

  /** Whether the proxies these tests start hold connections on the direct HTTP/1.1 path (the default) or Vert.x's. */
  public static boolean directHttp1() {
    return !"false".equals(System.getProperty("fairway.test.direct-http1"));
  }

  /**
   * Options for one upstream at 127.0.0.1:{@code port} without health checks: a raw-socket or scripted upstream
   * answers only the requests a test sends.
   */
  public static FairwayOptions toUncheckedUpstream(int port) {
    FairwayOptions options = options().setUpstreams(List.of(new UpstreamOptions("127.0.0.1", port)));
    options.getHealth().setEnabled(false);
    return options;
  }

  public static Fairway start(FairwayOptions options) {
    return Fairway.start(options.validate(), false).await();
  }

  /** A port that was free a moment ago, for tests that need several proxy instances to share one known port. */
  public static int freePort() {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * A free port below Linux's ephemeral range (32768 and up), for a port a child process binds a while after it is
   * chosen (a cluster node's member port): one chosen in that range could meanwhile be taken by an outgoing connection.
   */
  public static int portBelowEphemeral() {
    java.util.Random random = new java.util.Random();
    while (true) {
      int port = 20_000 + random.nextInt(12_000);
      try (ServerSocket s = new ServerSocket(port, 1, java.net.InetAddress.getLoopbackAddress())) {
        return port;
      } catch (IOException taken) {
        // try another
      }
    }
  }
}
