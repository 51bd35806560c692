package dev.tether.manager.install;

import dev.tether.common.text.UserText;
import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/** The ways a delegate can be installed, each with its own generated files. */
public enum InstallType {
  KUBERNETES,
  HELM,
  DOCKER,
  ECS,
  SHELL,
  SYSTEMD;

  public static InstallType parse(String value) {
    try {
      return valueOf(value.strip().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException | NullPointerException e) {
      throw new IllegalArgumentException("install type " + UserText.quote(value) + " is unknown (expected one of "
          + Arrays.stream(values()).map(t -> t.name().toLowerCase(Locale.ROOT)).collect(Collectors.joining(", ")) + ")");
    }
  }

  @Override
  public String toString() {
    return name().toLowerCase(Locale.ROOT);
  }
}
