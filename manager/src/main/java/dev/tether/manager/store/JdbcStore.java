package dev.tether.manager.store;

import static java.util.Objects.requireNonNull;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.flywaydb.core.Flyway;

/**
 * The store over JDBC: opens the pool, migrates the schema (Flyway), picks the {@link Dialect}, and
 * hands each call to the store of its aggregate (tokens and accounts, delegates, audit, replicas).
 */
public final class JdbcStore implements TetherStore {

  private final Database db;
  private final JdbcTokenStore tokens;
  private final JdbcDelegateStore delegates;
  private final JdbcAuditStore audit;
  private final JdbcReplicaStore replicas;
  private final JdbcAdminStore admins;
  private final JdbcRotationStore rotations;

  private JdbcStore(Database db) {
    this.db = db;
    this.tokens = new JdbcTokenStore(db);
    this.delegates = new JdbcDelegateStore(db);
    this.audit = new JdbcAuditStore(db);
    this.replicas = new JdbcReplicaStore(db);
    this.admins = new JdbcAdminStore(db);
    this.rotations = new JdbcRotationStore(db);
  }

  /** How long a PostgreSQL statement may wait for the database's answer (the driver's socketTimeout). */
  public static final java.time.Duration POSTGRES_SOCKET_TIMEOUT = java.time.Duration.ofSeconds(60);

  /**
   * The PostgreSQL driver's properties for every connection to the database, the pool's and the
   * revocation feed's: a database that stops answering (a network path that drops packets without a
   * reset) fails a statement after {@link #POSTGRES_SOCKET_TIMEOUT}, instead of holding its thread,
   * and a revoke's fence, for as long as TCP retries (about 15 minutes on Linux). A socketTimeout
   * in the URL wins.
   */
  static java.util.Properties postgresNetworkProperties() {
    java.util.Properties properties = new java.util.Properties();
    properties.setProperty("socketTimeout", String.valueOf(POSTGRES_SOCKET_TIMEOUT.toSeconds()));
    properties.setProperty("tcpKeepAlive", "true");
    return properties;
  }

  /**
   * Opens the database at {@code jdbcUrl}, migrating its schema to the current version.
   *
   * @param user may be null (embedded H2)
   * @param password may be null
   */
  public static JdbcStore open(String jdbcUrl, String user, String password) {
    requireNonNull(jdbcUrl, "jdbcUrl");
    HikariConfig config = new HikariConfig();
    config.setJdbcUrl(jdbcUrl);
    if (user != null) {
      config.setUsername(user);
    }
    if (password != null) {
      config.setPassword(password);
    }
    config.setPoolName("tether-store");
    config.setMaximumPoolSize(8);
    config.setConnectionTimeout(5_000);
    config.setAutoCommit(true);
    if (jdbcUrl.startsWith("jdbc:postgresql:")) {
      config.setDataSourceProperties(postgresNetworkProperties());
    }
    HikariDataSource dataSource = new HikariDataSource(config);
    try {
      Flyway.configure().dataSource(dataSource).locations("classpath:db/migration")
          .javaMigrations(new RevokeLegacyImportedTokens(), new TagsAsJson()).load().migrate();
    } catch (RuntimeException e) {
      dataSource.close();
      throw e;
    }
    Database db = new Database(dataSource, Dialect.of(jdbcUrl));
    try {
      // every commit is forced to the disk before it is answered: find out now whether that works
      // (a failure here refuses the start; it is not the running database's failed force)
      db.query("forcing the database to the disk at start", c -> {
        db.dialect().forceToDisk(c);
        return null;
      });
    } catch (StoreException e) {
      dataSource.close();
      throw new StoreException(e.getMessage() + (db.dialect() == Dialect.H2
          ? " (the manager forces every commit to the disk with H2's CHECKPOINT SYNC, which needs a database user"
          + " with admin rights)" : ""), e);
    }
    return new JdbcStore(db);
  }

  /**
   * The page cache of the embedded H2 database, in KB: 4 MB, where H2's default is 16 MB. H2 keeps
   * every page it has read or written until its cache is full, so the manager's heap grew with its
   * delegates by the pages of their rows, which it reads again when a delegate registers, when its
   * heartbeat time is written (at most every 30 s) or when an admin lists delegates, not per
   * heartbeat (docs/benchmarks.md, "H2's page cache"; docs/operations.md).
   */
  public static final int H2_CACHE_KB = 4096;

  /** The JDBC URL of an embedded H2 database file in {@code dataDir}. */
  public static String h2Url(java.nio.file.Path dataDir) {
    // WRITE_DELAY=0: H2 writes a commit to the file when it commits (the default waits up to 500 ms),
    // and every transaction then forces it to the disk (Dialect.forceToDisk), so that neither a crash
    // of the process nor one of the machine loses what was acknowledged
    return "jdbc:h2:file:" + dataDir.toAbsolutePath().resolve("tether") + ";DB_CLOSE_ON_EXIT=FALSE;WRITE_DELAY=0"
        + ";CACHE_SIZE=" + H2_CACHE_KB;
  }

  /** The pool, for tests and support tools that inspect the raw rows. */
  public javax.sql.DataSource dataSource() {
    return db.dataSource();
  }

  @Override
  public boolean shared() {
    return db.dialect() == Dialect.POSTGRESQL;
  }

  @Override
  public RevocationFeed revocationFeed(String replicaId) {
    return shared() ? new PostgresRevocationFeed(db.dataSource(), replicaId) : RevocationFeed.NONE;
  }

  @Override
  public void close() {
    delegates.close();
    db.close();
  }

  // rotations

  @Override
  public void openRotation(Rotation rotation, Actor by, String auditDetail) {
    rotations.openRotation(rotation, by, auditDetail);
  }

  @Override
  public Optional<Rotation> findRotation(String rotationId) {
    return rotations.findRotation(rotationId);
  }

  @Override
  public Optional<Rotation> latestRotationOf(long oldTokenRow) {
    return rotations.latestRotationOf(oldTokenRow);
  }

  @Override
  public List<Rotation> openRotations() {
    return rotations.openRotations();
  }

  @Override
  public List<Rotation> finishedWithOldTokenActive(Instant endedBy, Instant now) {
    return rotations.finishedWithOldTokenActive(endedBy, now);
  }

  @Override
  public boolean endRotation(String rotationId, Rotation.State state, Instant at, Actor by, String action,
      String auditDetail) {
    return rotations.endRotation(rotationId, state, at, by, action, auditDetail);
  }

  @Override
  public void recordRotationDelegate(RotationDelegate outcome) {
    rotations.recordRotationDelegate(outcome);
  }

  @Override
  public List<RotationDelegate> rotationDelegates(String rotationId) {
    return rotations.rotationDelegates(rotationId);
  }

  @Override
  public void scheduleRotation(RotationSchedule schedule) {
    rotations.scheduleRotation(schedule);
  }

  @Override
  public Optional<RotationSchedule> rotationSchedule(long tokenRow) {
    return rotations.rotationSchedule(tokenRow);
  }

  @Override
  public List<RotationSchedule> dueRotations(Instant now) {
    return rotations.dueRotations(now);
  }

  @Override
  public boolean claimScheduledRotation(long tokenRow, Instant expected, Instant nextAt) {
    return rotations.claimScheduledRotation(tokenRow, expected, nextAt);
  }

  @Override
  public void unscheduleRotation(long tokenRow) {
    rotations.unscheduleRotation(tokenRow);
  }

  // accounts and tokens

  @Override
  public Account createAccount(Account account, NewToken defaultToken, Actor by) {
    return tokens.createAccount(account, defaultToken, by);
  }

  @Override
  public Optional<Account> findAccount(String accountId) {
    return tokens.findAccount(accountId);
  }

  @Override
  public List<Account> listAccounts() {
    return tokens.listAccounts();
  }

  @Override
  public TokenRecord createToken(NewToken token, String auditDetail, Actor by) {
    return tokens.createToken(token, auditDetail, by);
  }

  @Override
  public Optional<TokenRecord> findToken(String accountId, String name) {
    return tokens.findToken(accountId, name);
  }

  @Override
  public Optional<TokenRecord> findTokenByPublicId(String accountId, String publicId) {
    return tokens.findTokenByPublicId(accountId, publicId);
  }

  @Override
  public Optional<TokenRecord> findTokenByValueFingerprint(String valueFingerprint) {
    return tokens.findTokenByValueFingerprint(valueFingerprint);
  }

  @Override
  public List<TokenRecord> listTokens(String accountId) {
    return tokens.listTokens(accountId);
  }

  @Override
  public List<TokenRecord> listExpiringTokens() {
    return tokens.listExpiringTokens();
  }

  @Override
  public Optional<TokenRecord> revokeToken(long tokenRow, Instant at, Actor by, String reason, String action) {
    return tokens.revokeToken(tokenRow, at, by, reason, action);
  }

  @Override
  public Optional<TokenRecord> expireToken(long tokenRow, Instant at) {
    return tokens.expireToken(tokenRow, at);
  }

  @Override
  public boolean deleteToken(TokenRecord token, Instant at, Actor by) {
    return tokens.deleteToken(token, at, by);
  }

  @Override
  public void recordTokensUsed(Map<Long, Instant> lastUsed) {
    tokens.recordTokensUsed(lastUsed);
  }

  @Override
  public List<Long> tokensToCut(Collection<Long> tokenIds, Instant now) {
    return tokens.tokensToCut(tokenIds, now);
  }

  @Override
  public Optional<Instant> tokenEndedAt(long tokenRow) {
    return tokens.tokenEndedAt(tokenRow);
  }

  @Override
  public void ping() {
    db.ping();
  }

  @Override
  public void forceToDisk() {
    db.forceToDisk("force commits to the disk");
  }

  @Override
  public void measure(dev.tether.manager.metrics.ManagerMetrics metrics) {
    db.measure(metrics);
  }

  @Override
  public Map<Long, SealedKey> sealedKeys() {
    return tokens.sealedKeys();
  }

  @Override
  public int replaceSealedKeys(List<Reseal> reseals) {
    return tokens.replaceSealedKeys(reseals);
  }

  // delegates

  @Override
  public CompletableFuture<String> delegateConnected(DelegateRecord delegate) {
    return delegates.delegateConnected(delegate);
  }

  @Override
  public void refuseRegistrations() {
    delegates.refuseRegistrations();
  }

  @Override
  public void delegatesDisconnected(List<Disconnect> disconnects) {
    delegates.delegatesDisconnected(disconnects);
  }

  @Override
  public void recordHeartbeats(Map<String, Instant> lastHeartbeats) {
    delegates.recordHeartbeats(lastHeartbeats);
  }

  @Override
  public List<DelegateRecord> listDelegates(String accountId) {
    return delegates.listDelegates(accountId);
  }

  @Override
  public Optional<DelegateRecord> findDelegate(String delegateId) {
    return delegates.findDelegate(delegateId);
  }

  @Override
  public boolean deleteDelegate(DelegateRecord delegate, Instant at, Actor by) {
    return delegates.deleteDelegate(delegate, at, by);
  }

  @Override
  public List<DelegateRecord> pruneDelegates(String accountId, Instant disconnectedBefore, boolean dryRun,
      Instant at, Actor by) {
    return delegates.pruneDelegates(accountId, disconnectedBefore, dryRun, at, by);
  }

  // admins

  @Override
  public AdminRecord createAdmin(String name, String publicId, AdminRole role, String secretDigest, Instant at,
      Actor by) {
    return admins.createAdmin(name, publicId, role, secretDigest, at, by);
  }

  @Override
  public Optional<AdminRecord> ensureBootstrapOwner(String name, String publicId, String secretDigest, Instant at) {
    return admins.ensureBootstrapOwner(name, publicId, secretDigest, at);
  }

  @Override
  public Optional<AdminRecord> findAdminByDigest(String secretDigest) {
    return admins.findAdminByDigest(secretDigest);
  }

  @Override
  public Optional<AdminRecord> findAdmin(String name) {
    return admins.findAdmin(name);
  }

  @Override
  public List<AdminRecord> listAdmins() {
    return admins.listAdmins();
  }

  @Override
  public Optional<AdminRecord> revokeAdmin(String name, Instant at, Actor by) {
    return admins.revokeAdmin(name, at, by);
  }

  @Override
  public boolean deleteAdmin(String name, Instant at, Actor by) {
    return admins.deleteAdmin(name, at, by);
  }

  @Override
  public int disconnectDelegatesOfLostReplicas(Instant cutoff, Instant at) {
    return delegates.disconnectDelegatesOfLostReplicas(cutoff, at);
  }

  // audit

  @Override
  public void audit(Instant at, Actor actor, String action, String accountId, String tokenPublicId, String detail) {
    audit.audit(at, actor, action, accountId, tokenPublicId, detail);
  }

  @Override
  public List<AuditEvent> listAudit(String accountId, String actor, int limit) {
    return audit.listAudit(accountId, actor, limit);
  }

  // replicas

  @Override
  public void replicaSeen(Replica replica) {
    replicas.replicaSeen(replica);
  }

  @Override
  public List<Replica> listReplicas() {
    return replicas.listReplicas();
  }

  @Override
  public void replicaEnded(String replicaId, Instant at, String reason) {
    replicas.replicaEnded(replicaId, at, reason);
  }

  @Override
  public int earlierRunsEnded(String keep, Instant at, String reason) {
    return replicas.earlierRunsEnded(keep, at, reason);
  }

  @Override
  public void recordRevocationAck(long tokenRow, String replicaId, int streamsClosed, Instant at) {
    replicas.recordRevocationAck(tokenRow, replicaId, streamsClosed, at);
  }

  @Override
  public Map<String, Integer> revocationAcks(long tokenRow) {
    return replicas.revocationAcks(tokenRow);
  }

  @Override
  public int forgetReplicas(Instant cutoff, String keep) {
    return replicas.forgetReplicas(cutoff, keep);
  }
}
