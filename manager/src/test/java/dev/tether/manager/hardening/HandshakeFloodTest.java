package dev.tether.manager.hardening;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.tether.common.testing.TokenLedger;
import dev.tether.common.token.DelegateToken;
import dev.tether.delegate.connect.HandshakeClient;
import dev.tether.delegate.connect.HandshakeException;
import dev.tether.delegate.connect.StreamClient;
import dev.tether.manager.auth.HandshakeLimiter;
import dev.tether.manager.server.ManagerSettings;
import dev.tether.manager.testing.RawHandshake;
import dev.tether.manager.token.CreatedAccount;
import dev.tether.proto.delegate.v1.Register;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Attackers on their own loopback addresses flood or starve the handshake of a real manager while
 * delegates from other addresses hold their streams and connect: the attackers are throttled, the
 * delegates never notice, and a correct proof is never refused because of someone else's failures.
 */
class HandshakeFloodTest {

  @TempDir Path dataDir;

  private static HandshakeLimiter.Settings unlimited() {
    return HandshakeLimiter.Settings.defaults().withMaxConcurrentPerAddress(100_000)
        .withMaxConcurrentPerConnection(100_000).withFailuresPerAddress(1e9, 1e9);
  }

  @Test
  void failedHandshakeFlood_isThrottledWhileConnectedDelegatesKeepHeartbeating() throws Exception {
    HandshakeLimiter.Settings limits = HandshakeLimiter.Settings.defaults().withFailuresPerAddress(20, 1.0);
    ch.qos.logback.classic.Logger handshakeLog =
        (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(dev.tether.manager.auth.HandshakeService.class);
    ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> lines =
        new ch.qos.logback.core.read.ListAppender<>();
    lines.start();
    handshakeLog.addAppender(lines);
    try (NettyManager manager = new NettyManager(dataDir, ManagerSettings.defaults().withLimits(limits))) {
      CreatedAccount account = manager.server.manager().tokens().createAccount("acme", "test");
      String accountId = account.account().id();
      DelegateToken token = TokenLedger.record(account.defaultToken().value());
      ManagedChannel legit = manager.channelFrom("127.0.0.1");
      ManagedChannel attacker = manager.channelFrom("127.0.0.2");
      HandshakeClient handshakes = new HandshakeClient(Duration.ofSeconds(10));
      List<StreamClient> delegates = new ArrayList<>();
      for (int i = 0; i < 20; i++) {
        StreamClient c = StreamClient.open(legit, handshakes.handshake(legit, accountId, token, "d" + i),
            Register.newBuilder().setHostname("h" + i).build());
        c.registered().get(10, TimeUnit.SECONDS);
        delegates.add(c);
      }

      int attempts = 400;
      Map<Status.Code, AtomicInteger> outcomes = new ConcurrentHashMap<>();
      ExecutorService pool = Executors.newFixedThreadPool(4);
      long started = System.nanoTime();
      List<Future<?>> flood = new ArrayList<>();
      DelegateToken wrong = TokenLedger.record(DelegateToken.generate());
      for (int i = 0; i < attempts; i++) {
        flood.add(pool.submit(() -> {
          RawHandshake.Exchange e = RawHandshake.run(attacker, RawHandshake.begin(accountId, token.publicId()), wrong, false);
          assertThat(e.accepted).isFalse();
          outcomes.computeIfAbsent(e.status.getCode(), k -> new AtomicInteger()).incrementAndGet();
          return null;
        }));
      }
      // the delegates heartbeat throughout the flood, and every heartbeat is acknowledged
      long rounds = 0;
      while (flood.stream().anyMatch(f -> !f.isDone())) {
        for (StreamClient c : delegates) {
          long seq = c.heartbeat();
          await().atMost(Duration.ofSeconds(30)).until(() -> c.lastAckSequence() >= seq);
        }
        rounds++;
      }
      for (Future<?> f : flood) {
        f.get();
      }
      double seconds = (System.nanoTime() - started) / 1e9;
      pool.shutdown();
      System.out.printf("flood: %d failed handshakes from one address in %.2f s (%.0f/s); outcomes %s;"
          + " %d heartbeat rounds of 20 delegates, all acknowledged%n", attempts, seconds, attempts / seconds, outcomes, rounds);

      assertThat(rounds).isPositive();
      assertThat(delegates).allSatisfy(c -> assertThat(c.closed()).isNotDone());
      // refused by a limit: RESOURCE_EXHAUSTED, or UNAVAILABLE once the flood's connection is closed with
      // GOAWAY (each refusal makes gRPC's client reset its stream; more than 200 resets in 10 s close it)
      int refusedByLimit = outcomes.getOrDefault(Status.Code.RESOURCE_EXHAUSTED, new AtomicInteger()).get()
          + outcomes.getOrDefault(Status.Code.UNAVAILABLE, new AtomicInteger()).get();
      int judged = outcomes.getOrDefault(Status.Code.UNAUTHENTICATED, new AtomicInteger()).get();
      // the burst, the refill, and up to one connection's worth of handshakes (4) that passed the
      // bucket check while earlier ones were still being judged
      assertThat(judged).as("attempts whose proof was actually checked").isLessThanOrEqualTo(20 + (int) seconds + 2 + 4);
      assertThat(refusedByLimit + judged).isEqualTo(attempts);
      // one line per source and reason at once (the rest are counted and reported once a minute)
      List<String> warnings = lines.list.stream().filter(e -> e.getLevel() == ch.qos.logback.classic.Level.WARN)
          .map(ch.qos.logback.classic.spi.ILoggingEvent::getFormattedMessage).toList();
      System.out.println("flood log lines: " + warnings);
      assertThat(warnings).as("WARN lines for %d refused handshakes", attempts).hasSizeLessThanOrEqualTo(3);

      // the token's holders get in, from the address they use and from a new one: the flood of
      // wrong proofs for their (public) token id cost them nothing
      assertThat(handshakes.handshake(legit, accountId, token, "d-new").tokenPublicId()).isEqualTo(token.publicId());
      ManagedChannel stranger = manager.channelFrom("127.0.0.3");
      assertThat(handshakes.handshake(stranger, accountId, token, "d-elsewhere").tokenPublicId())
          .isEqualTo(token.publicId());
      delegates.forEach(StreamClient::close);
      for (ManagedChannel c : List.of(legit, attacker, stranger)) {
        c.shutdownNow();
      }
    } finally {
      handshakeLog.detachAppender(lines);
    }
  }

  /**
   * Found by the second security review: wrong proofs for a known account and token id, sent from
   * several addresses, emptied the token's bucket, and the token's holders were refused from every
   * address they had not used before, for as long as the attacker kept polling.
   */
  @Test
  void wrongProofsForAPublicTokenId_neverLockOutTheTokensHolders() throws Exception {
    try (NettyManager manager = new NettyManager(dataDir, ManagerSettings.defaults())) {
      CreatedAccount account = manager.server.manager().tokens().createAccount("acme", "test");
      String accountId = account.account().id();
      DelegateToken token = TokenLedger.record(account.defaultToken().value());
      DelegateToken wrong = TokenLedger.record(DelegateToken.generate());
      HandshakeClient handshakes = new HandshakeClient(Duration.ofSeconds(10));
      List<ManagedChannel> channels = new ArrayList<>();
      for (int round = 0; round < 5; round++) {
        for (int a = 0; a < 4; a++) {
          ManagedChannel attacker = manager.channelFrom("127.0.2." + (1 + a));
          channels.add(attacker);
          for (int i = 0; i < 6; i++) {
            assertThat(RawHandshake.run(attacker, RawHandshake.begin(accountId, token.publicId()), wrong, false)
                .status.getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
          }
        }
        ManagedChannel holder = manager.channelFrom("127.0.3." + (1 + round));
        channels.add(holder);
        assertThat(handshakes.handshake(holder, accountId, token, "holder-" + round).tokenPublicId())
            .as("the token's holder from an address it never used, after %d wrong proofs", 24 * (round + 1))
            .isEqualTo(token.publicId());
      }
      channels.forEach(ManagedChannel::shutdownNow);
    }
  }

  /**
   * Found by the second security review: a handshake the client cancelled counted against nothing,
   * so one address could hold handshakes until just before their deadline, cancel and reopen them,
   * for ever. Now every handshake an address abandons costs it a token of its failure bucket.
   */
  @Test
  void cancelledAndAbandonedHandshakes_countAgainstTheAddress() throws Exception {
    HandshakeLimiter.Settings limits = unlimited().withFailuresPerAddress(5, 0.001);
    try (NettyManager manager = new NettyManager(dataDir, ManagerSettings.defaults().withLimits(limits))) {
      CreatedAccount account = manager.server.manager().tokens().createAccount("acme", "test");
      String accountId = account.account().id();
      DelegateToken token = TokenLedger.record(account.defaultToken().value());
      ManagedChannel canceller = manager.channelFrom("127.0.0.5");
      for (int i = 0; i < 5; i++) {
        RawHandshake.Stalled stalled = RawHandshake.stallAfterChallenge(canceller, RawHandshake.begin(accountId, token.publicId()));
        stalled.requests().onError(Status.CANCELLED.asRuntimeException());
      }
      // a correct handshake from that address, once the cancellations are counted, is refused before
      // any work (the probe itself never fails: it succeeds or is refused by the limiter, which counts nothing)
      ManagedChannel probe = manager.channelFrom("127.0.0.5");
      HandshakeClient handshakes = new HandshakeClient(Duration.ofSeconds(5));
      await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
        HandshakeException refused = org.junit.jupiter.api.Assertions.assertThrows(HandshakeException.class,
            () -> handshakes.handshake(probe, accountId, token, "probe"));
        assertThat(refused.getMessage()).contains("too many failed handshakes from this address");
      });
      probe.shutdownNow();
      ManagedChannel other = manager.channelFrom("127.0.0.6");
      assertThat(new HandshakeClient(Duration.ofSeconds(5)).handshake(other, accountId, token, "other").tokenPublicId())
          .isEqualTo(token.publicId());
      canceller.shutdownNow();
      other.shutdownNow();
    }
  }

  /**
   * Found by the second security review: one connection opened 515 handshakes with only Begin,
   * filled the global cap of 512 and kept it full; legitimate handshakes from other addresses were
   * refused. Now one address holds at most its share, and a delegate elsewhere gets in.
   */
  @Test
  void oneAddressHoldingHandshakes_doesNotKeepADelegateFromAnotherAddressOut() throws Exception {
    HandshakeLimiter.Settings limits = HandshakeLimiter.Settings.defaults().withMaxConcurrent(40)
        .withMaxConcurrentPerAddress(16).withMaxConcurrentPerConnection(4);
    try (NettyManager manager = new NettyManager(dataDir, ManagerSettings.defaults().withLimits(limits))) {
      CreatedAccount account = manager.server.manager().tokens().createAccount("acme", "test");
      String accountId = account.account().id();
      DelegateToken token = TokenLedger.record(account.defaultToken().value());
      Map<String, AtomicInteger> refusals = new ConcurrentHashMap<>();
      List<RawHandshake.Stalled> held = new ArrayList<>();
      List<ManagedChannel> attackerChannels = new ArrayList<>();
      for (int c = 0; c < 12; c++) {
        ManagedChannel connection = manager.channelFrom("127.0.0.9");
        attackerChannels.add(connection);
        for (int i = 0; i < 5; i++) {
          try {
            held.add(RawHandshake.stallAfterChallenge(connection, RawHandshake.begin(accountId, token.publicId())));
          } catch (RawHandshake.Refused e) {
            refusals.computeIfAbsent(e.status.getDescription(), k -> new AtomicInteger()).incrementAndGet();
          }
        }
      }
      System.out.printf("one address tried 60 handshakes on 12 connections: %d held, refusals %s%n", held.size(), refusals);
      assertThat(held).hasSize(16);
      // the first four connections hold four each and are refused a fifth; every later one is refused by the address cap
      assertThat(refusals.get("too many handshakes in progress on this connection; retry later")).hasValue(4);
      assertThat(refusals.get("too many handshakes in progress from this address; retry later")).hasValue(40);

      ManagedChannel delegate = manager.channelFrom("127.0.0.10");
      assertThat(new HandshakeClient(Duration.ofSeconds(5)).handshake(delegate, accountId, token, "elsewhere")
          .tokenPublicId()).isEqualTo(token.publicId());
      delegate.shutdownNow();
      attackerChannels.forEach(ManagedChannel::shutdownNow);
    }
  }

  @Test
  void handshakesInProgress_areCappedAndTheSlotsFreeAtTheDeadline() throws Exception {
    HandshakeLimiter.Settings limits = unlimited().withMaxConcurrent(5);
    ManagerSettings settings = ManagerSettings.defaults().withLimits(limits).withHandshakeTimeout(Duration.ofSeconds(5));
    try (NettyManager manager = new NettyManager(dataDir, settings)) {
      CreatedAccount account = manager.server.manager().tokens().createAccount("acme", "test");
      DelegateToken token = TokenLedger.record(account.defaultToken().value());
      ManagedChannel channel = manager.channelFrom("127.0.0.1");
      List<java.util.concurrent.BlockingQueue<Object>> stalled = new ArrayList<>();
      for (int i = 0; i < 5; i++) {
        stalled.add(RawHandshake.stallAfterChallenge(channel, RawHandshake.begin(account.account().id(), token.publicId())).events());
      }

      RawHandshake.Exchange sixth = RawHandshake.run(channel, RawHandshake.begin(account.account().id(), token.publicId()), token, false);
      assertThat(sixth.status.getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
      assertThat(sixth.status.getDescription()).isEqualTo("too many handshakes in progress; retry later");

      for (var events : stalled) {
        Object end = events.poll(30, TimeUnit.SECONDS);
        assertThat(end).isInstanceOf(Status.class);
        assertThat(((Status) end).getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED);
      }
      await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(
          new HandshakeClient(Duration.ofSeconds(10)).handshake(channel, account.account().id(), token, "after")
              .tokenPublicId()).isEqualTo(token.publicId()));
      channel.shutdownNow();
    }
  }
}
