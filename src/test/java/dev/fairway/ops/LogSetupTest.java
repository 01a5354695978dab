package dev.fairway.ops;

import ch.qos.logback.classic.AsyncAppender;
import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.core.ConsoleAppender;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ServiceLoader;

import static org.assertj.core.api.Assertions.assertThat;

/** Fairway's log as logback sets it up: in code, found through logback's Configurator service. */
class LogSetupTest {

  @Test
  void logLinesGoToStandardErrorThroughAnAppenderThatNeverBlocks() {
    LoggerContext context = new LoggerContext();
    assertThat(new LogSetup().configure(context)).isEqualTo(Configurator.ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY);
    ch.qos.logback.classic.Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
    AsyncAppender async = (AsyncAppender) root.getAppender("ASYNC");
    assertThat(async.isNeverBlock()).isTrue();
    assertThat(async.isStarted()).isTrue();
    ConsoleAppender<?> stderr = (ConsoleAppender<?>) async.getAppender("STDERR");
    assertThat(stderr.getTarget()).isEqualTo("System.err");
    assertThat(root.getLevel()).isEqualTo(Level.toLevel(System.getenv("FAIRWAY_LOG_LEVEL"), Level.INFO));
    assertThat(context.getLogger("io.netty").getLevel()).isEqualTo(Level.WARN);
    assertThat(context.getLogger("io.micrometer.core.instrument.MeterRegistry").getLevel()).isEqualTo(Level.ERROR);
  }

  @Test
  void aConfigurationFileNamedOnTheCommandLineReplacesIt() {
    LoggerContext context = new LoggerContext();
    System.setProperty("logback.configurationFile", "/etc/fairway/logback.xml");
    try {
      assertThat(new LogSetup().configure(context)).isEqualTo(Configurator.ExecutionStatus.INVOKE_NEXT_IF_ANY);
    } finally {
      System.clearProperty("logback.configurationFile");
    }
    assertThat(context.getLogger(Logger.ROOT_LOGGER_NAME).iteratorForAppenders().hasNext()).isFalse();
  }

  @Test
  void logbackFindsItAsAService() {
    assertThat(ServiceLoader.load(Configurator.class).stream().map(ServiceLoader.Provider::type))
      .contains(LogSetup.class);
    // and this JVM's log was set up by it
    LoggerContext running = (LoggerContext) LoggerFactory.getILoggerFactory();
    assertThat(running.getLogger(Logger.ROOT_LOGGER_NAME).getAppender("ASYNC")).isInstanceOf(AsyncAppender.class);
  }
}
