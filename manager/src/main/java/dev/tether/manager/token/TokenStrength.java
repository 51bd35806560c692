package dev.tether.manager.token;

import com.nulabinc.zxcvbn.Strength;
import com.nulabinc.zxcvbn.Zxcvbn;
import dev.tether.common.token.DelegateToken;
import dev.tether.common.token.TokenFormatException;
import java.util.ArrayList;
import java.util.List;

/**
 * The manager's rule for imported token values: zxcvbn must estimate that guessing the value takes
 * at least 2^128 guesses. zxcvbn models how people build secrets (words, names, keyboard rows,
 * sequences, dates, repeats, l33t), which a character-distribution measure does not.
 */
public final class TokenStrength {

  /** The least estimate accepted, in bits (log2 of zxcvbn's guesses). */
  public static final double MIN_BITS = 128;

  /**
   * Only this many leading characters are estimated. zxcvbn's work grows steeply with length (a
   * 512-character random value took over three minutes here, 64 characters at most about a
   * second), and a value is never easier to guess than its own prefix.
   */
  public static final int ESTIMATED_CHARACTERS = 64;

  /** Words that make a value guessable for this product, whatever zxcvbn's dictionaries hold. */
  private static final List<String> PRODUCT_WORDS = List.of("tether", "delegate", "manager", "token", "tdt", "tid");

  private static final Zxcvbn ZXCVBN = new Zxcvbn();

  private TokenStrength() {}

  /**
   * zxcvbn's estimate for {@code token}, in bits, with {@code context} (account and token names)
   * counted as words an attacker would try first.
   */
  public static double estimateBits(DelegateToken token, List<String> context) {
    String value = token.reveal();
    String estimated = value.length() > ESTIMATED_CHARACTERS ? value.substring(0, ESTIMATED_CHARACTERS) : value;
    List<String> words = new ArrayList<>(PRODUCT_WORDS);
    context.stream().filter(w -> w != null && !w.isEmpty()).map(w -> w.toLowerCase(java.util.Locale.ROOT))
        .forEach(words::add);
    Strength strength;
    // one estimate at a time: a long estimate is seconds of CPU, and admin calls are rare
    synchronized (ZXCVBN) {
      strength = ZXCVBN.measure(estimated, words);
    }
    try {
      return strength.getGuessesLog10() * Math.log(10) / Math.log(2);
    } finally {
      strength.wipe();
    }
  }

  /**
   * Refuses {@code token} unless its estimate reaches {@link #MIN_BITS}.
   *
   * @param source names the value in the message (the value itself never appears)
   * @throws TokenFormatException giving the estimate and what to do
   */
  public static void check(String source, DelegateToken token, List<String> context) {
    double bits = estimateBits(token, context);
    if (bits >= MIN_BITS) {
      return;
    }
    throw new TokenFormatException(String.format(
        "%s is too easy to guess: zxcvbn estimates about %.0f bits (log2 of the guesses it needs%s),"
            + " expected at least %.0f bits. Use 'token create' to generate a token, or import a"
            + " longer random value (48 or more random characters at its start, for example from"
            + " 'openssl rand -hex 32')",
        source, Math.floor(bits),
        token.reveal().length() > ESTIMATED_CHARACTERS ? ", for the first " + ESTIMATED_CHARACTERS + " characters" : "",
        MIN_BITS));
  }
}
