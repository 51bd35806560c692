package dev.tether.manager.tls;

import dev.tether.common.text.UserText;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import java.io.IOException;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import javax.net.ssl.TrustManagerFactory;

/**
 * The manager's server-side TLS contexts, built once from its certificate and key: one for both
 * gRPC listeners (delegates and admin), one for the web console (plain Netty, HTTP/1.1).
 *
 * <p>What a start saves over building a context per listener from the files, as
 * {@code TlsServerCredentials} does (docs/operations.md, "Manager start-up"): the second context;
 * the JDK's list of public CAs (no listener asks for a client certificate, so none is ever checked
 * against them: the contexts trust none); and the password-based encryption of a PKCS#12 key store
 * that only carries the key from the PEM file to the key manager, in memory.
 */
public final class ServerTlsContexts {

  /**
   * The type of the in-memory key store that carries the key to the key manager: never written
   * anywhere, so its password-based protection (PKCS#12's default, some 0.1 s of a start at 10 000
   * rounds each way) protects nothing.
   */
  private static final String IN_MEMORY_KEY_STORE = "JKS";

  private ServerTlsContexts() {}

  /** The context both gRPC listeners use: HTTP/2 by ALPN, gRPC's ciphers, no client certificate asked for. */
  public static io.grpc.netty.shaded.io.netty.handler.ssl.SslContext grpc(TlsMaterial tls) throws IOException {
    try {
      return GrpcSslContexts.forServer(tls.certificate().toFile(), tls.privateKey().toFile())
          .keyStoreType(IN_MEMORY_KEY_STORE)
          .trustManager(trustingNoOne())
          .clientAuth(ClientAuth.NONE)
          .build();
    } catch (IOException | IllegalArgumentException e) {
      throw refused(tls, e);
    }
  }

  /** The web console's context: HTTP/1.1 by ALPN, no client certificate asked for. */
  public static io.netty.handler.ssl.SslContext console(TlsMaterial tls) throws IOException {
    try {
      return io.netty.handler.ssl.SslContextBuilder.forServer(tls.certificate().toFile(), tls.privateKey().toFile())
          .keyStoreType(IN_MEMORY_KEY_STORE)
          .trustManager(trustingNoOne())
          .clientAuth(io.netty.handler.ssl.ClientAuth.NONE)
          .applicationProtocolConfig(new ApplicationProtocolConfig(ApplicationProtocolConfig.Protocol.ALPN,
              ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
              ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT, ApplicationProtocolNames.HTTP_1_1))
          .build();
    } catch (IOException | IllegalArgumentException e) {
      throw refused(tls, e);
    }
  }

  /** Trust for client certificates, which no listener asks for: an empty set of anchors. */
  private static TrustManagerFactory trustingNoOne() {
    try {
      KeyStore none = KeyStore.getInstance(IN_MEMORY_KEY_STORE);
      none.load(null, null);
      TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      factory.init(none);
      return factory;
    } catch (GeneralSecurityException | IOException e) {
      throw new IllegalStateException("this JVM cannot make an empty trust store (" + e + ")", e);
    }
  }

  private static IOException refused(TlsMaterial tls, Exception e) {
    return new IOException("cannot use the TLS certificate " + UserText.quote(tls.certificate().toString())
        + " with the key " + UserText.quote(tls.privateKey().toString()) + " (" + e.getMessage() + "; expected a PEM"
        + " certificate chain and its unencrypted PKCS#8 PEM private key)", e);
  }
}
