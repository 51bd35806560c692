-- Tether schema, version 3. The sweep that shows the delegates of lost replicas disconnected runs
-- every few seconds; without this index each run read every delegate row.

CREATE INDEX delegates_replica_connected ON delegates (replica_id, connected);
