package dev.tether.manager.store;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

/** Named admins. Credentials are looked up by their keyed digest; writes are audited in the same transaction. */
public interface AdminStore {

  /**
   * Inserts an admin with its audit event; {@link DuplicateException} if the name is taken.
   *
   * @param secretDigest hex HMAC of the credential under the manager's admin subkey
   */
  AdminRecord createAdmin(String name, String publicId, AdminRole role, String secretDigest, Instant at, Actor by);

  /**
   * Makes {@code secretDigest} the credential of the owner named {@code name}, creating it when
   * there is no admin at all (a first start). An existing admin of that name that is revoked stays
   * revoked; one that is active gets the digest. Returns the admin as stored; empty when it was
   * deleted, which a restart must not undo.
   */
  Optional<AdminRecord> ensureBootstrapOwner(String name, String publicId, String secretDigest, Instant at);

  /** The admin, active or revoked, whose credential has this digest. */
  Optional<AdminRecord> findAdminByDigest(String secretDigest);

  Optional<AdminRecord> findAdmin(String name);

  List<AdminRecord> listAdmins();

  /**
   * Revokes an active admin, with its audit event, and announces it to the other replicas; empty
   * when there is no active admin of that name. Refused ({@link IllegalStateException}) when it is
   * the last active owner, in the same transaction, so that two concurrent revokes cannot leave none.
   */
  Optional<AdminRecord> revokeAdmin(String name, Instant at, Actor by);

  /** Deletes a revoked admin with its audit event; false when there is none of that name or it is active. */
  boolean deleteAdmin(String name, Instant at, Actor by);
}
