package dev.tether.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tether.common.testing.TokenLedger;
import dev.tether.common.token.DelegateToken;
import dev.tether.proto.admin.v1.CreateAccountResponse;
import dev.tether.proto.admin.v1.CreateTokenResponse;
import dev.tether.proto.admin.v1.Delegate;
import dev.tether.proto.admin.v1.ListDelegatesResponse;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * JSON logs over a whole run of the real jars: {@code serve --log-format json}, the CLI and the
 * delegates with {@code TETHER_LOG_FORMAT=json}, through a handshake with heartbeats, a handshake
 * with a wrong token, a revoke that cuts the delegate and a stop. Every line either program wrote
 * on stderr must be a JSON object with a timestamp, level, logger and message, and no output may
 * hold a token value.
 */
class JsonLogsEndToEndTest {

  private static final Duration START = Duration.ofSeconds(60);
  private static final ObjectMapper MAPPER = new ObjectMapper();

  @TempDir Path work;

  @Test
  void aWholeRun_writesOnlyJsonObjectsOnStderr_andNoTokenValueAnywhere() throws Exception {
    List<Tether.Result> cliRuns = new ArrayList<>();
    Proc delegate;
    Proc refused;
    Proc manager;
    try (Tether tether = new Tether(work.resolve("data"), "JsonLogsEndToEndTest", "--log-format", "json",
        "--heartbeat-interval", "1s").start()) {
      manager = tether.manager();
      Tether.Result created = jsonCli(tether, "account", "create", "json-acct", "--json").ok();
      CreateAccountResponse account = Tether.parse(created.out(), CreateAccountResponse.getDefaultInstance());
      TokenLedger.record(DelegateToken.parse("default token", account.getValue()));
      String accountId = account.getAccount().getId();
      Tether.Result tokenRun = jsonCli(tether, "token", "create", "--account", accountId, "--name", "ci", "--json").ok();
      String token = Tether.parse(tokenRun.out(), CreateTokenResponse.getDefaultInstance()).getValue();
      TokenLedger.record(DelegateToken.parse("created token", token));
      // their stdout is where a value is shown, once; their stderr is scanned with the rest
      cliRuns.add(new Tether.Result(created.exit(), "", created.err()));
      cliRuns.add(new Tether.Result(tokenRun.exit(), "", tokenRun.err()));

      delegate = tether.delegate("json-1", json(tether.env(accountId, token)));
      delegate.awaitLine("connected to", START);
      long firstHeartbeat = listed(tether, accountId, "json-1", cliRuns).getLastHeartbeatUnixMs();
      // heartbeat times are written behind, at most every 3 intervals plus a flush
      await("a later heartbeat").atMost(START).pollInterval(Duration.ofSeconds(1)).until(() ->
          listed(tether, accountId, "json-1", cliRuns).getLastHeartbeatUnixMs() > firstHeartbeat);

      String wrong = TokenLedger.record(DelegateToken.generate()).reveal();
      refused = tether.delegate("json-wrong", json(tether.env(accountId, wrong)));
      // a token the manager does not know gets a decoy challenge, which the delegate refuses
      assertThat(refused.awaitExit(START)).isEqualTo(1);
      manager.awaitLine("handshake refused", Duration.ofSeconds(10));

      Tether.Result revoke = jsonCli(tether, "token", "revoke", "--account", accountId, "--name", "ci").ok();
      cliRuns.add(revoke);
      assertThat(revoke.out()).contains("revoked; 1 delegate streams closed");
      assertThat(delegate.awaitExit(Duration.ofSeconds(20))).isEqualTo(78);

      tether.stopManager();
    }

    List<JsonNode> managerLines = jsonLines(manager.stderrFile());
    List<JsonNode> delegateLines = jsonLines(delegate.stderrFile());
    List<JsonNode> refusedLines = jsonLines(refused.stderrFile());
    assertThat(messages(managerLines)).anyMatch(m -> m.startsWith("delegate authenticated"))
        .anyMatch(m -> m.startsWith("handshake refused: "))
        .anyMatch(m -> m.startsWith("token revoked: "))
        .anyMatch(m -> m.startsWith("manager stopped"));
    assertThat(messages(delegateLines)).anyMatch(m -> m.startsWith("connected to"));
    JsonNode exit = delegateLines.get(delegateLines.size() - 1);
    assertThat(exit.get("message").asText()).startsWith("tether-delegate exiting (78): delegate token tid_")
        .contains("was revoked");
    assertThat(exit.get("exit_code").asInt()).isEqualTo(78);
    assertThat(exit.get("level").asText()).isEqualTo("ERROR");
    assertThat(refusedLines.get(refusedLines.size() - 1).get("message").asText())
        .startsWith("tether-delegate exiting (1): refusing manager").contains("could not prove that it knows token tid_");
    for (Tether.Result run : cliRuns) {
      assertThat(run.err()).as("a CLI run's stderr").isEmpty();
    }

    List<String> leaks = new ArrayList<>();
    for (Proc p : List.of(manager, delegate, refused)) {
      for (Path file : List.of(p.stdoutFile(), p.stderrFile())) {
        TokenLedger.leaksIn(Files.readString(file, StandardCharsets.ISO_8859_1))
            .forEach(l -> leaks.add(file.getFileName() + " holds token " + l.substring(0, 8) + "..."));
      }
    }
    for (Tether.Result run : cliRuns) {
      TokenLedger.leaksIn(run.out() + run.err()).forEach(l -> leaks.add("CLI output holds token " + l.substring(0, 8) + "..."));
    }
    assertThat(leaks).as("token values in outputs").isEmpty();
  }

  /** {@code env} with JSON logs. */
  private static Map<String, String> json(Map<String, String> env) {
    Map<String, String> all = new HashMap<>(env);
    all.put("TETHER_LOG_FORMAT", "json");
    return all;
  }

  /** Every line of {@code file}, each checked to be a JSON object with the fields every log line has. */
  private static List<JsonNode> jsonLines(Path file) throws IOException {
    List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
    assertThat(lines).as("lines of %s", file.getFileName()).isNotEmpty();
    List<JsonNode> nodes = new ArrayList<>();
    for (String line : lines) {
      JsonNode node;
      try {
        node = MAPPER.readTree(line);
      } catch (IOException e) {
        throw new AssertionError(file.getFileName() + " has a line that is not JSON: " + line, e);
      }
      assertThat(node).as("%s: %s", file.getFileName(), line).isNotNull();
      assertThat(node.isObject()).as("%s: a JSON object: %s", file.getFileName(), line).isTrue();
      for (String field : List.of("@timestamp", "level", "logger", "message")) {
        assertThat(node.path(field).isTextual()).as("%s: field %s in %s", file.getFileName(), field, line).isTrue();
      }
      nodes.add(node);
    }
    return nodes;
  }

  private static List<String> messages(List<JsonNode> lines) {
    return lines.stream().map(n -> n.get("message").asText()).toList();
  }

  private static Delegate listed(Tether tether, String accountId, String name, List<Tether.Result> runs) {
    Tether.Result list = jsonCli(tether, "delegate", "list", "--account", accountId, "--json").ok();
    runs.add(list);
    return Tether.parse(list.out(), ListDelegatesResponse.getDefaultInstance()).getDelegatesList().stream()
        .filter(d -> d.getName().equals(name)).findFirst().orElseThrow(() -> new AssertionError("no delegate " + name));
  }

  /** {@code tether-manager ARGS --manager 127.0.0.1:ADMIN_PORT --data-dir DIR} with TETHER_LOG_FORMAT=json. */
  private static Tether.Result jsonCli(Tether tether, String... args) {
    List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-jar", Tether.MANAGER_JAR.toString()));
    command.addAll(List.of(args));
    command.addAll(List.of("--manager", "127.0.0.1:" + tether.adminPort(), "--data-dir", tether.dataDir.toString()));
    try {
      Path out = Files.createTempFile("tether-cli", ".out");
      Path err = Files.createTempFile("tether-cli", ".err");
      ProcessBuilder builder = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile());
      builder.environment().put("TETHER_LOG_FORMAT", "json");
      Process process = builder.start();
      process.getOutputStream().close();
      if (!process.waitFor(90, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        throw new AssertionError("CLI did not finish: " + args[0] + " " + args[1]);
      }
      Tether.Result result = new Tether.Result(process.exitValue(), Files.readString(out), Files.readString(err));
      Files.delete(out);
      Files.delete(err);
      return result;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }
}
