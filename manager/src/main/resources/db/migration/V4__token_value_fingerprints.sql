-- Tether schema, version 4. value_fingerprint is a keyed fingerprint of a token's value (an HMAC
-- under a key derived from master.key, of an Argon2id output for custom tokens): the same in every
-- account, so one value cannot be imported twice. Rows written before this version have none.

ALTER TABLE tokens ADD COLUMN value_fingerprint VARCHAR(64);

CREATE UNIQUE INDEX tokens_value_fingerprint_unique ON tokens (value_fingerprint);
