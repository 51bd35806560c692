package dev.tether.common.logging;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.LoggingEvent;
import ch.qos.logback.core.Appender;
import ch.qos.logback.core.OutputStreamAppender;
import java.util.Optional;
import org.slf4j.LoggerFactory;
import org.slf4j.event.KeyValuePair;

/**
 * Both programs' log output on stderr as the code sees it: which format it is in, a switch to
 * another format once the command line is parsed, and the few lines a program prints whatever its
 * log level (the delegate's exit line), in the same format as its logs so that a JSON pipeline
 * gets nothing but JSON.
 */
public final class LogOutput {

  /** The name of the stderr appender in both programs' logback.xml. */
  public static final String APPENDER = "STDERR";

  private LogOutput() {}

  /**
   * The switching encoder of {@link #APPENDER} on the root logger of {@code context}, or empty
   * under another configuration (tests log to a file with logback-test.xml).
   */
  static Optional<FormatSwitchingEncoder> encoder(LoggerContext context) {
    return appender(context).map(OutputStreamAppender::getEncoder)
        .filter(FormatSwitchingEncoder.class::isInstance).map(FormatSwitchingEncoder.class::cast);
  }

  private static Optional<OutputStreamAppender<ILoggingEvent>> appender(LoggerContext context) {
    Appender<ILoggingEvent> appender = context.getLogger(Logger.ROOT_LOGGER_NAME).getAppender(APPENDER);
    if (appender instanceof OutputStreamAppender<ILoggingEvent> stream) {
      return Optional.of(stream);
    }
    return Optional.empty();
  }

  /** The logging context of this process, starting logback if nothing has logged yet. */
  private static Optional<LoggerContext> context() {
    return LoggerFactory.getILoggerFactory() instanceof LoggerContext context ? Optional.of(context) : Optional.empty();
  }

  /**
   * Logs from now on in {@code format} ({@link LogFormats#TEXT} or {@link LogFormats#JSON}).
   * Call it before the program logs anything, so that its output is in one format throughout.
   * Under a configuration without Tether's stderr appender (tests), it changes nothing.
   *
   * @throws IllegalArgumentException when {@code format} names no format
   */
  public static void use(String format) {
    context().ifPresent(context -> use(context, format));
  }

  /** As {@link #use(String)}, in {@code context}. */
  public static void use(LoggerContext context, String format) {
    LogFormats.format(format).orElseThrow(() -> new IllegalArgumentException(LogFormats.refusal(format)));
    encoder(context).ifPresent(encoder -> encoder.use(format));
  }

  /** The format this process logs in now; {@link LogFormats#TEXT} under another configuration. */
  public static String format() {
    return context().map(LogOutput::format).orElse(LogFormats.TEXT);
  }

  /** The format {@code context} logs in now; {@link LogFormats#TEXT} under another configuration. */
  public static String format(LoggerContext context) {
    return encoder(context).map(FormatSwitchingEncoder::format).orElse(LogFormats.TEXT);
  }

  /**
   * Prints {@code line} on stderr whatever the log level: as it is in text format, or in JSON
   * format as one event of {@code logger} at {@code level}, with {@code fields} as top-level
   * fields beside the message. For what a program must always say, such as why it exits.
   */
  public static void printLine(String logger, Level level, String line, KeyValuePair... fields) {
    Optional<LoggerContext> context = context();
    if (context.isPresent()) {
      printLine(context.get(), logger, level, line, fields);
    } else {
      System.err.println(line);
      System.err.flush();
    }
  }

  /** As {@link #printLine(String, Level, String, KeyValuePair...)}, in {@code context}. */
  public static void printLine(LoggerContext context, String logger, Level level, String line, KeyValuePair... fields) {
    Optional<OutputStreamAppender<ILoggingEvent>> appender = appender(context);
    if (appender.isEmpty() || !LogFormats.JSON.equals(format(context))) {
      System.err.println(line);
      System.err.flush();
      return;
    }
    // straight to the appender, past the level: the line is the program's output, not a log it may silence
    LoggingEvent event = new LoggingEvent(LogOutput.class.getName(), context.getLogger(logger), level, line, null, null);
    for (KeyValuePair field : fields) {
      event.addKeyValuePair(field);
    }
    appender.get().doAppend(event);
  }
}
