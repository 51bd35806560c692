package dev.tether.manager.install;

import static java.util.Objects.requireNonNull;

import dev.tether.common.delegate.DelegateNames;
import dev.tether.common.text.UserText;
import dev.tether.common.token.DelegateToken;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Path;

/**
 * What the install files are generated from. Validated on construction so that every value is
 * safe to place in YAML, JSON, shell and systemd files.
 *
 * @param ecsSecretArn required for ECS: the Secrets Manager secret (or SSM parameter) holding the token
 * @param ecsExecutionRoleArn required for ECS: the role that lets the task read that secret
 * @param existingDelegateToken for Helm: use this existing Secret instead of putting the token in values
 * @param delegateJar optional: copied into the output (shell, systemd)
 * @param rotation whether the delegate may keep a token the manager pushes (token rotate): on
 *     Kubernetes a Role that may update its token's Secret, for Docker a writable token directory
 */
public record InstallSpec(
    String accountId,
    String tokenName,
    DelegateToken token,
    String managerUrl,
    String delegateName,
    String namespace,
    String image,
    String ecsSecretArn,
    String ecsExecutionRoleArn,
    String existingDelegateToken,
    Path delegateJar,
    boolean rotation) {

  static final String DNS_LABEL = "[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?";

  public InstallSpec {
    requireNonNull(token, "token");
    check("--account", accountId, "[A-Za-z0-9._-]{1,64}", "letters, digits, '.', '_' or '-'");
    check("--token-name", tokenName, "[A-Za-z0-9][A-Za-z0-9._-]{0,63}", "a token name as 'token list' shows it");
    // the delegate's own rule for DELEGATE_NAME: a name these files accept, the delegate accepts, and back
    DelegateNames.problem("--delegate-name", delegateName).ifPresent(problem -> {
      throw new IllegalArgumentException(problem);
    });
    check("--namespace", namespace, DNS_LABEL, "a Kubernetes namespace name");
    check("--image", image, "[A-Za-z0-9][A-Za-z0-9._/:@-]{0,254}", "an image reference such as tether-delegate:0.1.0");
    checkUrl(managerUrl);
    if (ecsSecretArn != null) {
      check("--ecs-secret-arn", ecsSecretArn, "arn:[A-Za-z0-9:/_+=.@-]{1,2000}", "the ARN of a Secrets Manager secret or SSM parameter");
    }
    if (ecsExecutionRoleArn != null) {
      check("--ecs-execution-role-arn", ecsExecutionRoleArn, "arn:[A-Za-z0-9:/_+=.@-]{1,2000}", "the ARN of the task execution role");
    }
    if (existingDelegateToken != null) {
      check("--existing-delegate-token", existingDelegateToken, DNS_LABEL, "a Kubernetes Secret name");
    }
  }

  /** A spec with rotation enabled, the default of {@code install-files}. */
  public InstallSpec(String accountId, String tokenName, DelegateToken token, String managerUrl, String delegateName,
      String namespace, String image, String ecsSecretArn, String ecsExecutionRoleArn, String existingDelegateToken,
      Path delegateJar) {
    this(accountId, tokenName, token, managerUrl, delegateName, namespace, image, ecsSecretArn, ecsExecutionRoleArn,
        existingDelegateToken, delegateJar, true);
  }

  /** This spec with rotation enabled or not. */
  public InstallSpec withRotation(boolean enabled) {
    return new InstallSpec(accountId, tokenName, token, managerUrl, delegateName, namespace, image, ecsSecretArn,
        ecsExecutionRoleArn, existingDelegateToken, delegateJar, enabled);
  }

  private static void check(String flag, String value, String regex, String expected) {
    if (value == null) {
      throw new IllegalArgumentException(flag + " is missing (expected " + expected + ")");
    }
    // the shared rule first, so that a format or control character is named as U+XXXX
    UserText.refusedCharacter(flag, value).ifPresent(problem -> {
      throw new IllegalArgumentException(problem);
    });
    if (!value.matches(regex)) {
      throw new IllegalArgumentException(flag + " " + UserText.quote(value) + " is invalid (expected " + expected + ")");
    }
  }

  private static void checkUrl(String url) {
    String expected = "https://HOST:PORT, or http://HOST:PORT for a plaintext manager";
    check("--manager-url", url, "https?://[A-Za-z0-9.\\[\\]:-]+(:[0-9]{1,5})?/?", expected);
    try {
      URI uri = new URI(url);
      if (uri.getHost() == null) {
        throw new IllegalArgumentException("--manager-url " + UserText.quote(url) + " has no host (expected " + expected + ")");
      }
    } catch (URISyntaxException e) {
      throw new IllegalArgumentException("--manager-url " + UserText.quote(url) + " is invalid (expected " + expected + ")");
    }
  }

  @Override
  public String toString() {
    return "InstallSpec[" + accountId + "/" + tokenName + " " + token + " " + delegateName + "]";
  }
}
