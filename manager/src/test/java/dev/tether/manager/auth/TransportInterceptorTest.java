package dev.tether.manager.auth;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tether.common.handshake.HandshakeCrypto;
import dev.tether.manager.testing.IdleServerCall;
import dev.tether.manager.tls.TlsMaterial;
import io.grpc.Attributes;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import java.io.InputStream;
import java.lang.reflect.Proxy;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.util.List;
import javax.net.ssl.SSLSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The channel binding each call carries is the SHA-256 of the certificate presented on that call's
 * own connection, although the interceptor computes it once per certificate.
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
