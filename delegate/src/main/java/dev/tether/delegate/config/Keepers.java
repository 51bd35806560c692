package dev.tether.delegate.config;

import dev.tether.delegate.rotation.FixedSourceKeeper;
import dev.tether.delegate.rotation.SecretTokenKeeper;
import dev.tether.delegate.rotation.TokenFileKeeper;
import dev.tether.delegate.rotation.TokenKeeper;
import dev.tether.delegate.rotation.YamlTokenKeeper;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

/** Picks the {@link TokenKeeper} for where the delegate's token comes from. */
final class Keepers {

  private Keepers() {}

  /**
   * The keeper for a token from {@code source}: the Kubernetes Secret when DELEGATE_TOKEN_SECRET
   * names one (on Kubernetes the token file is a read-only mount of it), else the token file, the
   * YAML key {@code yamlKey} of {@code yamlFile}, or none for the environment.
   *
   * @param yamlKey the YAML key the token was read from, or null if it was not read from YAML
   */
  static TokenKeeper of(TokenSource source, Map<String, String> env, Path yamlFile, String yamlKey) {
    String secret = blankToNull(env.get("DELEGATE_TOKEN_SECRET"));
    if (secret != null) {
      return SecretTokenKeeper.inCluster(secret.strip(), strippedOrNull(env.get("DELEGATE_TOKEN_SECRET_NAMESPACE")),
          env);
    }
    if (source instanceof TokenSource.File file) {
      Optional<Path> credentials = Optional.ofNullable(blankToNull(env.get("CREDENTIALS_DIRECTORY"))).map(Path::of);
      return new TokenFileKeeper(file.path(), credentials);
    }
    if (yamlKey != null && yamlFile != null) {
      return new YamlTokenKeeper(yamlFile, yamlKey);
    }
    if (source.describe().equals("DELEGATE_TOKEN")) {
      return FixedSourceKeeper.environment(env);
    }
    return new FixedSourceKeeper(source.describe(), "the token comes from " + source.describe() + ", which a running"
        + " process cannot change: set the new token where the delegate is installed and restart it");
  }

  /** The keeper for a configuration built in code, with no environment or YAML file behind it. */
  static TokenKeeper of(TokenSource source) {
    return of(source, Map.of(), null, null);
  }

  private static String blankToNull(String s) {
    return s == null || s.isBlank() ? null : s;
  }

  private static String strippedOrNull(String s) {
    return s == null || s.isBlank() ? null : s.strip();
  }
}
