package dev.fairway.accesslog;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.core.encoder.EncoderBase;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.OutputStreamAppender;
import ch.qos.logback.core.rolling.RollingFileAppender;
import ch.qos.logback.core.rolling.SizeAndTimeBasedRollingPolicy;
import ch.qos.logback.core.util.FileSize;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The access log. Event loops only drop a record into a bounded queue (never blocking: when it is full the record
 * is counted as dropped); one daemon thread formats and writes, through a logback appender that rotates files.
 */
public final class AccessLog {

  /** Records the queue holds before new ones are dropped. */
  static final int QUEUE_SIZE = 65_536;
  private static final long IDLE_WAIT_NANOS = 5_000_000;
  /** Lines per logback event. */
  private static final int BATCH = 1024;
  private static final AccessLog OFF = new AccessLog();

  /** Lock-free: with a lock, a writer preempted while draining would stall the event loops behind it. */
  private final Queue<AccessRecord> queue;
  private final AtomicInteger queued = new AtomicInteger();
  private final AccessLogFormat format;
  private final AtomicLong dropped = new AtomicLong();
  private final Logger logger;

  private AccessLog() {
    this.queue = null;
    this.format = null;
    this.logger = null;
  }

  private AccessLog(AccessLogFormat format, Logger logger) {
    this.queue = new ConcurrentLinkedQueue<>();
    this.format = format;
    this.logger = logger;
    Thread writer = new Thread(this::writeLoop, "fairway-access-log");
    writer.setDaemon(true);
    writer.start();
  }

  /** A file log's rotation: daily and at {@code maxSize} bytes, 14 files kept, gzipped if {@code compress}. */
  public record Rotation(long maxSize, boolean compress) {
  }

  /**
   * @param destination {@code off}, {@code stdout}, or a file path (rotated as {@code rotation} says)
   */
  public static AccessLog create(String destination, AccessLogFormat format, Rotation rotation) {
    if (destination == null || destination.equals("off")) return OFF;
    LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
    Logger logger = context.getLogger("fairway.access");
    logger.detachAndStopAllAppenders();
    logger.setAdditive(false);
    logger.addAppender(appender(context, destination, rotation));
    return new AccessLog(format, logger);
  }

  private static OutputStreamAppender<ILoggingEvent> appender(LoggerContext context, String destination, Rotation rotation) {
    LinesEncoder encoder = new LinesEncoder();
    encoder.setContext(context);
    encoder.start();
    OutputStreamAppender<ILoggingEvent> appender;
    if (destination.equals("stdout")) {
      appender = new ConsoleAppender<>();
    } else {
      RollingFileAppender<ILoggingEvent> file = new RollingFileAppender<>();
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
    return appender;
  }

  /** Writes each event's message as it is: a batch of lines, each already ending with a newline. */
  private static final class LinesEncoder extends EncoderBase<ILoggingEvent> {
    @Override
    public byte[] headerBytes() {
      return null;
    }

    @Override
    public byte[] encode(ILoggingEvent event) {
      return event.getMessage().getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public byte[] footerBytes() {
      return null;
    }
  }

  public boolean enabled() {
    return queue != null;
  }

  /** Never blocks: a full queue drops the record and counts it. */
  public void log(AccessRecord record) {
    if (queue == null) return;
    if (queued.incrementAndGet() > QUEUE_SIZE) {
      queued.decrementAndGet();
      dropped.incrementAndGet();
      return;
    }
    queue.offer(record);
  }

  public long dropped() {
    return dropped.get();
  }

  /**
   * Takes records in batches and sleeps briefly when there are none, rather than waiting on the queue: so an event
   * loop's offer never has to wake this thread (which, on a small machine, would cost a context switch per request).
   * Once caught up it also waits before the next batch, so batches are large under load. A batch is formatted into one buffer and handed to logback as one event: its per-event work (event object,
   * layout, lock, encoding) is paid once per batch, not per line. Flushes whenever the queue runs dry, so a quiet log
   * is at most a few milliseconds behind.
   */
  private void writeLoop() {
    java.util.List<AccessRecord> batch = new java.util.ArrayList<>(BATCH);
    StringBuilder lines = new StringBuilder(BATCH * 256);
    while (!Thread.currentThread().isInterrupted()) {
      for (AccessRecord r; batch.size() < BATCH && (r = queue.poll()) != null; ) {
        batch.add(r);
      }
      queued.addAndGet(-batch.size());
      if (batch.isEmpty()) {
        flush();
        java.util.concurrent.locks.LockSupport.parkNanos(IDLE_WAIT_NANOS);
        continue;
      }
      for (AccessRecord r : batch) {
        int mark = lines.length();
        try {
          format.appendTo(lines, r);
          lines.append('\n');
        } catch (RuntimeException e) {
          lines.setLength(mark);
          dropped.incrementAndGet(); // a record that cannot be formatted must not stop the log
        }
      }
      boolean full = batch.size() == BATCH;
      batch.clear();
      if (lines.length() > 0) {
        logger.info(lines.toString());
        lines.setLength(0);
      }
      if (!full) {
        // caught up: let lines gather rather than wake for each few (on one core this thread and the event loop
        // take turns, and every turn costs a context switch)
        java.util.concurrent.locks.LockSupport.parkNanos(IDLE_WAIT_NANOS);
      }
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
