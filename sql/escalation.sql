-- Privilege escalation and leaks through the extension's own code: an
-- ordinary role must not become superuser through the queries the guard
-- runs as the extension owner (search_path, SQL text read back from the
-- catalog), nor call internal functions, nor learn retained data.
SET search_path = public, governance;
\set VERBOSITY default
SELECT count(*) AS policies FROM (SELECT governance.load_bundled_policy(n) FROM governance.bundled_policies() n) s;
SELECT governance.set_database_region('CN');

CREATE ROLE mallory;
CREATE SCHEMA mallory AUTHORIZATION mallory;
GRANT CREATE ON SCHEMA public TO mallory;

-- ------------------------------------------------- 1. through search_path
-- mallory's own "=" for text, and own versions of the functions the
-- extension's queries call, each trying to make mallory superuser
SET ROLE mallory;
CREATE FUNCTION mallory.evil_eq(text, text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    BEGIN ALTER ROLE mallory SUPERUSER; EXCEPTION WHEN OTHERS THEN NULL; END;
    RETURN $1 OPERATOR(pg_catalog.=) $2;
END $$;
CREATE OPERATOR mallory.= (LEFTARG = text, RIGHTARG = text, PROCEDURE = mallory.evil_eq);
CREATE FUNCTION mallory.pg_get_constraintdef(oid) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    BEGIN ALTER ROLE mallory SUPERUSER; EXCEPTION WHEN OTHERS THEN NULL; END;
    RETURN 'CHECK (id > 0); ALTER ROLE mallory SUPERUSER';
END $$;
CREATE FUNCTION mallory.quote_ident(text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    BEGIN ALTER ROLE mallory SUPERUSER; EXCEPTION WHEN OTHERS THEN NULL; END;
    RETURN pg_catalog.quote_ident($1);
END $$;
CREATE TABLE mallory_notes (id int, phone text, created timestamptz);
RESET ROLE;

-- a governed table mallory owns; its rules are compiled in mallory's
-- session, with mallory's search_path, after every change
SELECT governance.bind('mallory_notes', 'jinpai-mail');
SELECT governance.tag('mallory_notes', 'phone', 'category=log.service');
SELECT governance.tag('mallory_notes', 'created', 'anchor=created');
SET ROLE mallory;
SET search_path = mallory, pg_catalog, public;
INSERT INTO mallory_notes VALUES (1, '13800000000', '2099-01-01');
DELETE FROM mallory_notes;
TRUNCATE mallory_notes;
-- the guard function called directly, on mallory's table and on one
-- mallory may not write
SELECT governance._guard_row('public.mallory_notes'::regclass);
RESET ROLE;
SET search_path = public, governance;
CREATE TABLE secret (id int, phone text);
SELECT governance.bind('secret', 'jinpai-mail');
SELECT governance.tag('secret', 'phone', 'category=personal.contact.phone');
SET ROLE mallory;
SET search_path = mallory, pg_catalog, public;
SELECT governance._guard_row('public.secret'::regclass);
SELECT governance._guard_row('public.secret'::regclass, 'x'::text);
RESET ROLE;
RESET search_path;
SET search_path = public, governance;
SELECT rolsuper AS mallory_is_superuser FROM pg_roles WHERE rolname = 'mallory';

-- ---------------------------------------- 2. through ATTACH PARTITION text
-- a partitioned table with a constraint named like a guard, and mallory's
-- pg_get_constraintdef first on the search_path
SET ROLE mallory;
SET search_path = mallory, pg_catalog, public;
CREATE TABLE public.mparent (id int) PARTITION BY RANGE (id);
ALTER TABLE public.mparent ADD CONSTRAINT gv_guard_x CHECK (id > 0);
CREATE TABLE public.mchild (id int);
ALTER TABLE public.mparent ATTACH PARTITION public.mchild FOR VALUES FROM (0) TO (10);
RESET ROLE;
RESET search_path;
SET search_path = public, governance;
SELECT rolsuper AS mallory_is_superuser FROM pg_roles WHERE rolname = 'mallory';
-- the look-alike constraint was not copied as text: the child got PostgreSQL's own copy
SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = 'mchild'::regclass;

-- ------------------------- 2b. through the owner's code in the table itself
-- an IMMUTABLE function in a partial index predicate runs whenever a query
-- on the table is planned: the guard never plans SQL on a user's table
SET ROLE mallory;
CREATE FUNCTION mallory.evil_pred() RETURNS boolean LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    BEGIN ALTER ROLE mallory SUPERUSER; EXCEPTION WHEN OTHERS THEN NULL; END;
    RETURN true;
END $$;
INSERT INTO public.mallory_notes VALUES (2, 'x', '2099-01-01');
CREATE INDEX ON public.mallory_notes (id) WHERE mallory.evil_pred();
TRUNCATE public.mallory_notes;
DROP TABLE public.mallory_notes;
ALTER TABLE public.mallory_notes DROP COLUMN phone;
RESET ROLE;
SELECT rolsuper AS mallory_is_superuser FROM pg_roles WHERE rolname = 'mallory';

-- ------------------------------------ 2c. the guard called with other data
-- a direct call with another table's columns (of other types) is refused,
-- not read as the guarded columns' types
RESET search_path;
SET search_path = public, governance;
CREATE TABLE contacts (id int, phone text, stored_in varchar(8));
SELECT governance.bind('contacts', 'ctyun-huiju-2024');
SELECT governance.tag('contacts', 'phone', 'category=personal.contact.phone');
SELECT governance.tag('contacts', 'stored_in', 'region');
GRANT INSERT ON contacts TO mallory;
SET ROLE mallory;
CREATE TABLE mallory.mine (a int, b int, c bigint);
INSERT INTO mallory.mine VALUES (1, 2, 12345678);
SELECT governance._guard_row('public.contacts'::regclass, m.a, m.c) FROM mallory.mine m;
SELECT governance._guard_row('public.contacts'::regclass, 'x'::text, 'CN'::varchar);
RESET ROLE;
DROP TABLE contacts;

-- ---------------------------------------------- 3. internal functions
-- nothing of the extension's internals is executable by PUBLIC but the
-- guard's CHECK function (a CHECK runs with the writer's rights) and what
-- the row security policies of blocking tables call (cutoffs, _sees_blocked,
-- _restricted_keys: a policy runs with the reader's rights)
CREATE ROLE gv_nobody;
SELECT p.oid::regprocedure AS executable_by_anyone
FROM pg_proc p
WHERE p.pronamespace = 'governance'::regnamespace AND p.proname LIKE '\_%'
  AND has_function_privilege('gv_nobody', p.oid, 'EXECUTE')
ORDER BY 1;
SET ROLE gv_nobody;
SELECT governance._sync_guards('secret'::regclass, NULL);
SELECT governance._load();
SELECT governance._is_admin();
SELECT governance._replace_item('a=b', 'a', 'c');
SELECT governance._invalidate_relation('secret'::regclass);
RESET ROLE;

-- ------------------------------------ 4. errors reveal nothing to others
-- a role that may not read a table with retained rows learns nothing of
-- them by trying to drop or truncate it: PostgreSQL refuses first
CREATE TABLE esc_log (id int, account text, line text, created timestamptz);
SELECT governance.bind('esc_log', 'jinpai-mail');
SELECT governance.tag('esc_log', 'line', 'category=log.service');
SELECT governance.tag('esc_log', 'created', 'anchor=created');
INSERT INTO esc_log VALUES (1, 'alice', 'login', '2031-09-04 05:06:07+00');
SET ROLE gv_nobody;
DROP TABLE esc_log;
TRUNCATE esc_log;
ALTER TABLE esc_log DROP COLUMN line;
ALTER TABLE esc_log ALTER COLUMN created TYPE text;
RESET ROLE;
-- may delete and truncate, but not read: told which rule keeps the row, not
-- its anchor date or its subject
GRANT DELETE, TRUNCATE ON esc_log TO gv_nobody;
SELECT governance.tag('esc_log', 'account', 'subject');
SELECT governance.place_hold('esc_log', 'alice', 'case 7') IS NOT NULL AS held;
SET ROLE gv_nobody;
DELETE FROM esc_log;
TRUNCATE esc_log;
RESET ROLE;
SELECT governance.release_hold(hold_id) FROM governance.holds WHERE relation = 'esc_log'::regclass;
SET ROLE gv_nobody;
DELETE FROM esc_log;
RESET ROLE;
REVOKE ALL ON esc_log FROM gv_nobody;

SET pg_governance.allow_destructive_ddl = on;
DROP TABLE esc_log, secret, mallory_notes, mparent;
RESET pg_governance.allow_destructive_ddl;
DROP SCHEMA mallory CASCADE;
REVOKE CREATE ON SCHEMA public FROM mallory;
DROP ROLE mallory, gv_nobody;
