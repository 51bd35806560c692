package dev.tether.bench;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

/**
 * Entry point of {@code scripts/bench.sh}: runs one scenario and prints its results, the last line
 * being one JSON object. Scenarios: {@code crypto} (JMH, the handshake's cryptography),
 * {@code handshakes} (new delegates per second against the manager and the baseline),
 * {@code revocation} (revoke to last stream closed, N = 1, 100, 10 000), {@code replica-revocation}
 * (the same across 3 replicas on one PostgreSQL), {@code refusal-timing} (whether the time to a
 * Challenge tells that an account or token exists), {@code cli} (an admin command's wall time,
 * launcher to exit, against {@code java -version}), {@code startup} (the manager and the delegate
 * started through their launchers, to listening and to connected; the idle delegate's memory; the
 * jars' sizes), {@code streams-held}, {@code heartbeats} and {@code reconnect}. Every scenario but
 * {@code crypto} (JMH, which forks its own) runs its servers, PostgreSQL and load generators in
 * processes of their own ({@code startup}: the shipped launchers), this JVM only driving them and
 * adding up. Every run first prints the machine's floor
 * ({@link MachineFloor}) as a line of its own; {@code machine} prints only that.
 */
public final class Bench {

  private static final List<String> SCENARIOS = List.of("machine", "crypto", "handshakes", "revocation",
      "replica-revocation",
      "streams-held", "heartbeats", "reconnect", "refusal-timing", "cli", "startup");

  private Bench() {}

  public static void main(String[] args) throws Exception {
    if (args.length == 0) {
      usage("no scenario given");
    }
    boolean quick = List.of(args).contains("--quick");
    if (!SCENARIOS.contains(args[0])) {
      usage("unknown scenario '" + args[0] + "'");
    }
    int max = Integer.MAX_VALUE;
    int warmup = HandshakeScenario.WARMUP_SECONDS;
    int rounds = quick ? HandshakeScenario.QUICK_ROUNDS : HandshakeScenario.ROUNDS;
    try {
      checkArguments(args);
      max = positiveOption(args, "--max", max, "a positive number of streams");
      warmup = positiveOption(args, "--warmup", warmup, "a positive number of seconds");
      rounds = positiveOption(args, "--rounds", rounds, "a positive number of rounds");
    } catch (IllegalArgumentException e) {
      usage(e.getMessage());
    }
    // the machine's own limits first, beside which every figure of the run is read
    MachineFloor floor = MachineFloor.ofThisRun();
    System.out.printf(Locale.ROOT, "machine: %d cores; 4 KiB write + fsync in %s p50 %.3f ms, p99 %.3f ms, max %.3f ms"
        + " (%d samples); loopback TCP round trip p50 %.1f us, p99 %.1f us (%d)%n", floor.cores(), floor.dir(),
        floor.fsyncP50Ms(), floor.fsyncP99Ms(), floor.fsyncMaxMs(), floor.fsyncs(), floor.loopbackP50Us(),
        floor.loopbackP99Us(), floor.roundTrips());
    System.out.println(floor.json());
    switch (args[0]) {
      case "machine" -> { }
      case "crypto" -> crypto(quick);
      case "handshakes" -> HandshakeScenario.run(quick, warmup, rounds);
      case "revocation" -> RevocationScenario.run(quick);
      case "replica-revocation" -> ReplicaRevocationScenario.run(quick);
      case "streams-held" -> StreamsHeldScenario.run(quick, max);
      case "heartbeats" -> HeartbeatScenario.run(quick);
      case "reconnect" -> ReconnectScenario.run(quick);
      case "refusal-timing" -> RefusalTimingScenario.run(quick);
      case "cli" -> CliScenario.run(quick);
      case "startup" -> StartupScenario.run(quick);
      default -> usage("unknown scenario '" + args[0] + "'");
    }
  }

  private static void usage(String problem) {
    System.err.println("bench: " + problem + " (expected: machine, crypto, handshakes, revocation, replica-revocation, streams-held,"
        + " heartbeats, reconnect, refusal-timing, cli or startup, optionally with --quick; streams-held also takes --max N,"
        + " handshakes --warmup SECONDS and --rounds N)");
    System.exit(2);
  }

  /** The options that take a value, and the scenario that takes each. */
  private static final Map<String, String> OPTIONS = Map.of(
      "--max", "streams-held", "--warmup", "handshakes", "--rounds", "handshakes");

  /**
   * Refuses what {@code args} (a scenario, then its options) holds beyond {@code --quick} and the
   * scenario's own options with their values: an option of another scenario would otherwise be
   * ignored without a word.
   */
  static void checkArguments(String[] args) {
    for (int i = 1; i < args.length; i++) {
      String arg = args[i];
      if (arg.equals("--quick")) {
        continue;
      }
      String owner = OPTIONS.get(arg);
      if (owner == null) {
        throw new IllegalArgumentException("unknown argument '" + arg + "'");
      }
      if (!owner.equals(args[0])) {
        throw new IllegalArgumentException(arg + " is an option of " + owner + ", not of " + args[0]);
      }
      i++; // its value, checked by positiveOption
    }
  }

  /**
   * The value of {@code name N} in {@code args}, or {@code absent} when it is not given; a missing or
   * non-positive value is refused, naming {@code expected}.
   */
  static int positiveOption(String[] args, String name, int absent, String expected) {
    List<String> list = List.of(args);
    int at = list.indexOf(name);
    if (at < 0) {
      return absent;
    }
    if (at + 1 >= args.length || !args[at + 1].matches("[1-9][0-9]{0,8}")) {
      throw new IllegalArgumentException(name + " takes " + expected + ", got '"
          + (at + 1 < args.length ? args[at + 1] : "") + "'");
    }
    return Integer.parseInt(args[at + 1]);
  }

  private static void crypto(boolean quick) throws RunnerException {
    Options options = new OptionsBuilder()
        .include(HandshakeCryptoBenchmark.class.getName())
        .forks(1)
        .warmupIterations(quick ? 2 : 5)
        .warmupTime(TimeValue.seconds(1))
        .measurementIterations(quick ? 3 : 10)
        .measurementTime(TimeValue.seconds(1))
        .build();
    Collection<RunResult> results = new Runner(options).run();
    List<String> fields = new ArrayList<>();
    System.out.println();
    System.out.printf("%-28s %14s %14s%n", "operation", "us/op", "error (99.9%)");
    for (RunResult r : results) {
      String name = r.getParams().getBenchmark().replaceAll(".*\\.", "");
      double score = r.getPrimaryResult().getScore();
      double error = r.getPrimaryResult().getScoreError();
      System.out.printf(Locale.ROOT, "%-28s %14.2f %14.2f%n", name, score, error);
      fields.add(String.format(Locale.ROOT, "\"%s_us\":%.3f,\"%s_error_us\":%.3f", snake(name), score, snake(name), error));
    }
    System.out.println("{\"scenario\":\"crypto\",\"quick\":" + quick + "," + String.join(",", fields) + "}");
  }

  private static String snake(String camel) {
    return camel.replaceAll("([a-z])([A-Z])", "$1_$2").toLowerCase(Locale.ROOT);
  }
}
