package dev.tether.manager.rotation;

import java.time.Duration;

/**
 * The two waits of a rotation on a replica: how long after its start a replica leaves rotations
 * open for the delegates of a restart to come back and be counted ({@code settle}), and how long a
 * delegate has to answer a RotateToken before it is counted as unable to keep the successor
 * ({@code noAnswerAfter}, docs/protocol.md 6.3). Production runs on {@link #defaults()}; tests
 * shorten them so as not to wait them out.
 */
public record RotationTiming(Duration settle, Duration noAnswerAfter) {

  public RotationTiming {
    if (settle.isNegative()) {
      throw new IllegalArgumentException("rotation settle " + settle + " is negative (expected zero or more)");
    }
    if (noAnswerAfter.isNegative() || noAnswerAfter.isZero()) {
      throw new IllegalArgumentException("rotation no-answer wait " + noAnswerAfter + " is not positive");
    }
  }

  /** 20 s to settle, 30 s to answer. */
  public static RotationTiming defaults() {
    return new RotationTiming(Duration.ofSeconds(20), Duration.ofSeconds(30));
  }
}
