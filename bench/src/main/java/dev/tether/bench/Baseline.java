package dev.tether.bench;

import dev.tether.manager.server.ManagerServer;
import dev.tether.proto.delegate.v1.DelegateMessage;
import dev.tether.proto.delegate.v1.DelegateStreamGrpc;
import dev.tether.proto.delegate.v1.HeartbeatAck;
import dev.tether.proto.delegate.v1.ManagerMessage;
import dev.tether.proto.delegate.v1.Registered;
import io.grpc.Server;
import io.grpc.TlsServerCredentials;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * The baseline: the same delegate streaming service on the same Netty server settings and TLS
 * certificate as the manager, with no authentication, no token store and no revocation registry.
 */
final class Baseline implements AutoCloseable {

  private final Server server;

  Baseline(Path certificate, Path privateKey) throws IOException {
    this(certificate, privateKey, 0);
  }

  /** On 127.0.0.1:{@code port}, 0 for any free port. */
  Baseline(Path certificate, Path privateKey, int port) throws IOException {
    server = builder(certificate, privateKey, port)
        .addService(new Service())
        .build()
        .start();
  }

  /** The manager's Netty server settings on 127.0.0.1:{@code port}, with its kind of TLS certificate. */
  static NettyServerBuilder builder(Path certificate, Path privateKey, int port) throws IOException {
    return NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", port),
            TlsServerCredentials.create(certificate.toFile(), privateKey.toFile()))
        .maxInboundMessageSize(ManagerServer.MAX_INBOUND_MESSAGE)
        .maxInboundMetadataSize(ManagerServer.MAX_INBOUND_METADATA)
        .permitKeepAliveTime(10, TimeUnit.SECONDS)
        .permitKeepAliveWithoutCalls(true)
        .keepAliveTime(30, TimeUnit.SECONDS)
        .keepAliveTimeout(10, TimeUnit.SECONDS)
        .handshakeTimeout(10, TimeUnit.SECONDS)
        .maxConnectionIdle(2, TimeUnit.MINUTES);
  }

  int port() {
    return ((InetSocketAddress) server.getListenSockets().get(0)).getPort();
  }

  /** Answers Register with Registered and acknowledges every heartbeat, like the manager does. */
  static final class Service extends DelegateStreamGrpc.DelegateStreamImplBase {
    @Override
    public StreamObserver<DelegateMessage> connect(StreamObserver<ManagerMessage> out) {
      return new StreamObserver<>() {
        @Override
        public void onNext(DelegateMessage message) {
          switch (message.getKindCase()) {
            case REGISTER -> out.onNext(ManagerMessage.newBuilder().setRegistered(Registered.newBuilder()
                .setDelegateId("baseline").setHeartbeatIntervalMs(10_000)).build());
            case HEARTBEAT -> out.onNext(ManagerMessage.newBuilder().setHeartbeatAck(HeartbeatAck.newBuilder()
                .setSequence(message.getHeartbeat().getSequence())
                .setReceivedAtUnixMs(System.currentTimeMillis())).build());
            default -> out.onCompleted();
          }
        }

        @Override
        public void onError(Throwable t) {
          // the client went away
        }

        @Override
        public void onCompleted() {
          out.onCompleted();
        }
      };
    }
  }

  /** Like the manager's stop: no new calls, every stream ended with UNAVAILABLE. */
  @Override
  public void close() {
    server.shutdownNow();
  }
}
