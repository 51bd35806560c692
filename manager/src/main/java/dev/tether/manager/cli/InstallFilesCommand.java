package dev.tether.manager.cli;

import dev.tether.common.text.UserText;
import dev.tether.common.token.DelegateToken;
import dev.tether.common.token.TokenFormatException;
import dev.tether.manager.install.DelegateImage;
import dev.tether.manager.install.InstallFiles;
import dev.tether.manager.install.InstallSpec;
import dev.tether.manager.install.InstallType;
import dev.tether.proto.admin.v1.PrepareInstallRequest;
import dev.tether.proto.admin.v1.PrepareInstallResponse;
import dev.tether.proto.admin.v1.TokenAdminGrpc;
import io.grpc.CallCredentials;
import io.grpc.ManagedChannel;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code tether-manager delegate install-files}: writes the files that install a delegate with a
 * given token, after the manager's PrepareInstall has checked that the token exists, is active,
 * and is the one whose value was supplied, and has recorded in the audit trail who wrote them (an
 * operator's call: a viewer is refused before any file is written).
 */
@Command(name = "install-files", mixinStandardHelpOptions = true,
    description = "Write install files for a delegate (kubernetes, helm, docker, ecs, shell, systemd)."
        + " The token value comes from --token-file or standard input: the manager cannot show it again.")
final class InstallFilesCommand extends AdminCommand {

  @Option(names = "--type", required = true, paramLabel = "TYPE",
      description = "kubernetes, helm, docker, ecs, shell or systemd.")
  String type;

  @Option(names = "--account", required = true, paramLabel = "ACCOUNT_ID",
      description = "The account of the delegate and its token (its id, from 'account list').") String account;

  @Option(names = "--token-name", required = true, paramLabel = "NAME",
      description = "The name of the active token whose value --token-file or standard input holds.") String tokenName;

  @Option(names = "--token-file", paramLabel = "FILE",
      description = "File holding the token value (default: read it from standard input).")
  Path tokenFile;

  @Option(names = "--out", required = true, paramLabel = "DIR", description = "New or empty directory to write into.")
  Path out;

  @Option(names = "--manager-url", required = true, paramLabel = "URL",
      description = "The manager address delegates use, https://HOST:PORT.")
  String managerUrl;

  @Option(names = "--delegate-name", required = true, paramLabel = "NAME",
      description = "Lowercase letters, digits and '-' (it names Kubernetes objects and containers).")
  String delegateName;

  @Option(names = "--namespace", paramLabel = "NAMESPACE", defaultValue = "tether",
      description = "kubernetes, helm: the namespace (default: ${DEFAULT-VALUE}).")
  String namespace;

  @Option(names = "--image", paramLabel = "IMAGE",
      description = "Delegate image (default: the one published for this release, REGISTRY/tether-delegate:VERSION;"
          + " tether-delegate:VERSION for a build of your own).")
  String image;

  @Option(names = "--existing-delegate-token", paramLabel = "NAME",
      description = "kubernetes, helm: an existing Secret holding DELEGATE_TOKEN; the token is then not written anywhere.")
  String existingDelegateToken;

  @Option(names = "--ecs-secret-arn", paramLabel = "ARN", description = "ecs: the secret the task reads DELEGATE_TOKEN from.")
  String ecsSecretArn;

  @Option(names = "--ecs-execution-role-arn", paramLabel = "ARN", description = "ecs: the task execution role.")
  String ecsExecutionRoleArn;

  @Option(names = "--no-rotation",
      description = "kubernetes, helm, docker: do not let the delegate keep a token the manager pushes ('token rotate'):"
          + " no ServiceAccount, Role and service account token (kubernetes, helm), the token directory mounted read-only"
          + " (docker). Without it (the default) they do; shell always can, systemd and ecs never can (docs/rotation.md).")
  boolean noRotation;

  @Option(names = "--delegate-jar", paramLabel = "FILE", description = "shell, systemd, docker: copy this tether-delegate.jar into DIR.")
  Path delegateJar;

  /** The result fields beyond PrepareInstall's: what was written where. */
  private static final List<String> EXTRA_FIELDS = List.of("install_type", "delegate_name", "out", "files");

  @Override
  List<String> fields() {
    List<String> fields = new ArrayList<>(Output.fieldNames(PrepareInstallResponse.getDescriptor()));
    fields.addAll(EXTRA_FIELDS);
    return fields;
  }

  @Override
  void run(ManagedChannel channel, CallCredentials credentials) {
    InstallType installType = InstallType.parse(type);
    DelegateToken token = readToken();
    // a custom token's id in this account costs one Argon2id evaluation, done once here
    String tokenId = token.credential(account).publicId();
    // the spec checks its names first: a refused name never reaches the audit trail as an install
    InstallSpec spec = new InstallSpec(account, tokenName, token, managerUrl, delegateName, namespace,
        image != null ? image : DelegateImage.defaultImage(),
        ecsSecretArn, ecsExecutionRoleArn, installType == InstallType.HELM || installType == InstallType.KUBERNETES ? existingDelegateToken : null, delegateJar,
        !noRotation);
    // on stderr, so that --json and --field output stays parseable
    InstallFiles.warnings(installType, spec).forEach(warning -> System.err.println("warning: " + warning));
    PrepareInstallResponse prepared = TokenAdminGrpc.newBlockingStub(channel).withCallCredentials(credentials)
        .withDeadlineAfter(deadline(), deadlineUnit())
        .prepareInstall(PrepareInstallRequest.newBuilder().setAccountId(account).setTokenName(tokenName)
            .setTokenId(tokenId).setInstallType(installType.name().toLowerCase(Locale.ROOT))
            .setDelegateName(delegateName).build());
    List<Path> files;
    try {
      files = InstallFiles.write(installType, spec, out);
    } catch (IOException e) {
      throw new CliException("cannot write install files into " + UserText.quote(out.toString()) + ": " + e.getMessage());
    }
    Output result = Output.of(prepared)
        .with("install_type", installType.name().toLowerCase(Locale.ROOT))
        .with("delegate_name", delegateName)
        .with("out", out.toString())
        .withList("files", files.stream().map(f -> out.relativize(f).toString()).toList());
    print(result, () -> {
      System.out.println("wrote " + installType + " install files for delegate " + UserText.quote(delegateName)
          + " (token " + UserText.quote(tokenName) + ", " + tokenId + ") into " + UserText.quote(out.toString()) + ":");
      for (Path file : files) {
        System.out.println("  " + out.relativize(file));
      }
      System.out.println();
      System.out.println(nextSteps(installType));
    });
  }

  private DelegateToken readToken() {
    String text;
    try {
      text = tokenFile != null
          ? Files.readString(tokenFile, StandardCharsets.UTF_8)
          : new String(System.in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new CliException("cannot read the token value from " + (tokenFile != null ? tokenFile : "standard input")
          + ": " + e.getMessage());
    }
    try {
      return DelegateToken.parse(tokenFile != null ? "--token-file " + tokenFile : "the token on standard input", text);
    } catch (TokenFormatException e) {
      throw new CliException(e.getMessage());
    }
  }

  private static String nextSteps(InstallType type) {
    return switch (type) {
      case KUBERNETES -> "next: kubectl apply -f namespace.yaml (once per namespace), then kubectl apply -f tether-delegate.yaml"
          + " (without --existing-delegate-token the token is in its Secret: keep the file private)";
      case HELM -> "next: helm install DELEGATE_NAME ./tether-delegate --namespace NAMESPACE --create-namespace -f values-DELEGATE_NAME.yaml";
      case DOCKER -> "next: with --delegate-jar, build the image here (docker build -t IMAGE .); then sudo ./docker-run.sh"
          + " (gives secrets/ to the image's UID 10001); ./docker-stop.sh, ./docker-upgrade.sh IMAGE";
      case ECS -> "next: ./put-secret.sh, ./create-log-group.sh, attach execution-role-policy.json to the execution role,"
          + " then aws ecs register-task-definition --cli-input-json file://task-definition.json";
      case SHELL -> "next: ./start.sh (waits until the delegate is connected; ./stop.sh stops it); the token is in"
          + " delegate-token (mode 0600)";
      case SYSTEMD -> "next: sudo ./install.sh [PATH/TO/tether-delegate.jar] (installs tether-delegate@NAME; moves"
          + " delegate-token to /etc/tether-delegate/NAME.token)";
    };
  }
}
