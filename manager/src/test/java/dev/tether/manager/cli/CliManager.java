package dev.tether.manager.cli;

import static java.nio.charset.StandardCharsets.UTF_8;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tether.common.token.Secrets;
import dev.tether.manager.server.ManagerServer;
import dev.tether.manager.server.ManagerSettings;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A real manager on loopback (TLS, its own H2 file, an admin listener) and the CLI run in this JVM
 * against it, with standard output and error captured. Output may hold a credential ({@code --field
 * value}): callers keep it out of assertion messages ({@link Result#redacted()}).
 */
final class CliManager implements AutoCloseable {

  static final ObjectMapper JSON = new ObjectMapper();

  static {
    // as in TetherManagerCli.main: the manager's gRPC and Netty log through java.util.logging, which
    // would otherwise write to the stderr the CLI's errors are read from (in production they are two processes)
    org.slf4j.bridge.SLF4JBridgeHandler.removeHandlersForRootLogger();
    org.slf4j.bridge.SLF4JBridgeHandler.install();
  }

  final Path dataDir;
  final ManagerServer server;

  CliManager(Path dataDir) throws IOException {
    this(dataDir, ManagerSettings.defaults(), false, new InetSocketAddress("127.0.0.1", 0));
  }

  CliManager(Path dataDir, ManagerSettings settings, boolean plaintext, InetSocketAddress adminListen)
      throws IOException {
    this.dataDir = dataDir;
    this.server = ManagerServer.start(new ManagerServer.Options(new InetSocketAddress("127.0.0.1", 0), adminListen,
        dataDir, null, null, null, plaintext, null, null, List.of(), settings));
  }

  int adminPort() {
    return server.adminAddress().getPort();
  }

  /** Runs {@code tether-manager ARGS --manager 127.0.0.1:ADMIN_PORT --data-dir DIR}. */
  Result cli(String... args) {
    List<String> all = new ArrayList<>(List.of(args));
    all.addAll(List.of("--manager", "127.0.0.1:" + adminPort(), "--data-dir", dataDir.toString()));
    return run(all.toArray(String[]::new));
  }

  /** Runs {@code tether-manager ARGS} as given. */
  static Result run(String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    PrintStream originalOut = System.out;
    PrintStream originalErr = System.err;
    System.setOut(new PrintStream(out, true, UTF_8));
    System.setErr(new PrintStream(err, true, UTF_8));
    int exit;
    try {
      exit = TetherManagerCli.run(args);
    } finally {
      System.setOut(originalOut);
      System.setErr(originalErr);
    }
    return new Result(exit, out.toString(UTF_8), err.toString(UTF_8));
  }

  @Override
  public void close() {
    server.close();
  }

  /** What one CLI run printed. {@link #toString()} is redacted: assertion messages never show a credential. */
  record Result(int exit, String out, String err) {

    /** Asserts success; the failure message shows the (redacted) output. */
    Result ok() {
      if (exit != 0) {
        throw new AssertionError("CLI exited " + exit + ": " + this);
      }
      return this;
    }

    JsonNode json() {
      try {
        return JSON.readTree(ok().out);
      } catch (IOException e) {
        throw new UncheckedIOException("not JSON: " + Secrets.redact(out), e);
      }
    }

    /** The lines of standard output. */
    List<String> lines() {
      return ok().out.lines().toList();
    }

    Result redacted() {
      return new Result(exit, Secrets.redact(out), Secrets.redact(err));
    }

    @Override
    public String toString() {
      return "exit " + exit + "\nstdout:\n" + Secrets.redact(out) + "\nstderr:\n" + Secrets.redact(err);
    }
  }
}
