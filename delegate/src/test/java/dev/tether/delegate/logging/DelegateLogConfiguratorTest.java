package dev.tether.delegate.logging;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.ClassicConstants;
import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.Configurator.ExecutionStatus;
import dev.tether.common.logging.LogOutput;
import java.util.ServiceLoader;
import org.junit.jupiter.api.Test;

/**
 * The delegate's logging set up in code: logback finds the configurator, which reads
 * {@code TETHER_LOG_LEVEL} in any case (a value that is not a level gives INFO, where logback alone
 * gave DEBUG, and the delegate then refuses it at start), quiets gRPC's loggers, and gives way to
 * an operator's own configuration file and to a logback-test.xml.
 */
class DelegateLogConfiguratorTest {

  /** The root level the delegate's configuration sets when TETHER_LOG_LEVEL is {@code value}. */
  private static Level rootLevel(String value) {
    LoggerContext context = new LoggerContext();
    // looked up in the context before the system properties and the environment, as logback does
    context.putProperty("TETHER_LOG_LEVEL", value);
    new DelegateLogConfigurator().apply(context);
    try {
      return context.getLogger(Logger.ROOT_LOGGER_NAME).getLevel();
    } finally {
      context.stop();
    }
  }

  @Test
  void levelInAnyCase_isTheRootLevel_andAnythingElseIsInfoNotDebug() {
    assertThat(rootLevel("debug")).isEqualTo(Level.DEBUG);
    assertThat(rootLevel(" Warn ")).isEqualTo(Level.WARN);
    assertThat(rootLevel("")).isEqualTo(Level.INFO);
    assertThat(rootLevel("LOUD")).isEqualTo(Level.INFO);
  }

  @Test
  void everythingGoesToTheOneStderrAppender_andGrpcSaysOnlyWarnings() {
    LoggerContext context = new LoggerContext();
    new DelegateLogConfigurator().apply(context);
    try {
      assertThat(context.getLogger(Logger.ROOT_LOGGER_NAME).getAppender(LogOutput.APPENDER)).isNotNull();
      assertThat(context.getLogger("io.grpc").getLevel()).isEqualTo(Level.WARN);
      assertThat(context.getLogger("io.grpc.okhttp.OkHttpClientTransport").getEffectiveLevel()).isEqualTo(Level.WARN);
      assertThat(context.getLogger("io.grpc.internal.ManagedChannelImpl").getLevel()).isEqualTo(Level.ERROR);
      assertThat(context.getCopyOfListenerList()).as("levels passed on to java.util.logging, where gRPC logs")
          .anyMatch(listener -> listener instanceof ch.qos.logback.classic.jul.LevelChangePropagator);
    } finally {
      context.stop();
    }
  }

  @Test
  void logbackFindsIt_asAServiceOfTheJar() {
    assertThat(ServiceLoader.load(Configurator.class).stream().map(ServiceLoader.Provider::type))
        .contains(DelegateLogConfigurator.class);
  }

  @Test
  void anOperatorsOwnFile_orALogbackTestXml_isLeftToLogback() {
    // this module's tests have a logback-test.xml on the class path
    LoggerContext context = new LoggerContext();
    assertThat(new DelegateLogConfigurator().configure(context)).isEqualTo(ExecutionStatus.INVOKE_NEXT_IF_ANY);
    assertThat(context.getLogger(Logger.ROOT_LOGGER_NAME).getAppender(LogOutput.APPENDER)).isNull();
    String before = System.getProperty(ClassicConstants.CONFIG_FILE_PROPERTY);
    System.setProperty(ClassicConstants.CONFIG_FILE_PROPERTY, "/etc/tether/logback.xml");
    try {
      assertThat(new DelegateLogConfigurator().configure(context)).isEqualTo(ExecutionStatus.INVOKE_NEXT_IF_ANY);
    } finally {
      if (before == null) {
        System.clearProperty(ClassicConstants.CONFIG_FILE_PROPERTY);
      } else {
        System.setProperty(ClassicConstants.CONFIG_FILE_PROPERTY, before);
      }
    }
  }
}
