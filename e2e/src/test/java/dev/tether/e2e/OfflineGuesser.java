package dev.tether.e2e;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static java.nio.charset.StandardCharsets.UTF_8;

import com.google.common.io.BaseEncoding;
import dev.tether.common.handshake.HandshakeCrypto;
import dev.tether.common.handshake.Transcript;
import dev.tether.common.token.DelegateToken;
import dev.tether.common.token.TokenCredential;
import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

/**
 * An offline guesser, run as its own process by {@link OfflineGuesserEndToEndTest}: it holds only
 * what an attacker holds (an account id, a public token id from a listing, a Challenge it recorded
 * by sending a Begin) and a list of candidate values. For each candidate it tries the fast formulas
 * that custom tokens used before (the SHA-256 public id, the HKDF key from the value) and then the
 * Argon2id derivation of protocol.md 3.3, against both the public id and the recorded server proof.
 * It prints candidates by their index only, never a value.
 */
public final class OfflineGuesser {

  private static final BaseEncoding HEX = BaseEncoding.base16().lowerCase();
  private static final BaseEncoding BASE32 = BaseEncoding.base32().lowerCase().omitPadding();

  private OfflineGuesser() {}

  /** Argument: a properties file naming the attacker's material and the candidates file. */
  public static void main(String[] args) throws IOException {
    Properties in = new Properties();
    try (Reader reader = Files.newBufferedReader(Path.of(args[0]), UTF_8)) {
      in.load(reader);
    }
    String accountId = in.getProperty("account_id");
    String tokenId = in.getProperty("token_id");
    byte[] transcriptHash = new Transcript(HandshakeCrypto.PROTOCOL_VERSION, accountId, tokenId,
        in.getProperty("delegate_name"), HEX.decode(in.getProperty("client_nonce")),
        HEX.decode(in.getProperty("server_nonce")), HEX.decode(in.getProperty("channel_binding"))).hash();
    byte[] serverProof = HEX.decode(in.getProperty("server_proof"));
    List<String> candidates = Files.readAllLines(Path.of(in.getProperty("candidates")), US_ASCII);
    System.out.println("candidates: " + candidates.size());

    List<Integer> fastMatches = new ArrayList<>();
    for (int i = 0; i < candidates.size(); i++) {
      if (fastMatch(candidates.get(i).getBytes(US_ASCII), accountId, tokenId, transcriptHash, serverProof)) {
        fastMatches.add(i);
      }
    }
    System.out.println("fast formula matches: " + fastMatches);
    // what a fast check would cost, once the JIT has compiled it (as in any real guessing run)
    int rounds = 20_000;
    long fastStart = 0;
    for (int round = 0; round < 2 * rounds; round++) {
      if (round == rounds) {
        fastStart = System.nanoTime();
      }
      fastMatch(candidates.get(round % candidates.size()).getBytes(US_ASCII), accountId, tokenId, transcriptHash,
          serverProof);
    }
    System.out.printf("fast formulas: %.1f microseconds per guess%n", (System.nanoTime() - fastStart) / 1e3 / rounds);

    int argon2Evaluations = 0;
    long argon2Nanos = 0;
    List<Integer> idMatches = new ArrayList<>();
    List<Integer> proofMatches = new ArrayList<>();
    for (int i = 0; i < candidates.size(); i++) {
      long t0 = System.nanoTime();
      // a fresh token each time: one Argon2id evaluation per candidate, nothing reused
      TokenCredential credential = DelegateToken.parse("candidate " + i, candidates.get(i)).credential(accountId);
      argon2Nanos += System.nanoTime() - t0;
      argon2Evaluations++;
      if (credential.publicId().equals(tokenId)) {
        idMatches.add(i);
      }
      if (HandshakeCrypto.equal(HandshakeCrypto.serverProof(credential.key(), transcriptHash), serverProof)) {
        proofMatches.add(i);
      }
    }
    System.out.println("argon2id evaluations: " + argon2Evaluations);
    System.out.println("argon2id public id matches: " + idMatches);
    System.out.println("argon2id server proof matches: " + proofMatches);
    System.out.printf("argon2id: %.0f ms per guess%n", argon2Nanos / 1e6 / argon2Evaluations);
  }

  /** Whether the fast formulas custom tokens had before match the public id or the recorded proof. */
  private static boolean fastMatch(byte[] t, String accountId, String tokenId, byte[] transcriptHash,
      byte[] serverProof) {
    byte[] fastKey = HandshakeCrypto.tokenKey(t, accountId);
    return fastPublicId(t).equals(tokenId)
        || HandshakeCrypto.equal(HandshakeCrypto.serverProof(fastKey, transcriptHash), serverProof);
  }

  /** The public id custom tokens had before: "tid_" || base32(SHA-256("tether/v1 token id" || T)[0..10]). */
  private static String fastPublicId(byte[] t) {
    byte[] label = "tether/v1 token id".getBytes(US_ASCII);
    byte[] input = new byte[label.length + t.length];
    System.arraycopy(label, 0, input, 0, label.length);
    System.arraycopy(t, 0, input, label.length, t.length);
    return "tid_" + BASE32.encode(HandshakeCrypto.sha256(input), 0, 10);
  }
}
