package dev.tether.common.delegate;

import dev.tether.common.text.UserText;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The one list of delegate types (how a delegate was installed), shared by the delegate's
 * configuration and the files the manager's install command writes. A delegate accepts a known
 * type in any case and reports it in upper case.
 */
public final class DelegateTypes {

  public static final String KUBERNETES = "KUBERNETES";
  public static final String HELM = "HELM";
  public static final String DOCKER = "DOCKER";
  public static final String ECS = "ECS";
  public static final String SHELL_SCRIPT = "SHELL_SCRIPT";
  public static final String SYSTEMD = "SYSTEMD";

  /** Every known type, in the order messages list them. */
  public static final List<String> KNOWN = List.of(KUBERNETES, HELM, DOCKER, ECS, SHELL_SCRIPT, SYSTEMD);

  /** The type of a delegate whose configuration names none. */
  public static final String DEFAULT = SHELL_SCRIPT;

  private DelegateTypes() {}

  /** The known type {@code value} names, in any case and with surrounding blanks, in upper case; else empty. */
  public static Optional<String> normalise(String value) {
    if (value == null) {
      return Optional.empty();
    }
    String upper = value.strip().toUpperCase(Locale.ROOT);
    return KNOWN.contains(upper) ? Optional.of(upper) : Optional.empty();
  }

  /** Why {@code value}, given in {@code setting}, is not a known type; empty if it is one. */
  public static Optional<String> problem(String setting, String value) {
    if (normalise(value).isPresent()) {
      return Optional.empty();
    }
    return Optional.of(setting + " " + UserText.quote(value) + " is not a known delegate type (expected one of "
        + String.join(", ", KNOWN) + ", in any case)");
  }
}
