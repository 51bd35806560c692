package dev.tether.manager.auth;

import com.google.common.base.Ticker;
import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * Sessions established by handshakes on this manager, kept in memory only: after a restart every
 * delegate proves itself again. A session waits for its one stream for at most the unused TTL; the
 * number waiting per token is capped, so a token holder cannot pile up sessions; a session is
 * dropped when its stream ends; revocation drops all of a token's.
 */
public final class SessionRegistry {

  private final ConcurrentMap<SessionId, Session> sessions = new ConcurrentHashMap<>();
  private final ConcurrentMap<Long, Integer> waitingPerToken = new ConcurrentHashMap<>();
  private final ConcurrentMap<String, Integer> waitingPerTokenAndSource = new ConcurrentHashMap<>();
  private final Ticker ticker;
  private final Duration unusedTtl;
  private final int maxWaitingPerToken;
  private final int maxWaitingPerTokenAndSource;

  public SessionRegistry(Ticker ticker, Duration unusedTtl, int maxWaitingPerToken) {
    this.ticker = ticker;
    this.unusedTtl = unusedTtl;
    this.maxWaitingPerToken = maxWaitingPerToken;
    // one source may hold a sixteenth of a token's waiting sessions, so that one holder of the
    // token cannot keep its others out (found by the attacker's review)
    this.maxWaitingPerTokenAndSource = Math.max(1, maxWaitingPerToken / 16);
  }

  /**
   * A new session bound to {@code connection}, or null when the token already has the maximum
   * number of sessions waiting for their stream, in all or from {@code source}.
   */
  Session create(byte[] sessionKey, DelegateIdentity identity, Object connection, String source) {
    String tokenAndSource = identity.tokenRow() + "|" + source;
    // made (and its key checked) before anything is counted: one that fails must not hold a place
    SessionId id = SessionId.random();
    Session session = new Session(id, sessionKey, identity, connection, tokenAndSource, ticker.read());
    if (!increment(waitingPerTokenAndSource, tokenAndSource, maxWaitingPerTokenAndSource)) {
      return null;
    }
    if (!increment(waitingPerToken, identity.tokenRow(), maxWaitingPerToken)) {
      decrement(waitingPerTokenAndSource, tokenAndSource);
      return null;
    }
    sessions.put(id, session);
    return session;
  }

  private static <K> boolean increment(ConcurrentMap<K, Integer> counts, K key, int max) {
    boolean[] admitted = {false};
    counts.compute(key, (k, n) -> {
      int waiting = n == null ? 0 : n;
      if (waiting >= max) {
        return n;
      }
      admitted[0] = true;
      return waiting + 1;
    });
    return admitted[0];
  }

  private static <K> void decrement(ConcurrentMap<K, Integer> counts, K key) {
    counts.computeIfPresent(key, (k, n) -> n <= 1 ? null : n - 1);
  }

  /** The session whose id's text is {@code text}; null for none, or for a text that is not an id's. */
  Session find(String text) {
    SessionId id = SessionId.parse(text);
    return id == null ? null : sessions.get(id);
  }

  /**
   * Takes {@code session} for its one stream, on {@code connection} (its call's, which the session
   * was proved on); false if it was taken, expired or revoked meanwhile.
   */
  boolean claim(Session session, Object connection) {
    if (!session.claim(connection)) {
      return false;
    }
    stopWaiting(session);
    return sessions.get(session.handle()) == session;
  }

  /** Forgets a session its handshake could not hand out (the token was revoked meanwhile). */
  void discard(Session session) {
    if (sessions.remove(session.handle(), session) && session.claim(null)) {
      stopWaiting(session);
    }
  }

  /** Forgets a session whose stream has ended. */
  void ended(Session session) {
    sessions.remove(session.handle(), session);
  }

  /** Drops every session of a token, so no new call can start with them. */
  public void removeToken(long tokenRow) {
    sessions.values().removeIf(s -> {
      if (s.identity().tokenRow() != tokenRow) {
        return false;
      }
      if (s.claim(null)) {
        stopWaiting(s);
      }
      return true;
    });
  }

  /** Drops sessions that no stream claimed within the unused TTL; returns how many. */
  public int expireUnused() {
    long cutoff = ticker.read() - unusedTtl.toNanos();
    int[] dropped = {0};
    sessions.values().removeIf(s -> {
      if (s.unusedSince(cutoff) && s.claim(null)) {
        stopWaiting(s);
        dropped[0]++;
        return true;
      }
      return false;
    });
    return dropped[0];
  }

  /** Stops counting {@code session} as waiting; called once, by whoever claimed it (a second call does nothing). */
  private void stopWaiting(Session session) {
    String waitingKey = session.takeWaitingKey();
    if (waitingKey == null) {
      return;
    }
    decrement(waitingPerToken, session.identity().tokenRow());
    decrement(waitingPerTokenAndSource, waitingKey);
  }

  public int size() {
    return sessions.size();
  }
}
