package dev.tether.manager.rotation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.tether.common.testing.TokenLedger;
import dev.tether.common.token.DelegateToken;
import dev.tether.delegate.agent.DelegateAgent;
import dev.tether.delegate.agent.Outcome;
import dev.tether.delegate.config.DelegateConfig;
import dev.tether.delegate.config.ManagerEndpoint;
import dev.tether.delegate.config.TokenSource;
import dev.tether.manager.store.Actor;
import dev.tether.manager.store.Rotation;
import dev.tether.manager.testing.ManagerFixture;
import io.grpc.Server;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An operator revokes the successor while its rotation is open (it was made by mistake, or leaked).
 * The manager must not go on handing a dead token to delegates: each would overwrite the good token
 * in its file with it, fail to connect with it, and carry on with the old token only in memory, so
 * that its next restart finds nothing usable.
 */
class RevokedSuccessorTest {

  @TempDir Path dir;

  @Test
  void aRevokedSuccessorIsNotHandedOut_theDelegatesTokenFileKeepsTheOldToken() throws Exception {
    String agentServerName = "tether-agent-" + System.nanoTime();
    try (ManagerFixture fixture = new ManagerFixture(dir.resolve("manager"))) {
      Server agentServer = fixture.manager().addServicesTo(InProcessServerBuilder.forName(agentServerName)).build()
          .start();
      try {
        String accountId = fixture.account("acme").account().id();
        DelegateToken old = fixture.token(accountId, "ci").value();
        RotationService rotations = fixture.manager().rotations();
        RotationService.Opened opened = rotations.open(accountId, "ci", null, Duration.ofHours(1), true,
            Actor.named("test"));
        TokenLedger.record(opened.successor().value());
        fixture.manager().tokens().revoke(accountId, opened.successor().record().name(), "test");

        Path file = Files.createFile(dir.resolve("delegate.token"),
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(file, old.reveal() + "\n");
        DelegateConfig config = new DelegateConfig(accountId, new TokenSource.File("DELEGATE_TOKEN_FILE", file),
            List.of(new ManagerEndpoint("in-process", 7443, false)), "file-1", "SHELL_SCRIPT", List.of(), null, null,
            List.of());
        DelegateAgent agent = new DelegateAgent(config, "test",
            e -> InProcessChannelBuilder.forName(agentServerName).build());
        CompletableFuture<Outcome> run = CompletableFuture.supplyAsync(agent::run);
        try {
          // settled: the delegate is connected with the old token, and the rotation either ended or
          // the delegate has answered it
          await().atMost(Duration.ofSeconds(60)).until(() -> {
            RotationService.Report report = rotations.report(accountId, "ci");
            boolean onOld = fixture.manager().store().listDelegates(accountId).stream()
                .anyMatch(d -> d.connected() && d.tokenPublicId().equals(old.publicId()));
            return onOld && (report.rotation().state() != Rotation.State.OPEN || report.count("FAILED") == 1);
          });
          // compared as a yes/no: a token value never goes into test output
          String kept = Files.readString(file).strip();
          assertThat(kept.equals(old.reveal()))
              .as("the token file holds the old token (not the revoked successor %s)",
                  kept.equals(opened.successor().value().reveal()) ? "it holds now" : "")
              .isTrue();
          assertThat(rotations.report(accountId, "ci").rotation().state())
              .as("a rotation whose successor is revoked cannot finish; it ends, leaving the old token active")
              .isEqualTo(Rotation.State.CANCELLED);
        } finally {
          agent.stop();
          assertThat(run.get(30, TimeUnit.SECONDS).exitCode()).isEqualTo(Outcome.STOPPED);
        }
      } finally {
        agentServer.shutdownNow();
        agentServer.awaitTermination(10, TimeUnit.SECONDS);
      }
    }
  }
}
