package dev.tether.manager.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tether.common.testing.TokenLedger;
import dev.tether.common.token.DelegateToken;
import dev.tether.delegate.connect.EstablishedSession;
import dev.tether.delegate.connect.StreamClient;
import dev.tether.manager.store.StoreClosedException;
import dev.tether.manager.store.TetherStore;
import dev.tether.manager.testing.ManagerFixture;
import dev.tether.proto.delegate.v1.Register;
import io.grpc.Status;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A stop and the registrations it meets. The registration being committed when a manager stops
 * must finish before any stream is closed: a delegate cut by the stop reconnects to another
 * replica, and a row committed here after that replica's would record it as connected to a
 * manager that has ended (it would read as disconnected while it is connected).
 */
class ManagerStopRegistrationTest {

  @TempDir Path dataDir;

  @Test
  void aStop_refusesRegistrationsBeforeItClosesAnyStream() throws Exception {
    AtomicReference<StreamClient> client = new AtomicReference<>();
    AtomicReference<Status> closedBeforeRefusal = new AtomicReference<>();
    AtomicBoolean refused = new AtomicBoolean();
    UnaryOperator<TetherStore> observe = real -> forwarding(real, (method, args) -> {
      if (method.equals("refuseRegistrations") && client.get() != null) {
        refused.set(true);
        try {
          // in process, a stream the stop had closed already is seen closed within milliseconds
          closedBeforeRefusal.set(client.get().closed().get(3, TimeUnit.SECONDS));
        } catch (TimeoutException stillOpen) {
          // as it should be
        }
      }
    });
    try (ManagerFixture fixture = new ManagerFixture(dataDir, ManagerSettings.defaults(), observe)) {
      String accountId = fixture.account("acme").account().id();
      DelegateToken token = TokenLedger.record(fixture.token(accountId, "ci").value());
      client.set(fixture.connect(accountId, token, "builder-1"));
    }

    assertThat(refused).as("the stop refused registrations").isTrue();
    assertThat(closedBeforeRefusal.get()).as("a stream closed before registrations were refused").isNull();
    Status status = client.get().closed().get(30, TimeUnit.SECONDS);
    assertThat(status.getCode()).isEqualTo(Status.Code.UNAVAILABLE);
    assertThat(status.getDescription()).isEqualTo("manager shutting down");
  }

  @Test
  void aRegistrationRefusedByAStop_closesItsStreamAsTheStopDoes() throws Exception {
    AtomicBoolean stopping = new AtomicBoolean();
    UnaryOperator<TetherStore> refuseWhileStopping = real -> (TetherStore) Proxy.newProxyInstance(
        TetherStore.class.getClassLoader(), new Class<?>[] {TetherStore.class}, (proxy, method, args) -> {
          if (method.getName().equals("delegateConnected") && stopping.get()) {
            // what the store's group commit answers once a stop has refused registrations
            return CompletableFuture.failedFuture(new StoreClosedException());
          }
          return invoke(real, method, args);
        });
    try (ManagerFixture fixture = new ManagerFixture(dataDir, ManagerSettings.defaults(), refuseWhileStopping)) {
      String accountId = fixture.account("acme").account().id();
      DelegateToken token = TokenLedger.record(fixture.token(accountId, "ci").value());
      stopping.set(true);

      EstablishedSession session = fixture.handshake(accountId, token, "late");
      StreamClient client = StreamClient.open(fixture.channel(), session,
          Register.newBuilder().setHostname("late-host").setDelegateType("SHELL_SCRIPT")
              .setVersion("test").setIp("127.0.0.1").build());
      Status status = client.closed().get(30, TimeUnit.SECONDS);
      assertThat(status.getCode()).isEqualTo(Status.Code.UNAVAILABLE);
      assertThat(status.getDescription()).as("a stop, not a storage failure").isEqualTo("manager shutting down");
      assertThat(fixture.manager().store().listDelegates(accountId)).as("no record written").isEmpty();
    }
  }

  private interface Before {
    void call(String method, Object[] args) throws Exception;
  }

  private static TetherStore forwarding(TetherStore real, Before before) {
    return (TetherStore) Proxy.newProxyInstance(TetherStore.class.getClassLoader(), new Class<?>[] {TetherStore.class},
        (proxy, method, args) -> {
          before.call(method.getName(), args);
          return invoke(real, method, args);
        });
  }

  private static Object invoke(TetherStore real, java.lang.reflect.Method method, Object[] args) throws Throwable {
    try {
      return method.invoke(real, args);
    } catch (InvocationTargetException e) {
      throw e.getCause();
    }
  }
}
