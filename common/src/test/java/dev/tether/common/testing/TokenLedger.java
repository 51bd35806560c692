package dev.tether.common.testing;

import dev.tether.common.token.DelegateToken;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Every token value created by a test in this JVM, so that tests can scan logs, files and output
 * for them: a hit anywhere outside the one place a value is shown is a leak.
 */
public final class TokenLedger {

  private static final Set<String> VALUES = ConcurrentHashMap.newKeySet();

  private TokenLedger() {}

  public static DelegateToken record(DelegateToken token) {
    VALUES.add(token.reveal());
    return token;
  }

  public static List<String> values() {
    return List.copyOf(VALUES);
  }

  /** The recorded token values that occur in {@code text}. */
  public static List<String> leaksIn(String text) {
    return VALUES.stream().filter(text::contains).toList();
  }
}
