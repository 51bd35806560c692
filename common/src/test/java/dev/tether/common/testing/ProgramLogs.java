package dev.tether.common.testing;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.joran.JoranConfigurator;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.util.LogbackMDCAdapter;
import ch.qos.logback.core.joran.spi.JoranException;
import ch.qos.logback.core.read.ListAppender;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * A program's own logback.xml in a logging context of its own (not the test's logback-test.xml),
 * with what it writes on stderr captured and the events it logged kept, so that a test can log
 * through the program's real configuration and read the lines it gives.
 */
public final class ProgramLogs implements AutoCloseable {

  private final LoggerContext context = new LoggerContext();
  private final ByteArrayOutputStream err = new ByteArrayOutputStream();
  private final PrintStream originalErr = System.err;
  private final ListAppender<ILoggingEvent> events = new ListAppender<>();

  private ProgramLogs() {}

  /**
   * Configures {@code logbackXml} with {@code variables} (such as TETHER_LOG_FORMAT), which logback
   * looks up before the environment, and captures stderr until {@link #close()}.
   */
  public static ProgramLogs configure(URL logbackXml, Map<String, String> variables) throws JoranException {
    return configure(context -> {
      JoranConfigurator configurator = new JoranConfigurator();
      configurator.setContext(context);
      try {
        configurator.doConfigure(logbackXml);
      } catch (JoranException e) {
        throw new IllegalStateException("cannot configure " + logbackXml, e);
      }
    }, variables);
  }

  /**
   * Lets {@code configuration} (a program's logback configurator in code) set up a context that
   * holds {@code variables} as properties, and captures stderr until {@link #close()}.
   */
  public static ProgramLogs configure(Consumer<LoggerContext> configuration, Map<String, String> variables) {
    ProgramLogs logs = new ProgramLogs();
    System.setErr(new PrintStream(logs.err, true, StandardCharsets.UTF_8));
    try {
      // a context made by hand has no MDC adapter; the one logback starts itself has
      logs.context.setMDCAdapter(new LogbackMDCAdapter());
      variables.forEach(logs.context::putProperty);
      configuration.accept(logs.context);
      logs.events.setContext(logs.context);
      logs.events.start();
      logs.context.getLogger(Logger.ROOT_LOGGER_NAME).addAppender(logs.events);
      return logs;
    } catch (RuntimeException e) {
      logs.close();
      throw e;
    }
  }

  public LoggerContext context() {
    return context;
  }

  public Logger logger(String name) {
    return context.getLogger(name);
  }

  /** Everything written on stderr since {@link #configure}. */
  public String stderr() {
    return err.toString(StandardCharsets.UTF_8);
  }

  /** The lines written on stderr. */
  public List<String> lines() {
    return stderr().lines().toList();
  }

  /** The events logged at or above the configured levels, in order. */
  public List<ILoggingEvent> events() {
    return List.copyOf(events.list);
  }

  @Override
  public void close() {
    context.stop();
    System.setErr(originalErr);
  }
}
