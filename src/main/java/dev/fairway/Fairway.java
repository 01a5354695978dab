package dev.fairway;

import dev.fairway.balancer.BalancerVerticle;
import dev.fairway.cli.FairwayCommand;
import dev.fairway.cluster.ClusterJobDirectory;
import dev.fairway.cluster.ClusterNode;
import dev.fairway.cluster.ClusterVerticle;
import dev.fairway.cluster.Membership;
import dev.fairway.config.ConfigException;
import dev.fairway.config.FairwayOptions;
import dev.fairway.demo.DemoUpstreamVerticle;
import dev.fairway.health.HealthVerticle;
import dev.fairway.jobs.JobStore;
import dev.fairway.metrics.MetricsVerticle;
import dev.fairway.metrics.ProxyMetrics;
import dev.fairway.proxy.ProxyShared;
import dev.fairway.proxy.ProxyVerticle;
import dev.fairway.proxy.RelayTransport;
import dev.fairway.proxy.RequestQueue;
import io.micrometer.core.instrument.Gauge;
import dev.fairway.upstream.InFlightCounters;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import dev.fairway.bus.Addresses;
import io.vertx.core.Context;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxBuilder;
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
import dev.fairway.ops.ClassArchive;
import dev.fairway.ops.JvmDefaults;
import dev.fairway.ops.Lifecycle;
import dev.fairway.ops.MemoryRelease;
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

  /**
   * Looked up when used, not when this class loads: a bare {@code java -jar} first restarts itself under Fairway's JVM
   * flags ({@link JvmDefaults}), and that first JVM need not set up logging at all.
   */
  private static Logger log() {
    return LoggerFactory.getLogger(Fairway.class);
  }

  private final Vertx vertx;
  private final PrometheusMeterRegistry registry;
  private final FairwayOptions options;
  private final Shared shared;
  private final int proxyPort;
  private final int adminPort;
  private Runnable stopSupervision = () -> { };

  private Fairway(Vertx vertx, PrometheusMeterRegistry registry, FairwayOptions options, Shared shared, int adminPort) {
    this.vertx = vertx;
    this.registry = registry;
    this.options = options;
    this.shared = shared;
    this.proxyPort = shared.proxies().get(0).actualPort();
    this.adminPort = adminPort;
  }

  public static void main(String[] args) {
    JvmDefaults.applyOrContinue(args);
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
    Logging.configure(options.getProcess().getLogLevel(), options.getProcess().getErrorLog());
    List<String> jvmFlags = JvmDefaults.applied();
    if (!jvmFlags.isEmpty()) {
      log().info("JVM flags: {} (Fairway's defaults; any JVM flag, or {}=off, leaves them to you)",
        String.join(" ", jvmFlags), JvmDefaults.ENV_SWITCH);
    }
    // before the start, so that a stop signal is handled as one from the moment Fairway says it is ready
    Promise<Fairway> started = Promise.promise();
    Signals.install(() -> {
      Fairway fairway;
      try {
        fairway = started.future().await(); // a signal while starting stops it once it has started
      } catch (Exception failed) {
        return; // main exits, saying why
      }
      try {
        // bounded: closing Vert.x can wait on a WebSocket whose close handshake never completes
        fairway.drainAndClose().await(options.getProcess().getShutdownTimeoutMillis() + 5_000, java.util.concurrent.TimeUnit.MILLISECONDS);
      } catch (Exception e) {
        log().warn("stopped without a clean close: {}", e.toString());
      }
      ClassArchive.writeIfAsked(); // once it has served, so that the archive has what a run loads
      System.exit(0);
    }, () -> started.future().onSuccess(fairway -> fairway.reload("SIGHUP")));
    try {
      started.complete(start(options, command.demo(), command.configFile() == null ? null : command::toOptions, command.configFile()).await());
    } catch (ConfigException e) {
      started.fail(e);
      exit(2, e.getMessage()); // e.g. an access log file that cannot be written
    } catch (Exception e) {
      started.fail(e);
      exit(1, "failed to start: " + e.getMessage());
    }
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
   * Builds the shared parts, deploys each role, and reports what listens where.
   *
   * @param reloadFrom re-reads the config for a reload (null: nothing to reload)
   * @param watchFile  reload when this file changes (null: no watching)
   */
  public static Future<Fairway> start(FairwayOptions options, boolean demo, Supplier<FairwayOptions> reloadFrom, Path watchFile) {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    if (!options.getCluster().isEnabled()) {
      return deploy(vertxBuilder(registry).with(vertxOptions()).build(), null, registry, options, demo, reloadFrom, watchFile);
    }
    return ClusterNode.start(options.getCluster(), vertxOptions(), vertxBuilder(registry))
      .compose(node -> deploy(node.vertx(), node, registry, options, demo, reloadFrom, watchFile));
  }

  /** Deploys every role on {@code vertx}; {@code cluster} is null for a Fairway that is not clustered. */
  private static Future<Fairway> deploy(Vertx vertx, ClusterNode cluster, PrometheusMeterRegistry registry, FairwayOptions options,
                                        boolean demo, Supplier<FairwayOptions> reloadFrom, Path watchFile) {
    Membership membership = cluster == null ? Membership.alone() : cluster.membership();
    Shared shared;
    try {
      shared = Shared.build(vertx, registry, options);
    } catch (RuntimeException e) { // an access log that cannot be opened
      return vertx.close().transform(v -> Future.failedFuture(e));
    }
    ConfigReloader reloader = reloadFrom == null ? null : new ConfigReloader(vertx, options, reloadFrom, shared.observability());
    MetricsVerticle admin = new MetricsVerticle(options.getAdmin(), registry, shared.proxy().counters(),
      shared::proxyEventLoops, shared.proxy().lifecycle(), shared.proxy().metrics(), shared.proxy().queue()::size, shared.proxy().jobs(),
      shared.proxy().ages(), shared.proxy().capacities());

    return deployDemo(vertx, demo)
      .compose(v -> vertx.deployVerticle(new BalancerVerticle(options, shared.proxy().counters(), membership)))
      .compose(v -> options.getHealth().isEnabled()
        ? vertx.deployVerticle(new HealthVerticle(options.getHealth(), options.getUpstreamTls(), shared.proxy().capacities(), membership))
        : Future.succeededFuture())
      .compose(v -> cluster == null ? Future.succeededFuture()
        : vertx.deployVerticle(new ClusterVerticle(cluster, shared.proxy().counters(), shared.proxy().queue(), registry)))
      .compose(v -> vertx.deployVerticle(() -> shared.newProxy(options), new DeploymentOptions().setInstances(options.getProcess().effectiveInstances())))
      .compose(v -> reloader == null ? Future.succeededFuture() : reloader.listen())
      .compose(v -> vertx.deployVerticle(admin))
      .map(v -> {
        Fairway f = new Fairway(vertx, registry, options, shared, admin.actualPort());
        if (cluster != null && shared.proxy().jobs() != null) { // a resume or a repeated key on another node reaches this node's jobs
          String host = cluster.host().contains(":") ? "[" + cluster.host() + "]" : cluster.host();
          shared.proxy().jobs().useDirectory(new ClusterJobDirectory(vertx, membership, host + ":" + f.proxyPort(),
            options.getJobs().getRetentionMillis()));
        }
        f.stopSupervision = Supervision.install(vertx, registry, shared::proxyEventLoops);
        MemoryRelease.start(vertx, options.getProcess().getReleaseMemoryAfterMillis(), registry);
        if (reloader != null && watchFile != null && options.getProcess().isWatchConfig()) reloader.watch(watchFile);
        f.report();
        return f;
      })
      .recover(err -> vertx.close().transform(v -> Future.failedFuture(err)));
  }

  private static VertxOptions vertxOptions() {
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
    return new VertxOptions().setPreferNativeTransport(true).setMetricsOptions(metricsOptions);
  }

  private static VertxBuilder vertxBuilder(PrometheusMeterRegistry registry) {
    // Relayed bytes are read into direct buffers Vert.x passes on without a heap copy (see RelayBuffers)
    return Vertx.builder().withMetrics(new MicrometerMetricsFactory(registry)).withTransport(RelayTransport.preferNative());
  }

  /**
   * What the roles of one Fairway share in memory, beside the bus: the in-flight counters (every proxy instance and
   * the balancer), the wait queue and request meters (every proxy instance), the access log switch, the lifecycle,
   * and the proxy instances as they are deployed.
   */
  private record Shared(ProxyShared proxy, ObservabilitySwitch observability, List<ProxyVerticle> proxies) {

    /** @throws RuntimeException if the access log or the jobs' spool cannot be opened */
    static Shared build(Vertx vertx, PrometheusMeterRegistry registry, FairwayOptions options) {
      ProxyMetrics proxyMetrics = new ProxyMetrics(registry, options.getProcess().isMetrics(), options.getProcess().effectiveInstances());
      ObservabilitySwitch observability = new ObservabilitySwitch(vertx, proxyMetrics, ObservabilitySwitch.open(options));
      JobStore jobs = options.anyJobs() ? JobStore.open(vertx, options.getJobs(), registry) : null;
      ProxyShared proxy = ProxyShared.create(new InFlightCounters(), proxyMetrics, options.getQueue().getSize(), new Lifecycle(), jobs);
      RequestQueue queue = proxy.queue();
      Gauge.builder("fairway.access.log.dropped", observability, o -> o.accessLog().dropped())
        .description("Access log lines dropped because the writer fell behind").register(registry);
      RelayTransport.bindMetrics(registry);
      Gauge.builder("fairway.queue.length", queue, RequestQueue::size)
        .description("Requests waiting for an upstream slot, across all proxy instances").register(registry);
      return new Shared(proxy, observability, new CopyOnWriteArrayList<>());
    }

    /** The next proxy instance, numbered in deployment order and following the access log switch. */
    synchronized ProxyVerticle newProxy(FairwayOptions options) {
      ProxyVerticle p = new ProxyVerticle(proxies.size(), options, proxy, observability.accessLog());
      proxies.add(p);
      observability.follow(p::useAccessLog);
      return p;
    }

    List<Context> proxyEventLoops() {
      return proxies.stream().map(ProxyVerticle::eventLoop).toList();
    }
  }

  private void report() {
    log().info("Fairway {} proxying http{}://{}:{} to {} upstream(s) ({}, {} proxy instances, {} transport); admin on http{}://{}:{}",
      dev.fairway.cli.VersionProvider.version(), options.getListen().getTls().enabled() ? "s" : "", options.getListen().getHost(),
      proxyPort, options.getUpstreams().size(),
      options.getStrategy().configName(), options.getProcess().effectiveInstances(), vertx.isNativeTransportEnabled() ? "native" : "NIO",
      options.getAdmin().getTls().enabled() ? "s" : "", options.getAdmin().getHost(), adminPort);
  }

  private static Future<?> deployDemo(Vertx vertx, boolean demo) {
    if (!demo) return Future.succeededFuture();
    Future<?> all = Future.succeededFuture();
    for (int port : FairwayCommand.DEMO_PORTS) {
      all = all.compose(v -> vertx.deployVerticle(new DemoUpstreamVerticle("127.0.0.1", port)));
    }
    return all.onSuccess(v -> log().info("demo upstreams on 127.0.0.1:5000, 5001 and 5002"));
  }

  /**
   * Graceful stop: no new connections, in-flight requests finish (kept-alive connections close after their current
   * response) up to shutdown-timeout, then everything closes.
   */
  public Future<Void> drainAndClose() {
    InFlightCounters counters = shared.proxy().counters();
    if (!shared.proxy().lifecycle().startDraining()) return Future.succeededFuture();
    Duration timeout = Duration.ofMillis(options.getProcess().getShutdownTimeoutMillis());
    log().info("stopping: accepting no new connections; waiting up to {} for {} in-flight request(s)",
      Durations.format(timeout.toMillis()), counters.total());
    long progress = vertx.setPeriodic(1_000, id -> log().info("draining: {} request(s) in flight", counters.total()));
    long deadline = System.nanoTime() + timeout.toNanos();
    return Future.join(shared.proxies().stream().map(p -> p.shutdown(timeout)).toList())
      .eventually(() -> jobsFinished(deadline))
      .eventually(() -> {
        vertx.cancelTimer(progress);
        log().info("stopped with {} request(s) in flight", counters.total());
        return close();
      })
      .mapEmpty();
  }

  /**
   * Jobs whose clients went away hold no connection the servers' shutdown waits for: they get the rest of
   * shutdown-timeout too; then {@link #close} has the store mark what still runs as interrupted.
   */
  private Future<Void> jobsFinished(long deadlineNanos) {
    JobStore jobs = shared.proxy().jobs();
    if (jobs == null) return Future.succeededFuture();
    io.vertx.core.Promise<Void> finished = io.vertx.core.Promise.promise();
    long poll = vertx.setPeriodic(1, 50, id -> {
      if (jobs.active() == 0 || System.nanoTime() >= deadlineNanos) finished.tryComplete();
    });
    return finished.future().andThen(v -> vertx.cancelTimer(poll));
  }

  /** Re-reads the config file, through the reloader on the bus; a no-op without one. */
  public Future<JsonObject> reload(String trigger) {
    return vertx.eventBus().<JsonObject>request(Addresses.CONFIG_RELOAD, new JsonObject().put("trigger", trigger),
        new DeliveryOptions().setSendTimeout(30_000))
      .map(Message::body)
      .recover(err -> {
        if (err instanceof ReplyException re && re.failureType() == ReplyFailure.NO_HANDLERS) {
          log().info("{}: nothing to reload (started without --config)", trigger);
          return Future.succeededFuture(new JsonObject().put("status", "nothing to reload"));
        }
        return Future.failedFuture(err);
      });
  }

  public Future<Void> close() {
    stopSupervision.run();
    JobStore jobs = shared.proxy().jobs();
    // the proxy verticles hand off their last access log lines as they stop; then the writer writes them out
    return (jobs == null ? Future.<Void>succeededFuture() : jobs.close()).eventually(vertx::close).andThen(ar -> {
      registry.close();
      shared.observability().accessLog().close();
    });
  }

  /** The proxy instances' event loops (for tests and the liveness check). */
  public List<Context> proxyEventLoops() {
    return shared.proxyEventLoops();
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
