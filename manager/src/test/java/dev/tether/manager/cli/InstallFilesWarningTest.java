package dev.tether.manager.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tether.common.testing.TokenLedger;
import dev.tether.common.token.DelegateToken;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code delegate install-files} against a real manager: a loopback manager URL for a delegate in a
 * container is written as asked but warned about on stderr, leaving the JSON on stdout parseable;
 * {@code --no-rotation} reaches the files.
 */
class InstallFilesWarningTest {

  @TempDir static Path root;
  static CliManager manager;
  static String account;
  static Path tokenFile;

  @BeforeAll
  static void start() throws Exception {
    manager = new CliManager(root.resolve("data"));
    account = manager.cli("account", "create", "acme", "--field", "account.id").lines().get(0);
    CliManager.Result value = manager.cli("token", "create", "--account", account, "--name", "install", "--field", "value");
    TokenLedger.record(DelegateToken.parse("--field value", value.lines().get(0)));
    tokenFile = Files.writeString(root.resolve("install.token"), value.lines().get(0));
  }

  @AfterAll
  static void stop() {
    manager.close();
  }

  private CliManager.Result installFiles(String type, String managerUrl, String out, String... more) {
    List<String> args = new ArrayList<>(List.of("delegate", "install-files", "--type", type, "--account", account,
        "--token-name", "install", "--token-file", tokenFile.toString(), "--out", root.resolve(out).toString(),
        "--manager-url", managerUrl, "--delegate-name", "builder-1",
        "--ecs-secret-arn", "arn:aws:secretsmanager:eu-west-1:123456789012:secret:tether-abc",
        "--ecs-execution-role-arn", "arn:aws:iam::123456789012:role/ecsTaskExecutionRole", "--json"));
    args.addAll(List.of(more));
    return manager.cli(args.toArray(String[]::new));
  }

  @Test
  void noRotation_leavesOutTheRoleAndMountsTheDockerTokenReadOnly_rotationIsTheDefault() throws Exception {
    installFiles("kubernetes", "https://manager.example.com:7443", "k8s-rotating");
    installFiles("kubernetes", "https://manager.example.com:7443", "k8s-fixed", "--no-rotation");
    installFiles("docker", "https://manager.example.com:7443", "docker-rotating");
    installFiles("docker", "https://manager.example.com:7443", "docker-fixed", "--no-rotation");
    installFiles("helm", "https://manager.example.com:7443", "helm-fixed", "--no-rotation");

    assertThat(Files.readString(root.resolve("k8s-rotating/tether-delegate.yaml"))).contains("kind: Role\n")
        .contains("automountServiceAccountToken: true").contains("name: DELEGATE_TOKEN_SECRET\n");
    assertThat(Files.readString(root.resolve("k8s-fixed/tether-delegate.yaml"))).doesNotContain("kind: Role")
        .doesNotContain("automountServiceAccountToken: true").doesNotContain("DELEGATE_TOKEN_SECRET");
    assertThat(Files.readString(root.resolve("docker-rotating/docker-run.sh"))).contains(":/run/secrets/tether:rw\"");
    assertThat(Files.readString(root.resolve("docker-fixed/docker-run.sh"))).contains(":/run/secrets/tether:ro\"");
    assertThat(Files.readString(root.resolve("helm-fixed/values-builder-1.yaml"))).contains("rotation:\n  enabled: false\n");
  }

  @Test
  void loopbackManagerUrl_isWarnedAboutOnStderr_forEachContainerType_andOnlyThen() {
    for (String type : new String[] {"kubernetes", "helm", "docker", "ecs"}) {
      CliManager.Result result = installFiles(type, "https://127.0.0.1:7443", "loop-" + type);
      assertThat(result.json().get("install_type").asText()).isEqualTo(type);
      assertThat(result.redacted().err()).as(type).startsWith("warning: --manager-url 'https://127.0.0.1:7443' is a"
          + " loopback address, which a delegate in a container (" + type + ") cannot reach");
    }
    assertThat(installFiles("kubernetes", "https://manager.example.com:7443", "reachable").redacted().err()).isEmpty();
    // a delegate on the manager's own host does reach its loopback
    assertThat(installFiles("shell", "http://localhost:7443", "host").redacted().err()).isEmpty();
  }
}
