package dev.fairway.ops;

import ch.qos.logback.classic.AsyncAppender;
import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.spi.ContextAwareBase;
import org.slf4j.Logger;

/**
 * Fairway's own log set up in code, as logback finds it through its Configurator service: lines to standard error
 * through an appender that never blocks (a slow terminal must not stall an event loop), at {@code FAIRWAY_LOG_LEVEL}
 * (info by default) until {@code log-level} applies ({@link Logging}). Set up from an XML file instead, logback loads
 * about 470 more classes at every start. A file named by {@code -Dlogback.configurationFile} still replaces all of
 * this.
 */
public final class LogSetup extends ContextAwareBase implements Configurator {

  static final String PATTERN = "%d{HH:mm:ss.SSS} %-5level %logger{0} - %msg%n";

  @Override
  public ExecutionStatus configure(LoggerContext context) {
    if (System.getProperty("logback.configurationFile") != null) return ExecutionStatus.INVOKE_NEXT_IF_ANY;
    ConsoleAppender<ILoggingEvent> stderr = new ConsoleAppender<>();
    stderr.setContext(context);
    stderr.setName("STDERR");
    stderr.setTarget("System.err");
    stderr.setEncoder(encoder(context, PATTERN));
    stderr.start();
    AsyncAppender async = new AsyncAppender();
    async.setContext(context);
    async.setName("ASYNC");
    async.setNeverBlock(true);
    async.addAppender(stderr);
    async.start();
    ch.qos.logback.classic.Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
    root.setLevel(Level.toLevel(System.getenv("FAIRWAY_LOG_LEVEL"), Level.INFO));
    root.addAppender(async);
    context.getLogger("io.netty").setLevel(Level.WARN);
    // Vert.x registers one event-bus gauge twice at start-up; Micrometer's warning about it is noise
    context.getLogger("io.micrometer.core.instrument.MeterRegistry").setLevel(Level.ERROR);
    return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
  }

  /** A started encoder of lines in {@code pattern}. */
  static PatternLayoutEncoder encoder(LoggerContext context, String pattern) {
    PatternLayoutEncoder encoder = new PatternLayoutEncoder();
    encoder.setContext(context);
    encoder.setPattern(pattern);
    encoder.start();
    return encoder;
  }
}
