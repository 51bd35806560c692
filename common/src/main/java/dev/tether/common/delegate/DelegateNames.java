package dev.tether.common.delegate;

import dev.tether.common.text.UserText;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The one rule for a delegate's name, shared by the delegate's configuration and the manager's
 * install files: a DNS label, since the install files use the name for Kubernetes objects,
 * containers, ECS task families and file names, and a name that one of them refuses must be
 * refused everywhere.
 */
public final class DelegateNames {

  public static final int MAX_LENGTH = 63;

  /** What a valid name is, for messages. */
  public static final String RULE = "1 to " + MAX_LENGTH + " lowercase letters, digits and '-', starting and ending"
      + " with a letter or digit, as in a host name";

  private static final Pattern NAME = Pattern.compile("[a-z0-9]([-a-z0-9]{0," + (MAX_LENGTH - 2) + "}[a-z0-9])?");
  private static final Pattern OTHER_CHARACTERS = Pattern.compile("[^a-z0-9]+");

  private DelegateNames() {}

  /** Whether {@code name} follows the rule. */
  public static boolean isValid(String name) {
    return name != null && NAME.matcher(name).matches();
  }

  /**
   * What is wrong with {@code name} given in {@code setting}, or empty if nothing is. A refused
   * character (control, format, separator) is named by its code point and never shown; any other
   * name is quoted, with a valid name made from it as an example when there is one.
   */
  public static Optional<String> problem(String setting, String name) {
    if (name == null || name.isEmpty()) {
      return Optional.of(setting + " is empty (expected " + RULE + ")");
    }
    Optional<String> refused = UserText.refusedCharacter(setting, name);
    if (refused.isPresent()) {
      return refused;
    }
    if (isValid(name)) {
      return Optional.empty();
    }
    String example = fromText(name);
    return Optional.of(setting + " " + UserText.quote(name) + " is not a valid delegate name (expected " + RULE
        + (example.isEmpty() ? "" : ", for example " + UserText.quote(example)) + ")");
  }

  /**
   * A valid name made from any text (a host name, a name that breaks the rule): lower case, each
   * run of other characters turned into one '-', cut to {@value #MAX_LENGTH} characters; empty
   * when the text holds no letter or digit of the rule.
   */
  public static String fromText(String text) {
    String lower = text == null ? "" : text.toLowerCase(Locale.ROOT);
    String dashed = OTHER_CHARACTERS.matcher(lower).replaceAll("-");
    String cut = trimDashes(dashed);
    if (cut.length() > MAX_LENGTH) {
      cut = trimDashes(cut.substring(0, MAX_LENGTH));
    }
    return cut;
  }

  private static String trimDashes(String s) {
    int start = 0;
    int end = s.length();
    while (start < end && s.charAt(start) == '-') {
      start++;
    }
    while (end > start && s.charAt(end - 1) == '-') {
      end--;
    }
    return s.substring(start, end);
  }
}
