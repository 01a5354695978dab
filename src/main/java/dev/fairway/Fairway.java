package dev.fairway;

import dev.fairway.balancer.BalancerVerticle;
import dev.fairway.cli.FairwayCommand;
import dev.fairway.config.ConfigException;
import dev.fairway.config.FairwayOptions;
import dev.fairway.demo.DemoUpstreamVerticle;
import dev.fairway.health.HealthVerticle;
import dev.fairway.metrics.MetricsVerticle;
import dev.fairway.metrics.ProxyMetrics;
import dev.fairway.proxy.ProxyVerticle;
import dev.fairway.proxy.RequestQueue;
import io.micrometer.core.instrument.Gauge;
import dev.fairway.upstream.InFlightCounters;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.micrometer.MetricsDomain;
import io.vertx.micrometer.MicrometerMetricsFactory;
import io.vertx.micrometer.MicrometerMetricsOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;

import dev.fairway.config.Durations;
import dev.fairway.ops.ConfigReloader;
import dev.fairway.ops.ObservabilitySwitch;
import dev.fairway.ops.Logging;
import dev.fairway.ops.Lifecycle;
import dev.fairway.ops.PidFile;
import dev.fairway.ops.Signals;
import dev.fairway.ops.Supervision;
import io.vertx.core.json.JsonObject;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.function.Supplier;
import java.util.concurrent.CopyOnWriteArrayList;

/** Entry point: parse flags, load config, build Vert.x, deploy the four roles, and run until stopped. */
public final class Fairway {

  private static final Logger log = LoggerFactory.getLogger(Fairway.class);

  private final Vertx vertx;
  private final PrometheusMeterRegistry registry;
  private final FairwayOptions options;
  private final List<ProxyVerticle> proxies;
  private final InFlightCounters counters;
  private final Lifecycle lifecycle;
  private final ConfigReloader reloader;
  private final int proxyPort;
  private final int adminPort;
  private final ObservabilitySwitch observability;
  private Runnable stopSupervision = () -> { };

  private Fairway(Vertx vertx, PrometheusMeterRegistry registry, FairwayOptions options, List<ProxyVerticle> proxies,
                  InFlightCounters counters, Lifecycle lifecycle, ConfigReloader reloader, int adminPort, ObservabilitySwitch observability) {
    this.vertx = vertx;
    this.observability = observability;
    this.registry = registry;
    this.options = options;
    this.proxies = proxies;
    this.counters = counters;
    this.lifecycle = lifecycle;
    this.reloader = reloader;
    this.proxyPort = proxies.get(0).actualPort();
    this.adminPort = adminPort;
  }

  public static void main(String[] args) {
    FairwayCommand command = new FairwayCommand();
    CommandLine cli = new CommandLine(command);
    FairwayOptions options;
    try {
      cli.parseArgs(args);
      if (cli.isUsageHelpRequested()) {
        cli.usage(System.out);
        return;
      }
      if (cli.isVersionHelpRequested()) {
        cli.printVersionHelp(System.out);
        return;
      }
      options = command.toOptions();
    } catch (CommandLine.ParameterException e) {
      exit(2, e.getMessage() + " (see --help)");
      return;
    } catch (ConfigException e) {
      exit(2, e.getMessage());
      return;
    }
    try {
      if (command.pidFile() != null) PidFile.write(command.pidFile());
    } catch (ConfigException e) {
      exit(2, e.getMessage());
      return;
    }
    Logging.configure(options.getLogLevel(), options.getErrorLog());
    Fairway fairway;
    try {
      fairway = start(options, command.demo(), command.configFile() == null ? null : command::toOptions, command.configFile()).await();
    } catch (ConfigException e) {
      exit(2, e.getMessage()); // e.g. an access log file that cannot be written
      return;
    } catch (Exception e) {
      exit(1, "failed to start: " + e.getMessage());
      return;
    }
    Signals.install(() -> {
      try {
        // bounded: closing Vert.x can wait on a WebSocket whose close handshake never completes
        fairway.drainAndClose().await(options.getShutdownTimeoutMillis() + 5_000, java.util.concurrent.TimeUnit.MILLISECONDS);
      } catch (Exception e) {
        log.warn("stopped without a clean close: {}", e.toString());
      }
      System.exit(0);
    }, () -> fairway.reload("SIGHUP"));
  }

  private static void exit(int code, String message) {
    System.err.println("fairway: " + message);
    System.exit(code);
  }

  /** Builds Vert.x and deploys every role; the future completes once the proxy and admin ports are listening. */
  public static Future<Fairway> start(FairwayOptions options, boolean demo) {
    return start(options, demo, null, null);
  }

  /**
   * @param reloadFrom re-reads the config for a reload (null: nothing to reload)
   * @param watchFile  reload when this file changes (null: no watching)
   */
  public static Future<Fairway> start(FairwayOptions options, boolean demo, Supplier<FairwayOptions> reloadFrom, Path watchFile) {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    MicrometerMetricsOptions metricsOptions = new MicrometerMetricsOptions()
      .setEnabled(true)
      .setJvmMetricsEnabled(true)
      // Fairway records its own per-upstream request metrics. Vert.x's per-request HTTP meters and per-read TCP
      // byte counters would add work to every request and chunk; the event bus, pool and verticle meters stay.
      .addDisabledMetricsCategory(MetricsDomain.HTTP_SERVER)
      .addDisabledMetricsCategory(MetricsDomain.HTTP_CLIENT)
      .addDisabledMetricsCategory(MetricsDomain.NET_SERVER)
      .addDisabledMetricsCategory(MetricsDomain.NET_CLIENT)
      .addDisabledMetricsCategory(MetricsDomain.DATAGRAM_SOCKET);
    Vertx vertx = Vertx.builder()
      .with(new VertxOptions().setPreferNativeTransport(true).setMetricsOptions(metricsOptions))
      .withMetrics(new MicrometerMetricsFactory(registry))
      .build();
    InFlightCounters counters = new InFlightCounters();
    int instances = options.effectiveInstances();
    ProxyMetrics proxyMetrics = new ProxyMetrics(registry, options.isMetrics(), instances);
    RequestQueue queue = ProxyVerticle.newSharedQueue(options);
    List<ProxyVerticle> proxies = new CopyOnWriteArrayList<>();
    ObservabilitySwitch observability;
    try {
      observability = new ObservabilitySwitch(vertx, proxyMetrics, ObservabilitySwitch.open(options), proxies);
    } catch (RuntimeException e) { // an access log that cannot be opened
      return vertx.close().transform(v -> Future.failedFuture(e));
    }
    Gauge.builder("fairway.access.log.dropped", observability, o -> o.accessLog().dropped())
      .description("Access log lines dropped because the writer fell behind").register(registry);
    Lifecycle lifecycle = new Lifecycle();
    ConfigReloader reloader = reloadFrom == null ? null : new ConfigReloader(vertx, options, reloadFrom, observability);
    Gauge.builder("fairway.queue.length", queue, RequestQueue::size)
      .description("Requests waiting for an upstream slot, across all proxy instances").register(registry);
    MetricsVerticle admin = new MetricsVerticle(options.getAdminHost(), options.getAdminPort(), registry, counters,
      () -> proxies.stream().map(ProxyVerticle::eventLoop).toList(), lifecycle, reloader, options.getAdminToken(),
      proxyMetrics, queue::size);

    return deployDemo(vertx, demo)
      .compose(v -> vertx.deployVerticle(new BalancerVerticle(options, counters)))
      .compose(id -> options.getHealth().isEnabled()
        ? vertx.deployVerticle(new HealthVerticle(options.getHealth(), options.getUpstreamTls())) : Future.succeededFuture(id))
      .compose(id -> vertx.deployVerticle(() -> {
        ProxyVerticle p = new ProxyVerticle(proxies.size(), options, counters, proxyMetrics, queue, lifecycle, observability.accessLog());
        proxies.add(p);
        return p;
      }, new DeploymentOptions().setInstances(instances)))
      .compose(id -> vertx.deployVerticle(admin))
      .map(id -> {
        Fairway f = new Fairway(vertx, registry, options, proxies, counters, lifecycle, reloader, admin.actualPort(), observability);
        f.stopSupervision = Supervision.install(vertx, registry, () -> proxies.stream().map(ProxyVerticle::eventLoop).toList());
        if (reloader != null && watchFile != null && options.isWatchConfig()) reloader.watch(watchFile);
        log.info("Fairway {} proxying http://{}:{} to {} upstream(s) ({}, {} proxy instances, {} transport); admin on http://{}:{}",
          dev.fairway.cli.VersionProvider.version(), options.getHost(), f.proxyPort, options.getUpstreams().size(),
          options.getStrategy().configName(), instances, vertx.isNativeTransportEnabled() ? "native" : "NIO",
          options.getAdminHost(), f.adminPort);
        return f;
      })
      .recover(err -> vertx.close().transform(v -> Future.failedFuture(err)));
  }

  private static Future<?> deployDemo(Vertx vertx, boolean demo) {
    if (!demo) return Future.succeededFuture();
    Future<?> all = Future.succeededFuture();
    for (int port : FairwayCommand.DEMO_PORTS) {
      all = all.compose(v -> vertx.deployVerticle(new DemoUpstreamVerticle("127.0.0.1", port)));
    }
    return all.onSuccess(v -> log.info("demo upstreams on 127.0.0.1:5000, 5001 and 5002"));
  }

  /**
   * Graceful stop: no new connections, in-flight requests finish (kept-alive connections close after their current
   * response) up to shutdown-timeout, then everything closes.
   */
  public Future<Void> drainAndClose() {
    if (!lifecycle.startDraining()) return Future.succeededFuture();
    Duration timeout = Duration.ofMillis(options.getShutdownTimeoutMillis());
    log.info("stopping: accepting no new connections; waiting up to {} for {} in-flight request(s)",
      Durations.format(timeout.toMillis()), counters.total());
    long progress = vertx.setPeriodic(1_000, id -> log.info("draining: {} request(s) in flight", counters.total()));
    return Future.join(proxies.stream().map(p -> p.shutdown(timeout)).toList())
      .eventually(() -> {
        vertx.cancelTimer(progress);
        log.info("stopped with {} request(s) in flight", counters.total());
        return close();
      })
      .mapEmpty();
  }

  /** Re-reads the config file; a no-op without one. */
  public Future<JsonObject> reload(String trigger) {
    if (reloader == null) {
      log.info("{}: nothing to reload (started without --config)", trigger);
      return Future.succeededFuture(new JsonObject().put("status", "nothing to reload"));
    }
    return reloader.reload(trigger);
  }

  public Future<Void> close() {
    stopSupervision.run();
    // the proxy verticles hand off their last access log lines as they stop; then the writer writes them out
    return vertx.close().andThen(ar -> {
      registry.close();
      observability.accessLog().close();
    });
  }

  /** The proxy instances' event loops (for tests and the liveness check). */
  public List<io.vertx.core.Context> proxyEventLoops() {
    return proxies.stream().map(ProxyVerticle::eventLoop).toList();
  }

  public Vertx vertx() {
    return vertx;
  }

  public PrometheusMeterRegistry registry() {
    return registry;
  }

  public int proxyPort() {
    return proxyPort;
  }

  public int adminPort() {
    return adminPort;
  }
}
