-- PII discovery: the value detectors on known valid and invalid values,
-- name evidence (English, pinyin, Chinese), sampling, tagged and
-- unreadable columns skipped, an empty schema, bad input, privileges.
SELECT governance.set_database_region('CN');
SET search_path = public;

SELECT v, governance._value_kinds(v) & 255 AS is, governance._value_kinds(v) >> 8 AS fails FROM (VALUES
    -- mobile: operator segments, +86 and grouping; 12x, 154, 194 are not segments
    ('13812345678'), ('+86 138 1234 5678'), ('0086-19912345678'), ('199-1234-5678'),
    ('14512345678'), ('16212345678'), ('17812345678'),
    ('12012345678'), ('15412345678'), ('19412345678'), ('14012345678'), ('17912345678'),
    ('138123456789'), ('1381234567'),
    -- resident numbers: check digit, X and x, province code, birth date
    ('11010519491231002X'), ('11010519491231002x'), ('110105194912310021'),
    ('71010519491231002X'), ('110105194902300028'), ('110105299912310015'),
    -- credit codes: check character, alphabet (no I O S V Z), authority code
    ('91350100M000100Y43'), ('91350100M000100Y44'), ('91350100M000100I43'),
    -- cards: Luhn, 16-19 digits, groups
    ('6222021234567890128'), ('4111111111111111'), ('4111 1111 1111 1111'),
    ('4111111111111112'), ('411111111111111'), ('0111111111111116'),
    -- e-mail, IP, MAC
    ('a.b+tag@example.com'), ('张三@例子.中国'), ('bad@@x.com'), ('x@localhost'), ('.a@x.cn'), ('a@x.c0m'),
    ('192.168.0.1'), ('256.1.1.1'), ('1.2.3'), ('01.2.3.4'),
    ('fe80::1'), ('2001:db8::ff00:42:8329'), ('::ffff:10.0.0.1'), ('1:2:3:4:5:6:7:8'), ('1:2:3'), ('1::2::3'),
    ('00:1a:2b:3c:4d:5e'), ('00-1A-2B-3C-4D-5E'), ('001a.2b3c.4d5e'), ('00:1a:2b:3c:4d:5e:6f:70'),
    ('001a2b3c4d5e'), ('00:1a-2b:3c:4d:5e'),
    -- decoys
    ('d41d8cd98f00b204e9800998ecf8427e'), ('202401150000012345'), ('')
) AS t(v);
SELECT governance._value_kinds(NULL) IS NULL AS strict;

-- ------------------------------------------------------------ suggest_tags
CREATE SCHEMA disc;
-- names only, no rows: English, pinyin, its abbreviations, Chinese
CREATE TABLE disc.names (id bigint, sjh text, "shoujiHao" text, "身份证号" text, sfzh varchar(18),
                         xm text, "姓名" text, dz text, "家庭住址" text, yx text, "邮箱" text,
                         ip_addr text, "MAC地址" text, tyshxydm text, "银行卡号" text,
                         name text, product_name text, hotel text, remark text, n integer, created date);
SELECT "column", category, confidence, evidence FROM governance.suggest_tags('disc') ORDER BY 1, 2;

-- values: a neutral name, mostly valid values; failing check digits do not count
CREATE TABLE disc.vals (a text, b text, c text, d bigint, e text);
INSERT INTO disc.vals
SELECT '138' || lpad(g::text, 8, '0'),
       CASE WHEN g % 4 = 0 THEN '110105194912310021' ELSE '11010519491231002X' END,
       md5(g::text),
       CASE WHEN g % 2 = 0 THEN 4111111111111111 ELSE 4111111111111112 END,
       NULL
FROM generate_series(1, 200) g;
SELECT "column", category, confidence, evidence FROM governance.suggest_tags('disc') WHERE relation = 'disc.vals'::regclass;
-- a sample of 20 rows: the counts say so
SELECT "column", evidence FROM governance.suggest_tags('disc', 20) WHERE relation = 'disc.vals'::regclass;

-- tagged columns are not suggested
SELECT governance.tag('disc.vals', 'a', 'category=personal.contact.phone');
SELECT governance.tag('disc.names', 'sjh', 'category=personal.contact.phone');
SELECT count(*) FILTER (WHERE "column" IN ('a', 'sjh')) AS tagged_suggested, count(*) > 0 AS others
FROM governance.suggest_tags('disc');

-- a big table is sampled: the rows read do not grow with it (at most
-- sample_rows), and the sample is repeatable
CREATE TABLE disc.big AS SELECT '139' || lpad(g::text, 8, '0') AS phone_no FROM generate_series(1, 200000) g;
ANALYZE disc.big;
SELECT category, confidence, evidence FROM governance.suggest_tags('disc', 500) WHERE relation = 'disc.big'::regclass;
SELECT (SELECT evidence FROM governance.suggest_tags('disc', 300) WHERE relation = 'disc.big'::regclass)
     = (SELECT evidence FROM governance.suggest_tags('disc', 300) WHERE relation = 'disc.big'::regclass) AS repeatable;

-- partitioned tables: the parent is looked at (its partitions through it)
CREATE TABLE disc.part (k int, email text) PARTITION BY RANGE (k);
CREATE TABLE disc.part_1 PARTITION OF disc.part FOR VALUES FROM (0) TO (100);
CREATE TABLE disc.part_2 PARTITION OF disc.part FOR VALUES FROM (100) TO (200);
INSERT INTO disc.part SELECT g, 'user' || g || '@example.cn' FROM generate_series(0, 199) g;
SELECT relation, "column", category, evidence FROM governance.suggest_tags('disc') WHERE relation::text LIKE 'disc.part%';

-- an empty schema, and a database of nothing but the extension's schema
CREATE SCHEMA disc_empty;
SELECT count(*) FROM governance.suggest_tags('disc_empty');
SELECT count(*) FROM governance.suggest_tags('governance');

-- bad input
SELECT * FROM governance.suggest_tags('no_such_schema');
SELECT * FROM governance.suggest_tags('disc', 0);
SELECT * FROM governance.suggest_tags('disc', NULL);

-- privileges: not for PUBLIC; a reader sees only the columns it may SELECT
-- (b and d of disc.vals: b is suggested, the other tables are not readable)
CREATE ROLE disc_app;
CREATE ROLE disc_reader IN ROLE governance_reader;
GRANT USAGE ON SCHEMA disc TO disc_reader;
GRANT SELECT (b, d) ON disc.vals TO disc_reader;
SET ROLE disc_app;
SELECT * FROM governance.suggest_tags('disc');
SELECT governance._value_kinds('13812345678');
RESET ROLE;
SET ROLE disc_reader;
SELECT relation, "column", category FROM governance.suggest_tags('disc');
RESET ROLE;
-- a table whose owner's row security policy would run the owner's code as
-- the caller (a trap for the admin or reader who looks for personal data,
-- here or through compliance_report): judged by name only, nothing runs
CREATE ROLE disc_owner IN ROLE governance_reader;
CREATE SCHEMA disc_trap AUTHORIZATION disc_owner;
GRANT USAGE ON SCHEMA disc_trap TO PUBLIC;
SET ROLE disc_owner;
CREATE FUNCTION disc_trap.caught() RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN RAISE NOTICE 'the owner''s policy code runs as %', current_user; RETURN true; END $$;
CREATE TABLE disc_trap.bait (phone text);
INSERT INTO disc_trap.bait SELECT '138' || lpad(g::text, 8, '0') FROM generate_series(1, 20) g;
ALTER TABLE disc_trap.bait ENABLE ROW LEVEL SECURITY;
CREATE POLICY lure ON disc_trap.bait USING (disc_trap.caught());
GRANT SELECT ON disc_trap.bait TO PUBLIC;
RESET ROLE;
SET ROLE disc_reader;
SELECT relation, "column", category, confidence, evidence FROM governance.suggest_tags('disc_trap');
RESET ROLE;
-- its owner (or a superuser) runs only its own code: sampled
SET ROLE disc_owner;
SELECT relation, "column", category, confidence FROM governance.suggest_tags('disc_trap');
RESET ROLE;
DROP SCHEMA disc_trap CASCADE;
DROP ROLE disc_owner;
-- the function runs as its caller with search_path pinned
SELECT p.prosecdef, p.proconfig FROM pg_proc p WHERE p.oid = 'governance.suggest_tags'::regproc;

DROP SCHEMA disc, disc_empty CASCADE;
DROP OWNED BY disc_reader;
DROP ROLE disc_app, disc_reader;
