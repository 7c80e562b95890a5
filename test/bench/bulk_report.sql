-- test/bench/bulk_report.sql — owns the summary of the bulk rounds that
-- bulk.sql's "bulk_round" recorded in "timings" (round 0, the warm-up, left
-- out).  Writes to the file in psql variable out one tab-separated line per
-- comparison: key, baseline median ms per slice, governed median ms per
-- slice, median of the per-slice governed/baseline ratios, slices compared.
\set ON_ERROR_STOP 1
\pset format unaligned
\pset tuples_only on
\pset fieldsep '\t'
\o :out
SELECT "g"."workload" || '/' || "b"."tbl" AS "key",
       round((percentile_cont(0.5) WITHIN GROUP (ORDER BY "b"."ms"))::numeric, 1),
       round((percentile_cont(0.5) WITHIN GROUP (ORDER BY "g"."ms"))::numeric, 1),
       round((percentile_cont(0.5) WITHIN GROUP (ORDER BY "g"."ms" / "b"."ms"))::numeric, 3),
       count(*)
FROM "timings" AS "g"
JOIN "timings" AS "b" USING ("workload", "round", "slice")
WHERE "g"."tbl" = 'governed' AND "b"."tbl" <> 'governed' AND "round" > 0
GROUP BY "g"."workload", "b"."tbl"
ORDER BY "g"."workload", "b"."tbl" DESC;
\o
