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
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A reconciliation pass (the safety net that cuts streams of tokens the database says are dead)
 * that runs between a revoke's commit and its cut: found by the revocation benchmark, where one
 * revoke in some hundreds answered "0 streams closed" for a stream the pass had just closed. The
 * pass now leaves the token to the revoke, which cuts it and reports the full count.
 */
class ReconciliationDuringRevokeTest {

  @TempDir Path dir;

  @Test
  void aReconciliationPassBetweenCommitAndCut_leavesTheStreamsToTheRevoke_whichCountsThem() throws Exception {
    AtomicReference<Manager> manager = new AtomicReference<>();
    AtomicInteger cutByThePass = new AtomicInteger(-1);
    try (ManagerFixture fixture = new ManagerFixture(dir, ManagerSettings.defaults(),
        real -> reconcileRightAfterTheRevokeCommits(real, manager, cutByThePass))) {
      manager.set(fixture.manager());
      String accountId = fixture.account("acme").account().id();
      DelegateToken token = fixture.token(accountId, "ci").value();
      StreamClient stream = fixture.connect(accountId, token, "builder-1");
      stream.registered().get(30, TimeUnit.SECONDS);

      RevokeResult result = fixture.manager().tokens().revoke(accountId, "ci", "test");

      assertThat(cutByThePass).as("streams the reconciliation pass in the window cut").hasValue(0);
      assertThat(result.streamsClosed()).isEqualTo(1);
      assertThat(result.perReplica().values()).containsExactly(1);
      assertThat(stream.closed().get(30, TimeUnit.SECONDS).getDescription()).isEqualTo("delegate token revoked");
    }
  }

  /** Runs a reconciliation pass on the revoking thread as soon as the revoke has committed, before its cut. */
  private static TetherStore reconcileRightAfterTheRevokeCommits(TetherStore real, AtomicReference<Manager> manager,
      AtomicInteger cutByThePass) {
    return (TetherStore) Proxy.newProxyInstance(TetherStore.class.getClassLoader(), new Class<?>[] {TetherStore.class},
        (proxy, method, args) -> {
          Object result;
          try {
            result = method.invoke(real, args);
          } catch (InvocationTargetException e) {
            throw e.getCause();
          }
          if (method.getName().equals("revokeToken") && manager.get() != null) {
            cutByThePass.set(manager.get().cluster().reconcile());
          }
          return result;
        });
  }
}
