-- Tether schema, version 5. A delegate's name, host name, type, version, address and tags are
-- limited in Unicode code points (docs/protocol.md, sections 4.1 and 6). H2 counts a VARCHAR's
-- length in UTF-16 units, where a code point beyond U+FFFF takes two, so these columns get room
-- for twice their limit; PostgreSQL counts code points, so there the extra room is never used.

ALTER TABLE delegates ALTER COLUMN name SET DATA TYPE VARCHAR(256);
ALTER TABLE delegates ALTER COLUMN hostname SET DATA TYPE VARCHAR(510);
ALTER TABLE delegates ALTER COLUMN delegate_type SET DATA TYPE VARCHAR(128);
ALTER TABLE delegates ALTER COLUMN version SET DATA TYPE VARCHAR(128);
ALTER TABLE delegates ALTER COLUMN ip SET DATA TYPE VARCHAR(128);
ALTER TABLE delegates ALTER COLUMN tags SET DATA TYPE VARCHAR(2048);
