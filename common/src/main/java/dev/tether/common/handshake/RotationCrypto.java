package dev.tether.common.handshake;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.ByteArrayOutputStream;
import java.security.GeneralSecurityException;
import java.util.Arrays;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * The sealing of a successor token on a delegate stream (docs/protocol.md 6.3): AES-256-GCM under
 * a key derived from the session key with a label of its own, bound by its associated data to the
 * session, the rotation and the successor's public id, so that a sealed successor opens only on
 * the stream it was sent on and only as the token it claims to be.
 */
public final class RotationCrypto {

  public static final int NONCE_BYTES = 12;
  public static final int TAG_BYTES = 16;
  static final byte[] ROTATION_KEY_INFO = "tether/v1 rotation key".getBytes(US_ASCII);
  static final byte[] SEAL_LABEL = "tether/v1 rotate token".getBytes(US_ASCII);

  private RotationCrypto() {}

  /** R = HKDF-SHA256(salt = session id, IKM = S, info = "tether/v1 rotation key"), 32 bytes. */
  public static byte[] rotationKey(byte[] sessionKey, byte[] sessionId) {
    return HandshakeCrypto.hkdf(sessionKey, sessionId, ROTATION_KEY_INFO);
  }

  /** A = lp("tether/v1 rotate token") || lp(session id) || lp(rotation id) || lp(successor public id). */
  public static byte[] associatedData(byte[] sessionId, String rotationId, String successorTokenId) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(96);
    HandshakeCrypto.lp(out, SEAL_LABEL);
    HandshakeCrypto.lp(out, sessionId);
    HandshakeCrypto.lp(out, rotationId.getBytes(UTF_8));
    HandshakeCrypto.lp(out, successorTokenId.getBytes(UTF_8));
    return out.toByteArray();
  }

  /** nonce || AES-256-GCM(R, nonce, value, A): what {@code RotateToken.sealed_successor} carries. */
  public static byte[] seal(byte[] sessionKey, byte[] sessionId, String rotationId, String successorTokenId,
      byte[] value, byte[] nonce) {
    if (nonce.length != NONCE_BYTES) {
      throw new IllegalArgumentException("nonce has " + nonce.length + " bytes (expected " + NONCE_BYTES + ")");
    }
    try {
      Cipher gcm = cipher(Cipher.ENCRYPT_MODE, sessionKey, sessionId, nonce);
      gcm.updateAAD(associatedData(sessionId, rotationId, successorTokenId));
      byte[] sealed = gcm.doFinal(value);
      byte[] out = Arrays.copyOf(nonce, NONCE_BYTES + sealed.length);
      System.arraycopy(sealed, 0, out, NONCE_BYTES, sealed.length);
      return out;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("AES-256-GCM unavailable", e);
    }
  }

  /** {@link #seal} with a fresh random nonce. */
  public static byte[] seal(byte[] sessionKey, byte[] sessionId, String rotationId, String successorTokenId,
      byte[] value) {
    return seal(sessionKey, sessionId, rotationId, successorTokenId, value, HandshakeCrypto.randomBytes(NONCE_BYTES));
  }

  /**
   * Opens what {@link #seal} made; throws {@link GeneralSecurityException} when the bytes were sealed
   * under another session, for another rotation or successor, or were altered.
   */
  public static byte[] open(byte[] sessionKey, byte[] sessionId, String rotationId, String successorTokenId,
      byte[] sealed) throws GeneralSecurityException {
    if (sealed.length < NONCE_BYTES + TAG_BYTES) {
      throw new GeneralSecurityException("sealed successor has " + sealed.length + " bytes (expected at least "
          + (NONCE_BYTES + TAG_BYTES) + ")");
    }
    Cipher gcm = cipher(Cipher.DECRYPT_MODE, sessionKey, sessionId, Arrays.copyOf(sealed, NONCE_BYTES));
    gcm.updateAAD(associatedData(sessionId, rotationId, successorTokenId));
    return gcm.doFinal(sealed, NONCE_BYTES, sealed.length - NONCE_BYTES);
  }

  private static Cipher cipher(int mode, byte[] sessionKey, byte[] sessionId, byte[] nonce)
      throws GeneralSecurityException {
    Cipher gcm = Cipher.getInstance("AES/GCM/NoPadding");
    gcm.init(mode, new SecretKeySpec(rotationKey(sessionKey, sessionId), "AES"),
        new GCMParameterSpec(TAG_BYTES * 8, nonce));
    return gcm;
  }
}
