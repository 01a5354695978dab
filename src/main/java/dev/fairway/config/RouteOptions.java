package dev.fairway.config;

import io.vertx.core.json.JsonObject;

import java.util.HashSet;
import java.util.Set;

/** A path prefix with its own timeouts, like an nginx {@code location} block. */
public class RouteOptions {

  private static final Set<String> KEYS;

  static {
    Set<String> keys = new HashSet<>(TimeoutOptions.KEYS);
    keys.addAll(RequestLimitOptions.KEYS);
    keys.addAll(Set.of("path", "methods", "host", "request-headers", "response-headers", "group", "jobs",
      "queue-events", "queue-events-interval"));
    KEYS = Set.copyOf(keys);
  }

  private String path = "/";
  private TimeoutOptions timeouts = new TimeoutOptions();
  private RequestLimitOptions limits = new RequestLimitOptions();
  /** Upper-case methods this route takes; empty: all. */
  private Set<String> methods = Set.of();
  /** The Host (without port) this route takes, case-insensitive; null: any. */
  private String host;
  private HeaderRules requestHeaders = HeaderRules.NONE;
  private HeaderRules responseHeaders = HeaderRules.NONE;
  /** The upstream group requests go to. */
  private String group = GroupOptions.DEFAULT;
  /** The route's own jobs block, or null: the top level's applies. */
  private JobOptions jobs;
  /** A waiting client that accepts text/event-stream is answered at once and told its place in the queue. */
  private boolean queueEvents;
  private long queueEventsIntervalMillis = DEFAULT_QUEUE_EVENTS_INTERVAL;
  public static final long DEFAULT_QUEUE_EVENTS_INTERVAL = 5_000;

  public RouteOptions() {
  }

  public RouteOptions(String path, TimeoutOptions timeouts) {
    this.path = path;
    this.timeouts = timeouts;
  }

  public RouteOptions(ConfigReader r, TimeoutOptions defaults, RequestLimitOptions defaultLimits, JobOptions defaultJobs) {
    r.rejectUnknown(KEYS);
    if (!r.has("path")) {
      throw ConfigException.invalid(r.key("path"), "missing", "a path prefix starting with /");
    }
    path = r.string("path", "/");
    if (!path.startsWith("/")) {
      throw ConfigException.invalid(r.key("path"), path, "a path prefix starting with /");
    }
    timeouts = new TimeoutOptions(r, defaults);
    limits = new RequestLimitOptions(r, defaultLimits);
    var list = r.array("methods");
    var ms = new java.util.TreeSet<String>();
    for (int i = 0; i < list.size(); i++) {
      Object m = list.getValue(i);
      if (!(m instanceof String name) || !name.matches("[A-Za-z]+")) {
        throw ConfigException.invalid(r.key("methods") + "[" + i + "]", m, "an HTTP method such as GET");
      }
      ms.add(name.toUpperCase());
    }
    methods = Set.copyOf(ms);
    host = r.string("host", null);
    requestHeaders = new HeaderRules(r.object("request-headers"));
    responseHeaders = new HeaderRules(r.object("response-headers"));
    group = r.string("group", GroupOptions.DEFAULT);
    if (r.has("jobs")) jobs = new JobOptions(r.object("jobs"), defaultJobs);
    queueEvents = r.bool("queue-events", false);
    queueEventsIntervalMillis = HealthCheckOptions.positive(r.key("queue-events-interval"),
      r.duration("queue-events-interval", queueEventsIntervalMillis));
  }

  public boolean isQueueEvents() {
    return queueEvents;
  }

  public long getQueueEventsIntervalMillis() {
    return queueEventsIntervalMillis;
  }

  public RouteOptions setQueueEvents(boolean on, long intervalMillis) {
    this.queueEvents = on;
    this.queueEventsIntervalMillis = intervalMillis;
    return this;
  }

  /** The route's own jobs block, or null: the top level's applies. */
  public JobOptions getJobs() {
    return jobs;
  }

  public RouteOptions setJobs(JobOptions jobs) {
    this.jobs = jobs;
    return this;
  }

  public String getGroup() {
    return group;
  }

  public RouteOptions setGroup(String group) {
    this.group = group;
    return this;
  }

  public Set<String> getMethods() {
    return methods;
  }

  public String getHost() {
    return host;
  }

  public HeaderRules getRequestHeaders() {
    return requestHeaders;
  }

  public HeaderRules getResponseHeaders() {
    return responseHeaders;
  }

  public RouteOptions setMatch(Set<String> methods, String host) {
    this.methods = Set.copyOf(methods);
    this.host = host;
    return this;
  }

  public RouteOptions setHeaderRules(HeaderRules request, HeaderRules response) {
    this.requestHeaders = request;
    this.responseHeaders = response;
    return this;
  }

  public String getPath() {
    return path;
  }

  public TimeoutOptions getTimeouts() {
    return timeouts;
  }

  public RequestLimitOptions getLimits() {
    return limits;
  }

  public JsonObject toJson() {
    return limits.toJson(timeouts.toJson()).put("path", path).put("methods", new io.vertx.core.json.JsonArray(new java.util.ArrayList<>(methods)))
      .put("host", host).put("group", group).put("request-headers", requestHeaders.toJson()).put("response-headers", responseHeaders.toJson())
      .put("jobs", jobs == null ? null : jobs.routeJson()).put("queue-events", queueEvents)
      .put("queue-events-interval", Durations.format(queueEventsIntervalMillis));
  }
}
