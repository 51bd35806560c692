package dev.tether.manager.rotation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.tether.common.testing.TokenLedger;
import dev.tether.common.token.DelegateToken;
import dev.tether.delegate.connect.StreamClient;
import dev.tether.manager.store.Actor;
import dev.tether.manager.testing.LogCapture;
import dev.tether.manager.testing.ManagerFixture;
import dev.tether.proto.delegate.v1.RotateToken;
import dev.tether.proto.delegate.v1.RotationResult;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A delegate stream holder repeating its answer to a rotation thousands of times: each repeat must
 * not cost the manager a database write and a log line of up to 1 KiB (the stream's heartbeats,
 * by contrast, are neither logged nor written one by one).
 */
class RotationResultFloodTest {

  private static final int REPEATS = 2000;

  @TempDir Path dir;

  @Test
  void aRepeatedAnswer_isLoggedOnce() throws Exception {
    try (ManagerFixture fixture = new ManagerFixture(dir); LogCapture log = new LogCapture(RotationService.class)) {
      String accountId = fixture.account("acme").account().id();
      DelegateToken old = fixture.token(accountId, "ci").value();
      StreamClient stream = fixture.connect(accountId, old, "noisy");
      CompletableFuture<RotateToken> pushed = new CompletableFuture<>();
      stream.onRotateToken(pushed::complete);
      TokenLedger.record(fixture.manager().rotations().open(accountId, "ci", null, Duration.ofHours(1), true,
          Actor.named("test")).successor().value());
      String rotationId = pushed.get(30, TimeUnit.SECONDS).getRotationId();

      String reason = "x".repeat(1000);
      for (int i = 0; i < REPEATS; i++) {
        stream.rotationResult(rotationId, RotationResult.Outcome.CANNOT_KEEP, reason);
      }
      // the manager handles a stream's messages in order: the acknowledgement comes after them all
      long sequence = stream.heartbeat();
      await().atMost(Duration.ofSeconds(60)).until(() -> stream.lastAckSequence() >= sequence);

      assertThat(log.warnings().stream().filter(w -> w.contains("cannot keep the successor")).count())
          .as("warnings for one delegate repeating one answer " + REPEATS + " times").isLessThanOrEqualTo(1);
    }
  }
}
