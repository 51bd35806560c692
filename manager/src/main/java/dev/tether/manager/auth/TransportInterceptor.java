package dev.tether.manager.auth;

import dev.tether.common.handshake.HandshakeCrypto;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import java.security.cert.Certificate;
import java.security.cert.CertificateEncodingException;
import javax.net.ssl.SSLSession;

/**
 * Puts the call's {@link TransportInfo} into the {@link Context}: the handshake binds its proofs to
 * the certificate this manager actually presented on the connection (TLS channel binding), and
 * every later call is checked against the certificate and the connection of its own transport.
 * Delegate streams do not pass through it: {@link DelegateSessionInterceptor} asks {@link #of} and
 * carries the facts in its own context value, one context per stream rather than two.
 */
public final class TransportInterceptor implements ServerInterceptor {

  /** A certificate this manager presents and its channel binding, computed once per certificate. */
  private record Binding(Certificate certificate, byte[] binding) {}

  /**
   * The binding of the certificate last seen: the manager presents one certificate (another only
   * after its TLS material is replaced), so every call but the first after a change finds it here
   * rather than encoding and hashing the certificate again, and no connection holds a copy of it.
   */
  private volatile Binding last;

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(
      ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
    Context context = Context.current().withValue(AuthContext.TRANSPORT, of(call));
    return Contexts.interceptCall(context, call, headers, next);
  }

  /** The facts of the connection {@code call} arrived on. */
  TransportInfo of(ServerCall<?, ?> call) {
    var address = call.getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR);
    byte[] binding = HandshakeCrypto.channelBinding(null);
    SSLSession ssl = call.getAttributes().get(Grpc.TRANSPORT_ATTR_SSL_SESSION);
    if (ssl != null) {
      Certificate[] local = ssl.getLocalCertificates();
      if (local != null && local.length > 0) {
        binding = binding(local[0]);
      }
    }
    // the connection is its transport's attributes, the one object gRPC's transport makes for it
    // and hands to every call on it (see TransportInfo): nothing new to keep
    return new TransportInfo(address, call.getAttributes(), binding);
  }

  private byte[] binding(Certificate certificate) {
    Binding known = last;
    if (known != null && known.certificate() == certificate) {
      return known.binding();
    }
    try {
      Binding computed = new Binding(certificate, HandshakeCrypto.channelBinding(certificate.getEncoded()));
      last = computed;
      return computed.binding();
    } catch (CertificateEncodingException e) {
      throw new IllegalStateException("cannot encode this manager's own certificate", e);
    }
  }
}
