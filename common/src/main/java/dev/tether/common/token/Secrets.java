package dev.tether.common.token;

import java.util.regex.Pattern;

/**
 * Redaction for text that may echo user input (error messages): anything shaped like a generated
 * token, and any known secret value, is replaced before the text is shown or logged.
 */
public final class Secrets {

  /** Generated delegate tokens ({@code tdt_}) and admin credentials ({@code tak_}). */
  private static final Pattern GENERATED = Pattern.compile("(tdt|tak)_[a-z2-7]{4,}");

  private Secrets() {}

  /** Whether {@code text} holds something shaped like a generated token or admin credential. */
  public static boolean looksLikeToken(String text) {
    return text != null && GENERATED.matcher(text).find();
  }

  public static String redact(String text, String... knownSecrets) {
    if (text == null) {
      return null;
    }
    String out = text;
    for (String secret : knownSecrets) {
      if (secret != null && secret.strip().length() >= 8) {
        out = out.replace(secret.strip(), "[redacted]");
      }
    }
    return GENERATED.matcher(out).replaceAll("$1_[redacted]");
  }
}
