package dev.tether.manager.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tether.common.testing.TokenLedger;
import dev.tether.common.token.DelegateToken;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code delegate install-files} against a real manager: a loopback manager URL for a delegate in a
 * container is written as asked but warned about on stderr, leaving the JSON on stdout parseable.
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

  private CliManager.Result installFiles(String type, String managerUrl, String out) {
    return manager.cli("delegate", "install-files", "--type", type, "--account", account, "--token-name", "install",
        "--token-file", tokenFile.toString(), "--out", root.resolve(out).toString(), "--manager-url", managerUrl,
        "--delegate-name", "builder-1", "--ecs-secret-arn", "arn:aws:secretsmanager:eu-west-1:123456789012:secret:tether-abc",
        "--ecs-execution-role-arn", "arn:aws:iam::123456789012:role/ecsTaskExecutionRole", "--json");
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
