package dev.tether.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.tether.common.testing.Relay;
import dev.tether.common.testing.TokenLedger;
import dev.tether.manager.tls.TlsMaterial;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The attacks of the second security review that broke the released code, replayed with real
 * processes: the manager and the delegate from their jars, the attacker as a relay or a program of
 * its own. (The offline guesser of imported tokens is in {@code OfflineGuesserEndToEndTest}.)
 */
class AttacksEndToEndTest {

  private static final Duration START = Duration.ofSeconds(90);

  @TempDir Path work;

  /**
   * The relay lets the first connection through untouched (the handshake succeeds end to end),
   * spots the delegate's Prove by its TLS record size, lets Accepted through, resets the connection
   * and terminates TLS with its own certificate from then on. Against the released code the
   * delegate showed "connected" through it, 7 times in 7.
   */
  @Test
  void hijackingRelay_theDelegateRefusesItAndTheManagerAcceptsNothingThroughIt() throws Exception {
    try (Tether tether = new Tether(work.resolve("data"), "AttacksEndToEndTest-relay").start()) {
      String account = tether.account("relay-acct");
      String token = tether.token(account, "victim");
      TlsMaterial own = TlsMaterial.loadOrGenerate(work.resolve("relay-tls"), List.of());
      try (Relay relay = new Relay(Relay.Mode.HIJACK, tether.port(), own.certificate(), own.privateKey())) {
        Map<String, String> env = new HashMap<>(tether.env(account, token));
        env.put("MANAGER_HOST_AND_PORT", "https://127.0.0.1:" + relay.port());
        Proc delegate = tether.delegate("behind-hijacker", env);

        assertThat(delegate.awaitExit(START)).as("exit code; stderr: %s", delegate.stderr()).isEqualTo(1);
        String output = delegate.stderr() + delegate.stdout();
        boolean pinned = output.contains("presented another TLS certificate for the stream");
        System.out.printf("hijacking relay: reset after the handshake: %s; connections %d, terminated %d;"
            + " the delegate refused the session on the relay's connection itself: %s%n",
            relay.hijacked(), relay.connections(), relay.terminatedConnections(), pinned);
        assertThat(relay.hijacked()).as("the relay reset the handshake's connection").isTrue();
        assertThat(relay.terminatedConnections()).as("the delegate came back through the terminating relay").isPositive();
        assertThat(output).contains("refusing manager").doesNotContain("connected to");
      }
      assertThat(tether.delegates(account).getDelegatesList()).as("delegates the manager registered").isEmpty();
      assertThat(tether.manager().stdout() + tether.manager().stderr()).doesNotContain("delegate connected:");
      tether.stopManager();
      scanForTokens(tether);
    }
  }

  /**
   * One address opens handshakes with only Begin on many connections, cancels them just before the
   * deadline and reopens them at once. Against the released code it held every one of the 512
   * slots and the real delegate did not connect in 40 s. Here the manager allows 100 handshakes in
   * progress and 32 per address: the attacker holds its 32, the delegate from another address
   * gets in.
   */
  @Test
  void starvingClient_holdingHandshakesFromOneAddress_doesNotKeepTheDelegateOut() throws Exception {
    try (Tether tether = new Tether(work.resolve("data"), "AttacksEndToEndTest-starving",
        "--max-handshakes-in-progress", "100", "--max-handshakes-per-address", "32").start()) {
      String account = tether.account("starve-acct");
      String token = tether.token(account, "fleet");
      List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
          "-cp", System.getProperty("java.class.path"), StarvingClient.class.getName(), String.valueOf(tether.port()),
          tether.dataDir.resolve("tls/manager.crt").toString(), "127.0.0.2", "40", "4"));
      try (Proc starver = Proc.start("starving-client", tether.logDir, Map.of(), command)) {
        starver.awaitLine("held=(3[0-2])", START);

        Proc delegate = tether.delegate("next-to-the-starver", tether.env(account, token));
        delegate.awaitLine("connected to", START);

        List<String> stats = starver.stdout().lines().filter(l -> l.startsWith("held=")).toList();
        String last = stats.get(stats.size() - 1);
        System.out.println("starving client from 127.0.0.2, 40 connections x 4 handshakes: " + last);
        assertThat(last).contains("too many handshakes in progress from this address");
        assertThat(tether.delegate(account, "next-to-the-starver").getConnected()).isTrue();
      }
      tether.stopManager();
      scanForTokens(tether);
    }
  }

  private static void scanForTokens(Tether tether) throws Exception {
    List<String> leaks = new ArrayList<>();
    for (Path file : tether.capturedOutputs()) {
      String text = Files.exists(file) ? Files.readString(file, StandardCharsets.ISO_8859_1) : "";
      leaks.addAll(TokenLedger.leaksIn(text));
    }
    assertThat(leaks).as("token values in process outputs").isEmpty();
  }
}
