package dev.tether.common.text;

import java.util.Optional;

/**
 * The one rule for user-supplied names and labels, and the one way to show such text in logs,
 * errors and tables so that it cannot pose as the text around it.
 *
 * <p>A name is refused when it holds an ISO control character (Unicode category Cc), a format
 * character (Cf: U+200B ZERO WIDTH SPACE, U+202E RIGHT-TO-LEFT OVERRIDE, U+FEFF ...), a line or
 * paragraph separator (Zl U+2028, Zp U+2029), an unassigned code point (Cn, as of the Unicode
 * version of the running Java) or a lone surrogate (Cs). Each of these can make a logged or
 * listed name read as something else: a new log line, reversed text, or two names that look the
 * same. Lengths are counted in Unicode code points, not in Java {@code char}s.
 *
 * <p>{@link #quote} is for the other direction: whatever a value holds, even text stored before
 * these rules existed, it comes out as one single-quoted token of printable text.
 */
public final class UserText {

  /** How many code points of a value {@link #quote} shows; the rest is cut off with a marker. */
  public static final int QUOTE_LIMIT = 256;

  private static final char[] HEX = "0123456789ABCDEF".toCharArray();

  private UserText() {}

  /** The length of {@code value} in Unicode code points (a lone surrogate counts as one). */
  public static int length(String value) {
    return value.codePointCount(0, value.length());
  }

  /**
   * What is wrong with a user-supplied name or label, or empty if nothing is: a refused character
   * (see {@link #refusedCharacter}), or a length outside {@code minLength..maxLength} code points.
   * A null value counts as empty. The description starts with {@code field} and never holds the
   * value itself, so it is safe in a status description, an exception or a log line.
   */
  public static Optional<String> problem(String field, String value, int minLength, int maxLength) {
    String text = value == null ? "" : value;
    Optional<String> refused = refusedCharacter(field, text);
    if (refused.isPresent()) {
      return refused;
    }
    int length = length(text);
    if (length >= minLength && length <= maxLength) {
      return Optional.empty();
    }
    String expected = minLength > 0 ? minLength + " to " + maxLength : "at most " + maxLength;
    return Optional.of(field + (length == 0 ? " is empty" : " has " + length + " characters")
        + " (expected " + expected + " characters, counted as Unicode code points)");
  }

  /**
   * The first refused character of {@code value}, described as {@code U+XXXX}, its Unicode name,
   * its kind and its position (the first character is position 1), or empty if there is none.
   * The character itself never appears in the description.
   */
  public static Optional<String> refusedCharacter(String field, String value) {
    int position = 1;
    for (int i = 0; i < value.length(); position++) {
      int codePoint = value.codePointAt(i);
      String kind = refusedKind(codePoint);
      if (kind != null) {
        return Optional.of(field + " has " + codePointName(codePoint) + " (" + kind + ") at position "
            + position + " (expected printable text without control, format, line separator,"
            + " paragraph separator, invisible or blank characters other than the space)");
      }
      i += Character.charCount(codePoint);
    }
    return Optional.empty();
  }

  /** Whether {@code codePoint} is refused in names: Cc, Cf, Zl, Zp, Cn, Cs, or an invisible or blank look-alike. */
  public static boolean isRefused(int codePoint) {
    return refusedKind(codePoint) != null;
  }

  private static String refusedKind(int codePoint) {
    String kind = switch (Character.getType(codePoint)) {
      case Character.CONTROL -> "a control character";
      case Character.FORMAT -> "a format character";
      case Character.LINE_SEPARATOR -> "a line separator";
      case Character.PARAGRAPH_SEPARATOR -> "a paragraph separator";
      case Character.UNASSIGNED -> "an unassigned code point";
      case Character.SURROGATE -> "a lone surrogate";
      default -> null;
    };
    if (kind == null && isBlankLookalike(codePoint)) {
      kind = "an invisible or blank character";
    }
    return kind;
  }

  /**
   * Characters that show as nothing, or as a blank, though they are letters, marks or symbols: two
   * names that differ only by them look the same in a list (found by the attacker's review with
   * U+3164, U+034F and U+2800). These are the Unicode Default_Ignorable_Code_Point characters that
   * are not already refused as format characters (Unicode 15, DerivedCoreProperties.txt), except
   * the variation selectors, which change how the character before them is drawn (emoji); every
   * space but the ASCII one (category Zs); and U+2800 BRAILLE PATTERN BLANK.
   */
  static boolean isBlankLookalike(int codePoint) {
    if (Character.getType(codePoint) == Character.SPACE_SEPARATOR) {
      return codePoint != ' ';
    }
    return codePoint == 0x034F || codePoint == 0x115F || codePoint == 0x1160 || codePoint == 0x17B4
        || codePoint == 0x17B5 || (codePoint >= 0x180B && codePoint <= 0x180F) || codePoint == 0x2800
        || codePoint == 0x3164 || codePoint == 0xFFA0 || (codePoint >= 0x1D173 && codePoint <= 0x1D17A)
        || (codePoint >= 0xE0000 && codePoint <= 0xE0FFF && !(codePoint >= 0xE0100 && codePoint <= 0xE01EF));
  }

  private static String codePointName(int codePoint) {
    StringBuilder out = new StringBuilder("U+");
    String hex = Integer.toHexString(codePoint).toUpperCase(java.util.Locale.ROOT);
    out.append("0".repeat(Math.max(0, 4 - hex.length()))).append(hex);
    int type = Character.getType(codePoint);
    String name = type == Character.SURROGATE || type == Character.UNASSIGNED ? null : Character.getName(codePoint);
    return name == null ? out.toString() : out.append(' ').append(name).toString();
  }

  /**
   * Whether {@code codePoint} is shown as itself by {@link #quote}: letters, marks, digits,
   * punctuation, symbols and the ASCII space. Every other space (U+00A0, U+2000..U+200A, U+3000 ...)
   * is escaped too, since it can pass for a gap between fields; so is private-use text, which
   * shows differently on every terminal.
   */
  public static boolean isPrintable(int codePoint) {
    if (codePoint == ' ') {
      return true;
    }
    if (isBlankLookalike(codePoint)) {
      return false;
    }
    return switch (Character.getType(codePoint)) {
      case Character.CONTROL, Character.FORMAT, Character.LINE_SEPARATOR, Character.PARAGRAPH_SEPARATOR,
          Character.SPACE_SEPARATOR, Character.UNASSIGNED, Character.SURROGATE, Character.PRIVATE_USE -> false;
      default -> true;
    };
  }

  /**
   * {@code value} as one single-quoted token for a log line, an error message or a table:
   * {@code '} and {@code \} are escaped with a backslash, and every character that is not
   * {@linkplain #isPrintable printable} is written as {@code \}{@code uXXXX} (a character beyond
   * U+FFFF as its two UTF-16 escapes, as in Java and JSON). So the result holds no control,
   * format or separator character and no unescaped quote, and a value can never close the quote
   * early and fake the fields after it. A value longer than {@link #QUOTE_LIMIT} code points is
   * cut there and followed, outside the quotes, by {@code ...(N characters in all)}. A null value
   * is written {@code null}, without quotes.
   */
  public static String quote(String value) {
    if (value == null) {
      return "null";
    }
    StringBuilder out = new StringBuilder(value.length() + 2).append('\'');
    int shown = 0;
    int i = 0;
    while (i < value.length() && shown < QUOTE_LIMIT) {
      int codePoint = value.codePointAt(i);
      appendEscaped(out, codePoint);
      i += Character.charCount(codePoint);
      shown++;
    }
    out.append('\'');
    if (i < value.length()) {
      out.append("...(").append(length(value)).append(" characters in all)");
    }
    return out.toString();
  }

  /**
   * {@code value} as it is when that cannot mislead, otherwise {@link #quote quoted}: for table
   * cells, where quoting every plain name would only add noise. A value stays as it is when every
   * character is {@linkplain #isPrintable printable}, it holds no quote or backslash, it does not
   * start or end with a space, it has no two spaces in a row (tables separate their columns with
   * two or more) and it is at most {@link #QUOTE_LIMIT} code points long. An empty value stays
   * empty.
   */
  public static String quoteIfNeeded(String value) {
    if (value == null) {
      return "null";
    }
    if (value.isEmpty()) {
      return value;
    }
    boolean plain = !value.startsWith(" ") && !value.endsWith(" ") && !value.contains("  ")
        && length(value) <= QUOTE_LIMIT
        && value.codePoints().allMatch(cp -> isPrintable(cp) && cp != '\'' && cp != '\\');
    return plain ? value : quote(value);
  }

  /** The first {@code maxLength} code points of {@code value}, never splitting a surrogate pair. */
  public static String truncate(String value, int maxLength) {
    if (length(value) <= maxLength) {
      return value;
    }
    return value.substring(0, value.offsetByCodePoints(0, maxLength));
  }

  private static void appendEscaped(StringBuilder out, int codePoint) {
    if (codePoint == '\'' || codePoint == '\\') {
      out.append('\\').append((char) codePoint);
    } else if (isPrintable(codePoint)) {
      out.appendCodePoint(codePoint);
    } else {
      for (char unit : Character.toChars(codePoint)) {
        out.append("\\u")
            .append(HEX[(unit >> 12) & 0xF]).append(HEX[(unit >> 8) & 0xF])
            .append(HEX[(unit >> 4) & 0xF]).append(HEX[unit & 0xF]);
      }
    }
  }
}
