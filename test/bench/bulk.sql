-- test/bench/bulk.sql — owns the bulk workloads of test/bench/run: COPY and
-- INSERT ... SELECT into a governed table against the same table without
-- governance ("plain") and with a do-nothing C BEFORE ROW trigger ("noop").
-- Also leaves "plain" and "governed" (empty) for run's single-row INSERTs.
--
-- psql variable: work, a directory the server can write (the COPY files).
-- run then calls "bulk_round"(r, work) for r = 0 (warm-up, discarded) .. N,
-- all in one session that ends with bulk_report.sql.
--
-- Each round sends 300k rows into every table as 30 slices of 10k rows; the
-- tables take turns slice by slice (rotating who goes first), so that the
-- machine's drift hits them alike.  The ratio reported is the median of the
-- per-slice ratios: slices that ran back to back are compared.
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
CREATE EXTENSION "pg_governance";
SELECT count("governance"."load_bundled_policy"("n")) AS "policies"
FROM "governance"."bundled_policies"() AS "n" \gset
SELECT "governance"."set_database_region"('CN-SH');

CREATE TABLE "plain" ("id" bigint, "region" text, "phone" text, "email" text,
                      "created" timestamptz, "a" int, "b" text, "c" numeric,
                      "d" date, "e" text);
CREATE TABLE "noop" (LIKE "plain");
CREATE TABLE "governed" (LIKE "plain");
CREATE TRIGGER "noop_row" BEFORE INSERT OR UPDATE ON "noop"
    FOR EACH ROW EXECUTE FUNCTION "governance"."_noop_trigger"();
-- ctyun-huiju-2024 keeps personal data in mainland China: every row's region
-- is checked against the jurisdiction
SELECT "governance"."bind"('"governed"', 'ctyun-huiju-2024');
SELECT "governance"."tag"('"governed"', 'region', 'region');
SELECT "governance"."tag"('"governed"', 'phone', 'category=personal.contact.phone');
SELECT "governance"."tag"('"governed"', 'email', 'category=personal.contact.email');
SELECT "governance"."tag"('"governed"', 'created', 'anchor=created');

-- the same 300k rows for every table; created is old enough that TRUNCATE is allowed
CREATE TABLE "src" AS
SELECT "g"::bigint AS "id", (ARRAY['CN', 'CN-SH', 'CN-BJ', 'CN-GD'])[1 + "g" % 4] AS "region",
       '138' || lpad(("g" % 100000000)::text, 8, '0') AS "phone",
       'u' || "g" || '@example.cn' AS "email",
       timestamptz '2001-01-01' + "g" * interval '1 second' AS "created",
       "g" % 1000 AS "a", md5("g"::text) AS "b", ("g" % 997)::numeric / 7 AS "c",
       date '2020-01-01' + ("g" % 1000) AS "d", repeat('x', 20) AS "e"
FROM generate_series(1, 300000) AS "g";

-- slice k: a table for INSERT ... SELECT and a server-side file for COPY
CREATE FUNCTION "slice_file"("dir" text, "k" int) RETURNS text LANGUAGE sql IMMUTABLE
    RETURN "dir" || '/slice_' || "k" || '.copy';
DO $$
BEGIN
    FOR "k" IN 0 .. 29 LOOP
        EXECUTE format('CREATE TABLE %I AS SELECT * FROM "src" WHERE "id" > %s AND "id" <= %s ORDER BY "id"',
                       'src_' || "k", "k" * 10000, ("k" + 1) * 10000);
    END LOOP;
END $$;
SELECT format('COPY %I TO %L', 'src_' || "k", "slice_file"(:'work', "k")) FROM generate_series(0, 29) AS "k" \gexec
VACUUM ANALYZE;

CREATE TABLE "timings" ("workload" text, "tbl" text, "round" int, "slice" int, "ms" float8);

-- one round: both workloads, 30 slices each, the tables taking turns
CREATE PROCEDURE "bulk_round"("r" int, "dir" text) LANGUAGE plpgsql AS $$
DECLARE
    "t0" timestamptz;
    "tbl" text;
    "tables" text[];
    "workload" text;
    "n" int;
BEGIN
    FOREACH "workload" IN ARRAY ARRAY['insert_select', 'copy'] LOOP
        -- a BEFORE ROW trigger turns COPY's multi-insert off: noop is no
        -- baseline for COPY, so COPY only compares plain and governed
        "tables" := CASE "workload" WHEN 'copy' THEN ARRAY['plain', 'governed']
                                    ELSE ARRAY['plain', 'noop', 'governed'] END;
        "n" := cardinality("tables");
        TRUNCATE "plain", "noop", "governed";
        COMMIT;
        FOR "k" IN 0 .. 29 LOOP
            FOREACH "tbl" IN ARRAY "tables"[1 + ("r" + "k") % "n" :] || "tables"[: ("r" + "k") % "n"] LOOP
                "t0" := clock_timestamp();
                IF "workload" = 'copy' THEN
                    EXECUTE format('COPY %I FROM %L', "tbl", "slice_file"("dir", "k"));
                ELSE
                    EXECUTE format('INSERT INTO %I SELECT * FROM %I', "tbl", 'src_' || "k");
                END IF;
                COMMIT;
                INSERT INTO "timings"
                VALUES ("workload", "tbl", "r", "k", extract(epoch FROM clock_timestamp() - "t0") * 1000);
                COMMIT;
            END LOOP;
        END LOOP;
    END LOOP;
    TRUNCATE "plain", "noop", "governed";
    COMMIT;
    CHECKPOINT;
END $$;
