-- test/bench/sharing.sql — owns the setup of the sharing workloads of
-- test/bench/run (rows 15-18), in the database "sharing":
--   - ctyun-huiju-2024 loaded, and 1000 subjects who consented to 百度SDK
--     receiving their camera data for real-name verification (so that each
--     share() decides, looks up a consent and appends to the chained log);
--   - "share_plain": a table of the sharing log's shape (columns, primary
--     key, subject index), for the plain single-row INSERT baseline;
--   - "timings" and "summary": the timed rounds (timings.sql);
--   - "fill_log"(n): n rows appended to governance.sharing_log (chained by
--     its trigger, one statement), for the verification workload.
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
CREATE EXTENSION "pg_governance";
SELECT "governance"."set_database_region"('CN');
SELECT "governance"."load_bundled_policy"('ctyun-huiju-2024');
SELECT count("governance"."grant_consent"('user-' || "i", 'real_name_verification', '百度SDK'))
FROM generate_series(1, 1000) AS "i";

CREATE TABLE "share_plain" (LIKE "governance"."sharing_log" INCLUDING DEFAULTS INCLUDING INDEXES);
CREATE SEQUENCE "share_plain_id";
ALTER TABLE "share_plain" ALTER COLUMN "id" SET DEFAULT nextval('"share_plain_id"');

\ir timings.sql

CREATE PROCEDURE "fill_log"("n" bigint) LANGUAGE sql AS $$
    INSERT INTO "governance"."sharing_log"
        ("policy", "recipient", "categories", "purpose", "subject", "legal_basis", "rule_id", "personal")
    SELECT 'ctyun-huiju-2024', '百度SDK', '{device.camera}', 'real_name_verification',
           'user-' || ("i" % 1000 + 1), NULL, 'share.sdk.baidu', true
    FROM generate_series(1, "n") AS "i";
$$;
