package dev.tether.manager.hardening;

import dev.tether.manager.server.ManagerServer;
import dev.tether.manager.server.ManagerSettings;
import io.grpc.ManagedChannel;
import io.grpc.TlsChannelCredentials;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;

/** A production manager on a loopback port (TLS), and channels to it from chosen source addresses. */
final class NettyManager implements AutoCloseable {

  final Path dataDir;
  final ManagerServer server;

  NettyManager(Path dataDir, ManagerSettings settings) throws Exception {
    this(dataDir, settings, 0);
  }

  private NettyManager(Path dataDir, ManagerSettings settings, int port) throws Exception {
    this.dataDir = dataDir;
    this.server = ManagerServer.start(new ManagerServer.Options(new InetSocketAddress("127.0.0.1", port), new InetSocketAddress("127.0.0.1", 0), dataDir,
        null, null, null, false, null, null, List.of(), settings));
  }

  /** A manager on a given port: a restart of one that ran there. */
  static NettyManager onPort(Path dataDir, ManagerSettings settings, int port) throws Exception {
    return new NettyManager(dataDir, settings, port);
  }

  int port() {
    return server.listenAddress().getPort();
  }

  /** A TLS channel whose connections come from {@code sourceAddress} (any 127.x address works here). */
  ManagedChannel channelFrom(String sourceAddress) throws Exception {
    return channelFrom(sourceAddress, port());
  }

  /** A TLS channel to the admin listener whose connections come from {@code sourceAddress}. */
  ManagedChannel adminChannelFrom(String sourceAddress) throws Exception {
    return channelFrom(sourceAddress, server.adminAddress().getPort());
  }

  private ManagedChannel channelFrom(String sourceAddress, int port) throws Exception {
    return NettyChannelBuilder.forAddress("127.0.0.1", port,
            TlsChannelCredentials.newBuilder().trustManager(dataDir.resolve("tls/manager.crt").toFile()).build())
        .localSocketPicker(new NettyChannelBuilder.LocalSocketPicker() {
          @Override
          public java.net.SocketAddress createSocketAddress(java.net.SocketAddress remote, io.grpc.Attributes attrs) {
            return new InetSocketAddress(sourceAddress, 0);
          }
        })
        .build();
  }

  @Override
  public void close() {
    server.close();
  }
}
