package dev.tether.manager.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tether.common.token.Secrets;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * TETHER_MANAGER, TETHER_ADMIN_KEY_FILE, TETHER_CA_FILE and TETHER_DATA_DIR set the defaults of the
 * admin commands' options, so that they work from any directory; a flag wins. Picocli reads the
 * real environment, so the CLI runs here as a separate process (this JVM's class path), started
 * in a directory that holds nothing of the manager's.
 */
class EnvironmentDefaultsTest {

  @TempDir static Path root;
  static CliManager manager;

  @BeforeAll
  static void start() throws Exception {
    manager = new CliManager(root.resolve("data"));
  }

  @AfterAll
  static void stop() {
    manager.close();
  }

  @Test
  void managerKeyAndCaFromTheEnvironment_fromAnotherDirectory() throws Exception {
    Map<String, String> env = Map.of("TETHER_MANAGER", "https://127.0.0.1:" + manager.adminPort(),
        "TETHER_ADMIN_KEY_FILE", manager.dataDir.resolve("admin.key").toString(),
        "TETHER_CA_FILE", manager.dataDir.resolve("tls/manager.crt").toString());

    Run run = cli(env, "admin", "whoami", "--field", "admin.name");

    assertThat(run.exit()).as(run.toString()).isZero();
    assertThat(run.out()).isEqualTo("bootstrap\n");
  }

  @Test
  void dataDirFromTheEnvironment_andAFlagWinsOverItsVariable() throws Exception {
    Map<String, String> env = Map.of("TETHER_MANAGER", "127.0.0.1:1", "TETHER_DATA_DIR", manager.dataDir.toString());

    Run refused = cli(env, "admin", "whoami");
    assertThat(refused.exit()).as(refused.toString()).isEqualTo(1);
    assertThat(refused.err()).contains("cannot reach the manager at 127.0.0.1:1: connection refused");

    Run flag = cli(env, "admin", "whoami", "--field", "admin.role", "--manager", "127.0.0.1:" + manager.adminPort());
    assertThat(flag.exit()).as(flag.toString()).isZero();
    assertThat(flag.out()).isEqualTo("OWNER\n");

    Run help = cli(env, "admin", "whoami", "--help");
    // picocli wraps the help at any character: compare without the line breaks and indents
    assertThat(help.out().replaceAll("\\s", "")).contains("(now:127.0.0.1:1)")
        .contains("(now:" + manager.dataDir.toString().replaceAll("\\s", "") + ")");
  }

  private record Run(int exit, String out, String err) {
    @Override
    public String toString() {
      return "exit " + exit + "\nstdout:\n" + Secrets.redact(out) + "\nstderr:\n" + Secrets.redact(err);
    }
  }

  private static Run cli(Map<String, String> env, String... args) throws IOException, InterruptedException {
    Path dir = Files.createTempDirectory(root, "cwd");
    List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), TetherManagerCli.class.getName()));
    command.addAll(List.of(args));
    ProcessBuilder builder = new ProcessBuilder(command).directory(dir.toFile())
        .redirectOutput(dir.resolve("out").toFile()).redirectError(dir.resolve("err").toFile());
    builder.environment().keySet().removeIf(k -> k.startsWith("TETHER_"));
    builder.environment().putAll(env);
    Process process = builder.start();
    if (!process.waitFor(120, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      throw new AssertionError("the CLI did not finish: " + command.subList(4, command.size()));
    }
    return new Run(process.exitValue(), Files.readString(dir.resolve("out"), StandardCharsets.UTF_8),
        Files.readString(dir.resolve("err"), StandardCharsets.UTF_8));
  }
}
