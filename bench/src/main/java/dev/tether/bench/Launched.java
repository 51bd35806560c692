package dev.tether.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Predicate;

/**
 * A program started as it is shipped (a launcher script, not a class of the bench jar), its stdout
 * and stderr copied line by line to log files as they come, with the moment the first line of
 * interest appeared on one of them, for the {@code startup} scenario.
 */
final class Launched implements AutoCloseable {

  /** Which of the program's output streams holds the line waited for. */
  enum Stream { STDOUT, STDERR }

  /** The first line of interest and when it was read ({@link System#nanoTime()}). */
  record Line(String text, long nanoTime) {}

  /**
   * Variables that would change how a launcher or a JVM starts, or how a Tether program is
   * configured, inherited from whoever runs the bench: each run states its own.
   */
  private static final List<String> CLEARED_PREFIXES = List.of("TETHER_", "DELEGATE_", "MANAGER_");
  private static final List<String> CLEARED = List.of("JAVA_OPTS", "JAVA_TOOL_OPTIONS", "_JAVA_OPTIONS",
      "JDK_JAVA_OPTIONS", "ACCOUNT_ID");

  private final String name;
  private final Process process;
  private final Path stdoutLog;
  private final Path stderrLog;
  private final CompletableFuture<Line> line = new CompletableFuture<>();
  private final List<Thread> pumps = new ArrayList<>();

  private Launched(String name, Process process, Path stdoutLog, Path stderrLog) {
    this.name = name;
    this.process = process;
    this.stdoutLog = stdoutLog;
    this.stderrLog = stderrLog;
  }

  /**
   * Starts {@code command} with {@code env} added to a cleared environment, its output going to
   * {@code logDir/name.out} and {@code logDir/name.err}; {@link #awaitLine} waits for the first
   * line of {@code on} that {@code wanted} accepts.
   */
  static Launched start(String name, List<String> command, Map<String, String> env, Path logDir, Stream on,
      Predicate<String> wanted) throws IOException {
    ProcessBuilder builder = environment(new ProcessBuilder(command), env);
    Launched launched = new Launched(name, builder.start(), logDir.resolve(name + ".out"),
        logDir.resolve(name + ".err"));
    launched.process.getOutputStream().close();
    launched.pump(launched.process.getInputStream(), launched.stdoutLog, on == Stream.STDOUT ? wanted : null);
    launched.pump(launched.process.getErrorStream(), launched.stderrLog, on == Stream.STDERR ? wanted : null);
    return launched;
  }

  /** Clears {@code builder}'s inherited settings of launchers, JVMs and Tether programs, then adds {@code env}. */
  static ProcessBuilder environment(ProcessBuilder builder, Map<String, String> env) {
    builder.environment().keySet().removeIf(key -> CLEARED.contains(key)
        || CLEARED_PREFIXES.stream().anyMatch(key::startsWith));
    builder.environment().putAll(env);
    return builder;
  }

  private void pump(InputStream stream, Path log, Predicate<String> wanted) throws IOException {
    Writer writer = Files.newBufferedWriter(log);
    Thread pump = new Thread(() -> {
      try (writer; BufferedReader in = new BufferedReader(new InputStreamReader(stream, StandardCharsets.UTF_8))) {
        String text;
        while ((text = in.readLine()) != null) {
          // the time first: writing the log must not count
          long at = System.nanoTime();
          if (wanted != null && !line.isDone() && wanted.test(text)) {
            line.complete(new Line(text, at));
          }
          writer.write(text);
          writer.write('\n');
          writer.flush();
        }
      } catch (IOException e) {
        // the process ended
      }
      if (wanted != null) {
        line.completeExceptionally(new IllegalStateException(name + " ended its output without the line waited for"
            + " (exit " + (process.isAlive() ? "?" : process.exitValue()) + "); see " + stdoutLog + " and "
            + stderrLog));
      }
    }, name + "-output");
    pump.setDaemon(true);
    pump.start();
    pumps.add(pump);
  }

  /**
   * Whether the line of interest has appeared, waiting up to {@code wait} for it; fails if the
   * program ended its output without it.
   */
  boolean hasLine(Duration wait) throws InterruptedException {
    try {
      line.get(wait.toNanos(), TimeUnit.NANOSECONDS);
      return true;
    } catch (TimeoutException e) {
      return false;
    } catch (ExecutionException e) {
      throw new IllegalStateException(e.getCause().getMessage(), e.getCause());
    }
  }

  /** The first line of interest; fails if the program ends its output first, or after {@code timeout}. */
  Line awaitLine(Duration timeout) throws InterruptedException {
    try {
      return line.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      throw new IllegalStateException(name + " printed no line of the kind waited for within " + timeout + "; see "
          + stdoutLog + " and " + stderrLog, e);
    } catch (ExecutionException e) {
      throw new IllegalStateException(e.getCause().getMessage(), e.getCause());
    }
  }

  /**
   * The JVM's process: the launched process if it is {@code java} (a launcher that execs), else
   * the first {@code java} among its descendants (a launcher that waits for its JVM).
   */
  ProcessHandle jvm() {
    if (isJava(process.toHandle())) {
      return process.toHandle();
    }
    return process.descendants().filter(Launched::isJava).findFirst().orElseThrow(() -> new IllegalStateException(
        name + " (pid " + process.pid() + ") runs no java process; see " + stderrLog));
  }

  private static boolean isJava(ProcessHandle handle) {
    return handle.info().command().map(c -> Path.of(c).getFileName().toString().equals("java")).orElse(false);
  }

  /** The memory lines of {@code /proc/PID/status} of the JVM, in bytes: VmRSS, RssAnon, RssFile, .... */
  Map<String, Long> memory() {
    try {
      return memory(Files.readAllLines(Path.of("/proc/" + jvm().pid() + "/status")));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the status of " + name + "'s JVM", e);
    }
  }

  /** The {@code kB} lines of a {@code /proc/PID/status} text, in bytes, by name. */
  static Map<String, Long> memory(List<String> status) {
    Map<String, Long> bytes = new LinkedHashMap<>();
    for (String text : status) {
      String[] words = text.strip().split("\\s+");
      if (words.length == 3 && words[0].endsWith(":") && words[2].equals("kB") && words[1].matches("[0-9]{1,15}")) {
        bytes.put(words[0].substring(0, words[0].length() - 1), Long.parseLong(words[1]) * 1024);
      }
    }
    return bytes;
  }

  /**
   * Stops the program as an operator or a service manager does, with SIGTERM to it and to its
   * JVM (a launcher that does not exec would not pass the signal on), and waits for it; returns
   * its exit code. Fails if it takes longer than {@code timeout} (the process is then killed).
   */
  int stop(Duration timeout) throws InterruptedException {
    List<ProcessHandle> all = new ArrayList<>(process.descendants().toList());
    all.add(0, process.toHandle());
    all.forEach(ProcessHandle::destroy);
    if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
      close();
      throw new IllegalStateException(name + " did not stop within " + timeout + " of SIGTERM; see " + stderrLog);
    }
    for (ProcessHandle p : all) {
      try {
        p.onExit().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
      } catch (ExecutionException | TimeoutException e) {
        close();
        throw new IllegalStateException(name + "'s process " + p.pid() + " did not stop within " + timeout
            + " of SIGTERM; see " + stderrLog, e);
      }
    }
    // the last of its output is in the logs before anyone reads them
    for (Thread pump : pumps) {
      pump.join(TimeUnit.SECONDS.toMillis(10));
    }
    return process.exitValue();
  }

  boolean isAlive() {
    return process.isAlive();
  }

  Path stdoutLog() {
    return stdoutLog;
  }

  Path stderrLog() {
    return stderrLog;
  }

  /** Kills what is left: the program and anything it started. */
  @Override
  public void close() {
    process.descendants().forEach(ProcessHandle::destroyForcibly);
    process.destroyForcibly();
    try {
      process.waitFor(20, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
