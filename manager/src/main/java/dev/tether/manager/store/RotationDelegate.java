package dev.tether.manager.store;

import java.time.Instant;

/** What one delegate did with a rotation's successor: sent it, moved, cannot keep it, failed, no answer. */
public record RotationDelegate(String rotationId, String delegateId, Outcome outcome, String reason, Instant at) {

  /** SENT until the delegate answers (or is counted as not answering). */
  public enum Outcome { SENT, MOVED, CANNOT_KEEP, FAILED, NO_ANSWER }
}
