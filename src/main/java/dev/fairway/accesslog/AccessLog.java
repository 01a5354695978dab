package dev.fairway.accesslog;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.core.encoder.EncoderBase;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.FileAppender;
import ch.qos.logback.core.OutputStreamAppender;
import ch.qos.logback.core.rolling.RollingFileAppender;
import ch.qos.logback.core.rolling.SizeAndTimeBasedRollingPolicy;
import ch.qos.logback.core.status.Status;
import ch.qos.logback.core.util.FileSize;
import ch.qos.logback.core.util.FileUtil;
import dev.fairway.config.ConfigException;
import org.slf4j.LoggerFactory;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * The access log. Each event loop formats its finished requests into a block of lines of its own ({@link Lines}),
 * while the request's values are still in its cache, and hands each block (when full, or 50 ms after its first line)
 * to one daemon thread that writes it through a logback appender that rotates files. The event loop never
 * waits: when the writer is too far behind, a block is dropped and its lines counted.
 *
 * <p>Why the event loop formats: when records went to the writer thread to format, reading each one back (the
 * record and its strings, scattered among a request's other garbage and out of cache by then) cost the writer about
 * 0.5 us per line, four times what formatting costs where the values are still cached.
 *
 * <p>Why one class of this length: the event loops' side ({@link Lines}), the hand-off queue, the writer thread and
 * the logback appenders are one protocol (blocks in, bytes out, drops counted, nothing lost at a switch or a close),
 * and its invariants are easier to check when they sit side by side.
 */
public final class AccessLog {

  /** Lines the writer may have waiting before whole blocks are dropped. */
  static final int QUEUE_LINES = 65_536;
  /** The writer sleeps until a hand-off wakes it; this bound is only a safety net. */
  private static final long WAKE_TIMEOUT_NANOS = 1_000_000_000;
  /**
   * How long an event loop keeps a block's first line: lines reach the file within about twice this. Handing off
   * fewer, fuller blocks (50 ms and 256 KiB rather than 5 ms and 64 KiB) cut the log's cost from 4.8% to 4.0% of
   * throughput (two Fairways switched by reload, side by side): each hand-off wakes the writer, which on a busy core
   * preempts an event loop.
   */
  public static final long HANDOFF_MILLIS = 50;
  /** The writer flushes at most this often. */
  private static final long FLUSH_NANOS = HANDOFF_MILLIS * 1_000_000;
  /** How often an event loop reads the wall clock for its lines' times (an NTP step shows within this). */
  private static final long ANCHOR_NANOS = 1_000_000_000;
  /** A block this long goes to the writer at once. */
  private static final int BLOCK_BYTES = 256 * 1024;
  /** Each log has a logger of its own: a reload opens the next log while the previous one's writer still writes. */
  private static final AtomicInteger LOGGERS = new AtomicInteger();

  /** Lock-free: with a lock, a writer preempted while draining would stall the event loops behind it. */
  private final Queue<Block> queue;
  private final AtomicInteger queuedLines = new AtomicInteger();
  private final AccessLogFormat format;
  /** Shared with the logs that replace this one on a reload, so the count never goes back. */
  private final AtomicLong dropped;
  private final Logger logger;
  private final Thread writer;
  private volatile boolean closing;

  /** Off: lines are neither formatted nor written. */
  private AccessLog(AtomicLong dropped) {
    this.queue = null;
    this.format = null;
    this.logger = null;
    this.writer = null;
    this.dropped = dropped;
  }

  private AccessLog(AccessLogFormat format, Logger logger, AtomicLong dropped) {
    this.queue = new ConcurrentLinkedQueue<>();
    this.format = format;
    this.logger = logger;
    this.dropped = dropped;
    this.writer = new Thread(this::writeLoop, "fairway-access-log");
    writer.setDaemon(true);
    writer.start();
  }

  private record Block(byte[] text, int lines) {
  }

  /** A file log's rotation: daily and at {@code maxSize} bytes, 14 files kept, gzipped if {@code compress}. */
  public record Rotation(long maxSize, boolean compress) {
  }

  /**
   * Opens a log (a file is created, with its directories, if missing). Blocking file I/O: not on an event loop.
   *
   * @param destination {@code off}, {@code stdout}, or a file path (rotated as {@code rotation} says)
   * @throws ConfigException naming {@code access-log} when the file cannot be written
   */
  public static AccessLog create(String destination, AccessLogFormat format, Rotation rotation) {
    return open(destination, format, rotation, new AtomicLong());
  }

  /**
   * Opens the log that replaces this one on a reload; it carries on this one's count of dropped lines. This one keeps
   * writing what it was handed until {@link #close}.
   */
  public AccessLog successor(String destination, AccessLogFormat format, Rotation rotation) {
    return open(destination, format, rotation, dropped);
  }

  private static AccessLog open(String destination, AccessLogFormat format, Rotation rotation, AtomicLong dropped) {
    if (destination == null || destination.equals("off")) return new AccessLog(dropped);
    LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
    Logger logger = context.getLogger("fairway.access." + LOGGERS.incrementAndGet());
    logger.setAdditive(false);
    logger.addAppender(appender(context, destination, rotation, dropped));
    return new AccessLog(format, logger, dropped);
  }

  private static OutputStreamAppender<ILoggingEvent> appender(LoggerContext context, String destination, Rotation rotation,
                                                              AtomicLong dropped) {
    LinesEncoder encoder = new LinesEncoder();
    encoder.setContext(context);
    encoder.start();
    OutputStreamAppender<ILoggingEvent> appender;
    if (destination.equals("stdout")) {
      appender = new ConsoleAppender<>();
    } else if (writtenAsItIs(destination)) {
      // /dev/null, /dev/stderr, a named pipe: written as they are. Rotating one would rename the device away and put a
      // plain file in its place (logback did that to /dev/null on a test machine, on the first write of a new day).
      FileAppender<ILoggingEvent> device = new FileAppender<>();
      device.setFile(destination);
      appender = device;
    } else {
      RollingFileAppender<ILoggingEvent> file = new DirectRollingFileAppender(dropped);
      file.setFile(destination);
      SizeAndTimeBasedRollingPolicy<ILoggingEvent> policy = new SizeAndTimeBasedRollingPolicy<>();
      policy.setContext(context);
      policy.setParent(file);
      // logback gzips on its own thread, but at about 1 us per line that costs as much CPU as the rest of the log
      policy.setFileNamePattern(destination + ".%d{yyyy-MM-dd}.%i" + (rotation.compress() ? ".gz" : ""));
      policy.setMaxFileSize(new FileSize(rotation.maxSize()));
      policy.setMaxHistory(14);
      policy.start();
      file.setRollingPolicy(policy);
      appender = file;
    }
    appender.setContext(context);
    appender.setName("fairway-access");
    appender.setEncoder(encoder);
    // buffered: one write per 8 KiB instead of one per line (lines still reach the file within the writer's idle wait)
    appender.setImmediateFlush(false);
    appender.start();
    if (!appender.isStarted()) {
      throw ConfigException.invalid("access-log", destination, "stdout, off, or a file Fairway can write: " + lastError(context));
    }
    return appender;
  }

  /**
   * A destination that exists but is not a regular file (a directory fails to open, as it would anyway), or any path
   * under /dev or /proc: {@code /dev/stderr} redirected to a file is a regular file behind a link, and rotating would
   * rename the link.
   */
  static boolean writtenAsItIs(String destination) {
    Path path = Path.of(destination).toAbsolutePath().normalize();
    if (path.startsWith("/dev") || path.startsWith("/proc")) return true;
    return Files.exists(path) && !Files.isRegularFile(path) && !Files.isDirectory(path);
  }

  /**
   * logback's rolling file appender (its rotation, compression and clean-up as they are), writing each file it opens
   * with a {@link DirectFileOutputStream} where the file system takes that.
   */
  private static final class DirectRollingFileAppender extends RollingFileAppender<ILoggingEvent> {
    private final AtomicLong dropped;

    DirectRollingFileAppender(AtomicLong dropped) {
      this.dropped = dropped;
    }

    @Override
    public void openFile(String fileName) throws java.io.IOException {
      streamWriteLock.lock();
      try {
        FileUtil.createMissingParentDirectories(new java.io.File(fileName)); // as logback's own openFile does
        DirectFileOutputStream out = DirectFileOutputStream.open(Path.of(fileName), dropped);
        if (out == null) {
          super.openFile(fileName);
        } else {
          setOutputStream(out);
        }
      } finally {
        streamWriteLock.unlock();
      }
    }
  }

  /** Why logback refused to start an appender: it reports that as a status, not an exception. */
  private static String lastError(LoggerContext context) {
    String why = "cannot open it";
    for (Status s : context.getStatusManager().getCopyOfStatusList()) {
      if (s.getLevel() == Status.ERROR) why = s.getThrowable() != null ? s.getThrowable().getMessage() : s.getMessage();
    }
    return why;
  }

  /** Writes each event's one argument as it is: a block of lines in bytes, each line ending with a newline. */
  private static final class LinesEncoder extends EncoderBase<ILoggingEvent> {
    @Override
    public byte[] headerBytes() {
      return null;
    }

    @Override
    public byte[] encode(ILoggingEvent event) {
      return (byte[]) event.getArgumentArray()[0];
    }

    @Override
    public byte[] footerBytes() {
      return null;
    }
  }

  public boolean enabled() {
    return queue != null;
  }

  /**
   * A new event loop's side of this log.
   *
   * @param firstLine called when a line goes into an empty block: the event loop then calls {@link Lines#handOff} within
   *                  {@link #HANDOFF_MILLIS} (a timer per block rather than a periodic one, so an idle proxy never wakes)
   */
  public Lines lines(Runnable firstLine) {
    return new Lines(firstLine);
  }

  public long dropped() {
    return dropped.get();
  }

  /**
   * One event loop's lines: {@link #log} formats a record into the current block, which goes to the writer when full
   * or at the next {@link #handOff}, which its owner calls within {@link #HANDOFF_MILLIS} of the block's first line.
   * Used by that event loop only.
   */
  public final class Lines {
    private final AccessLogFormat.Clock clock = new AccessLogFormat.Clock();
    private final Runnable firstLine;
    private LineBuffer block;
    private int lines;
    private long anchorNanos;
    private long anchorMillis;

    private Lines(Runnable firstLine) {
      this.firstLine = firstLine;
      anchorNanos = System.nanoTime() - 2 * ANCHOR_NANOS;
    }

    /** False when the log is off: nothing is written, so nothing need be gathered for it. */
    public boolean enabled() {
      return queue != null;
    }

    /**
     * The wall-clock time at {@code nanoTime} (a {@link System#nanoTime()} the caller has read), from a wall clock
     * read once a second: clock reads cost 20-30 ns each on the machines measured, and a request already has several.
     */
    public long epochMillis(long nanoTime) {
      long since = nanoTime - anchorNanos;
      if (since >= 0 && since < ANCHOR_NANOS) return anchorMillis + since / 1_000_000;
      anchorNanos = nanoTime;
      anchorMillis = System.currentTimeMillis();
      return anchorMillis;
    }

    /** Never blocks; a record that cannot be formatted is counted as dropped (it must not stop the log). */
    public void log(AccessRecord record) {
      if (queue == null) return;
      if (block == null) block = new LineBuffer(BLOCK_BYTES + 1024);
      int mark = block.length();
      try {
        format.appendTo(block, record, clock);
        block.append('\n');
      } catch (RuntimeException e) {
        block.setLength(mark);
        dropped.incrementAndGet();
        return;
      }
      if (lines++ == 0) firstLine.run();
      if (block.length() >= BLOCK_BYTES) handOff();
    }

    /** Gives the writer this loop's lines so far. */
    public void handOff() {
      if (lines == 0) return;
      byte[] text = block.toBytes();
      int n = lines;
      block.setLength(0);
      lines = 0;
      if (queuedLines.addAndGet(n) > QUEUE_LINES) {
        queuedLines.addAndGet(-n);
        dropped.addAndGet(n);
        return;
      }
      queue.offer(new Block(text, n));
      LockSupport.unpark(writer); // once per block: cheap, and an idle writer need not poll
    }
  }

  /**
   * Writes what the event loops have handed off, stops the writer and closes the file (call once no event loop logs
   * to it any more). Blocks for up to 2 s: not on an event loop.
   */
  public void close() {
    if (writer == null) return;
    closing = true;
    LockSupport.unpark(writer);
    try {
      writer.join(2_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    logger.detachAndStopAllAppenders();
  }

  /**
   * Writes blocks as they come, each as one logback event (logback's per-event work is paid once per block, not per
   * line); flushes once the queue runs dry, but not more often than every {@link #HANDOFF_MILLIS} (each flush is a
   * write of its own: under load, the blocks that arrive meanwhile go out with it); then sleeps until the next
   * hand-off wakes it.
   */
  private void writeLoop() {
    long flushedAt = System.nanoTime() - FLUSH_NANOS;
    while (true) {
      Block b = queue.poll();
      if (b == null) {
        long wait = FLUSH_NANOS - (System.nanoTime() - flushedAt);
        if (wait > 0 && !closing) {
          LockSupport.parkNanos(wait); // a hand-off meanwhile is written at once, and flushed with the rest
          continue;
        }
        flush();
        flushedAt = System.nanoTime();
        if (closing) {
          if (queue.isEmpty()) return;
          continue; // a last block came while flushing: written at once, not after a sleep
        }
        LockSupport.parkNanos(WAKE_TIMEOUT_NANOS); // until a hand-off or close unparks it
        continue;
      }
      queuedLines.addAndGet(-b.lines());
      logger.info("", (Object) b.text()); // no "{}" in the message: logback never formats the block
    }
  }

  private void flush() {
    logger.iteratorForAppenders().forEachRemaining(a -> {
      if (a instanceof OutputStreamAppender<ILoggingEvent> out) {
        try {
          out.getOutputStream().flush();
        } catch (java.io.IOException | RuntimeException ignored) {
          // the next write reports it
        }
      }
    });
  }
}
