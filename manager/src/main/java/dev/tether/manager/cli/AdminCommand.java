package dev.tether.manager.cli;

import dev.tether.common.token.Secrets;
import io.grpc.CallCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Mixin;

/**
 * Base of every admin command: connects to the manager with the admin key, runs, and turns a
 * refusal into one clear line on stderr and exit code 1.
 */
abstract class AdminCommand implements Callable<Integer> {

  @Mixin AdminOptions admin;

  /** Runs against the manager; stubs must use {@link #deadline()}. */
  abstract void run(ManagedChannel channel, CallCredentials credentials);

  @Override
  public final Integer call() {
    ManagedChannel channel = admin.channel();
    try {
      run(channel, admin.credentials());
      return 0;
    } catch (StatusRuntimeException e) {
      System.err.println("error: " + Secrets.redact(describe(e.getStatus())));
      return 1;
    } finally {
      AdminOptions.close(channel);
    }
  }

  static long deadline() {
    return 30;
  }

  static TimeUnit deadlineUnit() {
    return TimeUnit.SECONDS;
  }

  private String describe(Status status) {
    return switch (status.getCode()) {
      case UNAVAILABLE -> status.getDescription() != null && status.getDescription().contains("storage")
          ? status.getDescription()
          : "cannot reach the manager at " + admin.target() + " (" + (status.getDescription() == null
              ? status.getCode() : status.getDescription()) + "); is it running, and with TLS as this command expects?";
      case UNAUTHENTICATED -> "the manager refused the admin key (" + status.getDescription()
          + "); use the admin.key from the manager's data directory";
      case DEADLINE_EXCEEDED -> "the manager at " + admin.target() + " did not answer in time";
      default -> status.getDescription() == null ? status.getCode().toString() : status.getDescription();
    };
  }

  boolean json() {
    return admin.json;
  }
}
