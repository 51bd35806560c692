package dev.tether.delegate.logging;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.joran.JoranConfigurator;
import org.junit.jupiter.api.Test;

/**
 * The delegate's own logback.xml reads {@code TETHER_LOG_LEVEL} in any case; a value that is not a
 * level gives INFO (logback alone gave DEBUG), and the delegate then refuses it at start.
 */
class RootLogLevelTest {

  /** The root level the delegate's logback.xml sets when TETHER_LOG_LEVEL is {@code value}. */
  private static Level rootLevel(String value) throws Exception {
    LoggerContext context = new LoggerContext();
    // logback looks a variable up in the context before the environment
    context.putProperty("TETHER_LOG_LEVEL", value);
    JoranConfigurator configurator = new JoranConfigurator();
    configurator.setContext(context);
    configurator.doConfigure(RootLogLevel.class.getResource("/logback.xml"));
    try {
      return context.getLogger(Logger.ROOT_LOGGER_NAME).getLevel();
    } finally {
      context.stop();
    }
  }

  @Test
  void levelInAnyCase_isTheRootLevel_andAnythingElseIsInfoNotDebug() throws Exception {
    assertThat(rootLevel("debug")).isEqualTo(Level.DEBUG);
    assertThat(rootLevel(" Warn ")).isEqualTo(Level.WARN);
    assertThat(rootLevel("")).isEqualTo(Level.INFO);
    assertThat(rootLevel("LOUD")).isEqualTo(Level.INFO);
  }
}
