package dev.tether.manager.cli;

import dev.tether.common.text.UserText;
import dev.tether.manager.admin.AdminServices;
import dev.tether.proto.admin.v1.CreateTokenRequest;
import dev.tether.proto.admin.v1.CreateTokenResponse;
import dev.tether.proto.admin.v1.Delegate;
import dev.tether.proto.admin.v1.DeleteTokenRequest;
import dev.tether.proto.admin.v1.DeleteTokenResponse;
import dev.tether.proto.admin.v1.ListTokensRequest;
import dev.tether.proto.admin.v1.ListTokensResponse;
import dev.tether.proto.admin.v1.RevokeTokenRequest;
import dev.tether.proto.admin.v1.RevokeTokenResponse;
import dev.tether.proto.admin.v1.Token;
import dev.tether.proto.admin.v1.TokenAdminGrpc;
import dev.tether.proto.admin.v1.TokenStatus;
import io.grpc.CallCredentials;
import io.grpc.ManagedChannel;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code tether-manager token create|list|revoke|delete}. */
@Command(name = "token", mixinStandardHelpOptions = true,
    description = "Create, list, revoke and delete delegate tokens.",
    subcommands = {TokenCommands.Create.class, TokenCommands.ListTokens.class,
        TokenCommands.Revoke.class, TokenCommands.Delete.class})
final class TokenCommands {

  static TokenAdminGrpc.TokenAdminBlockingStub stub(ManagedChannel channel, CallCredentials credentials) {
    return TokenAdminGrpc.newBlockingStub(channel).withCallCredentials(credentials)
        .withDeadlineAfter(AdminCommand.deadline(), AdminCommand.deadlineUnit());
  }

  static void printValueOnce(String name, String tokenId, String value) {
    System.out.println("token " + UserText.quote(name) + " (" + tokenId + ") value, shown once; it cannot be shown again:");
    System.out.println();
    System.out.println("  " + value);
    System.out.println();
    System.out.println("Store it now, for example in a Kubernetes Secret or a 0600 file for DELEGATE_TOKEN_FILE"
        + " (--field value prints only the value, for a script).");
  }

  @Command(name = "create", mixinStandardHelpOptions = true,
      description = "Create a token; its value is printed once and cannot be shown again.")
  static final class Create extends AdminCommand {
    @Option(names = "--account", required = true, paramLabel = "ACCOUNT_ID",
        description = "The account the token belongs to (its id, from 'account list').") String account;
    @Option(names = "--name", required = true, paramLabel = "NAME",
        description = "The token's name, unique in the account: letters, digits, '.', '_' or '-'.") String name;
    @Option(names = "--expires-in", paramLabel = "DURATION", converter = Durations.class,
        description = "End the token automatically after this long, as EXPIRED (for example 24h, 30d, 2w or"
            + " 1h30m; at most 3650d, at least the manager's floor, 1m by default).")
    Duration expiresIn;
    @Option(names = "--description", paramLabel = "TEXT",
        description = "Free text kept with the token, up to 256 characters (for example who uses it).")
    String description;

    @ArgGroup(exclusive = true)
    ImportSource importSource;

    static final class ImportSource {
      @Option(names = "--import-file", paramLabel = "FILE",
          description = "Import a custom token value read from FILE instead of generating one.")
      Path file;
      @Option(names = "--import-stdin", description = "Import a custom token value read from standard input.")
      boolean stdin;
    }

    @Override
    List<String> fields() {
      return Output.fieldNames(CreateTokenResponse.getDescriptor());
    }

    @Override
    void check() {
      if (expiresIn != null && expiresIn.compareTo(AdminServices.MAX_TOKEN_LIFETIME) > 0) {
        throw new CliException("token lifetime " + Durations.format(expiresIn) + " (--expires-in) is out of range"
            + " (expected at most "
            + Durations.format(AdminServices.MAX_TOKEN_LIFETIME) + ", and at least the manager's floor, 1m by"
            + " default; for example 24h, 30d or 1h30m); nothing was created");
      }
    }

    @Override
    void run(ManagedChannel channel, CallCredentials credentials) {
      CreateTokenRequest.Builder request = CreateTokenRequest.newBuilder().setAccountId(account).setName(name);
      if (expiresIn != null) {
        request.setExpiresInMs(expiresIn.toMillis());
      }
      if (description != null) {
        request.setDescription(description);
      }
      if (importSource != null) {
        request.setImportValue(readImport());
      }
      CreateTokenResponse response = stub(channel, credentials).createToken(request.build());
      print(Output.of(response), () -> {
        Token token = response.getToken();
        if (importSource != null) {
          System.out.println("token " + UserText.quote(token.getName()) + " (" + token.getTokenId()
              + ") imported into account " + token.getAccountId());
        } else {
          printValueOnce(token.getName(), token.getTokenId(), response.getValue());
        }
        if (token.getExpiresAtUnixMs() != 0) {
          System.out.println("expires at " + Table.time(token.getExpiresAtUnixMs())
              + "; it then ends as EXPIRED and every delegate using it is cut");
        }
      });
    }

    private String readImport() {
      try {
        byte[] bytes = importSource.stdin ? System.in.readAllBytes() : Files.readAllBytes(importSource.file);
        String value = new String(bytes, StandardCharsets.UTF_8).strip();
        if (value.isEmpty()) {
          throw new CliException("the token to import from " + (importSource.stdin ? "standard input"
              : UserText.quote(importSource.file.toString())) + " is empty; nothing was created (give the value"
              + " to import, for example 'openssl rand -hex 32 | tether-manager token create ... --import-stdin',"
              + " or leave out --import-* to have a token generated)");
        }
        return value;
      } catch (IOException e) {
        throw new CliException("cannot read the token to import: " + e.getMessage());
      }
    }
  }

  /** The token states {@code token list --status} selects. */
  enum StatusFilter {
    ACTIVE(TokenStatus.ACTIVE), REVOKED(TokenStatus.REVOKED), EXPIRED(TokenStatus.EXPIRED);

    final TokenStatus status;

    StatusFilter(TokenStatus status) {
      this.status = status;
    }

    @Override
    public String toString() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  @Command(name = "list", mixinStandardHelpOptions = true, description = "List the tokens of an account (never their values).")
  static final class ListTokens extends AdminCommand {
    @Option(names = "--account", required = true, paramLabel = "ACCOUNT_ID",
        description = "The account whose tokens to list (its id, from 'account list').") String account;
    @Option(names = "--status", paramLabel = "STATUS",
        description = "Only tokens in this state: ${COMPLETION-CANDIDATES} (default: all). EXPIRED tokens ended at"
            + " their expiry; REVOKED ones were revoked by an admin.")
    StatusFilter status;

    @Override
    List<String> fields() {
      return Output.fieldNames(ListTokensResponse.getDescriptor());
    }

    @Override
    void run(ManagedChannel channel, CallCredentials credentials) {
      ListTokensRequest.Builder request = ListTokensRequest.newBuilder().setAccountId(account);
      if (status != null) {
        request.setStatus(status.status);
      }
      ListTokensResponse response = stub(channel, credentials).listTokens(request.build());
      print(Output.of(response), () -> {
        Table table = new Table("NAME", "TOKEN_ID", "STATUS", "CREATED", "LAST_USED", "EXPIRES", "ENDED",
            "DESCRIPTION");
        for (Token t : response.getTokensList()) {
          table.row(t.getName(), t.getTokenId(), t.getStatus().name(), Table.time(t.getCreatedAtUnixMs()),
              Table.time(t.getLastUsedUnixMs()), Table.time(t.getExpiresAtUnixMs()), ended(t),
              t.getDescription().isEmpty() ? "-" : t.getDescription());
        }
        table.print(System.out);
      });
    }
  }

  /** When and how a token ended: revoked by whom, or expired; "-" for an active one. */
  static String ended(Token t) {
    return switch (t.getStatus()) {
      case REVOKED -> Table.time(t.getRevokedAtUnixMs()) + " revoked by " + t.getRevokedBy();
      case EXPIRED -> Table.time(t.getRevokedAtUnixMs()) + " expired";
      default -> "-";
    };
  }

  @Command(name = "revoke", mixinStandardHelpOptions = true,
      description = "Revoke a token: every delegate using it is cut before this returns.")
  static final class Revoke extends AdminCommand {
    @Option(names = "--account", required = true, paramLabel = "ACCOUNT_ID",
        description = "The account the token belongs to (its id, from 'account list').") String account;
    @Option(names = "--name", required = true, paramLabel = "NAME", description = "The name of the token to revoke.")
    String name;
    @Option(names = "--dry-run", description = "Change nothing; list the delegates that would be cut.")
    boolean dryRun;

    @Override
    List<String> fields() {
      return Output.fieldNames(RevokeTokenResponse.getDescriptor());
    }

    @Override
    void run(ManagedChannel channel, CallCredentials credentials) {
      RevokeTokenResponse response = stub(channel, credentials).revokeToken(RevokeTokenRequest.newBuilder()
          .setAccountId(account).setName(name).setDryRun(dryRun).build());
      print(Output.of(response), () -> table(response));
    }

    private void table(RevokeTokenResponse response) {
      Token token = response.getToken();
      if (dryRun) {
        System.out.println("dry run: revoking token " + UserText.quote(token.getName()) + " (" + token.getTokenId()
            + ") would cut " + response.getAffectedDelegatesCount() + " connected delegates:");
        Table table = new Table("NAME", "HOSTNAME", "DELEGATE_ID");
        for (Delegate d : response.getAffectedDelegatesList()) {
          table.row(d.getName(), d.getHostname(), d.getId());
        }
        table.print(System.out);
        return;
      }
      System.out.println("token " + UserText.quote(token.getName()) + " (" + token.getTokenId() + ") revoked; "
          + response.getStreamsClosed() + " delegate streams closed");
      if (response.getReplicasCount() > 1) {
        for (var r : response.getReplicasList()) {
          System.out.println("  replica " + r.getReplicaId() + ": " + (r.getConfirmed()
              ? r.getStreamsClosed() + " streams closed"
              : "not confirmed in time (its reconciliation cuts the token's streams within its interval)"));
        }
      }
    }
  }

  @Command(name = "delete", mixinStandardHelpOptions = true,
      description = "Delete a revoked token, freeing its name.")
  static final class Delete extends AdminCommand {
    @Option(names = "--account", required = true, paramLabel = "ACCOUNT_ID",
        description = "The account the token belongs to (its id, from 'account list').") String account;
    @Option(names = "--name", required = true, paramLabel = "NAME",
        description = "The name of the revoked or expired token to delete.") String name;

    @Override
    List<String> fields() {
      return Output.fieldNames(DeleteTokenResponse.getDescriptor());
    }

    @Override
    void run(ManagedChannel channel, CallCredentials credentials) {
      DeleteTokenResponse response = stub(channel, credentials).deleteToken(DeleteTokenRequest.newBuilder()
          .setAccountId(account).setName(name).build());
      print(Output.of(response), () -> System.out.println("token " + UserText.quote(response.getToken().getName())
          + " (" + response.getToken().getTokenId() + ", " + response.getToken().getStatus().name() + ") deleted"));
    }
  }
}
