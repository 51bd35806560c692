package dev.tether.manager.revocation;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tether.manager.testing.IdleServerCall;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import org.junit.jupiter.api.Test;

/**
 * A fence raised by a revoke that did not commit comes down only when nothing else has decided
 * the token's fate meanwhile: no other revoke of it running here, no cut (the token has ended), and
 * its expiry time not reached. A call that registers while a revoke commits is held, then closed
 * as revoked if the revoke commits, or told to retry if it does not.
 */
class TokenFenceTest {

  private static final long ROW = 7;
  private static final Instant NOW = Instant.parse("2026-12-02T05:00:00Z");
  private static final Clock CLOCK = Clock.fixed(NOW, ZoneOffset.UTC);

  private final RevocationRegistry registry = new RevocationRegistry();
  private final TokenCutter cutter = new TokenCutter(registry, row -> { });

  @Test
  void aRevokeThatDidNotCommit_lowersTheFenceItRaised() {
    long raising = cutter.revoking(ROW);
    assertThat(registry.isFenced(ROW)).isTrue();

    assertThat(cutter.lift(ROW, raising, null, CLOCK, true)).isTrue();
    cutter.doneRevoking(ROW);

    assertThat(registry.isFenced(ROW)).isFalse();
    assertThat(cutter.beingRevokedHere(ROW)).isFalse();
  }

  @Test
  void whileAnotherRevokeOfTheTokenRuns_theFenceStaysUp() {
    cutter.revoking(ROW);
    long latest = cutter.revoking(ROW);

    assertThat(cutter.lift(ROW, latest, null, CLOCK, true))
        .as("the failed revoke counts itself out, not the other").isFalse();
    cutter.doneRevoking(ROW);
    assertThat(cutter.beingRevokedHere(ROW)).isTrue();
    assertThat(cutter.raisingsUnlessRevoking(ROW)).as("a settling pass leaves it to the revoke").isEqualTo(-1);
    assertThat(cutter.lift(ROW, latest, null, CLOCK, false)).as("settling a revoke in doubt").isFalse();
    assertThat(registry.isFenced(ROW)).isTrue();

    cutter.doneRevoking(ROW);
    assertThat(cutter.raisingsUnlessRevoking(ROW)).isEqualTo(latest);
    assertThat(cutter.lift(ROW, latest, null, CLOCK, false)).isTrue();
    assertThat(registry.isFenced(ROW)).isFalse();
  }

  @Test
  void aCutToken_isNeverUnfenced() {
    cutter.revoking(ROW);
    cutter.cut(ROW);
    cutter.doneRevoking(ROW);

    assertThat(cutter.lift(ROW, cutter.raisingsUnlessRevoking(ROW), null, CLOCK, false)).isFalse();
    assertThat(registry.isFenced(ROW)).isTrue();
  }

  @Test
  void aTokenAtItsExpiryTime_staysFenced() {
    cutter.revoking(ROW);
    cutter.doneRevoking(ROW);

    long raising = cutter.raisingsUnlessRevoking(ROW);
    assertThat(cutter.lift(ROW, raising, NOW, CLOCK, false)).isFalse();
    assertThat(cutter.lift(ROW, raising, NOW.minusMillis(1), CLOCK, false)).isFalse();
    assertThat(registry.isFenced(ROW)).isTrue();
    assertThat(cutter.lift(ROW, raising, NOW.plusSeconds(60), CLOCK, false)).isTrue();
  }

  @Test
  void aCallRegisteringWhileARevokeCommits_isHeld_andClosedRevokedOnceItCommits() {
    cutter.revoking(ROW);
    LiveStream stream = register();
    assertThat(stream.closeStatus()).as("not told 'revoked' before the revoke has committed").isNull();

    assertThat(cutter.cut(ROW)).isEqualTo(1);
    cutter.doneRevoking(ROW);

    assertThat(stream.closeStatus()).isEqualTo(RevocationRegistry.REVOKED);
  }

  @Test
  void aCallRegisteringWhileARevokeCommits_isToldToRetry_whenTheRevokeFails() {
    long raising = cutter.revoking(ROW);
    LiveStream stream = register();

    assertThat(cutter.lift(ROW, raising, null, CLOCK, true)).isTrue();
    cutter.doneRevoking(ROW);

    assertThat(stream.closeStatus()).isEqualTo(RevocationRegistry.REGISTRATION_INTERRUPTED);
    assertThat(stream.acceptIfLive(() -> { })).isFalse();
  }

  @Test
  void aCallRegisteringAfterTheCut_isClosedRevokedAtOnce_andAnUnfencedOneCarriesOn() {
    LiveStream before = register();
    assertThat(before.closeStatus()).isNull();
    assertThat(before.acceptIfLive(() -> { })).isTrue();

    cutter.revoking(ROW);
    cutter.cut(ROW);
    cutter.doneRevoking(ROW);

    assertThat(before.closeStatus()).isEqualTo(RevocationRegistry.REVOKED);
    assertThat(register().closeStatus()).isEqualTo(RevocationRegistry.REVOKED);
  }

  @Test
  void aFenceRaisedAgainAfterTheStoreWasRead_staysUp() {
    cutter.revoking(ROW);
    cutter.doneRevoking(ROW);
    long readBefore = cutter.raisingsUnlessRevoking(ROW);

    cutter.expiring(ROW);
    assertThat(cutter.lift(ROW, readBefore, null, CLOCK, false)).as("an expiry raised it since").isFalse();
    cutter.revoking(ROW);
    cutter.doneRevoking(ROW);
    assertThat(cutter.lift(ROW, readBefore + 1, null, CLOCK, false)).as("a revoke raised it since").isFalse();
    assertThat(registry.isFenced(ROW)).isTrue();

    assertThat(cutter.lift(ROW, cutter.raisingsUnlessRevoking(ROW), null, CLOCK, false)).isTrue();
  }

  @Test
  void anEndAnnouncedWhileARevokeCommits_isLeftToIt_andKeepsItsFenceUpShouldItFail() {
    long raising = cutter.revoking(ROW);
    LiveStream stream = register();

    assertThat(cutter.cutUnlessRevoking(ROW)).as("left to the revoke, which counts the streams").isEqualTo(-1);
    assertThat(stream.closeStatus()).isNull();
    assertThat(cutter.lift(ROW, raising, null, CLOCK, true)).as("the token was found ended meanwhile").isFalse();
    cutter.doneRevoking(ROW);
    assertThat(registry.isFenced(ROW)).isTrue();

    assertThat(cutter.cutUnlessRevoking(ROW)).isEqualTo(1);
    assertThat(stream.closeStatus()).isEqualTo(RevocationRegistry.REVOKED);
  }

  @Test
  void anEndAnnouncedAfterAFailedRevokeLoweredTheFence_cutsAtOnce() {
    LiveStream stream = register();
    long raising = cutter.revoking(ROW);
    assertThat(cutter.lift(ROW, raising, null, CLOCK, true)).isTrue();

    assertThat(cutter.cutUnlessRevoking(ROW)).as("the revoke is still finishing").isEqualTo(1);
    cutter.doneRevoking(ROW);

    assertThat(stream.closeStatus()).isEqualTo(RevocationRegistry.REVOKED);
    assertThat(registry.isFenced(ROW)).isTrue();
  }

  private LiveStream register() {
    return registry.register(new IdleServerCall(), ROW, "tid_test", null, "a test call");
  }
}
