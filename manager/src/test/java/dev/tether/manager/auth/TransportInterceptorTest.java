package dev.tether.manager.auth;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tether.common.handshake.HandshakeCrypto;
import dev.tether.manager.testing.IdleServerCall;
import dev.tether.manager.testing.RawBytes;
import dev.tether.manager.tls.ServerTlsContexts;
import dev.tether.manager.tls.TlsMaterial;
import io.grpc.Attributes;
import io.grpc.CallOptions;
import io.grpc.Grpc;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContext;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ServerCalls;
import java.io.InputStream;
import java.net.InetAddress;
import java.lang.reflect.Proxy;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The channel binding each call carries is the SHA-256 of the certificate presented on that call's
 * own connection, although the interceptor computes it once per certificate; and the connection a
 * call names (what sessions are bound to) is its own, on gRPC's real transport.
 */
class TransportInterceptorTest {

  @TempDir
  Path dir;

  @Test
  void eachCallCarriesTheBindingOfTheCertificateOnItsOwnConnection_evenWhenTheCertificateChanges() throws Exception {
    Certificate first = certificate(TlsMaterial.loadOrGenerate(dir.resolve("first"), List.of()));
    Certificate second = certificate(TlsMaterial.loadOrGenerate(dir.resolve("second"), List.of()));
    byte[] firstBinding = HandshakeCrypto.sha256(first.getEncoded());
    byte[] secondBinding = HandshakeCrypto.sha256(second.getEncoded());
    assertThat(firstBinding).isNotEqualTo(secondBinding);

    TransportInterceptor interceptor = new TransportInterceptor();
    assertThat(bindingSeen(interceptor, first)).isEqualTo(firstBinding);
    assertThat(bindingSeen(interceptor, first)).isEqualTo(firstBinding);
    assertThat(bindingSeen(interceptor, second)).isEqualTo(secondBinding);
    assertThat(bindingSeen(interceptor, first)).isEqualTo(firstBinding);
    // a plaintext call (no TLS session) carries the empty binding, never a certificate's
    assertThat(bindingSeen(interceptor, null)).isEmpty();
  }

  /**
   * Sessions are bound to the object gRPC's transport makes for a connection (TransportInfo): every
   * call on one connection must name the same one, and a later connection from the same client, with
   * the same client TLS context (which may resume the first one's TLS session), another. If a gRPC
   * upgrade shared one between connections, a session could be used on another connection than its
   * handshake's: this test is what says so.
   */
  @ParameterizedTest(name = "TLS: {0}")
  @ValueSource(booleans = {true, false})
  void callsOnOneConnectionNameTheSameConnection_andANewConnectionFromTheSameClientAnother(boolean withTls)
      throws Exception {
    TlsMaterial tls = TlsMaterial.loadOrGenerate(dir.resolve("tls"), List.of());
    TransportInterceptor interceptor = new TransportInterceptor();
    BlockingQueue<TransportInfo> seen = new LinkedBlockingQueue<>();
    ServerServiceDefinition service = ServerServiceDefinition.builder("test.Connection")
        .addMethod(CALL, ServerCalls.asyncUnaryCall((request, response) -> {
          response.onNext(new byte[0]);
          response.onCompleted();
        }))
        .build();
    NettyServerBuilder builder = NettyServerBuilder.forAddress(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    if (withTls) {
      builder.sslContext(ServerTlsContexts.grpc(tls));
    }
    Server server = builder
        .addService(ServerInterceptors.intercept(service, new ServerInterceptor() {
          @Override
          public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
              ServerCallHandler<Q, R> next) {
            seen.add(interceptor.of(call));
            return next.startCall(call, headers);
          }
        }))
        .build()
        .start();
    SslContext client = withTls ? GrpcSslContexts.forClient().trustManager(tls.certificate().toFile()).build() : null;
    try {
      ManagedChannel first = channel(client, server.getPort());
      call(first);
      call(first);
      TransportInfo firstCall = seen.take();
      TransportInfo secondCall = seen.take();
      first.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
      ManagedChannel second = channel(client, server.getPort());
      call(second);
      TransportInfo laterConnection = seen.take();
      second.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);

      assertThat(secondCall.connection()).as("two calls on one connection").isSameAs(firstCall.connection());
      assertThat(laterConnection.connection()).as("a later connection").isNotSameAs(firstCall.connection());
      assertThat(firstCall.connection()).isInstanceOfSatisfying(Attributes.class, transport ->
          assertThat(transport.get(Grpc.TRANSPORT_ATTR_SSL_SESSION)).as("the TLS session").matches(
              session -> (session != null) == withTls));
    } finally {
      server.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
    }
  }

  private static final MethodDescriptor<byte[], byte[]> CALL = MethodDescriptor.<byte[], byte[]>newBuilder()
      .setType(MethodDescriptor.MethodType.UNARY)
      .setFullMethodName("test.Connection/Call")
      .setRequestMarshaller(RawBytes.MARSHALLER)
      .setResponseMarshaller(RawBytes.MARSHALLER)
      .build();

  /** A channel with the client TLS context {@code tls} (null: plaintext). */
  private static ManagedChannel channel(SslContext tls, int port) {
    NettyChannelBuilder builder = NettyChannelBuilder.forAddress("localhost", port);
    return (tls == null ? builder.usePlaintext() : builder.sslContext(tls)).build();
  }

  private static void call(ManagedChannel channel) {
    ClientCalls.blockingUnaryCall(channel, CALL, CallOptions.DEFAULT.withDeadlineAfter(30, TimeUnit.SECONDS),
        new byte[0]);
  }

  private static Certificate certificate(TlsMaterial material) throws Exception {
    try (InputStream in = Files.newInputStream(material.certificate())) {
      return CertificateFactory.getInstance("X.509").generateCertificate(in);
    }
  }

  /** Runs one call through {@code interceptor} on a connection presenting {@code certificate}. */
  private static byte[] bindingSeen(TransportInterceptor interceptor, Certificate certificate) {
    Attributes.Builder attributes = Attributes.newBuilder()
        .set(Grpc.TRANSPORT_ATTR_REMOTE_ADDR, new InetSocketAddress("127.0.0.1", 40000));
    if (certificate != null) {
      attributes.set(Grpc.TRANSPORT_ATTR_SSL_SESSION, session(certificate));
    }
    byte[][] seen = new byte[1][];
    interceptor.interceptCall(new IdleServerCall(attributes.build()), new Metadata(), (call, headers) -> {
      seen[0] = AuthContext.transport().channelBinding();
      return new ServerCall.Listener<>() {};
    });
    return seen[0];
  }

  private static SSLSession session(Certificate certificate) {
    return (SSLSession) Proxy.newProxyInstance(SSLSession.class.getClassLoader(), new Class<?>[] {SSLSession.class},
        (proxy, method, args) -> {
          if (method.getName().equals("getLocalCertificates")) {
            return new Certificate[] {certificate};
          }
          throw new UnsupportedOperationException(method.getName());
        });
  }
}
