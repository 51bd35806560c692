package dev.tether.manager.store;

import com.google.common.base.Ticker;
import com.google.common.collect.Iterables;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.ListValue;
import com.google.protobuf.Value;
import com.google.protobuf.util.JsonFormat;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * Delegates over JDBC. A registration is one native upsert, and registrations arriving together
 * share one commit ({@link GroupCommit}). Tags are stored as a JSON array, so a tag may hold any
 * character the protocol allows.
 */
final class JdbcDelegateStore implements DelegateStore, AutoCloseable {

  /** Heartbeat times written in one transaction at most (see {@link #recordHeartbeats}). */
  static final int HEARTBEATS_PER_TRANSACTION = 250;
  /** When a record reads as disconnected: its own end, or its replica's. */
  private static final String DISCONNECTED_AT =
      "CASE WHEN d.connected AND r.ended_at IS NOT NULL THEN r.ended_at ELSE d.disconnected_at END";
  /**
   * A delegate's record as it reads: a record still marked connected by a replica that has ended
   * (stopped, or found gone when a manager alone on its database starts) reads as disconnected at
   * the replica's end, with its reason. A replica's end is one row ({@link JdbcReplicaStore#replicaEnded}),
   * whatever the number of its delegates: a stop under 10 000 delegates wrote 10 000 rows.
   */
  private static final String COLUMNS = "d.id, d.account_id, d.name, d.hostname, d.delegate_type,"
      + " d.version, d.tags, d.ip, d.token_public_id, d.token_name,"
      + " CASE WHEN r.ended_at IS NULL THEN d.connected ELSE FALSE END AS connected,"
      + " d.first_seen, d.connected_since, d.last_heartbeat, " + DISCONNECTED_AT + " AS disconnected_at,"
      + " CASE WHEN d.connected AND r.ended_at IS NOT NULL THEN r.end_reason ELSE d.disconnect_reason END"
      + " AS disconnect_reason, d.replica_id";
  /** Delegates with the replica holding each, for {@link #COLUMNS}. */
  private static final String FROM = " FROM delegates d LEFT JOIN replicas r ON r.id = d.replica_id";
  /** A record that reads as disconnected (its own end, or its replica's). */
  private static final String DISCONNECTED = "(d.connected = FALSE OR r.ended_at IS NOT NULL)";
  /** A record that reads as disconnected, in a statement on the delegates table alone. */
  private static final String ROW_DISCONNECTED = "(connected = FALSE OR replica_id IN"
      + " (SELECT id FROM replicas WHERE ended_at IS NOT NULL))";
  /** Largest number of delegate registrations committed together. */
  private static final int CONNECTS_PER_COMMIT = 256;
  /** Registrations that may wait for their commit; more are refused at once (the delegate retries). */
  private static final int CONNECTS_WAITING = 20_000;
  /** A delegate waits 15 s for Registered: a registration not committed by then is of no use. */
  private static final Duration CONNECT_DEADLINE = Duration.ofSeconds(15);

  private final Database db;
  private final GroupCommit<DelegateRecord, String> connects;

  JdbcDelegateStore(Database db) {
    this.db = db;
    this.connects = new GroupCommit<>("tether-delegate-connects", CONNECTS_PER_COMMIT, CONNECTS_WAITING,
        CONNECT_DEADLINE, Ticker.systemTicker(), this::connectedTogether, this::connectedAlone, (waited, took) -> {
          dev.tether.manager.metrics.ManagerMetrics metrics = db.metrics();
          if (metrics != null) {
            metrics.registrationsCommitted(waited, took);
          }
        });
  }

  @Override
  public CompletableFuture<String> delegateConnected(DelegateRecord d) {
    // many delegates connecting at once (a manager restart) share commits instead of queueing on them
    return connects.submit(d);
  }

  @Override
  public void refuseRegistrations() {
    connects.close();
  }

  private String connectedAlone(DelegateRecord d) {
    return db.inTransaction("record delegate", c -> {
      try (Upserts upserts = new Upserts(c)) {
        return upserts.upsert(d);
      }
    });
  }

  private List<String> connectedTogether(List<DelegateRecord> batch) {
    return db.inTransaction("record delegates", c -> {
      try (Upserts upserts = new Upserts(c)) {
        List<String> ids = new ArrayList<>(batch.size());
        for (DelegateRecord d : batch) {
          ids.add(upserts.upsert(d));
        }
        return ids;
      }
    });
  }

  /**
   * Registrations' upserts in one transaction, the statement prepared once for all of them (a fleet
   * coming back after a restart is written up to 256 rows a transaction, on a machine busy with its
   * handshakes).
   */
  private final class Upserts implements AutoCloseable {
    private final Connection c;
    private PreparedStatement upsert;

    Upserts(Connection c) {
      this.c = c;
    }

    /** Writes {@code d}'s row; returns its id, the new one or the one its row already had. */
    String upsert(DelegateRecord d) throws SQLException {
      String fresh = d.id() != null ? d.id() : DelegateIds.fresh();
      if (upsert == null) {
        upsert = c.prepareStatement(db.dialect().upsertDelegate());
      }
      upsert.setString(1, fresh);
      upsert.setString(2, d.accountId());
      upsert.setString(3, d.name());
      upsert.setString(4, d.hostname());
      upsert.setString(5, d.delegateType());
      upsert.setString(6, d.version());
      upsert.setString(7, tagsJson(d.tags()));
      upsert.setString(8, d.ip());
      upsert.setString(9, d.tokenPublicId());
      upsert.setString(10, d.tokenName());
      upsert.setLong(11, d.connectedSince().toEpochMilli());
      upsert.setString(12, d.replicaId());
      try (ResultSet rs = upsert.executeQuery()) {
        if (!rs.next()) {
          throw new SQLException("the delegate upsert returned no id");
        }
        return rs.getString(1);
      }
    }

    @Override
    public void close() throws SQLException {
      if (upsert != null) {
        upsert.close();
      }
    }
  }

  @Override
  public void delegatesDisconnected(List<Disconnect> disconnects) {
    if (disconnects.isEmpty()) {
      return;
    }
    db.inTransaction(disconnects.size() == 1 ? "record delegate disconnect" : "record delegate disconnects", c -> {
      try (PreparedStatement ps = c.prepareStatement("UPDATE delegates SET connected = FALSE,"
          + " disconnected_at = ?, disconnect_reason = ? WHERE id = ? AND connected_since = ?")) {
        for (Disconnect d : disconnects) {
          ps.setLong(1, d.at().toEpochMilli());
          ps.setString(2, d.reason());
          ps.setString(3, d.delegateId());
          ps.setLong(4, d.connectedSince().toEpochMilli());
          ps.addBatch();
        }
        ps.executeBatch();
      }
      return null;
    });
  }

  /**
   * Writes heartbeat times in transactions of at most {@link #HEARTBEATS_PER_TRANSACTION} rows, one
   * after another: a revoke committed meanwhile waits for one of them, not for all. Against H2, one
   * transaction of 10 000 rows made a concurrent revoke-sized commit wait up to 173 ms, 250-row ones
   * up to 53 ms, for the same total time of the write (docs/benchmarks.md). A failure leaves the
   * transactions before it committed; the caller writes the whole map again, which only rewrites
   * the same times.
   */
  @Override
  public void recordHeartbeats(Map<String, Instant> lastHeartbeats) {
    for (List<Map.Entry<String, Instant>> part : Iterables.partition(lastHeartbeats.entrySet(), HEARTBEATS_PER_TRANSACTION)) {
      db.inTransaction("record heartbeats", c -> {
        // never back in time: the time a stream of the delegate handed over as it ended can be
        // written after its next connection wrote a later one (WriteBehind.ended)
        try (PreparedStatement ps = c.prepareStatement("UPDATE delegates SET last_heartbeat = ? WHERE id = ?"
            + " AND (last_heartbeat IS NULL OR last_heartbeat < ?)")) {
          for (Map.Entry<String, Instant> e : part) {
            ps.setLong(1, e.getValue().toEpochMilli());
            ps.setString(2, e.getKey());
            ps.setLong(3, e.getValue().toEpochMilli());
            ps.addBatch();
          }
          ps.executeBatch();
        }
        return null;
      });
    }
  }

  @Override
  public List<DelegateRecord> listDelegates(String accountId) {
    return db.query("list delegates", c -> {
      String sql = "SELECT " + COLUMNS + FROM
          + (accountId == null ? "" : " WHERE d.account_id = ?") + " ORDER BY d.account_id, d.name, d.hostname";
      try (PreparedStatement ps = c.prepareStatement(sql)) {
        if (accountId != null) {
          ps.setString(1, accountId);
        }
        try (ResultSet rs = ps.executeQuery()) {
          List<DelegateRecord> out = new ArrayList<>();
          while (rs.next()) {
            out.add(delegate(rs));
          }
          return out;
        }
      }
    });
  }

  @Override
  public java.util.Optional<DelegateRecord> findDelegate(String delegateId) {
    return db.query("find delegate", c -> {
      try (PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS + FROM + " WHERE d.id = ?")) {
        ps.setString(1, delegateId);
        try (ResultSet rs = ps.executeQuery()) {
          return rs.next() ? java.util.Optional.of(delegate(rs)) : java.util.Optional.<DelegateRecord>empty();
        }
      }
    });
  }

  @Override
  public boolean deleteDelegate(DelegateRecord delegate, Instant at, Actor by) {
    return db.inTransaction("delete delegate", c -> {
      try (PreparedStatement ps = c.prepareStatement("DELETE FROM delegates WHERE id = ? AND " + ROW_DISCONNECTED)) {
        ps.setString(1, delegate.id());
        if (ps.executeUpdate() == 0) {
          return false;
        }
      }
      JdbcAuditStore.insert(c, at, by, "delegate.delete", delegate.accountId(), delegate.tokenPublicId(),
          "delegate_id=" + delegate.id() + " name=" + delegate.name() + " hostname=" + delegate.hostname());
      return true;
    });
  }

  @Override
  public List<DelegateRecord> pruneDelegates(String accountId, Instant disconnectedBefore, boolean dryRun,
      Instant at, Actor by) {
    return db.inTransaction("prune delegates", c -> {
      List<DelegateRecord> stale = new ArrayList<>();
      try (PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS + FROM + " WHERE " + DISCONNECTED
          + " AND " + DISCONNECTED_AT + " < ?"
          + (accountId == null ? "" : " AND d.account_id = ?") + " ORDER BY d.account_id, d.name, d.hostname")) {
        ps.setLong(1, disconnectedBefore.toEpochMilli());
        if (accountId != null) {
          ps.setString(2, accountId);
        }
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            stale.add(delegate(rs));
          }
        }
      }
      if (dryRun || stale.isEmpty()) {
        return stale;
      }
      List<DelegateRecord> deleted = new ArrayList<>();
      try (PreparedStatement ps = c.prepareStatement("DELETE FROM delegates WHERE id = ? AND " + ROW_DISCONNECTED)) {
        for (DelegateRecord d : stale) {
          ps.setString(1, d.id());
          if (ps.executeUpdate() > 0) {
            deleted.add(d);
          }
        }
      }
      Map<String, Long> perAccount = new java.util.TreeMap<>();
      deleted.forEach(d -> perAccount.merge(d.accountId(), 1L, Long::sum));
      for (Map.Entry<String, Long> e : perAccount.entrySet()) {
        JdbcAuditStore.insert(c, at, by, "delegate.prune", e.getKey(), null, "deleted=" + e.getValue()
            + " disconnected_before=" + disconnectedBefore);
      }
      return deleted;
    });
  }

  @Override
  public int disconnectDelegatesOfLostReplicas(Instant cutoff, Instant at) {
    // the lost replicas are read in the transaction that updates their delegates; then one replica at
    // a time, by the (replica_id, connected) index, so a lost replica whose delegates are already
    // shown disconnected costs a lookup, not a full read
    return db.inTransaction("disconnect delegates of lost replicas", c -> {
      List<String> lost = new ArrayList<>();
      try (PreparedStatement ps = c.prepareStatement("SELECT id FROM replicas WHERE last_seen < ?"
          // a replica that ended cleanly is not lost: its delegates read as disconnected already
          + " AND ended_at IS NULL")) {
        ps.setLong(1, cutoff.toEpochMilli());
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            lost.add(rs.getString(1));
          }
        }
      }
      int n = 0;
      try (PreparedStatement ps = c.prepareStatement("UPDATE delegates SET connected = FALSE,"
          + " disconnected_at = ?, disconnect_reason = ? WHERE replica_id = ? AND connected = TRUE")) {
        for (String replica : lost) {
          ps.setLong(1, at.toEpochMilli());
          ps.setString(2, "replica lost: " + replica);
          ps.setString(3, replica);
          n += ps.executeUpdate();
        }
      }
      return n;
    });
  }

  /** Tags as written since schema version 6 (a JSON array), or by older versions (comma-separated). */
  static List<String> tags(String stored) {
    if (stored == null || stored.isEmpty()) {
      return List.of();
    }
    if (stored.startsWith("[")) {
      try {
        ListValue.Builder parsed = ListValue.newBuilder();
        JsonFormat.parser().merge(stored, parsed);
        return parsed.getValuesList().stream().map(Value::getStringValue).toList();
      } catch (InvalidProtocolBufferException e) {
        throw new StoreException("delegate tags are not a JSON array of strings: " + e.getMessage(), e);
      }
    }
    return Arrays.asList(stored.split(","));
  }

  /** A JSON array of the tags, as stored. */
  static String tagsJson(List<String> tags) {
    ListValue.Builder list = ListValue.newBuilder();
    tags.forEach(t -> list.addValues(Value.newBuilder().setStringValue(t)));
    try {
      return JsonFormat.printer().omittingInsignificantWhitespace().print(list);
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("tags cannot be written as JSON", e);
    }
  }

  private static DelegateRecord delegate(ResultSet rs) throws SQLException {
    return new DelegateRecord(rs.getString("id"), rs.getString("account_id"), rs.getString("name"),
        rs.getString("hostname"), rs.getString("delegate_type"), rs.getString("version"),
        tags(rs.getString("tags")), rs.getString("ip"), rs.getString("token_public_id"), rs.getString("token_name"),
        rs.getBoolean("connected"), Database.instant(rs, "first_seen"), Database.instant(rs, "connected_since"),
        Database.instant(rs, "last_heartbeat"), Database.instant(rs, "disconnected_at"),
        rs.getString("disconnect_reason"), rs.getString("replica_id"));
  }

  @Override
  public void close() {
    connects.close();
  }
}
