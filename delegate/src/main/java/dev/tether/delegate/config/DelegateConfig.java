package dev.tether.delegate.config;

import java.nio.file.Path;
import java.util.List;

/**
 * A delegate's complete configuration, after merging the YAML file and the environment.
 * {@code healthDir} (optional) receives the probe files {@code alive} and {@code ready}.
 */
public record DelegateConfig(
    String accountId,
    TokenSource token,
    ManagerEndpoint manager,
    String delegateName,
    String delegateType,
    List<String> tags,
    Path caFile,
    Path healthDir,
    List<String> warnings) {}
