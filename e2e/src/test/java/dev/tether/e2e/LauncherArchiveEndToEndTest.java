package dev.tether.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tether.common.testing.TokenLedger;
import dev.tether.common.token.DelegateToken;
import dev.tether.proto.admin.v1.CreateTokenResponse;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code scripts/tether-manager} as an operator runs it, against a real manager: the first admin
 * command writes the AppCDS archive beside the jar and later ones load their classes from it, and
 * so does the first {@code serve} when it is stopped; a stale, corrupt or unwritable archive never
 * breaks a command. Each test runs the launcher on a
 * copy of the manager jar in a directory of its own, so archives start from nothing.
 */
class LauncherArchiveEndToEndTest {

  private static final Path LAUNCHER = Tether.LAUNCHER;
  private static final Path DELEGATE_LAUNCHER = Path.of("../scripts/tether-delegate").toAbsolutePath().normalize();
  private static final String FROM_ARCHIVE = " source: shared objects file (top)";
  /** The delegate's archive is a static one, in place of the JDK's default archive. */
  private static final String FROM_STATIC_ARCHIVE = " source: shared objects file";
  /** In JAVA_OPTS: the JVM prints the flags it was started with on stdout. */
  private static final String PRINT_FLAGS = "-XX:+PrintCommandLineFlags";

  @TempDir static Path shared;
  private static Tether tether;
  private static String account;

  @TempDir Path work;
  private Path jar;

  /** One run of the launcher. */
  record Run(int exit, String out, String err) {
    Run ok() {
      assertThat(exit).as("exit code; stdout: %s; stderr: %s", out, err).isZero();
      return this;
    }
  }

  @BeforeAll
  static void startManager() {
    tether = new Tether(shared.resolve("data"), "LauncherArchiveEndToEndTest").start();
    account = tether.account("launcher");
  }

  @AfterAll
  static void stopManager() {
    tether.close();
  }

  @BeforeEach
  void copyJar() throws IOException {
    jar = Files.copy(Tether.MANAGER_JAR, Files.createDirectories(work.resolve("lib")).resolve("tether-manager.jar"),
        StandardCopyOption.COPY_ATTRIBUTES);
  }

  @Test
  void firstAdminCommand_writesTheArchive_andLaterCommandsLoadTheirClassesFromIt() throws IOException {
    Run created = launcher(Map.of(), "token", "create", "--account", account, "--name", "first", "--json").ok();
    String token = Tether.parse(created.out(), CreateTokenResponse.getDefaultInstance()).getValue();
    TokenLedger.record(DelegateToken.parse("created token", token));

    Path archive = onlyArchive();
    assertThat(archive.getFileName().toString()).matches("tether-manager-[0-9]+-[0-9]+\\.jsa");
    assertThat(leftovers()).as("temporary files beside the jar").isEmpty();
    String bytes = Files.readString(archive, StandardCharsets.ISO_8859_1);
    assertThat(bytes.contains(token)).as("the archive holds the token the command printed").isFalse();
    assertThat(bytes.contains(Files.readString(tether.dataDir.resolve("admin.key")).strip()))
        .as("the archive holds the admin key").isFalse();

    Path classes = work.resolve("classes.log");
    Run listed = launcher(Map.of("JAVA_OPTS", "-Xlog:class+load=info:file=" + classes), "token", "list",
        "--account", account).ok();
    assertThat(listed.out()).contains("first");
    assertThat(listed.err()).isEmpty();
    List<String> loaded = Files.readAllLines(classes);
    assertThat(loaded).anyMatch(line -> line.endsWith("io.grpc.internal.ManagedChannelImpl" + FROM_ARCHIVE))
        .anyMatch(line -> line.endsWith("dev.tether.proto.admin.v1.TokenAdminGrpc" + FROM_ARCHIVE));
    assertThat(loaded.stream().filter(line -> line.endsWith(FROM_ARCHIVE)).count())
        .as("classes loaded from the archive").isGreaterThan(1000);
    assertThat(onlyArchive()).isEqualTo(archive);
  }

  @Test
  void archiveOlderThanTheJar_isWrittenAgain_andStaleArchivesOfOtherJvmsGo() throws IOException {
    launcher(Map.of(), "account", "list").ok();
    Path archive = onlyArchive();
    Path otherJvm = jar.resolveSibling("tether-manager-12345-67890.jsa");
    Files.write(otherJvm, new byte[] {1, 2, 3});
    // a rebuild: the jar is newer than every archive
    FileTime built = FileTime.from(Instant.now().truncatedTo(ChronoUnit.SECONDS));
    Files.setLastModifiedTime(archive, FileTime.from(built.toInstant().minus(1, ChronoUnit.HOURS)));
    Files.setLastModifiedTime(otherJvm, FileTime.from(built.toInstant().minus(1, ChronoUnit.HOURS)));
    Files.setLastModifiedTime(jar, built);

    launcher(Map.of(), "account", "list").ok();

    Path rewritten = onlyArchive();
    assertThat(Files.getLastModifiedTime(rewritten)).as("the archive's time, against the jar's")
        .isGreaterThanOrEqualTo(built);
    assertThat(rewritten.equals(archive) || Files.notExists(archive)).as("the stale archive is gone").isTrue();
    assertThat(otherJvm).doesNotExist();
  }

  @Test
  void damagedArchive_isNotMapped_theCommandWorks_andTheArchiveIsWrittenAgain() throws IOException {
    launcher(Map.of(), "account", "list").ok();
    byte[] whole = Files.readAllBytes(onlyArchive());

    // the JVM (17) checks only an archive's header: mapped, either of these would crash it
    byte[] truncated = Arrays.copyOf(whole, whole.length / 3);
    byte[] scrambled = whole.clone();
    for (int i = whole.length / 2; i < whole.length / 2 + 4096; i++) {
      scrambled[i] = (byte) (i * 31 + 7);
    }
    for (byte[] damaged : List.of(truncated, scrambled)) {
      Files.write(onlyArchive(), damaged);
      Run run = launcher(Map.of(), "account", "list").ok();
      assertThat(run.out()).contains("launcher");
      assertThat(run.err()).isEmpty();
      assertThat(Files.readAllBytes(onlyArchive())).as("the archive, written again").isNotEqualTo(damaged);
    }
    Path classes = work.resolve("classes.log");
    launcher(Map.of("JAVA_OPTS", "-Xlog:class+load=info:file=" + classes), "account", "list").ok();
    assertThat(Files.readAllLines(classes))
        .anyMatch(line -> line.endsWith("io.grpc.internal.ManagedChannelImpl" + FROM_ARCHIVE));
  }

  @Test
  void archiveOwnedByAnotherUser_isNotMapped_andThisUsersOwnIsWritten() throws Exception {
    Assumptions.assumeTrue("root".equals(System.getProperty("user.name")),
        "giving a file to another user takes root");
    launcher(Map.of(), "account", "list").ok();
    Path planted = onlyArchive();
    // another local user could compute the archive's name and checksum: its classes would run as this user
    command("chown", "65534:65534", planted.toString());

    Path classes = work.resolve("planted-classes.log");
    Run run = launcher(Map.of("JAVA_OPTS", "-Xlog:class+load=info:file=" + classes), "account", "list").ok();
    assertThat(run.out()).contains("launcher");
    assertThat(Files.readAllLines(classes)).as("classes loaded with another user's archive beside the jar")
        .noneMatch(line -> line.endsWith(FROM_ARCHIVE));
    assertThat(archives()).as("this user's archive, written beside the planted one")
        .anySatisfy(archive -> assertThat(Files.getOwner(archive).getName()).isEqualTo("root"));
  }

  @Test
  void unwritableDirectory_commandRunsWithoutAnArchive() throws Exception {
    Path dir = jar.getParent();
    Path delegateJar = Files.copy(Tether.DELEGATE_JAR, jar.resolveSibling("tether-delegate.jar"),
        StandardCopyOption.COPY_ATTRIBUTES);
    // a killed launcher's leftover that the next launcher cannot remove once the directory is read-only
    Path leftover = jar.resolveSibling("tether-manager-123.tmp." + exitedPid() + ".Ab3dEf");
    Path delegateLeftover = jar.resolveSibling("tether-delegate-456.tmp." + exitedPid() + ".Lm7nOp");
    Files.write(leftover, new byte[] {1, 2, 3});
    Files.write(delegateLeftover, new byte[] {1, 2, 3});
    boolean root = "root".equals(System.getProperty("user.name"));
    // root writes through permission bits: the immutable attribute stops it as it stops anyone
    if (root) {
      command("chattr", "+i", dir.toString());
    } else {
      Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("r-xr-xr-x"));
    }
    try {
      assertThatThrownBy(() -> Files.createFile(dir.resolve("probe"))).as("the directory is unwritable")
          .isInstanceOf(IOException.class);
      Run run = launcher(Map.of(), "account", "list").ok();
      assertThat(run.out()).contains("launcher");
      assertThat(run.err()).isEmpty();
      assertThat(archives()).isEmpty();
      Run version = delegateLauncher(Map.of("TETHER_DELEGATE_JAR", delegateJar.toString()), "--version");
      assertThat(version.exit()).as("the delegate's launcher, stderr: %s", version.err()).isZero();
      assertThat(version.err()).isEmpty();
      assertThat(leftover).exists();
      assertThat(delegateLeftover).exists();
    } finally {
      if (root) {
        command("chattr", "-i", dir.toString());
      } else {
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
      }
    }
  }

  @Test
  void concurrentFirstRuns_leaveOneWholeArchive() throws IOException {
    List<CompletableFuture<Run>> runs = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      runs.add(CompletableFuture.supplyAsync(() -> launcher(Map.of(), "account", "list")));
    }
    for (CompletableFuture<Run> run : runs) {
      assertThat(run.join().ok().out()).contains("launcher");
    }
    onlyArchive();
    assertThat(leftovers()).as("temporary files beside the jar").isEmpty();

    Path classes = work.resolve("classes.log");
    launcher(Map.of("JAVA_OPTS", "-Xlog:class+load=info:file=" + classes), "account", "list").ok();
    assertThat(Files.readAllLines(classes))
        .anyMatch(line -> line.endsWith("io.grpc.internal.ManagedChannelImpl" + FROM_ARCHIVE));
  }

  @Test
  void noArchive_whenTurnedOff_orForHelpAndVersion_orWhenTheCommandFails() throws IOException {
    launcher(Map.of("TETHER_CDS", "off"), "account", "list").ok();
    assertThat(launcher(Map.of(), "--version").ok().out()).startsWith("tether-manager ");
    launcher(Map.of(), "token", "list", "--help").ok();
    Run failed = launcher(Map.of(), "token", "list", "--account", "no-such-account");
    assertThat(failed.exit()).isEqualTo(1);
    assertThat(failed.err()).contains("no-such-account");
    assertThat(archives()).isEmpty();
    assertThat(leftovers()).isEmpty();

    Run refused = launcher(Map.of("TETHER_CDS", "sometimes"), "account", "list");
    assertThat(refused.exit()).isEqualTo(2);
    assertThat(refused.err()).contains("TETHER_CDS='sometimes'", "'auto'", "'off'");
  }

  @Test
  void temporaryFilesOfAKilledLauncher_areRemoved_byTheNextLauncher_andThoseInUseAreKept() throws Exception {
    Path delegateJar = Files.copy(Tether.DELEGATE_JAR, jar.resolveSibling("tether-delegate.jar"),
        StandardCopyOption.COPY_ATTRIBUTES);
    // a launcher killed with SIGKILL runs no trap: its archive and class list stay beside the jar
    long killed = exitedPid();
    Path managerLeftover = jar.resolveSibling("tether-manager-123.tmp." + killed + ".Ab3dEf");
    Path serveLeftover = jar.resolveSibling("tether-manager-serve-123.tmp." + killed + ".Gh5iJk");
    Path delegateLeftover = jar.resolveSibling("tether-delegate-456.tmp." + killed + ".Lm7nOp");
    // a launcher that is still running (this JVM's pid stands in for it) is writing its own
    Path inUse = jar.resolveSibling("tether-delegate-456.tmp." + ProcessHandle.current().pid() + ".Qr9sTu");
    // not a launcher's temporary file: left alone
    Path other = jar.resolveSibling("tether-manager-123.tmp.notes.txt");
    // another jar's in the same directory, whose name begins with this one's: left to its own launcher
    Path otherJar = jar.resolveSibling("tether-manager-old-123.tmp." + killed + ".Vw1xYz");
    for (Path file : List.of(managerLeftover, serveLeftover, delegateLeftover, inUse, other, otherJar)) {
      Files.write(file, new byte[] {1, 2, 3});
    }

    assertThat(launcher(Map.of(), "--version").ok().out()).startsWith("tether-manager ");
    assertThat(managerLeftover).doesNotExist();
    assertThat(serveLeftover).doesNotExist();
    assertThat(delegateLeftover).as("another jar's files are left to its own launcher").exists();

    Run version = delegateLauncher(Map.of("TETHER_DELEGATE_JAR", delegateJar.toString()), "--version");
    assertThat(version.exit()).isZero();
    assertThat(delegateLeftover).doesNotExist();
    assertThat(inUse).exists();
    assertThat(other).exists();
    assertThat(otherJar).exists();
  }

  /** The pid of a process that has exited. */
  private static long exitedPid() throws Exception {
    Process process = new ProcessBuilder("true").start();
    assertThat(process.waitFor(1, TimeUnit.MINUTES)).isTrue();
    return process.pid();
  }

  @Test
  void firstServe_writesItsArchiveWhenStopped_andTheNextServeLoadsItsClassesFromIt() throws Exception {
    Path data = work.resolve("serve-data");
    // the first serve after a build writes the archive at its stop; Ctrl-C reaches the server through the launcher
    Serving first = serve(data, Map.of());
    first.stop("INT");
    assertThat(first.exit()).as("exit code; stderr: %s", first.err()).isZero();
    assertThat(first.out()).contains("tether-manager stopped");
    Path archive = onlyArchive();
    assertThat(archive.getFileName().toString()).matches("tether-manager-serve-[0-9]+-[0-9]+\\.jsa");
    assertThat(leftovers()).as("temporary files beside the jar").isEmpty();
    String bytes = Files.readString(archive, StandardCharsets.ISO_8859_1);
    assertThat(bytes.contains(Files.readString(data.resolve("admin.key")).strip()))
        .as("the archive holds the admin key").isFalse();

    Path classes = work.resolve("serve-classes.log");
    Serving second = serve(data, Map.of("JAVA_OPTS", "-Xlog:class+load=info:file=" + classes));
    second.stop("TERM");
    assertThat(second.exit()).as("exit code; stderr: %s", second.err()).isZero();
    assertThat(second.err()).doesNotContain("[cds", "shared archive", "Sharing");
    List<String> loaded = Files.readAllLines(classes);
    assertThat(loaded).anyMatch(line -> line.endsWith("io.grpc.netty.shaded.io.grpc.netty.NettyServer" + FROM_ARCHIVE))
        .anyMatch(line -> line.endsWith("dev.tether.manager.server.ManagerServer" + FROM_ARCHIVE))
        .anyMatch(line -> line.endsWith("org.flywaydb.core.Flyway" + FROM_ARCHIVE));
    assertThat(loaded.stream().filter(line -> line.endsWith(FROM_ARCHIVE)).count())
        .as("classes loaded from the archive").isGreaterThan(3000);
    assertThat(onlyArchive()).isEqualTo(archive);
  }

  @Test
  void serveThatFails_orWithArchivesTurnedOff_leavesNoArchive() throws Exception {
    Run busy = launcher(Map.of(), "serve", "--listen", "127.0.0.1:" + tether.adminPort(), "--admin-listen", "off",
        "--ops-listen", "off", "--console-listen", "off", "--data-dir", work.resolve("busy").toString());
    assertThat(busy.exit()).isEqualTo(1);
    assertThat(busy.err()).contains("cannot listen on 127.0.0.1:" + tether.adminPort());
    Serving off = serve(work.resolve("off-data"), Map.of("TETHER_CDS", "off"));
    off.stop("TERM");
    assertThat(off.exit()).isZero();
    assertThat(archives()).isEmpty();
    assertThat(leftovers()).isEmpty();
  }

  @Test
  void firstDelegate_writesItsArchiveWhenStopped_andTheNextLoadsItsClassesFromIt() throws Exception {
    Path delegateJar = Files.copy(Tether.DELEGATE_JAR, jar.resolveSibling("tether-delegate.jar"),
        StandardCopyOption.COPY_ATTRIBUTES);
    String token = tether.token(account, "launcher-delegate");
    Map<String, String> env = new HashMap<>(tether.env(account, token));
    env.put("TETHER_DELEGATE_JAR", delegateJar.toString());

    // each of the launcher's three ways to start the JVM (no archive, writing one, using one) makes a JVM
    // out of heap exit, for its supervisor to restart it (docs/security.md): the JVM's own flags say so
    env.put("JAVA_OPTS", PRINT_FLAGS);
    // --version alone writes nothing; the first delegate writes the archive when it is stopped
    Run version = delegateLauncher(env, "--version");
    assertThat(version.exit()).isZero();
    exitsWhenOutOfHeap(version.out());
    assertThat(archives()).isEmpty();
    env.put("DELEGATE_NAME", "launcher-first");
    Serving first = delegate(env);
    first.stop("TERM");
    assertThat(first.exit()).as("exit code; stderr: %s", first.err()).isZero();
    exitsWhenOutOfHeap(first.out());
    Path archive = onlyArchive();
    assertThat(archive.getFileName().toString()).matches("tether-delegate-[0-9]+-[0-9]+\\.jsa");
    assertThat(leftovers()).as("temporary files beside the jar").isEmpty();
    assertThat(Files.readString(archive, StandardCharsets.ISO_8859_1).contains(token))
        .as("the archive holds the delegate's token").isFalse();

    Path classes = work.resolve("delegate-classes.log");
    env.put("DELEGATE_NAME", "launcher-second");
    env.put("JAVA_OPTS", PRINT_FLAGS + " -Xlog:class+load=info:file=" + classes);
    Serving second = delegate(env);
    second.stop("INT");
    assertThat(second.exit()).as("exit code; stderr: %s", second.err()).isZero();
    exitsWhenOutOfHeap(second.out());
    assertThat(second.err()).doesNotContain("[cds", "shared archive", "Sharing");
    List<String> loaded = Files.readAllLines(classes);
    assertThat(loaded).anyMatch(line -> line.endsWith("dev.tether.delegate.TetherDelegate" + FROM_STATIC_ARCHIVE))
        .anyMatch(line -> line.endsWith("io.grpc.internal.ManagedChannelImpl" + FROM_STATIC_ARCHIVE))
        .anyMatch(line -> line.endsWith("java.lang.Object" + FROM_STATIC_ARCHIVE));
    // the JDK's classes and the delegate's come from the one archive, none from a dynamic archive on top
    // of the JDK's default one
    assertThat(loaded.stream().filter(line -> line.endsWith(FROM_STATIC_ARCHIVE)).count())
        .as("classes loaded from the archive").isGreaterThan(3000);
    assertThat(loaded).noneMatch(line -> line.endsWith(FROM_ARCHIVE));
    // without an ops listener nothing could read the delegate's meters: it keeps none, and loads no
    // Micrometer or Prometheus class to keep them in
    assertThat(env).doesNotContainKey("DELEGATE_OPS_LISTEN");
    assertThat(loaded).noneMatch(line -> line.contains(" io.micrometer.") || line.contains(" io.prometheus."));
    assertThat(onlyArchive()).isEqualTo(archive);

    // a delegate that fails (a token the manager does not know) writes none, and TETHER_CDS=off neither
    Files.delete(archive);
    env.remove("JAVA_OPTS");
    env.put("DELEGATE_TOKEN", tether.token(account, "launcher-revoked"));
    tether.cli("token", "revoke", "--account", account, "--name", "launcher-revoked").ok();
    Run refused = delegateLauncher(env);
    assertThat(refused.exit()).as("a revoked token's delegate; stderr: %s", refused.err()).isNotZero();
    env.put("DELEGATE_TOKEN", token);
    env.put("TETHER_CDS", "off");
    env.put("DELEGATE_NAME", "launcher-off");
    Serving off = delegate(env);
    off.stop("TERM");
    assertThat(off.exit()).isZero();
    assertThat(archives()).isEmpty();
    assertThat(leftovers()).isEmpty();
  }

  /** The flags a JVM printed ({@link #PRINT_FLAGS}) make it exit when its heap runs out. */
  private static void exitsWhenOutOfHeap(String printedFlags) {
    assertThat(printedFlags.lines().filter(l -> l.startsWith("-XX:")))
        .as("the JVM's flags, printed: %s", printedFlags).isNotEmpty()
        .allMatch(l -> List.of(l.split(" ")).contains("-XX:+ExitOnOutOfMemoryError"));
  }

  /** A delegate started through its launcher with {@code env}, once it has connected. */
  private Serving delegate(Map<String, String> env) throws IOException {
    Path out = Files.createTempFile(work, "delegate", ".out");
    Path err = Files.createTempFile(work, "delegate", ".err");
    ProcessBuilder builder = new ProcessBuilder(DELEGATE_LAUNCHER.toString()).redirectOutput(out.toFile())
        .redirectError(err.toFile());
    environment(builder, env);
    Process process = builder.start();
    process.getOutputStream().close();
    Serving delegate = new Serving(process, out, err);
    Awaitility.await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(100))
        .until(() -> {
          if (!process.isAlive()) {
            throw new AssertionError("the delegate ended: " + delegate.err());
          }
          return delegate.err().contains("connected to ");
        });
    return delegate;
  }

  /** One run of the delegate's launcher to its end. */
  private Run delegateLauncher(Map<String, String> env, String... args) throws Exception {
    List<String> command = new ArrayList<>(List.of(DELEGATE_LAUNCHER.toString()));
    command.addAll(List.of(args));
    ProcessBuilder builder = new ProcessBuilder(command);
    environment(builder, env);
    Process process = builder.start();
    process.getOutputStream().close();
    CompletableFuture<byte[]> out = CompletableFuture.supplyAsync(() -> readAll(process.getInputStream()));
    CompletableFuture<byte[]> err = CompletableFuture.supplyAsync(() -> readAll(process.getErrorStream()));
    if (!process.waitFor(3, TimeUnit.MINUTES)) {
      process.destroyForcibly();
      throw new AssertionError("the delegate's launcher did not finish: " + command);
    }
    return new Run(process.exitValue(), new String(out.join(), StandardCharsets.UTF_8),
        new String(err.join(), StandardCharsets.UTF_8));
  }

  private static byte[] readAll(java.io.InputStream in) {
    try {
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A {@code serve} (or a delegate) started through its launcher. */
  final class Serving {
    private final Process process;
    private final Path out;
    private final Path err;

    Serving(Process process, Path out, Path err) {
      this.process = process;
      this.out = out;
      this.err = err;
    }

    /** Sends SIGname to the launcher and waits for it to end. */
    void stop(String signal) throws Exception {
      command("kill", "-" + signal, Long.toString(process.pid()));
      if (!process.waitFor(3, TimeUnit.MINUTES)) {
        process.destroyForcibly();
        throw new AssertionError("the launcher's program did not stop on SIG" + signal + "; stderr: " + err());
      }
    }

    int exit() {
      return process.exitValue();
    }

    String out() throws IOException {
      return Files.readString(out);
    }

    String err() throws IOException {
      return Files.readString(err);
    }
  }

  private Serving serve(Path data, Map<String, String> env) throws IOException {
    Path out = Files.createTempFile(work, "serve", ".out");
    Path err = Files.createTempFile(work, "serve", ".err");
    ProcessBuilder builder = new ProcessBuilder(LAUNCHER.toString(), "serve", "--listen", "127.0.0.1:0",
        "--admin-listen", "127.0.0.1:0", "--ops-listen", "off", "--console-listen", "off", "--data-dir", data.toString())
        .redirectOutput(out.toFile()).redirectError(err.toFile());
    environment(builder, env);
    Process process = builder.start();
    process.getOutputStream().close();
    Serving serving = new Serving(process, out, err);
    Awaitility.await("the manager's banner").atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(100))
        .until(() -> {
          if (!process.isAlive()) {
            throw new AssertionError("serve exited with " + process.exitValue() + ": " + serving.err());
          }
          return serving.out().contains("replica: ");
        });
    return serving;
  }

  private void environment(ProcessBuilder builder, Map<String, String> env) {
    // JVM options come from the launcher and the test alone, and java from the test's JVM
    Tether.launcherEnvironment(builder.environment());
    builder.environment().remove("TETHER_DATA_DIR");
    builder.environment().putAll(env);
    // this test's own copy of the jar, so that archives start from nothing
    builder.environment().put("TETHER_MANAGER_JAR", jar.toString());
  }

  private Run launcher(Map<String, String> env, String... args) {
    List<String> command = new ArrayList<>(List.of(LAUNCHER.toString()));
    command.addAll(List.of(args));
    if (!List.of(args).contains("--help") && !List.of(args).contains("--version") && !args[0].equals("serve")) {
      command.addAll(List.of("--manager", "127.0.0.1:" + tether.adminPort(), "--data-dir", tether.dataDir.toString()));
    }
    try {
      Path out = Files.createTempFile(work, "launcher", ".out");
      Path err = Files.createTempFile(work, "launcher", ".err");
      ProcessBuilder builder = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile());
      environment(builder, env);
      Process process = builder.start();
      process.getOutputStream().close();
      if (!process.waitFor(3, TimeUnit.MINUTES)) {
        process.destroyForcibly();
        throw new AssertionError("the launcher did not finish: " + command);
      }
      Run run = new Run(process.exitValue(), Files.readString(out), Files.readString(err));
      Files.delete(out);
      Files.delete(err);
      return run;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  private List<Path> archives() throws IOException {
    try (Stream<Path> files = Files.list(jar.getParent())) {
      return files.filter(p -> p.getFileName().toString().endsWith(".jsa")).toList();
    }
  }

  private Path onlyArchive() throws IOException {
    List<Path> archives = archives();
    assertThat(archives).as("archives beside the jar").hasSize(1);
    return archives.get(0);
  }

  private List<Path> leftovers() throws IOException {
    try (Stream<Path> files = Files.list(jar.getParent())) {
      return files.filter(p -> p.getFileName().toString().contains(".tmp.")).toList();
    }
  }

  private static void command(String... command) throws IOException, InterruptedException {
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(process.waitFor()).as("%s: %s", String.join(" ", command), output).isZero();
  }
}
