-- src/retention/retention.sql — the retention lifecycle (spec section 7):
-- what a run would do (lifecycle.c), the runs themselves (run.c) and the
-- blocking of rows whose residence has ended (blocking.c).

-- ---------------------------------------------------------------------------
-- Runs: one row per run, relation and rule, updated in the transaction of
-- each batch, so that other sessions see the progress and a run killed
-- midway shows exactly what it committed.
-- ---------------------------------------------------------------------------
CREATE SEQUENCE retention_run_id_seq;
CREATE TABLE retention_runs (
    run_id          bigint NOT NULL,
    relation        text NOT NULL,          -- as named when the run started
    rule_id         text NOT NULL,
    policy          text NOT NULL,
    action          text NOT NULL,          -- block | anonymize | delete | keep
    started_at      timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
    finished_at     timestamptz,
    status          text NOT NULL DEFAULT 'running'
                    CHECK (status IN ('running', 'done', 'failed', 'cancelled', 'skipped', 'aborted')),
    blocked         bigint NOT NULL DEFAULT 0,
    anonymized      bigint NOT NULL DEFAULT 0,
    deleted         bigint NOT NULL DEFAULT 0,
    partitions_dropped integer NOT NULL DEFAULT 0,
    batches         integer NOT NULL DEFAULT 0,
    dry_run         boolean NOT NULL,
    run_by          name NOT NULL,          -- the role that called run_retention
    pid             integer NOT NULL DEFAULT pg_catalog.pg_backend_pid(),
    detail          text,
    PRIMARY KEY (run_id, relation, rule_id)
);
CREATE INDEX retention_runs_started_at ON retention_runs (started_at);
COMMENT ON TABLE retention_runs IS 'each retention run, per relation and rule, with its progress; trim with governance.trim_retention_runs(interval)';
SELECT pg_catalog.pg_extension_config_dump('retention_runs', '');
SELECT pg_catalog.pg_extension_config_dump('retention_run_id_seq', '');
GRANT SELECT ON retention_runs TO governance_reader, governance_admin;

CREATE FUNCTION trim_retention_runs(older_than interval) RETURNS bigint
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
    WITH gone AS (
        DELETE FROM @extschema@.retention_runs r
        WHERE r.finished_at OPERATOR(pg_catalog.<) (pg_catalog.now() OPERATOR(pg_catalog.-) older_than)
        RETURNING 1)
    SELECT pg_catalog.count(*) FROM gone;
$fn$;
COMMENT ON FUNCTION trim_retention_runs(interval) IS 'forget finished retention runs older than the given age; returns how many rows went';

-- ---------------------------------------------------------------------------
-- Blocking (blocking.c).  The governance_blocked row security policy of
-- every blocking table calls these, once per statement, as whoever reads
-- the table: so every role may execute them.  They read only the table's
-- compiled rules.  PARALLEL RESTRICTED: building the rules of a table runs
-- catalog queries, which a parallel worker may not; the leader computes
-- the init plans and hands the cutoffs to the workers.
-- ---------------------------------------------------------------------------
CREATE FUNCTION _cutoff_date(rel regclass, col name) RETURNS date
    AS 'MODULE_PATHNAME', 'governance_cutoff' LANGUAGE C STRICT STABLE PARALLEL RESTRICTED;
CREATE FUNCTION _cutoff_timestamp(rel regclass, col name) RETURNS timestamp
    AS 'MODULE_PATHNAME', 'governance_cutoff' LANGUAGE C STRICT STABLE PARALLEL RESTRICTED;
CREATE FUNCTION _cutoff_timestamptz(rel regclass, col name) RETURNS timestamptz
    AS 'MODULE_PATHNAME', 'governance_cutoff' LANGUAGE C STRICT STABLE PARALLEL RESTRICTED;
CREATE FUNCTION _sees_blocked(rel regclass) RETURNS boolean
    AS 'MODULE_PATHNAME', 'governance_sees_blocked' LANGUAGE C STRICT STABLE PARALLEL RESTRICTED;
COMMENT ON FUNCTION _cutoff_date(regclass, name) IS 'row security of blocking tables: rows whose anchor is before this are blocked';
COMMENT ON FUNCTION _cutoff_timestamp(regclass, name) IS 'row security of blocking tables: rows whose anchor is before this are blocked';
COMMENT ON FUNCTION _cutoff_timestamptz(regclass, name) IS 'row security of blocking tables: rows whose anchor is before this are blocked';
COMMENT ON FUNCTION _sees_blocked(regclass) IS 'row security of blocking tables: may the current role see blocked rows (governance_admin, or a retention run on that table)?';

-- ---------------------------------------------------------------------------
-- Preview and runs (run.c)
-- ---------------------------------------------------------------------------
CREATE FUNCTION retention_preview(rel regclass DEFAULT NULL,
    OUT relation regclass, OUT rule_id text, OUT action text, OUT rows_due bigint,
    OUT oldest_anchor timestamptz, OUT detail text)
RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'governance_retention_preview' LANGUAGE C CALLED ON NULL INPUT VOLATILE;
COMMENT ON FUNCTION retention_preview(regclass) IS 'what a retention run would do, per table and rule: action, rows due, oldest anchor; changes nothing';

CREATE FUNCTION _retention_start(rel regclass, batch_size integer, dry_run boolean) RETURNS bigint
    AS 'MODULE_PATHNAME', 'governance_retention_start' LANGUAGE C CALLED ON NULL INPUT VOLATILE;
CREATE FUNCTION _retention_step() RETURNS boolean
    AS 'MODULE_PATHNAME', 'governance_retention_step' LANGUAGE C VOLATILE;
CREATE FUNCTION _retention_item_failed(message text) RETURNS void
    AS 'MODULE_PATHNAME', 'governance_retention_item_failed' LANGUAGE C STRICT VOLATILE;
CREATE FUNCTION _retention_finish(status text, message text) RETURNS void
    AS 'MODULE_PATHNAME', 'governance_retention_finish' LANGUAGE C VOLATILE;

-- Commits between its steps, so it can be neither SECURITY DEFINER nor
-- carry a SET clause: every name in it is schema-qualified instead, and
-- the C steps pin search_path and act on each table as its owner.
CREATE PROCEDURE run_retention(rel regclass DEFAULT NULL, batch_size integer DEFAULT 10000,
                               dry_run boolean DEFAULT false)
LANGUAGE plpgsql AS $fn$
DECLARE
    more boolean;
    outcome text;
    message text;
BEGIN
    PERFORM @extschema@._retention_start(rel, batch_size, dry_run);
    COMMIT;
    LOOP
        outcome := NULL;
        BEGIN
            more := @extschema@._retention_step();
        EXCEPTION
            WHEN query_canceled THEN
                outcome := 'cancelled';
                message := SQLERRM;
            WHEN OTHERS THEN
                outcome := 'failed';
                message := pg_catalog.format('SQLSTATE %s: %s', SQLSTATE, SQLERRM);
        END;
        IF outcome OPERATOR(pg_catalog.=) 'cancelled' THEN
            -- the batch in flight was rolled back; what went before stays
            PERFORM @extschema@._retention_finish('cancelled', message);
            COMMIT;
            RAISE EXCEPTION 'retention run cancelled'
                USING ERRCODE = 'query_canceled',
                      DETAIL = 'Every batch before the cancel was committed and is recorded in governance.retention_runs; the batch in flight was rolled back.',
                      HINT = 'CALL governance.run_retention() again to finish the work.';
        ELSIF outcome OPERATOR(pg_catalog.=) 'failed' THEN
            PERFORM @extschema@._retention_item_failed(message);
            more := true;
        END IF;
        COMMIT;
        EXIT WHEN NOT more;
    END LOOP;
END
$fn$;
COMMENT ON PROCEDURE run_retention(regclass, integer, boolean) IS 'block, anonymize or delete the rows whose retention has ended, in batches that commit; recorded in governance.retention_runs';

REVOKE ALL ON FUNCTION trim_retention_runs(interval), _retention_start(regclass, integer, boolean),
    _retention_step(), _retention_item_failed(text), _retention_finish(text, text) FROM PUBLIC;
REVOKE ALL ON PROCEDURE run_retention(regclass, integer, boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION retention_preview(regclass) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION trim_retention_runs(interval), _retention_start(regclass, integer, boolean),
    _retention_step(), _retention_item_failed(text), _retention_finish(text, text) TO governance_admin;
GRANT EXECUTE ON PROCEDURE run_retention(regclass, integer, boolean) TO governance_admin;
GRANT EXECUTE ON FUNCTION retention_preview(regclass) TO governance_admin, governance_reader;
