package dev.tether.manager.revocation;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tether.common.handshake.WireText;
import dev.tether.common.testing.TokenLedger;
import dev.tether.common.token.DelegateToken;
import dev.tether.delegate.agent.DelegateAgent;
import dev.tether.delegate.agent.Outcome;
import dev.tether.delegate.config.DelegateConfig;
import dev.tether.delegate.config.ManagerEndpoint;
import dev.tether.delegate.config.TokenSource;
import dev.tether.delegate.connect.StreamClient;
import dev.tether.manager.testing.ManagerFixture;
import dev.tether.manager.token.CreatedToken;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Tether issue 13: a delegate whose token expired said it was revoked. The manager now closes the
 * streams of an ended token with the trailer {@code tether-token-state} ({@code revoked} or
 * {@code expired}); the status description stays {@code delegate token revoked}. The real agent,
 * against the real manager, says which in its exit line; and it tells a newcomer with a wrong
 * account id to check the account id and the token first.
 */
class TokenStateTrailerTest {

  @TempDir Path dataDir;
  private ManagerFixture fixture;
  private Server agentServer;
  private final String agentServerName = "tether-agent-" + System.nanoTime();
  private String accountId;

  @BeforeEach
  void start() throws Exception {
    fixture = new ManagerFixture(dataDir);
    accountId = fixture.account("acme").account().id();
    agentServer = fixture.manager().addServicesTo(InProcessServerBuilder.forName(agentServerName)).build().start();
  }

  @AfterEach
  void stop() throws Exception {
    agentServer.shutdownNow();
    agentServer.awaitTermination(10, TimeUnit.SECONDS);
    fixture.close();
  }

  /** The real delegate agent on an in-process channel to the fixture's manager. */
  private DelegateAgent agent(String account, DelegateToken token) {
    DelegateConfig config = new DelegateConfig(account, new TokenSource.Fixed("DELEGATE_TOKEN", token),
        List.of(new ManagerEndpoint("in-process", 7443, false)), "builder-1", "SHELL_SCRIPT", List.of(), null, null,
        List.of());
    // a channel of its own each time: the agent shuts its channels down when it ends
    return new DelegateAgent(config, "test", e -> InProcessChannelBuilder.forName(agentServerName).build());
  }

  private static CompletableFuture<Outcome> run(DelegateAgent agent) {
    return CompletableFuture.supplyAsync(agent::run);
  }

  private String fixedTokenEnd(String publicId, String how) {
    return "delegate token " + publicId + " " + how + "; no token file to wait on (DELEGATE_TOKEN is fixed): give the"
        + " delegate a new token and restart it";
  }

  @Test
  void revokedToken_streamCarriesRevoked_andTheDelegateSaysRevoked() throws Exception {
    CreatedToken doomed = fixture.token(accountId, "doomed");
    StreamClient stream = fixture.connect(accountId, doomed.value(), "plain-client");
    CompletableFuture<Outcome> agent = run(agent(accountId, doomed.value()));
    awaitStreams(2);

    fixture.manager().tokens().revoke(accountId, "doomed", "test");

    Status status = stream.closed().get(10, TimeUnit.SECONDS);
    assertThat(status.getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
    assertThat(status.getDescription()).isEqualTo(WireText.TOKEN_REVOKED);
    assertThat(stream.tokenState()).contains(WireText.TOKEN_STATE_REVOKED);
    assertThat(agent.get(20, TimeUnit.SECONDS))
        .isEqualTo(new Outcome(Outcome.TOKEN_REFUSED, fixedTokenEnd(doomed.record().publicId(), "was revoked")));

    // started again with the revoked token: refused at the handshake, which does not say which
    Outcome again = run(agent(accountId, doomed.value())).get(20, TimeUnit.SECONDS);
    assertThat(again).isEqualTo(new Outcome(Outcome.TOKEN_REFUSED, "the manager rejected token "
        + doomed.record().publicId() + ", which it knows: the token was revoked or has expired ('tether-manager"
        + " token list --account " + accountId + "' shows which); no token file to wait on (DELEGATE_TOKEN is"
        + " fixed): give the delegate a new token and restart it"));
  }

  @Test
  void expiredToken_streamCarriesExpired_andTheDelegateSaysExpired() throws Exception {
    // long enough for a client and an agent to connect on a loaded machine before it expires
    CreatedToken brief = fixture.manager().tokens().createToken(accountId, "brief", "test", Duration.ofSeconds(15),
        null);
    DelegateToken token = TokenLedger.record(brief.value());
    StreamClient stream = fixture.connect(accountId, token, "plain-client");
    CompletableFuture<Outcome> agent = run(agent(accountId, token));
    awaitStreams(2);

    Status status = stream.closed().get(60, TimeUnit.SECONDS);

    assertThat(status.getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
    assertThat(status.getDescription()).isEqualTo(WireText.TOKEN_REVOKED);
    assertThat(stream.tokenState()).contains(WireText.TOKEN_STATE_EXPIRED);
    assertThat(agent.get(30, TimeUnit.SECONDS))
        .isEqualTo(new Outcome(Outcome.TOKEN_REFUSED, fixedTokenEnd(brief.record().publicId(), "expired")));
  }

  @Test
  void accountNameInsteadOfItsId_suggestsCheckingTheAccountIdAndTokenFirst() throws Exception {
    DelegateToken token = fixture.token(accountId, "ci").value();

    Outcome outcome = run(agent("acme", token)).get(30, TimeUnit.SECONDS);

    assertThat(outcome.exitCode()).isEqualTo(Outcome.FATAL);
    assertThat(outcome.message())
        .contains("could not prove that it knows token " + token.credential("acme").publicId())
        .contains("Check, most likely first: (1) that ACCOUNT_ID is the id of the account the token belongs to")
        .contains("'acme' does not look like an account id Tether generates")
        .doesNotContain(token.reveal());
    assertThat(outcome.message().indexOf("(1) that ACCOUNT_ID"))
        .isLessThan(outcome.message().indexOf("man in the middle"));
  }

  private void awaitStreams(int count) {
    org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(20))
        .until(() -> fixture.manager().registry().liveCount() == count);
  }
}
