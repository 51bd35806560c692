package dev.tether.common.handshake;

import static java.util.Objects.requireNonNull;

/** Everything a handshake's proofs are computed over; see {@link HandshakeCrypto#transcriptHash}. */
public record Transcript(
    int protocolVersion,
    String accountId,
    String tokenId,
    String delegateName,
    byte[] clientNonce,
    byte[] serverNonce,
    byte[] channelBinding) {

  public Transcript {
    requireNonNull(accountId, "accountId");
    requireNonNull(tokenId, "tokenId");
    requireNonNull(delegateName, "delegateName");
    requireNonNull(clientNonce, "clientNonce");
    requireNonNull(serverNonce, "serverNonce");
    requireNonNull(channelBinding, "channelBinding");
  }

  public byte[] hash() {
    return HandshakeCrypto.transcriptHash(this);
  }
}
