package dev.fairway.jobs;

import io.vertx.core.Context;
import io.vertx.core.MultiMap;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Supplier;

/**
 * One job: a request on a job route and its response as spooled. Its runner (the exchange that runs it, on one event
 * loop) changes it; readers on any event loop read its volatile fields and ask to be told of progress. Its metadata is
 * written beside the spool ({@code <id>.json}) as it changes, so a restart reads it back.
 */
public final class Job {

  /** A reader waiting for more bytes or an end, called once on its own event loop. */
  private record Waiter(Context context, Runnable action) {
  }

  private final String id;
  private final String route;
  private final String method;
  private final String path;
  /** A hash of who created it (key-scope): only the same scope reads it, and its Idempotency-Key lives there. */
  private final String scope;
  private final String idempotencyKey;
  private final long createdAt;
  /** SHA-256 of method, path and body, once the body has streamed (Idempotency-Key repeats compare it). */
  private final CompletableFuture<String> fingerprint = new CompletableFuture<>();
  private final List<Waiter> waiters = new CopyOnWriteArrayList<>();
  /** SSE event ids and the spool offset just past each event, in order. */
  private final List<String> eventIds = new ArrayList<>();
  private final List<Long> eventEnds = new ArrayList<>();

  private volatile JobState state;
  private volatile String upstream;
  private volatile int status;
  private volatile JsonArray headers;
  private volatile long bytes;
  private volatile boolean truncated;
  private volatile long startedAt;
  private volatile long endedAt;
  /** Set by the running exchange: stops the upstream request (on that exchange's event loop). */
  private volatile Runnable canceller;
  private volatile Context runner;
  /** While queued: the job's place and estimated wait, as its runner computes them. */
  private volatile Supplier<JsonObject> place;

  Job(String id, String route, String method, String path, String scope, String idempotencyKey, long createdAt, JobState state) {
    this.id = id;
    this.route = route;
    this.method = method;
    this.path = path;
    this.scope = scope;
    this.idempotencyKey = idempotencyKey;
    this.createdAt = createdAt;
    this.state = state;
  }

  public String id() {
    return id;
  }

  public String route() {
    return route;
  }

  public String scope() {
    return scope;
  }

  public String idempotencyKey() {
    return idempotencyKey;
  }

  public JobState state() {
    return state;
  }

  public int status() {
    return status;
  }

  /** The response headers as relayed, as [name, value] pairs; null before the upstream's response head. */
  public JsonArray headers() {
    return headers;
  }

  /** Bytes of the response body safely in the spool: what a reader may read. */
  public long bytes() {
    return bytes;
  }

  public boolean truncated() {
    return truncated;
  }

  long createdAt() {
    return createdAt;
  }

  long endedAt() {
    return endedAt;
  }

  public CompletableFuture<String> fingerprint() {
    return fingerprint;
  }

  /** The spool offset just past the event with {@code id} (the last one of that id), or -1 if none such. */
  public synchronized long offsetAfterEvent(String eventId) {
    for (int i = eventIds.size() - 1; i >= 0; i--) {
      if (eventIds.get(i).equals(eventId)) return eventEnds.get(i);
    }
    return -1;
  }

  synchronized void eventEnded(String eventId, long end) {
    eventIds.add(eventId);
    eventEnds.add(end);
  }

  // --- changes, by the exchange that runs the job ---

  void running(String upstreamId, long now) {
    upstream = upstreamId;
    startedAt = now;
    state = JobState.RUNNING;
    progressed();
  }

  void head(int status, MultiMap relayed) {
    JsonArray pairs = new JsonArray();
    for (Map.Entry<String, String> h : relayed) pairs.add(new JsonArray().add(h.getKey()).add(h.getValue()));
    this.headers = pairs;
    this.status = status;
    progressed();
  }

  void spooled(long total) {
    bytes = total;
    progressed();
  }

  void truncate() {
    truncated = true;
  }

  /** Ends the job in {@code end} (TRUNCATED instead of DONE if the spool was cut); false if it had ended already. */
  boolean end(JobState end, long now) {
    if (state.ended()) return false;
    state = end == JobState.DONE && truncated ? JobState.TRUNCATED : end;
    endedAt = now;
    canceller = null;
    progressed();
    return true;
  }

  void expire() {
    state = JobState.EXPIRED;
    headers = null;
    progressed();
  }

  void place(Supplier<JsonObject> place) {
    this.place = place;
  }

  void cancelWith(Context runner, Runnable canceller) {
    this.runner = runner;
    this.canceller = canceller;
  }

  /** Stops the upstream request of a running or queued job, on its runner's event loop. */
  void cancel() {
    cancellation().run();
  }

  /**
   * What {@link #cancel} does, taken now: the job forgets its canceller as it ends, and a stop ends it (interrupted)
   * before its exchange is cancelled, so that the exchange finds it ended rather than recording a cancellation.
   */
  Runnable cancellation() {
    Runnable c = canceller;
    Context o = runner;
    return c == null || o == null ? () -> { } : () -> o.runOnContext(v -> c.run());
  }

  /** Runs {@code action} once on {@code context} when more bytes are spooled, the head arrives or the job ends. */
  public void onProgress(Context context, Runnable action) {
    waiters.add(new Waiter(context, action));
    if (state.ended()) progressed(); // ended while being added: never wait for what will not come
  }

  private void progressed() {
    if (waiters.isEmpty()) return;
    for (Waiter w : waiters) {
      if (waiters.remove(w)) w.context().runOnContext(v -> w.action().run());
    }
  }

  // --- JSON ---

  /** What {@code GET <prefix>/<id>} with Accept: application/json and the admin API show. */
  public JsonObject statusJson() {
    JsonObject json = new JsonObject().put("id", id).put("state", state.json()).put("route", route).put("upstream", upstream)
      .put("status", status == 0 ? null : status).put("bytes", bytes).put("truncated", truncated)
      .put("created_at", time(createdAt)).put("started_at", time(startedAt)).put("ended_at", time(endedAt));
    Supplier<JsonObject> queued = place;
    JsonObject where = state == JobState.QUEUED && queued != null ? queued.get() : null;
    if (where != null) json.put("position", where.getInteger("position")).put("eta_seconds", where.getValue("eta_seconds"));
    return json;
  }

  private static String time(long epochMillis) {
    return epochMillis == 0 ? null : Instant.ofEpochMilli(epochMillis).toString();
  }

  /** Everything kept across a restart. */
  synchronized JsonObject toMeta() {
    return new JsonObject().put("id", id).put("route", route).put("method", method).put("path", path).put("scope", scope)
      .put("idempotency_key", idempotencyKey).put("fingerprint", fingerprint.isCompletedExceptionally() ? null : fingerprint.getNow(null)).put("state", state.json())
      .put("upstream", upstream).put("status", status).put("headers", headers).put("bytes", bytes).put("truncated", truncated)
      .put("created_at", createdAt).put("started_at", startedAt).put("ended_at", endedAt)
      .put("event_ids", new JsonArray(new ArrayList<>(eventIds))).put("event_ends", new JsonArray(new ArrayList<>(eventEnds)));
  }

  /** A job read back at start; one that was still queued or running when Fairway last stopped is interrupted. */
  static Job fromMeta(JsonObject m, long now) {
    JobState state = JobState.of(m.getString("state"));
    Job job = new Job(m.getString("id"), m.getString("route"), m.getString("method"), m.getString("path"), m.getString("scope"),
      m.getString("idempotency_key"), m.getLong("created_at"), state);
    if (m.getString("fingerprint") != null) job.fingerprint.complete(m.getString("fingerprint"));
    else job.fingerprint.completeExceptionally(new IllegalStateException("the request never reached the upstream whole"));
    job.upstream = m.getString("upstream");
    job.status = m.getInteger("status", 0);
    job.headers = m.getJsonArray("headers");
    job.bytes = m.getLong("bytes", 0L);
    job.truncated = m.getBoolean("truncated", false);
    job.startedAt = m.getLong("started_at", 0L);
    job.endedAt = m.getLong("ended_at", 0L);
    JsonArray ids = m.getJsonArray("event_ids", new JsonArray());
    JsonArray ends = m.getJsonArray("event_ends", new JsonArray());
    for (int i = 0; i < ids.size(); i++) job.eventEnded(ids.getString(i), ends.getLong(i));
    if (!state.ended()) {
      job.state = JobState.INTERRUPTED;
      job.endedAt = now;
    }
    return job;
  }

  String method() {
    return method;
  }

  String path() {
    return path;
  }
}
