package dev.tether.manager.admin;

import dev.tether.manager.rotation.RotationService;
import dev.tether.manager.store.Account;
import dev.tether.manager.store.AdminRecord;
import dev.tether.manager.store.AdminRole;
import dev.tether.manager.store.AuditEvent;
import dev.tether.manager.store.DelegateRecord;
import dev.tether.manager.store.TokenRecord;
import dev.tether.proto.admin.v1.Delegate;
import dev.tether.proto.admin.v1.Token;
import dev.tether.proto.admin.v1.TokenStatus;
import java.time.Instant;

/** Conversions from store records to admin API messages. Token values are never part of them. */
final class Protos {

  private Protos() {}

  static dev.tether.proto.admin.v1.Account account(Account a) {
    return dev.tether.proto.admin.v1.Account.newBuilder()
        .setId(a.id())
        .setName(a.name())
        .setCreatedAtUnixMs(millis(a.createdAt()))
        .build();
  }

  static Token token(TokenRecord t) {
    return Token.newBuilder()
        .setAccountId(t.accountId())
        .setName(t.name())
        .setTokenId(t.publicId())
        .setStatus(switch (t.status()) {
          case ACTIVE -> TokenStatus.ACTIVE;
          case REVOKED -> TokenStatus.REVOKED;
          case EXPIRED -> TokenStatus.EXPIRED;
        })
        .setCreatedAtUnixMs(millis(t.createdAt()))
        .setCreatedBy(t.createdBy())
        .setRevokedAtUnixMs(millis(t.revokedAt()))
        .setRevokedBy(nullToEmpty(t.revokedBy()))
        .setRevokeReason(nullToEmpty(t.revokeReason()))
        .setLastUsedUnixMs(millis(t.lastUsedAt()))
        .setExpiresAtUnixMs(millis(t.expiresAt()))
        .setDescription(nullToEmpty(t.description()))
        .build();
  }

  static Delegate delegate(DelegateRecord d) {
    return Delegate.newBuilder()
        .setId(d.id())
        .setAccountId(d.accountId())
        .setName(d.name())
        .setHostname(d.hostname())
        .setDelegateType(d.delegateType())
        .setVersion(d.version())
        .addAllTags(d.tags())
        .setIp(d.ip())
        .setTokenName(d.tokenName())
        .setTokenId(d.tokenPublicId())
        .setConnected(d.connected())
        .setFirstSeenUnixMs(millis(d.firstSeen()))
        .setConnectedSinceUnixMs(millis(d.connectedSince()))
        .setLastHeartbeatUnixMs(millis(d.lastHeartbeat()))
        .setDisconnectedAtUnixMs(millis(d.disconnectedAt()))
        .setDisconnectReason(nullToEmpty(d.disconnectReason()))
        .setReplicaId(nullToEmpty(d.replicaId()))
        .build();
  }

  static dev.tether.proto.admin.v1.TokenRotation rotation(RotationService.Report report) {
    dev.tether.manager.store.Rotation r = report.rotation();
    dev.tether.proto.admin.v1.TokenRotation.Builder b = dev.tether.proto.admin.v1.TokenRotation.newBuilder()
        .setRotationId(r.id())
        .setAccountId(r.accountId())
        .setTokenName(r.oldTokenName())
        .setTokenId(r.oldTokenId())
        .setSuccessorName(r.successorTokenName())
        .setSuccessorTokenId(r.successorTokenId())
        .setState(r.state().name())
        .setPushed(r.push())
        .setGraceMs(r.grace().toMillis())
        .setOpenedAtUnixMs(millis(r.openedAt()))
        .setOpenedBy(r.openedBy())
        .setEndedAtUnixMs(millis(r.endedAt()))
        .setEndedBy(nullToEmpty(r.endedBy()))
        .setGraceEndsAtUnixMs(millis(r.openedAt().plus(r.grace())))
        .setMoved((int) report.count("MOVED"))
        .setCannotKeep((int) (report.count("CANNOT_KEEP") + report.count("NO_ANSWER")))
        .setFailed((int) report.count("FAILED"))
        .setWaiting((int) (report.count("SENT") + report.count("NOT_SENT")))
        .setNotConnected((int) report.count("NOT_CONNECTED"));
    for (RotationService.DelegateState d : report.delegates()) {
      b.addDelegates(dev.tether.proto.admin.v1.RotationDelegate.newBuilder()
          .setDelegateId(d.delegate().id())
          .setName(d.delegate().name())
          .setHostname(d.delegate().hostname())
          .setConnected(d.delegate().connected())
          .setTokenId(d.delegate().tokenPublicId())
          .setOutcome(d.outcome())
          .setReason(nullToEmpty(d.reason()))
          .setAtUnixMs(millis(d.at())));
    }
    return b.build();
  }

  static dev.tether.proto.admin.v1.AuditEvent audit(AuditEvent e) {
    return dev.tether.proto.admin.v1.AuditEvent.newBuilder()
        .setId(e.id())
        .setAtUnixMs(millis(e.at()))
        .setActor(e.actor())
        .setAction(e.action())
        .setAccountId(nullToEmpty(e.accountId()))
        .setTokenId(nullToEmpty(e.tokenPublicId()))
        .setDetail(e.detail())
        .setRemoteAddress(nullToEmpty(e.remoteAddress()))
        .build();
  }

  static dev.tether.proto.admin.v1.Admin admin(AdminRecord a) {
    return dev.tether.proto.admin.v1.Admin.newBuilder()
        .setName(a.name())
        .setAdminId(a.publicId())
        .setRole(role(a.role()))
        .setRevoked(!a.active())
        .setCreatedAtUnixMs(millis(a.createdAt()))
        .setCreatedBy(a.createdBy())
        .setRevokedAtUnixMs(millis(a.revokedAt()))
        .setRevokedBy(nullToEmpty(a.revokedBy()))
        .build();
  }

  static dev.tether.proto.admin.v1.AdminRole role(AdminRole role) {
    return switch (role) {
      case VIEWER -> dev.tether.proto.admin.v1.AdminRole.VIEWER;
      case OPERATOR -> dev.tether.proto.admin.v1.AdminRole.OPERATOR;
      case OWNER -> dev.tether.proto.admin.v1.AdminRole.OWNER;
    };
  }

  /** The store's role for an API role; null for unspecified or unknown. */
  static AdminRole role(dev.tether.proto.admin.v1.AdminRole role) {
    return switch (role) {
      case VIEWER -> AdminRole.VIEWER;
      case OPERATOR -> AdminRole.OPERATOR;
      case OWNER -> AdminRole.OWNER;
      default -> null;
    };
  }

  /** The store's status for an API status; null (every status) for unspecified. */
  static dev.tether.manager.store.TokenStatus status(TokenStatus status) {
    return switch (status) {
      case ACTIVE -> dev.tether.manager.store.TokenStatus.ACTIVE;
      case REVOKED -> dev.tether.manager.store.TokenStatus.REVOKED;
      case EXPIRED -> dev.tether.manager.store.TokenStatus.EXPIRED;
      default -> null;
    };
  }

  private static long millis(Instant at) {
    return at == null ? 0 : at.toEpochMilli();
  }

  private static String nullToEmpty(String s) {
    return s == null ? "" : s;
  }
}
