package dev.fairway.cli;

import dev.fairway.config.ClusterOptions;
import dev.fairway.config.ConfigException;
import dev.fairway.config.ConfigLoader;
import dev.fairway.config.Durations;
import dev.fairway.config.FairwayOptions;
import dev.fairway.config.HashKey;
import dev.fairway.config.JobOptions;
import dev.fairway.config.RouteOptions;
import dev.fairway.config.StrategyName;
import dev.fairway.config.UpstreamOptions;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The command line: each flag overrides the matching key of the config file. */
@Command(name = "fairway", mixinStandardHelpOptions = true, versionProvider = VersionProvider.class, sortOptions = false,
  usageHelpAutoWidth = true,
  description = "A streaming HTTP load-balancing reverse proxy.%n",
  footer = {"%nDurations accept 500ms, 5s, 30m, 1h. Exit codes: 0 ok, 1 failed to start, 2 bad flag or config.",
    "Examples:%n  java -jar fairway.jar --demo",
    "  java -jar fairway.jar -u 127.0.0.1:5000 -u 127.0.0.1:5001,weight=2 -p 8080 -i 4",
    "  java -jar fairway.jar -c conf/fairway.yaml"})
public class FairwayCommand {

  /** The ports of the built-in demo upstreams. */
  public static final int[] DEMO_PORTS = {5000, 5001, 5002};
  public static final String DEMO_HEALTH_PATH = "/api/system/health";
  public static final String DEMO_JOB_PATH = "/process";

  @Option(names = {"-c", "--config"}, paramLabel = "FILE", description = "YAML config file (see conf/fairway.yaml).")
  Path config;

  @Option(names = {"-p", "--port"}, paramLabel = "PORT", description = "Proxy listen port (default 8080).")
  Integer port;

  @Option(names = "--host", paramLabel = "HOST", description = "Proxy listen address (default 0.0.0.0).")
  String host;

  @Option(names = {"-u", "--upstream"}, paramLabel = "HOST:PORT[,weight=N][,max-conns=N][,backup][,down][,protocol=P]",
    description = "An upstream; repeat for more. Replaces the configured list.")
  List<String> upstreams = new ArrayList<>();

  @Option(names = {"-s", "--strategy"}, paramLabel = "NAME",
    description = "round-robin (default), least-conn, ip-hash, hash, p2c or random.")
  String strategy;

  @Option(names = "--hash-key", paramLabel = "header:NAME|cookie:NAME", description = "What the hash strategy hashes.")
  String hashKey;

  @Option(names = {"-i", "--instances"}, paramLabel = "N", description = "Proxy verticle instances (default: CPU cores).")
  Integer instances;

  @Option(names = "--admin-port", paramLabel = "PORT", description = "Admin port for /health and /metrics (default 9901).")
  Integer adminPort;

  @Option(names = "--admin-host", paramLabel = "HOST", description = "Admin listen address (default 127.0.0.1).")
  String adminHost;

  @Option(names = "--health-path", paramLabel = "PATH", description = "Path probed on each upstream (default /).")
  String healthPath;

  @Option(names = "--health-interval", paramLabel = "DURATION", description = "Time between probes (default 5s).")
  String healthInterval;

  @Option(names = "--shutdown-timeout", paramLabel = "DURATION",
    description = "How long a stop signal waits for in-flight requests (default 30s).")
  String shutdownTimeout;

  @Option(names = "--access-log", paramLabel = "stdout|off|FILE", description = "Where access log lines go (default stdout).")
  String accessLog;

  @Option(names = "--access-log-format", paramLabel = "combined|gunicorn|json", description = "Access log format (default combined).")
  String accessLogFormat;

  @Option(names = "--access-log-max-size", paramLabel = "SIZE",
    description = "Rotate the access log file at this size, e.g. 100m (default 100m; it also rotates daily).")
  String accessLogMaxSize;

  @Option(names = "--access-log-compress", description = "Gzip rotated access log files (costs about 1 us of CPU per line).")
  boolean accessLogCompress;

  @Option(names = "--direct-http1", negatable = true, description = "Fairway's own HTTP/1.1 path for plain GET and HEAD requests on simple routes, beneath Vert.x (on by default; --no-direct-http1 turns it off; see direct-http1: in the config).")
  Boolean directHttp1;

  @Option(names = "--no-metrics", description = "No per-request metrics (by route, upstream, method, code) and no /stats figures.")
  boolean noMetrics;

  @Option(names = "--log-level", paramLabel = "LEVEL", description = "error, warn, info (default), debug or trace.")
  String logLevel;

  @Option(names = "--pid-file", paramLabel = "FILE", description = "Write the process id here (removed on exit).")
  Path pidFile;

  @Option(names = "--jobs", description = "Run every route's requests as long jobs: spooled, resumable, with Idempotency-Key (see jobs: in the config).")
  boolean jobs;

  @Option(names = "--cluster", description = "Join other Fairway nodes (Hazelcast on the event bus; see cluster: in the config).")
  boolean cluster;

  @Option(names = "--cluster-members", paramLabel = "HOST[:PORT],...", description = "The other nodes to join (TCP-IP; port default 5701). Implies --cluster.")
  String clusterMembers;

  @Option(names = "--cluster-host", paramLabel = "HOST", description = "Address this node binds and advertises to the others. Implies --cluster.")
  String clusterHost;

  @Option(names = "--cluster-port", paramLabel = "PORT", description = "Port of the cluster's member protocol (default 5701). Implies --cluster.")
  Integer clusterPort;

  @Option(names = "--demo", description = "Start three demo upstreams on 127.0.0.1:5000-5002 and proxy to them (with /process as a job route).")
  boolean demo;

  public boolean demo() {
    return demo;
  }

  public Path pidFile() {
    return pidFile;
  }

  /** The config file, if one was given: what a reload re-reads. */
  public Path configFile() {
    return config;
  }

  /** The config file (if any) with every given flag applied, validated. */
  public FairwayOptions toOptions() {
    FairwayOptions o = config == null ? new FairwayOptions() : ConfigLoader.load(config);
    if (port != null) o.getListen().setPort(checkPort("--port", port));
    if (host != null) o.getListen().setHost(host);
    if (!upstreams.isEmpty()) {
      o.setUpstreams(upstreams.stream().map(spec -> UpstreamOptions.parse("--upstream", spec)).toList());
    }
    if (strategy != null) o.setStrategy(StrategyName.parse("--strategy", strategy));
    if (hashKey != null) o.setHashKey(HashKey.parse("--hash-key", hashKey));
    if (instances != null) {
      if (instances < 1 || instances > 1024) throw ConfigException.invalid("--instances", instances, "a whole number from 1 to 1024");
      o.getProcess().setInstances(instances);
    }
    if (adminPort != null) o.getAdmin().setPort(checkPort("--admin-port", adminPort));
    if (adminHost != null) o.getAdmin().setHost(adminHost);
    if (healthPath != null) o.getHealth().setPath("--health-path", healthPath);
    if (healthInterval != null) {
      long millis = Durations.parseMillis("--health-interval", healthInterval);
      if (millis <= 0) throw ConfigException.invalid("--health-interval", healthInterval, "a duration greater than zero");
      o.getHealth().setIntervalMillis(millis);
    }
    if (accessLog != null) o.getAccessLog().setDestination(accessLog);
    if (accessLogFormat != null) o.getAccessLog().setFormat("--access-log-format", accessLogFormat);
    if (accessLogMaxSize != null) o.getAccessLog().setMaxSize("--access-log-max-size", accessLogMaxSize);
    if (accessLogCompress) o.getAccessLog().setCompress(true);
    if (logLevel != null) o.getProcess().setLogLevel("--log-level", logLevel);
    if (noMetrics) o.getProcess().setMetrics(false);
    if (directHttp1 != null) o.getListen().setDirectHttp1(directHttp1);
    if (jobs) {
      o.getJobs().setEnabled(true);
      o.getRoutes().forEach(r -> {
        if (r.getJobs() != null) r.getJobs().setEnabled(true);
      });
    }
    if (cluster || clusterMembers != null || clusterHost != null || clusterPort != null) o.getCluster().setEnabled(true);
    if (clusterMembers != null) o.getCluster().setMembers(ClusterOptions.parseMembers("--cluster-members", clusterMembers));
    if (clusterHost != null) o.getCluster().setHost(clusterHost);
    if (clusterPort != null) {
      if (clusterPort < 1 || clusterPort > 65535) throw ConfigException.invalid("--cluster-port", clusterPort, "a port from 1 to 65535");
      o.getCluster().setPort(clusterPort);
    }
    if (shutdownTimeout != null) o.getProcess().setShutdownTimeoutMillis(Durations.parseMillis("--shutdown-timeout", shutdownTimeout));
    String envToken = System.getenv("FAIRWAY_ADMIN_TOKEN");
    if (o.getAdmin().getToken() == null && envToken != null && !envToken.isBlank()) o.getAdmin().setToken(envToken.trim());
    if (demo) {
      if (o.getUpstreams().isEmpty()) {
        List<UpstreamOptions> ups = new ArrayList<>();
        for (int p : DEMO_PORTS) ups.add(new UpstreamOptions("127.0.0.1", p));
        o.setUpstreams(ups);
      }
      if (healthPath == null && config == null) {
        o.getHealth().setPath("--health-path", DEMO_HEALTH_PATH);
        o.getHealth().setCapacityField("--demo", "/capacity"); // the demo backends say how many long requests they take
      }
      if (config == null && o.getRoutes().isEmpty()) { // the demo's long job runs as a job: resumable, idempotent
        o.setRoutes(List.of(new RouteOptions(DEMO_JOB_PATH, o.getTimeouts()).setJobs(new JobOptions().setEnabled(true))));
      }
    }
    return o.validate();
  }

  private static int checkPort(String key, int port) {
    if (port < 0 || port > 65535) throw ConfigException.invalid(key, port, "a port from 0 to 65535");
    return port;
  }
}
