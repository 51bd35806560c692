package dev.tether.common.handshake;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.bouncycastle.crypto.digests.SHA256Digest;
import org.bouncycastle.crypto.generators.HKDFBytesGenerator;
import org.bouncycastle.crypto.params.HKDFParameters;

/**
 * The cryptography of the mutual token handshake, byte for byte as {@code docs/protocol.md}
 * specifies it: the token key, the transcript hash, both proofs, the session key and the per-call
 * MAC. Pure functions; the test vectors in the protocol document are checked against them.
 */
public final class HandshakeCrypto {

  /** The only protocol version this implementation speaks. */
  public static final int PROTOCOL_VERSION = 1;

  public static final int NONCE_BYTES = 32;
  public static final int KEY_BYTES = 32;
  public static final int PROOF_BYTES = 32;
  public static final int SESSION_ID_BYTES = 16;

  static final byte[] TOKEN_KEY_SALT = ascii("tether/v1 token key");
  static final byte[] TRANSCRIPT_LABEL = ascii("tether/v1 handshake");
  static final byte[] SERVER_PROOF_LABEL = ascii("tether/v1 server proof");
  static final byte[] CLIENT_PROOF_LABEL = ascii("tether/v1 client proof");
  static final byte[] SESSION_KEY_INFO = ascii("tether/v1 session key");
  static final byte[] CALL_LABEL = ascii("tether/v1 call");

  /** One generator a thread ({@link ThreadRandom}): no handshake waits on another's lock for its bytes. */
  private static final ThreadLocal<ThreadRandom> RANDOM = ThreadLocal.withInitial(ThreadRandom::create);

  private HandshakeCrypto() {}

  /** K = HKDF-SHA256(salt = "tether/v1 token key", IKM = token bytes, info = account id), 32 bytes. */
  public static byte[] tokenKey(byte[] tokenBytes, String accountId) {
    return hkdf(tokenBytes, TOKEN_KEY_SALT, accountId.getBytes(UTF_8));
  }

  /** SHA-256 of the DER encoding of the manager's leaf certificate; empty for plaintext. */
  public static byte[] channelBinding(byte[] certificateDer) {
    return certificateDer == null ? new byte[0] : sha256(certificateDer);
  }

  /**
   * H = SHA-256(lp("tether/v1 handshake") || u32(version) || lp(account) || lp(token id) ||
   * lp(delegate name) || lp(client nonce) || lp(server nonce) || lp(channel binding)).
   */
  public static byte[] transcriptHash(Transcript t) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(256);
    lp(out, TRANSCRIPT_LABEL);
    u32(out, t.protocolVersion());
    lp(out, t.accountId().getBytes(UTF_8));
    lp(out, t.tokenId().getBytes(UTF_8));
    lp(out, t.delegateName().getBytes(UTF_8));
    lp(out, t.clientNonce());
    lp(out, t.serverNonce());
    lp(out, t.channelBinding());
    return sha256(out.toByteArray());
  }

  /** HMAC-SHA256(K, lp("tether/v1 server proof") || H). */
  public static byte[] serverProof(byte[] tokenKey, byte[] transcriptHash) {
    return labelledMac(tokenKey, SERVER_PROOF_LABEL, transcriptHash);
  }

  /** HMAC-SHA256(K, lp("tether/v1 client proof") || H). */
  public static byte[] clientProof(byte[] tokenKey, byte[] transcriptHash) {
    return labelledMac(tokenKey, CLIENT_PROOF_LABEL, transcriptHash);
  }

  /** S = HKDF-SHA256(salt = H, IKM = K, info = "tether/v1 session key"), 32 bytes. */
  public static byte[] sessionKey(byte[] tokenKey, byte[] transcriptHash) {
    return hkdf(tokenKey, transcriptHash, SESSION_KEY_INFO);
  }

  /**
   * HMAC-SHA256(S, lp("tether/v1 call") || lp(session id) || u64(seq) || lp(method) ||
   * lp(channel binding)), where method is the full gRPC method name without a leading slash, for
   * example {@code tether.delegate.v1.DelegateStream/Connect}, seq is read as an unsigned 64-bit
   * integer, and the channel binding is {@link #channelBinding} of the certificate on the
   * connection that carries this call (empty without TLS). Covering the binding ties every call
   * to a connection that presents the certificate the handshake proved: a relay that lets the
   * handshake through and then terminates TLS with its own certificate cannot make a MAC the
   * manager accepts.
   */
  public static byte[] callMac(byte[] sessionKey, byte[] sessionId, long sequence, String method,
      byte[] channelBinding) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(160);
    lp(out, CALL_LABEL);
    lp(out, sessionId);
    out.writeBytes(ByteBuffer.allocate(8).putLong(sequence).array());
    lp(out, method.getBytes(UTF_8));
    lp(out, channelBinding);
    return hmac(sessionKey, out.toByteArray());
  }

  /** Constant-time comparison of two secrets or proofs. */
  public static boolean equal(byte[] a, byte[] b) {
    return MessageDigest.isEqual(a, b);
  }

  /** {@code n} bytes from this thread's generator (nonces, session ids and keys, secrets). */
  public static byte[] randomBytes(int n) {
    byte[] bytes = new byte[n];
    RANDOM.get().nextBytes(bytes);
    return bytes;
  }

  public static byte[] hmac(byte[] key, byte[] data) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(key, "HmacSHA256"));
      return mac.doFinal(data);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 unavailable", e);
    }
  }

  public static byte[] sha256(byte[] data) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(data);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 unavailable", e);
    }
  }

  private static byte[] labelledMac(byte[] key, byte[] label, byte[] transcriptHash) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(64);
    lp(out, label);
    out.writeBytes(transcriptHash);
    return hmac(key, out.toByteArray());
  }

  static byte[] hkdf(byte[] ikm, byte[] salt, byte[] info) {
    HKDFBytesGenerator hkdf = new HKDFBytesGenerator(new SHA256Digest());
    hkdf.init(new HKDFParameters(ikm, salt, info));
    byte[] out = new byte[KEY_BYTES];
    hkdf.generateBytes(out, 0, out.length);
    return out;
  }

  static void lp(ByteArrayOutputStream out, byte[] field) {
    u32(out, field.length);
    out.writeBytes(field);
  }

  private static void u32(ByteArrayOutputStream out, int value) {
    out.writeBytes(ByteBuffer.allocate(4).putInt(value).array());
  }

  private static byte[] ascii(String s) {
    return s.getBytes(US_ASCII);
  }
}
