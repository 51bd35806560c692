-- Several manager replicas on one database: who is alive, which replica holds each delegate,
-- and which replicas confirmed closing the streams of a revoked token.

CREATE TABLE replicas (
    id          VARCHAR(64)  NOT NULL PRIMARY KEY,
    address     VARCHAR(255) NOT NULL,
    started_at  BIGINT       NOT NULL,
    last_seen   BIGINT       NOT NULL
);

ALTER TABLE delegates ADD COLUMN replica_id VARCHAR(64);

CREATE TABLE revocation_acks (
    token_id        BIGINT       NOT NULL,
    replica_id      VARCHAR(64)  NOT NULL,
    streams_closed  INTEGER      NOT NULL,
    at              BIGINT       NOT NULL,
    CONSTRAINT revocation_acks_pk PRIMARY KEY (token_id, replica_id)
);
