-- test/bench/policies.sql — owns the policy-loading workload of test/bench/run:
-- the time of governance.load_bundled_policy(name) for every bundled policy,
-- commit included.  Reloading identical content is a no-op, so each policy is
-- dropped (governance.drop_policy) before each timed load.  Round 0 warms up
-- and is discarded.
--
-- psql variables: rounds (timed rounds), out (file that receives one
-- tab-separated line per policy: name, median ms, slowest ms, rounds).
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
CREATE EXTENSION "pg_governance";
CREATE TABLE "load_timings" ("round" int, "policy" text, "ms" float8);

CREATE PROCEDURE "time_loads"("rounds" int) LANGUAGE plpgsql AS $$
DECLARE
    "t0" timestamptz;
    "t1" timestamptz;
    "p" text;
BEGIN
    FOR "r" IN 0 .. "rounds" LOOP
        FOR "p" IN SELECT "n" FROM "governance"."bundled_policies"() AS "n" ORDER BY 1 LOOP
            IF EXISTS (SELECT FROM "governance"."policies" AS "l" WHERE "l"."name" = "p") THEN
                PERFORM "governance"."drop_policy"("p");
            END IF;
            COMMIT;
            "t0" := clock_timestamp();
            PERFORM "governance"."load_bundled_policy"("p");
            COMMIT;
            "t1" := clock_timestamp();
            INSERT INTO "load_timings" VALUES ("r", "p", extract(epoch FROM "t1" - "t0") * 1000);
            COMMIT;
        END LOOP;
    END LOOP;
END $$;
CALL "time_loads"(:rounds);

\pset format unaligned
\pset tuples_only on
\pset fieldsep '\t'
\o :out
SELECT "policy",
       round((percentile_cont(0.5) WITHIN GROUP (ORDER BY "ms"))::numeric, 1),
       round(max("ms")::numeric, 1),
       count(*)
FROM "load_timings" WHERE "round" > 0
GROUP BY "policy" ORDER BY "policy";
\o
