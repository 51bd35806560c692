package dev.tether.manager.cli;

import dev.tether.common.text.UserText;
import io.grpc.Status;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.UnknownHostException;
import java.nio.channels.UnresolvedAddressException;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertificateException;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;

/**
 * Turns a failed admin call into one line a newcomer can act on: which manager, what went wrong
 * (no listener, TLS against plaintext or the reverse, a certificate that does not verify, a refused
 * key or role) and what to change. gRPC reports the transport's failures as UNAVAILABLE with a
 * Netty exception as the cause; the cause, never its stack trace, decides the message.
 */
final class StatusMessages {

  private static final int PROBE_TIMEOUT_MS = 3000;

  private StatusMessages() {}

  static String describe(Status status, AdminOptions admin) {
    String description = status.getDescription() == null ? status.getCode().toString() : status.getDescription();
    return switch (status.getCode()) {
      case UNAVAILABLE -> description.contains("storage") ? description : unavailable(status, admin);
      case UNAUTHENTICATED -> "the manager refused the admin key (" + UserText.quote(admin.adminKeyFile().toString())
          + "): " + description + "; use a key printed by 'tether-manager admin create', or the admin.key in the"
          + " manager's data directory (--admin-key-file or TETHER_ADMIN_KEY_FILE, --data-dir or TETHER_DATA_DIR)";
      case PERMISSION_DENIED -> description + " (an owner can create an admin with that role: 'tether-manager"
          + " admin create NAME --role ROLE')";
      case DEADLINE_EXCEEDED -> "the manager at " + admin.target() + " did not answer in time (" + description + ")";
      case UNIMPLEMENTED -> "the server at " + admin.target() + " does not serve the admin API (" + description
          + "); it is probably the delegate listener (--listen, 7443 by default): admin commands go to the admin"
          + " listener (--admin-listen, 127.0.0.1:7444 by default)";
      default -> description;
    };
  }

  private static String unavailable(Status status, AdminOptions admin) {
    String at = "the manager at " + admin.target();
    Throwable cause = status.getCause();
    if (find(cause, ConnectException.class) != null) {
      return "cannot reach the manager at " + admin.target() + ": connection refused. Is it running, and is this"
          + " its admin listener (serve --admin-listen, 127.0.0.1:7444 by default)? Set the address with"
          + " --manager or TETHER_MANAGER";
    }
    if (find(cause, UnknownHostException.class) != null || find(cause, UnresolvedAddressException.class) != null) {
      return "cannot resolve the manager's host " + UserText.quote(admin.manager.host()) + " (--manager "
          + admin.target() + "); check the name, or use an IP address";
    }
    if (named(cause, "NotSslRecordException") != null) {
      return at + " did not answer TLS; it probably runs with --plaintext: add --plaintext (or use --manager"
          + " http://" + admin.target() + "), or start the manager without --plaintext";
    }
    CertificateException certificate = find(cause, CertificateException.class);
    if (certificate != null) {
      if (find(cause, CertPathValidatorException.class) != null
          || named(cause, "SunCertPathBuilderException") != null || named(cause, "ValidatorException") != null) {
        return at + "'s certificate did not verify against the CA file " + UserText.quote(admin.caFile().toString())
            + " (" + deepestMessage(cause) + "): it is another manager's certificate or another CA. Give --ca-file"
            + " (or TETHER_CA_FILE) the certificate this manager serves (tls/manager.crt in its data directory) or"
            + " the CA that signed it";
      }
      return at + "'s certificate is not valid for host " + UserText.quote(admin.manager.host()) + " ("
          + certificate.getMessage() + "): connect by a name the certificate holds (the generated one holds"
          + " localhost, 127.0.0.1, ::1 and this machine's name), or restart the manager with --tls-name "
          + admin.manager.host() + " after removing its tls/ directory";
    }
    SSLException tls = find(cause, SSLException.class);
    if (tls != null) {
      return "the TLS handshake with " + at + " failed (" + deepestMessage(tls) + "); check --ca-file "
          + UserText.quote(admin.caFile().toString()) + " and that the manager serves TLS";
    }
    if (admin.plaintext() && speaksTls(admin.manager)) {
      return at + " did not answer plaintext gRPC; it uses TLS: drop --plaintext"
          + (admin.manager.transport() == ManagerAddress.Transport.PLAINTEXT ? " and http://" : "")
          + " (and give --ca-file with its certificate, tls/manager.crt in its data directory)";
    }
    return "cannot reach the manager at " + admin.target() + " (" + (status.getDescription() == null
        ? status.getCode() : firstLine(status.getDescription())) + "); is it running, and is this its admin"
        + " listener" + (admin.plaintext() ? ", started with --plaintext" : ", with TLS") + "?";
  }

  /**
   * Whether a TLS handshake with {@code address} gets as far as the server's certificate: only a
   * TLS server answers a ClientHello with one. Nothing is sent after the handshake.
   */
  static boolean speaksTls(ManagerAddress address) {
    try (Socket raw = new Socket()) {
      raw.connect(new InetSocketAddress(address.host(), address.port()), PROBE_TIMEOUT_MS);
      raw.setSoTimeout(PROBE_TIMEOUT_MS);
      SSLSocketFactory factory = (SSLSocketFactory) SSLSocketFactory.getDefault();
      try (SSLSocket tls = (SSLSocket) factory.createSocket(raw, address.host(), address.port(), false)) {
        tls.startHandshake();
        return true;
      }
    } catch (SSLHandshakeException e) {
      // an untrusted certificate still proves that the other side speaks TLS
      return find(e, CertificateException.class) != null || find(e, CertPathValidatorException.class) != null
          || named(e, "ValidatorException") != null;
    } catch (IOException | RuntimeException e) {
      return false;
    }
  }

  private static <T extends Throwable> T find(Throwable t, Class<T> type) {
    for (int depth = 0; t != null && depth < 20; t = t.getCause(), depth++) {
      if (type.isInstance(t)) {
        return type.cast(t);
      }
    }
    return null;
  }

  /** A cause by simple class name: Netty's classes are shaded, the JDK's validator is internal. */
  private static Throwable named(Throwable t, String simpleName) {
    for (int depth = 0; t != null && depth < 20; t = t.getCause(), depth++) {
      if (t.getClass().getSimpleName().equals(simpleName)) {
        return t;
      }
    }
    return null;
  }

  private static String deepestMessage(Throwable t) {
    String message = null;
    for (int depth = 0; t != null && depth < 20; t = t.getCause(), depth++) {
      if (t.getMessage() != null && !t.getMessage().isBlank()) {
        message = t.getMessage();
      }
    }
    return message == null ? "no detail" : firstLine(message);
  }

  /** gRPC appends a Netty channel-pipeline dump on a second line: never show it. */
  private static String firstLine(String text) {
    int newline = text.indexOf('\n');
    return newline < 0 ? text : text.substring(0, newline);
  }
}
