package dev.tether.manager.auth;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.common.base.Ticker;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** Sessions waiting for their stream: capped per token, expired when unused, one stream each. */
class SessionRegistryTest {

  private final AtomicLong nanos = new AtomicLong();
  private final Ticker ticker = new Ticker() {
    @Override
    public long read() {
      return nanos.get();
    }
  };
  private final SessionRegistry sessions = new SessionRegistry(ticker, Duration.ofSeconds(60), 3);

  private static DelegateIdentity identity(long tokenId) {
    return new DelegateIdentity("acct", tokenId, "tid_aaaaaaaaaaaaaaaa", "default", "d");
  }

  @Test
  void sessionsWaitingForTheirStream_areCappedPerTokenAndAClaimFreesASlot() {
    Session first = sessions.create(new byte[32], identity(1), "c1");
    assertThat(sessions.create(new byte[32], identity(1), "c2")).isNotNull();
    assertThat(sessions.create(new byte[32], identity(1), "c3")).isNotNull();
    assertThat(sessions.create(new byte[32], identity(1), "c4")).as("a fourth waiting session of token 1").isNull();
    assertThat(sessions.create(new byte[32], identity(2), "c5")).as("another token is not affected").isNotNull();

    assertThat(sessions.claim(first)).isTrue();
    assertThat(sessions.create(new byte[32], identity(1), "c6")).as("after one was claimed by its stream").isNotNull();
  }

  @Test
  void aSessionIsClaimedOnceAndForgottenWhenItsStreamEnds() {
    Session session = sessions.create(new byte[32], identity(1), "c1");
    assertThat(sessions.claim(session)).isTrue();
    assertThat(sessions.claim(session)).as("a second stream on one session").isFalse();
    sessions.ended(session);
    assertThat(sessions.find(session.id())).isNull();
  }

  @Test
  void anUnusedSession_expiresAndFreesItsSlot() {
    Session unused = sessions.create(new byte[32], identity(1), "c1");
    Session used = sessions.create(new byte[32], identity(1), "c2");
    sessions.claim(used);
    nanos.addAndGet(Duration.ofSeconds(61).toNanos());

    assertThat(sessions.expireUnused()).isEqualTo(1);
    assertThat(sessions.find(unused.id())).isNull();
    assertThat(sessions.find(used.id())).as("a session carrying its stream does not expire").isSameAs(used);
    assertThat(sessions.claim(unused)).as("an expired session cannot be claimed").isFalse();
    for (int i = 0; i < 3; i++) {
      assertThat(sessions.create(new byte[32], identity(1), "c" + (10 + i))).isNotNull();
    }
  }

  @Test
  void revokingAToken_dropsItsSessionsAndTheirSlots() {
    Session session = sessions.create(new byte[32], identity(1), "c1");
    sessions.removeToken(1);
    assertThat(sessions.find(session.id())).isNull();
    assertThat(sessions.claim(session)).isFalse();
    for (int i = 0; i < 3; i++) {
      assertThat(sessions.create(new byte[32], identity(1), "c" + (10 + i))).isNotNull();
    }
  }
}
