-- governance.category and governance.region: input, output, ordering,
-- containment, indexes, binary I/O, and every malformed input we can think of.
SET search_path = public, governance;
\set VERBOSITY default

-- ---------------------------------------------------------------- category
SELECT 'personal'::governance.category, 'personal.contact.phone'::governance.category,
       'a1.b_2.c'::governance.category;
SELECT governance.parent('personal.contact.phone'), governance.parent('personal') IS NULL AS top_has_no_parent;
SELECT governance.depth('personal'), governance.depth('personal.contact.email');
SELECT governance.depth((repeat('a.', 15) || 'a')::governance.category);  -- 16 levels: the maximum

-- containment: ancestor-or-self, not string prefix
SELECT 'personal'::governance.category @> 'personal.contact' AS anc,
       'personal'::governance.category @> 'personal' AS self,
       'personal'::governance.category @> 'personality' AS not_prefix,
       'personal.contact'::governance.category @> 'personal' AS not_desc,
       'personal.contact.phone'::governance.category <@ 'personal' AS desc_of,
       'payment'::governance.category <@ 'personal' AS unrelated;

-- ordering: a parent sorts right before its descendants
SELECT c FROM unnest(ARRAY['personal_x','personal.contact','personal','payment',
       'personal.contact.phone','personal.b','p']::governance.category[]) AS c ORDER BY c;
SELECT 'a'::governance.category < 'a.b', 'a.b'::governance.category < 'a_b',
       'a'::governance.category = 'a', 'a'::governance.category <> 'b',
       'b'::governance.category >= 'a.z', 'b'::governance.category > 'b';

-- NULL handling: strict functions and operators
SELECT governance.parent(NULL), governance.depth(NULL),
       NULL::governance.category @> 'a', ('a'::governance.category = NULL) IS NULL AS eq_null;

-- malformed input: every one is 22P02 with the position
SELECT ''::governance.category;
SELECT 'Personal'::governance.category;
SELECT 'personal.Contact'::governance.category;
SELECT 'a..b'::governance.category;
SELECT '.a'::governance.category;
SELECT 'a.'::governance.category;
SELECT '1abc'::governance.category;
SELECT 'a.1b'::governance.category;
SELECT 'a-b'::governance.category;
SELECT 'a b'::governance.category;
SELECT 'personal.контакт'::governance.category;
SELECT (repeat('a.', 16) || 'a')::governance.category;       -- 17 levels
SELECT repeat('a', 300)::governance.category;                 -- 300 chars
SELECT repeat('a', 64)::governance.category;                  -- 64-char segment
SELECT '#$%^&*'::governance.category;
-- errors are catchable by SQLSTATE
DO $$ BEGIN PERFORM 'A'::governance.category;
EXCEPTION WHEN invalid_text_representation THEN RAISE NOTICE 'caught %', SQLSTATE; END $$;

-- casts
SELECT 'personal.name'::text::governance.category::text;

-- btree and hash indexes are used
CREATE TABLE cats (c governance.category);
INSERT INTO cats SELECT ('s' || g || '.x' || (g % 7))::governance.category FROM generate_series(1, 2000) g;
INSERT INTO cats VALUES ('personal.contact.phone'), (NULL);
CREATE INDEX cats_btree ON cats USING btree (c);
ANALYZE cats;
SET enable_seqscan = off;
SET enable_bitmapscan = off;
EXPLAIN (COSTS OFF) SELECT * FROM cats WHERE c = 'personal.contact.phone';
SELECT * FROM cats WHERE c = 'personal.contact.phone';
EXPLAIN (COSTS OFF) SELECT count(*) FROM cats WHERE c BETWEEN 's1' AND 's2';
SELECT count(*) FROM cats WHERE c BETWEEN 's1' AND 's2';
SET enable_indexscan = off;
SET enable_bitmapscan = on;
DROP INDEX cats_btree;
CREATE INDEX cats_hash ON cats USING hash (c);
EXPLAIN (COSTS OFF) SELECT * FROM cats WHERE c = 'personal.contact.phone';
SELECT * FROM cats WHERE c = 'personal.contact.phone';
RESET enable_seqscan; RESET enable_bitmapscan; RESET enable_indexscan;
-- hash aggregate and hash join work (HASHES)
SET enable_sort = off;
SELECT count(*) FROM (SELECT DISTINCT c FROM cats) d;
RESET enable_sort;
SELECT count(*) FROM cats a JOIN cats b USING (c);

-- binary send/receive round trip
-- (through a file in the throw-away cluster's data directory, not /tmp)
CREATE TABLE cats_copy (c governance.category);
SELECT current_setting('data_directory') || '/pg_governance_cats.bin' AS cats_file,
       current_setting('data_directory') || '/pg_governance_regions.bin' AS regions_file \gset
COPY cats TO :'cats_file' WITH (FORMAT binary);
COPY cats_copy FROM :'cats_file' WITH (FORMAT binary);
SELECT count(*) AS same FROM cats a JOIN cats_copy b ON a.c = b.c;
SELECT count(*) AS rows FROM cats_copy;

-- ------------------------------------------------------------------ region
SELECT 'CN'::governance.region, 'cn-sh'::governance.region, 'hk'::governance.region,
       'US-CA'::governance.region, 'GB-ENG'::governance.region, 'FR-75'::governance.region;
SELECT 'CN'::governance.region @> 'CN-SH' AS cn_has_sh,
       'CN'::governance.region @> 'CN' AS self,
       'CN'::governance.region @> 'HK' AS cn_has_not_hk,
       'CN-SH'::governance.region @> 'CN' AS sub_has_not_country,
       'CN-SH'::governance.region <@ 'CN' AS sh_in_cn,
       'US-C'::governance.region @> 'US-CA' AS not_prefix;
SELECT governance.country('CN-SH'), governance.country('HK');
SELECT r FROM unnest(ARRAY['US','CN-SH','CN','HK','CN-BJ','CO','MO','TW']::governance.region[]) r ORDER BY r;
SELECT 'cn'::governance.region = 'CN' AS case_folded, 'CN'::governance.region < 'CN-BJ';
SELECT NULL::governance.region @> 'CN', ('CN'::governance.region = NULL) IS NULL AS eq_null;

SELECT ''::governance.region;
SELECT 'C'::governance.region;
SELECT 'XX'::governance.region;
SELECT 'UK'::governance.region;
SELECT 'CN-'::governance.region;
SELECT 'CN_SH'::governance.region;
SELECT 'CN-SHAN'::governance.region;
SELECT 'CN-S H'::governance.region;
-- China's subdivisions are checked: the withdrawn numeric codes (CN-91 was
-- Hong Kong) and made-up ones would otherwise pass as mainland China
SELECT 'CN-91'::governance.region;
SELECT 'CN-HKG'::governance.region;
SELECT 'CN-hk'::governance.region, 'CN-XJ'::governance.region;
SELECT 'CHN'::governance.region;
SELECT '12'::governance.region;
SELECT ' CN'::governance.region;
SELECT '中国'::governance.region;
SELECT repeat('Z', 300)::governance.region;

CREATE TABLE regions (r governance.region PRIMARY KEY);
INSERT INTO regions VALUES ('CN'), ('CN-SH'), ('HK'), ('US');
INSERT INTO regions VALUES ('cn-sh');   -- duplicate after normalisation
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT * FROM regions WHERE r = 'HK';
CREATE TABLE regions_h (r governance.region);
INSERT INTO regions_h SELECT * FROM regions;
CREATE INDEX regions_hash ON regions_h USING hash (r);
EXPLAIN (COSTS OFF) SELECT * FROM regions_h WHERE r = 'hk';
SELECT * FROM regions_h WHERE r = 'hk';
RESET enable_seqscan;
SELECT * FROM regions WHERE r <@ 'CN' ORDER BY r;
COPY regions TO :'regions_file' WITH (FORMAT binary);
CREATE TABLE regions_copy (r governance.region);
COPY regions_copy FROM :'regions_file' WITH (FORMAT binary);
SELECT r FROM regions_copy ORDER BY r;

DROP TABLE cats, cats_copy, regions, regions_h, regions_copy;
