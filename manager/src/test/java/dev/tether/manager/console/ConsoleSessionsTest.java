package dev.tether.manager.console;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tether.manager.store.AdminRecord;
import dev.tether.manager.store.AdminRole;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
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
