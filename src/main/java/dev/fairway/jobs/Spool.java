package dev.fairway.jobs;

import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Writes one job's response body to its spool file, in order, from the runner's event loop: the chunks that queue
 * while a write is on a worker thread go in the next one, as one gathering write ({@code writev}) without copying
 * them, so a fast upstream costs a few large writes rather than one thread hop per chunk (one hop per 64 KiB chunk
 * relayed at a third of the network's speed). {@link #writeQueueFull()} is the relay's back-pressure (a disk slower
 * than the network slows the upstream, never the heap); each completed write tells the job, so readers follow it byte
 * for byte. Past max-size or the spool's max-total it takes no more (what it took is still written); on a write error
 * (a full disk) it drops the rest; either way it marks the job truncated, and the live client is never affected.
 */
final class Spool {

  /** Bytes queued for the file before the relay pauses the upstream. */
  static final int HIGH_WATER = 512 * 1024;
  /** Bytes written at once when they come fast; fewer wait at most {@link #BATCH_WAIT_MILLIS} for more. */
  static final int BATCH = 256 * 1024;
  static final long BATCH_WAIT_MILLIS = 2;

  private final JobStore store;
  private final Job job;
  private final Vertx vertx;
  /** The spool file as it opens (on a worker thread): chunks queue until it is open. */
  private final Future<FileChannel> file;
  private final long maxSize;
  private List<byte[]> pending = new ArrayList<>();
  private int pendingBytes;
  private long written;
  /** Bytes accepted so far: the spool offset the next chunk starts at. */
  private long accepted;
  private boolean writing;
  private boolean stopped;
  private Handler<Void> drainHandler;
  private Runnable whenFlushed;
  private long batchTimer = -1;

  Spool(JobStore store, Job job, Vertx vertx, Future<FileChannel> file, long maxSize) {
    this.store = store;
    this.job = job;
    this.vertx = vertx;
    this.file = file;
    this.maxSize = maxSize;
  }

  /**
   * Queues a copy of {@code chunk} for the file: the relay frees a chunk's memory once it is written to the client,
   * which may be before the spool's turn comes.
   */
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
    pending.add(chunk.getBytes());
    pendingBytes += chunk.length();
    accepted += chunk.length();
    if (writing) return;
    if (pendingBytes >= BATCH) {
      writeNext();
    } else if (batchTimer < 0) {
      // a small chunk waits a moment for others: a thread hop per 64 KiB chunk cost more than the write itself
      batchTimer = vertx.setTimer(BATCH_WAIT_MILLIS, id -> {
        batchTimer = -1;
        if (!writing) writeNext();
      });
    }
  }

  boolean writeQueueFull() {
    return !stopped && pendingBytes >= HIGH_WATER; // a stopped spool never holds up the live client
  }

  void drainHandler(Handler<Void> handler) {
    drainHandler = handler;
  }

  /** Bytes accepted so far: the offset the next chunk starts at. */
  long position() {
    return accepted;
  }

  /** Hands everything queued to one write on a worker thread; the next waits for it, so the file stays in order. */
  private void writeNext() {
    if (pending.isEmpty()) {
      writing = false;
      Runnable flushed = whenFlushed;
      whenFlushed = null;
      if (flushed != null) flushed.run();
      return;
    }
    writing = true;
    List<byte[]> batch = pending;
    int bytes = pendingBytes;
    pending = new ArrayList<>();
    file.compose(channel -> vertx.executeBlocking(() -> {
      ByteBuffer[] parts = new ByteBuffer[batch.size()];
      for (int i = 0; i < parts.length; i++) parts[i] = ByteBuffer.wrap(batch.get(i));
      long left = bytes;
      while (left > 0) left -= channel.write(parts);
      return null;
    }, false)).onComplete(ar -> {
      pendingBytes -= bytes;
      if (ar.failed()) {
        store.release(bytes);
        stop("write failed: " + ar.cause().getMessage(), true);
      } else {
        written += bytes;
        job.spooled(written);
      }
      Handler<Void> drain = drainHandler;
      if (drain != null && pendingBytes < HIGH_WATER / 2) {
        drainHandler = null;
        drain.handle(null);
      }
      if (pendingBytes >= BATCH || whenFlushed != null || stopped) {
        writeNext();
      } else {
        writing = false;
        if (!pending.isEmpty() && batchTimer < 0) {
          batchTimer = vertx.setTimer(BATCH_WAIT_MILLIS, id -> {
            batchTimer = -1;
            if (!writing) writeNext();
          });
        }
      }
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
      for (byte[] b : pending) store.release(b.length);
      pendingBytes -= pending.stream().mapToInt(b -> b.length).sum();
      pending.clear();
    }
    job.truncate();
    store.truncated(job, dropQueued ? written : accepted, why);
    Handler<Void> drain = drainHandler;
    drainHandler = null;
    if (drain != null) drain.handle(null); // the relay never waits on a spool that takes nothing more
  }

  /** Completes once every queued byte is in the file (or the spool stopped on an error), then closes it. */
  Future<Void> close() {
    Promise<Void> flushed = Promise.promise();
    if (writing) {
      whenFlushed = flushed::tryComplete;
    } else if (!pending.isEmpty()) {
      whenFlushed = flushed::tryComplete;
      writeNext(); // what waits for a batch goes now
    } else {
      flushed.complete();
    }
    return flushed.future()
      .compose(v -> file.compose(channel -> vertx.<Void>executeBlocking(() -> {
        channel.close();
        return null;
      }, false)))
      .otherwiseEmpty();
  }

  /** Opens (and empties) a spool file, created with mode 0600: blocking, on a worker thread. */
  static FileChannel open(Path path) throws IOException {
    return FileChannel.open(path, Set.of(StandardOpenOption.WRITE, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING),
      PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
  }
}
