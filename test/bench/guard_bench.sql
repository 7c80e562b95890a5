-- test/bench/guard_bench.sql — per-row cost of the guard, run by guard_bench.sh.
-- One session; plain, noop (a do-nothing C BEFORE ROW trigger), checked (only
-- CHECK (id > -1): the floor of any CHECK constraint) and governed runs
-- alternate inside each round, so that drift hits them all alike.
\set ON_ERROR_STOP 1
\pset footer off
CREATE EXTENSION pg_governance;
SELECT count(governance.load_bundled_policy(n)) AS policies FROM governance.bundled_policies() n;

CREATE TABLE plain (id bigint, region text, phone text, email text, created timestamptz,
                    a int, b text, c numeric, d date, e text);
CREATE TABLE noop (LIKE plain);
CREATE TABLE governed (LIKE plain);
-- the floor of any CHECK constraint: PostgreSQL 15 prepares CHECK
-- expressions once per statement, and evaluates them once per row
CREATE TABLE checked (LIKE plain);
ALTER TABLE checked ADD CONSTRAINT trivial CHECK (id > -1);
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
-- 30 slices of 10k rows: the tables take turns slice by slice, so that the
-- machine's drift (these 2-core machines wander by 5% and more within a
-- minute) hits them all alike; each table still receives all 300k rows.
DO $$
BEGIN
    FOR k IN 0 .. 29 LOOP
        EXECUTE format('CREATE TABLE %I AS SELECT * FROM src WHERE id > %s AND id <= %s ORDER BY id',
                       'src_' || k, k * 10000, (k + 1) * 10000);
        EXECUTE format('COPY %I TO %L', 'src_' || k, '/tmp/pg_governance_bench_' || k || '.copy');
    END LOOP;
END $$;

CREATE TABLE timings (workload text, tbl text, round int, ms float8, slice int);
CREATE PROCEDURE bench(rounds int) LANGUAGE plpgsql AS $$
DECLARE
    t0 timestamptz;
    tbl text;
    tables text[] := ARRAY['plain', 'noop', 'governed', 'checked'];
    workload text;
    k int;
    i int := 0;
BEGIN
    FOR r IN 1 .. rounds LOOP
        FOREACH workload IN ARRAY ARRAY['insert_select', 'copy'] LOOP
            TRUNCATE plain, noop, governed, checked;
            COMMIT;
            FOR k IN 0 .. 29 LOOP
                i := i + 1;
                -- each table goes first, second, third and last in turn
                FOREACH tbl IN ARRAY tables[1 + i % 4 :] || tables[: i % 4] LOOP
                    t0 := clock_timestamp();
                    IF workload = 'insert_select' THEN
                        EXECUTE format('INSERT INTO %I SELECT * FROM %I', tbl, 'src_' || k);
                    ELSE
                        EXECUTE format('COPY %I FROM %L', tbl, '/tmp/pg_governance_bench_' || k || '.copy');
                    END IF;
                    INSERT INTO timings VALUES (workload, tbl, r,
                        extract(epoch FROM clock_timestamp() - t0) * 1000, k);
                    COMMIT;
                END LOOP;
            END LOOP;
        END LOOP;
    END LOOP;
END $$;
SELECT :rounds > 0 AS run_rounds \gset
\if :run_rounds
CALL bench(1);       -- warm-up, discarded
TRUNCATE timings;
CALL bench(:rounds);

-- one value per workload, table and round: the sum of its 30 slices
CREATE TABLE slices AS SELECT * FROM timings;
TRUNCATE timings;
INSERT INTO timings SELECT workload, tbl, round, sum(ms) FROM slices GROUP BY 1, 2, 3;

-- the steadiest figure: slices of the tables that ran back to back are
-- compared with each other, and the median of those ratios is taken, so that
-- a burst of writeback that hits one slice does not move the result
SELECT workload,
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY g.ms / p.ms)::numeric, 3) AS governed_plain,
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY g.ms / n.ms)::numeric, 3) AS governed_noop,
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY n.ms / p.ms)::numeric, 3) AS noop_plain,
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY c.ms / p.ms)::numeric, 3) AS checked_plain,
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY g.ms / c.ms)::numeric, 3) AS governed_checked,
       count(*) AS slices
FROM slices g JOIN slices p USING (workload, round, slice) JOIN slices n USING (workload, round, slice)
     JOIN slices c USING (workload, round, slice)
WHERE g.tbl = 'governed' AND p.tbl = 'plain' AND n.tbl = 'noop' AND c.tbl = 'checked'
GROUP BY workload ORDER BY workload;

SELECT workload, tbl, count(*) AS runs,
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)::numeric, 1) AS median_ms,
       round(min(ms)::numeric, 1) AS min_ms, round(max(ms)::numeric, 1) AS max_ms
FROM timings GROUP BY 1, 2 ORDER BY 1, 2;

-- the ratio within each round cancels drift between rounds
SELECT workload,
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY g.ms / p.ms)::numeric, 3) AS governed_plain,
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY g.ms / n.ms)::numeric, 3) AS governed_noop,
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY n.ms / p.ms)::numeric, 3) AS noop_plain
FROM timings g JOIN timings p USING (workload, round) JOIN timings n USING (workload, round)
WHERE g.tbl = 'governed' AND p.tbl = 'plain' AND n.tbl = 'noop'
GROUP BY workload ORDER BY workload;

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
TRUNCATE plain, noop, governed, checked;
