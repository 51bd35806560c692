package dev.tether.delegate.connect;

import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Exponential backoff with full jitter: attempt n waits a uniformly random time in
 * [0, min(cap, base * 2^n)], so that many delegates cut at once do not return in lock-step.
 */
public final class Backoff {

  public static final Duration BASE = Duration.ofMillis(500);
  public static final Duration CAP = Duration.ofSeconds(30);

  private final Duration base;
  private final Duration cap;
  private int attempt;

  public Backoff(Duration base, Duration cap) {
    this.base = base;
    this.cap = cap;
  }

  public Backoff() {
    this(BASE, CAP);
  }

  /** The next wait; each call doubles the ceiling up to the cap. */
  public Duration next() {
    long ceiling = Math.min(cap.toMillis(), base.toMillis() << Math.min(attempt, 20));
    attempt++;
    return Duration.ofMillis(ThreadLocalRandom.current().nextLong(ceiling + 1));
  }

  /** After a successful connection: start again from the base. */
  public void reset() {
    attempt = 0;
  }
}
