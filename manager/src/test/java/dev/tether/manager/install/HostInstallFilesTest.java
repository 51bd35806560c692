package dev.tether.manager.install;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tether.common.testing.TokenLedger;
import dev.tether.common.token.DelegateToken;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The host installs (shell scripts, systemd) run as an operator runs them: start.sh and stop.sh
 * against stand-in {@code java} commands that behave like a delegate that connects, exits or
 * waits for a better token; install.sh against stand-in root tools; the unit through
 * {@code systemd-analyze verify} and {@code security}. The real delegate runs in the e2e module.
 */
class HostInstallFilesTest {

  private static final Pattern EXPOSURE = Pattern.compile("Overall exposure level for \\S+: ([0-9]+\\.[0-9])");

  @TempDir Path root;
  private final DelegateToken token = TokenLedger.record(DelegateToken.generate());
  private final List<ProcessHandle> started = new ArrayList<>();

  private Path generate(InstallType type) throws Exception {
    Path out = root.resolve(type.name().toLowerCase(java.util.Locale.ROOT));
    InstallFiles.write(type, new InstallSpec("acct-42", "builders", token, "https://manager.example.com:7443",
        "builder-1", "tether", "tether-delegate:0.1.0", null, null, null, null), out);
    return out;
  }

  @AfterEach
  void stopWhatWasStarted() {
    started.forEach(ProcessHandle::destroyForcibly);
  }

  @Test
  void shell_tokenIsInAPrivateTokenFileTheConfigNames_andEveryFilePassesTheLinters() throws Exception {
    Path out = generate(InstallType.SHELL);

    Linters.shellcheck(out.resolve("start.sh"), out.resolve("stop.sh"));
    Linters.yamllint(out.resolve("config-delegate.yaml"));
    String config = Files.readString(out.resolve("config-delegate.yaml"));
    assertThat(config).contains("delegateTokenFile: \"delegate-token\"").doesNotContain("delegateToken:");
    assertThat(config.contains(token.reveal())).as("config-delegate.yaml holds the token").isFalse();
    Path tokenFile = out.resolve("delegate-token");
    assertThat(token.reveal().equals(Files.readString(tokenFile).strip())).as("delegate-token holds %s", token).isTrue();
    assertThat(mode(tokenFile)).isEqualTo("rw-------");
  }

  @Test
  void shell_theUserWhoRunsStartCanReplaceTheTokenFileInPlace_asTheDelegateKeepsAPushedToken() throws Exception {
    Path out = generate(InstallType.SHELL);
    // the delegate's atomic write, as the process start.sh starts: a new file beside delegate-token,
    // renamed over it; then it stays connected, as a delegate does (one that exited at once could be
    // seen gone before its ready file was)
    Path bin = fakeJava("""
        tmp=$(mktemp delegate-token.XXXXXX)
        printf '%s\\n' rotated-token-stand-in >"$tmp"
        mv -f "$tmp" delegate-token
        mkdir -p "$DELEGATE_HEALTH_DIR"
        touch "$DELEGATE_HEALTH_DIR/ready"
        trap 'kill "$child"; exit 0' TERM
        sleep 300 & child=$!
        wait "$child"
        """);
    boolean root = (Integer) Files.getAttribute(out, "unix:uid") == 0;
    List<String> command = new ArrayList<>(List.of("sh", "start.sh"));
    if (root) {
      // root writes anywhere: run start.sh as an ordinary user who owns the files, as if it had written them
      try (var files = Files.walk(out)) {
        for (Path file : files.toList()) {
          Files.setAttribute(file, "unix:uid", 10001);
          Files.setAttribute(file, "unix:gid", 10001);
        }
      }
      Files.setPosixFilePermissions(this.root, PosixFilePermissions.fromString("rwx--x--x"));
      Files.setPosixFilePermissions(bin, PosixFilePermissions.fromString("rwxr-xr-x"));
      command.addAll(0, List.of("setpriv", "--reuid=10001", "--regid=10001", "--clear-groups"));
    }

    Run start = run(out, bin, Map.of("TETHER_START_WAIT", "30"), command.toArray(String[]::new));
    Path pidFile = out.resolve("delegate.pid");
    Optional<ProcessHandle> delegate = Files.exists(pidFile)
        ? ProcessHandle.of(Long.parseLong(Files.readString(pidFile).strip())) : Optional.empty();
    delegate.ifPresent(started::add);

    assertThat(start.exit()).as(start.output()).isZero();
    delegate.ifPresent(ProcessHandle::destroy);
    Path tokenFile = out.resolve("delegate-token");
    assertThat(Files.readString(tokenFile)).isEqualTo("rotated-token-stand-in\n");
    assertThat(mode(tokenFile)).isEqualTo("rw-------");
    assertThat(mode(out)).isEqualTo("rwx------");
    try (var files = Files.list(out)) {
      assertThat(files.map(f -> f.getFileName().toString())).noneMatch(name -> name.startsWith("delegate-token."));
    }
  }

  @Test
  void shell_startSaysTheDelegateExited_withItsCodeAndLastLogLines() throws Exception {
    Path out = generate(InstallType.SHELL);
    Path bin = fakeJava("""
        echo "tether-delegate exiting (78): DELEGATE_TOKEN is malformed: checksum mismatch"
        exit 78
        """);

    Run start = run(out, bin, Map.of(), "sh", "start.sh");

    assertThat(start.exit()).as(start.output()).isEqualTo(1);
    assertThat(start.output()).contains("tether-delegate exited with code 78 before it connected")
        .contains("tether-delegate exiting (78): DELEGATE_TOKEN is malformed: checksum mismatch")
        .doesNotContain("started");
    assertThat(out.resolve("delegate.pid")).doesNotExist();
  }

  @Test
  void shell_startWaitsUntilTheDelegateIsConnected_andStopStopsIt() throws Exception {
    Path out = generate(InstallType.SHELL);
    Path bin = fakeJava("""
        echo "connected"
        mkdir -p "$DELEGATE_HEALTH_DIR"
        touch "$DELEGATE_HEALTH_DIR/ready"
        trap 'kill "$child"; exit 0' TERM
        sleep 300 & child=$!
        wait "$child"
        """);

    Run start = run(out, bin, Map.of(), "sh", "start.sh");
    long pid = Long.parseLong(Files.readString(out.resolve("delegate.pid")).strip());
    ProcessHandle.of(pid).ifPresent(started::add);

    assertThat(start.exit()).as(start.output()).isZero();
    assertThat(start.output()).contains("tether-delegate started (pid " + pid + ") and connected to the manager");
    assertThat(runs(pid)).as("pid %d runs", pid).isTrue();
    Run again = run(out, bin, Map.of(), "sh", "start.sh");
    assertThat(again.output()).contains("tether-delegate is already running (pid " + pid + ")");

    Run stop = run(out, bin, Map.of(), "sh", "stop.sh");
    assertThat(stop.exit()).as(stop.output()).isZero();
    assertThat(stop.output()).contains("tether-delegate stopped (pid " + pid + ")");
    assertThat(runs(pid)).as("pid %d runs", pid).isFalse();
    assertThat(out.resolve("delegate.pid")).doesNotExist();
  }

  @Test
  void shell_startStopsADelegateThatWaitsForABetterToken_andSaysWhy() throws Exception {
    Path out = generate(InstallType.SHELL);
    Path bin = fakeJava("""
        echo "ERROR delegateTokenFile in config-delegate.yaml 'delegate-token' is malformed: checksum mismatch;"\
         "waiting for delegateTokenFile in config-delegate.yaml 'delegate-token' to change"
        trap 'kill "$child"; exit 0' TERM
        sleep 300 & child=$!
        wait "$child"
        """);

    Run start = run(out, bin, Map.of(), "sh", "start.sh");
    started.addAll(javaProcessesOf(out));

    assertThat(start.exit()).as(start.output()).isEqualTo(1);
    assertThat(start.output()).contains("tether-delegate cannot authenticate with the token in " + out.toRealPath()
        + "/delegate-token, so it was stopped").contains("is malformed: checksum mismatch");
    assertThat(out.resolve("delegate.pid")).doesNotExist();
    assertThat(javaProcessesOf(out)).isEmpty();
  }

  @Test
  void shell_startMovesTheLogAside_keepingFiveOldOnes() throws Exception {
    Path out = generate(InstallType.SHELL);
    Files.writeString(out.resolve("delegate.log"), "run 6\n");
    for (int i = 1; i <= 5; i++) {
      Files.writeString(out.resolve("delegate.log." + i), "run " + (6 - i) + "\n");
    }
    Path bin = fakeJava("""
        echo "run 7"
        exit 1
        """);

    run(out, bin, Map.of(), "sh", "start.sh");

    assertThat(Files.readString(out.resolve("delegate.log"))).isEqualTo("run 7\n");
    for (int i = 1; i <= 5; i++) {
      assertThat(Files.readString(out.resolve("delegate.log." + i))).isEqualTo("run " + (7 - i) + "\n");
    }
    assertThat(out.resolve("delegate.log.6")).doesNotExist();
  }

  @Test
  void shell_stopSignalsNothing_whenThePidFileNamesAnotherProcess() throws Exception {
    Path out = generate(InstallType.SHELL);
    Process other = new ProcessBuilder("sleep", "300").start();
    started.add(other.toHandle());
    Files.writeString(out.resolve("delegate.pid"), other.pid() + "\n");

    Run stop = run(out, fakeJava("exit 0\n"), Map.of(), "sh", "stop.sh");

    assertThat(stop.exit()).as(stop.output()).isZero();
    assertThat(stop.output()).contains("pid " + other.pid() + " in " + out.toRealPath().resolve("delegate.pid")
        + " is not this delegate").contains("so it was not signalled");
    assertThat(other.isAlive()).isTrue();
    assertThat(out.resolve("delegate.pid")).doesNotExist();
  }

  @Test
  void systemd_templateUnitPassesVerify_andRatesAtMost2InSecurity() throws Exception {
    Path out = generate(InstallType.SYSTEMD);
    Path unit = out.resolve("tether-delegate@.service");
    assertThat(unit).exists();
    assertThat(out.resolve("tether-delegate.service")).doesNotExist();
    Linters.shellcheck(out.resolve("install.sh"));

    Run verify = systemdAnalyze(out, "verify", unit.toString());
    assertThat(verify.exit()).as(verify.output()).isZero();
    assertThat(verify.output()).as("systemd-analyze verify says nothing").isBlank();

    Run security = systemdAnalyze(out, "security", "--offline=true", unit.toString());
    Matcher score = EXPOSURE.matcher(security.output());
    assertThat(score.find()).as(security.output()).isTrue();
    assertThat(Double.parseDouble(score.group(1))).as(security.output()).isLessThanOrEqualTo(2.0);
  }

  @Test
  void systemd_unitIsOneInstancePerDelegate_boundedInMemory_andFailsOnARefusedToken() throws Exception {
    Path out = generate(InstallType.SYSTEMD);
    String unit = Files.readString(out.resolve("tether-delegate@.service"));
    assertThat(unit).contains("EnvironmentFile=/etc/tether-delegate/%i.env")
        .contains("LoadCredential=delegate-token:/etc/tether-delegate/%i.token")
        .contains("$$(cat %d/delegate-token)")
        .contains("Type=exec")
        .contains("RestartPreventExitStatus=78")
        .contains("Restart=on-failure")
        .contains("MemoryMax=384M")
        .contains("-Xmx192m")
        .contains("DynamicUser=yes");
    assertThat(unit.contains(token.reveal())).isFalse();
    // a JVM out of heap exits, for systemd to restart it (docs/security.md)
    assertThat(unit.lines().filter(l -> l.startsWith("Environment=")))
        .anyMatch(l -> l.contains("JAVA_TOOL_OPTIONS=") && l.contains("-XX:+ExitOnOutOfMemoryError"));
    String env = Files.readString(out.resolve("delegate.env"));
    assertThat(env).contains("DELEGATE_NAME=builder-1").contains("ACCOUNT_ID=acct-42");
    // NAME.env (EnvironmentFile=) overrides Environment=: a JAVA_TOOL_OPTIONS there, or the example an operator
    // uncomments, replaces the unit's and must keep the flag
    assertThat(env.lines().filter(l -> l.replaceFirst("^#\\s*", "").startsWith("JAVA_TOOL_OPTIONS=")))
        .isNotEmpty().allMatch(l -> l.contains("-XX:+ExitOnOutOfMemoryError"));
    assertThat(env.contains(token.reveal())).isFalse();
    assertThat(Files.readString(out.resolve("install.sh"))).contains("name='builder-1'")
        .contains("tether-delegate@builder-1.service");
  }

  @Test
  void systemd_installMovesTheTokenIntoEtc_leavingNoCopyInTheOutput() throws Exception {
    Path out = generate(InstallType.SYSTEMD);
    Files.writeString(out.resolve("tether-delegate.jar"), "a jar");
    Path bin = fakeRootTools(out);

    Run install = run(out, bin, Map.of("TETHER_START_WAIT", "0"), "sh", "install.sh");

    assertThat(install.exit()).as(install.output()).isEqualTo(2);
    assertThat(install.output()).contains("tether-delegate@builder-1.service is installed and active, but not connected");
    assertThat(out.resolve("delegate-token")).doesNotExist();
    List<String> calls = Files.readAllLines(out.resolve("calls"));
    assertThat(calls).contains(
        "install -m 0600 -o root -g root " + out.toRealPath() + "/delegate-token /etc/tether-delegate/builder-1.token",
        "install -m 0644 -o root -g root " + out.toRealPath() + "/delegate.env /etc/tether-delegate/builder-1.env",
        "install -m 0644 -o root -g root " + out.toRealPath()
            + "/tether-delegate@.service /etc/systemd/system/tether-delegate@.service",
        "install -m 0644 -o root -g root " + out.toRealPath() + "/tether-delegate.jar /opt/tether/tether-delegate.jar",
        "systemctl enable tether-delegate@builder-1.service",
        "systemctl restart tether-delegate@builder-1.service");
  }

  @Test
  void systemd_installWithoutAJarFailsAndInstallsNothing() throws Exception {
    Path out = generate(InstallType.SYSTEMD);
    Path bin = fakeRootTools(out);

    Run install = run(out, bin, Map.of(), "sh", "install.sh", root.resolve("no-such.jar").toString());

    assertThat(install.exit()).as(install.output()).isEqualTo(1);
    assertThat(install.output()).contains("install.sh: no delegate jar: '" + root.resolve("no-such.jar")
        + "' is not a file").contains("nothing was installed");
    assertThat(out.resolve("calls")).doesNotExist();
    assertThat(out.resolve("delegate-token")).exists();
  }

  /** A directory holding a {@code java} that runs {@code body} as a shell script. */
  private Path fakeJava(String body) throws IOException {
    Path bin = Files.createDirectories(root.resolve("bin-" + System.nanoTime()));
    executable(bin.resolve("java"), "#!/bin/sh\n" + body);
    return bin;
  }

  /**
   * Stand-ins for what install.sh runs as root: each records its arguments in {@code out/calls}
   * and changes nothing on this machine; {@code systemctl show} answers "active".
   */
  private Path fakeRootTools(Path out) throws IOException {
    Path bin = Files.createDirectories(root.resolve("root-bin"));
    String record = "echo \"$(basename \"$0\") $*\" >>" + Quote.shell(out.resolve("calls").toString()) + "\n";
    executable(bin.resolve("id"), "#!/bin/sh\necho 0\n");
    executable(bin.resolve("java"), "#!/bin/sh\nexit 0\n");
    executable(bin.resolve("install"), "#!/bin/sh\n" + record);
    executable(bin.resolve("journalctl"), "#!/bin/sh\n" + record);
    executable(bin.resolve("systemctl"), "#!/bin/sh\n" + record + "if [ \"$1\" = show ]; then echo active; fi\n");
    return bin;
  }

  private static void executable(Path file, String text) throws IOException {
    Files.writeString(file, text);
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
  }

  private List<ProcessHandle> javaProcessesOf(Path out) throws IOException {
    String config = "--config " + out.toRealPath().resolve("config-delegate.yaml");
    return ProcessHandle.allProcesses().filter(p -> p.info().arguments()
        .map(a -> String.join(" ", a).contains(config)).orElse(false)).toList();
  }

  private record Run(int exit, String output) { }

  private Run run(Path dir, Path bin, Map<String, String> env, String... command) throws Exception {
    Path output = Files.createTempFile(root, "run", ".out");
    ProcessBuilder builder = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true)
        .redirectOutput(output.toFile());
    builder.environment().put("PATH", bin + ":" + System.getenv("PATH"));
    builder.environment().put("TETHER_DELEGATE_JAR", Files.writeString(root.resolve("fake.jar"), "jar").toString());
    builder.environment().putAll(env);
    Process process = builder.start();
    assertThat(process.waitFor(120, TimeUnit.SECONDS)).as(String.join(" ", command) + " ended").isTrue();
    String text = Files.readString(output, StandardCharsets.UTF_8);
    assertThat(text.contains(token.reveal())).as("output of %s holds the token", String.join(" ", command)).isFalse();
    return new Run(process.exitValue(), text);
  }

  private Run systemdAnalyze(Path dir, String... args) throws Exception {
    Linters.Analysis analysis = Linters.systemdAnalyze(dir, args);
    return new Run(analysis.exit(), analysis.output());
  }

  /** Whether the process runs: an exited one whose parent is gone may stay a zombie here, which does not run. */
  private static boolean runs(long pid) throws IOException {
    String text;
    try {
      text = Files.readString(Path.of("/proc/" + pid + "/stat"));
    } catch (java.nio.file.NoSuchFileException gone) {
      return false;
    }
    return text.charAt(text.lastIndexOf(')') + 2) != 'Z';
  }

  private static String mode(Path file) throws IOException {
    return PosixFilePermissions.toString(Files.getPosixFilePermissions(file));
  }
}
