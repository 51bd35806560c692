package dev.tether.manager.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.tether.common.token.DelegateToken;
import dev.tether.delegate.connect.HandshakeException;
import dev.tether.delegate.connect.StreamClient;
import dev.tether.manager.testing.ManagerFixture;
import dev.tether.manager.token.CreatedAccount;
import io.grpc.Status;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RestartTest {

  @TempDir Path dataDir;

  @Test
  void restart_onTheSameFilesKeepsAccountsTokensRevocationsAndDelegates() throws Exception {
    String accountId;
    DelegateToken active;
    DelegateToken revoked;
    try (ManagerFixture first = new ManagerFixture(dataDir)) {
      CreatedAccount account = first.account("acme");
      accountId = account.account().id();
      active = account.defaultToken().value();
      revoked = first.token(accountId, "old").value();
      StreamClient delegate = first.connect(accountId, revoked, "builder");
      first.manager().tokens().revoke(accountId, "old", "alice");
      assertThat(delegate.closed().get(30, TimeUnit.SECONDS).getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
      first.connect(accountId, active, "runner");
    }

    try (ManagerFixture second = new ManagerFixture(dataDir)) {
      assertThat(second.manager().tokens().listAccounts()).singleElement()
          .satisfies(a -> assertThat(a.name()).isEqualTo("acme"));
      List<TokenRecord> tokens = second.manager().tokens().listTokens(accountId);
      assertThat(tokens).extracting(TokenRecord::name).containsExactly("default", "old");
      TokenRecord old = tokens.get(1);
      assertThat(old.status()).isEqualTo(TokenStatus.REVOKED);
      assertThat(old.revokedBy()).isEqualTo("alice");
      assertThat(old.revokedAt()).isNotNull();

      assertThatThrownBy(() -> second.handshake(accountId, revoked, "builder"))
          .isInstanceOfSatisfying(HandshakeException.class,
              e -> assertThat(e.kind()).isEqualTo(HandshakeException.Kind.TOKEN_REJECTED));

      List<DelegateRecord> delegates = second.manager().store().listDelegates(accountId);
      assertThat(delegates).extracting(DelegateRecord::name).containsExactly("builder", "runner");
      assertThat(delegates).allSatisfy(d -> {
        assertThat(d.connected()).isFalse();
        assertThat(d.firstSeen()).isNotNull();
      });
      assertThat(delegates.get(1).disconnectReason()).contains("manager");

      StreamClient back = second.connect(accountId, active, "runner");
      assertThat(back.registered().get().getDelegateId()).isEqualTo(delegates.get(1).id());
      assertThat(second.manager().store().listDelegates(accountId))
          .filteredOn(DelegateRecord::name, "runner").singleElement()
          .satisfies(d -> assertThat(d.connected()).isTrue());
    }
  }

  @Test
  void aStreamThatEndedJustBeforeAStop_keepsItsOwnDisconnectReason() throws Exception {
    // its end waits DelegateTracker.WRITE_DELAY to be written with others; the stop comes sooner
    String accountId;
    try (ManagerFixture first = new ManagerFixture(dataDir)) {
      CreatedAccount account = first.account("acme");
      accountId = account.account().id();
      StreamClient leaving = first.connect(accountId, account.defaultToken().value(), "leaving");
      first.connect(accountId, account.defaultToken().value(), "staying");
      leaving.goodbye("SIGTERM");
      assertThat(leaving.closed().get(30, TimeUnit.SECONDS).getCode()).isEqualTo(Status.Code.OK);
      await().atMost(Duration.ofSeconds(30)).until(() -> first.manager().tracker().size() == 1);
    }

    try (ManagerFixture second = new ManagerFixture(dataDir)) {
      List<DelegateRecord> delegates = second.manager().store().listDelegates(accountId);
      assertThat(delegates).filteredOn(DelegateRecord::name, "leaving").singleElement()
          .satisfies(d -> assertThat(d.disconnectReason()).contains("goodbye"));
      assertThat(delegates).filteredOn(DelegateRecord::name, "staying").singleElement()
          .satisfies(d -> assertThat(d.disconnectReason()).isEqualTo("manager stopped"));
    }
  }

  /**
   * Found by the review of the store layer: every start made a new replica row and nothing ever
   * deleted one, so a manager restarted ten times listed ten replicas and its 2-second sweep walked
   * all of them. A manager alone on its database forgets every earlier run's replica at start.
   */
  @Test
  void aManagerRestartedTenTimes_listsOnlyItself() {
    for (int run = 0; run < 10; run++) {
      try (ManagerFixture manager = new ManagerFixture(dataDir)) {
        assertThat(manager.manager().store().listReplicas()).as("replicas listed during run %d", run + 1)
            .singleElement().satisfies(r -> assertThat(r.id()).isEqualTo(manager.manager().cluster().replicaId()));
      }
    }
  }
}
