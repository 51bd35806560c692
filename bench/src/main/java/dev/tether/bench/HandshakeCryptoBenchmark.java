package dev.tether.bench;

import dev.tether.common.handshake.HandshakeCrypto;
import dev.tether.common.handshake.Transcript;
import dev.tether.common.token.DelegateToken;
import dev.tether.manager.token.MasterKey;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * Cost per operation of the handshake's cryptography, on each side: what a manager spends to
 * answer one Begin (open the sealed key, hash the transcript, prove) and to check one Prove, and
 * what a delegate spends; the per-call MAC of later calls; and a custom token's Argon2id derivation.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class HandshakeCryptoBenchmark {

  private static final String ACCOUNT = "acme-0001";
  /** A custom token value for the derivation benchmark only. */
  private static final String CUSTOM_TOKEN = "benchmark-only:Kx9#vQ2m!Lp7@Zr4$Tn8&Wb3*Hc6^Jd1";

  private byte[] tokenBytes;
  private String tokenId;
  private byte[] tokenKey;
  private String sealedKey;
  private MasterKey masterKey;
  private byte[] clientNonce;
  private byte[] serverNonce;
  private byte[] binding;
  private byte[] transcriptHash;
  private byte[] clientProof;
  private byte[] sessionKey;
  private byte[] sessionId;
  private long sequence;

  @Setup
  public void setUp() {
    DelegateToken token = DelegateToken.generate();
    tokenBytes = token.reveal().getBytes(StandardCharsets.US_ASCII);
    tokenId = token.publicId();
    tokenKey = HandshakeCrypto.tokenKey(tokenBytes, ACCOUNT);
    masterKey = MasterKey.ephemeral();
    sealedKey = masterKey.seal(tokenKey, ACCOUNT, tokenId);
    clientNonce = HandshakeCrypto.randomBytes(32);
    serverNonce = HandshakeCrypto.randomBytes(32);
    binding = HandshakeCrypto.sha256(HandshakeCrypto.randomBytes(600));
    transcriptHash = transcript().hash();
    clientProof = HandshakeCrypto.clientProof(tokenKey, transcriptHash);
    sessionKey = HandshakeCrypto.sessionKey(tokenKey, transcriptHash);
    sessionId = HandshakeCrypto.randomBytes(16);
  }

  private Transcript transcript() {
    return new Transcript(1, ACCOUNT, tokenId, "builder-1", clientNonce, serverNonce, binding);
  }

  /** Delegate: derive K from the token (once per handshake). */
  @Benchmark
  public byte[] tokenKeyDerivation() {
    return HandshakeCrypto.tokenKey(tokenBytes, ACCOUNT);
  }

  /**
   * Delegate, once per token and account, and an offline guesser, once per guess: a custom
   * token's public id and key, through Argon2id (a fresh token each time, so nothing is reused).
   */
  @Benchmark
  public byte[] customTokenDerivation() {
    return DelegateToken.parse("benchmark", CUSTOM_TOKEN).credential(ACCOUNT).key();
  }

  /** Manager, on Begin: open the sealed key, hash the transcript, compute the server proof. */
  @Benchmark
  public byte[] managerAnswersBegin() {
    byte[] key = masterKey.open(sealedKey, ACCOUNT, tokenId);
    byte[] h = transcript().hash();
    return HandshakeCrypto.serverProof(key, h);
  }

  /** Manager, on Prove: compute the expected client proof, compare in constant time, derive S. */
  @Benchmark
  public byte[] managerChecksProve() {
    byte[] expected = HandshakeCrypto.clientProof(tokenKey, transcriptHash);
    if (!HandshakeCrypto.equal(expected, clientProof)) {
      throw new IllegalStateException("proof mismatch");
    }
    return HandshakeCrypto.sessionKey(tokenKey, transcriptHash);
  }

  /** Delegate, on Challenge: hash the transcript, verify the server proof, compute its own proof. */
  @Benchmark
  public byte[] delegateAnswersChallenge() {
    byte[] h = transcript().hash();
    byte[] serverProof = HandshakeCrypto.serverProof(tokenKey, h);
    if (!HandshakeCrypto.equal(serverProof, HandshakeCrypto.serverProof(tokenKey, h))) {
      throw new IllegalStateException("proof mismatch");
    }
    return HandshakeCrypto.clientProof(tokenKey, h);
  }

  /** Either side, per later call: the call MAC. */
  @Benchmark
  public byte[] callMac() {
    return HandshakeCrypto.callMac(sessionKey, sessionId, ++sequence, "tether.delegate.v1.DelegateStream/Connect",
        binding);
  }
}
