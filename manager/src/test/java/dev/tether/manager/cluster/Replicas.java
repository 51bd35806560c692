package dev.tether.manager.cluster;

import dev.tether.manager.admin.AdminCredentials;
import dev.tether.manager.rotation.RotationTiming;
import dev.tether.manager.server.ManagerServer;
import dev.tether.manager.server.ManagerSettings;
import dev.tether.manager.testing.Postgres;
import io.grpc.Grpc;
import io.grpc.ManagedChannel;
import io.grpc.TlsChannelCredentials;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Several real manager replicas (Netty, TLS, loopback) on one real PostgreSQL database, sharing
 * the master key and admin key as an operator would deploy them.
 */
final class Replicas implements AutoCloseable {

  static final ClusterSettings FAST = new ClusterSettings(Duration.ofMillis(500), Duration.ofSeconds(3),
      Duration.ofSeconds(1), Duration.ofSeconds(3));

  final String dbUrl = Postgres.newDatabase();
  final List<ManagerServer> servers = new ArrayList<>();
  final List<Path> dataDirs = new ArrayList<>();
  private final Path root;
  private final RotationTiming rotation;

  Replicas(Path root, int count) throws Exception {
    this(root, count, RotationTiming.defaults());
  }

  /** With other waits of a rotation, for tests that would only wait them out. */
  Replicas(Path root, int count, RotationTiming rotation) throws Exception {
    this.root = root;
    this.rotation = rotation;
    for (int i = 0; i < count; i++) {
      start(i);
    }
  }

  ManagerServer start(int i) throws Exception {
    Path dir = root.resolve("replica-" + i);
    Files.createDirectories(dir);
    if (i > 0 || dataDirs.size() > 0) {
      Path first = dataDirs.isEmpty() ? root.resolve("replica-0") : dataDirs.get(0);
      for (String shared : List.of("master.key", "admin.key")) {
        if (Files.exists(first.resolve(shared)) && !Files.exists(dir.resolve(shared))) {
          Files.copy(first.resolve(shared), dir.resolve(shared), StandardCopyOption.COPY_ATTRIBUTES);
        }
      }
    }
    ManagerServer server = ManagerServer.start(new ManagerServer.Options(new InetSocketAddress("127.0.0.1", 0), new InetSocketAddress("127.0.0.1", 0), dir,
        dbUrl, "postgres", "postgres", false, null, null, List.of(), ManagerSettings.defaults().withCluster(FAST).withRotation(rotation)));
    if (i < servers.size()) {
      servers.set(i, server);
    } else {
      servers.add(server);
      dataDirs.add(dir);
    }
    return server;
  }

  ManagerServer get(int i) {
    return servers.get(i);
  }

  ManagedChannel channel(int i) throws Exception {
    return Grpc.newChannelBuilderForAddress("127.0.0.1", servers.get(i).listenAddress().getPort(),
        TlsChannelCredentials.newBuilder().trustManager(dataDirs.get(i).resolve("tls/manager.crt").toFile()).build()).build();
  }

  /** A channel to replica {@code i}'s admin listener. */
  ManagedChannel adminChannel(int i) throws Exception {
    return Grpc.newChannelBuilderForAddress("127.0.0.1", servers.get(i).adminAddress().getPort(),
        TlsChannelCredentials.newBuilder().trustManager(dataDirs.get(i).resolve("tls/manager.crt").toFile()).build()).build();
  }

  AdminCredentials admin() throws Exception {
    return new AdminCredentials(Files.readString(dataDirs.get(0).resolve("admin.key")).strip());
  }

  @Override
  public void close() {
    for (ManagerServer server : servers) {
      try {
        server.close();
      } catch (RuntimeException e) {
        // already closed by the test
      }
    }
  }
}
