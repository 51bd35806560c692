package dev.tether.manager.token;

import io.grpc.Status;
import java.util.regex.Pattern;

/** Rules for account and token names, with errors that show the bad value and the rule. */
public final class Names {

  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]*");
  public static final int MAX_TOKEN_NAME = 64;
  public static final int MAX_ACCOUNT_NAME = 128;

  private Names() {}

  public static String tokenName(String name) {
    return check("token name", name, MAX_TOKEN_NAME);
  }

  public static String accountName(String name) {
    return check("account name", name, MAX_ACCOUNT_NAME);
  }

  private static String check(String what, String name, int max) {
    if (name == null || name.isEmpty()) {
      throw invalid(what + " is empty (expected 1 to " + max
          + " letters, digits, '.', '_' or '-', starting with a letter or digit)");
    }
    if (name.length() > max) {
      throw invalid(what + " " + quote(name.substring(0, 16)) + "... has " + name.length()
          + " characters (expected at most " + max + ")");
    }
    if (!NAME.matcher(name).matches()) {
      throw invalid(what + " " + quote(name) + " is invalid (expected letters, digits, '.', '_' or"
          + " '-', starting with a letter or digit)");
    }
    return name;
  }

  /** Quotes a user-supplied value for an error message, escaping anything unprintable. */
  public static String quote(String value) {
    StringBuilder out = new StringBuilder("'");
    value.codePoints().forEach(cp -> {
      if (cp < 0x20 || cp == 0x7f || !Character.isDefined(cp)) {
        out.append(String.format("\\u%04x", cp));
      } else {
        out.appendCodePoint(cp);
      }
    });
    return out.append('\'').toString();
  }

  private static RuntimeException invalid(String message) {
    return Status.INVALID_ARGUMENT.withDescription(message).asRuntimeException();
  }
}
