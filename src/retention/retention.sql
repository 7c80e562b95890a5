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
    run_by          name NOT NULL DEFAULT pg_catalog.session_user(),
    pid             integer NOT NULL DEFAULT pg_catalog.pg_backend_pid(),
    detail          text,
    PRIMARY KEY (run_id, relation, rule_id)
);
CREATE INDEX retention_runs_started_at ON retention_runs (started_at);
COMMENT ON TABLE retention_runs IS 'each retention run, per relation and rule, with its progress; trim with governance.trim_retention_runs(interval)';
SELECT pg_catalog.pg_extension_config_dump('retention_runs', '');
SELECT pg_catalog.pg_extension_config_dump('retention_run_id_seq', '');
GRANT SELECT ON retention_runs TO governance_reader, governance_admin;
