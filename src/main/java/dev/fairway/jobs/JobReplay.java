package dev.fairway.jobs;

import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.file.AsyncFile;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.json.JsonArray;

import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One reader of a job's response: the stored head, then the spool from the start (or from {@code Range: bytes=N-},
 * or just after the {@code Last-Event-ID} event), then the bytes as they arrive, like {@code tail -f}, until the job
 * ends. Reads are paced by the client's write queue, 256 KiB at a time; nothing else is held.
 */
final class JobReplay {

  /** The last byte of a live range whose end is not known yet (the IETF live-ranges draft's 2^53 - 1). */
  static final long LIVE_END = 9_007_199_254_740_991L;
  /** Bytes read from the spool at once: one thread hop each. */
  private static final int READ = 256 * 1024;
  private static final Pattern RANGE = Pattern.compile("bytes=(\\d{1,18})-(\\d{0,18})");
  private static final Set<String> NOT_REPLAYED = Set.of("content-length", "transfer-encoding", "connection", "keep-alive",
    "content-range", "fairway-job", "link");

  private final JobStore store;
  private final Job job;
  private final HttpServerRequest req;
  private final HttpServerResponse resp;
  private final Context context;
  private final boolean replayed;
  private AsyncFile file;
  private long position;
  /** One past the last byte this reader is to send. */
  private long limit = Long.MAX_VALUE;
  private boolean closed;
  /** A read is in flight, or the reader waits for the client to drain: one pump at a time. */
  private boolean busy;

  private JobReplay(JobStore store, Job job, HttpServerRequest req, boolean replayed) {
    this.store = store;
    this.job = job;
    this.req = req;
    this.resp = req.response();
    this.context = Vertx.currentContext();
    this.replayed = replayed;
  }

  /**
   * Serves {@code job}'s response to {@code req} (its request is read already, or has no body).
   *
   * @param replayed an Idempotency-Key repeat: a finished job's answer says {@code Idempotent-Replayed: true}
   */
  static void serve(JobStore store, Job job, HttpServerRequest req, boolean replayed) {
    new JobReplay(store, job, req, replayed).awaitHead();
  }

  private void awaitHead() {
    resp.closeHandler(v -> close());
    if (closed) return;
    JobState state = job.state();
    if (job.headers() == null) {
      if (state == JobState.EXPIRED) {
        answerExpired();
      } else if (state.ended()) {
        Problem.send(resp, 502, "job has no response", "the job ended (" + state.json() + ") before its upstream answered");
      } else {
        job.onProgress(context, this::awaitHead);
      }
      return;
    }
    start();
  }

  private void start() {
    String range = req.getHeader("Range");
    String lastEventId = req.getHeader("Last-Event-ID");
    boolean ended = job.state().ended();
    long length = job.bytes();
    int status = job.status();
    if (range != null) {
      Matcher m = RANGE.matcher(range.trim());
      if (!m.matches() || (!m.group(2).isEmpty() && Long.parseLong(m.group(2)) < Long.parseLong(m.group(1)))) {
        Problem.send(resp, 400, "malformed Range", "a job resumes with Range: bytes=N- (or bytes=N-M)");
        return;
      }
      position = Long.parseLong(m.group(1));
      if (!m.group(2).isEmpty()) limit = Long.parseLong(m.group(2)) + 1;
      if (ended && position >= length) {
        resp.putHeader(HttpHeaders.CONTENT_RANGE, "bytes */" + length);
        Problem.send(resp, 416, "range not satisfiable", job.truncated()
          ? "the job's spool was truncated at " + length + " bytes: the response past that point was not kept"
          : "the job's response has " + length + " bytes");
        return;
      }
      status = 206;
      long last = ended ? Math.min(limit, length) - 1 : limit == Long.MAX_VALUE ? LIVE_END : limit - 1;
      resp.putHeader(HttpHeaders.CONTENT_RANGE, "bytes " + position + "-" + last + "/" + (ended ? String.valueOf(length) : "*"));
    } else if (lastEventId != null) {
      position = Math.max(0, job.offsetAfterEvent(lastEventId.trim()));
    }
    resp.setStatusCode(status);
    JsonArray headers = job.headers();
    for (int i = 0; i < headers.size(); i++) {
      JsonArray h = headers.getJsonArray(i);
      if (!NOT_REPLAYED.contains(h.getString(0).toLowerCase(java.util.Locale.ROOT))) resp.headers().add(h.getString(0), h.getString(1));
    }
    resp.putHeader(JobRun.JOB_HEADER, job.id()).putHeader("Fairway-Job-State", job.state().json());
    if (range == null) resp.putHeader(HttpHeaders.ACCEPT_RANGES, "bytes");
    if (replayed && ended) resp.putHeader("Idempotent-Replayed", "true");
    if (ended) {
      resp.putHeader(HttpHeaders.CONTENT_LENGTH, String.valueOf(Math.max(0, Math.min(limit, length) - position)));
    } else if (req.version() == HttpVersion.HTTP_1_1) {
      resp.setChunked(true);
    } else if (req.version() == HttpVersion.HTTP_1_0) {
      resp.putHeader(HttpHeaders.CONNECTION, HttpHeaders.CLOSE); // close-delimited
    }
    store.resumed();
    if (req.method() == HttpMethod.HEAD || status == 204 || status == 304 || status < 200) { // no body (RFC 9110)
      resp.end();
      return;
    }
    store.openToRead(job).onComplete(ar -> {
      if (job.state() == JobState.EXPIRED) { // retention ended as the spool was being opened: it is deleted, or soon
        if (ar.succeeded()) {
          ar.result().close();
          store.dropBody(job.id()); // if it was deleted before this open, the open made an empty one in its place
        }
        if (closed) return;
        resp.headers().clear(); // the response's own, set for the replay
        answerExpired();
        return;
      }
      if (ar.failed()) {
        if (closed) return;
        resp.headers().clear();
        Problem.send(resp, 500, "job's response unreadable", "its spool could not be opened (Fairway's log says why)");
        return;
      }
      file = ar.result();
      if (closed) {
        file.close();
        return;
      }
      pump();
    });
  }

  private void answerExpired() {
    Problem.send(resp, 410, "job expired", "the job's retention ended and its response was deleted");
  }

  /** Sends what the spool has past {@link #position}, then waits for more, until the job ends. */
  private void pump() {
    if (closed || busy) return;
    boolean ended = job.state().ended(); // read before the length: an ended job's length is final
    long available = Math.min(job.bytes(), limit);
    if (position < available) {
      int n = (int) Math.min(READ, available - position);
      busy = true;
      file.read(Buffer.buffer(n), 0, position, n).onComplete(ar -> {
        busy = false;
        if (closed) return;
        if (ar.failed() || ar.result().length() == 0) {
          resp.reset();
          close();
          return;
        }
        position += ar.result().length();
        resp.write(ar.result());
        if (resp.writeQueueFull()) {
          busy = true;
          resp.drainHandler(v -> {
            resp.drainHandler(null); // a drain handler stays set: without this, every later drain would pump again
            busy = false;
            pump();
          });
        } else {
          pump();
        }
      });
    } else if (ended || position >= limit) {
      if (job.truncated() && position < limit && !resp.headers().contains(HttpHeaders.CONTENT_LENGTH)) {
        resp.reset(); // the rest was relayed but not kept: the reader must not take this for the whole response
      } else {
        resp.end();
      }
      close();
    } else {
      job.onProgress(context, this::pump);
    }
  }

  private void close() {
    if (closed) return;
    closed = true;
    if (file != null) file.close();
  }
}
