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

  /**
   * Also a run's end as one row (schema 10), through {@code delegate list}: a delegate killed while
   * the manager was stopped shows disconnected at the stop ("manager stopped"); after a SIGKILL of
   * the manager, the next start shows the delegates of the killed run disconnected ("manager
   * restarted"). Those delegates are killed while the manager is down, so none comes back and the
   * list shows what the manager recorded.
   */
  @Test
  void managerSigterm_closesStreamsCleanlyAndDelegatesComeBackAfterRestart() {
    try (Tether tether = new Tether(work.resolve("data"), "RestartEndToEndTest").start()) {
      String account = tether.account("restart-acct");
      String token = tether.token(account, "keep");
      tether.token(account, "gone");
      tether.cli("token", "revoke", "--account", account, "--name", "gone").ok();
      Proc delegate = tether.delegate("survivor", tether.env(account, token));
      Proc leftBehind = tether.delegate("left-behind", tether.env(account, token));
      delegate.awaitLine("connected to", Duration.ofSeconds(60));
      leftBehind.awaitLine("connected to", Duration.ofSeconds(60));
      long stopAsked = System.currentTimeMillis();

      tether.stopManager();
      assertThat(tether.manager().stdout()).contains("tether-manager stopped: streams closed, database closed");
      delegate.awaitLine("manager shutting down", Duration.ofSeconds(20));
      leftBehind.kill();

      tether.start();
      await().atMost(Duration.ofSeconds(90)).until(() -> tether.delegate(account, "survivor").getConnected());
      assertThat(tether.cli("token", "list", "--account", account).ok().out())
          .containsPattern("gone\\s+tid_\\w+\\s+REVOKED")
          .containsPattern("keep\\s+tid_\\w+\\s+ACTIVE");
      assertThat(delegate.alive()).isTrue();
      var atStop = tether.delegate(account, "left-behind");
      assertThat(atStop.getConnected()).isFalse();
      assertThat(atStop.getDisconnectReason()).isEqualTo("manager stopped");
      assertThat(atStop.getDisconnectedAtUnixMs()).isBetween(stopAsked, System.currentTimeMillis());
      assertThat(tether.cli("delegate", "list", "--account", account).ok().out())
          .containsPattern("left-behind\\s+DISCONNECTED")
          .containsPattern("survivor\\s+CONNECTED");

      tether.manager().kill();
      delegate.kill();
      tether.start();

      var killedRun = tether.delegate(account, "survivor");
      assertThat(killedRun.getConnected()).isFalse();
      assertThat(killedRun.getDisconnectReason()).isEqualTo("manager restarted");
      assertThat(tether.delegate(account, "left-behind").getDisconnectReason()).isEqualTo("manager stopped");
    }
  }
}
