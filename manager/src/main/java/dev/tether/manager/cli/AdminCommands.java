package dev.tether.manager.cli;

import dev.tether.common.text.UserText;
import dev.tether.proto.admin.v1.Admin;
import dev.tether.proto.admin.v1.AdminAccessGrpc;
import dev.tether.proto.admin.v1.AdminRole;
import dev.tether.proto.admin.v1.CreateAdminRequest;
import dev.tether.proto.admin.v1.CreateAdminResponse;
import dev.tether.proto.admin.v1.DeleteAdminRequest;
import dev.tether.proto.admin.v1.DeleteAdminResponse;
import dev.tether.proto.admin.v1.ListAdminsRequest;
import dev.tether.proto.admin.v1.ListAdminsResponse;
import dev.tether.proto.admin.v1.RevokeAdminRequest;
import dev.tether.proto.admin.v1.RevokeAdminResponse;
import dev.tether.proto.admin.v1.WhoAmIRequest;
import dev.tether.proto.admin.v1.WhoAmIResponse;
import io.grpc.CallCredentials;
import io.grpc.ManagedChannel;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code tether-manager admin create|list|revoke|delete|whoami}: named admins and their roles. */
@Command(name = "admin", mixinStandardHelpOptions = true,
    description = "Manage the named admins who may use these commands (owner role), and show who you are.",
    subcommands = {AdminCommands.Create.class, AdminCommands.ListAdmins.class, AdminCommands.Revoke.class,
        AdminCommands.Delete.class, AdminCommands.WhoAmI.class})
final class AdminCommands {

  static AdminAccessGrpc.AdminAccessBlockingStub stub(ManagedChannel channel, CallCredentials credentials) {
    return AdminAccessGrpc.newBlockingStub(channel).withCallCredentials(credentials)
        .withDeadlineAfter(AdminCommand.deadline(), AdminCommand.deadlineUnit());
  }

  /** The roles {@code admin create --role} takes, lowest first. */
  enum Role {
    VIEWER(AdminRole.VIEWER), OPERATOR(AdminRole.OPERATOR), OWNER(AdminRole.OWNER);

    final AdminRole proto;

    Role(AdminRole proto) {
      this.proto = proto;
    }

    @Override
    public String toString() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  static String role(Admin a) {
    return a.getRole().name().toLowerCase(Locale.ROOT);
  }

  @Command(name = "create", mixinStandardHelpOptions = true,
      description = "Create a named admin with a role; its key is printed once and cannot be shown again.")
  static final class Create extends AdminCommand {
    @Parameters(paramLabel = "NAME", description = "The admin's name, as the audit trail shows it: letters, digits,"
        + " '.', '_' or '-'.")
    String name;
    @Option(names = "--role", required = true, paramLabel = "ROLE",
        description = "${COMPLETION-CANDIDATES}: a viewer lists and reads; an operator also creates, revokes and"
            + " deletes accounts, tokens and delegates and writes install files; an owner also manages admins.")
    Role role;

    @Override
    List<String> fields() {
      return Output.fieldNames(CreateAdminResponse.getDescriptor());
    }

    @Override
    void run(ManagedChannel channel, CallCredentials credentials) {
      CreateAdminResponse response = stub(channel, credentials)
          .createAdmin(CreateAdminRequest.newBuilder().setName(name).setRole(role.proto).build());
      Admin a = response.getAdmin();
      print(Output.of(response), () -> {
        System.out.println("admin " + UserText.quote(a.getName()) + " (" + a.getAdminId() + ") created with role "
            + role(a) + ". Its key, shown once; it cannot be shown again:");
        System.out.println();
        System.out.println("  " + response.getValue());
        System.out.println();
        System.out.println("Store it now in a file only its user can read (chmod 600 FILE), and use it with"
            + " --admin-key-file FILE or TETHER_ADMIN_KEY_FILE=FILE (--field value prints only the key).");
      });
    }
  }

  @Command(name = "list", mixinStandardHelpOptions = true, description = "List the admins and their roles (never their keys).")
  static final class ListAdmins extends AdminCommand {
    @Override
    List<String> fields() {
      return Output.fieldNames(ListAdminsResponse.getDescriptor());
    }

    @Override
    void run(ManagedChannel channel, CallCredentials credentials) {
      ListAdminsResponse response = stub(channel, credentials).listAdmins(ListAdminsRequest.getDefaultInstance());
      print(Output.of(response), () -> {
        Table table = new Table("NAME", "ADMIN_ID", "ROLE", "STATUS", "CREATED", "CREATED_BY", "REVOKED");
        for (Admin a : response.getAdminsList()) {
          table.row(a.getName(), a.getAdminId(), role(a), a.getRevoked() ? "REVOKED" : "ACTIVE",
              Table.time(a.getCreatedAtUnixMs()), a.getCreatedBy().isEmpty() ? "-" : a.getCreatedBy(),
              a.getRevoked() ? Table.time(a.getRevokedAtUnixMs()) + " by " + a.getRevokedBy() : "-");
        }
        table.print(System.out);
      });
    }
  }

  @Command(name = "revoke", mixinStandardHelpOptions = true,
      description = "Revoke an admin: its key stops working and its open calls end at once.")
  static final class Revoke extends AdminCommand {
    @Parameters(paramLabel = "NAME", description = "The name of the admin to revoke.")
    String name;

    @Override
    List<String> fields() {
      return Output.fieldNames(RevokeAdminResponse.getDescriptor());
    }

    @Override
    void run(ManagedChannel channel, CallCredentials credentials) {
      RevokeAdminResponse response = stub(channel, credentials)
          .revokeAdmin(RevokeAdminRequest.newBuilder().setName(name).build());
      Admin a = response.getAdmin();
      print(Output.of(response), () -> System.out.println("admin " + UserText.quote(a.getName()) + " ("
          + a.getAdminId() + ", " + role(a) + ") revoked; " + response.getCallsEnded() + " open calls ended"));
    }
  }

  @Command(name = "delete", mixinStandardHelpOptions = true, description = "Delete a revoked admin, freeing its name.")
  static final class Delete extends AdminCommand {
    @Parameters(paramLabel = "NAME", description = "The name of the revoked admin to delete.")
    String name;

    @Override
    List<String> fields() {
      return Output.fieldNames(DeleteAdminResponse.getDescriptor());
    }

    @Override
    void run(ManagedChannel channel, CallCredentials credentials) {
      DeleteAdminResponse response = stub(channel, credentials)
          .deleteAdmin(DeleteAdminRequest.newBuilder().setName(name).build());
      Admin a = response.getAdmin();
      print(Output.of(response), () -> System.out.println("admin " + UserText.quote(a.getName()) + " ("
          + a.getAdminId() + ") deleted"));
    }
  }

  @Command(name = "whoami", mixinStandardHelpOptions = true,
      description = "Show the admin whose key this command uses, its role, and the address the manager sees.")
  static final class WhoAmI extends AdminCommand {
    @Override
    List<String> fields() {
      return Output.fieldNames(WhoAmIResponse.getDescriptor());
    }

    @Override
    void run(ManagedChannel channel, CallCredentials credentials) {
      WhoAmIResponse response = stub(channel, credentials).whoAmI(WhoAmIRequest.getDefaultInstance());
      Admin a = response.getAdmin();
      print(Output.of(response), () -> System.out.println("admin " + UserText.quote(a.getName()) + " ("
          + a.getAdminId() + "), role " + role(a) + ", calling from "
          + (response.getRemoteAddress().isEmpty() ? "-" : response.getRemoteAddress()) + " to " + admin.target()));
    }
  }
}
