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

  /**
   * A run's end is one row (schema 10): a manager killed with SIGKILL shows the delegates it held
   * disconnected at its next start ("manager restarted"), one stopped with SIGTERM shows them
   * disconnected at its stop ("manager stopped"). The delegates are killed while the manager is
   * down, so none comes back and the list shows what the manager recorded.
   */
  @Test
  void delegatesOfAKilledRun_andOfAStoppedRun_showDisconnectedWithTheirRunsEnd() {
    try (Tether tether = new Tether(work.resolve("data"), "RestartEndToEndTest").start()) {
      String account = tether.account("ends-acct");
      String token = tether.token(account, "fleet");
      Proc killed = tether.delegate("held-by-killed-run", tether.env(account, token));
      killed.awaitLine("connected to", Duration.ofSeconds(60));

      tether.manager().kill();
      killed.kill();
      tether.start();

      var killedRun = tether.delegate(account, "held-by-killed-run");
      assertThat(killedRun.getConnected()).isFalse();
      assertThat(killedRun.getDisconnectReason()).isEqualTo("manager restarted");
      Proc stopped = tether.delegate("held-by-stopped-run", tether.env(account, token));
      stopped.awaitLine("connected to", Duration.ofSeconds(60));
      long stopAsked = System.currentTimeMillis();

      tether.stopManager();
      stopped.kill();
      tether.start();

      var atStop = tether.delegate(account, "held-by-stopped-run");
      assertThat(atStop.getConnected()).isFalse();
      assertThat(atStop.getDisconnectReason()).isEqualTo("manager stopped");
      assertThat(atStop.getDisconnectedAtUnixMs()).isBetween(stopAsked, System.currentTimeMillis());
      assertThat(tether.delegate(account, "held-by-killed-run").getDisconnectReason()).isEqualTo("manager restarted");
      assertThat(tether.cli("delegate", "list", "--account", account).ok().out())
          .containsPattern("held-by-killed-run\\s+DISCONNECTED")
          .containsPattern("held-by-stopped-run\\s+DISCONNECTED");
    }
  }
}
