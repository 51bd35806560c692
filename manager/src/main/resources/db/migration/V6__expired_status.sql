-- Tether schema, version 6. An expired token is EXPIRED, not REVOKED, in every list and audit
-- record; every replica may set it at the expiry instant (the first one wins). Delegate tags become
-- a JSON array (version 6.1, a Java migration). Old replica rows and revocation confirmations are
-- forgotten after a while, by the replicas themselves.

ALTER TABLE tokens DROP CONSTRAINT tokens_status_check;
ALTER TABLE tokens ADD CONSTRAINT tokens_status_check CHECK (status IN ('ACTIVE', 'REVOKED', 'EXPIRED'));
CREATE INDEX revocation_acks_at ON revocation_acks (at);
CREATE INDEX replicas_last_seen ON replicas (last_seen);
