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
  private final SessionRegistry sessions = new SessionRegistry(ticker, Duration.ofSeconds(60), 48);

  private static DelegateIdentity identity(long tokenId) {
    return new DelegateIdentity("acct", tokenId, "tid_aaaaaaaaaaaaaaaa", "default", "d");
  }

  @Test
  void sessionsWaitingForTheirStream_areCappedPerTokenAndAClaimFreesASlot() {
    Session first = null;
    for (int source = 0; source < 16; source++) {
      for (int i = 0; i < 3; i++) {
        Session s = sessions.create(new byte[32], identity(1), "c" + source + "-" + i, "10.0.1." + source);
        assertThat(s).isNotNull();
        first = first == null ? s : first;
      }
    }
    assertThat(sessions.create(new byte[32], identity(1), "c-49", "10.0.2.1")).as("a 49th waiting session of token 1").isNull();
    assertThat(sessions.create(new byte[32], identity(2), "c-other", "10.0.2.1")).as("another token is not affected").isNotNull();

    assertThat(sessions.claim(first, "its connection")).isTrue();
    assertThat(sessions.create(new byte[32], identity(1), "c-50", "10.0.2.1")).as("after one was claimed by its stream").isNotNull();
  }

  @Test
  void aSessionKeyOfAnotherLength_isRefused_andTakesNoWaitingPlace() {
    for (int length : new int[] {31, 33, 0}) {
      org.assertj.core.api.Assertions.assertThatThrownBy(
          () -> sessions.create(new byte[length], identity(1), "c-bad", "10.0.0.66"))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("a session key has 32 bytes, not " + length);
    }
    for (int i = 0; i < 3; i++) {
      assertThat(sessions.create(new byte[32], identity(1), "c" + i, "10.0.0.66")).as("session %d of the source's 3", i)
          .isNotNull();
    }
  }

  /** Found by the attacker's review: one holder of a token filled its 1024 waiting slots and kept the others out. */
  @Test
  void oneSource_holdsASixteenthOfATokensWaitingSessions_andOthersStillGetTheirs() {
    for (int i = 0; i < 3; i++) {
      assertThat(sessions.create(new byte[32], identity(1), "c" + i, "10.0.0.66")).isNotNull();
    }
    assertThat(sessions.create(new byte[32], identity(1), "c9", "10.0.0.66")).as("a fourth from one source").isNull();
    assertThat(sessions.create(new byte[32], identity(1), "c10", "10.0.0.67")).as("another source").isNotNull();
  }

  @Test
  void aSessionIsClaimedOnceAndForgottenWhenItsStreamEnds() {
    Session session = sessions.create(new byte[32], identity(1), "c1", "10.0.0.1");
    assertThat(sessions.claim(session, "its connection")).isTrue();
    assertThat(sessions.claim(session, "its connection")).as("a second stream on one session").isFalse();
    sessions.ended(session);
    assertThat(sessions.find(session.id())).isNull();
  }

  @Test
  void anUnusedSession_expiresAndFreesItsSlot() {
    Session unused = sessions.create(new byte[32], identity(1), "c1", "10.0.0.1");
    Session used = sessions.create(new byte[32], identity(1), "c2", "10.0.0.1");
    sessions.claim(used, "its connection");
    nanos.addAndGet(Duration.ofSeconds(61).toNanos());

    assertThat(sessions.expireUnused()).isEqualTo(1);
    assertThat(sessions.find(unused.id())).isNull();
    assertThat(sessions.find(used.id())).as("a session carrying its stream does not expire").isSameAs(used);
    assertThat(sessions.claim(unused, "its connection")).as("an expired session cannot be claimed").isFalse();
    for (int i = 0; i < 3; i++) {
      assertThat(sessions.create(new byte[32], identity(1), "c" + (10 + i), "10.0.0.1")).isNotNull();
    }
  }

  @Test
  void revokingAToken_dropsItsSessionsAndTheirSlots() {
    Session session = sessions.create(new byte[32], identity(1), "c1", "10.0.0.1");
    sessions.removeToken(1);
    assertThat(sessions.find(session.id())).isNull();
    assertThat(sessions.claim(session, "its connection")).isFalse();
    for (int i = 0; i < 3; i++) {
      assertThat(sessions.create(new byte[32], identity(1), "c" + (10 + i), "10.0.0.1")).isNotNull();
    }
  }
}
