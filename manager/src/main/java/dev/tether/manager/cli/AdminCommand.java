package dev.tether.manager.cli;

import dev.tether.common.token.Secrets;
import io.grpc.CallCredentials;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Mixin;

/**
 * Base of every admin command: checks its options, connects to the manager with the admin key,
 * runs, prints the result as a table, {@code --json} or one {@code --field}, and turns a refusal
 * into one clear line on stderr and exit code 1.
 */
abstract class AdminCommand implements Callable<Integer> {

  @Mixin AdminOptions admin;

  /** Runs against the manager; stubs must use {@link #deadline()}. */
  abstract void run(ManagedChannel channel, CallCredentials credentials);

  /** Every name {@code --field} and {@code --json} use for this command's result (docs/cli-output.md). */
  abstract List<String> fields();

  /** Checks this command's own options before anything is sent; throws {@link CliException}. */
  void check() {}

  @Override
  public final Integer call() {
    admin.check();
    if (admin.field != null) {
      // before the call: a create command cannot show its value a second time
      Output.check(fields(), admin.field);
    }
    check();
    try (AdminOptions.Connection connection = admin.connect()) {
      run(connection.channel(), admin.credentials());
      return 0;
    } catch (StatusRuntimeException e) {
      System.err.println("error: " + Secrets.redact(StatusMessages.describe(e.getStatus(), admin)));
      return 1;
    }
  }

  /**
   * Prints {@code result}: as JSON with {@code --json}, one field's values with {@code --field},
   * else by {@code table}, the command's human form.
   */
  void print(Output result, Runnable table) {
    if (admin.json) {
      System.out.println(result.json());
    } else if (admin.field != null) {
      result.field(admin.field).forEach(System.out::println);
    } else {
      table.run();
    }
  }

  static long deadline() {
    return 30;
  }

  static TimeUnit deadlineUnit() {
    return TimeUnit.SECONDS;
  }
}
