package dev.tether.manager.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.tether.manager.server.ManagerSettings;
import java.net.InetSocketAddress;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Tether issue 13, section 4: the CLI's errors a newcomer meets, each against a real manager on
 * loopback, each one line on stderr that says what went wrong and what to do, never a stack trace
 * or a Netty pipeline dump.
 */
class CliErrorsTest {

  @TempDir static Path root;
  static CliManager manager;

  @BeforeAll
  static void start() throws Exception {
    manager = new CliManager(root.resolve("main"));
  }

  @AfterAll
  static void stop() {
    manager.close();
  }

  @Test
  void plaintextAgainstATlsManager_saysItUsesTls_dropPlaintext() {
    CliManager.Result result = manager.cli("account", "list", "--plaintext");

    assertOneLineError(result, "error: the manager at 127.0.0.1:" + manager.adminPort() + " did not answer plaintext"
        + " gRPC; it uses TLS: drop --plaintext (and give --ca-file with its certificate");
    assertOneLineError(CliManager.run("account", "list", "--manager", "http://127.0.0.1:" + manager.adminPort(),
        "--data-dir", manager.dataDir.toString()),
        "error: the manager at 127.0.0.1:" + manager.adminPort() + " did not answer plaintext gRPC; it uses TLS: drop"
            + " --plaintext and http://");
  }

  @Test
  void tlsAgainstAPlaintextManager_saysItRunsWithPlaintext() throws Exception {
    try (CliManager plain = new CliManager(root.resolve("plain"), ManagerSettings.defaults(), true,
        new InetSocketAddress("127.0.0.1", 0))) {
      CliManager.Result result = CliManager.run("account", "list", "--manager", "127.0.0.1:" + plain.adminPort(),
          "--data-dir", plain.dataDir.toString(), "--ca-file", manager.dataDir.resolve("tls/manager.crt").toString());

      assertOneLineError(result, "error: the manager at 127.0.0.1:" + plain.adminPort() + " did not answer TLS; it"
          + " probably runs with --plaintext: add --plaintext (or use --manager http://127.0.0.1:" + plain.adminPort());
      CliManager.Result https = CliManager.run("account", "list", "--manager", "https://127.0.0.1:" + plain.adminPort(),
          "--data-dir", plain.dataDir.toString(), "--ca-file", manager.dataDir.resolve("tls/manager.crt").toString());
      assertOneLineError(https, "error: the manager at 127.0.0.1:" + plain.adminPort() + " did not answer TLS");
      assertThat(CliManager.run("account", "list", "--manager", "http://127.0.0.1:" + plain.adminPort(),
          "--data-dir", plain.dataDir.toString()).exit()).isZero();
    }
  }

  @Test
  void caFileOfAnotherManager_saysTheCertificateDidNotVerifyAgainstThatFile() throws Exception {
    try (CliManager other = new CliManager(root.resolve("other"))) {
      Path otherCert = other.dataDir.resolve("tls/manager.crt");

      CliManager.Result result = manager.cli("account", "list", "--ca-file", otherCert.toString());

      assertOneLineError(result, "error: the manager at 127.0.0.1:" + manager.adminPort() + "'s certificate did not"
          + " verify against the CA file '" + otherCert + "' (");
      assertThat(result.err()).contains("Give --ca-file (or TETHER_CA_FILE) the certificate this manager serves");
    }
  }

  @Test
  void certificateWithoutTheHostName_saysItIsNotValidForThatHost() throws Exception {
    try (CliManager elsewhere = new CliManager(root.resolve("elsewhere"), ManagerSettings.defaults(), false,
        new InetSocketAddress("127.0.0.2", 0))) {
      CliManager.Result result = CliManager.run("account", "list", "--manager", "127.0.0.2:" + elsewhere.adminPort(),
          "--data-dir", elsewhere.dataDir.toString());

      assertOneLineError(result, "error: the manager at 127.0.0.2:" + elsewhere.adminPort() + "'s certificate is not"
          + " valid for host '127.0.0.2' (");
      assertThat(result.err()).contains("--tls-name 127.0.0.2");
    }
  }

  @Test
  void httpsManagerAddress_works_andContradictionsAreRefused() {
    assertThat(CliManager.run("account", "list", "--manager", "https://127.0.0.1:" + manager.adminPort(),
        "--data-dir", manager.dataDir.toString()).ok().out()).startsWith("ACCOUNT_ID");
    assertThat(CliManager.run("account", "list", "--manager", "https://127.0.0.1:" + manager.adminPort() + "/",
        "--data-dir", manager.dataDir.toString()).exit()).isZero();

    assertOneLineError(CliManager.run("account", "list", "--manager", "https://127.0.0.1:" + manager.adminPort(),
        "--plaintext"), "error: --manager 'https://127.0.0.1:" + manager.adminPort() + "' asks for TLS, and"
            + " --plaintext for none; choose one");
    assertOneLineError(CliManager.run("account", "list", "--manager", "http://127.0.0.1:" + manager.adminPort(),
        "--ca-file", "ca.crt"), "error: --ca-file 'ca.crt' is for TLS, but --manager 'http://127.0.0.1:"
            + manager.adminPort() + "' is plaintext");
    CliManager.Result badPort = CliManager.run("account", "list", "--manager", "https://127.0.0.1:abc");
    assertThat(badPort.exit()).isEqualTo(2);
    assertThat(badPort.err()).contains("'https://127.0.0.1:abc' has port 'abc', which is not a number")
        .doesNotContain("Usage:");
  }

  @Test
  void helpAndVersion_areCommands() {
    CliManager.Result help = CliManager.run("help");
    assertThat(help.ok().out()).startsWith("Usage: tether-manager").contains("Commands:").contains("  admin ")
        .contains("  completion ");
    assertThat(help.err()).isEmpty();
    assertThat(CliManager.run("help", "token").ok().out()).startsWith("Usage: tether-manager token");
    assertThat(CliManager.run("token", "create", "--help").ok().out()).startsWith("Usage: tether-manager token create")
        .contains("--description=TEXT");

    String version = CliManager.run("version").ok().out();
    assertThat(version).matches("tether-manager \\S+\\R");
    assertThat(CliManager.run("--version").ok().out()).isEqualTo(version);
  }

  @Test
  void completion_printsABashScriptForTheWholeTree() {
    String script = CliManager.run("completion").ok().out();
    assertThat(script).startsWith("#!/usr/bin/env bash").contains("complete -F _complete_tether-manager")
        .contains("prune").contains("--disconnected-for").contains("whoami");
  }

  @Test
  void anAdminKeyFileOthersCanRead_isUsedWithAWarningNamingTheFix() throws Exception {
    Path key = root.resolve("open.key");
    Files.copy(manager.dataDir.resolve("admin.key"), key);
    Files.setPosixFilePermissions(key, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));

    CliManager.Result result = manager.cli("account", "list", "--admin-key-file", key.toString());

    assertThat(result.exit()).isZero();
    assertThat(result.err()).isEqualTo("warning: permissions 0644 for '" + key + "' are too open: other users can"
        + " read it, and it holds an admin key, which lets anyone holding it act as that admin. Only its owner may"
        + " read it. Fix: chmod 600 '" + key + "'" + System.lineSeparator());
  }

  @Test
  void unauthenticated_namesTheKeyFile() throws Exception {
    Path wrong = root.resolve("wrong.key");
    Files.writeString(wrong, "tak_" + "a".repeat(52) + "\n");
    Files.setPosixFilePermissions(wrong, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));

    CliManager.Result result = manager.cli("account", "list", "--admin-key-file", wrong.toString());

    assertOneLineError(result, "error: the manager refused the admin key ('" + wrong + "'): admin authentication"
        + " failed: the credential is missing, unknown or revoked; use a key printed by 'tether-manager admin create'");
  }

  @Test
  void permissionDenied_printsTheServersMessage_namingAdminRoleAndTheRoleNeeded() throws Exception {
    String account = manager.cli("account", "create", "perm-acct", "--field", "account.id").lines().get(0);
    Path viewerKey = root.resolve("viewer.key");
    Files.writeString(viewerKey, manager.cli("admin", "create", "auditor", "--role", "viewer", "--field", "value")
        .lines().get(0));
    Files.setPosixFilePermissions(viewerKey, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));

    CliManager.Result result = manager.cli("token", "revoke", "--account", account, "--name", "default",
        "--admin-key-file", viewerKey.toString());

    assertOneLineError(result, "error: admin 'auditor' has role viewer; TokenAdmin/RevokeToken needs role operator"
        + " or higher (an owner can create an admin with that role");
    assertThat(manager.cli("token", "list", "--account", account, "--admin-key-file", viewerKey.toString(),
        "--field", "tokens.status").lines()).containsExactly("ACTIVE");

    // install-files goes through PrepareInstall: an operator's call, refused to a viewer before any file is written
    String value = manager.cli("token", "create", "--account", account, "--name", "install", "--field", "value")
        .lines().get(0);
    dev.tether.common.testing.TokenLedger.record(dev.tether.common.token.DelegateToken.parse("created", value));
    Path tokenFile = root.resolve("install.token");
    Files.writeString(tokenFile, value);
    Path out = root.resolve("viewer-install");
    CliManager.Result install = manager.cli("delegate", "install-files", "--type", "shell", "--account", account,
        "--token-name", "install", "--token-file", tokenFile.toString(), "--out", out.toString(),
        "--manager-url", "https://127.0.0.1:7443", "--delegate-name", "d1", "--admin-key-file", viewerKey.toString());
    assertOneLineError(install, "error: admin 'auditor' has role viewer; TokenAdmin/PrepareInstall needs role operator"
        + " or higher");
    assertThat(out).doesNotExist();
  }

  @Test
  void installFilesNameFromBeforeTheNamingTable_isRefusedPointingAtTheNewName() {
    Path out = root.resolve("old-name");
    CliManager.Result result = manager.cli("delegate", "install-files", "--type", "helm", "--account", "any",
        "--token-name", "t", "--out", out.toString(), "--manager-url", "https://manager.example:7443",
        "--delegate-name", "d1", "--existing-secret", "vault-synced");
    assertThat(result.exit()).as(result.toString()).isEqualTo(2);
    assertThat(result.err()).contains("Unknown options: '--existing-secret'")
        .contains("Possible solutions: --existing-delegate-token");
    assertThat(out).doesNotExist();
  }

  @Test
  void auditListOfAnUnknownAccount_isAnErrorAsForDelegateList() {
    CliManager.Result audit = manager.cli("audit", "list", "--account", "nosuch");
    CliManager.Result delegates = manager.cli("delegate", "list", "--account", "nosuch");

    assertOneLineError(audit, "error: account 'nosuch' not found");
    assertThat(audit.out()).isEmpty();
    assertThat(audit.err()).isEqualTo(delegates.err());
  }

  @Test
  void tokenLifetime_belowTheFloorIsRefusedByTheManager_aboveTheCeilingBeforeAnyCall() {
    String account = manager.cli("account", "create", "life-acct", "--field", "account.id").lines().get(0);

    assertOneLineError(manager.cli("token", "create", "--account", account, "--name", "short", "--expires-in", "1s"),
        "error: token lifetime 1s is out of range (expected 1m to 3650d");
    // nothing listens on port 1: the ceiling is checked before the CLI connects
    CliManager.Result ceiling = CliManager.run("token", "create", "--account", account, "--name", "long",
        "--expires-in", "3650000d", "--manager", "127.0.0.1:1", "--data-dir", manager.dataDir.toString());
    assertOneLineError(ceiling, "error: token lifetime 3650000d (--expires-in) is out of range (expected at most 3650d");
    assertThat(manager.cli("token", "list", "--account", account, "--field", "tokens.name").lines())
        .containsExactly("default");
    assertThat(manager.cli("token", "create", "--account", account, "--name", "ok", "--expires-in", "3650d",
        "--field", "token.name").lines()).hasSize(1);
  }

  @Test
  void managerNotListening_saysConnectionRefused() {
    assertOneLineError(CliManager.run("account", "list", "--manager", "127.0.0.1:1", "--data-dir",
        manager.dataDir.toString()), "error: cannot reach the manager at 127.0.0.1:1: connection refused. Is it running");
  }

  @Test
  void theDelegateListener_isNamedAsTheWrongPort() {
    assertOneLineError(CliManager.run("account", "list", "--manager", "127.0.0.1:"
        + manager.server.listenAddress().getPort(), "--data-dir", manager.dataDir.toString()),
        "error: the server at 127.0.0.1:" + manager.server.listenAddress().getPort() + " does not serve the admin API");
  }

  @Test
  void serveWithADataDirThatCannotBeCreated_saysWhatFailed() {
    // without the fix the manager would start and block: the timeout turns that into a failure
    CliManager.Result result = assertTimeoutPreemptively(Duration.ofSeconds(60), () -> CliManager.run("serve",
        "--data-dir", "/proc/tether", "--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0"));

    assertOneLineError(result, "error: cannot create the data directory '/proc/tether' (at '/proc/tether': ");
    assertThat(result.err()).contains("choose a --data-dir (or TETHER_DATA_DIR) this user can create and write");
  }

  @Test
  void startFailures_nameTheFileAndItsPlace() {
    Path dir = root.resolve("d");
    assertThat(ServeCommand.describeStartFailure(new AccessDeniedException(dir.resolve("master.key").toString()), dir))
        .isEqualTo("cannot create or read '" + dir.resolve("master.key") + "' in the data directory '" + dir
            + "': permission denied [AccessDeniedException]; check the ownership and permissions of the data"
            + " directory (chmod 700, owned by this user)");
    assertThat(ServeCommand.describeStartFailure(new NoSuchFileException(root.toString()), dir.resolve("x")))
        .startsWith("cannot create the data directory '" + dir.resolve("x") + "': '" + root + "': no such file");
  }

  private static void assertOneLineError(CliManager.Result result, String expectedStart) {
    assertThat(result.exit()).as(result.toString()).isEqualTo(1);
    String err = result.redacted().err();
    assertThat(err).startsWith(expectedStart);
    assertThat(err.lines()).as("one line, no stack trace or pipeline dump: " + err).hasSize(1);
    assertThat(err).doesNotContain("\tat ", "Channel Pipeline", "Exception:", "io exception");
  }
}
