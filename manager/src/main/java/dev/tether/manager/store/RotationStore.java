package dev.tether.manager.store;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

/** Token rotations and what each delegate did with the successor. */
public interface RotationStore {

  /**
   * Stores a new OPEN rotation with its audit event; {@link DuplicateException} when the old token
   * has an open rotation already.
   */
  void openRotation(Rotation rotation, Actor by, String auditDetail);

  Optional<Rotation> findRotation(String rotationId);

  /** The newest rotation of the token with row id {@code oldTokenRow}, open or not. */
  Optional<Rotation> latestRotationOf(long oldTokenRow);

  List<Rotation> openRotations();

  /**
   * Rotations that finished at or before {@code endedBy} while their old token (the same row, with
   * the same public id) is still active and not past its expiry at {@code now}: the revoke their
   * finish owes did not commit, and the manager that finished them may have stopped before it could
   * retry.
   */
  List<Rotation> finishedWithOldTokenActive(Instant endedBy, Instant now);

  /**
   * Ends an OPEN rotation as {@code state} with its audit event; false (and no event) when it was
   * not open any more (another replica or command ended it first).
   */
  boolean endRotation(String rotationId, Rotation.State state, Instant at, Actor by, String action, String auditDetail);

  /** Records (or replaces) what a delegate did with the rotation's successor. */
  void recordRotationDelegate(RotationDelegate outcome);

  List<RotationDelegate> rotationDelegates(String rotationId);

  /** Rotates the token by itself from now on (replacing any schedule it had). */
  void scheduleRotation(RotationSchedule schedule);

  Optional<RotationSchedule> rotationSchedule(long tokenRow);

  /** Schedules whose time has come. */
  List<RotationSchedule> dueRotations(Instant now);

  /**
   * Moves a due schedule on to {@code nextAt}, if it still says {@code expected}; true for the one
   * caller (of every replica) that did, which then opens the rotation.
   */
  boolean claimScheduledRotation(long tokenRow, Instant expected, Instant nextAt);

  void unscheduleRotation(long tokenRow);
}
