-- test/bench/timings.sql — owns the record of timed rounds that the
-- sharing, discovery and subjects workloads of test/bench/run share
-- (included by sharing.sql, discovery.sql and subjects.sql): one row per
-- workload, side and round; summary() gives the medians of one comparison
-- (baseline ms, governed ms, the per-round governed/baseline ratio, rounds).
CREATE TABLE timings (workload text, side text, round integer, ms float8);
CREATE FUNCTION summary(w text, base text, gov text, OUT base_ms numeric, OUT gov_ms numeric,
                        OUT ratio numeric, OUT rounds bigint)
LANGUAGE sql AS $$
    SELECT round((percentile_cont(0.5) WITHIN GROUP (ORDER BY b.ms))::numeric, 1),
           round((percentile_cont(0.5) WITHIN GROUP (ORDER BY g.ms))::numeric, 1),
           round((percentile_cont(0.5) WITHIN GROUP (ORDER BY g.ms / b.ms))::numeric, 3),
           count(*)
    FROM timings b JOIN timings g USING (workload, round)
    WHERE workload = w AND b.side = base AND g.side = gov;
$$;
