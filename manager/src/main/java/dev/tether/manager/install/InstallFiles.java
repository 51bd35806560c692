package dev.tether.manager.install;

import dev.tether.common.files.PrivateFiles;
import dev.tether.common.text.UserText;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Writes the files that install a delegate of one {@link InstallType}, from templates shipped in
 * the manager jar. The token goes only where that install keeps secrets (a Secret, a 0600 file,
 * a secrets reference); files holding it are written 0600, atomically, and the directories this
 * creates are 0700. The other files (scripts, chart, unit, settings) hold no secret.
 */
public final class InstallFiles {

  private static final Pattern PLACEHOLDER = Pattern.compile("@@([A-Z_]+)@@");
  // .helmignore stays in scripts/helm/tether-delegate (and the jar): the output directory holds no dot file
  private static final List<String> CHART_FILES = List.of("Chart.yaml", "values.yaml", "values.schema.json",
      "templates/_helpers.tpl", "templates/secret.yaml", "templates/serviceaccount.yaml", "templates/rbac.yaml",
      "templates/deployment.yaml", "templates/NOTES.txt", ".helmignore");
  /** The install types whose delegate runs in a container, where the host's loopback is out of reach. */
  private static final Set<InstallType> CONTAINERS = EnumSet.of(InstallType.KUBERNETES, InstallType.HELM,
      InstallType.DOCKER, InstallType.ECS);
  private static final Pattern IPV4_LITERAL = Pattern.compile("[0-9]{1,3}(\\.[0-9]{1,3}){3}");
  private static final Pattern LABEL_VALUE_REFUSED = Pattern.compile("[^A-Za-z0-9._-]");

  private InstallFiles() {}

  /** Writes the files into {@code out} (created; must be empty) and returns their paths. */
  public static List<Path> write(InstallType type, InstallSpec spec, Path out) throws IOException {
    prepare(out);
    Map<String, String> values = values(spec);
    List<Path> written = new ArrayList<>();
    switch (type) {
      case KUBERNETES -> {
        Map<String, String> k8s = kubernetesValues(spec, values);
        // with an existing Secret the manifest holds no token and may live in Git
        written.add(template("kubernetes/tether-delegate.yaml", k8s, out.resolve("tether-delegate.yaml"),
            spec.existingDelegateToken() == null));
        // the namespace in a file of its own: it is shared, and a delete -f of one delegate must not take it
        written.add(template("kubernetes/namespace.yaml", values, out.resolve("namespace.yaml"), false));
      }
      case HELM -> {
        for (String file : CHART_FILES) {
          written.add(copy("helm-chart/" + file, out.resolve("tether-delegate").resolve(file)));
        }
        written.add(template("helm/values.yaml", values, out.resolve("values-" + spec.delegateName() + ".yaml"),
            spec.existingDelegateToken() == null));
      }
      case DOCKER -> {
        for (String script : List.of("docker-run.sh", "docker-stop.sh", "docker-upgrade.sh")) {
          written.add(executable(template("docker/" + script, values, out.resolve(script), false)));
        }
        written.add(secretFile(out.resolve("secrets").resolve("delegate-token"), spec));
        // the build context is this directory: the Dockerfile copies tether-delegate.jar from beside it
        written.add(copy("docker-image/Dockerfile", out.resolve("Dockerfile")));
        copyJar(spec, out).ifPresent(written::add);
      }
      case ECS -> {
        if (spec.ecsSecretArn() == null || spec.ecsExecutionRoleArn() == null) {
          throw new IllegalArgumentException("--type ecs needs --ecs-secret-arn (the secret the task reads"
              + " DELEGATE_TOKEN from) and --ecs-execution-role-arn (the role allowed to read it)");
        }
        Map<String, String> ecs = EcsNames.of(spec).addTo(values);
        written.add(template("ecs/task-definition.json", ecs, out.resolve("task-definition.json"), false));
        written.add(template("ecs/execution-role-policy.json", ecs, out.resolve("execution-role-policy.json"), false));
        written.add(executable(template("ecs/put-secret.sh", ecs, out.resolve("put-secret.sh"), false)));
        written.add(executable(template("ecs/create-log-group.sh", ecs, out.resolve("create-log-group.sh"), false)));
        written.add(secretFile(out.resolve("delegate-token"), spec));
      }
      case SHELL -> {
        // the token in a 0600 file of its own, which the delegate re-reads: a rotation is a file replaced
        written.add(template("shell/config-delegate.yaml", values, out.resolve("config-delegate.yaml"), false));
        written.add(secretFile(out.resolve("delegate-token"), spec));
        written.add(executable(template("shell/start.sh", values, out.resolve("start.sh"), false)));
        written.add(executable(template("shell/stop.sh", values, out.resolve("stop.sh"), false)));
        copyJar(spec, out).ifPresent(written::add);
      }
      case SYSTEMD -> {
        // one template unit for every delegate of the host; install.sh moves the token into /etc
        written.add(copy("systemd/tether-delegate@.service", out.resolve("tether-delegate@.service")));
        written.add(template("systemd/delegate.env", values, out.resolve("delegate.env"), false));
        written.add(executable(template("systemd/install.sh", values, out.resolve("install.sh"), false)));
        written.add(secretFile(out.resolve("delegate-token"), spec));
        copyJar(spec, out).ifPresent(written::add);
      }
      default -> throw new IllegalStateException("unhandled install type " + type);
    }
    return written;
  }

  /**
   * Warnings about {@code spec} for an install of {@code type} that would write fine but not work,
   * one line each: a manager URL on a loopback address for a delegate in a container.
   */
  public static List<String> warnings(InstallType type, InstallSpec spec) {
    List<String> warnings = new ArrayList<>();
    if (CONTAINERS.contains(type) && isLoopback(URI.create(spec.managerUrl()).getHost())) {
      warnings.add("--manager-url " + UserText.quote(spec.managerUrl()) + " is a loopback address, which a delegate"
          + " in a container (" + type + ") cannot reach: it is the container's own loopback, not the manager's host."
          + " Use an address of the manager that the " + (type == InstallType.DOCKER ? "container" : "pod")
          + " can reach (a DNS name, a Service, the host's IP).");
    }
    return warnings;
  }

  /** Loopback or unspecified: literals are parsed, never resolved, and "localhost" names are matched. */
  static boolean isLoopback(String host) {
    if (host == null) {
      return false;
    }
    String h = host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
    String lower = h.toLowerCase(Locale.ROOT);
    if (lower.equals("localhost") || lower.endsWith(".localhost") || lower.equals("localhost.")) {
      return true;
    }
    if (IPV4_LITERAL.matcher(h).matches() || h.contains(":")) {
      try {
        // a literal address: InetAddress parses it without a name lookup
        InetAddress address = InetAddress.getByName(h);
        return address.isLoopbackAddress() || address.isAnyLocalAddress();
      } catch (UnknownHostException e) {
        return false;
      }
    }
    return false;
  }

  /**
   * The manifest's Secret document (or a note naming the existing Secret), its labels, and with
   * rotation the ServiceAccount, Role and RoleBinding that let the delegate update that Secret.
   */
  private static Map<String, String> kubernetesValues(InstallSpec spec, Map<String, String> values) {
    Map<String, String> k8s = new LinkedHashMap<>(values);
    String image = spec.image();
    int colon = image.lastIndexOf(':');
    // the tag names the delegate's version; an untagged image is "latest", as for the container runtime
    k8s.put("KUBE_VERSION_LABEL_QUOTED", Quote.json(versionLabel(colon > image.lastIndexOf('/') ? image.substring(colon + 1) : "latest")));
    if (spec.existingDelegateToken() == null) {
      k8s.put("KUBE_SECRET_NAME", spec.delegateName() + "-token");
      k8s.put("KUBE_TOKEN_NOTE", "The token lives only in the Secret below (keep this file private: mode 0600).");
      k8s.put("KUBE_SECRET_DOCUMENT", render("kubernetes/secret.yaml", k8s));
    } else {
      k8s.put("KUBE_SECRET_NAME", spec.existingDelegateToken());
      k8s.put("KUBE_TOKEN_NOTE", "The token is in the existing Secret '" + spec.existingDelegateToken()
          + "' (key DELEGATE_TOKEN), not in this file: it may live in Git.");
      k8s.put("KUBE_SECRET_DOCUMENT", "");
    }
    String secretName = k8s.get("KUBE_SECRET_NAME");
    if (spec.rotation()) {
      k8s.put("KUBE_ROTATION_NOTE", "# Rotation is enabled: the delegate writes a token the manager pushes (token rotate)\n"
          + "# into the Secret '" + secretName + "', as the ServiceAccount below, whose Role may get,\n"
          + "# update and patch that one Secret only. "
          + (spec.existingDelegateToken() == null
              ? "After a rotation this file holds the old token: do\n# not apply it again (write new files, or use"
                  + " --existing-delegate-token)."
              : "If a sync (External Secrets, Vault) owns that Secret,\n# it writes the old token back: rotate in the"
                  + " store instead, and write these files with --no-rotation."));
      k8s.put("KUBE_RBAC_DOCUMENTS", render("kubernetes/rotation-rbac.yaml", k8s));
      k8s.put("KUBE_POD_IDENTITY", String.join("\n",
          "      serviceAccountName: " + spec.delegateName(),
          "      # the delegate updates its token's Secret through the Kubernetes API with this token",
          "      automountServiceAccountToken: true"));
      k8s.put("KUBE_ROTATION_ENV", String.join("\n",
          "            # where the delegate keeps a token the manager pushes: this Secret, in the pod's namespace",
          "            - name: DELEGATE_TOKEN_SECRET",
          "              value: " + Quote.json(secretName),
          "            - name: DELEGATE_TOKEN_SECRET_NAMESPACE",
          "              valueFrom:",
          "                fieldRef:",
          "                  fieldPath: metadata.namespace",
          ""));
    } else {
      k8s.put("KUBE_ROTATION_NOTE", "# Rotation is disabled (--no-rotation): the delegate cannot keep a token the manager\n"
          + "# pushes and calls no Kubernetes API, so no service account token is mounted.");
      k8s.put("KUBE_RBAC_DOCUMENTS", "");
      k8s.put("KUBE_POD_IDENTITY", "      # the delegate calls no Kubernetes API\n      automountServiceAccountToken: false");
      k8s.put("KUBE_ROTATION_ENV", "");
    }
    return k8s;
  }

  /** An image tag as a Kubernetes label value: at most 63 of [A-Za-z0-9._-], alphanumeric at both ends. */
  static String versionLabel(String tag) {
    String label = LABEL_VALUE_REFUSED.matcher(tag).replaceAll("-");
    label = label.length() > 63 ? label.substring(0, 63) : label;
    label = label.replaceAll("^[^A-Za-z0-9]+", "").replaceAll("[^A-Za-z0-9]+$", "");
    return label.isEmpty() ? "unknown" : label;
  }

  static Map<String, String> values(InstallSpec spec) {
    Map<String, String> v = new LinkedHashMap<>();
    String token = spec.token().reveal();
    String image = spec.image();
    int colon = image.lastIndexOf(':');
    boolean hasTag = colon > image.lastIndexOf('/');
    v.put("ACCOUNT_ID", spec.accountId());
    v.put("TOKEN_NAME", spec.tokenName());
    v.put("DELEGATE_NAME", spec.delegateName());
    v.put("NAMESPACE", spec.namespace());
    v.put("MANAGER_URL", spec.managerUrl());
    v.put("ECS_SECRET_ARN", spec.ecsSecretArn() == null ? "" : spec.ecsSecretArn());
    for (Map.Entry<String, String> e : Map.of("ACCOUNT_ID", spec.accountId(), "DELEGATE_NAME", spec.delegateName(),
        "MANAGER_URL", spec.managerUrl(), "IMAGE", image, "TOKEN", token,
        "IMAGE_REPOSITORY", hasTag ? image.substring(0, colon) : image, "IMAGE_TAG", hasTag ? image.substring(colon + 1) : "latest",
        "ECS_SECRET_ARN", spec.ecsSecretArn() == null ? "" : spec.ecsSecretArn(),
        "ECS_EXECUTION_ROLE", spec.ecsExecutionRoleArn() == null ? "" : spec.ecsExecutionRoleArn(),
        "ECS_FAMILY", "tether-delegate-" + spec.delegateName()).entrySet()) {
      v.put(e.getKey() + "_QUOTED", Quote.json(e.getValue()));
      v.put(e.getKey() + "_SHELL", Quote.shell(e.getValue()));
    }
    // docker: the delegate keeps a pushed token by replacing the file, so the directory is mounted writable
    v.put("DOCKER_TOKEN_MOUNT", spec.rotation() ? "rw" : "ro");
    v.put("DOCKER_ROTATION", spec.rotation() ? "true" : "false");
    v.put("HELM_ROTATION_ENABLED", spec.rotation() ? "true" : "false");
    v.put("HELM_TOKEN_LINES", spec.existingDelegateToken() == null
        ? "delegateToken: " + Quote.json(token)
        : "# the token is in the existing Secret '" + spec.existingDelegateToken() + "', key DELEGATE_TOKEN\n"
            + "existingDelegateToken: " + Quote.json(spec.existingDelegateToken()));
    return v;
  }

  private static void prepare(Path out) throws IOException {
    if (Files.exists(out)) {
      if (!Files.isDirectory(out)) {
        throw new IllegalArgumentException("--out " + UserText.quote(out.toString()) + " is a file (expected a new or empty directory)");
      }
      try (var entries = Files.list(out)) {
        if (entries.findAny().isPresent()) {
          throw new IllegalArgumentException("--out " + UserText.quote(out.toString()) + " is not empty (expected a new or empty"
              + " directory; nothing was overwritten)");
        }
      }
    }
    // the directory holds the token (or a file naming it): only its owner may list or change it
    PrivateFiles.createDirectory(out);
  }

  private static Path template(String resource, Map<String, String> values, Path target, boolean secret)
      throws IOException {
    return writeFile(target, render(resource, values), secret);
  }

  private static String render(String resource, Map<String, String> values) {
    String text = resource(resource);
    Matcher m = PLACEHOLDER.matcher(text);
    StringBuilder out = new StringBuilder();
    while (m.find()) {
      String value = values.get(m.group(1));
      if (value == null) {
        throw new IllegalStateException("template " + resource + " uses unknown placeholder " + m.group(1));
      }
      m.appendReplacement(out, Matcher.quoteReplacement(value));
    }
    m.appendTail(out);
    return out.toString();
  }

  private static Path copy(String resource, Path target) throws IOException {
    return writeFile(target, resource(resource), false);
  }

  private static Path secretFile(Path target, InstallSpec spec) throws IOException {
    return writeFile(target, spec.token().reveal() + "\n", true);
  }

  private static Path writeFile(Path target, String content, boolean secret) throws IOException {
    if (secret) {
      PrivateFiles.createDirectory(target.getParent());
      if (!PrivateFiles.createFile(target, content.getBytes(StandardCharsets.UTF_8))) {
        throw new FileAlreadyExistsException(target.toString());
      }
    } else {
      Files.createDirectories(target.getParent());
      Files.writeString(target, content, StandardCharsets.UTF_8);
    }
    return target;
  }

  private static Path executable(Path file) throws IOException {
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
    return file;
  }

  private static java.util.Optional<Path> copyJar(InstallSpec spec, Path out) throws IOException {
    if (spec.delegateJar() == null) {
      return java.util.Optional.empty();
    }
    if (!Files.isRegularFile(spec.delegateJar())) {
      throw new IllegalArgumentException("--delegate-jar " + UserText.quote(spec.delegateJar().toString()) + " is not a file"
          + " (expected delegate/target/tether-delegate.jar)");
    }
    Path target = out.resolve("tether-delegate.jar");
    Files.copy(spec.delegateJar(), target, StandardCopyOption.REPLACE_EXISTING);
    return java.util.Optional.of(target);
  }

  private static String resource(String name) {
    try (InputStream in = InstallFiles.class.getResourceAsStream("/install/" + name)) {
      if (in == null) {
        throw new IllegalStateException("install template /install/" + name + " is missing from the jar");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
