package dev.tether.manager.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tether.common.testing.TokenLedger;
import dev.tether.common.token.DelegateToken;
import dev.tether.delegate.connect.HandshakeClient;
import dev.tether.delegate.connect.StreamClient;
import dev.tether.manager.store.TokenStatus;
import dev.tether.manager.token.CreatedAccount;
import dev.tether.manager.token.CreatedToken;
import dev.tether.proto.delegate.v1.Register;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Expiry on three replicas sharing an embedded PostgreSQL: a token is created on replica 1, replica
 * 1 goes away, and the delegate connected to replica 2 with that token is still cut at the expiry
 * instant, by replica 2 itself.
 */
class ReplicaExpiryTest {

  @TempDir Path root;

  /**
   * Found by the review of the revocation path: expiry timers were set only where the token was
   * created (and at start-up), and reconciliation ignored the expiry time, so when that replica
   * died the streams of the expired token lived on every other replica until one restarted.
   */
  @Test
  void aTokenCreatedOnAReplicaThatDied_isCutAtItsExpiryByTheReplicaHoldingTheStream() throws Exception {
    try (Replicas replicas = new Replicas(root, 3)) {
      CreatedAccount account = replicas.get(0).manager().tokens().createAccount("acme", "test");
      String accountId = account.account().id();
      TokenLedger.record(account.defaultToken().value());
      // created on replica 1 (index 0) after the others started: they had no timer for it at start
      CreatedToken brief = replicas.get(0).manager().tokens().createToken(accountId, "brief", "test",
          Duration.ofSeconds(15), null);
      DelegateToken token = TokenLedger.record(brief.value());
      Instant expiresAt = brief.record().expiresAt();

      ManagedChannel channel = replicas.channel(1);
      StreamClient stream = StreamClient.open(channel,
          new HandshakeClient(Duration.ofSeconds(10)).handshake(channel, accountId, token, "on-replica-2"),
          Register.newBuilder().setHostname("on-replica-2-host").build());
      stream.registered().get(10, TimeUnit.SECONDS);

      replicas.get(0).close();
      assertThat(Instant.now()).as("replica 1 stopped before the expiry").isBefore(expiresAt);

      Status ended = stream.closed().get(60, TimeUnit.SECONDS);
      Instant cutAt = Instant.now();
      System.out.printf("expiry enforced by the replica holding the stream %d ms after the expiry instant%n",
          Duration.between(expiresAt, cutAt).toMillis());
      assertThat(ended.getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
      assertThat(ended.getDescription()).isEqualTo("delegate token revoked");
      assertThat(cutAt).as("cut at the expiry instant, not before").isAfterOrEqualTo(expiresAt);
      assertThat(replicas.get(1).manager().tokens().token(accountId, "brief").status()).isEqualTo(TokenStatus.EXPIRED);
      channel.shutdownNow();
    }
  }
}
