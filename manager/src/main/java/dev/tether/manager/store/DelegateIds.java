package dev.tether.manager.store;

import java.util.HexFormat;
import java.util.UUID;

/**
 * A delegate's id: {@code dlg_} and 32 lowercase hexadecimal digits (a random UUID's), made when
 * the delegate's row is first written and kept by that row from then on.
 *
 * <p>A connected delegate's stream keeps its id for as long as it is connected. An id of this form
 * is therefore kept there as the two numbers its digits spell (16 bytes) rather than as its text
 * (a {@code String} and its array, 80 bytes; docs/benchmarks.md), and made text again when it is
 * asked for. An id of any other form (a row written by other means) has no such numbers and is
 * kept as it is.
 */
public final class DelegateIds {

  private static final String PREFIX = "dlg_";
  private static final int DIGITS = 32;
  private static final HexFormat HEX = HexFormat.of();

  private DelegateIds() {}

  /** A new id, for a delegate's first row. */
  static String fresh() {
    UUID random = UUID.randomUUID();
    return text(random.getMostSignificantBits(), random.getLeastSignificantBits());
  }

  /**
   * Whether {@code id} is of the form this store makes ({@code dlg_} and 32 lowercase hexadecimal
   * digits), which {@link #high} and {@link #low} spell exactly: {@code text(high(id), low(id))}
   * is {@code id} again.
   */
  public static boolean compact(String id) {
    if (id == null || id.length() != PREFIX.length() + DIGITS || !id.startsWith(PREFIX)) {
      return false;
    }
    for (int i = PREFIX.length(); i < id.length(); i++) {
      char c = id.charAt(i);
      if (!(c >= '0' && c <= '9' || c >= 'a' && c <= 'f')) {
        return false;
      }
    }
    return true;
  }

  /** The number of the first 16 digits of a {@linkplain #compact compact} id. */
  public static long high(String id) {
    return HexFormat.fromHexDigitsToLong(id, PREFIX.length(), PREFIX.length() + DIGITS / 2);
  }

  /** The number of the last 16 digits of a {@linkplain #compact compact} id. */
  public static long low(String id) {
    return HexFormat.fromHexDigitsToLong(id, PREFIX.length() + DIGITS / 2, PREFIX.length() + DIGITS);
  }

  /** The id whose digits spell {@code high} and then {@code low}. */
  public static String text(long high, long low) {
    return PREFIX + HEX.toHexDigits(high) + HEX.toHexDigits(low);
  }
}
