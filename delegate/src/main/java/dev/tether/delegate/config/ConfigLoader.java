package dev.tether.delegate.config;

import dev.tether.common.delegate.DelegateNames;
import dev.tether.common.delegate.DelegateTypes;
import dev.tether.common.files.PrivateFiles;
import dev.tether.common.text.UserText;
import dev.tether.common.token.DelegateToken;
import dev.tether.common.token.Secrets;
import dev.tether.common.token.TokenFormatException;
import dev.tether.delegate.connect.Channels;
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
 * setting fails with a message naming it. Before anything else, every setting other than the
 * token's own is searched for the token's value, so that a token put in the wrong place is refused
 * and never echoed, sent to the manager or stored there.
 */
public final class ConfigLoader {

  static final Set<String> YAML_KEYS = Set.of("accountId", "delegateToken", "accountSecret",
      "delegateTokenFile", "managerUrl", "delegateName", "delegateType", "delegateTags", "managerCaFile", "delegateHealthDir",
      "delegateOpsListen");
  /** The YAML keys that hold the token value itself. */
  private static final Set<String> TOKEN_YAML_KEYS = Set.of("delegateToken", "accountSecret");
  /**
   * Every environment variable the delegate reads, other than DELEGATE_TOKEN. HOSTNAME is among
   * them: it is the default delegate name and the host name sent to the manager.
   */
  static final List<String> OTHER_ENV = List.of("ACCOUNT_ID", "DELEGATE_TOKEN_FILE", "MANAGER_HOST_AND_PORT",
      "DELEGATE_NAME", "DELEGATE_TYPE", "DELEGATE_TAGS", "MANAGER_CA_FILE", "DELEGATE_HEALTH_DIR", "DELEGATE_OPS_LISTEN",
      "DELEGATE_TOKEN_SECRET", "DELEGATE_TOKEN_SECRET_NAMESPACE", "HOSTNAME");
  /** A Kubernetes object name (RFC 1123 subdomain), as a Secret's name must be. */
  private static final java.util.regex.Pattern SECRET_NAME =
      java.util.regex.Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*");
  /** A Kubernetes namespace name (RFC 1123 label). */
  private static final java.util.regex.Pattern NAMESPACE = java.util.regex.Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?");
  /** The limits of docs/protocol.md (Register), in Unicode code points. */
  static final int MAX_TAGS = 64;
  static final int MAX_TAG = 64;
  static final int MAX_TAG_CHARACTERS = 1024;
  private static final int MAX_CONFIG_BYTES = 64 * 1024;

  private ConfigLoader() {}

  /** A token value the configuration holds, and the setting it came from. */
  private record KnownToken(String source, String value) {
    @Override
    public String toString() {
      return "KnownToken[" + source + "]";
    }
  }

  public static DelegateConfig load(Map<String, String> env, Path yamlFile) {
    List<KnownToken> tokens = new ArrayList<>();
    try {
      Map<String, Object> yaml = yamlFile == null ? Map.of() : readYaml(yamlFile);
      String file = yamlFile == null ? "config-delegate.yaml" : yamlFile.getFileName().toString();
      tokens.addAll(knownTokens(env, yaml, file));
      refuseTokenInOtherSettings(env, yaml, file, tokens);
      DelegateConfig config = loadChecked(env, yaml, file, yamlFile);
      if (yamlFile != null && TOKEN_YAML_KEYS.stream().anyMatch(k -> yaml.get(k) != null)) {
        List<String> warnings = new ArrayList<>(config.warnings());
        tooOpen(yamlFile).ifPresent(warnings::add);
        config = config.withWarnings(List.copyOf(warnings));
      }
      return config;
    } catch (ConfigException e) {
      // a value echoed in an error may still be a token put in the wrong setting
      String[] secrets = java.util.stream.Stream.concat(tokens.stream().map(KnownToken::value),
          java.util.stream.Stream.of(env.get("DELEGATE_TOKEN"))).toArray(String[]::new);
      throw new ConfigException(Secrets.redact(e.getMessage(), secrets));
    }
  }

  /**
   * A warning when the config file, which holds a token, can be read by other users: the same
   * check the manager applies to its key files, as a warning, since the file is the operator's.
   */
  private static java.util.Optional<String> tooOpen(Path yamlFile) {
    try {
      return PrivateFiles.problem(yamlFile, "the delegate token").map(p -> "config file: " + p);
    } catch (IOException e) {
      return java.util.Optional.empty(); // it was just read; a file whose mode cannot be read is not reported
    }
  }

  /**
   * Every token value the configuration holds: DELEGATE_TOKEN, delegateToken, accountSecret and
   * the content of the token file, when there is one to read now. Only values that parse as a
   * token count, so a malformed one is reported by {@link #token} and not mistaken for a secret.
   */
  private static List<KnownToken> knownTokens(Map<String, String> env, Map<String, Object> yaml, String file) {
    List<KnownToken> out = new ArrayList<>();
    addIfToken(out, "DELEGATE_TOKEN", env.get("DELEGATE_TOKEN"));
    for (String key : TOKEN_YAML_KEYS) {
      Object value = yaml.get(key);
      addIfToken(out, key + " in " + file, value instanceof Map || value instanceof List ? null : stringOrNull(value));
    }
    addIfToken(out, "the file DELEGATE_TOKEN_FILE names", readTokenFile(env.get("DELEGATE_TOKEN_FILE")));
    Object yamlTokenFile = yaml.get("delegateTokenFile");
    addIfToken(out, "the file delegateTokenFile in " + file + " names",
        yamlTokenFile instanceof Map || yamlTokenFile instanceof List ? null : readTokenFile(stringOrNull(yamlTokenFile)));
    return out;
  }

  private static void addIfToken(List<KnownToken> out, String source, String value) {
    if (value == null || value.isBlank()) {
      return;
    }
    try {
      DelegateToken.parse(source, value);
      out.add(new KnownToken(source, value.strip()));
    } catch (TokenFormatException notAToken) {
      // reported by token() if this is the token the delegate uses
    }
  }

  /** The token file's content if it can be read now; a file that is not there yet is waited for later. */
  private static String readTokenFile(String path) {
    if (path == null || path.isBlank()) {
      return null;
    }
    try {
      Path file = Path.of(path.strip());
      if (!Files.isRegularFile(file) || Files.size(file) > MAX_CONFIG_BYTES) {
        return null;
      }
      return Files.readString(file, StandardCharsets.UTF_8);
    } catch (IOException | java.nio.file.InvalidPathException | SecurityException e) {
      return null;
    }
  }

  /**
   * Refuses any setting other than the token's own that holds a known token value, whole or as a
   * part (a tag, a name), and names the setting without echoing the value. Generated tokens are
   * also caught by their shape (see {@link #pick}); a custom token has no shape, so its value is
   * what is searched for.
   */
  private static void refuseTokenInOtherSettings(Map<String, String> env, Map<String, Object> yaml, String file,
      List<KnownToken> tokens) {
    for (String key : OTHER_ENV) {
      refuseIfHoldsToken(key, env.get(key), tokens);
    }
    for (Map.Entry<?, ?> e : yaml.entrySet()) {
      String key = String.valueOf(e.getKey());
      if (TOKEN_YAML_KEYS.contains(key)) {
        continue;
      }
      String setting = YAML_KEYS.contains(key) ? key + " in " + file : "a key of " + file;
      refuseIfHoldsToken(setting, key, tokens);
      refuseIfHoldsToken(setting, String.valueOf(e.getValue()), tokens);
    }
  }

  private static void refuseIfHoldsToken(String setting, String value, List<KnownToken> tokens) {
    if (value == null) {
      return;
    }
    for (KnownToken token : tokens) {
      if (value.contains(token.value())) {
        throw new ConfigException(setting + " holds the delegate token given in " + token.source()
            + "; put the token only in DELEGATE_TOKEN or DELEGATE_TOKEN_FILE (delegateToken or"
            + " delegateTokenFile in the config file), never in another setting");
      }
    }
  }

  private static DelegateConfig loadChecked(Map<String, String> env, Map<String, Object> yaml, String file,
      Path yamlFile) {
    for (Object key : yaml.keySet()) {
      if (!YAML_KEYS.contains(String.valueOf(key))) {
        throw new ConfigException("config file " + file + " has an unknown key " + UserText.quote(String.valueOf(key))
            + " (expected one of " + String.join(", ", new java.util.TreeSet<>(YAML_KEYS)) + ")");
      }
    }
    List<String> warnings = new ArrayList<>();

    String accountId = pick(env, "ACCOUNT_ID", yaml, "accountId", file);
    if (accountId == null) {
      throw new ConfigException("ACCOUNT_ID is not set (set the ACCOUNT_ID environment variable or"
          + " accountId in " + file + "; 'tether-manager account list' shows it)");
    }
    if (accountId.length() > 64 || !accountId.matches("[A-Za-z0-9._-]+")) {
      throw new ConfigException(setting(env, "ACCOUNT_ID", "accountId", file) + " " + UserText.quote(accountId)
          + " is malformed (expected 1 to 64 letters, digits, '.', '_' or '-')");
    }
    TokenChoice choice = token(env, yaml, file, warnings);
    TokenSource token = choice.source();
    tokenSecret(env);
    String url = pick(env, "MANAGER_HOST_AND_PORT", yaml, "managerUrl", file);
    if (url == null) {
      throw new ConfigException("MANAGER_HOST_AND_PORT is not set (set it, or managerUrl in " + file
          + ", to the manager's address such as https://manager.example.com:7443)");
    }
    List<ManagerEndpoint> managers = ManagerEndpoint.parseList(setting(env, "MANAGER_HOST_AND_PORT", "managerUrl", file), url);
    String hostnameVariable = blankToNull(env.get("HOSTNAME"));
    if (hostnameVariable != null) {
      // the agent sends it as the host name in Register; the manager would refuse the delegate forever
      refuse(UserText.refusedCharacter("HOSTNAME (the host name this delegate reports)", hostnameVariable.strip()));
    }
    String name = pick(env, "DELEGATE_NAME", yaml, "delegateName", file);
    if (name == null) {
      // the default follows the same rule: the host name made into one (Builder.example.com: builder-example-com)
      name = DelegateNames.fromText(hostname(env));
      if (name.isEmpty()) {
        name = "delegate";
      }
    }
    refuse(DelegateNames.problem(setting(env, "DELEGATE_NAME", "delegateName", file), name));
    String type = pick(env, "DELEGATE_TYPE", yaml, "delegateType", file);
    if (type == null) {
      type = DelegateTypes.DEFAULT;
    }
    String typeSetting = setting(env, "DELEGATE_TYPE", "delegateType", file);
    refuse(UserText.refusedCharacter(typeSetting, type));
    refuse(DelegateTypes.problem(typeSetting, type));
    type = DelegateTypes.normalise(type).orElseThrow();
    List<String> tags = tags(env, yaml, file);
    String ca = pick(env, "MANAGER_CA_FILE", yaml, "managerCaFile", file);
    Path caFile = null;
    if (ca != null) {
      caFile = path("MANAGER_CA_FILE", ca);
      if (!Files.isReadable(caFile)) {
        throw new ConfigException("MANAGER_CA_FILE " + UserText.quote(ca) + " is not a readable file (expected the"
            + " PEM certificate of the manager or of its CA)");
      }
      if (!managers.get(0).tls()) {
        throw new ConfigException("MANAGER_CA_FILE is set but MANAGER_HOST_AND_PORT uses http:// (plaintext);"
            + " use https:// or drop MANAGER_CA_FILE");
      }
      try {
        Channels.caTrust(caFile);
      } catch (IllegalArgumentException e) {
        throw new ConfigException(e.getMessage());
      }
    }
    String health = pick(env, "DELEGATE_HEALTH_DIR", yaml, "delegateHealthDir", file);
    OpsListen ops = opsListen(env, yaml, file).orElse(null);
    return new DelegateConfig(accountId, token, managers, name, type, tags, caFile,
        health == null ? null : path("DELEGATE_HEALTH_DIR", health), ops, List.copyOf(warnings),
        Keepers.of(token, env, yamlFile, TOKEN_YAML_KEYS.contains(choice.used()) ? choice.used() : null));
  }

  /**
   * DELEGATE_OPS_LISTEN, else delegateOpsListen: unset or {@code off} is no listener. YAML 1.1
   * reads a bare {@code off} as the boolean false, which means off here too.
   */
  private static java.util.Optional<OpsListen> opsListen(Map<String, String> env, Map<String, Object> yaml,
      String file) {
    if (blankToNull(env.get("DELEGATE_OPS_LISTEN")) == null && yaml.get("delegateOpsListen") instanceof Boolean on) {
      if (!on) {
        return java.util.Optional.empty();
      }
      throw new ConfigException("delegateOpsListen in " + file + " is 'true' (" + OpsListen.EXPECTED + ")");
    }
    if (blankToNull(env.get("DELEGATE_OPS_LISTEN")) == null && yaml.get("delegateOpsListen") instanceof List) {
      throw new ConfigException("delegateOpsListen in " + file + " is a list: an IPv6 address in brackets must be"
          + " quoted in YAML, as in delegateOpsListen: \"[::1]:9465\" (" + OpsListen.EXPECTED + ")");
    }
    String value = pick(env, "DELEGATE_OPS_LISTEN", yaml, "delegateOpsListen", file);
    return OpsListen.parse(setting(env, "DELEGATE_OPS_LISTEN", "delegateOpsListen", file), value);
  }

  private static void refuse(java.util.Optional<String> problem) {
    if (problem.isPresent()) {
      throw new ConfigException(problem.get());
    }
  }

  /** The name of a setting as the user gave it: the environment variable, else the YAML key. */
  private static String setting(Map<String, String> env, String envKey, String yamlKey, String file) {
    return blankToNull(env.get(envKey)) != null ? envKey : yamlKey + " in " + file;
  }

  /** The token's source, and the setting (environment variable or YAML key) it was read from. */
  private record TokenChoice(String used, TokenSource source) {}

  /**
   * DELEGATE_TOKEN_SECRET and DELEGATE_TOKEN_SECRET_NAMESPACE, which name the Kubernetes Secret a
   * rotated token is kept in: checked here, so that a typo fails at start and not at the first rotation.
   */
  private static void tokenSecret(Map<String, String> env) {
    String secret = blankToNull(env.get("DELEGATE_TOKEN_SECRET"));
    String namespace = blankToNull(env.get("DELEGATE_TOKEN_SECRET_NAMESPACE"));
    for (String key : List.of("DELEGATE_TOKEN_SECRET", "DELEGATE_TOKEN_SECRET_NAMESPACE")) {
      if (Secrets.looksLikeToken(env.get(key))) {
        throw new ConfigException(key + " holds what looks like a delegate token; it names the Kubernetes Secret"
            + " (and its namespace) that holds the token, never the token itself");
      }
    }
    if (secret != null && (secret.strip().length() > 253 || !SECRET_NAME.matcher(secret.strip()).matches())) {
      throw new ConfigException("DELEGATE_TOKEN_SECRET " + UserText.quote(secret) + " is not a Kubernetes Secret name"
          + " (expected at most 253 lowercase letters, digits, '-' and '.', starting and ending with a letter or"
          + " digit: the name of the Secret holding the key DELEGATE_TOKEN)");
    }
    if (namespace != null && secret == null) {
      throw new ConfigException("DELEGATE_TOKEN_SECRET_NAMESPACE is set but DELEGATE_TOKEN_SECRET is not (set"
          + " DELEGATE_TOKEN_SECRET to the name of the Secret holding the token, or unset both)");
    }
    if (namespace != null && (namespace.strip().length() > 63 || !NAMESPACE.matcher(namespace.strip()).matches())) {
      throw new ConfigException("DELEGATE_TOKEN_SECRET_NAMESPACE " + UserText.quote(namespace) + " is not a"
          + " Kubernetes namespace name (expected at most 63 lowercase letters, digits and '-', starting and ending"
          + " with a letter or digit; unset it to use the delegate's own namespace)");
    }
  }

  private static TokenChoice token(Map<String, String> env, Map<String, Object> yaml, String file,
      List<String> warnings) {
    String envValue = blankToNull(env.get("DELEGATE_TOKEN"));
    String envFile = blankToNull(env.get("DELEGATE_TOKEN_FILE"));
    if (envValue != null && envFile != null) {
      throw new ConfigException("both DELEGATE_TOKEN and DELEGATE_TOKEN_FILE are set (set only one:"
          + " DELEGATE_TOKEN_FILE lets a rotated token reach the delegate without a restart)");
    }
    // the order of precedence; the first one set is used, and each other one set is ignored with a warning
    List<String> settings = List.of("DELEGATE_TOKEN_FILE", "DELEGATE_TOKEN", "delegateTokenFile", "delegateToken",
        "accountSecret");
    List<String> set = settings.stream().filter(key -> key.startsWith("DELEGATE_")
        ? blankToNull(env.get(key)) != null
        : yaml.get(key) != null && !String.valueOf(yaml.get(key)).isBlank()).toList();
    if (set.isEmpty()) {
      throw new ConfigException("no delegate token: set DELEGATE_TOKEN or DELEGATE_TOKEN_FILE, or delegateToken"
          + " in " + file + " (create one with 'tether-manager token create')");
    }
    String used = set.get(0);
    String usedName = used.startsWith("DELEGATE_") ? used : used + " in " + file;
    for (String ignored : set.subList(1, set.size())) {
      if (ignored.startsWith("DELEGATE_")) {
        continue; // both variables set is refused above
      }
      warnings.add(ignored + " in " + file + " is ignored because " + usedName + " is set"
          + (ignored.equals("accountSecret") ? " (accountSecret is the deprecated name of delegateToken)" : "")
          + ": remove " + ignored + " from " + file + ", so that the token in use is the only one written down");
    }
    return new TokenChoice(used, switch (used) {
      case "DELEGATE_TOKEN_FILE" -> new TokenSource.File(used, tokenFile(used, envFile));
      case "DELEGATE_TOKEN" -> new TokenSource.Fixed(used, DelegateToken.parse(used, envValue));
      case "delegateTokenFile" -> new TokenSource.File(usedName, tokenFile(usedName, string(yaml, used, file)));
      case "delegateToken" -> new TokenSource.Fixed(usedName, DelegateToken.parse(usedName, string(yaml, used, file)));
      default -> {
        warnings.add("accountSecret in " + file + " is deprecated: rename the key to delegateToken");
        yield new TokenSource.Fixed(usedName, DelegateToken.parse(usedName, string(yaml, used, file)));
      }
    });
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
    String setting = setting(env, "DELEGATE_TAGS", "delegateTags", file);
    List<String> tags = raw.stream().map(String::strip).filter(t -> !t.isEmpty()).distinct().toList();
    if (tags.size() > MAX_TAGS) {
      throw new ConfigException(setting + " has " + tags.size() + " tags (expected at most " + MAX_TAGS + ")");
    }
    int characters = 0;
    for (int i = 0; i < tags.size(); i++) {
      refuse(UserText.problem(setting + " tag " + (i + 1), tags.get(i), 1, MAX_TAG));
      characters += UserText.length(tags.get(i)) + 1;
    }
    if (characters > MAX_TAG_CHARACTERS) {
      throw new ConfigException(setting + " has " + characters + " characters with one separator per tag"
          + " (expected at most " + MAX_TAG_CHARACTERS + ", the manager's limit)");
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

  private static String stringOrNull(Object value) {
    return value == null ? null : String.valueOf(value);
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
    // unknown keys are refused by loadChecked, after the search for a misplaced token: a key may be one
    Map<String, Object> out = new java.util.HashMap<>();
    for (Map.Entry<?, ?> e : map.entrySet()) {
      out.put(String.valueOf(e.getKey()), e.getValue());
    }
    return out;
  }

  private static String hostname(Map<String, String> env) {
    String fromEnv = env.get("HOSTNAME");
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
}
