package dev.tether.manager.token;

import dev.tether.common.text.UserText;
import io.grpc.Status;
import java.util.regex.Pattern;

/** Rules for account and token names, with errors that show the bad value and the rule. */
public final class Names {

  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]*");
  public static final int MAX_TOKEN_NAME = 64;
  public static final int MAX_ACCOUNT_NAME = 128;
  public static final int MAX_ADMIN_NAME = 64;
  public static final int MAX_DESCRIPTION = 256;

  private Names() {}

  public static String tokenName(String name) {
    return check("token name", name, MAX_TOKEN_NAME);
  }

  public static String accountName(String name) {
    return check("account name", name, MAX_ACCOUNT_NAME);
  }

  public static String adminName(String name) {
    return check("admin name", name, MAX_ADMIN_NAME);
  }

  /**
   * A token's description: free text of up to {@value #MAX_DESCRIPTION} characters under the shared
   * rules of {@link UserText}; null or empty means none (returned as null).
   */
  public static String description(String text) {
    if (text == null || text.isEmpty()) {
      return null;
    }
    UserText.problem("description", text, 1, MAX_DESCRIPTION).ifPresent(problem -> {
      throw invalid(problem);
    });
    if (dev.tether.common.token.Secrets.looksLikeToken(text)) {
      throw invalid("description holds something shaped like a token or admin credential; secrets do not"
          + " belong in a description, which every viewer can read");
    }
    return text;
  }

  private static String check(String what, String name, int max) {
    if (name == null || name.isEmpty()) {
      throw invalid(what + " is empty (expected 1 to " + max
          + " letters, digits, '.', '_' or '-', starting with a letter or digit)");
    }
    // first the shared rule, so that a format or control character is reported as U+XXXX
    UserText.problem(what, name, 1, max).ifPresent(problem -> {
      throw invalid(problem);
    });
    if (!NAME.matcher(name).matches()) {
      throw invalid(what + " " + UserText.quote(name) + " is invalid (expected letters, digits, '.', '_' or"
          + " '-', starting with a letter or digit)");
    }
    return name;
  }


  private static RuntimeException invalid(String message) {
    return Status.INVALID_ARGUMENT.withDescription(message).asRuntimeException();
  }
}
