package dev.tether.manager.auth;

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
 */
public final class TransportInterceptor implements ServerInterceptor {

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(
      ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
    var address = call.getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR);
    String remote = TransportInfo.describe(address);
    byte[] certificate = null;
    SSLSession ssl = call.getAttributes().get(Grpc.TRANSPORT_ATTR_SSL_SESSION);
    if (ssl != null) {
      Certificate[] local = ssl.getLocalCertificates();
      if (local != null && local.length > 0) {
        try {
          certificate = local[0].getEncoded();
        } catch (CertificateEncodingException e) {
          throw new IllegalStateException("cannot encode this manager's own certificate", e);
        }
      }
    }
    Long id = call.getAttributes().get(ConnectionIds.CONNECTION);
    // without the filter (a server built without it) the addresses stand in for the connection
    String connection = id != null ? "connection " + id
        : remote + "|" + TransportInfo.describe(call.getAttributes().get(Grpc.TRANSPORT_ATTR_LOCAL_ADDR));
    Context context = Context.current().withValue(AuthContext.TRANSPORT,
        new TransportInfo(remote, TransportInfo.host(address), connection, certificate));
    return Contexts.interceptCall(context, call, headers, next);
  }
}
