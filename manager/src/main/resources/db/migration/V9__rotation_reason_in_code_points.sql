-- Tether schema, version 9. A delegate's rotation reason is limited to 1024 Unicode code points
-- (docs/protocol.md 6.3). As in version 5: H2 counts a VARCHAR's length in UTF-16 units, where a
-- code point beyond U+FFFF takes two, so the column gets room for twice the limit and the note
-- that replaces a refused reason; PostgreSQL counts code points, so there the room is never used.

ALTER TABLE rotation_delegates ALTER COLUMN reason SET DATA TYPE VARCHAR(2100);
