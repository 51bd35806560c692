package dev.tether.delegate.config;

import java.nio.file.Path;
import java.util.List;

/**
 * A delegate's complete configuration, after merging the YAML file and the environment.
 * {@code managers} lists one or more manager replicas (all TLS or all plaintext); {@code healthDir}
 * (optional) receives the probe files {@code alive} and {@code ready}.
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
    List<String> warnings) {

  /** The first manager (the only one, in a single-manager setup). */
  public ManagerEndpoint manager() {
    return managers.get(0);
  }
}
