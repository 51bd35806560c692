package dev.tether.manager.console;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tether.manager.store.AdminRecord;
import dev.tether.manager.store.AdminRole;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/** Console sessions and one-time codes: idle timeout, background requests, single use, expiry, revocation. */
class ConsoleSessionsTest {

  private final MutableClock clock = new MutableClock();
  private final ConsoleSessions sessions = new ConsoleSessions(clock);
  private final AdminRecord alice = admin("alice", "adm_alice");
  private final AdminRecord bob = admin("bob", "adm_bob");

  @Test
  void aSessionEndsAfterThirtyMinutesWithoutActivity_andPollingDoesNotKeepItAlive() {
    String cookie = sessions.open(alice, "127.0.0.1:5000").cookie();
    clock.advance(Duration.ofMinutes(20));
    assertThat(sessions.find(cookie, true)).isPresent();
    clock.advance(Duration.ofMinutes(29));
    // background polling for 29 minutes: still the activity of 29 minutes ago that counts
    assertThat(sessions.find(cookie, false)).isPresent();
    clock.advance(Duration.ofMinutes(1));
    assertThat(sessions.find(cookie, false)).isEmpty();
    assertThat(sessions.find(cookie, true)).isEmpty();
  }

  @Test
  void aCookieIsNotTheStoredKey_andAWrongCookieFindsNothing() {
    ConsoleSessions.Opened opened = sessions.open(alice, "127.0.0.1:5000");
    assertThat(opened.session().key()).isNotEqualTo(opened.cookie());
    assertThat(sessions.find(opened.session().key(), true)).isEmpty();
    assertThat(sessions.find(opened.cookie() + "x", true)).isEmpty();
    assertThat(sessions.find(null, true)).isEmpty();
    assertThat(opened.session().toString()).doesNotContain(opened.cookie()).doesNotContain(opened.session().csrf());
  }

  @Test
  void theCsrfTokenMustMatchExactly() {
    ConsoleSessions.Session session = sessions.open(alice, "127.0.0.1:5000").session();
    assertThat(ConsoleSessions.csrfMatches(session, session.csrf())).isTrue();
    assertThat(ConsoleSessions.csrfMatches(session, session.csrf() + "x")).isFalse();
    assertThat(ConsoleSessions.csrfMatches(session, null)).isFalse();
    assertThat(ConsoleSessions.csrfMatches(session, "")).isFalse();
  }

  @Test
  void revokingAnAdminEndsItsSessionsAndCodes_andNoOneElses() {
    String aliceCookie = sessions.open(alice, "127.0.0.1:5000").cookie();
    String aliceAgain = sessions.open(alice, "127.0.0.1:5001").cookie();
    String bobCookie = sessions.open(bob, "127.0.0.1:5002").cookie();
    String aliceCode = sessions.issueCode(alice);
    assertThat(sessions.closeAll("adm_alice")).isEqualTo(2);
    assertThat(sessions.find(aliceCookie, true)).isEmpty();
    assertThat(sessions.find(aliceAgain, true)).isEmpty();
    assertThat(sessions.find(bobCookie, true)).isPresent();
    assertThat(sessions.redeem(aliceCode)).isEmpty();
  }

  @Test
  void aCodeWorksOnceAndForFiveMinutes() {
    String once = sessions.issueCode(alice);
    assertThat(sessions.redeem(once)).map(ConsoleSessions.Code::adminName).hasValue("alice");
    assertThat(sessions.redeem(once)).isEmpty();
    String late = sessions.issueCode(alice);
    clock.advance(Duration.ofMinutes(5));
    assertThat(sessions.redeem(late)).isEmpty();
    assertThat(sessions.redeem("")).isEmpty();
    assertThat(sessions.redeem(null)).isEmpty();
  }

  @Test
  void oneAdminSigningInOverAndOver_endsOnlyItsOwnOldestSessions_neverAnotherAdmins() {
    String bobCookie = sessions.open(bob, "127.0.0.1:5002").cookie();
    clock.advance(Duration.ofSeconds(1));
    String aliceFirst = sessions.open(alice, "127.0.0.1:5000").cookie();
    String aliceLast = null;
    for (int i = 0; i < ConsoleSessions.MAX_SESSIONS; i++) {
      aliceLast = sessions.open(alice, "127.0.0.1:5000").cookie();
    }
    assertThat(sessions.find(bobCookie, true)).isPresent();
    assertThat(sessions.find(aliceLast, true)).isPresent();
    assertThat(sessions.find(aliceFirst, true)).isEmpty();
    assertThat(sessions.size()).isEqualTo(ConsoleSessions.MAX_PER_ADMIN + 1);
  }

  @Test
  void oneAdminAskingForLinksOverAndOver_dropsOnlyItsOwnOldestCodes_neverAnotherAdmins() {
    String bobCode = sessions.issueCode(bob);
    String aliceFirst = sessions.issueCode(alice);
    String aliceLast = null;
    for (int i = 0; i < ConsoleSessions.MAX_CODES; i++) {
      // bob's code expires first: the one a full table would drop
      clock.advance(Duration.ofMillis(1));
      aliceLast = sessions.issueCode(alice);
    }
    assertThat(sessions.redeem(bobCode)).map(ConsoleSessions.Code::adminName).hasValue("bob");
    assertThat(sessions.redeem(aliceLast)).map(ConsoleSessions.Code::adminName).hasValue("alice");
    assertThat(sessions.redeem(aliceFirst)).isEmpty();
  }

  @Test
  void twoBrowsersRedeemingOneCodeAtOnce_signInOnce() throws Exception {
    for (int round = 0; round < 200; round++) {
      String code = sessions.issueCode(alice);
      CyclicBarrier start = new CyclicBarrier(2);
      ExecutorService two = Executors.newFixedThreadPool(2);
      try {
        Callable<Boolean> redeem = () -> {
          start.await();
          return sessions.redeem(code).isPresent();
        };
        Future<Boolean> first = two.submit(redeem);
        Future<Boolean> second = two.submit(redeem);
        assertThat(List.of(first.get(), second.get())).containsExactlyInAnyOrder(true, false);
      } finally {
        two.shutdownNow();
      }
    }
  }

  private static AdminRecord admin(String name, String publicId) {
    return new AdminRecord(1, name, publicId, AdminRole.OPERATOR, Instant.EPOCH, "test", null, null);
  }

  private static final class MutableClock extends Clock {
    private Instant now = Instant.parse("2026-11-30T12:00:00Z");

    void advance(Duration d) {
      now = now.plus(d);
    }

    @Override
    public Instant instant() {
      return now;
    }

    @Override
    public java.time.ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(java.time.ZoneId zone) {
      return this;
    }
  }
}
