package dev.fairway.ops;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.FileAppender;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Applies {@code log-level} and {@code error-log} to Fairway's own log (the access log is separate). */
public final class Logging {

  private Logging() {
  }

  public static void configure(String level, String errorLog) {
    LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
    ch.qos.logback.classic.Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
    root.setLevel(Level.toLevel(level, Level.INFO));
    // a cluster's member protocol speaks at info about every step; Fairway says what matters (who joined, who left)
    Level quiet = root.getLevel().isGreaterOrEqual(Level.INFO) ? Level.WARN : root.getLevel();
    context.getLogger("com.hazelcast").setLevel(quiet);
    context.getLogger("io.vertx.spi.cluster").setLevel(quiet);
    if (errorLog == null || errorLog.equals("stderr")) return;
    FileAppender<ILoggingEvent> file = new FileAppender<>();
    file.setContext(context);
    file.setName("error-log");
    file.setFile(errorLog);
    file.setEncoder(LogSetup.encoder(context, "%d{yyyy-MM-dd HH:mm:ss.SSS} %-5level %logger{0} - %msg%n"));
    file.start();
    root.detachAndStopAllAppenders();
    root.addAppender(file);
  }
}
