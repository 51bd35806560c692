package dev.tether.manager.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * What differs between the two databases Tether runs on: the native upserts (H2's standard
 * {@code MERGE}, PostgreSQL's {@code INSERT ... ON CONFLICT}) and PostgreSQL's {@code NOTIFY}, which
 * tells the other replicas of a revocation when, and only if, its transaction commits.
 */
enum Dialect {
  H2 {
    @Override
    String upsertDelegate() {
      // the row's id, new or kept, from the MERGE itself (H2's data change delta table)
      return "SELECT id FROM FINAL TABLE (MERGE INTO delegates t USING (SELECT CAST(? AS VARCHAR) id, CAST(? AS VARCHAR) account_id,"
          + " CAST(? AS VARCHAR) name, CAST(? AS VARCHAR) hostname, CAST(? AS VARCHAR) delegate_type,"
          + " CAST(? AS VARCHAR) version, CAST(? AS VARCHAR) tags, CAST(? AS VARCHAR) ip,"
          + " CAST(? AS VARCHAR) token_public_id, CAST(? AS VARCHAR) token_name, CAST(? AS BIGINT) since,"
          + " CAST(? AS VARCHAR) replica_id) s"
          + " ON t.account_id = s.account_id AND t.name = s.name AND t.hostname = s.hostname"
          + " WHEN MATCHED THEN UPDATE SET delegate_type = s.delegate_type, version = s.version, tags = s.tags,"
          + " ip = s.ip, token_public_id = s.token_public_id, token_name = s.token_name, connected = TRUE,"
          + " connected_since = s.since, last_heartbeat = s.since, disconnected_at = NULL,"
          + " disconnect_reason = NULL, replica_id = s.replica_id"
          + " WHEN NOT MATCHED THEN INSERT (id, account_id, name, hostname, delegate_type, version, tags, ip,"
          + " token_public_id, token_name, connected, first_seen, connected_since, last_heartbeat, replica_id)"
          + " VALUES (s.id, s.account_id, s.name, s.hostname, s.delegate_type, s.version, s.tags, s.ip,"
          + " s.token_public_id, s.token_name, TRUE, s.since, s.since, s.since, s.replica_id))";
    }

    @Override
    String upsertReplica() {
      return "MERGE INTO replicas t USING (SELECT CAST(? AS VARCHAR) id, CAST(? AS VARCHAR) address,"
          + " CAST(? AS BIGINT) started_at, CAST(? AS BIGINT) last_seen) s ON t.id = s.id"
          + " WHEN MATCHED THEN UPDATE SET address = s.address, last_seen = s.last_seen"
          + " WHEN NOT MATCHED THEN INSERT (id, address, started_at, last_seen)"
          + " VALUES (s.id, s.address, s.started_at, s.last_seen)";
    }

    @Override
    String addRevocationAck() {
      return "MERGE INTO revocation_acks t USING (SELECT CAST(? AS BIGINT) token_id, CAST(? AS VARCHAR) replica_id,"
          + " CAST(? AS INTEGER) streams_closed, CAST(? AS BIGINT) at) s"
          + " ON t.token_id = s.token_id AND t.replica_id = s.replica_id"
          + " WHEN MATCHED THEN UPDATE SET streams_closed = t.streams_closed + s.streams_closed, at = s.at"
          + " WHEN NOT MATCHED THEN INSERT (token_id, replica_id, streams_closed, at)"
          + " VALUES (s.token_id, s.replica_id, s.streams_closed, s.at)";
    }

    @Override
    void notify(Connection c, String channel, String payload) {
      // one manager owns an H2 database: there is nobody to tell
    }

    @Override
    void forceToDisk(Connection c) throws SQLException {
      // WRITE_DELAY=0 makes H2 write each commit to its file at once, into the operating system's
      // cache; only CHECKPOINT SYNC makes it force the file to the disk (fsync): H2 does that for no
      // commit on its own
      try (Statement s = c.createStatement()) {
        s.execute("CHECKPOINT SYNC");
      }
    }
  },

  POSTGRESQL {
    @Override
    String upsertDelegate() {
      return "INSERT INTO delegates (id, account_id, name, hostname, delegate_type, version, tags, ip,"
          + " token_public_id, token_name, connected, first_seen, connected_since, last_heartbeat, replica_id)"
          + " SELECT s.id, s.account_id, s.name, s.hostname, s.delegate_type, s.version, s.tags, s.ip,"
          + " s.token_public_id, s.token_name, TRUE, s.since, s.since, s.since, s.replica_id FROM (SELECT"
          + " CAST(? AS VARCHAR) id, CAST(? AS VARCHAR) account_id, CAST(? AS VARCHAR) name,"
          + " CAST(? AS VARCHAR) hostname, CAST(? AS VARCHAR) delegate_type, CAST(? AS VARCHAR) version,"
          + " CAST(? AS VARCHAR) tags, CAST(? AS VARCHAR) ip, CAST(? AS VARCHAR) token_public_id,"
          + " CAST(? AS VARCHAR) token_name, CAST(? AS BIGINT) since, CAST(? AS VARCHAR) replica_id) s"
          + " ON CONFLICT (account_id, name, hostname) DO UPDATE SET delegate_type = EXCLUDED.delegate_type,"
          + " version = EXCLUDED.version, tags = EXCLUDED.tags, ip = EXCLUDED.ip,"
          + " token_public_id = EXCLUDED.token_public_id, token_name = EXCLUDED.token_name, connected = TRUE,"
          + " connected_since = EXCLUDED.connected_since, last_heartbeat = EXCLUDED.last_heartbeat,"
          + " disconnected_at = NULL, disconnect_reason = NULL, replica_id = EXCLUDED.replica_id"
          + " RETURNING id";
    }

    @Override
    String upsertReplica() {
      return "INSERT INTO replicas (id, address, started_at, last_seen) VALUES (?, ?, ?, ?)"
          + " ON CONFLICT (id) DO UPDATE SET address = EXCLUDED.address, last_seen = EXCLUDED.last_seen";
    }

    @Override
    String addRevocationAck() {
      return "INSERT INTO revocation_acks (token_id, replica_id, streams_closed, at) VALUES (?, ?, ?, ?)"
          + " ON CONFLICT (token_id, replica_id) DO UPDATE SET"
          + " streams_closed = revocation_acks.streams_closed + EXCLUDED.streams_closed, at = EXCLUDED.at";
    }

    @Override
    void notify(Connection c, String channel, String payload) throws SQLException {
      // delivered to every replica's LISTEN connection when, and only if, this transaction commits
      try (PreparedStatement ps = c.prepareStatement("SELECT pg_notify(?, ?)")) {
        ps.setString(1, channel);
        ps.setString(2, payload);
        ps.execute();
      }
    }

    @Override
    void forceToDisk(Connection c) {
      // PostgreSQL has flushed its write-ahead log by the time COMMIT returns (synchronous_commit=on,
      // its default; operations.md)
    }
  };

  static Dialect of(String jdbcUrl) {
    return jdbcUrl.startsWith("jdbc:postgresql:") ? POSTGRESQL : H2;
  }

  /**
   * Records a delegate as connected, creating its row or updating the one of the same account, name
   * and host. Parameters: id (used for a new row), account, name, host name, type, version, tags,
   * ip, token public id, token name, the connection time, the replica. Its one result is the row's
   * id, the new one or the one kept.
   */
  abstract String upsertDelegate();

  /** Registers or refreshes a replica: id, address, started at, last seen. */
  abstract String upsertReplica();

  /** Adds a replica's closed streams to a token's acknowledgement: token id, replica, count, at. */
  abstract String addRevocationAck();

  abstract void notify(Connection c, String channel, String payload) throws SQLException;

  /**
   * Makes what {@code c} has just committed survive a crash of the machine, not only of the process
   * (a power cut, a kernel panic): on disk, not in the operating system's cache, before the caller
   * answers anyone.
   */
  abstract void forceToDisk(Connection c) throws SQLException;
}
