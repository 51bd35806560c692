package dev.tether.manager.cli;

import dev.tether.common.files.PrivateFiles;
import dev.tether.common.text.UserText;
import dev.tether.manager.admin.AdminCredentials;
import io.grpc.CallCredentials;
import io.grpc.ChannelCredentials;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.TlsChannelCredentials;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.MultiThreadIoEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.nio.NioIoHandler;
import io.grpc.netty.shaded.io.netty.channel.socket.nio.NioSocketChannel;
import io.grpc.netty.shaded.io.netty.util.concurrent.DefaultThreadFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * How an admin command reaches the manager (address, admin key, TLS trust) and how it prints its
 * result (a table, {@code --json} or one {@code --field}). The environment variables
 * TETHER_MANAGER, TETHER_ADMIN_KEY_FILE, TETHER_CA_FILE and TETHER_DATA_DIR set the defaults, so
 * that the commands work from any directory; a flag wins over its variable.
 */
final class AdminOptions {

  @Spec(Spec.Target.MIXEE) CommandSpec command;

  @Option(names = "--manager", paramLabel = "ADDRESS", converter = ManagerAddress.Converter.class,
      defaultValue = "${env:TETHER_MANAGER:-127.0.0.1:7444}",
      description = "The manager's admin listener: HOST:PORT, https://HOST:PORT (TLS) or http://HOST:PORT"
          + " (plaintext, as --plaintext). Default: the environment variable TETHER_MANAGER, else"
          + " 127.0.0.1:7444 (now: ${DEFAULT-VALUE}).")
  ManagerAddress manager;

  @Option(names = "--data-dir", paramLabel = "DIR", defaultValue = "${env:TETHER_DATA_DIR:-./tether-data}",
      description = "The manager's data directory, where the admin key (admin.key) and the certificate"
          + " (tls/manager.crt) are found unless --admin-key-file and --ca-file say otherwise. Default: the"
          + " environment variable TETHER_DATA_DIR, else ./tether-data (now: ${DEFAULT-VALUE}).")
  Path dataDir;

  @Option(names = "--admin-key-file", paramLabel = "FILE", defaultValue = "${env:TETHER_ADMIN_KEY_FILE}",
      description = "File holding the admin key ('admin create' prints one; the first start writes"
          + " DIR/admin.key for the owner 'bootstrap'). Default: the environment variable"
          + " TETHER_ADMIN_KEY_FILE, else DIR/admin.key.")
  Path adminKeyFile;

  @Option(names = "--ca-file", paramLabel = "FILE", defaultValue = "${env:TETHER_CA_FILE}",
      description = "PEM certificate (or CA) to trust for the manager's TLS. Default: the environment"
          + " variable TETHER_CA_FILE, else DIR/tls/manager.crt.")
  Path caFile;

  @Option(names = "--plaintext", description = "Talk to a manager started with --plaintext (no TLS), as an"
      + " http:// --manager address does.")
  boolean plaintext;

  @Option(names = "--json", description = "Print the result as JSON: field names as --field takes them, times"
      + " as RFC 3339 strings (docs/cli-output.md).")
  boolean json;

  @Option(names = "--field", paramLabel = "NAME", description = "Print only this field's raw value (one line per"
      + " value of a list), nothing else; nested fields are dotted, for example token.token_id or value."
      + " An unknown NAME lists the valid ones (docs/cli-output.md).")
  String field;

  /** Refuses contradictory options before anything is sent. */
  void check() {
    if (json && field != null) {
      throw new CliException("--json and --field " + UserText.quote(field) + " contradict each other: --json prints"
          + " the whole result, --field one value; choose one");
    }
    if (manager.transport() == ManagerAddress.Transport.TLS && plaintext) {
      throw new CliException("--manager " + UserText.quote("https://" + manager.target()) + " asks for TLS, and"
          + " --plaintext for none; choose one (https:// or HOST:PORT for a TLS manager, http:// or --plaintext"
          + " for one started with --plaintext)");
    }
    if (plaintext() && explicitly("--ca-file")) {
      throw new CliException("--ca-file " + UserText.quote(caFile.toString()) + " is for TLS, but "
          + (manager.transport() == ManagerAddress.Transport.PLAINTEXT
              ? "--manager " + UserText.quote("http://" + manager.target()) + " is plaintext"
              : "--plaintext is given")
          + "; for a TLS manager use https://" + manager.target() + " or HOST:PORT without --plaintext");
    }
  }

  /** Whether the command talks plaintext gRPC ({@code http://} or {@code --plaintext}). */
  boolean plaintext() {
    return plaintext || manager.transport() == ManagerAddress.Transport.PLAINTEXT;
  }

  /** The certificate trusted for the manager: --ca-file, else the data directory's. */
  Path caFile() {
    return caFile != null ? caFile : dataDir.resolve("tls").resolve("manager.crt");
  }

  /** The file the admin key is read from: --admin-key-file, else the data directory's. */
  Path adminKeyFile() {
    return adminKeyFile != null ? adminKeyFile : dataDir.resolve("admin.key");
  }

  Connection connect() {
    ChannelCredentials credentials;
    if (plaintext()) {
      credentials = InsecureChannelCredentials.create();
    } else {
      Path ca = caFile();
      if (!Files.isReadable(ca)) {
        throw new CliException("no certificate to trust for the manager: " + UserText.quote(ca.toString())
            + " is not readable (pass --ca-file with the manager's certificate or set TETHER_CA_FILE, pass"
            + " --data-dir with its data directory or set TETHER_DATA_DIR, or --plaintext for a manager"
            + " started with --plaintext)");
      }
      try {
        credentials = TlsChannelCredentials.newBuilder().trustManager(ca.toFile()).build();
      } catch (IOException | IllegalArgumentException e) {
        throw new CliException("cannot read the certificate " + UserText.quote(ca.toString()) + " given to trust"
            + " the manager (" + e.getMessage() + "; expected a PEM certificate such as the manager's"
            + " tls/manager.crt)");
      }
    }
    // An event loop of the command's own, ended with the channel: one of gRPC's shared loops
    // would outlive the command, and a JVM exits only some 0.3 s after its threads in native
    // code (a loop waiting in epoll) have not come back (docs/benchmarks.md, cli).
    EventLoopGroup loop = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("tether-cli-io", true),
        NioIoHandler.newFactory());
    try {
      return new Connection(NettyChannelBuilder.forAddress(manager.host(), manager.port(), credentials)
          .eventLoopGroup(loop)
          .channelType(NioSocketChannel.class)
          .maxInboundMessageSize(64 * 1024 * 1024)
          .build(), loop);
    } catch (RuntimeException e) {
      loop.shutdownGracefully(0, 0, TimeUnit.SECONDS);
      throw e;
    }
  }

  CallCredentials credentials() {
    Path file = adminKeyFile();
    String key;
    try {
      key = Files.readString(file).strip();
    } catch (IOException e) {
      throw new CliException("cannot read the admin key from " + UserText.quote(file.toString()) + " ("
          + e.getClass().getSimpleName() + "; pass --admin-key-file or set TETHER_ADMIN_KEY_FILE, or pass"
          + " --data-dir with the manager's data directory or set TETHER_DATA_DIR)");
    }
    warnIfOthersCanRead(file);
    return new AdminCredentials(key);
  }

  /** As ssh does for a private key, but a warning: the file's mode is its owner's decision. */
  private static void warnIfOthersCanRead(Path file) {
    try {
      PrivateFiles.problem(file, "an admin key, which lets anyone holding it act as that admin")
          .ifPresent(problem -> System.err.println("warning: " + problem));
    } catch (IOException e) {
      // the key was just read: a mode that cannot be read is no reason to stop the command
    }
  }

  String target() {
    return manager.target();
  }

  private boolean explicitly(String option) {
    return command != null && command.commandLine() != null && command.commandLine().getParseResult() != null
        && command.commandLine().getParseResult().hasMatchedOption(option);
  }

  /** A channel to the manager and the event loop that only it uses; closing ends both. */
  record Connection(ManagedChannel channel, EventLoopGroup loop) implements AutoCloseable {
    @Override
    public void close() {
      channel.shutdownNow();
      try {
        channel.awaitTermination(2, TimeUnit.SECONDS);
        loop.shutdownGracefully(0, 0, TimeUnit.SECONDS).await(2, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
