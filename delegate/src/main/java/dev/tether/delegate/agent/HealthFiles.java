package dev.tether.delegate.agent;

import dev.tether.common.text.UserText;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Probe files for container orchestrators: {@code alive} is touched every 10 s while the agent
 * runs (liveness: its modification time is recent), {@code ready} exists only while the delegate
 * holds an authenticated stream (readiness). Does nothing without a health directory.
 */
final class HealthFiles {

  private static final Logger log = LoggerFactory.getLogger(HealthFiles.class);
  static final long ALIVE_EVERY_SECONDS = 10;

  private final Path dir;

  HealthFiles(Path dir) {
    this.dir = dir;
  }

  void start(ScheduledExecutorService timer) {
    if (dir == null) {
      return;
    }
    try {
      Files.createDirectories(dir);
    } catch (IOException e) {
      log.warn("cannot create health directory {}: {}", quote(dir), why(e));
      return;
    }
    timer.scheduleAtFixedRate(() -> touch("alive"), 0, ALIVE_EVERY_SECONDS, TimeUnit.SECONDS);
  }

  void ready() {
    touch("ready");
  }

  void notReady() {
    if (dir == null) {
      return;
    }
    try {
      Files.deleteIfExists(dir.resolve("ready"));
    } catch (IOException e) {
      log.warn("cannot remove {}: {}", quote(dir.resolve("ready")), why(e));
    }
  }

  private void touch(String name) {
    if (dir == null) {
      return;
    }
    Path file = dir.resolve(name);
    try {
      if (!Files.exists(file)) {
        Files.createFile(file);
      }
      Files.setLastModifiedTime(file, FileTime.from(Instant.now()));
    } catch (IOException e) {
      log.warn("cannot touch {}: {}", quote(file), why(e));
    }
  }

  /** The directory comes from the configuration: shown quoted, like every user-supplied text in a log. */
  private static String quote(Path path) {
    return UserText.quote(path.toString());
  }

  /** An I/O error's message usually is the path again, so it is quoted as well. */
  private static String why(IOException e) {
    return e.getClass().getSimpleName() + " " + UserText.quote(e.getMessage());
  }
}
