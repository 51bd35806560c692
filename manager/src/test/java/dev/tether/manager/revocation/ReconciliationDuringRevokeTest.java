package dev.tether.manager.revocation;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tether.common.token.DelegateToken;
import dev.tether.delegate.connect.StreamClient;
import dev.tether.manager.server.Manager;
import dev.tether.manager.server.ManagerSettings;
import dev.tether.manager.store.TetherStore;
import dev.tether.manager.testing.ManagerFixture;
import dev.tether.manager.token.RevokeResult;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Another path that cuts a dead token's streams, run between a revoke's commit and its own cut: a
 * reconciliation pass (the safety net that cuts streams of tokens the database says are dead) or
 * this replica's own announcement of the commit. Found by the revocation benchmarks, where one
 * revoke in some hundreds answered "0 streams closed" for a stream such a pass had just closed.
 * Both now leave the token to the revoke, which cuts it and reports the full count.
 */
class ReconciliationDuringRevokeTest {

  @TempDir Path dir;

  /** What runs on the revoking thread right after the commit, given the token's row. */
  private interface Pass {
    void run(Manager manager, long tokenRow);
  }

  @Test
  void aReconciliationPassBetweenCommitAndCut_leavesTheStreamsToTheRevoke_whichCountsThem() throws Exception {
    revokeWithAPassBetweenCommitAndCut((manager, tokenRow) -> manager.cluster().reconcile());
  }

  @Test
  void theReplicasOwnAnnouncementBetweenCommitAndCut_leavesTheStreamsToTheRevoke_whichCountsThem() throws Exception {
    revokeWithAPassBetweenCommitAndCut((manager, tokenRow) -> manager.cluster().revoked(tokenRow));
  }

  private void revokeWithAPassBetweenCommitAndCut(Pass pass) throws Exception {
    AtomicReference<Manager> manager = new AtomicReference<>();
    try (ManagerFixture fixture = new ManagerFixture(dir, ManagerSettings.defaults(),
        real -> passRightAfterTheRevokeCommits(real, manager, pass))) {
      manager.set(fixture.manager());
      String accountId = fixture.account("acme").account().id();
      DelegateToken token = fixture.token(accountId, "ci").value();
      StreamClient stream = fixture.connect(accountId, token, "builder-1");
      stream.registered().get(30, TimeUnit.SECONDS);

      RevokeResult result = fixture.manager().tokens().revoke(accountId, "ci", "test");

      assertThat(result.streamsClosed()).isEqualTo(1);
      assertThat(result.perReplica().values()).containsExactly(1);
      assertThat(stream.closed().get(30, TimeUnit.SECONDS).getDescription()).isEqualTo("delegate token revoked");
    }
  }

  /** Runs {@code pass} on the revoking thread as soon as the revoke has committed, before its cut. */
  private static TetherStore passRightAfterTheRevokeCommits(TetherStore real, AtomicReference<Manager> manager,
      Pass pass) {
    return (TetherStore) Proxy.newProxyInstance(TetherStore.class.getClassLoader(), new Class<?>[] {TetherStore.class},
        (proxy, method, args) -> {
          Object result;
          try {
            result = method.invoke(real, args);
          } catch (InvocationTargetException e) {
            throw e.getCause();
          }
          if (method.getName().equals("revokeToken") && manager.get() != null) {
            pass.run(manager.get(), (Long) args[0]);
          }
          return result;
        });
  }
}
