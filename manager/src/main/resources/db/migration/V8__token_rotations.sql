-- Tether schema, version 8. Token rotations (docs/rotation.md): the successor is kept sealed under a
-- master subkey so that any replica, or this one after a restart, can still hand it to a delegate
-- that connects with the old token while the rotation is open; a copy of the database alone cannot
-- open it. open_token_row holds the old token's row while the rotation is OPEN and NULL after, so
-- that a token has at most one open rotation (a UNIQUE column admits many NULLs).

CREATE TABLE token_rotations (
    id                    VARCHAR(40)  NOT NULL PRIMARY KEY,
    account_id            VARCHAR(64)  NOT NULL,
    old_token_row         BIGINT       NOT NULL,
    old_token_id          VARCHAR(32)  NOT NULL,
    old_token_name        VARCHAR(128) NOT NULL,
    successor_token_row   BIGINT       NOT NULL,
    successor_token_id    VARCHAR(32)  NOT NULL,
    successor_token_name  VARCHAR(128) NOT NULL,
    sealed_successor      VARCHAR(512) NOT NULL,
    push                  BOOLEAN      NOT NULL,
    grace_ms              BIGINT       NOT NULL,
    state                 VARCHAR(16)  NOT NULL,
    open_token_row        BIGINT,
    opened_at             BIGINT       NOT NULL,
    opened_by             VARCHAR(128) NOT NULL,
    ended_at              BIGINT,
    ended_by              VARCHAR(128),
    CONSTRAINT token_rotations_open_unique UNIQUE (open_token_row),
    CONSTRAINT token_rotations_state_check CHECK (state IN ('OPEN', 'FINISHED', 'CANCELLED'))
);

CREATE TABLE rotation_delegates (
    rotation_id   VARCHAR(40)   NOT NULL,
    delegate_id   VARCHAR(64)   NOT NULL,
    outcome       VARCHAR(16)   NOT NULL,
    reason        VARCHAR(1100),
    at            BIGINT        NOT NULL,
    CONSTRAINT rotation_delegates_pk PRIMARY KEY (rotation_id, delegate_id),
    CONSTRAINT rotation_delegates_outcome_check CHECK (outcome IN ('SENT', 'MOVED', 'CANNOT_KEEP', 'FAILED', 'NO_ANSWER'))
);

-- token create --rotate-every: the manager opens a rotation of the token by itself at next_at, and
-- the successor inherits the schedule. Claimed by a conditional update of next_at, so that one
-- replica opens it.
CREATE TABLE rotation_schedules (
    token_row   BIGINT       NOT NULL PRIMARY KEY,
    account_id  VARCHAR(64)  NOT NULL,
    token_name  VARCHAR(128) NOT NULL,
    every_ms    BIGINT       NOT NULL,
    next_at     BIGINT       NOT NULL
);
