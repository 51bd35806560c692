package dev.tether.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.tether.common.testing.TokenLedger;
import dev.tether.common.token.DelegateToken;
import dev.tether.proto.admin.v1.Delegate;
import dev.tether.proto.admin.v1.GetRotationResponse;
import dev.tether.proto.admin.v1.RotateTokenResponse;
import dev.tether.proto.admin.v1.RotationDelegate;
import dev.tether.proto.admin.v1.TokenRotation;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Zero-touch rotation with the real jars: three delegates reading writable token files and one its YAML file move
 * to the successor without restarting, the one on an environment variable says it cannot keep it and
 * stays on the old token until the rotation is finished, which cuts it (exit 78).
 */
class RotationEndToEndTest {

  private static final Duration START = Duration.ofSeconds(60);
  @TempDir static Path work;
  private static Tether tether;

  @BeforeAll
  static void startManager() {
    tether = new Tether(work.resolve("data"), "RotationEndToEndTest").start();
  }

  @AfterAll
  static void stopManagerAndScanForLeaks() throws Exception {
    tether.stopManager();
    tether.close();
    List<String> leaks = new ArrayList<>(tether.leaksInOutputs());
    assertThat(leaks).as("token values, the successor's included, in logs").isEmpty();
  }

  @Test
  void rotate_movesEveryDelegateThatCanKeepTheSuccessor_andFinishCutsTheOneThatCannot() throws Exception {
    String account = tether.account("rot-acct");
    String old = tether.token(account, "ci");
    Path file1 = tokenFile("file-1.token", old);
    Path file2 = tokenFile("file-2.token", old);
    Path file3 = tokenFile("file-3.token", old);
    Path yaml = work.resolve("config-delegate.yaml");
    String yamlText = "# the delegate of the build farm\naccountId: " + account + "\n"
        + "delegateToken: " + old + "  # rotated by the manager\n"
        + "managerUrl: https://127.0.0.1:" + tether.port() + "\n"
        + "delegateTags: [build, linux]\n";
    Files.writeString(yaml, yamlText);
    Files.setPosixFilePermissions(yaml, PosixFilePermissions.fromString("rw-------"));

    Proc f1 = tether.delegate("file-1", fileEnv(account, file1));
    Proc f2 = tether.delegate("file-2", fileEnv(account, file2));
    Proc f3 = tether.delegate("file-3", fileEnv(account, file3));
    Proc y1 = tether.delegate("yaml-1", Map.of(), "--config", yaml.toString());
    Proc e1 = tether.delegate("env-1", tether.env(account, old));
    for (Proc p : List.of(f1, f2, f3, y1, e1)) {
      p.awaitLine("connected to .* with token", START);
    }
    List<Long> pids = List.of(f1.pid(), f2.pid(), f3.pid(), y1.pid(), e1.pid());

    RotateTokenResponse rotated = Tether.parse(tether.cli("token", "rotate", "--account", account, "--name", "ci",
        "--grace", "0s", "--json").ok().out(), RotateTokenResponse.getDefaultInstance());
    DelegateToken successor = TokenLedger.record(DelegateToken.parse("successor", rotated.getValue()));
    assertThat(rotated.getSuccessor().getName()).isEqualTo("ci-r2");
    TokenRotation rotation = rotated.getRotation();
    assertThat(outcomes(rotation)).containsEntry("file-1", "MOVED").containsEntry("file-2", "MOVED")
        .containsEntry("file-3", "MOVED").containsEntry("yaml-1", "MOVED").containsEntry("env-1", "CANNOT_KEEP");
    assertThat(rotation.getMoved()).isEqualTo(4);
    assertThat(rotation.getDelegatesList()).filteredOn(d -> d.getName().equals("env-1")).singleElement()
        .satisfies(d -> assertThat(d.getReason()).contains("DELEGATE_TOKEN"));
    assertThat(rotation.getState()).as("env-1 is still on the old token").isEqualTo("OPEN");

    // kept where each token came from, the files' other content untouched
    assertThat(Files.readString(file1).strip()).isEqualTo(successor.reveal());
    assertThat(Files.readString(file2).strip()).isEqualTo(successor.reveal());
    assertThat(Files.readString(file3).strip()).isEqualTo(successor.reveal());
    String yamlAfter = Files.readString(yaml);
    assertThat(yamlAfter).isEqualTo(yamlText.replace(old, successor.reveal()));
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file1))).isEqualTo("rw-------");

    // moved without restarting: the same processes, now recorded with the successor
    assertThat(List.of(f1.pid(), f2.pid(), f3.pid(), y1.pid(), e1.pid())).isEqualTo(pids);
    assertThat(List.of(f1, f2, f3, y1, e1)).allMatch(Proc::alive);
    await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
      for (String name : List.of("file-1", "file-2", "file-3", "yaml-1")) {
        Delegate d = tether.delegate(account, name);
        assertThat(d.getConnected()).as(name).isTrue();
        assertThat(d.getTokenName()).as(name).isEqualTo("ci-r2");
      }
      assertThat(tether.delegate(account, "env-1").getTokenName()).isEqualTo("ci");
    });
    assertThat(tokenStatus(account, "ci")).as("OLD stays active while a delegate is on it").isEqualTo("ACTIVE");

    // --finish revokes OLD: the environment delegate is cut and exits 78, the others stay
    GetRotationResponse finished = Tether.parse(tether.cli("token", "rotate", "--account", account, "--name", "ci",
        "--finish", "--json").ok().out(), GetRotationResponse.getDefaultInstance());
    assertThat(finished.getRotation().getState()).isEqualTo("FINISHED");
    assertThat(e1.awaitExit(Duration.ofSeconds(30))).isEqualTo(78);
    assertThat(tokenStatus(account, "ci")).isEqualTo("REVOKED");
    assertThat(List.of(f1, f2, f3, y1)).allMatch(Proc::alive);
    assertThat(tether.delegate(account, "file-1").getConnected()).isTrue();
    assertThat(tether.cli("audit", "list", "--account", account, "--field", "events.action").ok().out())
        .contains("token.rotate").contains("token.rotate.finish").contains("token.revoke");
  }

  private static Map<String, String> outcomes(TokenRotation rotation) {
    return rotation.getDelegatesList().stream()
        .collect(Collectors.toMap(RotationDelegate::getName, RotationDelegate::getOutcome));
  }

  private static String tokenStatus(String account, String name) {
    for (String status : List.of("active", "revoked", "expired")) {
      if (tether.cli("token", "list", "--account", account, "--status", status, "--field", "tokens.name").ok().out()
          .lines().anyMatch(name::equals)) {
        return status.toUpperCase(java.util.Locale.ROOT);
      }
    }
    return "NONE";
  }

  private static Path tokenFile(String name, String value) throws Exception {
    Path file = Files.createFile(work.resolve(name),
        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    Files.writeString(file, value + "\n");
    return file;
  }

  private static Map<String, String> fileEnv(String account, Path tokenFile) {
    return Map.of("ACCOUNT_ID", account, "DELEGATE_TOKEN_FILE", tokenFile.toString(),
        "MANAGER_HOST_AND_PORT", "https://127.0.0.1:" + tether.port());
  }
}
