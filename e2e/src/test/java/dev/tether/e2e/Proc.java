package dev.tether.e2e;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.awaitility.Awaitility;

/** A real process (a Tether jar) with its stdout and stderr in files under the test's log folder. */
final class Proc implements AutoCloseable {

  private final String name;
  private final Process process;
  private final Path out;
  private final Path err;

  private Proc(String name, Process process, Path out, Path err) {
    this.name = name;
    this.process = process;
    this.out = out;
    this.err = err;
  }

  static Proc start(String name, Path logDir, Map<String, String> env, List<String> command) {
    try {
      Files.createDirectories(logDir);
      Path out = logDir.resolve(name + ".out");
      Path err = logDir.resolve(name + ".err");
      ProcessBuilder builder = new ProcessBuilder(command)
          .redirectOutput(out.toFile())
          .redirectError(err.toFile());
      builder.environment().keySet().removeIf(k -> k.startsWith("DELEGATE_") || k.equals("ACCOUNT_ID")
          || k.startsWith("MANAGER_"));
      builder.environment().putAll(env);
      return new Proc(name, builder.start(), out, err);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The operating system's id of the process. */
  long pid() {
    return process.pid();
  }

  String stdout() {
    return read(out);
  }

  String stderr() {
    return read(err);
  }

  Path stderrFile() {
    return err;
  }

  Path stdoutFile() {
    return out;
  }

  /** Waits until stdout or stderr has a line matching {@code regex}; returns its first group (or the match). */
  String awaitLine(String regex, Duration timeout) {
    Pattern pattern = Pattern.compile(regex);
    String[] found = new String[1];
    Awaitility.await(name + " to print /" + regex + "/").atMost(timeout).pollInterval(Duration.ofMillis(100))
        .until(() -> {
          Matcher m = pattern.matcher(stdout() + "\n" + stderr());
          if (m.find()) {
            found[0] = m.groupCount() > 0 ? m.group(1) : m.group();
            return true;
          }
          if (!process.isAlive()) {
            throw new AssertionError(name + " exited with " + process.exitValue() + " before printing /"
                + regex + "/; stderr:\n" + stderr());
          }
          return false;
        });
    return found[0];
  }

  int awaitExit(Duration timeout) {
    try {
      if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        throw new AssertionError(name + " still running after " + timeout + "; stderr:\n" + stderr());
      }
      return process.exitValue();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted", e);
    }
  }

  boolean alive() {
    return process.isAlive();
  }

  /** SIGKILL: no shutdown hook runs, nothing is flushed. */
  void kill() {
    process.destroyForcibly();
    try {
      process.waitFor(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** SIGTERM. */
  void terminate() {
    process.destroy();
  }

  @Override
  public void close() {
    if (process.isAlive()) {
      process.destroy();
      try {
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
          process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        process.destroyForcibly();
      }
    }
  }

  private static String read(Path file) {
    try {
      return Files.exists(file) ? Files.readString(file, StandardCharsets.UTF_8) : "";
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public String toString() {
    return name;
  }
}
