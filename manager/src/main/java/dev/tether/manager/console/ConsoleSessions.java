package dev.tether.manager.console;

import dev.tether.manager.store.AdminRecord;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The web console's sign-ins on this manager: sessions (a random cookie value, a CSRF token, the
 * admin, the browser's address) and one-time sign-in codes. Both live in memory only and are kept
 * by the SHA-256 of their secret, so that neither a heap dump's map keys nor a log can replay them;
 * a session ends after {@link #IDLE_TIMEOUT} without the admin's own activity, at sign-out, when
 * the admin is revoked, and when the manager stops.
 */
public final class ConsoleSessions {

  /** A session without activity for this long is over. */
  public static final Duration IDLE_TIMEOUT = Duration.ofMinutes(30);
  /** A one-time sign-in code is valid for this long, and once. */
  public static final Duration LOGIN_CODE_LIFETIME = Duration.ofMinutes(5);
  /** Sessions and codes kept at once; beyond it the oldest idle ones are dropped first. */
  static final int MAX_SESSIONS = 10_000;
  static final int MAX_CODES = 1_000;
  /**
   * Sessions, and codes, of one admin kept at once; beyond it that admin's own oldest go first, so
   * that one admin signing in (or asking for links) over and over cannot push out anyone else's.
   */
  static final int MAX_PER_ADMIN = 20;

  private static final SecureRandom RANDOM = new SecureRandom();

  private final Clock clock;
  private final Map<String, Session> sessions = new ConcurrentHashMap<>();
  private final Map<String, Code> codes = new ConcurrentHashMap<>();
  private volatile String url;

  public ConsoleSessions(Clock clock) {
    this.clock = clock;
  }

  /** A signed-in browser: who, from where, and the CSRF token its state-changing requests carry. */
  public static final class Session {
    private final String key;
    private final String csrf;
    private final String adminName;
    private final String adminId;
    private final String remoteAddress;
    private volatile Instant lastActive;

    private Session(String key, String csrf, AdminRecord admin, String remoteAddress, Instant now) {
      this.key = key;
      this.csrf = csrf;
      this.adminName = admin.name();
      this.adminId = admin.publicId();
      this.remoteAddress = remoteAddress;
      this.lastActive = now;
    }

    /** The internal handle the console's in-process admin calls carry (never sent to a browser). */
    String key() {
      return key;
    }

    String csrf() {
      return csrf;
    }

    public String adminName() {
      return adminName;
    }

    public String adminId() {
      return adminId;
    }

    public String remoteAddress() {
      return remoteAddress;
    }

    @Override
    public String toString() {
      return "console session of admin '" + adminName + "' from " + remoteAddress;
    }
  }

  /** A new session and the cookie value that names it; the value is given to the browser only. */
  public record Opened(Session session, String cookie) {}

  /** The admin of a redeemed one-time code. */
  record Code(String adminName, String adminId, Instant expires) {}

  /** The console's own address as browsers reach it, such as {@code https://127.0.0.1:7480}; null when off. */
  public void url(String url) {
    this.url = url;
  }

  public Optional<String> url() {
    return Optional.ofNullable(url);
  }

  /** Opens a session for {@code admin}, signed in from {@code remoteAddress}. */
  public Opened open(AdminRecord admin, String remoteAddress) {
    String cookie = random();
    Session session = new Session(digest(cookie), random(), admin, remoteAddress, clock.instant());
    expire();
    List<Session> own = sessions.values().stream().filter(s -> s.adminId().equals(session.adminId()))
        .sorted(Comparator.comparing((Session s) -> s.lastActive)).toList();
    own.stream().limit(Math.max(0, own.size() - MAX_PER_ADMIN + 1)).forEach(old -> sessions.remove(old.key(), old));
    if (sessions.size() >= MAX_SESSIONS) {
      dropOldestSession();
    }
    sessions.put(session.key(), session);
    return new Opened(session, cookie);
  }

  /**
   * The live session the cookie names. {@code activity} false for requests the page makes on its own
   * (polling), which do not keep a session alive.
   */
  public Optional<Session> find(String cookie, boolean activity) {
    if (cookie == null || cookie.isEmpty()) {
      return Optional.empty();
    }
    Session session = sessions.get(digest(cookie));
    if (session == null) {
      return Optional.empty();
    }
    Instant now = clock.instant();
    if (!now.isBefore(session.lastActive.plus(IDLE_TIMEOUT))) {
      sessions.remove(session.key(), session);
      return Optional.empty();
    }
    if (activity) {
      session.lastActive = now;
    }
    return Optional.of(session);
  }

  /** The session the in-process call's handle names, if it is still open (not idle-checked again). */
  Optional<Session> byKey(String key) {
    return key == null ? Optional.empty() : Optional.ofNullable(sessions.get(key));
  }

  /** Whether {@code presented} is the session's CSRF token, compared in constant time. */
  public static boolean csrfMatches(Session session, String presented) {
    return presented != null && MessageDigest.isEqual(session.csrf().getBytes(StandardCharsets.UTF_8),
        presented.getBytes(StandardCharsets.UTF_8));
  }

  public void close(Session session) {
    sessions.remove(session.key(), session);
  }

  /** Ends every session of the admin; returns how many. */
  public int closeAll(String adminId) {
    int closed = 0;
    for (Iterator<Session> it = sessions.values().iterator(); it.hasNext(); ) {
      if (it.next().adminId().equals(adminId)) {
        it.remove();
        closed++;
      }
    }
    codes.values().removeIf(code -> code.adminId().equals(adminId));
    return closed;
  }

  /** Sessions open now. */
  public int size() {
    expire();
    return sessions.size();
  }

  /** A one-time sign-in code for {@code admin}; the URL is {@link #url()} + {@code /#login=} + code. */
  public String issueCode(AdminRecord admin) {
    String code = random();
    Instant now = clock.instant();
    codes.values().removeIf(c -> !now.isBefore(c.expires()));
    List<Map.Entry<String, Code>> own = codes.entrySet().stream()
        .filter(e -> e.getValue().adminId().equals(admin.publicId()))
        .sorted(Map.Entry.comparingByValue(Comparator.comparing(Code::expires))).toList();
    own.stream().limit(Math.max(0, own.size() - MAX_PER_ADMIN + 1)).forEach(e -> codes.remove(e.getKey()));
    if (codes.size() >= MAX_CODES) {
      codes.entrySet().stream().min(Map.Entry.comparingByValue((a, b) -> a.expires().compareTo(b.expires())))
          .ifPresent(oldest -> codes.remove(oldest.getKey()));
    }
    codes.put(digest(code), new Code(admin.name(), admin.publicId(), now.plus(LOGIN_CODE_LIFETIME)));
    return code;
  }

  /** Redeems a code: its admin once, within its lifetime; empty for anything else. */
  Optional<Code> redeem(String code) {
    if (code == null || code.isEmpty() || code.length() > 100) {
      return Optional.empty();
    }
    Code found = codes.remove(digest(code));
    if (found == null || !clock.instant().isBefore(found.expires())) {
      return Optional.empty();
    }
    return Optional.of(found);
  }

  private void expire() {
    Instant cutoff = clock.instant().minus(IDLE_TIMEOUT);
    sessions.values().removeIf(session -> !cutoff.isBefore(session.lastActive));
  }

  private void dropOldestSession() {
    sessions.values().stream().min((a, b) -> a.lastActive.compareTo(b.lastActive))
        .ifPresent(oldest -> sessions.remove(oldest.key(), oldest));
  }

  /** 256 random bits, base64url without padding. */
  private static String random() {
    byte[] bytes = new byte[32];
    RANDOM.nextBytes(bytes);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
  }

  private static String digest(String secret) {
    try {
      byte[] hash = MessageDigest.getInstance("SHA-256").digest(secret.getBytes(StandardCharsets.UTF_8));
      return Base64.getUrlEncoder().withoutPadding().encodeToString(hash);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JVM", e);
    }
  }
}
