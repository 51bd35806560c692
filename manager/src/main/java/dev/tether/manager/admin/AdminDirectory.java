package dev.tether.manager.admin;

import dev.tether.manager.store.Actor;
import dev.tether.manager.store.AdminRecord;
import dev.tether.manager.store.AdminRole;
import dev.tether.manager.store.DuplicateException;
import dev.tether.manager.store.LastOwnerException;
import dev.tether.manager.store.StoreException;
import dev.tether.manager.store.TetherStore;
import dev.tether.manager.token.MasterKey;
import dev.tether.manager.token.Names;
import io.grpc.Status;
import java.time.Clock;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Named admins: the bootstrap owner from {@code admin.key}, creation (credential shown once),
 * listing, revocation (open calls ended at once, here and, through the revocation feed, on every
 * replica) and deletion. Credentials are looked up by their keyed digest, never stored.
 */
public final class AdminDirectory {

  private static final Logger log = LoggerFactory.getLogger(AdminDirectory.class);
  /** Actor names the manager writes itself, and the bootstrap owner's, which admin.key re-keys. */
  static final List<String> RESERVED_NAMES = List.of(AdminKey.BOOTSTRAP_ADMIN, "system", "unauthenticated",
      "admin");

  private final TetherStore store;
  private final byte[] digestKey;
  private final AdminCalls calls;
  private final Clock clock;

  public AdminDirectory(TetherStore store, MasterKey masterKey, AdminCalls calls, Clock clock) {
    this.store = store;
    this.digestKey = masterKey.subkey(AdminSecret.DIGEST_PURPOSE);
    this.calls = calls;
    this.clock = clock;
  }

  /**
   * Makes {@code admin.key} the credential of the owner {@value AdminKey#BOOTSTRAP_ADMIN}: created on
   * the first start of this version, re-keyed if the file was replaced, left revoked if an owner
   * revoked it.
   */
  public Optional<AdminRecord> bootstrap(AdminKey key) {
    AdminSecret secret = key.secret();
    Optional<AdminRecord> before = store.findAdmin(AdminKey.BOOTSTRAP_ADMIN);
    Optional<AdminRecord> stored = store.ensureBootstrapOwner(AdminKey.BOOTSTRAP_ADMIN, secret.publicId(),
        secret.digest(digestKey), clock.instant());
    if (stored.isEmpty()) {
      log.warn("admin.key holds the credential of admin '{}', which an owner deleted: it authenticates nothing;"
          + " use another owner's credential", AdminKey.BOOTSTRAP_ADMIN);
      return stored;
    }
    AdminRecord admin = stored.get();
    if (before.isPresent() && before.get().active() && !before.get().publicId().equals(secret.publicId())) {
      log.warn("admin.key holds another credential ({}) than the one stored for admin '{}' ({}): it is now the"
          + " bootstrap owner's credential, and the old one no longer works. Replicas must share one admin.key"
          + " (docs/high-availability.md)", secret.publicId(), admin.name(), before.get().publicId());
    }
    if (!admin.active()) {
      log.warn("admin.key holds the credential of admin '{}', which was revoked at {} by {}: it authenticates"
          + " nothing; use another owner's credential", admin.name(), admin.revokedAt(), admin.revokedBy());
    }
    return stored;
  }

  /** The active admin holding {@code presented}; empty for anything else. */
  public Optional<AdminRecord> authenticate(String presented) {
    Optional<AdminSecret> secret = AdminSecret.parse(presented);
    if (secret.isEmpty()) {
      return Optional.empty();
    }
    return store.findAdminByDigest(secret.get().digest(digestKey)).filter(AdminRecord::active);
  }

  /** A new admin and its credential, which is shown this once. */
  public Created create(String name, AdminRole role, Actor by) {
    Names.adminName(name);
    if (RESERVED_NAMES.contains(name.toLowerCase(java.util.Locale.ROOT))) {
      throw Status.INVALID_ARGUMENT.withDescription("admin name '" + name + "' is reserved: the audit trail"
          + " uses it for the manager itself, refused calls or the admin.key owner (" + String.join(", ",
              RESERVED_NAMES) + "); choose another").asRuntimeException();
    }
    if (role == null) {
      throw Status.INVALID_ARGUMENT.withDescription("admin role is missing (expected viewer, operator or owner)")
          .asRuntimeException();
    }
    AdminSecret secret = AdminSecret.generate();
    try {
      AdminRecord admin = store.createAdmin(name, secret.publicId(), role, secret.digest(digestKey), clock.instant(),
          by);
      log.info("admin created: '{}' {} role {} by {}", name, admin.publicId(), role.label(), by);
      return new Created(admin, secret);
    } catch (DuplicateException e) {
      throw Status.ALREADY_EXISTS.withDescription("admin name '" + name + "' is already in use (choose another,"
          + " or see 'admin list'; a revoked admin's name is freed by 'admin delete')").asRuntimeException();
    } catch (StoreException e) {
      throw unavailable(e);
    }
  }

  public List<AdminRecord> list() {
    return guard(store::listAdmins);
  }

  /** Revokes the admin and ends its open calls here; other replicas end theirs when the feed tells them. */
  public Revoked revoke(String name, Actor by) {
    AdminRecord admin = find(name);
    if (!admin.active()) {
      // read maybe before the revoke that ended it was on the disk: "already revoked" promises it is
      guard(() -> {
        store.forceToDisk();
        return null;
      });
      throw Status.FAILED_PRECONDITION.withDescription("admin '" + name + "' is already revoked (at "
          + admin.revokedAt() + " by " + admin.revokedBy() + ")").asRuntimeException();
    }
    Optional<AdminRecord> revoked;
    try {
      revoked = store.revokeAdmin(name, clock.instant(), by);
    } catch (LastOwnerException e) {
      throw Status.FAILED_PRECONDITION.withDescription("admin '" + name + "' is the last active owner; create"
          + " another owner first ('admin create NAME --role owner'), so that someone can still manage admins")
          .asRuntimeException();
    } catch (StoreException e) {
      throw unavailable(e);
    }
    AdminRecord ended = revoked.orElseThrow(() -> Status.FAILED_PRECONDITION
        .withDescription("admin '" + name + "' was revoked meanwhile").asRuntimeException());
    int callsEnded = calls.endAll(ended.publicId());
    log.info("admin revoked: '{}' {} by {}; {} open calls ended here", name, ended.publicId(), by, callsEnded);
    return new Revoked(ended, callsEnded);
  }

  public AdminRecord delete(String name, Actor by) {
    AdminRecord admin = find(name);
    if (admin.active()) {
      throw Status.FAILED_PRECONDITION.withDescription("admin '" + name + "' is active; revoke it first"
          + " ('admin revoke " + name + "')").asRuntimeException();
    }
    if (!guard(() -> store.deleteAdmin(name, clock.instant(), by))) {
      throw Status.NOT_FOUND.withDescription("admin '" + name + "' not found (see 'admin list')").asRuntimeException();
    }
    log.info("admin deleted: '{}' {} by {}", name, admin.publicId(), by);
    return admin;
  }

  /**
   * Ends the open calls of admins revoked on another replica whose announcement this one missed.
   * Runs on the reconciliation timer; a store failure is left to its caller, which logs it.
   */
  public void reconcile() {
    java.util.Set<String> open = calls.adminsWithOpenCalls();
    if (open.isEmpty()) {
      return;
    }
    java.util.Set<String> active = new java.util.HashSet<>();
    for (AdminRecord admin : store.listAdmins()) {
      if (admin.active()) {
        active.add(admin.publicId());
      }
    }
    for (String adminId : open) {
      // revoked, or revoked and deleted before this replica heard of it
      if (!active.contains(adminId)) {
        calls.endAll(adminId);
      }
    }
  }

  private AdminRecord find(String name) {
    Names.adminName(name);
    return guard(() -> store.findAdmin(name)).orElseThrow(() -> Status.NOT_FOUND
        .withDescription("admin '" + name + "' not found (see 'admin list')").asRuntimeException());
  }

  private static <T> T guard(java.util.function.Supplier<T> work) {
    try {
      return work.get();
    } catch (StoreException e) {
      throw unavailable(e);
    }
  }

  private static RuntimeException unavailable(StoreException e) {
    log.error("store failure: {}", e.getMessage());
    return Status.UNAVAILABLE.withDescription("manager storage unavailable, retry later").asRuntimeException();
  }

  /** A created admin and its credential. */
  public record Created(AdminRecord admin, AdminSecret secret) {}

  /** A revoked admin and the calls ended on this replica. */
  public record Revoked(AdminRecord admin, int callsEnded) {}
}
