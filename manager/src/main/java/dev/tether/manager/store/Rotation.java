package dev.tether.manager.store;

import java.time.Duration;
import java.time.Instant;

/**
 * A token rotation as stored: the old token, its successor (whose value is kept only sealed under a
 * master subkey), whether the successor is pushed to delegates, the grace period, and its state.
 */
public record Rotation(
    String id,
    String accountId,
    long oldTokenRow,
    String oldTokenId,
    String oldTokenName,
    long successorTokenRow,
    String successorTokenId,
    String successorTokenName,
    String sealedSuccessor,
    boolean push,
    Duration grace,
    State state,
    Instant openedAt,
    String openedBy,
    Instant endedAt,
    String endedBy) {

  /** OPEN until it is finished (the old token revoked) or cancelled (the old token left active). */
  public enum State { OPEN, FINISHED, CANCELLED }

  public boolean open() {
    return state == State.OPEN;
  }

  @Override
  public String toString() {
    // the sealed successor is not a secret without the master key, but it has no place in a log line
    return "Rotation[" + id + " " + accountId + " " + oldTokenId + " -> " + successorTokenId + " " + state + "]";
  }
}
