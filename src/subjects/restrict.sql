-- src/subjects/restrict.sql — an erased subject's kept rows, blocked at
-- once (restrict.c): the keys of the rows an erasure had to keep under a
-- legal hold or a minimum retention, and the function through which each
-- such table's governance_restricted row security policy reads them.

CREATE SEQUENCE restriction_id_seq;
CREATE TABLE restricted_rows (
    restriction   bigint NOT NULL,
    key           text[] NOT NULL,
    reason        text,
    restricted_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    relid         regclass NOT NULL -- the table the erasure kept the row in (dumped by name)
);
CREATE INDEX restricted_rows_key ON restricted_rows (restriction, key);
COMMENT ON TABLE restricted_rows IS 'rows an erasure kept (legal hold, minimum retention), by key: the governance_restricted policy of their table hides them from every role but governance_admin';
SELECT pg_catalog.pg_extension_config_dump('restricted_rows', '');
SELECT pg_catalog.pg_extension_config_dump('restriction_id_seq', '');
GRANT SELECT ON restricted_rows TO governance_admin;
-- the compliance report counts kept rows per table; the keys are not the reader's
GRANT SELECT (restriction, reason, restricted_at, relid) ON restricted_rows TO governance_reader;

-- Called by the governance_restricted policy, as whoever reads the table:
-- every role may execute it.  It answers only for a table whose own policy
-- names the restriction, to a role that may read, change or delete that
-- table's rows, and only whether one key is kept, never which keys are
-- (they may be row values); "not kept" to those who may see kept rows.
-- The keys are loaded once per statement.  PARALLEL RESTRICTED: it reads a
-- table of ours.
CREATE FUNCTION _restricted_match(rel regclass, restriction bigint, key text[]) RETURNS boolean
    AS 'MODULE_PATHNAME', 'governance_restricted_match' LANGUAGE C STRICT STABLE PARALLEL RESTRICTED;
-- the same for a key of one integer column: no text, no array per row
CREATE FUNCTION _restricted_match(rel regclass, restriction bigint, key bigint) RETURNS boolean
    AS 'MODULE_PATHNAME', 'governance_restricted_match_int' LANGUAGE C STRICT STABLE PARALLEL RESTRICTED;
COMMENT ON FUNCTION _restricted_match(regclass, bigint, bigint) IS 'row security of tables with an erased subject''s kept rows: is this integer key one of the kept rows?';
COMMENT ON FUNCTION _restricted_match(regclass, bigint, text[]) IS 'row security of tables with an erased subject''s kept rows: is this key one of the kept rows?';
