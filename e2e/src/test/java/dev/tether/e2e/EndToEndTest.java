package dev.tether.e2e;

import dev.tether.common.testing.Relay;
import dev.tether.manager.tls.TlsMaterial;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.tether.common.testing.TokenLedger;
import dev.tether.proto.admin.v1.Delegate;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The manager and delegates as users run them: separate processes from the shaded jars, TLS on,
 * administered through the CLI.
 */
class EndToEndTest {

  private static final Duration START = Duration.ofSeconds(60);
  @TempDir static Path work;
  private static Tether tether;

  @BeforeAll
  static void startManager() {
    tether = new Tether(work.resolve("data"), "EndToEndTest").start();
  }

  @AfterAll
  static void stopManagerAndScanForLeaks() throws Exception {
    tether.stopManager();
    tether.close();
    List<String> leaks = new ArrayList<>(tether.leaksInOutputs());
    try (var files = Files.list(work.resolve("data"))) {
      for (Path db : files.filter(f -> f.toString().endsWith(".db")).toList()) {
        String bytes = new String(Files.readAllBytes(db), StandardCharsets.ISO_8859_1);
        TokenLedger.leaksIn(bytes).forEach(l -> leaks.add("database holds token " + l.substring(0, 8) + "..."));
      }
    }
    assertThat(TokenLedger.values().size()).as("tokens recorded for the scan").isPositive();
    assertThat(leaks).as("token values in logs or database").isEmpty();
  }

  @Test
  void envDelegate_isListedThenCutByRevokeAndExits78() {
    String account = tether.account("env-acct");
    String token = tether.token(account, "ci");
    Proc delegate = tether.delegate("env-1", tether.env(account, token));
    delegate.awaitLine("connected to", START);

    Delegate listed = tether.delegate(account, "env-1");
    assertThat(listed.getConnected()).isTrue();
    assertThat(listed.getTokenName()).isEqualTo("ci");
    assertThat(listed.getHostname()).isEqualTo("env-1-host");
    assertThat(listed.getVersion()).isNotEmpty();
    assertThat(listed.getLastHeartbeatUnixMs()).isPositive();

    Tether.Result dryRun = tether.cli("token", "revoke", "--account", account, "--name", "ci", "--dry-run").ok();
    assertThat(dryRun.out()).contains("would cut 1 connected delegates").containsPattern("env-1\\s+env-1-host\\s+dlg_");
    assertThat(tether.delegate(account, "env-1").getConnected()).as("a dry run cuts nothing").isTrue();

    Tether.Result revoke = tether.cli("token", "revoke", "--account", account, "--name", "ci").ok();
    assertThat(revoke.out()).contains("revoked; 1 delegate streams closed");

    assertThat(delegate.awaitExit(Duration.ofSeconds(20))).isEqualTo(78);
    assertThat(delegate.stderr()).contains("tether-delegate exiting (78): delegate token tid_").contains("was revoked");
    await().atMost(Duration.ofSeconds(60)).until(() -> !tether.delegate(account, "env-1").getConnected());
    assertThat(tether.delegate(account, "env-1").getDisconnectReason()).contains("delegate token revoked");
  }

  @Test
  void tokenFileDelegate_waitsAfterRevokeAndReconnectsWhenTheFileHoldsANewToken() throws Exception {
    String account = tether.account("file-acct");
    Path tokenFile = Files.createFile(work.resolve("file-acct.token"),
        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    Files.writeString(tokenFile, tether.token(account, "v1") + "\n");
    Proc delegate = tether.delegate("file-1", Map.of("ACCOUNT_ID", account,
        "DELEGATE_TOKEN_FILE", tokenFile.toString(),
        "MANAGER_HOST_AND_PORT", "https://127.0.0.1:" + tether.port()));
    delegate.awaitLine("connected to .* with token", START);

    tether.cli("token", "revoke", "--account", account, "--name", "v1").ok();
    delegate.awaitLine("waiting for DELEGATE_TOKEN_FILE", Duration.ofSeconds(20));
    assertThat(delegate.alive()).isTrue();
    await().atMost(Duration.ofSeconds(60)).until(() -> !tether.delegate(account, "file-1").getConnected());

    Files.writeString(tokenFile, tether.token(account, "v2") + "\n");

    await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
      Delegate d = tether.delegate(account, "file-1");
      assertThat(d.getConnected()).isTrue();
      assertThat(d.getTokenName()).isEqualTo("v2");
    });
    assertThat(delegate.alive()).isTrue();
  }

  @Test
  void tokenFileRotatedWhileConnected_isPickedUpWithoutARestartAndTheProbeFilesFollow() throws Exception {
    String account = tether.account("rotate-acct");
    Path tokenFile = Files.createFile(work.resolve("rotate-acct.token"),
        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    Files.writeString(tokenFile, tether.token(account, "old") + "\n");
    Path health = work.resolve("rotate-health");
    Proc delegate = tether.delegate("rotating", Map.of("ACCOUNT_ID", account,
        "DELEGATE_TOKEN_FILE", tokenFile.toString(), "DELEGATE_HEALTH_DIR", health.toString(),
        "MANAGER_HOST_AND_PORT", "https://127.0.0.1:" + tether.port()));
    delegate.awaitLine("connected to", START);
    await().atMost(Duration.ofSeconds(10)).until(() -> Files.exists(health.resolve("ready")));
    assertThat(health.resolve("alive")).exists();

    Path next = work.resolve("rotate-acct.token.new");
    Files.writeString(next, tether.token(account, "new") + "\n");
    Files.move(next, tokenFile, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);

    await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
      Delegate d = tether.delegate(account, "rotating");
      assertThat(d.getConnected()).isTrue();
      assertThat(d.getTokenName()).isEqualTo("new");
    });
    assertThat(tether.cli("token", "revoke", "--account", account, "--name", "old").ok().out())
        .contains("0 delegate streams closed");
    assertThat(delegate.alive()).isTrue();

    tether.cli("token", "revoke", "--account", account, "--name", "new").ok();
    await().atMost(Duration.ofSeconds(10)).until(() -> !Files.exists(health.resolve("ready")));
    assertThat(delegate.alive()).as("waits for a new token in the file").isTrue();
  }

  @Test
  void yamlDelegates_connectAndTheLegacyAccountSecretKeyStillWorksWithAWarning() throws Exception {
    String account = tether.account("yaml-acct");
    String token = tether.token(account, "yaml");
    Path modern = work.resolve("config-delegate.yaml");
    Files.writeString(modern, "accountId: " + account + "\n"
        + "delegateToken: " + token + "\n"
        + "managerUrl: https://127.0.0.1:" + tether.port() + "\n"
        + "delegateName: yaml-1\n"
        + "delegateTags: [linux, yaml]\n");
    Path legacy = work.resolve("legacy-config-delegate.yaml");
    Files.writeString(legacy, "accountId: " + account + "\n"
        + "accountSecret: " + token + "\n"
        + "managerUrl: https://127.0.0.1:" + tether.port() + "\n"
        + "delegateName: yaml-legacy\n");

    Proc first = tether.delegate("yaml-1", Map.of(), "--config", modern.toString());
    Proc second = tether.delegate("yaml-legacy", Map.of(), "--config", legacy.toString());
    first.awaitLine("connected to", START);
    second.awaitLine("connected to", START);

    assertThat(second.stderr()).contains("accountSecret in legacy-config-delegate.yaml is deprecated");
    assertThat(tether.delegate(account, "yaml-1").getTagsList()).containsExactly("linux", "yaml");
    assertThat(tether.delegate(account, "yaml-legacy").getConnected()).isTrue();
  }

  @Test
  void expiringToken_isExpiredAtItsExpiryAndItsDelegatesAreCut() {
    String account = tether.account("expiry-acct");
    // long enough for a delegate JVM to start on a loaded 2-core machine
    String token = tether.token(account, "short", "--expires-in", "25s");
    Proc delegate = tether.delegate("expiring", tether.env(account, token));
    delegate.awaitLine("connected to", START);
    assertThat(delegate.alive()).isTrue();

    assertThat(delegate.awaitExit(Duration.ofSeconds(60))).isEqualTo(78);

    String tokens = tether.cli("token", "list", "--account", account).ok().out();
    assertThat(tokens).containsPattern("short\\s+tid_\\w+\\s+EXPIRED");
    String audit = tether.cli("audit", "list", "--account", account).ok().out();
    assertThat(audit).containsPattern("system\\s+token.expire");
  }

  @Test
  void tlsTerminatingProxyWithItsOwnCertificate_isRefusedByTheDelegate() throws Exception {
    String account = tether.account("mitm-acct");
    String token = tether.token(account, "victim");
    TlsMaterial own = TlsMaterial.loadOrGenerate(work.resolve("relay-tls"), List.of());
    try (Relay mitm = new Relay(Relay.Mode.TERMINATE_TLS, tether.port(), own.certificate(), own.privateKey());
        Relay plain = new Relay(Relay.Mode.PASS_THROUGH, tether.port(), null, null)) {
      Map<String, String> viaMitm = new HashMap<>(tether.env(account, token));
      viaMitm.put("MANAGER_HOST_AND_PORT", "https://127.0.0.1:" + mitm.port());
      Proc refused = tether.delegate("behind-mitm", viaMitm);

      assertThat(refused.awaitExit(START)).isEqualTo(1);
      assertThat(refused.stderr()).contains("refusing manager").contains("man in the middle");

      // control: the same delegate through a relay that does not terminate TLS connects
      Map<String, String> viaPlain = new HashMap<>(tether.env(account, token));
      viaPlain.put("MANAGER_HOST_AND_PORT", "https://127.0.0.1:" + plain.port());
      Proc accepted = tether.delegate("behind-plain-relay", viaPlain);
      accepted.awaitLine("connected to", START);
    }
    assertThat(tether.delegates(account).getDelegatesList()).extracting(Delegate::getName)
        .containsExactly("behind-plain-relay");
  }

  @Test
  void managerCaFile_addsCertificateVerificationAndTheDelegateConnects() {
    String account = tether.account("ca-acct");
    Map<String, String> env = new HashMap<>(tether.env(account, tether.token(account, "ca")));
    env.put("MANAGER_CA_FILE", tether.dataDir.resolve("tls/manager.crt").toString());
    env.put("DELEGATE_TYPE", "KUBERNETES");

    Proc delegate = tether.delegate("with-ca", env);

    delegate.awaitLine("connected to", START);
    assertThat(tether.delegate(account, "with-ca").getDelegateType()).isEqualTo("KUBERNETES");
  }

  @Test
  void wrongAdminKey_isRefusedAndAudited() throws Exception {
    Path wrong = work.resolve("wrong-admin.key");
    Files.writeString(wrong, "tak_" + "a".repeat(52) + "\n");

    Tether.Result result = tether.rawCli(null, "account", "list", "--manager", "127.0.0.1:" + tether.adminPort(),
        "--data-dir", tether.dataDir.toString(), "--admin-key-file", wrong.toString());

    assertThat(result.exit()).isEqualTo(1);
    assertThat(result.err()).contains("error: the manager refused the admin key");
    assertThat(tether.cli("audit", "list").ok().out()).containsPattern("unauthenticated\\s+admin.auth_failed");
  }

  @Test
  void sigterm_exits0AndTheManagerShowsTheDelegateDisconnectedAtOnce() {
    String account = tether.account("term-acct");
    Proc delegate = tether.delegate("term-1", tether.env(account, tether.token(account, "t")));
    delegate.awaitLine("connected to", START);

    delegate.terminate();

    assertThat(delegate.awaitExit(Duration.ofSeconds(20))).isZero();
    assertThat(delegate.stderr()).contains("tether-delegate exiting (0): stopped by SIGTERM");
    await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
      Delegate d = tether.delegate(account, "term-1");
      assertThat(d.getConnected()).isFalse();
      assertThat(d.getDisconnectReason()).contains("goodbye");
    });
  }

  @Test
  void cliErrorPaths_printClearMessagesAndExitNonZero() throws Exception {
    String account = tether.account("errors-acct");
    tether.token(account, "dup");

    Tether.Result unknown = tether.cli("token", "list", "--account", "no-such-account");
    assertThat(unknown.exit()).isEqualTo(1);
    assertThat(unknown.err()).contains("error: account 'no-such-account' not found");

    Tether.Result duplicate = tether.cli("token", "create", "--account", account, "--name", "dup");
    assertThat(duplicate.exit()).isEqualTo(1);
    assertThat(duplicate.err()).contains("error: token name 'dup' already exists in account");

    Tether.Result active = tether.cli("token", "delete", "--account", account, "--name", "dup");
    assertThat(active.exit()).isEqualTo(1);
    assertThat(active.err()).contains("is active; revoke it first");

    Tether.Result weak = tether.cliWithStdin("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n",
        "token", "create", "--account", account, "--name", "weak", "--import-stdin");
    assertThat(weak.exit()).isEqualTo(1);
    assertThat(weak.err()).contains("imported token value is too easy to guess");

    // empty input is an error, never a generated token that nobody was shown (issue 12, defect 8)
    String before = tether.cli("token", "list", "--account", account).ok().out();
    for (String empty : new String[] {"", "  \n\t\n"}) {
      Tether.Result nothing = tether.cliWithStdin(empty, "token", "create", "--account", account, "--name", "ghost",
          "--import-stdin");
      assertThat(nothing.exit()).isEqualTo(1);
      assertThat(nothing.err()).contains("the token to import from standard input is empty; nothing was created");
    }
    assertThat(tether.cli("token", "list", "--account", account).ok().out()).isEqualTo(before).doesNotContain("ghost");

    Tether.Result badName = tether.cli("token", "create", "--account", account, "--name", "has space");
    assertThat(badName.exit()).isEqualTo(1);
    assertThat(badName.err()).contains("token name 'has space' is invalid");

    Tether.Result badDuration = tether.cli("token", "create", "--account", account, "--name", "x", "--expires-in", "soon");
    assertThat(badDuration.exit()).isEqualTo(2);
    assertThat(badDuration.err()).contains("'soon' is not a duration");

    String good = tether.token(account, "for-typo");
    String typo = good.substring(0, 20) + (good.charAt(20) == 'a' ? 'b' : 'a') + good.substring(21);
    Proc malformed = tether.delegate("typo", tether.env(account, typo));
    assertThat(malformed.awaitExit(START)).isEqualTo(78);
    assertThat(malformed.stderr()).contains("DELEGATE_TOKEN is malformed: checksum mismatch");

    Proc noAccount = tether.delegate("no-account", Map.of("DELEGATE_TOKEN", good,
        "MANAGER_HOST_AND_PORT", "https://127.0.0.1:" + tether.port()));
    assertThat(noAccount.awaitExit(START)).isEqualTo(1);
    assertThat(noAccount.stderr()).contains("configuration error: ACCOUNT_ID is not set");
  }
}
