package dev.tether.delegate;

import static net.logstash.logback.argument.StructuredArguments.value;

import ch.qos.logback.classic.Level;
import dev.tether.common.logging.LogFormats;
import dev.tether.common.logging.LogLevels;
import dev.tether.common.logging.LogOutput;
import dev.tether.common.ops.OpsMetrics;
import dev.tether.common.ops.OpsServer;
import dev.tether.common.text.UserText;
import dev.tether.common.token.TokenFormatException;
import dev.tether.delegate.agent.DelegateAgent;
import dev.tether.delegate.agent.Outcome;
import dev.tether.delegate.config.ConfigException;
import dev.tether.delegate.config.ConfigLoader;
import dev.tether.delegate.config.DelegateConfig;
import dev.tether.delegate.connect.Channels;
import dev.tether.delegate.ops.DelegateMetrics;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.event.KeyValuePair;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Entry point of {@code tether-delegate}. Exit codes: 0 after a clean stop (SIGTERM), 78 when the
 * token is revoked, expired, rejected or malformed and there is no token file to wait on, 1 for
 * any other fatal error. Every exit prints one line saying why.
 */
@Command(name = "tether-delegate", mixinStandardHelpOptions = true, versionProvider = TetherDelegate.Version.class,
    description = "Tether delegate: authenticates with its token and holds a heartbeat stream to the manager.",
    footer = {"", "Environment (overrides the config file): ACCOUNT_ID, DELEGATE_TOKEN or DELEGATE_TOKEN_FILE,",
        "MANAGER_HOST_AND_PORT, DELEGATE_NAME, DELEGATE_TYPE, DELEGATE_TAGS, MANAGER_CA_FILE, DELEGATE_HEALTH_DIR,",
        "DELEGATE_OPS_LISTEN (HOST:PORT for /metrics, /healthz, /readyz; default off), TETHER_LOG_LEVEL,",
        "TETHER_LOG_FORMAT (text or json).",
        "Exit codes: 0 stopped, 78 token refused, 1 other fatal error."})
public final class TetherDelegate implements Callable<Integer> {

  private static final Logger log = LoggerFactory.getLogger(TetherDelegate.class);

  @Option(names = "--config", paramLabel = "FILE",
      description = "config-delegate.yaml with accountId, delegateToken (or delegateTokenFile), managerUrl, delegateName.")
  Path config;

  /** The environment the delegate is configured by. */
  private final Map<String, String> env;

  public TetherDelegate() {
    this(System.getenv());
  }

  /** With the given environment instead of the process's (tests). */
  TetherDelegate(Map<String, String> env) {
    this.env = env;
  }

  public static void main(String[] args) {
    // gRPC and Netty log through java.util.logging: route it into the same logs
    org.slf4j.bridge.SLF4JBridgeHandler.removeHandlersForRootLogger();
    org.slf4j.bridge.SLF4JBridgeHandler.install();
    System.exit(new CommandLine(new TetherDelegate()).execute(args));
  }

  @Override
  public Integer call() {
    // logback has read the level by now, taking an unknown word as DEBUG; nothing has been logged yet
    Optional<String> logging = LogLevels.problem(env.get(LogLevels.VARIABLE))
        .or(() -> LogFormats.problem(env.get(LogFormats.VARIABLE)));
    if (logging.isPresent()) {
      return exit(Outcome.FATAL, "configuration error: " + logging.get());
    }
    DelegateConfig settings;
    try {
      settings = ConfigLoader.load(env, config);
    } catch (TokenFormatException e) {
      return exit(Outcome.TOKEN_REFUSED, e.getMessage());
    } catch (ConfigException e) {
      return exit(Outcome.FATAL, "configuration error: " + e.getMessage());
    }
    settings.warnings().forEach(w -> log.warn(w));
    // meters only where the ops listener serves them
    DelegateMetrics metrics = settings.opsListen() == null ? DelegateMetrics.withoutMeters()
        : new DelegateMetrics(OpsMetrics.registry());
    OpsServer ops = null;
    if (settings.opsListen() != null) {
      try {
        ops = metrics.serve(settings.opsListen());
      } catch (IOException e) {
        // the message names the address, the setting and what to do
        return exit(Outcome.FATAL, e.getMessage());
      }
    }
    try {
      return run(settings, metrics, ops);
    } finally {
      if (ops != null) {
        ops.close();
      }
    }
  }

  private int run(DelegateConfig settings, DelegateMetrics metrics, OpsServer ops) {
    String version = version();
    // the account id is checked at load to be letters, digits, '.', '_' and '-': quoted as UserText.quote would
    log.info("tether-delegate {} starting: account '{}', delegate {}, manager {}, token from {}", version,
        value("account", settings.accountId()), UserText.quote(settings.delegateName()), settings.managers(),
        settings.token().describe());
    if (ops != null) {
      log.info("ops listener on http://{}: /metrics, /healthz, /readyz (plain HTTP, set by {})",
          OpsServer.describe(ops.address()), settings.opsListen().setting());
    }
    DelegateAgent agent = new DelegateAgent(settings, version, endpoint -> Channels.open(endpoint, settings.caFile()),
        metrics);
    AtomicReference<Outcome> outcome = new AtomicReference<>();
    AtomicBoolean signalled = new AtomicBoolean();
    CountDownLatch done = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      if (outcome.get() != null) {
        return; // the agent ended on its own and is exiting with its code
      }
      signalled.set(true);
      agent.stop();
      try {
        done.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      Outcome o = outcome.get();
      exit(Outcome.STOPPED, o == null ? "stopped by SIGTERM" : o.message());
      // stopped by a signal is a clean stop: exit 0 rather than 143
      Runtime.getRuntime().halt(Outcome.STOPPED);
    }, "tether-delegate-shutdown"));
    Outcome result;
    try {
      result = agent.run();
    } catch (RuntimeException e) {
      result = new Outcome(Outcome.FATAL, "unexpected error: " + e);
    }
    outcome.set(result);
    done.countDown();
    if (signalled.get()) {
      // the shutdown hook prints the line and ends the process with 0
      return Outcome.STOPPED;
    }
    return exit(result.exitCode(), result.message());
  }

  private static int exit(int code, String message) {
    // in the log format, so that a JSON log pipeline gets the exit line as one more object
    LogOutput.printLine(TetherDelegate.class.getName(), code == Outcome.STOPPED ? Level.INFO : Level.ERROR,
        "tether-delegate exiting (" + code + "): " + message, new KeyValuePair("exit_code", code));
    return code;
  }

  private static String version() {
    String v = TetherDelegate.class.getPackage().getImplementationVersion();
    return v == null ? "dev" : v;
  }

  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      return new String[] {"tether-delegate " + version()};
    }
  }
}
