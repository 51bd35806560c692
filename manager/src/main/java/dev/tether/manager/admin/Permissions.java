package dev.tether.manager.admin;

import dev.tether.manager.store.AdminRole;
import dev.tether.proto.admin.v1.AccountAdminGrpc;
import dev.tether.proto.admin.v1.AdminAccessGrpc;
import dev.tether.proto.admin.v1.AuditAdminGrpc;
import dev.tether.proto.admin.v1.DelegateAdminGrpc;
import dev.tether.proto.admin.v1.TokenAdminGrpc;
import io.grpc.MethodDescriptor;
import java.util.Map;
import java.util.Optional;

/**
 * The role each admin method needs. A method missing here is refused to every role (fail closed);
 * a test checks that every method of every admin service is listed.
 */
public final class Permissions {

  private static final Map<String, AdminRole> NEEDED = Map.ofEntries(
      needs(AccountAdminGrpc.getListAccountsMethod(), AdminRole.VIEWER),
      needs(AccountAdminGrpc.getCreateAccountMethod(), AdminRole.OPERATOR),
      needs(TokenAdminGrpc.getListTokensMethod(), AdminRole.VIEWER),
      needs(TokenAdminGrpc.getCreateTokenMethod(), AdminRole.OPERATOR),
      needs(TokenAdminGrpc.getRevokeTokenMethod(), AdminRole.OPERATOR),
      needs(TokenAdminGrpc.getDeleteTokenMethod(), AdminRole.OPERATOR),
      needs(TokenAdminGrpc.getPrepareInstallMethod(), AdminRole.OPERATOR),
      needs(TokenAdminGrpc.getRotateTokenMethod(), AdminRole.OPERATOR),
      needs(TokenAdminGrpc.getGetRotationMethod(), AdminRole.VIEWER),
      needs(TokenAdminGrpc.getEndRotationMethod(), AdminRole.OPERATOR),
      needs(DelegateAdminGrpc.getListDelegatesMethod(), AdminRole.VIEWER),
      needs(DelegateAdminGrpc.getDeleteDelegateMethod(), AdminRole.OPERATOR),
      needs(DelegateAdminGrpc.getPruneDelegatesMethod(), AdminRole.OPERATOR),
      needs(AuditAdminGrpc.getListAuditMethod(), AdminRole.VIEWER),
      needs(AdminAccessGrpc.getWhoAmIMethod(), AdminRole.VIEWER),
      needs(AdminAccessGrpc.getCreateConsoleLoginMethod(), AdminRole.VIEWER),
      needs(AdminAccessGrpc.getListAdminsMethod(), AdminRole.OWNER),
      needs(AdminAccessGrpc.getCreateAdminMethod(), AdminRole.OWNER),
      needs(AdminAccessGrpc.getRevokeAdminMethod(), AdminRole.OWNER),
      needs(AdminAccessGrpc.getDeleteAdminMethod(), AdminRole.OWNER));

  private Permissions() {}

  /** The role {@code fullMethodName} needs; empty for a method no role may call. */
  public static Optional<AdminRole> needed(String fullMethodName) {
    return Optional.ofNullable(NEEDED.get(fullMethodName));
  }

  private static Map.Entry<String, AdminRole> needs(MethodDescriptor<?, ?> method, AdminRole role) {
    return Map.entry(method.getFullMethodName(), role);
  }
}
