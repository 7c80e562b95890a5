-- test/bench/retention.sql — owns the retention workloads of test/bench/run:
-- the database "retention" with a small test policy (a delete, an anonymize
-- and a block rule, each with a maximum of a day), the database region, the
-- role the blocking workload reads as, and the procedures that build and
-- restore the tables.  The big tables are built by run when their workload
-- comes (and rebuilt, or restored, between rounds: retention runs commit).
--
-- Every table is made by the same generate_series expression on both sides
-- (governed and plain), so that the two are identical row for row.  Anchors
-- are relative to one reference time kept in "ref" (this script's now()):
-- rows 1 .. due are 18 to 30 days old (past the one-day maximum), the rest
-- are from the last 12 hours.
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
CREATE EXTENSION "pg_governance";
SELECT "governance"."set_database_region"('CN');
SELECT "governance"."load_policy"($y$
policy: {name: bench-retention, version: "1", title: retention benchmark, controller: bench, home_jurisdiction: cn}
jurisdictions:
  - {name: cn, include: [CN], source: "bench"}
rules:
  retention:
    - {id: bench.delete, categories: [log.operation], anchor: created, maximum: P1D, action: delete,
       source: "bench: delete a day after creation"}
    - {id: bench.anonymize, categories: [personal.contact.email], anchor: left_organization, maximum: P1D,
       action: anonymize, source: "bench: anonymize a day after leaving"}
    - {id: bench.block, categories: [personal.name], anchor: account_closed, maximum: P1D, action: block,
       source: "bench: block a day after closing"}
$y$);

-- the application role of the blocking workload: neither owner nor admin
CREATE ROLE "bench_app";

CREATE TABLE "ref" ("t" timestamptz NOT NULL);
INSERT INTO "ref" VALUES (now());

CREATE TABLE "ret_timings" ("workload" text, "side" text, "round" int, "ms" float8);

-- the anchor of row g of n whose first due rows are due
CREATE FUNCTION "anchor_of"("r" timestamptz, "g" bigint, "n" bigint, "due" bigint) RETURNS timestamptz
LANGUAGE sql IMMUTABLE
RETURN CASE WHEN "g" <= "due" THEN "r" - interval '30 days' + "g" * interval '1 second'
            ELSE "r" - ("n" - "g") * interval '4 milliseconds' END;

-- kind "del": (id, who, created), who a log.operation, created its anchor,
-- an index on created; kind "anon": (id, email, note, left_at), email a
-- personal.contact.email, left_at its anchor, an index on left_at
CREATE PROCEDURE "make_table"("kind" text, "tbl" text, "governed" bool) LANGUAGE plpgsql AS $$
BEGIN
    IF "kind" = 'del' THEN
        EXECUTE format('CREATE TABLE %I ("id" bigint, "who" text, "created" timestamptz)', "tbl");
        IF "governed" THEN
            PERFORM "governance"."bind"("tbl", 'bench-retention');
            PERFORM "governance"."tag"("tbl", 'who', 'category=log.operation');
            PERFORM "governance"."tag"("tbl", 'created', 'anchor=created');
        END IF;
    ELSE
        EXECUTE format('CREATE TABLE %I ("id" bigint, "email" text, "note" text, "left_at" timestamptz)', "tbl");
        IF "governed" THEN
            PERFORM "governance"."bind"("tbl", 'bench-retention');
            PERFORM "governance"."tag"("tbl", 'email', 'category=personal.contact.email');
            PERFORM "governance"."tag"("tbl", 'left_at', 'anchor=left_organization');
        END IF;
    END IF;
END $$;

-- rows lo .. hi of n (the first due of them due) into a table of that kind
CREATE PROCEDURE "fill"("kind" text, "tbl" text, "lo" bigint, "hi" bigint, "n" bigint, "due" bigint)
LANGUAGE plpgsql AS $$
DECLARE
    "r" timestamptz := (SELECT "t" FROM "ref");
BEGIN
    IF "kind" = 'del' THEN
        EXECUTE format('INSERT INTO %I SELECT "g", ''u'' || "g", "anchor_of"($1, "g", $2, $3)
                        FROM generate_series($4, $5) AS "g"', "tbl") USING "r", "n", "due", "lo", "hi";
    ELSE
        EXECUTE format('INSERT INTO %I SELECT "g", ''u'' || "g" || ''@example.cn'', md5("g"::text),
                               "anchor_of"($1, "g", $2, $3)
                        FROM generate_series($4, $5) AS "g"', "tbl") USING "r", "n", "due", "lo", "hi";
    END IF;
END $$;

CREATE PROCEDURE "build"("kind" text, "tbl" text, "governed" bool, "n" bigint, "due" bigint)
LANGUAGE plpgsql AS $$
BEGIN
    CALL "make_table"("kind", "tbl", "governed");
    CALL "fill"("kind", "tbl", 1, "n", "n", "due");
    EXECUTE format('CREATE INDEX ON %I (%I)', "tbl", CASE "kind" WHEN 'del' THEN 'created' ELSE 'left_at' END);
END $$;

-- partitioned by range on the anchor: an expired partition (the year 2000)
-- filled by fill_old, and a current one with 10k rows of the last hours
CREATE PROCEDURE "build_part"("tbl" text, "governed" bool) LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('CREATE TABLE %I ("id" bigint, "who" text, "created" timestamptz) PARTITION BY RANGE ("created")', "tbl");
    EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (''2001-01-01'') TO (MAXVALUE)', "tbl" || '_now', "tbl");
    IF "governed" THEN
        PERFORM "governance"."bind"("tbl", 'bench-retention');
        PERFORM "governance"."tag"("tbl", 'who', 'category=log.operation');
        PERFORM "governance"."tag"("tbl", 'created', 'anchor=created');
    END IF;
    EXECUTE format('INSERT INTO %I SELECT "g", ''u'' || "g", $1 - "g" * interval ''1 second''
                    FROM generate_series(1, 10000) AS "g"', "tbl" || '_now') USING (SELECT "t" FROM "ref");
END $$;

-- (re)create the expired partition <tbl>_old with n rows spread over 2000
CREATE PROCEDURE "fill_old"("tbl" text, "n" bigint) LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (''2000-01-01'') TO (''2001-01-01'')',
                   "tbl" || '_old', "tbl");
    EXECUTE format('INSERT INTO %I SELECT "g", ''u'' || "g", timestamptz ''2000-01-01'' + ("g" - 1) * $1
                    FROM generate_series(1, $2) AS "g"', "tbl" || '_old')
        USING interval '365 days' / "n", "n";
END $$;

-- blocking: (id, name, note, closed_at), name a personal.name, closed_at its
-- anchor; every tenth row closed 30 days ago (blocked), every tenth an hour
-- ago, the rest open
CREATE PROCEDURE "build_block"("tbl" text, "governed" bool, "n" bigint) LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('CREATE TABLE %I ("id" int PRIMARY KEY, "name" text, "note" text, "closed_at" timestamptz)', "tbl");
    IF "governed" THEN
        PERFORM "governance"."bind"("tbl", 'bench-retention');
        PERFORM "governance"."tag"("tbl", 'name', 'category=personal.name');
        PERFORM "governance"."tag"("tbl", 'closed_at', 'anchor=account_closed');
    END IF;
    EXECUTE format('INSERT INTO %I SELECT "g", ''name '' || "g", md5("g"::text),
                           CASE "g" %% 10 WHEN 0 THEN $1 - interval ''30 days'' WHEN 1 THEN $1 - interval ''1 hour'' END
                    FROM generate_series(1, $2) AS "g"', "tbl") USING (SELECT "t" FROM "ref"), "n";
    EXECUTE format('GRANT SELECT ON %I TO "bench_app"', "tbl");
END $$;

-- the last run of a table, for the progress lines: what it did
CREATE FUNCTION "last_run"("tbl" text) RETURNS text LANGUAGE sql AS $$
    SELECT string_agg(format('%s %s: status %s, deleted %s, anonymized %s, partitions dropped %s, batches %s',
                             "rule_id", "action", "status", "deleted", "anonymized", "partitions_dropped", "batches"),
                      '; ' ORDER BY "rule_id")
    FROM "governance"."retention_runs"
    WHERE "relation" = 'public.' || "tbl"
      AND "run_id" = (SELECT max("run_id") FROM "governance"."retention_runs" WHERE "relation" = 'public.' || "tbl")
      AND ("deleted" > 0 OR "anonymized" > 0 OR "partitions_dropped" > 0 OR "status" <> 'done');
$$;

-- the medians over the rounds of one comparison: baseline ms, governed ms,
-- the per-round governed/baseline ratios, and the rounds compared
CREATE FUNCTION "summary"("w" text, "base_side" text, "gov_side" text,
    OUT "base_ms" numeric, OUT "gov_ms" numeric, OUT "ratio" numeric, OUT "rounds" bigint)
LANGUAGE sql AS $$
    SELECT round((percentile_cont(0.5) WITHIN GROUP (ORDER BY "b"."ms"))::numeric, 1),
           round((percentile_cont(0.5) WITHIN GROUP (ORDER BY "g"."ms"))::numeric, 1),
           round((percentile_cont(0.5) WITHIN GROUP (ORDER BY "g"."ms" / "b"."ms"))::numeric, 3),
           count(*)
    FROM "ret_timings" AS "b" JOIN "ret_timings" AS "g" USING ("workload", "round")
    WHERE "workload" = "w" AND "b"."side" = "base_side" AND "g"."side" = "gov_side";
$$;
