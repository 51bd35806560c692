package dev.tether.delegate.config;

import dev.tether.common.token.DelegateToken;
import dev.tether.common.token.Secrets;
import java.io.IOException;
import java.io.Reader;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.YAMLException;

/**
 * Builds a {@link DelegateConfig} from {@code config-delegate.yaml} (optional) and the environment.
 * An environment variable overrides the YAML key of the same setting. Every missing or malformed
 * setting fails with a message naming it.
 */
public final class ConfigLoader {

  static final Set<String> YAML_KEYS = Set.of("accountId", "delegateToken", "accountSecret",
      "delegateTokenFile", "managerUrl", "delegateName", "delegateType", "delegateTags", "managerCaFile", "delegateHealthDir");
  private static final int MAX_CONFIG_BYTES = 64 * 1024;

  private ConfigLoader() {}

  public static DelegateConfig load(Map<String, String> env, Path yamlFile) {
    try {
      return loadUnredacted(env, yamlFile);
    } catch (ConfigException e) {
      // a value echoed in an error may be a token put in the wrong setting
      throw new ConfigException(Secrets.redact(e.getMessage(), env.get("DELEGATE_TOKEN")));
    }
  }

  private static DelegateConfig loadUnredacted(Map<String, String> env, Path yamlFile) {
    Map<String, Object> yaml = yamlFile == null ? Map.of() : readYaml(yamlFile);
    String file = yamlFile == null ? "config-delegate.yaml" : yamlFile.getFileName().toString();
    List<String> warnings = new ArrayList<>();

    String accountId = pick(env, "ACCOUNT_ID", yaml, "accountId", file);
    if (accountId == null) {
      throw new ConfigException("ACCOUNT_ID is not set (set the ACCOUNT_ID environment variable or"
          + " accountId in " + file + "; 'tether-manager account list' shows it)");
    }
    if (accountId.length() > 64 || !accountId.matches("[A-Za-z0-9._-]+")) {
      throw new ConfigException("ACCOUNT_ID '" + printable(accountId) + "' is malformed (expected 1 to 64"
          + " letters, digits, '.', '_' or '-')");
    }
    TokenSource token = token(env, yaml, file, warnings);
    String url = pick(env, "MANAGER_HOST_AND_PORT", yaml, "managerUrl", file);
    if (url == null) {
      throw new ConfigException("MANAGER_HOST_AND_PORT is not set (set it, or managerUrl in " + file
          + ", to the manager's address such as https://manager.example.com:7443)");
    }
    List<ManagerEndpoint> managers = ManagerEndpoint.parseList(
        env.containsKey("MANAGER_HOST_AND_PORT") ? "MANAGER_HOST_AND_PORT" : "managerUrl in " + file, url);
    String name = pick(env, "DELEGATE_NAME", yaml, "delegateName", file);
    if (name == null) {
      name = hostname();
    }
    if (name.length() > 128 || name.chars().anyMatch(Character::isISOControl)) {
      throw new ConfigException("DELEGATE_NAME is malformed (expected 1 to 128 printable characters)");
    }
    String type = pick(env, "DELEGATE_TYPE", yaml, "delegateType", file);
    if (type == null) {
      type = "SHELL_SCRIPT";
    }
    if (!type.matches("[A-Za-z0-9_-]{1,64}")) {
      throw new ConfigException("DELEGATE_TYPE '" + printable(type) + "' is malformed (expected a word such"
          + " as KUBERNETES, HELM, DOCKER, ECS, SHELL_SCRIPT or SYSTEMD)");
    }
    List<String> tags = tags(env, yaml, file);
    String ca = pick(env, "MANAGER_CA_FILE", yaml, "managerCaFile", file);
    Path caFile = null;
    if (ca != null) {
      caFile = path("MANAGER_CA_FILE", ca);
      if (!Files.isReadable(caFile)) {
        throw new ConfigException("MANAGER_CA_FILE " + ca + " is not a readable file (expected the"
            + " PEM certificate of the manager or of its CA)");
      }
      if (!managers.get(0).tls()) {
        throw new ConfigException("MANAGER_CA_FILE is set but MANAGER_HOST_AND_PORT uses http:// (plaintext);"
            + " use https:// or drop MANAGER_CA_FILE");
      }
    }
    String health = pick(env, "DELEGATE_HEALTH_DIR", yaml, "delegateHealthDir", file);
    return new DelegateConfig(accountId, token, managers, name, type, tags, caFile,
        health == null ? null : path("DELEGATE_HEALTH_DIR", health), List.copyOf(warnings));
  }

  private static TokenSource token(Map<String, String> env, Map<String, Object> yaml, String file,
      List<String> warnings) {
    String envValue = blankToNull(env.get("DELEGATE_TOKEN"));
    String envFile = blankToNull(env.get("DELEGATE_TOKEN_FILE"));
    if (envValue != null && envFile != null) {
      throw new ConfigException("both DELEGATE_TOKEN and DELEGATE_TOKEN_FILE are set (set only one:"
          + " DELEGATE_TOKEN_FILE lets a rotated token reach the delegate without a restart)");
    }
    if (envFile != null) {
      return new TokenSource.File("DELEGATE_TOKEN_FILE", tokenFile("DELEGATE_TOKEN_FILE", envFile));
    }
    if (envValue != null) {
      return new TokenSource.Fixed("DELEGATE_TOKEN", DelegateToken.parse("DELEGATE_TOKEN", envValue));
    }
    String yamlFile = string(yaml, "delegateTokenFile", file);
    String yamlToken = string(yaml, "delegateToken", file);
    String legacy = string(yaml, "accountSecret", file);
    if (yamlFile != null) {
      return new TokenSource.File("delegateTokenFile in " + file, tokenFile("delegateTokenFile in " + file, yamlFile));
    }
    if (yamlToken != null) {
      return new TokenSource.Fixed("delegateToken in " + file,
          DelegateToken.parse("delegateToken in " + file, yamlToken));
    }
    if (legacy != null) {
      warnings.add("accountSecret in " + file + " is deprecated: rename the key to delegateToken");
      return new TokenSource.Fixed("accountSecret in " + file, DelegateToken.parse("accountSecret in " + file, legacy));
    }
    throw new ConfigException("no delegate token: set DELEGATE_TOKEN or DELEGATE_TOKEN_FILE, or delegateToken"
        + " in " + file + " (create one with 'tether-manager token create')");
  }

  private static List<String> tags(Map<String, String> env, Map<String, Object> yaml, String file) {
    List<String> raw;
    String fromEnv = blankToNull(env.get("DELEGATE_TAGS"));
    if (Secrets.looksLikeToken(fromEnv) || Secrets.looksLikeToken(String.valueOf(yaml.get("delegateTags")))) {
      throw new ConfigException("DELEGATE_TAGS holds what looks like a delegate token; put the token in"
          + " DELEGATE_TOKEN or DELEGATE_TOKEN_FILE, never in another setting");
    }
    if (fromEnv != null) {
      raw = Arrays.asList(fromEnv.split(","));
    } else {
      Object fromYaml = yaml.get("delegateTags");
      if (fromYaml == null) {
        raw = List.of();
      } else if (fromYaml instanceof List<?> list) {
        raw = list.stream().map(String::valueOf).toList();
      } else if (fromYaml instanceof String s) {
        raw = Arrays.asList(s.split(","));
      } else {
        throw new ConfigException("delegateTags in " + file + " must be a list or a comma-separated string");
      }
    }
    List<String> tags = raw.stream().map(String::strip).filter(t -> !t.isEmpty()).distinct().toList();
    if (tags.size() > 64) {
      throw new ConfigException("DELEGATE_TAGS has " + tags.size() + " tags (expected at most 64)");
    }
    for (String tag : tags) {
      if (tag.length() > 64 || tag.chars().anyMatch(Character::isISOControl)) {
        throw new ConfigException("DELEGATE_TAGS has a malformed tag '" + printable(tag)
            + "' (expected at most 64 printable characters per tag)");
      }
    }
    return tags;
  }

  /** A non-secret setting; one that holds a token is refused, so the token is never echoed or sent. */
  private static String pick(Map<String, String> env, String envKey, Map<String, Object> yaml,
      String yamlKey, String file) {
    String fromEnv = blankToNull(env.get(envKey));
    String value = fromEnv != null ? fromEnv.strip() : string(yaml, yamlKey, file);
    if (Secrets.looksLikeToken(value)) {
      throw new ConfigException((fromEnv != null ? envKey : yamlKey + " in " + file) + " holds what looks like a"
          + " delegate token; put the token in DELEGATE_TOKEN or DELEGATE_TOKEN_FILE (delegateToken in the"
          + " config file), never in another setting");
    }
    return value;
  }

  private static String string(Map<String, Object> yaml, String key, String file) {
    Object value = yaml.get(key);
    if (value == null) {
      return null;
    }
    if (value instanceof Map || value instanceof List) {
      throw new ConfigException(key + " in " + file + " must be a single value, not a "
          + (value instanceof Map ? "mapping" : "list"));
    }
    return blankToNull(String.valueOf(value).strip());
  }

  private static Map<String, Object> readYaml(Path file) {
    try {
      if (Files.size(file) > MAX_CONFIG_BYTES) {
        throw new ConfigException("config file " + file + " is larger than " + MAX_CONFIG_BYTES
            + " bytes (expected a small config-delegate.yaml)");
      }
    } catch (IOException e) {
      throw new ConfigException("config file " + file + " cannot be read (" + e.getClass().getSimpleName() + ")");
    }
    LoaderOptions options = new LoaderOptions();
    options.setAllowDuplicateKeys(false);
    options.setMaxAliasesForCollections(10);
    options.setCodePointLimit(MAX_CONFIG_BYTES);
    Yaml yaml = new Yaml(new SafeConstructor(options));
    Object document;
    try (Reader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      document = yaml.load(reader);
    } catch (IOException e) {
      throw new ConfigException("config file " + file + " cannot be read (" + e.getClass().getSimpleName() + ")");
    } catch (YAMLException e) {
      // the parser's message quotes the offending text, which may be a token: report position only
      String where = e instanceof org.yaml.snakeyaml.error.MarkedYAMLException marked && marked.getProblemMark() != null
          ? " at line " + (marked.getProblemMark().getLine() + 1) + ", column " + (marked.getProblemMark().getColumn() + 1)
          : "";
      throw new ConfigException("config file " + file + " is not valid YAML" + where
          + " (expected keys such as accountId, delegateToken, managerUrl, delegateName)");
    }
    if (document == null) {
      return Map.of();
    }
    if (!(document instanceof Map<?, ?> map)) {
      throw new ConfigException("config file " + file + " must be a YAML mapping of keys to values"
          + " (accountId, delegateToken, managerUrl, delegateName)");
    }
    Map<String, Object> out = new java.util.HashMap<>();
    for (Map.Entry<?, ?> e : map.entrySet()) {
      String key = String.valueOf(e.getKey());
      if (!YAML_KEYS.contains(key)) {
        throw new ConfigException("config file " + file + " has an unknown key '" + printable(key)
            + "' (expected one of " + String.join(", ", new java.util.TreeSet<>(YAML_KEYS)) + ")");
      }
      out.put(key, e.getValue());
    }
    return out;
  }

  private static String hostname() {
    String fromEnv = System.getenv("HOSTNAME");
    if (fromEnv != null && !fromEnv.isBlank()) {
      return fromEnv.strip();
    }
    try {
      return InetAddress.getLocalHost().getHostName();
    } catch (IOException e) {
      return "delegate";
    }
  }

  /** The token file's path; the token itself given here is refused, since a path is shown in messages. */
  private static Path tokenFile(String source, String value) {
    if (Secrets.looksLikeToken(value)) {
      throw new ConfigException(source + " holds what looks like the delegate token itself (expected the path"
          + " of a file holding the token; to give the value directly use DELEGATE_TOKEN)");
    }
    return path(source, value);
  }

  private static Path path(String source, String value) {
    try {
      return Path.of(value);
    } catch (java.nio.file.InvalidPathException e) {
      throw new ConfigException(source + " is not a valid path (" + e.getReason() + ")");
    }
  }

  private static String blankToNull(String s) {
    return s == null || s.isBlank() ? null : s;
  }

  private static String printable(String s) {
    String cut = s.length() > 40 ? s.substring(0, 40) + "..." : s;
    return cut.replaceAll("\\p{Cntrl}", "?");
  }
}
