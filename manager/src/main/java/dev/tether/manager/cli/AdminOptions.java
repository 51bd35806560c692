package dev.tether.manager.cli;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageOrBuilder;
import com.google.protobuf.util.JsonFormat;
import dev.tether.manager.admin.AdminCredentials;
import io.grpc.CallCredentials;
import io.grpc.ChannelCredentials;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.TlsChannelCredentials;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Option;

/** How an admin command reaches the manager: address, admin key, TLS trust, output format. */
final class AdminOptions {

  @Option(names = "--manager", paramLabel = "HOST:PORT", defaultValue = "127.0.0.1:7444",
      converter = HostPort.class, description = "The manager's admin address (default: ${DEFAULT-VALUE}).")
  InetSocketAddress manager;

  @Option(names = "--data-dir", paramLabel = "DIR", defaultValue = "./tether-data",
      description = "The manager's data directory, where the admin key and certificate are found"
          + " by default (default: ${DEFAULT-VALUE}).")
  Path dataDir;

  @Option(names = "--admin-key-file", paramLabel = "FILE",
      description = "File holding the admin key (default: DIR/admin.key).")
  Path adminKeyFile;

  @Option(names = "--ca-file", paramLabel = "FILE",
      description = "PEM certificate to trust for the manager (default: DIR/tls/manager.crt).")
  Path caFile;

  @Option(names = "--plaintext", description = "Talk to a manager started with --plaintext.")
  boolean plaintext;

  @Option(names = "--json", description = "Print machine-readable JSON instead of a table.")
  boolean json;

  ManagedChannel channel() {
    ChannelCredentials credentials;
    if (plaintext) {
      credentials = InsecureChannelCredentials.create();
    } else {
      Path ca = caFile != null ? caFile : dataDir.resolve("tls").resolve("manager.crt");
      if (!Files.isReadable(ca)) {
        throw new CliException("no certificate to trust for the manager: " + ca + " is not readable"
            + " (pass --ca-file with the manager's certificate, --data-dir with its data directory,"
            + " or --plaintext for a manager started with --plaintext)");
      }
      try {
        credentials = TlsChannelCredentials.newBuilder().trustManager(ca.toFile()).build();
      } catch (IOException e) {
        throw new CliException("cannot read certificate " + ca + ": " + e.getMessage());
      }
    }
    return Grpc.newChannelBuilderForAddress(manager.getHostString(), manager.getPort(), credentials)
        .maxInboundMessageSize(64 * 1024 * 1024)
        .build();
  }

  CallCredentials credentials() {
    Path file = adminKeyFile != null ? adminKeyFile : dataDir.resolve("admin.key");
    String key;
    try {
      key = Files.readString(file).strip();
    } catch (IOException e) {
      throw new CliException("cannot read the admin key from " + file + " (" + e.getClass().getSimpleName()
          + "; pass --admin-key-file, or --data-dir with the manager's data directory)");
    }
    return new AdminCredentials(key);
  }

  String target() {
    return manager.getHostString() + ":" + manager.getPort();
  }

  static String toJson(MessageOrBuilder message) {
    try {
      return JsonFormat.printer().alwaysPrintFieldsWithNoPresence().print(message);
    } catch (InvalidProtocolBufferException e) {
      throw new UncheckedIOException(new IOException(e));
    }
  }

  static void close(ManagedChannel channel) {
    channel.shutdownNow();
    try {
      channel.awaitTermination(2, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
