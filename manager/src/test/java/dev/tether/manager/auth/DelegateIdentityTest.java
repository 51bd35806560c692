package dev.tether.manager.auth;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import org.junit.jupiter.api.Test;

class DelegateIdentityTest {

  /** A text as a fresh read of the token's row would give it: equal, never the same object. */
  private static String read(String text) {
    return new String(text.toCharArray());
  }

  @Test
  void streamsOfOneTokenKeepOneCopyOfItsTexts() {
    Instant expiry = Instant.parse("2027-01-01T00:00:00Z");
    DelegateIdentity first = new DelegateIdentity(read("acct_1"), 7, read("tid_aaaaaaaaaaaaaaaa"), read("default"),
        "host-1", Instant.parse(expiry.toString()));
    DelegateIdentity second = new DelegateIdentity(read("acct_1"), 7, read("tid_aaaaaaaaaaaaaaaa"), read("default"),
        "host-2", Instant.parse(expiry.toString()));

    assertThat(second.accountId()).isSameAs(first.accountId());
    assertThat(second.tokenPublicId()).isSameAs(first.tokenPublicId());
    assertThat(second.tokenName()).isSameAs(first.tokenName());
    assertThat(second.tokenExpiresAt()).isSameAs(first.tokenExpiresAt());
    assertThat(second.delegateName()).isEqualTo("host-2");
    assertThat(first.delegateName()).isEqualTo("host-1");
  }

  @Test
  void aTokenWithOtherValuesKeepsItsOwn() {
    DelegateIdentity before = new DelegateIdentity("acct_1", 8, "tid_bbbbbbbbbbbbbbbb", "old name", "d");
    DelegateIdentity renamed = new DelegateIdentity("acct_1", 8, "tid_bbbbbbbbbbbbbbbb", "new name", "d");
    DelegateIdentity expiring = new DelegateIdentity("acct_1", 8, "tid_bbbbbbbbbbbbbbbb", "new name", "d",
        Instant.parse("2027-01-01T00:00:00Z"));

    assertThat(before.tokenName()).isEqualTo("old name");
    assertThat(renamed.tokenName()).isEqualTo("new name");
    assertThat(renamed.tokenExpiresAt()).isNull();
    assertThat(expiring.tokenExpiresAt()).isEqualTo(Instant.parse("2027-01-01T00:00:00Z"));
    assertThat(new DelegateIdentity("acct_2", 8, "tid_bbbbbbbbbbbbbbbb", "new name", "d").accountId())
        .isEqualTo("acct_2");
  }

  @Test
  void itsTextQuotesTheDelegatesName() {
    DelegateIdentity identity = new DelegateIdentity("acct_1", 9, "tid_cccccccccccccccc", "default", "a\nb");

    assertThat(identity.toString()).doesNotContain("\n").contains("tid_cccccccccccccccc").contains("acct_1");
  }
}
