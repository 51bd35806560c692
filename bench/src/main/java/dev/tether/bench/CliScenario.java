package dev.tether.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * How long an admin command takes, launcher to exit: {@code token list} against a real manager (its
 * own process, idle), run as a separate process each time, next to {@code java -version} on the same
 * machine in the same run. Variants, interleaved round by round so that a busy moment of the machine
 * falls on all of them alike: {@code java -jar} as the launcher ran it before (no flags, no archive),
 * {@code scripts/tether-manager} with {@code TETHER_CDS=off} (the JVM flags alone), and
 * {@code scripts/tether-manager} as shipped (flags and the AppCDS archive). The launcher runs a copy
 * of the manager jar in a directory of its own, so the first run (which writes the archive) is
 * measured from a clean state and nothing is left beside the build's jar.
 */
final class CliScenario {

  private static final Path LAUNCHER = Path.of("scripts/tether-manager");
  private static final Path MANAGER_JAR = Path.of("manager/target/tether-manager.jar");

  private CliScenario() {}

  /** One way of running a command: its command line and extra environment. */
  private record Variant(String key, String label, List<String> command, Map<String, String> env) {}

  static void run(boolean quick) throws Exception {
    int runs = quick ? 5 : 20;
    if (!Files.isExecutable(LAUNCHER) || !Files.isRegularFile(MANAGER_JAR)) {
      throw new IllegalStateException("the cli scenario runs from the repository's root and needs " + LAUNCHER
          + " and " + MANAGER_JAR + " (build with: mvn -B -ntp -DskipTests package)");
    }
    Path root = Files.createTempDirectory("tether-bench-cli");
    Path jarDir = Files.createDirectories(root.resolve("jar"));
    Path jar = Files.copy(MANAGER_JAR, jarDir.resolve("tether-manager.jar"), StandardCopyOption.COPY_ATTRIBUTES);
    String java = ProcessHandle.current().info().command().orElse("java");
    try (Target target = Target.start("tether", root, false)) {
      String account = BenchServer.account(target.dir);
      List<String> args = List.of("token", "list", "--account", account,
          "--manager", "127.0.0.1:" + target.adminPort(), "--data-dir", target.dir.toString());
      Map<String, String> launcherEnv = Map.of("TETHER_MANAGER_JAR", jar.toString());

      List<String> before = new ArrayList<>(List.of("java", "-jar", jar.toString()));
      before.addAll(args);
      List<String> launcher = new ArrayList<>(List.of(LAUNCHER.toString()));
      launcher.addAll(args);
      List<Variant> variants = List.of(
          new Variant("java_version", "java -version", List.of("java", "-version"), Map.of()),
          new Variant("before", "java -jar (before: no flags, no archive)", before, Map.of()),
          new Variant("flags_only", "launcher, TETHER_CDS=off (flags only)", launcher,
              Map.of("TETHER_MANAGER_JAR", jar.toString(), "TETHER_CDS", "off")),
          new Variant("after", "launcher (flags and AppCDS archive)", launcher, launcherEnv));

      String loadBefore = loadAverage();
      long firstRun = time(launcher, launcherEnv, true);
      try (var archives = Files.list(jarDir)) {
        List<Path> written = archives.filter(p -> p.toString().endsWith(".jsa")).toList();
        if (written.size() != 1) {
          throw new IllegalStateException("the launcher's first run should leave one archive beside the jar, found "
              + written + " in " + jarDir);
        }
      }
      long[][] nanos = new long[variants.size()][runs];
      for (int i = 0; i < runs; i++) {
        for (int v = 0; v < variants.size(); v++) {
          // rotate the order each round: no variant always runs just after another
          int k = (v + i) % variants.size();
          Variant variant = variants.get(k);
          nanos[k][i] = time(variant.command(), variant.env(), k != 0);
        }
      }
      String loadAfter = loadAverage();

      System.out.printf(Locale.ROOT, "wall time, launcher to exit, %d runs each, %d cores, load average %s -> %s (%s)%n",
          runs, Runtime.getRuntime().availableProcessors(), loadBefore, loadAfter, java);
      System.out.printf(Locale.ROOT, "  first launcher run (writes the archive): %.0f ms%n", firstRun / 1e6);
      System.out.printf(Locale.ROOT, "  %-42s %9s %9s %12s%n", "", "median", "p90", "/ java -ver");
      Json json = new Json("cli", quick).put("runs", runs).put("cores", Runtime.getRuntime().availableProcessors())
          .put("load_before", loadBefore).put("load_after", loadAfter).put("first_run_ms", firstRun / 1e6);
      double baseline = median(nanos[0]);
      for (int k = 0; k < variants.size(); k++) {
        double median = median(nanos[k]);
        double p90 = p90(nanos[k]);
        System.out.printf(Locale.ROOT, "  %-42s %6.0f ms %6.0f ms %11.1fx%n", variants.get(k).label(),
            median / 1e6, p90 / 1e6, median / baseline);
        json.put(variants.get(k).key() + "_median_ms", median / 1e6).put(variants.get(k).key() + "_p90_ms", p90 / 1e6);
        if (k != 0) {
          json.put(variants.get(k).key() + "_ratio", median / baseline);
        }
      }
      System.out.println(json);
    } finally {
      deleteTree(root);
    }
  }

  /**
   * Runs one command to its end; returns its wall time. Fails if it fails, or if {@code tokenList}
   * and its output lacks the account's default token: a fast wrong answer is no result.
   */
  private static long time(List<String> command, Map<String, String> env, boolean tokenList)
      throws IOException, InterruptedException {
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
    builder.environment().remove("JAVA_OPTS");
    builder.environment().remove("TETHER_CDS");
    builder.environment().putAll(env);
    long started = System.nanoTime();
    Process process = builder.start();
    process.getOutputStream().close();
    byte[] output = process.getInputStream().readAllBytes();
    if (!process.waitFor(2, TimeUnit.MINUTES)) {
      process.destroyForcibly();
      throw new IllegalStateException(String.join(" ", command) + " did not finish within 2 minutes");
    }
    long elapsed = System.nanoTime() - started;
    String text = new String(output, StandardCharsets.UTF_8);
    if (process.exitValue() != 0 || tokenList && !text.contains("default ")) {
      throw new IllegalStateException(String.join(" ", command) + " failed (exit " + process.exitValue() + "): "
          + text.strip());
    }
    return elapsed;
  }

  private static double median(long[] values) {
    long[] sorted = values.clone();
    Arrays.sort(sorted);
    int n = sorted.length;
    return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0;
  }

  /** Nearest rank: the value that 90 % of the runs do not exceed. */
  private static double p90(long[] values) {
    long[] sorted = values.clone();
    Arrays.sort(sorted);
    return sorted[(int) Math.ceil(0.9 * sorted.length) - 1];
  }

  private static String loadAverage() {
    try {
      String[] fields = Files.readString(Path.of("/proc/loadavg")).split(" ");
      return fields[0] + " " + fields[1] + " " + fields[2];
    } catch (IOException e) {
      return "unknown";
    }
  }

  private static void deleteTree(Path root) throws IOException {
    try (var paths = Files.walk(root)) {
      for (Path p : paths.sorted((a, b) -> b.getNameCount() - a.getNameCount()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}
