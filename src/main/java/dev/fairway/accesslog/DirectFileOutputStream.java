package dev.fairway.accesslog;

import com.sun.nio.file.ExtendedOpenOption;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Appends to a file, writing whole blocks with {@code O_DIRECT} (past the page cache) and only each write's unaligned
 * ends (the rest of a block a previous flush left partly written, and what a flush leaves of the last one) through
 * the page cache, so no block is ever written both ways. Both ways append ({@code O_APPEND}): another writer of the
 * same file (the log a reload replaces, still writing its last lines; another process) is never overwritten.
 *
 * <p>Why: an access log only grows, so each page of it the page cache takes is a page of free memory touched for the
 * first time. On a virtual machine whose host takes back free memory, that first touch is a fault on the host: copying
 * a log into the page cache cost about 2 us per 4 KiB on such a machine (500 MB in 1.1-1.2 s of system time, against 0.05 s with
 * {@code O_DIRECT}), about 3% of the proxy's CPU at 50,000 lines a second. An access log is written once and rarely
 * read back, so it has little to gain from the cache anyway, and no longer pushes other files out of it.
 *
 * <p>Used by one thread at a time (logback's appender holds its lock around each write). A failed write never stops
 * the log: a failed direct write falls back to the page cache for the rest of this file, and if that fails too, the
 * bytes are dropped (their lines counted in {@code dropped}) and the next write tries again.
 */
final class DirectFileOutputStream extends OutputStream {

  private static final Logger log = LoggerFactory.getLogger(DirectFileOutputStream.class);
  /** What is kept before whole blocks are written out: four of the event loops' 256 KiB blocks. */
  static final int BUFFER_BYTES = 1024 * 1024;

  private final Path path;
  private final FileChannel cached;
  private FileChannel direct;
  private final int block;
  /** Aligned to {@code block}: what is not written yet. */
  private final ByteBuffer pending;
  private final AtomicLong dropped;
  private boolean failing;

  private DirectFileOutputStream(Path path, FileChannel cached, FileChannel direct, int block, AtomicLong dropped) {
    this.path = path;
    this.cached = cached;
    this.direct = direct;
    this.block = block;
    this.pending = ByteBuffer.allocateDirect(BUFFER_BYTES + block).alignedSlice(block);
    this.dropped = dropped;
  }

  /**
   * Opens {@code path} for appending (creating it), or returns null if its file system does not take {@code O_DIRECT}
   * writes (tmpfs before Linux 6.6, some network file systems): the caller then writes through the page cache as usual.
   */
  static DirectFileOutputStream open(Path path, AtomicLong dropped) throws IOException {
    FileChannel cached = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    FileChannel direct;
    int block;
    try {
      block = Math.toIntExact(Files.getFileStore(path).getBlockSize());
      direct = FileChannel.open(path, StandardOpenOption.APPEND, ExtendedOpenOption.DIRECT);
    } catch (IOException | UnsupportedOperationException | ArithmeticException e) {
      cached.close();
      return null;
    }
    return new DirectFileOutputStream(path, cached, direct, block, dropped);
  }

  /** Whether whole blocks still go past the page cache (false after a direct write failed). */
  boolean direct() {
    return direct != null;
  }

  @Override
  public void write(int b) throws IOException {
    write(new byte[] {(byte) b}, 0, 1);
  }

  @Override
  public void write(byte[] b, int off, int len) {
    while (len > 0) {
      int n = Math.min(len, pending.remaining());
      pending.put(b, off, n);
      off += n;
      len -= n;
      if (!pending.hasRemaining()) drain(false);
    }
  }

  /** Writes everything so far, the last partial block through the page cache. */
  @Override
  public void flush() {
    drain(true);
  }

  @Override
  public void close() throws IOException {
    try {
      flush();
    } finally {
      if (direct != null) direct.close();
      cached.close();
    }
  }

  /**
   * Writes what is pending: up to the next block boundary through the page cache, then whole blocks past it, then (if
   * {@code all}) the rest through the page cache; what is left stays pending.
   */
  private void drain(boolean all) {
    pending.flip();
    if (!pending.hasRemaining()) {
      pending.clear();
      return;
    }
    long end = endOfFile();
    int head = end < 0 ? pending.remaining() : (int) Math.min(pending.remaining(), Math.floorMod(-end, (long) block));
    if (head > 0) {
      writeCached(head);
      pending.compact().flip(); // the next byte is at a block boundary in the file: move it to the aligned start
    }
    int whole = pending.remaining() / block * block;
    if (whole > 0) writeDirect(whole);
    if (all && pending.hasRemaining()) writeCached(pending.remaining());
    pending.compact();
  }

  private void writeDirect(int n) {
    if (direct == null) {
      writeCached(n);
      return;
    }
    ByteBuffer whole = pending.slice(pending.position(), n);
    try {
      direct.write(whole); // fails, unwritten, if another writer has just left the end of the file off a block boundary
    } catch (IOException e) {
      log.warn("access log {}: direct writes failed ({}); writing through the page cache from now on", path, e.toString());
      closeDirect();
    }
    pending.position(pending.position() + whole.position());
    if (whole.hasRemaining()) writeCached(whole.remaining()); // a short or failed direct write: the rest this way
  }

  private void writeCached(int n) {
    ByteBuffer part = pending.slice(pending.position(), n);
    try {
      while (part.hasRemaining()) cached.write(part);
      if (failing) log.info("access log {}: writing again", path);
      failing = false;
    } catch (IOException e) {
      long lines = 0;
      while (part.hasRemaining()) if (part.get() == '\n') lines++;
      dropped.addAndGet(lines);
      if (!failing) log.error("access log {}: write failed, lines dropped until it succeeds: {}", path, e.toString());
      failing = true;
    }
    pending.position(pending.position() + n);
  }

  /** Where the next append lands, or -1 if the file cannot say (then this drain goes through the cache). */
  private long endOfFile() {
    try {
      return cached.size();
    } catch (IOException e) {
      return -1;
    }
  }

  private void closeDirect() {
    try {
      direct.close();
    } catch (IOException ignored) {
      // the cached channel carries on
    }
    direct = null;
  }
}
