package dev.tether.manager.store;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** Replicas and revocation confirmations over JDBC, with native upserts. */
final class JdbcReplicaStore implements ReplicaStore {

  private final Database db;

  JdbcReplicaStore(Database db) {
    this.db = db;
  }

  @Override
  public void replicaSeen(Replica r) {
    db.inTransaction("register replica", c -> {
      try (PreparedStatement ps = c.prepareStatement(db.dialect().upsertReplica())) {
        ps.setString(1, r.id());
        ps.setString(2, r.address());
        ps.setLong(3, r.startedAt().toEpochMilli());
        ps.setLong(4, r.lastSeen().toEpochMilli());
        ps.executeUpdate();
      }
      return null;
    });
  }

  @Override
  public List<Replica> listReplicas() {
    return db.query("list replicas", c -> {
      try (PreparedStatement ps = c.prepareStatement(
          "SELECT id, address, started_at, last_seen FROM replicas WHERE ended_at IS NULL ORDER BY started_at, id");
          ResultSet rs = ps.executeQuery()) {
        List<Replica> out = new ArrayList<>();
        while (rs.next()) {
          out.add(new Replica(rs.getString(1), rs.getString(2), Instant.ofEpochMilli(rs.getLong(3)),
              Instant.ofEpochMilli(rs.getLong(4))));
        }
        return out;
      }
    });
  }

  @Override
  public void replicaEnded(String replicaId, Instant at, String reason) {
    end("record the replica's end", "id = ?", replicaId, at, reason);
  }

  @Override
  public int earlierRunsEnded(String keep, Instant at, String reason) {
    return end("record earlier runs' ends", "id <> ?", keep, at, reason);
  }

  /** Records the end of the replicas that {@code which} selects by {@code id}, where not recorded yet. */
  private int end(String what, String which, String id, Instant at, String reason) {
    return db.inTransaction(what, c -> {
      try (PreparedStatement ps = c.prepareStatement(
          "UPDATE replicas SET ended_at = ?, end_reason = ? WHERE " + which + " AND ended_at IS NULL")) {
        ps.setLong(1, at.toEpochMilli());
        ps.setString(2, reason);
        ps.setString(3, id);
        return ps.executeUpdate();
      }
    });
  }

  @Override
  public void recordRevocationAck(long tokenRow, String replicaId, int streamsClosed, Instant at) {
    db.inTransaction("record revocation ack", c -> {
      try (PreparedStatement ps = c.prepareStatement(db.dialect().addRevocationAck())) {
        ps.setLong(1, tokenRow);
        ps.setString(2, replicaId);
        ps.setInt(3, streamsClosed);
        ps.setLong(4, at.toEpochMilli());
        ps.executeUpdate();
      }
      int total;
      try (PreparedStatement ps = c.prepareStatement(
          "SELECT streams_closed FROM revocation_acks WHERE token_id = ? AND replica_id = ?")) {
        ps.setLong(1, tokenRow);
        ps.setString(2, replicaId);
        try (ResultSet rs = ps.executeQuery()) {
          rs.next();
          total = rs.getInt(1);
        }
      }
      // the total so far, so that a listener may take the largest it hears, whatever the order
      db.dialect().notify(c, RevocationFeed.ACKED_CHANNEL, tokenRow + ":" + replicaId + ":" + total);
      return null;
    });
  }

  @Override
  public Map<String, Integer> revocationAcks(long tokenRow) {
    return db.query("read revocation acks", c -> {
      try (PreparedStatement ps = c.prepareStatement(
          "SELECT replica_id, streams_closed FROM revocation_acks WHERE token_id = ?")) {
        ps.setLong(1, tokenRow);
        try (ResultSet rs = ps.executeQuery()) {
          Map<String, Integer> out = new TreeMap<>();
          while (rs.next()) {
            out.put(rs.getString(1), rs.getInt(2));
          }
          return out;
        }
      }
    });
  }

  @Override
  public int forgetReplicas(Instant cutoff, String keep) {
    return db.inTransaction("forget old replicas", c -> {
      try (PreparedStatement ps = c.prepareStatement("DELETE FROM revocation_acks WHERE at < ?"
          + " OR replica_id IN (SELECT id FROM replicas WHERE last_seen < ? AND id <> ?)")) {
        ps.setLong(1, cutoff.toEpochMilli());
        ps.setLong(2, cutoff.toEpochMilli());
        ps.setString(3, keep);
        ps.executeUpdate();
      }
      // a forgotten replica that never ended: its delegates are no longer connected anywhere
      try (PreparedStatement ps = c.prepareStatement("UPDATE delegates SET connected = FALSE,"
          + " disconnected_at = ?, disconnect_reason = 'replica lost' WHERE connected = TRUE AND replica_id IN"
          + " (SELECT id FROM replicas WHERE last_seen < ? AND id <> ? AND ended_at IS NULL)")) {
        ps.setLong(1, cutoff.toEpochMilli());
        ps.setLong(2, cutoff.toEpochMilli());
        ps.setString(3, keep);
        ps.executeUpdate();
      }
      // one that ended stays while a record it left connected reads its end from it (by the
      // delegates' (replica_id, connected) index)
      try (PreparedStatement ps = c.prepareStatement("DELETE FROM replicas WHERE last_seen < ? AND id <> ?"
          + " AND NOT EXISTS (SELECT 1 FROM delegates d WHERE d.replica_id = replicas.id AND d.connected = TRUE)")) {
        ps.setLong(1, cutoff.toEpochMilli());
        ps.setString(2, keep);
        return ps.executeUpdate();
      }
    });
  }
}
