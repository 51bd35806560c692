-- Tether schema, version 10. A replica's end (a clean stop, or an earlier run of a manager alone on
-- its database found killed at its next start) is one row here instead of a rewrite of every
-- delegate row it held: a delegate's record still marked connected by a replica that has ended
-- reads as disconnected at ended_at, with end_reason. Under 10 000 delegates the rewrite made a
-- stop last seconds.

ALTER TABLE replicas ADD COLUMN ended_at BIGINT;
ALTER TABLE replicas ADD COLUMN end_reason VARCHAR(256);

-- From now on every record marked connected refers to a replica row (a replica that ended is kept
-- while one does). Records of earlier versions that do not (none are left by a clean stop) are
-- shown disconnected here, at the last time they were heard of.
UPDATE delegates SET connected = FALSE, disconnected_at = COALESCE(last_heartbeat, connected_since, first_seen),
    disconnect_reason = 'manager restarted'
    WHERE connected = TRUE AND (replica_id IS NULL OR replica_id NOT IN (SELECT id FROM replicas));
