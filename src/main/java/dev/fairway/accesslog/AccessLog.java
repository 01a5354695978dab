package dev.fairway.accesslog;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.OutputStreamAppender;
import ch.qos.logback.core.rolling.RollingFileAppender;
import ch.qos.logback.core.rolling.SizeAndTimeBasedRollingPolicy;
import ch.qos.logback.core.util.FileSize;
import org.slf4j.LoggerFactory;

import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The access log. Event loops only drop a record into a bounded queue (never blocking: when it is full the record
 * is counted as dropped); one daemon thread formats and writes, through a logback appender that rotates files.
 */
public final class AccessLog {

  /** Records the queue holds before new ones are dropped. */
  static final int QUEUE_SIZE = 65_536;
  private static final AccessLog OFF = new AccessLog();

  private final BlockingQueue<AccessRecord> queue;
  private final AccessLogFormat format;
  private final AtomicLong dropped = new AtomicLong();
  private final Logger logger;

  private AccessLog() {
    this.queue = null;
    this.format = null;
    this.logger = null;
  }

  private AccessLog(AccessLogFormat format, Logger logger) {
    this.queue = new ArrayBlockingQueue<>(QUEUE_SIZE);
    this.format = format;
    this.logger = logger;
    Thread writer = new Thread(this::writeLoop, "fairway-access-log");
    writer.setDaemon(true);
    writer.start();
  }

  /**
   * @param destination {@code off}, {@code stdout}, or a file path (rotated daily and at 100 MB, 14 files kept)
   */
  public static AccessLog create(String destination, AccessLogFormat format) {
    if (destination == null || destination.equals("off")) return OFF;
    LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
    Logger logger = context.getLogger("fairway.access");
    logger.detachAndStopAllAppenders();
    logger.setAdditive(false);
    logger.addAppender(appender(context, destination));
    return new AccessLog(format, logger);
  }

  private static OutputStreamAppender<ILoggingEvent> appender(LoggerContext context, String destination) {
    PatternLayoutEncoder encoder = new PatternLayoutEncoder();
    encoder.setContext(context);
    encoder.setPattern("%msg%n");
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
      policy.setFileNamePattern(destination + ".%d{yyyy-MM-dd}.%i.gz");
      policy.setMaxFileSize(FileSize.valueOf("100MB"));
      policy.setMaxHistory(14);
      policy.start();
      file.setRollingPolicy(policy);
      appender = file;
    }
    appender.setContext(context);
    appender.setName("fairway-access");
    appender.setEncoder(encoder);
    appender.start();
    return appender;
  }

  public boolean enabled() {
    return queue != null;
  }

  /** Never blocks: a full queue drops the record and counts it. */
  public void log(AccessRecord record) {
    if (queue != null && !queue.offer(record)) {
      dropped.incrementAndGet();
    }
  }

  public long dropped() {
    return dropped.get();
  }

  private void writeLoop() {
    while (true) {
      try {
        logger.info(format.format(queue.take()));
      } catch (InterruptedException e) {
        return;
      } catch (RuntimeException e) {
        dropped.incrementAndGet(); // a record that cannot be formatted must not stop the log
      }
    }
  }
}
