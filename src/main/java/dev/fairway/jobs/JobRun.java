package dev.fairway.jobs;

import dev.fairway.config.JobOptions;
import io.vertx.core.Context;
import io.vertx.core.Handler;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonObject;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.function.Supplier;

/**
 * A job as the exchange that runs it sees it: the response goes to the client (while attached) and to the spool, with
 * back-pressure from both; the request body is fingerprinted as it streams (for Idempotency-Key repeats); the client
 * may detach and the relay goes on into the spool. It lives on the exchange's event loop.
 */
public final class JobRun {

  public static final String JOB_HEADER = "Fairway-Job";

  private final JobStore store;
  private final Job job;
  private final JobOptions options;
  private final Spool spool;
  /** SHA-256 of method, target and body, for a job with an Idempotency-Key; null without one. */
  private final MessageDigest fingerprint;
  /** The client's response, or null once it went away (or was answered 202). */
  private HttpServerResponse client;
  private SseEvents sse;
  private Handler<Void> drainHandler;

  private JobRun(JobStore store, Job job, JobOptions options, HttpServerResponse client, String method, String uri) {
    this.store = store;
    this.job = job;
    this.options = options;
    this.client = client;
    this.spool = store.spool(job);
    if (job.idempotencyKey() != null) {
      fingerprint = JobScope.digest();
      fingerprint.update((method + ' ' + uri + '\n').getBytes(StandardCharsets.UTF_8));
    } else {
      fingerprint = null;
      job.fingerprint().complete("");
    }
  }

  /**
   * Starts running a freshly claimed job: its id goes out in the {@code Fairway-Job} header (and its URL as a
   * {@code Link} with rel=monitor), and {@code canceller} stops it on {@code context} when it is cancelled.
   */
  public static JobRun start(JobStore store, Job job, JobOptions options, HttpServerResponse resp, String method, String uri,
                             Context context, Runnable canceller) {
    JobRun run = new JobRun(store, job, options, resp, method, uri);
    job.cancelWith(context, canceller);
    resp.putHeader(JOB_HEADER, job.id());
    resp.putHeader("Link", "<" + run.url() + ">; rel=\"monitor\"");
    return run;
  }

  public String url() {
    return store.options().getPrefix() + "/" + job.id();
  }

  public boolean attached() {
    return client != null;
  }

  public boolean keepOnDisconnect() {
    return options.isKeepOnDisconnect();
  }

  /** The client is gone (or was answered 202): from now on the response goes to the spool only. */
  public void detach() {
    client = null;
    Handler<Void> waiting = drainHandler;
    if (waiting != null && !writeQueueFull()) {
      drainHandler = null;
      waiting.handle(null); // the relay may have been paused for the client, which will never drain now
    }
  }

  /**
   * {@code Prefer: respond-async}: answers 202 with the job's URL and status, and detaches.
   */
  public void accepted() {
    HttpServerResponse resp = client;
    detach();
    store.accepted(job);
    resp.setStatusCode(202).putHeader(HttpHeaders.LOCATION, url()).putHeader("Preference-Applied", "respond-async")
      .putHeader(HttpHeaders.CONTENT_TYPE, "application/json").end(job.statusJson().encode() + "\n");
  }

  // --- the request ---

  public void bodyChunk(Buffer chunk) {
    if (fingerprint != null) fingerprint.update(chunk.getBytes());
  }

  /** The whole request went upstream: its fingerprint is final. */
  public void requestSent() {
    if (fingerprint != null) job.fingerprint().complete(HexFormat.of().formatHex(fingerprint.digest()));
  }

  /** While the job waits in the queue, where it stands (for its status); null once it left. */
  public void queued(Supplier<JsonObject> place) {
    job.place(place);
  }

  public void started(String upstream) {
    store.started(job, upstream);
  }

  // --- the response ---

  /**
   * Records the response head as relayed. For an event stream, its events are followed (and numbered, with sse-ids
   * auto): the exchange then drops Content-Length, as the numbering adds bytes.
   *
   * @return whether the body may change length on its way (an event stream with numbering on)
   */
  public boolean head(int status, MultiMap headers) {
    String type = headers.get(HttpHeaders.CONTENT_TYPE);
    if (type != null && type.regionMatches(true, 0, "text/event-stream", 0, 17)) { // as ProxyExchange.isEventStream
      sse = new SseEvents(job, options.isSseIds());
    }
    boolean changesLength = sse != null && options.isSseIds();
    if (changesLength) headers.remove(HttpHeaders.CONTENT_LENGTH);
    store.head(job, status, headers);
    return changesLength;
  }

  /** Relays one chunk: to the client while attached, and to the spool. */
  public void write(Buffer chunk) {
    Buffer out = sse == null ? chunk : sse.apply(chunk, spool.position());
    spool.write(out); // first: the spool copies it, and once written to the client its memory may be freed
    if (client != null) client.write(out);
  }

  public boolean writeQueueFull() {
    return (client != null && client.writeQueueFull()) || spool.writeQueueFull();
  }

  /** Calls {@code handler} once neither the client nor the spool is full. */
  public void drainHandler(Handler<Void> handler) {
    drainHandler = handler;
    Handler<Void> check = v -> {
      if (drainHandler == null) return;
      if (writeQueueFull()) {
        drainHandler(drainHandler);
      } else {
        Handler<Void> h = drainHandler;
        drainHandler = null;
        h.handle(null);
      }
    };
    if (client != null && client.writeQueueFull()) client.drainHandler(check);
    if (spool.writeQueueFull()) spool.drainHandler(check);
  }

  /**
   * Ends the job once its spool is flushed (readers see every byte before the end).
   *
   * @param reachedUpstream whether the whole request went upstream: if not, its Idempotency-Key is freed for a retry
   */
  public void end(JobState state, boolean reachedUpstream) {
    if (fingerprint != null && !reachedUpstream) job.fingerprint().completeExceptionally(new IllegalStateException("not sent"));
    spool.close().onComplete(v -> store.end(job, state, reachedUpstream));
  }
}
