package dev.fairway.jobs;

import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.file.AsyncFile;

import java.util.ArrayDeque;

/**
 * Writes one job's response body to its spool file, one write at a time and in order, on the owner's event loop.
 * {@link #writeQueueFull()} is the relay's back-pressure (a disk slower than the network slows the upstream, never
 * the heap); each completed write tells the job, so readers follow it byte for byte. Past max-size, past the spool's
 * max-total, or on a write error (a full disk) it stops, marks the job truncated and drops the rest: the live client
 * is never affected.
 */
final class Spool {

  /** Bytes queued for the file before the relay pauses the upstream. */
  static final int HIGH_WATER = 256 * 1024;

  private final JobStore store;
  private final Job job;
  /** The spool file as it opens: chunks queue until it is open. */
  private final Future<AsyncFile> file;
  private final long maxSize;
  private final ArrayDeque<Buffer> pending = new ArrayDeque<>();
  private int pendingBytes;
  /** Bytes handed to the file so far (written or being written). */
  private long position;
  private long written;
  /** Bytes accepted so far: the spool offset the next chunk starts at. */
  private long accepted;
  private boolean writing;
  private boolean stopped;
  private Handler<Void> drainHandler;
  private Runnable whenFlushed;

  Spool(JobStore store, Job job, Future<AsyncFile> file, long maxSize) {
    this.store = store;
    this.job = job;
    this.file = file;
    this.maxSize = maxSize;
  }

  /** Queues {@code chunk} for the file (the buffer is not changed or kept beyond its write). */
  void write(Buffer chunk) {
    if (stopped) return;
    long room = maxSize - accepted;
    if (room < chunk.length()) {
      if (room > 0) write(chunk.slice(0, (int) room)); // the spool keeps all it may: up to max-size exactly
      stop("max-size reached", false);
      return;
    }
    if (!store.reserve(chunk.length())) {
      stop("max-total reached", false);
      return;
    }
    pending.add(chunk);
    pendingBytes += chunk.length();
    accepted += chunk.length();
    if (!writing) writeNext();
  }

  boolean writeQueueFull() {
    return !stopped && pendingBytes >= HIGH_WATER; // a stopped spool never holds up the live client
  }

  void drainHandler(Handler<Void> handler) {
    drainHandler = handler;
  }

  private void writeNext() {
    Buffer chunk = pending.poll();
    if (chunk == null) {
      writing = false;
      Runnable flushed = whenFlushed;
      whenFlushed = null;
      if (flushed != null) flushed.run();
      return;
    }
    writing = true;
    long at = position;
    position += chunk.length();
    file.compose(f -> f.write(chunk, at)).onComplete(ar -> {
      pendingBytes -= chunk.length();
      if (ar.failed()) {
        store.release(chunk.length());
        stop("write failed: " + ar.cause().getMessage(), true);
        writeNext(); // nothing left: completes a close waiting for the flush
        return;
      }
      written += chunk.length();
      job.spooled(written);
      Handler<Void> drain = drainHandler;
      if (drain != null && pendingBytes < HIGH_WATER / 2) {
        drainHandler = null;
        drain.handle(null);
      }
      writeNext();
    });
  }

  /**
   * Takes no more chunks: what was queued within the limits is still written; after a write error (a full disk)
   * nothing more is, as the file's end is then unknown.
   */
  private void stop(String why, boolean dropQueued) {
    if (stopped) return;
    stopped = true;
    if (dropQueued) {
      for (Buffer b : pending) store.release(b.length());
      pending.clear();
      pendingBytes = 0;
    }
    job.truncate();
    store.truncated(job, dropQueued ? written : accepted, why);
    Handler<Void> drain = drainHandler;
    drainHandler = null;
    if (drain != null) drain.handle(null); // the relay never waits on a spool that takes nothing more
  }

  /** Completes once every queued byte is in the file (or the spool stopped), then closes it. */
  Future<Void> close() {
    io.vertx.core.Promise<Void> flushed = io.vertx.core.Promise.promise();
    if (writing) {
      whenFlushed = flushed::tryComplete;
    } else {
      flushed.complete();
    }
    return flushed.future().eventually(() -> file.compose(AsyncFile::close)).otherwiseEmpty();
  }

  /** Bytes queued so far: the offset the next chunk starts at. */
  long position() {
    return accepted;
  }

  long written() {
    return written;
  }
}
