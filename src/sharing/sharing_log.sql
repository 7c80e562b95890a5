-- src/sharing/sharing_log.sql — the tamper-evident sharing log (spec section 8):
-- governance.sharing_log, hash-chained and append-only; the chain's state;
-- the subjects' pseudonyms; verification, digests and erasure.
-- The chaining, the canonical encoding and the verification are in
-- sharing_log.c; docs/sharing-log.md explains them.

-- ---------------------------------------------------------------------------
-- The log.  Every row is chained to the one before it: hash is the SHA-256
-- (lowercase hex) of prev_hash and of the row's canonical encoding.  Rows
-- are appended by governance.share() (sharing_log_append in C) or, for the
-- table's owner, by INSERT; either way the BEFORE INSERT trigger
-- sharing_log_chain assigns id, logged_at, prev_hash and hash under the
-- chain's row lock, and replaces the subject by its pseudonym.  A row that
-- arrives with its hash (pg_restore's COPY) is accepted only if it extends
-- the chain.  ids have no sequence: they are given under the lock, so they
-- follow the chain and have no gaps.
-- ---------------------------------------------------------------------------
CREATE TABLE sharing_log (
    id          bigint PRIMARY KEY,
    logged_at   timestamptz NOT NULL CHECK (pg_catalog.isfinite(logged_at)),
    policy      text NOT NULL,
    recipient   text NOT NULL,          -- a named recipient, or class:<recipient class>
    categories  @extschema@.category[] NOT NULL,
    purpose     text NOT NULL,
    subject     text,                   -- the subject's pseudonym; NULL: no subject
    destination @extschema@.region,     -- NULL: the policy's home jurisdiction
    legal_basis text,
    rule_id     text,                   -- the rule(s) that allowed it
    actor       name NOT NULL DEFAULT session_user,
    personal    boolean NOT NULL DEFAULT true,  -- false: anonymized data, not personal information
    prev_hash   text NOT NULL,
    hash        text NOT NULL
);
CREATE INDEX sharing_log_subject ON sharing_log (subject) WHERE subject IS NOT NULL;
COMMENT ON TABLE sharing_log IS 'sharing events allowed by governance.share(), append-only and hash-chained; check with governance.verify_sharing_log()';
COMMENT ON COLUMN sharing_log.subject IS 'the subject''s pseudonym (governance.sharing_pseudonym(subject)); NULL when the data had no subject';
COMMENT ON COLUMN sharing_log.personal IS 'false: anonymized data the recipient cannot re-identify, which is not personal information';
COMMENT ON COLUMN sharing_log.prev_hash IS 'hash of the row before (64 zeros for the first row)';
COMMENT ON COLUMN sharing_log.hash IS 'SHA-256, lowercase hex, of prev_hash and the row''s canonical encoding';

-- The chain's state: the id and hash of its last row, in one row.  Every
-- append moves it on with one UPDATE that computes the new row's hash
-- (_sharing_log_link), so that concurrent appends are serialized by its
-- row lock, held to commit (a rolled-back append rolls it back too); an
-- append that waited computes from the state the other one committed.
-- No role but the owner may read, update or lock it.  Not dumped: a
-- restore starts it at the genesis and the restored rows move it on, each
-- checked as it arrives.  Verification compares it with the last row, so
-- a last row deleted behind the extension's back is found.
-- The column "one" is there for its index: a transaction that appends
-- many rows leaves as many dead versions of the state behind, and the live
-- one ends up on the last page, where VACUUM cannot truncate; the first
-- append of every later transaction finds it through the index, not by
-- reading every page.  Not a unique index: its uniqueness check would visit
-- every dead version a bulk append leaves, making it quadratic (one row is
-- checked by verify_sharing_log instead).
CREATE TABLE sharing_log_state (
    last_id     bigint NOT NULL,
    last_hash   text NOT NULL,
    prev_hash   text,                   -- the hash before last_hash (for the append's RETURNING)
    one         boolean NOT NULL DEFAULT true CHECK (one)
);
CREATE INDEX sharing_log_state_one ON sharing_log_state (one);
INSERT INTO sharing_log_state (last_id, last_hash) VALUES (0, pg_catalog.repeat('0', 64));
COMMENT ON TABLE sharing_log_state IS 'the sharing log''s last id and hash (genesis: 0 and 64 zeros); internal';

-- Subjects and their pseudonyms.  The log keeps only the pseudonym (a
-- random 128-bit token), so that erasing this mapping
-- (governance.forget_sharing_subject) leaves the chain whole and the
-- person unfindable in it.
CREATE TABLE sharing_subject (
    subject     text PRIMARY KEY,
    pseudonym   text NOT NULL UNIQUE,
    created_at  timestamptz NOT NULL DEFAULT pg_catalog.now()
);
COMMENT ON TABLE sharing_subject IS 'the pseudonyms of the sharing log''s subjects; erase one with governance.forget_sharing_subject()';

-- Restore: rows must arrive in chain order, and pg_dump appends the filter
-- to its COPY (SELECT ... FROM governance.sharing_log <filter>).
SELECT pg_catalog.pg_extension_config_dump('sharing_log', 'WHERE true ORDER BY id');
SELECT pg_catalog.pg_extension_config_dump('sharing_subject', '');

-- ---------------------------------------------------------------------------
-- Triggers: ENABLE ALWAYS, so that they fire under session_replication_role
-- = replica too.
-- ---------------------------------------------------------------------------
CREATE FUNCTION _sharing_log_chain() RETURNS trigger
    AS 'MODULE_PATHNAME', 'governance_sharing_log_chain' LANGUAGE C;
CREATE FUNCTION _sharing_log_link(prev_hash text, id bigint, rest bytea) RETURNS text
    AS 'MODULE_PATHNAME', 'governance_sharing_log_link' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION _sharing_log_append_only() RETURNS trigger
    AS 'MODULE_PATHNAME', 'governance_sharing_log_append_only' LANGUAGE C;
CREATE TRIGGER sharing_log_chain BEFORE INSERT ON sharing_log
    FOR EACH ROW EXECUTE FUNCTION _sharing_log_chain();
CREATE TRIGGER sharing_log_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON sharing_log
    FOR EACH STATEMENT EXECUTE FUNCTION _sharing_log_append_only();
ALTER TABLE sharing_log ENABLE ALWAYS TRIGGER sharing_log_chain;
ALTER TABLE sharing_log ENABLE ALWAYS TRIGGER sharing_log_append_only;

-- ---------------------------------------------------------------------------
-- Who reads what: governance_reader and governance_admin every row; any
-- other role the rows it logged itself.  Only the owner inserts.
-- ---------------------------------------------------------------------------
ALTER TABLE sharing_log ENABLE ROW LEVEL SECURITY;
CREATE POLICY sharing_log_read ON sharing_log FOR SELECT
    USING (actor OPERATOR(pg_catalog.=) session_user
           OR pg_catalog.pg_has_role('governance_reader', 'USAGE'));
GRANT SELECT ON sharing_log TO PUBLIC;
GRANT SELECT ON sharing_subject TO governance_admin;

-- ---------------------------------------------------------------------------
-- Verification (C: a streaming index scan of the log in id order)
-- ---------------------------------------------------------------------------
CREATE FUNCTION verify_sharing_log(OUT ok boolean, OUT checked bigint, OUT first_bad_id bigint)
    AS 'MODULE_PATHNAME', 'governance_verify_sharing_log' LANGUAGE C STABLE;
COMMENT ON FUNCTION verify_sharing_log() IS 'walk the sharing log''s hash chain in id order: ok, rows proven, first row edited, inserted or deleted behind the extension''s back';
CREATE FUNCTION verify_sharing_log(digest_id bigint, digest_hash text,
                                   OUT ok boolean, OUT checked bigint, OUT first_bad_id bigint)
    AS 'MODULE_PATHNAME', 'governance_verify_sharing_log_digest' LANGUAGE C STRICT STABLE;
COMMENT ON FUNCTION verify_sharing_log(bigint, text) IS 'verify_sharing_log(), and prove that the chain still passes through a digest recorded earlier (catches a whole-chain rewrite)';
CREATE FUNCTION sharing_log_hash(entry sharing_log) RETURNS text
    AS 'MODULE_PATHNAME', 'governance_sharing_log_hash' LANGUAGE C STRICT STABLE;
COMMENT ON FUNCTION sharing_log_hash(sharing_log) IS 'recompute a sharing log row''s hash from its prev_hash and its columns';

CREATE FUNCTION sharing_log_digest(OUT id bigint, OUT hash text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
    SELECT s.last_id, s.last_hash FROM @extschema@.sharing_log_state s;
$fn$;
COMMENT ON FUNCTION sharing_log_digest() IS 'the id and hash of the sharing log''s last row (0 and 64 zeros when empty): record it outside the database';
CREATE FUNCTION sharing_log_head() RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
    SELECT s.last_hash FROM @extschema@.sharing_log_state s;
$fn$;
COMMENT ON FUNCTION sharing_log_head() IS 'the hash of the sharing log''s last row: record it outside the database';

-- ---------------------------------------------------------------------------
-- Pseudonyms and erasure
-- ---------------------------------------------------------------------------
CREATE FUNCTION sharing_pseudonym(subject text) RETURNS text
LANGUAGE sql STABLE STRICT SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
    SELECT s.pseudonym FROM @extschema@.sharing_subject s
    WHERE s.subject OPERATOR(pg_catalog.=) sharing_pseudonym.subject;
$fn$;
COMMENT ON FUNCTION sharing_pseudonym(text) IS 'the pseudonym under which the sharing log records a subject; NULL when unknown or forgotten';

CREATE FUNCTION forget_sharing_subject(subject text) RETURNS bigint
LANGUAGE sql STRICT SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
    WITH gone AS (
        DELETE FROM @extschema@.sharing_subject s
        WHERE s.subject OPERATOR(pg_catalog.=) forget_sharing_subject.subject
        RETURNING s.pseudonym)
    SELECT pg_catalog.count(l.id) FROM gone
    LEFT JOIN @extschema@.sharing_log l ON l.subject OPERATOR(pg_catalog.=) gone.pseudonym;
$fn$;
COMMENT ON FUNCTION forget_sharing_subject(text) IS 'erase a subject''s pseudonym mapping: the log keeps its chain and the rows, no longer linked to the person; returns how many log rows were theirs';

REVOKE ALL ON FUNCTION _sharing_log_chain(), _sharing_log_append_only(), _sharing_log_link(text, bigint, bytea),
    verify_sharing_log(), verify_sharing_log(bigint, text), sharing_log_hash(sharing_log),
    sharing_log_digest(), sharing_log_head(), sharing_pseudonym(text),
    forget_sharing_subject(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION verify_sharing_log(), verify_sharing_log(bigint, text),
    sharing_log_hash(sharing_log), sharing_log_digest(), sharing_log_head(),
    sharing_pseudonym(text) TO governance_reader, governance_admin;
GRANT EXECUTE ON FUNCTION forget_sharing_subject(text) TO governance_admin;
