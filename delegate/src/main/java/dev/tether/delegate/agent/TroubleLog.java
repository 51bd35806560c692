package dev.tether.delegate.agent;

import java.time.Duration;
import java.util.function.LongSupplier;
import org.slf4j.Logger;

/**
 * Logs why the delegate cannot connect without a warning per retry: a problem is logged at WARN
 * when it appears or changes, again at most every {@link #REPEAT} while it lasts (with the number
 * of attempts since), and each retry in between at DEBUG. A delegate whose manager is down for an
 * hour then writes about a dozen warnings, not hundreds.
 */
final class TroubleLog {

  static final Duration REPEAT = Duration.ofMinutes(5);

  private final Logger log;
  private final LongSupplier nanoTime;
  private String last;
  private long lastWarnNanos;
  private int failedSinceWarn;

  TroubleLog(Logger log, LongSupplier nanoTime) {
    this.log = log;
    this.nanoTime = nanoTime;
  }

  /** One failed attempt because of {@code why}; the next one is in {@code wait}. */
  void failed(String why, Duration wait) {
    long now = nanoTime.getAsLong();
    if (!why.equals(last)) {
      last = why;
      lastWarnNanos = now;
      failedSinceWarn = 0;
      log.warn("{}; retrying in {} ms, then with growing waits (logged again when the cause changes, or every {}"
          + " minutes)", why, wait.toMillis(), REPEAT.toMinutes());
      return;
    }
    failedSinceWarn++;
    if (now - lastWarnNanos >= REPEAT.toNanos()) {
      log.warn("still {} ({} more failed attempts); retrying in {} ms", why, failedSinceWarn, wait.toMillis());
      lastWarnNanos = now;
      failedSinceWarn = 0;
      return;
    }
    log.debug("{}; retrying in {} ms", why, wait.toMillis());
  }

  /** The delegate connected: the next problem is warned about at once. */
  void clear() {
    last = null;
  }
}
