package dev.tether.manager.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashSet;
import java.util.Set;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class DelegateIdsTest {

  @Property
  void anyTwoNumbers_spellAnIdThatGivesThemBack(@ForAll long high, @ForAll long low) {
    String id = DelegateIds.text(high, low);

    assertThat(id).matches("dlg_[0-9a-f]{32}");
    assertThat(DelegateIds.compact(id)).isTrue();
    assertThat(DelegateIds.high(id)).isEqualTo(high);
    assertThat(DelegateIds.low(id)).isEqualTo(low);
  }

  @Test
  void freshIds_areCompactAndDiffer() {
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < 1000; i++) {
      String id = DelegateIds.fresh();
      assertThat(DelegateIds.compact(id)).as(id).isTrue();
      assertThat(DelegateIds.text(DelegateIds.high(id), DelegateIds.low(id))).isEqualTo(id);
      seen.add(id);
    }
    assertThat(seen).hasSize(1000);
  }

  @Test
  void theDigitsAreInOrder_highFirst() {
    String id = "dlg_00000000000000010000000000000002";

    assertThat(DelegateIds.high(id)).isEqualTo(1);
    assertThat(DelegateIds.low(id)).isEqualTo(2);
    assertThat(DelegateIds.text(-1, 0)).isEqualTo("dlg_ffffffffffffffff0000000000000000");
  }

  /** Ids that two numbers would not spell back exactly: kept as their text. */
  @ParameterizedTest
  @ValueSource(strings = {"", "dlg_", "legacy-builder-1", "dlg_0123456789abcdef",
      "dlg_0123456789ABCDEF0123456789ABCDEF", "dlg_0123456789abcdef0123456789abcdeF",
      "dlg_0123456789abcdef0123456789abcdef0", "DLG_0123456789abcdef0123456789abcdef",
      "xlg_0123456789abcdef0123456789abcdef", "dlg_0123456789abcdef0123456789abcdeg",
      "dlg_+123456789abcdef0123456789abcdef", "dlg_0123456789abcdef 123456789abcdef"})
  void anIdOfAnotherForm_isNotCompact(String id) {
    assertThat(DelegateIds.compact(id)).isFalse();
  }

  @Test
  void noId_isNotCompact() {
    assertThat(DelegateIds.compact(null)).isFalse();
  }
}
