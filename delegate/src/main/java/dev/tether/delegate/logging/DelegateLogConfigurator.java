package dev.tether.delegate.logging;

import ch.qos.logback.classic.ClassicConstants;
import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.jul.LevelChangePropagator;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.ConfiguratorRank;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.spi.ContextAwareBase;
import dev.tether.common.logging.FormatSwitchingEncoder;
import dev.tether.common.logging.LogFormats;
import dev.tether.common.logging.LogLevels;
import dev.tether.common.logging.LogOutput;
import dev.tether.common.logging.OnDemandJsonEncoder;
import java.util.Optional;
import net.logstash.logback.composite.AbstractFieldJsonProvider;
import net.logstash.logback.composite.loggingevent.ArgumentsJsonProvider;
import net.logstash.logback.composite.loggingevent.KeyValuePairsJsonProvider;
import net.logstash.logback.composite.loggingevent.LogLevelJsonProvider;
import net.logstash.logback.composite.loggingevent.LoggerNameJsonProvider;
import net.logstash.logback.composite.loggingevent.LoggingEventFormattedTimestampJsonProvider;
import net.logstash.logback.composite.loggingevent.LoggingEventJsonProviders;
import net.logstash.logback.composite.loggingevent.LoggingEventThreadNameJsonProvider;
import net.logstash.logback.composite.loggingevent.MdcJsonProvider;
import net.logstash.logback.composite.loggingevent.MessageJsonProvider;
import net.logstash.logback.composite.loggingevent.StackTraceJsonProvider;

/**
 * The delegate's logging, set up in code rather than read from an XML file: logback's XML
 * configurator (Joran) took some 0.3 s of a delegate's start and loaded some 500 classes. Found by
 * logback through {@code META-INF/services}; it gives way to an operator's own configuration
 * ({@code -Dlogback.configurationFile=FILE}) and to a {@code logback-test.xml} on the class path,
 * as logback's own file search does.
 *
 * <p>What it sets up: everything on stderr through one appender ({@link LogOutput#APPENDER}) in
 * the format {@code TETHER_LOG_FORMAT} names (text by default: {@link #TEXT_PATTERN}; or one JSON
 * object per line with the fields docs/observability.md lists), the root level from
 * {@code TETHER_LOG_LEVEL} (INFO by default), gRPC's own loggers at WARN, and levels passed on to
 * java.util.logging, where gRPC logs. A value that is no format or level gives text or INFO here;
 * the delegate refuses it at start ({@code TetherDelegate}) before it logs anything. The two
 * variables are looked up as logback looks up a variable: the logging context's properties (tests
 * set them there), then system properties, then the environment.
 */
@ConfiguratorRank(ConfiguratorRank.CUSTOM_HIGH_PRIORITY)
public final class DelegateLogConfigurator extends ContextAwareBase implements Configurator {

  /** The text lines' pattern, as before JSON logs existed. */
  static final String TEXT_PATTERN = "%d{yyyy-MM-dd'T'HH:mm:ss.SSSX,UTC} %-5level %logger{20} - %msg%n";

  @Override
  public ExecutionStatus configure(LoggerContext context) {
    if (System.getProperty(ClassicConstants.CONFIG_FILE_PROPERTY) != null
        || DelegateLogConfigurator.class.getClassLoader().getResource(ClassicConstants.TEST_AUTOCONFIG_FILE) != null) {
      return ExecutionStatus.INVOKE_NEXT_IF_ANY;
    }
    apply(context);
    return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
  }

  /** Sets the delegate's logging up in {@code context}. */
  void apply(LoggerContext context) {
    setContext(context);

    LevelChangePropagator toJul = new LevelChangePropagator();
    toJul.setContext(context);
    toJul.setResetJUL(true);
    context.addListener(toJul);
    toJul.start();

    PatternLayoutEncoder text = new PatternLayoutEncoder();
    text.setContext(context);
    text.setPattern(TEXT_PATTERN);
    FormatSwitchingEncoder encoder = new FormatSwitchingEncoder();
    encoder.setContext(context);
    encoder.setText(text);
    encoder.setJson(json(context));
    encoder.setFormat(LogFormats.format(variable(context, LogFormats.VARIABLE).orElse(LogFormats.TEXT))
        .orElse(LogFormats.TEXT));
    encoder.start();

    ConsoleAppender<ILoggingEvent> stderr = new ConsoleAppender<>();
    stderr.setContext(context);
    stderr.setName(LogOutput.APPENDER);
    stderr.setTarget("System.err");
    stderr.setEncoder(encoder);
    stderr.start();

    context.getLogger("io.grpc").setLevel(Level.WARN);
    // "Failed to resolve name" on every retry: the delegate says it once itself ("cannot resolve the manager's host name")
    context.getLogger("io.grpc.internal.ManagedChannelImpl").setLevel(Level.ERROR);
    Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
    root.setLevel(Level.toLevel(LogLevels.level(variable(context, LogLevels.VARIABLE).orElse("INFO")).orElse("INFO")));
    root.addAppender(stderr);
  }

  /** One JSON object per line: the fields of docs/observability.md, "Logs". */
  private static OnDemandJsonEncoder json(LoggerContext context) {
    OnDemandJsonEncoder json = new OnDemandJsonEncoder();
    json.setContext(context);
    LoggingEventJsonProviders providers = new LoggingEventJsonProviders();
    LoggingEventFormattedTimestampJsonProvider timestamp = named(new LoggingEventFormattedTimestampJsonProvider(),
        "@timestamp");
    timestamp.setPattern("yyyy-MM-dd'T'HH:mm:ss.SSSX");
    timestamp.setTimeZone("UTC");
    providers.addTimestamp(timestamp);
    providers.addLogLevel(named(new LogLevelJsonProvider(), "level"));
    providers.addLoggerName(named(new LoggerNameJsonProvider(), "logger"));
    providers.addThreadName(named(new LoggingEventThreadNameJsonProvider(), "thread"));
    providers.addMessage(named(new MessageJsonProvider(), "message"));
    providers.addMdc(new MdcJsonProvider());
    // StructuredArguments.value("account", id): the value in the message, and "account" as a field
    providers.addArguments(new ArgumentsJsonProvider());
    providers.addKeyValuePairs(new KeyValuePairsJsonProvider());
    providers.addStackTrace(named(new StackTraceJsonProvider(), "stack_trace"));
    json.setProviders(providers);
    return json;
  }

  /** {@code provider} writing its value under {@code field}. */
  private static <P extends AbstractFieldJsonProvider<ILoggingEvent>> P named(P provider, String field) {
    provider.setFieldName(field);
    return provider;
  }

  /** A variable as logback resolves {@code ${NAME}}: context property, system property, environment. */
  private static Optional<String> variable(LoggerContext context, String name) {
    String value = context.getProperty(name);
    if (value == null) {
      value = System.getProperty(name);
    }
    if (value == null) {
      value = System.getenv(name);
    }
    return Optional.ofNullable(value);
  }
}
