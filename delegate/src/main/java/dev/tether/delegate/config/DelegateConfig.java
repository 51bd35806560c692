package dev.tether.delegate.config;

import java.nio.file.Path;
import java.util.List;

/** A delegate's complete configuration, after merging the YAML file and the environment. */
public record DelegateConfig(
    String accountId,
    TokenSource token,
    ManagerEndpoint manager,
    String delegateName,
    String delegateType,
    List<String> tags,
    Path caFile,
    List<String> warnings) {}
