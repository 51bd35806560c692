package dev.tether.manager.cli;

import dev.tether.common.text.UserText;
import dev.tether.manager.admin.AdminServices;
import dev.tether.proto.admin.v1.CreateTokenRequest;
import dev.tether.proto.admin.v1.CreateTokenResponse;
import dev.tether.proto.admin.v1.Delegate;
import dev.tether.proto.admin.v1.DeleteTokenRequest;
import dev.tether.proto.admin.v1.DeleteTokenResponse;
import dev.tether.proto.admin.v1.EndRotationRequest;
import dev.tether.proto.admin.v1.EndRotationResponse;
import dev.tether.proto.admin.v1.GetRotationRequest;
import dev.tether.proto.admin.v1.GetRotationResponse;
import dev.tether.proto.admin.v1.ListTokensRequest;
import dev.tether.proto.admin.v1.ListTokensResponse;
import dev.tether.proto.admin.v1.RevokeTokenRequest;
import dev.tether.proto.admin.v1.RevokeTokenResponse;
import dev.tether.proto.admin.v1.RotateTokenRequest;
import dev.tether.proto.admin.v1.RotateTokenResponse;
import dev.tether.proto.admin.v1.RotationDelegate;
import dev.tether.proto.admin.v1.Token;
import dev.tether.proto.admin.v1.TokenAdminGrpc;
import dev.tether.proto.admin.v1.TokenRotation;
import dev.tether.proto.admin.v1.TokenStatus;
import io.grpc.CallCredentials;
import io.grpc.ManagedChannel;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code tether-manager token create|list|revoke|delete|rotate}. */
@Command(name = "token", mixinStandardHelpOptions = true,
    description = "Create, list, revoke and delete delegate tokens.",
    subcommands = {TokenCommands.Create.class, TokenCommands.ListTokens.class,
        TokenCommands.Revoke.class, TokenCommands.Delete.class, TokenCommands.Rotate.class})
final class TokenCommands {

  /** How often {@code token rotate} asks how its delegates are doing. */
  static final Duration POLL = Duration.ofSeconds(1);

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
    @Option(names = "--rotate-every", paramLabel = "DURATION", converter = Durations.class,
        description = "Have the manager rotate the token by itself this often, as 'token rotate' does (for"
            + " example 90d); the successor inherits the schedule.")
    Duration rotateEvery;

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
      if (rotateEvery != null) {
        request.setRotateEveryMs(rotateEvery.toMillis());
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
        if (response.getNextRotationAtUnixMs() != 0) {
          System.out.println("rotated by the manager every " + Durations.format(rotateEvery) + ", first at "
              + Table.time(response.getNextRotationAtUnixMs()) + " ('token rotate --status' follows it)");
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

  @Command(name = "rotate", mixinStandardHelpOptions = true,
      description = "Rotate a token with no one touching the delegates: create its successor (value printed once),"
          + " hand it to every delegate connected with the token, which keeps it and reconnects with it, then"
          + " revoke the token once they all moved and the grace period is over (docs/rotation.md).")
  static final class Rotate extends AdminCommand {
    @Option(names = "--account", required = true, paramLabel = "ACCOUNT_ID",
        description = "The account the token belongs to (its id, from 'account list').") String account;
    @Option(names = "--name", required = true, paramLabel = "NAME", description = "The token to rotate (OLD).")
    String name;
    @Option(names = "--new-name", paramLabel = "NAME",
        description = "The successor's name (default: NAME-r2, or the next -rN when NAME ends in one).")
    String newName;
    @Option(names = "--grace", paramLabel = "DURATION", converter = Durations.ZeroAllowed.class,
        description = "Keep OLD active at least this long (default 15m; 0s allowed).")
    Duration grace;
    @Option(names = "--no-push", description = "Create the successor and open the rotation without handing it to"
        + " any delegate (after a leak: revoke and reinstall instead of pushing).")
    boolean noPush;
    @Option(names = "--wait", paramLabel = "DURATION", converter = Durations.ZeroAllowed.class, defaultValue = "60s",
        description = "Follow the delegates' progress this long at most (default: ${DEFAULT-VALUE}; 0s: do not wait).")
    Duration wait;

    @ArgGroup(exclusive = true)
    Other other;

    static final class Other {
      @Option(names = "--status", description = "Show the token's latest rotation instead of opening one.")
      boolean status;
      @Option(names = "--cancel", description = "End the open rotation and leave OLD active.")
      boolean cancel;
      @Option(names = "--finish", description = "End the open rotation now: revoke OLD, cutting delegates still on it.")
      boolean finish;
    }

    @Override
    List<String> fields() {
      return Output.fieldNames(other == null ? RotateTokenResponse.getDescriptor() : GetRotationResponse.getDescriptor());
    }

    @Override
    void check() {
      if (other != null && (newName != null || grace != null || noPush)) {
        throw new CliException("--new-name, --grace and --no-push open a rotation; they cannot go with"
            + " --status, --cancel or --finish");
      }
    }

    @Override
    void run(ManagedChannel channel, CallCredentials credentials) {
      if (other != null) {
        GetRotationResponse response;
        if (other.status) {
          response = stub(channel, credentials).getRotation(GetRotationRequest.newBuilder()
              .setAccountId(account).setTokenName(name).build());
        } else {
          EndRotationResponse ended = stub(channel, credentials).endRotation(EndRotationRequest.newBuilder()
              .setAccountId(account).setTokenName(name)
              .setAction(other.finish ? EndRotationRequest.Action.FINISH : EndRotationRequest.Action.CANCEL).build());
          response = GetRotationResponse.newBuilder().setRotation(ended.getRotation()).build();
        }
        print(Output.of(response), () -> summary(response.getRotation(), true));
        return;
      }
      RotateTokenRequest.Builder request = RotateTokenRequest.newBuilder().setAccountId(account).setTokenName(name)
          .setNoPush(noPush);
      if (newName != null) {
        request.setNewName(newName);
      }
      if (grace != null) {
        request.setGraceMs(grace.toMillis());
      }
      RotateTokenResponse opened = stub(channel, credentials).rotateToken(request.build());
      boolean human = !admin.json && admin.field == null;
      if (human) {
        TokenRotation r = opened.getRotation();
        System.out.println("rotation " + r.getRotationId() + " opened: token " + UserText.quote(r.getTokenName()) + " ("
            + r.getTokenId() + ") -> " + UserText.quote(r.getSuccessorName()) + " (" + r.getSuccessorTokenId() + ")");
        printValueOnce(opened.getSuccessor().getName(), opened.getSuccessor().getTokenId(), opened.getValue());
        System.out.println(noPush ? "not pushed to any delegate (--no-push): install the successor by hand"
            : "handing the successor to " + (r.getWaiting() + r.getMoved()) + " connected delegates...");
        System.out.flush();
      }
      TokenRotation last = follow(channel, credentials, opened.getRotation(), human);
      RotateTokenResponse result = opened.toBuilder().setRotation(last).build();
      // the delegates' lines went out as they came
      print(Output.of(result), () -> summary(last, false));
    }

    /** Polls the rotation until no delegate is waiting (and it finished, when it can), or --wait is over. */
    private TokenRotation follow(ManagedChannel channel, CallCredentials credentials, TokenRotation first, boolean human) {
      long deadline = System.nanoTime() + wait.toNanos();
      Map<String, String> seen = new HashMap<>();
      TokenRotation r = first;
      while (true) {
        if (human) {
          for (RotationDelegate d : r.getDelegatesList()) {
            String state = d.getOutcome() + d.getReason();
            if (!state.equals(seen.put(d.getDelegateId(), state)) && !d.getOutcome().equals("NOT_SENT")
                && !d.getOutcome().equals("SENT")) {
              System.out.println("  " + line(d));
              System.out.flush();
            }
          }
        }
        boolean settled = r.getWaiting() == 0 && (!r.getState().equals("OPEN") || noPush
            || r.getCannotKeep() + r.getFailed() > 0 || r.getGraceEndsAtUnixMs() > System.currentTimeMillis() + 2_000);
        if (settled || System.nanoTime() - deadline >= 0 || noPush) {
          return r;
        }
        try {
          Thread.sleep(POLL.toMillis());
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return r;
        }
        try {
          r = stub(channel, credentials).getRotation(GetRotationRequest.newBuilder().setAccountId(account)
              .setTokenName(name).build()).getRotation();
        } catch (io.grpc.StatusRuntimeException e) {
          // the successor's value must still be printed: stop following, not the command
          System.err.println("could not follow the rotation (" + e.getStatus().getCode() + "); 'token rotate --account "
              + account + " --name " + name + " --status' shows it");
          return r;
        }
      }
    }

    private static String line(RotationDelegate d) {
      String what = switch (d.getOutcome()) {
        case "MOVED" -> "moved";
        case "CANNOT_KEEP" -> "cannot keep the new token";
        case "FAILED" -> "failed to move";
        case "NO_ANSWER" -> "did not answer";
        case "NOT_CONNECTED" -> "not connected";
        case "SENT" -> "sent the successor, waiting for its answer";
        case "NOT_SENT" -> "connected, not sent yet";
        default -> d.getOutcome();
      };
      String reason = d.getReason();
      // a delegate's own answer may already say what happened ("cannot keep the new token: ...")
      String said = reason.isEmpty() ? what : reason.startsWith(what) ? reason : what + ": " + reason;
      return "delegate " + UserText.quote(d.getName()) + " on " + UserText.quote(d.getHostname()) + " ("
          + d.getDelegateId() + "): " + said;
    }

    private static void summary(TokenRotation r, boolean delegates) {
      System.out.println("rotation " + r.getRotationId() + " of token " + UserText.quote(r.getTokenName()) + " ("
          + r.getTokenId() + ") to " + UserText.quote(r.getSuccessorName()) + " (" + r.getSuccessorTokenId() + "): "
          + r.getState().toLowerCase(java.util.Locale.ROOT)
          + (r.getEndedAtUnixMs() != 0 ? " at " + Table.time(r.getEndedAtUnixMs()) + " by " + r.getEndedBy() : ""));
      System.out.println("  moved " + r.getMoved() + ", cannot keep " + r.getCannotKeep() + ", failed " + r.getFailed()
          + ", waiting " + r.getWaiting() + ", not connected " + r.getNotConnected());
      if (delegates) {
        for (RotationDelegate d : r.getDelegatesList()) {
          System.out.println("  " + line(d));
        }
      }
      if (r.getState().equals("OPEN")) {
        boolean graceOver = r.getGraceEndsAtUnixMs() <= System.currentTimeMillis();
        System.out.println(UserText.quote(r.getTokenName()) + " is revoked once every delegate still connected with it"
            + " has moved" + (graceOver ? " (the grace period is over)" : ", and not before "
            + Table.time(r.getGraceEndsAtUnixMs())) + "; '--finish' revokes it now, '--cancel' leaves it active");
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
