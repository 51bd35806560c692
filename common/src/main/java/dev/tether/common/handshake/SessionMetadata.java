package dev.tether.common.handshake;

import com.google.common.io.BaseEncoding;
import io.grpc.Metadata;

/** The metadata keys that authenticate a call with a handshake session, and their encodings. */
public final class SessionMetadata {

  public static final Metadata.Key<String> SESSION_ID =
      Metadata.Key.of("tether-session-id", Metadata.ASCII_STRING_MARSHALLER);
  public static final Metadata.Key<String> CALL_SEQ =
      Metadata.Key.of("tether-call-seq", Metadata.ASCII_STRING_MARSHALLER);
  public static final Metadata.Key<String> CALL_MAC =
      Metadata.Key.of("tether-call-mac", Metadata.ASCII_STRING_MARSHALLER);

  /** Base64url without padding, as every binary metadata value of the protocol is written. */
  public static final BaseEncoding BASE64URL = BaseEncoding.base64Url().omitPadding();

  private SessionMetadata() {}
}
