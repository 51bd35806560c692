package dev.tether.delegate.ops;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * Whether the delegate is ready, for {@code /readyz} and {@code tether_delegate_connected}: it
 * holds a registered stream (the condition of the {@code ready} probe file) and the manager
 * acknowledges its heartbeats; otherwise why not, in one line. Time is read from a monotonic clock
 * that tests control.
 */
public final class Readiness {

  /**
   * Heartbeat intervals without an acknowledgement after which a registered stream counts as not
   * heartbeating: the manager cuts a delegate after as many missed intervals (its default).
   */
  static final int MISSED_INTERVALS = 3;

  private final LongSupplier nanoTime;
  /** Why the delegate holds no registered stream; null while it holds one. */
  private String notRegistered = "starting";
  private long interval;
  /** When the stream registered or the last acknowledgement arrived, whichever is later. */
  private long lastSign;

  public Readiness(LongSupplier nanoTime) {
    this.nanoTime = nanoTime;
  }

  /** The stream registered; heartbeats go out every {@code heartbeatInterval}. */
  synchronized void registered(Duration heartbeatInterval) {
    notRegistered = null;
    interval = heartbeatInterval.toNanos();
    lastSign = nanoTime.getAsLong();
  }

  /** The manager acknowledged a heartbeat. */
  synchronized void acknowledged() {
    lastSign = nanoTime.getAsLong();
  }

  /** The delegate holds no registered stream, because of {@code why} (kept on one line). */
  synchronized void notRegistered(String why) {
    notRegistered = why.replaceAll("[\\r\\n]+", " ");
  }

  /** Empty when ready; otherwise why not, in one line. */
  public synchronized Optional<String> reason() {
    if (notRegistered != null) {
      return Optional.of("not registered: " + notRegistered);
    }
    long silent = nanoTime.getAsLong() - lastSign;
    if (silent > MISSED_INTERVALS * interval) {
      return Optional.of("no heartbeat acknowledged for " + TimeUnit.NANOSECONDS.toSeconds(silent) + " s (the"
          + " delegate heartbeats every " + format(interval) + " and the manager acknowledges each)");
    }
    return Optional.empty();
  }

  public boolean ready() {
    return reason().isEmpty();
  }

  private static String format(long nanos) {
    long ms = TimeUnit.NANOSECONDS.toMillis(nanos);
    return ms % 1000 == 0 ? ms / 1000 + " s" : ms + " ms";
  }
}
