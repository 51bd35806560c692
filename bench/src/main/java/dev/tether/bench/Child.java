package dev.tether.bench;

import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
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
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A JVM started from the bench jar ({@link BenchServer} or {@link LoadWorker}), driven by one
 * command per line on its stdin. Its answers are the stdout lines that start with {@link #MARK};
 * everything else it prints goes to its log file.
 */
final class Child implements AutoCloseable {

  static final String MARK = "bench: ";

  private final String name;
  private final Process process;
  private final BufferedWriter commands;
  private final BlockingQueue<String> answers = new LinkedBlockingQueue<>();
  private final Path log;

  private Child(String name, Process process, Path log) {
    this.name = name;
    this.process = process;
    this.log = log;
    this.commands = new BufferedWriter(new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8));
  }

  /** Starts {@code mainClass} of the bench jar in a new JVM with {@code jvmOptions}. */
  static Child start(String name, Path log, List<String> jvmOptions, Class<?> mainClass, List<String> args)
      throws IOException {
    List<String> command = new ArrayList<>();
    command.add(ProcessHandle.current().info().command().orElse("java"));
    command.addAll(jvmOptions);
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add(mainClass.getName());
    command.addAll(args);
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    Child child = new Child(name, process, log);
    Writer logWriter = Files.newBufferedWriter(log);
    Thread reader = new Thread(() -> child.pump(logWriter), name + "-output");
    reader.setDaemon(true);
    reader.start();
    return child;
  }

  private void pump(Writer logWriter) {
    try (logWriter; BufferedReader out = new BufferedReader(
        new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
      String line;
      while ((line = out.readLine()) != null) {
        if (line.startsWith(MARK)) {
          answers.add(line.substring(MARK.length()));
        } else {
          logWriter.write(line);
          logWriter.write('\n');
          logWriter.flush();
        }
      }
    } catch (IOException e) {
      // the process ended
    }
    answers.add("error " + name + " ended (exit " + (process.isAlive() ? "?" : process.exitValue()) + "); see " + log);
  }

  /** The next answer, parsed as {@code key=value} words; fails on an error answer or a timeout. */
  Map<String, String> await(Duration timeout) throws InterruptedException {
    String answer = answers.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
    if (answer == null) {
      throw new IllegalStateException(name + " did not answer within " + timeout + "; see " + log);
    }
    if (!answer.startsWith("ok")) {
      throw new IllegalStateException(name + ": " + answer);
    }
    Map<String, String> values = new LinkedHashMap<>();
    for (String word : answer.substring(2).strip().split(" ")) {
      int eq = word.indexOf('=');
      if (eq > 0) {
        values.put(word.substring(0, eq), word.substring(eq + 1));
      }
    }
    return values;
  }

  /** Sends a command without waiting for its answer. */
  void send(String command) {
    try {
      commands.write(command);
      commands.write('\n');
      commands.flush();
    } catch (IOException e) {
      throw new UncheckedIOException(name + " no longer takes commands; see " + log, e);
    }
  }

  Map<String, String> call(String command, Duration timeout) throws InterruptedException {
    send(command);
    return await(timeout);
  }

  long pid() {
    return process.pid();
  }

  /** Resident set size, from /proc. */
  long rssBytes() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/" + process.pid() + "/status"))) {
        if (line.startsWith("VmRSS:")) {
          return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    throw new IllegalStateException("no VmRSS for " + name);
  }

  /** CPU time the process has used so far, user and system. */
  Duration cpu() {
    return process.info().totalCpuDuration().orElseThrow();
  }

  /** Waits for the process to end by itself (after a stop command). */
  void awaitExit(Duration timeout) throws InterruptedException {
    if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
      throw new IllegalStateException(name + " did not stop within " + timeout);
    }
  }

  @Override
  public void close() {
    if (process.isAlive()) {
      process.destroy();
      try {
        if (!process.waitFor(20, TimeUnit.SECONDS)) {
          process.destroyForcibly().waitFor();
        }
      } catch (InterruptedException e) {
        // asked to hurry: leave no process behind, keep the interrupt for the caller
        process.destroyForcibly();
        Thread.currentThread().interrupt();
      }
    }
  }
}
