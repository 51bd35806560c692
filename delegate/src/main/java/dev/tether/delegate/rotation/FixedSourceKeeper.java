package dev.tether.delegate.rotation;

import dev.tether.common.token.DelegateToken;
import java.util.Map;
import java.util.Objects;

/**
 * The keeper of a token given in a place the delegate cannot change (an environment variable, set
 * by hand, by a systemd credential or by an ECS secret): every keep fails with the reason.
 */
public final class FixedSourceKeeper implements TokenKeeper {

  private final String source;
  private final String reason;

  public FixedSourceKeeper(String source, String reason) {
    this.source = Objects.requireNonNull(source, "source");
    this.reason = Objects.requireNonNull(reason, "reason");
  }

  /**
   * The keeper of a token read from the environment variable {@code DELEGATE_TOKEN}. {@code env}
   * tells how the variable was most likely set, so that the reason says where to put the new value:
   * systemd sets {@code CREDENTIALS_DIRECTORY} for a unit with credentials (the unit Tether installs
   * reads its credential into DELEGATE_TOKEN), and ECS sets {@code ECS_CONTAINER_METADATA_URI_V4} in
   * every task container (the task definition Tether generates fills DELEGATE_TOKEN from a secret).
   */
  public static FixedSourceKeeper environment(Map<String, String> env) {
    String variable = "the environment variable DELEGATE_TOKEN";
    if (isSet(env.get("CREDENTIALS_DIRECTORY"))) {
      return new FixedSourceKeeper(variable, "the token comes from the environment variable DELEGATE_TOKEN, set"
          + " from a systemd credential, which a running process cannot change: replace the credential's file"
          + " (LoadCredential= of the unit) with the new token and restart the service");
    }
    if (isSet(env.get("ECS_CONTAINER_METADATA_URI_V4"))) {
      return new FixedSourceKeeper(variable, "the token comes from the environment variable DELEGATE_TOKEN, set"
          + " from an ECS secret, which a running task cannot change: put the new token in the secret the task"
          + " definition names and start a new deployment of the service");
    }
    return new FixedSourceKeeper(variable, "the token comes from the environment variable DELEGATE_TOKEN, which a"
        + " running process cannot change: set the new token where the delegate is installed and restart it");
  }

  private static boolean isSet(String value) {
    return value != null && !value.isBlank();
  }

  @Override
  public String describe() {
    return source;
  }

  @Override
  public void keep(DelegateToken successor) throws CannotKeepException {
    throw new CannotKeepException(reason);
  }

  @Override
  public String toString() {
    return "FixedSourceKeeper[" + source + "]";
  }
}
