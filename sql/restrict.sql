-- An erased subject's kept rows are blocked at once (restrict.c): rows an
-- erasure keeps under a legal hold or a minimum retention are hidden from
-- the application and the table owner, seen by governance_admin, GV006 on
-- their writes; the routes around it (policy DDL, DISABLE ROW LEVEL
-- SECURITY, DROP or RENAME COLUMN, untagging, partitions, ATTACH, calling
-- the key function by hand); a table whose kept rows cannot be keyed; a
-- second erasure once the hold is released.
SET search_path = public;
\set VERBOSITY default
SELECT governance.set_database_region('CN');
SELECT governance.load_bundled_policy('jinpai-mail');
CREATE ROLE rst_owner;
CREATE ROLE rst_app;
CREATE ROLE rst_admin IN ROLE governance_admin;
CREATE SCHEMA rst AUTHORIZATION rst_owner;
SECURITY LABEL FOR governance ON SCHEMA rst IS 'policy=jinpai-mail';
GRANT USAGE ON SCHEMA rst TO rst_app, rst_admin;
ALTER DEFAULT PRIVILEGES FOR ROLE rst_owner IN SCHEMA rst GRANT SELECT, UPDATE, DELETE ON TABLES TO rst_app, rst_admin;

SET ROLE rst_owner;
CREATE TABLE rst.employee (id int PRIMARY KEY, email text, dept text);
-- no primary key: the kept rows are known by their stable-text columns
CREATE TABLE rst.login_log (who text, line text, created timestamptz NOT NULL);
-- a partitioned table
CREATE TABLE rst.visit (id int PRIMARY KEY, email text) PARTITION BY RANGE (id);
CREATE TABLE rst.visit1 PARTITION OF rst.visit FOR VALUES FROM (0) TO (100);
-- no column that keys a row in every session (bytea, timestamptz)
CREATE TABLE rst.token (tok bytea, at timestamptz);
RESET ROLE;
SELECT governance.tag('rst.employee', 'email', 'subject;category=personal.contact.email');
SELECT governance.tag('rst.employee', 'dept', 'category=personal.name');
SELECT governance.tag('rst.login_log', 'who', 'subject');
SELECT governance.tag('rst.login_log', 'line', 'category=log.service');
SELECT governance.tag('rst.login_log', 'created', 'anchor=created');
SELECT governance.tag('rst.visit', 'email', 'subject;category=personal.contact.email');
INSERT INTO rst.employee VALUES (1, 'alice@example.cn', 'sales'), (2, 'bob@example.cn', 'sales');
INSERT INTO rst.login_log VALUES ('alice@example.cn', 'login', now() - interval '1 day'),
                                 ('alice@example.cn', 'logout', now() - interval '2 years'),
                                 ('bob@example.cn', 'login', now() - interval '1 day');
INSERT INTO rst.visit VALUES (1, 'alice@example.cn'), (2, 'bob@example.cn');
-- (the restriction ids below read the same whatever ran before: the tables
-- of earlier tests are gone, and the first erasure forgets their keys)
ALTER SEQUENCE governance.restriction_id_seq RESTART WITH 1;
SELECT governance.place_hold('rst.employee', 'alice@example.cn', 'labour arbitration 2026-17') AS hold \gset
SELECT governance.place_hold('rst.visit', 'alice@example.cn', 'fraud inquiry') AS visit_hold \gset

-- an erasure first forgets the keys of tables that are gone (earlier tests')
SELECT count(*) FROM governance.erase_subject('nobody@example.cn');

-- ============================================================ a dry run restricts nothing
SELECT * FROM governance.erase_subject('alice@example.cn', dry_run => true) ORDER BY 1, 2;
SELECT count(*) AS restricted FROM governance.restricted_rows;
SELECT count(*) AS policies FROM pg_policy WHERE polname = 'governance_restricted';

-- ============================================================ the erasure blocks what it keeps
SELECT * FROM governance.erase_subject('alice@example.cn') ORDER BY 1, 2;
SELECT polrelid::regclass AS relation, pg_get_expr(polqual, polrelid) AS using
FROM pg_policy WHERE polname = 'governance_restricted' ORDER BY 1;
SELECT key, reason FROM governance.restricted_rows ORDER BY restriction, key;
SELECT substring(pg_get_expr(polqual, polrelid) FROM '''(\d+)''::bigint') AS emp_rid
FROM pg_policy WHERE polname = 'governance_restricted' AND polrelid = 'rst.employee'::regclass \gset
-- the application and the owner no longer see alice's kept rows
SET ROLE rst_app;
SELECT * FROM rst.employee ORDER BY id;
SELECT who, line FROM rst.login_log ORDER BY who;
SELECT * FROM rst.visit ORDER BY id;
SELECT * FROM rst.visit1 ORDER BY id;
UPDATE rst.employee SET dept = 'hr' WHERE id = 1;
DELETE FROM rst.employee WHERE id = 1;
-- one call per row, no sub-plan (the keys are loaded once per statement)
EXPLAIN (COSTS OFF) SELECT * FROM rst.employee;
-- the policy's function says whether one key is kept, never which keys are
SELECT governance._restricted_match('rst.employee', :emp_rid, 1::bigint) AS one_is_kept,
       governance._restricted_match('rst.employee', :emp_rid, 2::bigint) AS two_is_kept;
-- bad input: NULLs (strict), a table that is not one, a role with no right on the table
SELECT governance._restricted_match('rst.employee', NULL, 1::bigint) IS NULL AS strict;
SELECT governance._restricted_match('pg_class', :emp_rid, 1::bigint);
RESET ROLE;
SELECT 'rst.employee'::regclass::oid AS emp_oid \gset
CREATE ROLE rst_nobody;
SET ROLE rst_nobody;
SELECT governance._restricted_match(:'emp_oid'::regclass, :emp_rid, 1::bigint);
RESET ROLE;
DROP ROLE rst_nobody;
SET ROLE rst_app;
-- the keys are not the application's to read
SELECT * FROM governance.restricted_rows;
SELECT governance._restricted_match('rst.employee', 1, 1::bigint);
RESET ROLE;
SET ROLE rst_owner;
SELECT * FROM rst.employee ORDER BY id;
-- no way around it for the owner
DROP POLICY governance_restricted ON rst.employee;
ALTER POLICY governance_restricted ON rst.employee USING (true);
ALTER TABLE rst.employee DISABLE ROW LEVEL SECURITY;
SELECT * FROM rst.employee ORDER BY id;
ALTER TABLE rst.employee NO FORCE ROW LEVEL SECURITY;
SELECT * FROM rst.employee ORDER BY id;
ALTER TABLE rst.employee DROP COLUMN id CASCADE;
ALTER TABLE rst.employee ALTER COLUMN id TYPE bigint;
-- the route pg_restore takes (check_function_bodies off) cannot lift it:
-- what the policy restricted stays in it
SET check_function_bodies = off;
CREATE POLICY governance_restricted ON rst.employee AS RESTRICTIVE USING (true);
RESET check_function_bodies;
SELECT * FROM rst.employee ORDER BY id;
SELECT pg_get_expr(polqual, polrelid) LIKE '%_restricted_match%' AS still_restricted FROM pg_policy
WHERE polname = 'governance_restricted' AND polrelid = 'rst.employee'::regclass;
-- a renamed key column: the policy follows it
ALTER TABLE rst.employee RENAME COLUMN id TO emp_id;
SELECT * FROM rst.employee ORDER BY emp_id;
SELECT pg_get_expr(polqual, polrelid) AS using FROM pg_policy
WHERE polname = 'governance_restricted' AND polrelid = 'rst.employee'::regclass;
-- the key function answers only for the table whose policy names the id
SELECT governance._restricted_match('rst.employee', -1, 1::bigint);
SELECT governance._restricted_match('rst.login_log', :emp_rid, 1::bigint);
RESET ROLE;
-- governance_admin sees them, and may not change them (GV006)
SET ROLE rst_admin;
SELECT * FROM rst.employee ORDER BY emp_id;
SELECT who, line FROM rst.login_log ORDER BY who, line;
UPDATE rst.employee SET dept = 'hr' WHERE emp_id = 1;
-- (the hold refuses the delete first: GV005)
\set VERBOSITY sqlstate
DELETE FROM rst.employee WHERE emp_id = 1;
\set VERBOSITY default
UPDATE rst.employee SET dept = 'ops' WHERE emp_id = 2;
SELECT governance._restricted_match('rst.employee', :emp_rid, 1::bigint) AS kept_for_admin;
RESET ROLE;

-- ============================================================ untagging keeps them hidden
SELECT governance.untag('rst.employee', 'dept');
SELECT governance.untag('rst.employee', 'email');
SET ROLE rst_app;
SELECT * FROM rst.employee ORDER BY emp_id;
RESET ROLE;
SET ROLE rst_owner;
ALTER TABLE rst.employee DISABLE ROW LEVEL SECURITY;
SELECT * FROM rst.employee ORDER BY emp_id;
DROP POLICY governance_restricted ON rst.employee;
-- nor through the route pg_restore takes
SET check_function_bodies = off;
CREATE POLICY governance_restricted ON rst.employee AS RESTRICTIVE USING (true);
RESET check_function_bodies;
SELECT * FROM rst.employee ORDER BY emp_id;
-- the guard's triggers stay for the kept rows: no TRUNCATE, no DROP TABLE
TRUNCATE rst.employee;
DROP TABLE rst.employee;
SELECT count(*) AS guard_triggers FROM pg_trigger WHERE tgrelid = 'rst.employee'::regclass AND tgname LIKE 'governance\_guard\_%';
RESET ROLE;
-- and GV006 on a write by those who see them
SET ROLE rst_admin;
UPDATE rst.employee SET dept = 'hr' WHERE emp_id = 1;
RESET ROLE;
SELECT governance.tag('rst.employee', 'email', 'subject;category=personal.contact.email');

-- ============================================================ a look-alike parent
-- a parent whose policy only looks like the guard's is made the guard's
-- before the table goes under it, and a copy elsewhere reads nothing
SET ROLE rst_owner;
CREATE TABLE rst.fake (emp_id int, email text, dept text);
GRANT SELECT ON rst.fake TO rst_app;
SET check_function_bodies = off;
CREATE POLICY governance_restricted ON rst.fake AS PERMISSIVE FOR UPDATE TO rst_owner
    USING (NOT governance._restricted_match('rst.fake'::regclass, :'emp_rid'::pg_catalog.int8, ARRAY[CAST(emp_id AS text)]));
RESET check_function_bodies;
SELECT polpermissive, polcmd FROM pg_policy WHERE polrelid = 'rst.fake'::regclass AND polname = 'governance_restricted';
RESET ROLE;
SET ROLE rst_app;
SELECT governance._restricted_match('rst.fake', :emp_rid, 1::bigint);
RESET ROLE;
SET ROLE rst_owner;
ALTER TABLE rst.employee INHERIT rst.fake;
RESET ROLE;
SET ROLE rst_app;
SELECT * FROM rst.fake ORDER BY emp_id;
RESET ROLE;
SET ROLE rst_owner;
ALTER TABLE rst.employee NO INHERIT rst.fake;
RESET ROLE;

-- ============================================================ partitions
-- a table with kept rows is not placed under a parent that does not hide them
SET ROLE rst_owner;
CREATE TABLE rst.visit2 (id int PRIMARY KEY, email text);
RESET ROLE;
SELECT governance.tag('rst.visit2', 'email', 'subject;category=personal.contact.email');
INSERT INTO rst.visit2 VALUES (150, 'carol@example.cn');
SELECT governance.place_hold('rst.visit2', 'carol@example.cn', 'audit') AS visit2_hold \gset
SELECT * FROM governance.erase_subject('carol@example.cn') ORDER BY 1, 2;
SET ROLE rst_owner;
ALTER TABLE rst.visit ATTACH PARTITION rst.visit2 FOR VALUES FROM (100) TO (200);
RESET ROLE;

-- ============================================================ a forged policy elsewhere
-- another owner's governance_restricted of another shape (a whole-row
-- value) neither reads the keys nor stops erasures
CREATE ROLE rst_mallory;
CREATE SCHEMA rst_mal AUTHORIZATION rst_mallory;
SET ROLE rst_mallory;
CREATE TABLE rst_mal.x (a int);
ALTER TABLE rst_mal.x ENABLE ROW LEVEL SECURITY;
SET check_function_bodies = off;
CREATE POLICY governance_restricted ON rst_mal.x USING
    (NOT governance._restricted_match('rst_mal.x'::regclass, :'emp_rid'::pg_catalog.int8, ARRAY[x::text]));
RESET check_function_bodies;
SELECT governance._restricted_match('rst_mal.x', :emp_rid, 1::bigint);
RESET ROLE;
SELECT count(*) FROM governance.erase_subject('nobody@example.cn');
DROP SCHEMA rst_mal CASCADE;
DROP ROLE rst_mallory;

-- ============================================================ no key
INSERT INTO rst.token VALUES ('dave', now());
SELECT governance.tag('rst.token', 'tok', 'subject');
SELECT governance.tag('rst.token', 'at', 'anchor=created;category=log.service');
SELECT governance.place_hold('rst.token', 'dave', 'audit') AS token_hold \gset
INSERT INTO rst.employee VALUES (3, 'dave', 'ops');
-- nothing half done: the employee row of dave stays too
SELECT * FROM governance.erase_subject('dave');
SELECT count(*) AS dave_rows FROM rst.employee WHERE email = 'dave';

-- ============================================================ a second erasure after the hold
SELECT governance.release_hold(:hold);
-- the compliance report says the erasure waits to be finished
SELECT status, detail FROM governance.compliance_report() WHERE "check" = 'erasures to finish';
-- released, still blocked until it is erased: GV006
SET ROLE rst_admin;
DELETE FROM rst.employee WHERE emp_id = 1;
RESET ROLE;
SET ROLE rst_app;
SELECT * FROM rst.employee ORDER BY emp_id;
RESET ROLE;
SELECT * FROM governance.erase_subject('alice@example.cn') ORDER BY 1, 2;
SELECT key, reason FROM governance.restricted_rows ORDER BY restriction, key;
SET ROLE rst_admin;
SELECT * FROM rst.employee ORDER BY emp_id;
RESET ROLE;
SELECT status, detail FROM governance.compliance_report() WHERE "check" = 'erasures to finish';

-- ============================================================ a retention run destroys a kept row
-- a row kept under a hold and destroyed by a retention run once the hold is
-- released (its maximum passed) leaves no key behind to hide a later row
SELECT governance.load_policy($y$
policy: {name: rst-policy, version: "1", title: restrict test, controller: test, home_jurisdiction: cn}
jurisdictions:
  - {name: cn, include: [CN], source: "test"}
rules:
  retention:
    - {id: rst.ops-delete, categories: [log.operation], anchor: created, maximum: P1D, action: delete,
       source: "test: delete a day after creation"}
$y$);
CREATE TABLE rst.ops (id int PRIMARY KEY, who text, what text, created timestamptz);
GRANT SELECT ON rst.ops TO rst_app;
SELECT governance.bind('rst.ops', 'rst-policy');
SELECT governance.tag('rst.ops', 'who', 'subject');
SELECT governance.tag('rst.ops', 'what', 'category=log.operation');
SELECT governance.tag('rst.ops', 'created', 'anchor=created');
INSERT INTO rst.ops VALUES (1, 'erin', 'login', now() - interval '2 days'), (2, 'fred', 'login', now());
SELECT governance.place_hold('rst.ops', 'erin', 'audit') AS ops_hold \gset
SELECT * FROM governance.erase_subject('erin') ORDER BY 1, 2;
SELECT count(*) AS ops_keys FROM governance.restricted_rows WHERE relid = 'rst.ops'::regclass;
SELECT governance.release_hold(:ops_hold);
CALL governance.run_retention('rst.ops', 100);
SELECT count(*) AS ops_rows FROM rst.ops;
SELECT count(*) AS ops_keys FROM governance.restricted_rows WHERE relid = 'rst.ops'::regclass;
-- a new row with the same key is not hidden
INSERT INTO rst.ops VALUES (1, 'gina', 'login', now());
SET ROLE rst_app;
SELECT id, who FROM rst.ops ORDER BY id;
RESET ROLE;
-- the owner's own row security takes no part: with a policy of the owner's
-- on the table (one that hides every row from the owner), the run leaves
-- the keys alone, and the kept row stays hidden
ALTER TABLE rst.ops OWNER TO rst_owner;
INSERT INTO rst.ops VALUES (3, 'hank', 'login', now() - interval '2 days');
SELECT governance.place_hold('rst.ops', 'hank', 'audit') AS ops_hold2 \gset
SELECT * FROM governance.erase_subject('hank') ORDER BY 1, 2;
SELECT substring(pg_get_expr(polqual, polrelid) FROM '''(\d+)''::bigint') AS ops_rid
FROM pg_policy WHERE polname = 'governance_restricted' AND polrelid = 'rst.ops'::regclass \gset
SET ROLE rst_owner;
CREATE POLICY owner_blind ON rst.ops AS RESTRICTIVE TO rst_owner USING (false);
RESET ROLE;
CALL governance.run_retention('rst.ops', 100);
SELECT count(*) AS ops_keys FROM governance.restricted_rows WHERE relid = 'rst.ops'::regclass;
SET ROLE rst_owner;
DROP POLICY owner_blind ON rst.ops;
-- nor does a look-alike conjunct over another column under the same
-- restriction: the keys of a restriction named twice stay
SET check_function_bodies = off;
CREATE POLICY governance_restricted ON rst.ops AS RESTRICTIVE
    USING (NOT governance._restricted_match('rst.ops'::regclass, :'ops_rid'::pg_catalog.int8, ARRAY[CAST(who AS text)]));
RESET check_function_bodies;
RESET ROLE;
SELECT governance.release_hold(:ops_hold2);
CALL governance.run_retention('rst.ops', 100);
SELECT count(*) AS ops_keys FROM governance.restricted_rows WHERE relid = 'rst.ops'::regclass;
SET ROLE rst_app;
SELECT id, who FROM rst.ops ORDER BY id;
RESET ROLE;

-- a dropped table's keys are forgotten at the next erasure
SET pg_governance.allow_destructive_ddl = on;
DROP TABLE rst.visit2;
RESET pg_governance.allow_destructive_ddl;
SELECT count(*) AS visit2_keys FROM governance.restricted_rows WHERE key = '{150}';
SELECT count(*) FROM governance.erase_subject('nobody@example.cn');
SELECT count(*) AS visit2_keys FROM governance.restricted_rows WHERE key = '{150}';

SET pg_governance.allow_destructive_ddl = on;
DROP SCHEMA rst CASCADE;
RESET pg_governance.allow_destructive_ddl;
DROP OWNED BY rst_owner, rst_app, rst_admin;
DROP ROLE rst_owner, rst_app, rst_admin;
