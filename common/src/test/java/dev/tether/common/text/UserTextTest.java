package dev.tether.common.text;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;

class UserTextTest {

  /** The characters of Tether issue 11, and a few of their relatives. */
  private static final String SPOOFERS = "\u202E\u2028\u2029\u200B\u200D\uFEFF\u0085\u001B\n\r\t\u0000\u007F";

  @Test
  void problem_namesTheFieldTheCodePointAndItsPositionButNeverTheCharacter() {
    assertThat(UserText.problem("hostname", "evil\u202Eexe.txt", 1, 255)).hasValue(
        "hostname has U+202E RIGHT-TO-LEFT OVERRIDE (a format character) at position 5 (expected printable"
            + " text without control, format, line separator, paragraph separator, invisible or blank characters"
            + " other than the space)");
    assertThat(UserText.problem("tags[1]", "a\u2028b", 1, 64).orElseThrow())
        .startsWith("tags[1] has U+2028 LINE SEPARATOR (a line separator) at position 2");
    assertThat(UserText.problem("DELEGATE_NAME", "\u200Bbuilder", 1, 128).orElseThrow())
        .startsWith("DELEGATE_NAME has U+200B ZERO WIDTH SPACE (a format character) at position 1");
    assertThat(UserText.problem("x", "a\u2029", 1, 9).orElseThrow()).contains("U+2029 PARAGRAPH SEPARATOR (a paragraph separator)");
    assertThat(UserText.problem("x", "a\u0000", 1, 9).orElseThrow()).contains("U+0000 NULL (a control character) at position 2");
    assertThat(UserText.problem("x", "a\u0378", 1, 9).orElseThrow()).contains("U+0378 (an unassigned code point)");
    assertThat(UserText.problem("x", "a\uD800b", 1, 9).orElseThrow()).contains("U+D800 (a lone surrogate) at position 2");
    // positions count code points: the emoji before the format character is one character
    assertThat(UserText.problem("x", "\uD83D\uDE00\u200B", 1, 9).orElseThrow()).contains("at position 2");
    assertThat(UserText.problem("x", "\uDB40\uDC01", 1, 9).orElseThrow()).contains("U+E0001 LANGUAGE TAG (a format character)");
    for (int i = 0; i < SPOOFERS.length(); i++) {
      String value = "a" + SPOOFERS.charAt(i) + "b";
      assertThat(UserText.problem("x", value, 1, 9).orElseThrow()).doesNotContain(String.valueOf(SPOOFERS.charAt(i)));
    }
  }

  /**
   * Found by the attacker's review: U+3164, U+034F and U+2800 passed, and four connected delegates
   * all read "builder-1" in {@code delegate list}. Invisible and blank look-alikes are refused and
   * escaped; emoji with their variation selector still pass.
   */
  @Test
  void invisibleAndBlankLookalikes_areRefusedAndEscaped() {
    for (int codePoint : new int[] {0x3164, 0x034F, 0x2800, 0x00A0, 0x3000, 0x2007, 0x115F, 0xFFA0, 0x180B}) {
      String value = "builder-1" + new String(Character.toChars(codePoint));
      assertThat(UserText.problem("DELEGATE_NAME", value, 1, 128)).as("U+%04X", codePoint).hasValueSatisfying(p ->
          assertThat(p).contains("(an invisible or blank character) at position 10"));
      assertThat(UserText.quote(value)).as("U+%04X quoted", codePoint)
          .isEqualTo("'builder-1\\u" + String.format("%04X", codePoint) + "'");
    }
    assertThat(UserText.problem("name", "builder one", 1, 64)).as("the ASCII space").isEmpty();
    assertThat(UserText.problem("name", "heart \u2764\uFE0F", 1, 64)).as("an emoji with its variation selector").isEmpty();
  }

  @Test
  void problem_countsCodePointsAndSaysWhichLengthsAreAllowed() {
    String emoji = "\uD83D\uDE00";
    assertThat(UserText.problem("hostname", emoji.repeat(255), 1, 255)).isEmpty();
    assertThat(UserText.problem("hostname", emoji.repeat(256), 1, 255)).hasValue(
        "hostname has 256 characters (expected 1 to 255 characters, counted as Unicode code points)");
    assertThat(UserText.problem("hostname", "", 1, 255)).hasValue(
        "hostname is empty (expected 1 to 255 characters, counted as Unicode code points)");
    assertThat(UserText.problem("hostname", null, 1, 255)).isPresent();
    assertThat(UserText.problem("version", "", 0, 64)).isEmpty();
    assertThat(UserText.problem("version", "v".repeat(65), 0, 64)).hasValue(
        "version has 65 characters (expected at most 64 characters, counted as Unicode code points)");
    assertThat(UserText.problem("name", "bücher Ωmega 名前 مرحبا", 1, 64)).isEmpty();
  }

  @Test
  void quote_escapesWhatCouldFakeTheFieldsAroundIt() {
    assertThat(UserText.quote("builder-1' from /203.0.113.9:4444 token 'prod"))
        .isEqualTo("'builder-1\\' from /203.0.113.9:4444 token \\'prod'");
    assertThat(UserText.quote("a\nb\u2028c\u202Ed\u200Be\\f")).isEqualTo("'a\\u000Ab\\u2028c\\u202Ed\\u200Be\\\\f'");
    assertThat(UserText.quote("no\u00A0break")).isEqualTo("'no\\u00A0break'");
    assertThat(UserText.quote("\uDB40\uDC01")).isEqualTo("'\\uDB40\\uDC01'");
    assertThat(UserText.quote("lone \uD800")).isEqualTo("'lone \\uD800'");
    assertThat(UserText.quote("bücher 名前 \uD83D\uDE00")).isEqualTo("'bücher 名前 \uD83D\uDE00'");
    assertThat(UserText.quote(null)).isEqualTo("null");
    assertThat(UserText.quote("")).isEqualTo("''");
  }

  @Test
  void quote_cutsLongValuesWithAMarkerOutsideTheQuotes() {
    String quoted = UserText.quote("x".repeat(1000));

    assertThat(quoted).isEqualTo("'" + "x".repeat(UserText.QUOTE_LIMIT) + "'...(1000 characters in all)");
    assertThat(UserText.quote("x".repeat(UserText.QUOTE_LIMIT))).isEqualTo("'" + "x".repeat(UserText.QUOTE_LIMIT) + "'");
  }

  @Test
  void quoteIfNeeded_leavesPlainCellsAloneAndQuotesTheRest() {
    assertThat(UserText.quoteIfNeeded("builder-1")).isEqualTo("builder-1");
    assertThat(UserText.quoteIfNeeded("2026-01-01 10:00:00Z by admin")).isEqualTo("2026-01-01 10:00:00Z by admin");
    assertThat(UserText.quoteIfNeeded("")).isEmpty();
    assertThat(UserText.quoteIfNeeded("a  CONNECTED")).isEqualTo("'a  CONNECTED'");
    assertThat(UserText.quoteIfNeeded(" lead")).isEqualTo("' lead'");
    assertThat(UserText.quoteIfNeeded("it's")).isEqualTo("'it\\'s'");
    assertThat(UserText.quoteIfNeeded("evil\u202Eexe")).isEqualTo("'evil\\u202Eexe'");
  }

  @Test
  void truncate_neverSplitsASurrogatePair() {
    String emoji = "\uD83D\uDE00";
    assertThat(UserText.truncate(emoji.repeat(3), 2)).isEqualTo(emoji.repeat(2));
    assertThat(UserText.truncate("abc", 5)).isEqualTo("abc");
  }

  @Property(tries = 3000)
  void quote_ofAnyString_isOneTokenOfPrintableTextThatReadsBackAsTheValue(@ForAll("anyText") String value) {
    String quoted = UserText.quote(value);

    assertThat(quoted.codePoints().filter(cp -> cp != ' ' && !UserText.isPrintable(cp)).toArray())
        .as("unprintable characters in %s", quoted).isEmpty();
    Parsed parsed = Parsed.of(quoted);
    if (UserText.length(value) <= UserText.QUOTE_LIMIT) {
      assertThat(parsed.rest()).as("text after the closing quote").isEmpty();
      assertThat(parsed.value()).isEqualTo(value);
    } else {
      assertThat(parsed.rest()).isEqualTo("...(" + UserText.length(value) + " characters in all)");
      assertThat(parsed.value()).isEqualTo(UserText.truncate(value, UserText.QUOTE_LIMIT));
    }
  }

  @Property(tries = 1000)
  void quote_ofPrintableText_isTheTextItselfInQuotes(@ForAll("printableText") String value) {
    assertThat(UserText.quote(value)).isEqualTo("'" + value + "'");
    assertThat(UserText.problem("name", value, 0, 1000)).isEmpty();
  }

  @Property(tries = 1000)
  void problem_refusesExactlyTheStringsWithARefusedCharacter(@ForAll("anyText") String value) {
    boolean refused = value.codePoints().anyMatch(UserText::isRefused);

    assertThat(UserText.refusedCharacter("f", value).isPresent()).isEqualTo(refused);
    UserText.refusedCharacter("f", value).ifPresent(problem ->
        assertThat(problem.codePoints().allMatch(cp -> cp == ' ' || UserText.isPrintable(cp))).isTrue());
  }

  @Provide
  Arbitrary<String> anyText() {
    Arbitrary<Integer> anyCodePoint = Arbitraries.integers().between(0, Character.MAX_CODE_POINT);
    Arbitrary<Integer> tricky = Arbitraries.of(List.of((int) '\'', (int) '\\', (int) ' ', 0x202E, 0x2028, 0x2029,
        0x200B, 0xFEFF, 0x00A0, 0x0085, 0xD800, 0xDFFF, 0x1F600, 0xE0001, 0x0A, 0x1B, (int) 'u'));
    Arbitrary<Integer> ascii = Arbitraries.integers().between(0x20, 0x7E);
    Arbitrary<Integer> codePoint = Arbitraries.frequencyOf(
        net.jqwik.api.Tuple.of(3, ascii), net.jqwik.api.Tuple.of(3, tricky), net.jqwik.api.Tuple.of(2, anyCodePoint));
    return codePoint.list().ofMaxSize(300).map(UserTextTest::text);
  }

  @Provide
  Arbitrary<String> printableText() {
    return Arbitraries.integers().between(0, Character.MAX_CODE_POINT)
        .filter(cp -> UserText.isPrintable(cp) && cp != '\'' && cp != '\\')
        .list().ofMaxSize(UserText.QUOTE_LIMIT).map(UserTextTest::text);
  }

  private static String text(List<Integer> codePoints) {
    StringBuilder out = new StringBuilder();
    codePoints.forEach(out::appendCodePoint);
    return out.toString();
  }

  /** Reads back what {@link UserText#quote} wrote: the value between the quotes, and what follows them. */
  private record Parsed(String value, String rest) {
    static Parsed of(String quoted) {
      assertThat(quoted).startsWith("'");
      StringBuilder value = new StringBuilder();
      int i = 1;
      while (true) {
        assertThat(i).as("closing quote of %s", quoted).isLessThan(quoted.length());
        char c = quoted.charAt(i);
        if (c == '\'') {
          return new Parsed(value.toString(), quoted.substring(i + 1));
        }
        if (c == '\\') {
          char next = quoted.charAt(i + 1);
          if (next == 'u') {
            value.append((char) Integer.parseInt(quoted.substring(i + 2, i + 6), 16));
            i += 6;
          } else {
            assertThat(next).isIn('\'', '\\');
            value.append(next);
            i += 2;
          }
        } else {
          value.append(c);
          i++;
        }
      }
    }
  }
}
