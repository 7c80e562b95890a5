-- test/bench/guard_bench.sql — per-row cost of the guard, run by guard_bench.sh.
-- One session; plain, noop (a do-nothing C BEFORE ROW trigger) and governed
-- runs alternate inside each round, so that drift hits all three alike.
\set ON_ERROR_STOP 1
\pset footer off
CREATE EXTENSION pg_governance;
SELECT count(governance.load_bundled_policy(n)) AS policies FROM governance.bundled_policies() n;

CREATE TABLE plain (id bigint, region text, phone text, email text, created timestamptz,
                    a int, b text, c numeric, d date, e text);
CREATE TABLE noop (LIKE plain);
CREATE TABLE governed (LIKE plain);
CREATE TRIGGER noop_row BEFORE INSERT OR UPDATE ON noop
    FOR EACH ROW EXECUTE FUNCTION governance._noop_trigger();
-- ctyun-huiju-2024 requires personal data in mainland China: the region
-- column is checked on every row
SELECT governance.bind('governed', 'ctyun-huiju-2024');
SELECT governance.tag('governed', 'region', 'region');
SELECT governance.tag('governed', 'phone', 'category=personal.contact.phone');
SELECT governance.tag('governed', 'email', 'category=personal.contact.email');
SELECT governance.tag('governed', 'created', 'anchor=created');
\d governed

-- the same 300k rows for every run; created is old enough that TRUNCATE is allowed
CREATE TABLE src AS
SELECT g::bigint AS id, (ARRAY['CN','CN-SH','CN-BJ','CN-GD'])[1 + g % 4] AS region,
       '138' || lpad((g % 100000000)::text, 8, '0') AS phone, 'u' || g || '@example.cn' AS email,
       timestamptz '2001-01-01' + g * interval '1 second' AS created,
       g % 1000 AS a, md5(g::text) AS b, (g % 997)::numeric / 7 AS c,
       date '2020-01-01' + (g % 1000) AS d, repeat('x', 20) AS e
FROM generate_series(1, 300000) g;
COPY src TO '/tmp/pg_governance_bench.copy';

CREATE TABLE timings (workload text, tbl text, round int, ms float8);
CREATE PROCEDURE bench(rounds int) LANGUAGE plpgsql AS $$
DECLARE
    t0 timestamptz;
    tbl text;
    r int;
BEGIN
    FOR r IN 1 .. rounds LOOP
        FOREACH tbl IN ARRAY ARRAY['plain', 'noop', 'governed'] LOOP
            EXECUTE format('TRUNCATE %I', tbl);
            COMMIT;
            t0 := clock_timestamp();
            EXECUTE format('INSERT INTO %I SELECT * FROM src', tbl);
            INSERT INTO timings VALUES ('insert_select', tbl, r,
                extract(epoch FROM clock_timestamp() - t0) * 1000);
            COMMIT;
            EXECUTE format('TRUNCATE %I', tbl);
            COMMIT;
            t0 := clock_timestamp();
            EXECUTE format('COPY %I FROM %L', tbl, '/tmp/pg_governance_bench.copy');
            INSERT INTO timings VALUES ('copy', tbl, r,
                extract(epoch FROM clock_timestamp() - t0) * 1000);
            COMMIT;
        END LOOP;
    END LOOP;
END $$;
SELECT :rounds > 0 AS run_rounds \gset
\if :run_rounds
CALL bench(1);       -- warm-up, discarded
TRUNCATE timings;
CALL bench(:rounds);

SELECT workload, tbl, count(*) AS runs,
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)::numeric, 1) AS median_ms,
       round(min(ms)::numeric, 1) AS min_ms, round(max(ms)::numeric, 1) AS max_ms
FROM timings GROUP BY 1, 2 ORDER BY 1, 2;

WITH m AS (SELECT workload, tbl, percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS ms
           FROM timings GROUP BY 1, 2)
SELECT format('insert_select governed/plain %s (goal <= 1.08), governed/noop %s (goal <= 1.05), noop/plain %s',
              round((g.ms / p.ms)::numeric, 3), round((g.ms / n.ms)::numeric, 3), round((n.ms / p.ms)::numeric, 3)) AS summary
FROM m g, m p, m n
WHERE g.workload = 'insert_select' AND p.workload = g.workload AND n.workload = g.workload
  AND g.tbl = 'governed' AND p.tbl = 'plain' AND n.tbl = 'noop'
UNION ALL
SELECT format('copy governed/plain %s (goal <= 1.10), noop/plain %s (a BEFORE ROW trigger turns off multi-insert)',
              round((g.ms / p.ms)::numeric, 3), round((n.ms / p.ms)::numeric, 3))
FROM m g, m p, m n
WHERE g.workload = 'copy' AND p.workload = g.workload AND n.workload = g.workload
  AND g.tbl = 'governed' AND p.tbl = 'plain' AND n.tbl = 'noop';
\endif
TRUNCATE plain, noop, governed;
