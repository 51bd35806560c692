package dev.tether.delegate.config;

import dev.tether.delegate.rotation.TokenKeeper;
import java.nio.file.Path;
import java.util.List;

/**
 * A delegate's complete configuration, after merging the YAML file and the environment.
 * {@code managers} lists one or more manager replicas (all TLS or all plaintext); {@code healthDir}
 * (optional) receives the probe files {@code alive} and {@code ready}; {@code opsListen} (optional,
 * null when off) is where {@code /metrics}, {@code /healthz} and {@code /readyz} are served;
 * {@code keeper} stores a successor token where {@code token} comes from (token rotation).
 */
public record DelegateConfig(
    String accountId,
    TokenSource token,
    List<ManagerEndpoint> managers,
    String delegateName,
    String delegateType,
    List<String> tags,
    Path caFile,
    Path healthDir,
    OpsListen opsListen,
    List<String> warnings,
    TokenKeeper keeper) {

  /** A null keeper is the one for {@code token} alone (a configuration built in code, as tests do). */
  public DelegateConfig {
    if (keeper == null) {
      keeper = Keepers.of(token);
    }
  }

  /** With the keeper for {@code token} alone. */
  public DelegateConfig(String accountId, TokenSource token, List<ManagerEndpoint> managers, String delegateName,
      String delegateType, List<String> tags, Path caFile, Path healthDir, OpsListen opsListen, List<String> warnings) {
    this(accountId, token, managers, delegateName, delegateType, tags, caFile, healthDir, opsListen, warnings, null);
  }

  /** Without an ops listener. */
  public DelegateConfig(String accountId, TokenSource token, List<ManagerEndpoint> managers, String delegateName,
      String delegateType, List<String> tags, Path caFile, Path healthDir, List<String> warnings) {
    this(accountId, token, managers, delegateName, delegateType, tags, caFile, healthDir, null, warnings, null);
  }

  /** The first manager (the only one, in a single-manager setup). */
  public ManagerEndpoint manager() {
    return managers.get(0);
  }

  /** The same configuration with the ops listener at {@code value} (null: none). */
  public DelegateConfig withOpsListen(OpsListen value) {
    return new DelegateConfig(accountId, token, managers, delegateName, delegateType, tags, caFile, healthDir, value,
        warnings, keeper);
  }

  /** The same configuration with {@code value} as its warnings. */
  DelegateConfig withWarnings(List<String> value) {
    return new DelegateConfig(accountId, token, managers, delegateName, delegateType, tags, caFile, healthDir,
        opsListen, value, keeper);
  }
}
