package dev.tether.manager.auth;

import static dev.tether.common.handshake.SessionMetadata.BASE64URL;

import com.google.common.base.Ticker;
import dev.tether.common.handshake.HandshakeCrypto;
import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * Sessions established by handshakes on this manager, kept in memory only: after a restart every
 * delegate proves itself again. Idle sessions (no live call) expire; revocation drops a token's.
 */
public final class SessionRegistry {

  private final ConcurrentMap<String, Session> sessions = new ConcurrentHashMap<>();
  private final Ticker ticker;
  private final Duration idleTtl;

  public SessionRegistry(Ticker ticker, Duration idleTtl) {
    this.ticker = ticker;
    this.idleTtl = idleTtl;
  }

  Session create(byte[] sessionKey, DelegateIdentity identity) {
    byte[] sessionId = HandshakeCrypto.randomBytes(HandshakeCrypto.SESSION_ID_BYTES);
    String id = BASE64URL.encode(sessionId);
    Session session = new Session(id, sessionId, sessionKey, identity, ticker.read());
    sessions.put(id, session);
    return session;
  }

  Session find(String id) {
    return sessions.get(id);
  }

  long now() {
    return ticker.read();
  }

  /** Drops every session of a token, so no new call can start with them. */
  public void removeToken(long tokenId) {
    sessions.values().removeIf(s -> s.identity().tokenId() == tokenId);
  }

  /** Drops sessions with no live call for longer than the idle TTL; returns how many. */
  public int expireIdle() {
    long cutoff = ticker.read() - idleTtl.toNanos();
    int before = sessions.size();
    sessions.values().removeIf(s -> s.idleSince(cutoff));
    return before - sessions.size();
  }

  public int size() {
    return sessions.size();
  }
}
