package dev.tether.manager.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tether.common.testing.TokenLedger;
import dev.tether.manager.server.ManagerServer;
import dev.tether.manager.server.ManagerSettings;
import dev.tether.manager.store.DelegateRecord;
import dev.tether.manager.token.CreatedAccount;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Tether issue 11, finding 1: {@code delegate list} run against a real manager shows a delegate's
 * text escaped, never raw, so a name cannot reverse, split or fake the table's columns. The
 * records are written straight into the store, as a database from before the Register rules
 * existed may still hold them.
 */
class DelegateListTest {

  @TempDir Path dataDir;

  @Test
  void delegateList_showsFormatAndSeparatorCharactersEscaped() throws Exception {
    try (ManagerServer server = ManagerServer.start(new ManagerServer.Options(new InetSocketAddress("127.0.0.1", 0),
        new InetSocketAddress("127.0.0.1", 0), dataDir, null, null, null, false, null, null, List.of(), ManagerSettings.defaults()))) {
      CreatedAccount account = server.manager().tokens().createAccount("acme", "test");
      TokenLedger.record(account.defaultToken().value());
      String accountId = account.account().id();
      String tokenId = account.defaultToken().value().publicId();
      Instant now = Instant.now();
      server.manager().store().delegateConnected(new DelegateRecord(null, accountId, "invoice\u202Efdp.exe",
          "host\u2028builder-9  CONNECTED  default", "SHELL\u200BSCRIPT", "1.0", List.of("a"), "10.0.0.1", tokenId,
          "default", true, now, now, now, null, null, "r1")).join();
      server.manager().store().delegateConnected(new DelegateRecord(null, accountId, "builder-1", "builder-host",
          "KUBERNETES", "1.0", List.of(), "10.0.0.2", tokenId, "default", true, now, now, now, null, null, "r1")).join();

      String out = run("delegate", "list", "--account", accountId,
          "--manager", "127.0.0.1:" + server.adminAddress().getPort(), "--data-dir", dataDir.toString());

      assertThat(out).doesNotContain("\u202E", "\u2028", "\u200B");
      List<String> lines = out.lines().toList();
      assertThat(lines).hasSize(3);
      assertThat(lines).anySatisfy(line -> assertThat(line)
          .startsWith("'invoice\\u202Efdp.exe'  CONNECTED")
          .contains("  'host\\u2028builder-9  CONNECTED  default'  'SHELL\\u200BSCRIPT'  1.0  "));
      assertThat(lines).anySatisfy(line -> assertThat(line).startsWith("builder-1 ").contains(" builder-host "));
    }
  }

  private static String run(String... args) {
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    PrintStream original = System.out;
    System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
    try {
      assertThat(TetherManagerCli.run(args)).isZero();
    } finally {
      System.setOut(original);
    }
    return captured.toString(StandardCharsets.UTF_8);
  }
}
