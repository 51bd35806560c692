package dev.tether.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A manager stopped with SIGTERM and started again on the same data directory and port. */
class RestartEndToEndTest {

  @TempDir Path work;

  @Test
  void managerSigterm_closesStreamsCleanlyAndDelegatesComeBackAfterRestart() {
    try (Tether tether = new Tether(work.resolve("data"), "RestartEndToEndTest").start()) {
      String account = tether.account("restart-acct");
      String token = tether.token(account, "keep");
      tether.token(account, "gone");
      tether.cli("token", "revoke", "--account", account, "--name", "gone").ok();
      Proc delegate = tether.delegate("survivor", tether.env(account, token));
      delegate.awaitLine("connected to", Duration.ofSeconds(60));

      tether.stopManager();
      assertThat(tether.manager().stdout()).contains("tether-manager stopped: streams closed, database closed");
      delegate.awaitLine("manager shutting down", Duration.ofSeconds(20));

      tether.start();
      await().atMost(Duration.ofSeconds(90)).until(() -> tether.delegate(account, "survivor").getConnected());
      assertThat(tether.cli("token", "list", "--account", account).ok().out())
          .containsPattern("gone\\s+tid_\\w+\\s+REVOKED")
          .containsPattern("keep\\s+tid_\\w+\\s+ACTIVE");
      assertThat(delegate.alive()).isTrue();
    }
  }
}
