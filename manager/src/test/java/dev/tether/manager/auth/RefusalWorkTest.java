package dev.tether.manager.auth;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tether.common.testing.TokenLedger;
import dev.tether.common.token.DelegateToken;
import dev.tether.manager.server.ManagerSettings;
import dev.tether.manager.store.TetherStore;
import dev.tether.manager.testing.ManagerFixture;
import dev.tether.manager.testing.RawHandshake;
import dev.tether.manager.token.CreatedAccount;
import io.grpc.Status;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the manager does before it answers Begin must not depend on whether the account or the token
 * exists, or the time to the Challenge tells an attacker which (docs/security.md, timing). The
 * store calls are counted per handshake; the timings themselves are measured by
 * {@code scripts/bench.sh refusal-timing}.
 */
class RefusalWorkTest {

  @TempDir Path dataDir;
  private final List<String> calls = new CopyOnWriteArrayList<>();
  private ManagerFixture fixture;
  private CreatedAccount account;
  private DelegateToken token;

  @BeforeEach
  void start() {
    fixture = new ManagerFixture(dataDir, ManagerSettings.defaults(), this::counting);
    account = fixture.account("acme");
    token = TokenLedger.record(account.defaultToken().value());
  }

  @AfterEach
  void stop() {
    fixture.close();
  }

  private TetherStore counting(TetherStore store) {
    return (TetherStore) Proxy.newProxyInstance(TetherStore.class.getClassLoader(), new Class<?>[] {TetherStore.class},
        (proxy, method, args) -> {
          if (method.getName().startsWith("find") && args != null) {
            calls.add(args[0] + " " + method.getName());
          }
          try {
            return method.invoke(store, args);
          } catch (InvocationTargetException e) {
            throw e.getCause();
          }
        });
  }

  /** The store reads made between Begin and the Challenge, for a Begin naming {@code accountId} and {@code tokenId}. */
  private List<String> readsBeforeTheChallenge(String accountId, String tokenId) throws Exception {
    calls.clear();
    RawHandshake.Stalled stalled = RawHandshake.stallAfterChallenge(fixture.channel(), RawHandshake.begin(accountId, tokenId));
    // (the reads an earlier handshake makes for its log, after it ended, name another account)
    List<String> reads = calls.stream().filter(c -> c.startsWith(accountId + " "))
        .map(c -> c.substring(accountId.length() + 1)).toList();
    stalled.requests().onError(Status.CANCELLED.asRuntimeException());
    stalled.events().poll(5, TimeUnit.SECONDS);
    return reads;
  }

  /**
   * Found by the second security review: Begin to Challenge was about 250 us slower for an existing
   * account and token id than for a miss, which read the account too before answering.
   */
  @Test
  void beginForAnUnknownAccountOrToken_doesTheSameStoreReadsAsForAKnownToken() throws Exception {
    List<String> known = readsBeforeTheChallenge(account.account().id(), token.publicId());
    List<String> unknownToken = readsBeforeTheChallenge(account.account().id(), DelegateToken.generate().publicId());
    List<String> unknownAccount = readsBeforeTheChallenge("no-such-account", DelegateToken.generate().publicId());

    assertThat(known).containsExactly("findTokenByPublicId");
    assertThat(unknownToken).isEqualTo(known);
    assertThat(unknownAccount).isEqualTo(known);
  }

  /**
   * Found by the attacker's review: the account id a client claims in Begin was logged as it came,
   * so one could add a fake token id, delegate name and a second "from" address to a refusal line.
   */
  @Test
  void theAccountIdAClientClaims_isQuotedInTheLog() throws Exception {
    ch.qos.logback.classic.Logger logger =
        (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(HandshakeService.class);
    ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> appender =
        new ch.qos.logback.core.read.ListAppender<>();
    appender.start();
    logger.addAppender(appender);
    try {
      String forged = "a' delegate 'x' from /203.0.113.9:4444 account 'y";
      readsBeforeTheChallenge(forged, DelegateToken.generate().publicId());
      org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(10)).untilAsserted(() ->
          assertThat(appender.list).anySatisfy(e -> {
            String line = e.getFormattedMessage();
            assertThat(line).contains("unknown account");
            // the claimed account id is one quoted token, its quotes escaped: it cannot end early
            assertThat(line).contains("account " + dev.tether.common.text.UserText.quote(forged) + " token ");
          }));
    } finally {
      logger.detachAppender(appender);
    }
  }

  /** The precise reason is still logged, once the handshake has ended: issue 12's silent decoy. */
  @Test
  void aDelegateThatGivesUpAfterADecoy_isLoggedWithThePreciseReason() throws Exception {
    Map<String, Boolean> seen = new ConcurrentHashMap<>();
    ch.qos.logback.classic.Logger logger =
        (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(HandshakeService.class);
    ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> appender =
        new ch.qos.logback.core.read.ListAppender<>();
    appender.start();
    logger.addAppender(appender);
    try {
      readsBeforeTheChallenge("no-such-account", DelegateToken.generate().publicId());
      readsBeforeTheChallenge(account.account().id(), DelegateToken.generate().publicId());
      org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(10)).untilAsserted(() -> {
        for (var e : appender.list) {
          String m = e.getFormattedMessage();
          if (m.contains("unknown account") && m.contains("gave up")) {
            seen.put("account", true);
          }
          if (m.contains("unknown token id") && m.contains("gave up")) {
            seen.put("token", true);
          }
        }
        assertThat(seen).containsKeys("account", "token");
      });
    } finally {
      logger.detachAppender(appender);
    }
  }
}
