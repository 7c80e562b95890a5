-- Labels: the closed grammar, every GV011 case, references, privileges,
-- wrappers, history, odd identifiers, rollback, and a second session.
SET search_path = public, governance;
\set VERBOSITY default
SELECT count(*) AS policies FROM (SELECT governance.load_bundled_policy(n) FROM governance.bundled_policies() n) s;

CREATE TABLE customers (
    id int PRIMARY KEY,
    name text,
    phone text,
    cvv text,
    region text,
    closed_at date,
    created timestamptz DEFAULT now(),
    n int
);

-- valid labels
SECURITY LABEL FOR governance ON TABLE customers IS 'policy=21vianet-online-2020';
SECURITY LABEL FOR governance ON COLUMN customers.name IS 'category=personal.name; subject';
SECURITY LABEL FOR governance ON COLUMN customers.phone IS ' category = personal.contact.phone , personal.contact ';
SECURITY LABEL FOR governance ON COLUMN customers.region IS 'region';
SECURITY LABEL FOR governance ON COLUMN customers.closed_at IS 'anchor=account_closed';
SECURITY LABEL FOR governance ON COLUMN customers.created IS 'anchor=created';
SECURITY LABEL FOR governance ON SCHEMA public IS 'policy=jinpai-mail';
SELECT relation, "column", categories, roles, policy FROM governance.tagged_columns
WHERE relation = 'customers'::regclass ORDER BY "column";

-- every malformed or misplaced label is GV011 with the exact problem
SECURITY LABEL FOR governance ON COLUMN customers.name IS '';
SECURITY LABEL FOR governance ON COLUMN customers.name IS 'category=personal.name;;subject';
SECURITY LABEL FOR governance ON COLUMN customers.name IS 'categories=personal.name';
SECURITY LABEL FOR governance ON COLUMN customers.name IS 'category=';
SECURITY LABEL FOR governance ON COLUMN customers.name IS 'category=Personal.Name';
SECURITY LABEL FOR governance ON COLUMN customers.name IS 'category=personal..name';
SECURITY LABEL FOR governance ON COLUMN customers.name IS 'category=personal.nickname';
SECURITY LABEL FOR governance ON COLUMN customers.name IS 'category=personal.name;category=personal';
SECURITY LABEL FOR governance ON COLUMN customers.name IS 'subject=yes';
SECURITY LABEL FOR governance ON COLUMN customers.name IS 'subject;subject';
SECURITY LABEL FOR governance ON COLUMN customers.closed_at IS 'anchor=birthday';
SECURITY LABEL FOR governance ON COLUMN customers.name IS 'anchor=created';
SECURITY LABEL FOR governance ON COLUMN customers.n IS 'region';
SECURITY LABEL FOR governance ON COLUMN customers.region IS 'region=CN';
SECURITY LABEL FOR governance ON COLUMN customers.name IS 'policy=jinpai-mail';
SECURITY LABEL FOR governance ON COLUMN customers.name IS 'category=personal.name; drop table customers';
SECURITY LABEL FOR governance ON TABLE customers IS 'category=personal';
SECURITY LABEL FOR governance ON TABLE customers IS 'policy=no-such-policy';
SECURITY LABEL FOR governance ON TABLE customers IS 'policy=jinpai-mail;policy=ctyun-huiju-2024';
SECURITY LABEL FOR governance ON TABLE customers IS 'region=CN';
SECURITY LABEL FOR governance ON SCHEMA public IS 'region=CN';
SECURITY LABEL FOR governance ON DATABASE template1 IS 'policy=jinpai-mail';
CREATE VIEW customers_v AS SELECT * FROM customers;
SECURITY LABEL FOR governance ON VIEW customers_v IS 'policy=jinpai-mail';
SECURITY LABEL FOR governance ON COLUMN customers_v.name IS 'category=personal.name';
CREATE SEQUENCE customers_seq;
SECURITY LABEL FOR governance ON SEQUENCE customers_seq IS 'policy=jinpai-mail';
SECURITY LABEL FOR governance ON ROLE governance_admin IS 'policy=jinpai-mail';
-- nothing invalid was stored
SELECT count(*) AS stored_labels FROM pg_seclabel WHERE provider = 'governance' AND objoid = 'customers'::regclass;

-- database and tablespace labels: policy and region, region only
SELECT governance.bind_database('ctyun-huiju-2024');
SELECT governance.set_database_region('cn-sh');
SELECT label FROM pg_shseclabel s JOIN pg_database d ON d.oid = s.objoid
WHERE s.provider = 'governance' AND d.datname = current_database();
SELECT governance.bind_database(NULL);
SELECT label FROM pg_shseclabel s JOIN pg_database d ON d.oid = s.objoid
WHERE s.provider = 'governance' AND d.datname = current_database();
SELECT governance.set_database_region('XX');
SELECT governance.set_region('pg_default', 'CN');
SELECT governance.set_region('pg_default', NULL);
SELECT governance.set_region('no_such_tablespace', 'CN');
SELECT governance.set_database_region(NULL);

-- binding: nearest of table, ancestors, schema, database
SELECT governance.bound_policy('customers');
SECURITY LABEL FOR governance ON TABLE customers IS NULL;
SELECT governance.bound_policy('customers');
SECURITY LABEL FOR governance ON SCHEMA public IS NULL;
SELECT governance.bound_policy('customers') IS NULL AS not_governed;
SELECT governance.bind('customers', '21vianet-online-2020');

-- references are not checked while check_function_bodies is off (pg_dump
-- scripts turn it off); in a database that has its policies loaded that is
-- all it relaxes: a label that does not resolve is refused all the same
SET check_function_bodies = off;
CREATE TABLE restored (id int, x text);
SECURITY LABEL FOR governance ON TABLE restored IS 'policy=not-loaded-yet';
SECURITY LABEL FOR governance ON COLUMN restored.x IS 'category=personal.name';
INSERT INTO restored VALUES (1, 'x');
RESET check_function_bodies;
SELECT count(*) AS tags_on_restored FROM governance.tagged_columns WHERE relation = 'restored'::regclass;
DROP TABLE restored;
-- a table whose labels stop resolving (its policy reloaded without a
-- category it defined) fails closed: writes and deletes refused with GV011
SELECT governance.load_policy($y$
policy: {name: test-closing, version: "1", title: t, controller: c, home_jurisdiction: cn}
categories:
  - {name: closing_data, description: d, source: "s"}
jurisdictions:
  - {name: cn, include: [CN], source: "s"}
rules: {}
$y$);
CREATE TABLE closing (id int, x text);
SELECT governance.bind('closing', 'test-closing');
SELECT governance.tag('closing', 'x', 'category=closing_data');
INSERT INTO closing VALUES (1, 'x');
SELECT governance.load_policy($y$
policy: {name: test-closing, version: "2", title: t, controller: c, home_jurisdiction: cn}
jurisdictions:
  - {name: cn, include: [CN], source: "s"}
rules: {}
$y$);
INSERT INTO closing VALUES (2, 'x');
DELETE FROM closing;
-- ... even with check_function_bodies off, in a database with policies
SET check_function_bodies = off;
INSERT INTO closing VALUES (3, 'x');
RESET check_function_bodies;
SELECT governance.untag('closing', 'x');
DROP TABLE closing;
SELECT governance.drop_policy('test-closing');

-- wrappers
SELECT governance.tag('customers', 'cvv', 'category=payment.security_code');
SELECT governance.tag('customers', 'no_such_column', 'category=personal.name');
SELECT governance.tag('customers', 'cvv', 'category=nope');
SELECT governance.untag('customers', 'cvv');
SELECT governance.tag('customers', 'cvv', 'category=payment.security_code');
SELECT governance.bind('customers', 'no-such-policy');
SELECT "column", categories, roles FROM governance.tagged_columns
WHERE relation = 'customers'::regclass ORDER BY "column";

-- the guard is attached by tagging, and removed with the last tag
SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = 'customers'::regclass AND contype = 'c';
SELECT regexp_replace(tgname, '_[0-9]+$', '') AS guard_trigger, tgisinternal FROM pg_trigger
WHERE tgrelid = 'customers'::regclass ORDER BY 1;
CREATE TABLE scratch (a int, b text);
SELECT governance.bind('scratch', 'jinpai-mail');
SELECT governance.tag('scratch', 'b', 'category=personal.name');
SELECT count(*) AS guard_objects FROM (SELECT oid FROM pg_constraint WHERE conrelid = 'scratch'::regclass
    UNION ALL SELECT oid FROM pg_trigger WHERE tgrelid = 'scratch'::regclass) g;
SELECT governance.untag('scratch', 'b');
SELECT count(*) AS guard_objects FROM (SELECT oid FROM pg_constraint WHERE conrelid = 'scratch'::regclass
    UNION ALL SELECT oid FROM pg_trigger WHERE tgrelid = 'scratch'::regclass) g;

-- a label change rolled back leaves nothing behind
BEGIN;
SELECT governance.tag('scratch', 'b', 'category=payment.security_code');
INSERT INTO scratch VALUES (1, 'x');
ROLLBACK;
INSERT INTO scratch VALUES (1, 'x');
SELECT count(*) AS labels FROM pg_seclabel WHERE objoid = 'scratch'::regclass AND objsubid > 0;

-- history of label changes
SELECT object, old_label, new_label, changed_by FROM governance.label_history
WHERE object LIKE '%scratch%' ORDER BY change_id;

-- odd identifiers are quoted everywhere
CREATE TABLE "we;ird ""t""" ("co;l ""x""" text, "Region" text, id int);
SELECT governance.bind('"we;ird ""t"""', 'jinpai-mail');
SELECT governance.tag('"we;ird ""t"""', 'co;l "x"', 'category=payment.security_code');
SELECT governance.tag('"we;ird ""t"""', 'Region', 'region');
SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = '"we;ird ""t"""'::regclass;
INSERT INTO "we;ird ""t""" ("Region", id) VALUES ('CN', 1);
INSERT INTO "we;ird ""t""" ("co;l ""x""", id) VALUES ('123', 2);
SELECT governance.tag('"we;ird ""t"""', 'id''; DROP TABLE customers; --', 'category=personal.name');
SELECT count(*) AS customers_still_there FROM customers;

-- privileges: labels need governance_admin; raw labels also need ownership
CREATE ROLE gv_owner LOGIN;
CREATE ROLE gv_admin LOGIN IN ROLE governance_admin;
CREATE TABLE owned (a int, b text);
ALTER TABLE owned OWNER TO gv_owner;
SET ROLE gv_owner;
SECURITY LABEL FOR governance ON COLUMN owned.b IS 'category=personal.name';
SELECT governance.tag('owned', 'b', 'category=personal.name');
RESET ROLE;
SET ROLE gv_admin;
SECURITY LABEL FOR governance ON COLUMN owned.b IS 'category=personal.name';
SELECT governance.tag('owned', 'b', 'category=personal.name');
SELECT governance.bind('owned', 'jinpai-mail');
RESET ROLE;
SELECT "column", categories, policy FROM governance.tagged_columns WHERE relation = 'owned'::regclass;
SELECT changed_by, new_label FROM governance.label_history WHERE object LIKE '%owned%' ORDER BY change_id;

-- a second session sees a new tag on its next statement
CREATE EXTENSION IF NOT EXISTS dblink;
CREATE TABLE shared_t (id int, cvv text);
SELECT governance.bind('shared_t', '21vianet-online-2020');
SELECT dblink_connect('other', format('host=%s port=%s dbname=%s user=%s',
    split_part(current_setting('unix_socket_directories'), ',', 1),
    current_setting('port'), current_database(), current_user));
SELECT dblink_exec('other', 'INSERT INTO shared_t VALUES (1, ''123'')');
-- a tag that existing rows violate is refused (the guard validates them)
SELECT governance.tag('shared_t', 'cvv', 'category=payment.security_code');
UPDATE shared_t SET cvv = NULL;
SELECT governance.tag('shared_t', 'cvv', 'category=payment.security_code');
SELECT dblink_exec('other', 'INSERT INTO shared_t VALUES (2, ''456'')');
SELECT dblink_exec('other', 'INSERT INTO shared_t VALUES (3, NULL)');
SELECT governance.untag('shared_t', 'cvv');
SELECT dblink_exec('other', 'INSERT INTO shared_t VALUES (4, ''789'')');
SELECT dblink_disconnect('other');
SELECT id, cvv FROM shared_t ORDER BY id;

DROP TABLE shared_t, owned, scratch, "we;ird ""t""", customers CASCADE;
DROP SEQUENCE customers_seq;
DROP ROLE gv_owner, gv_admin;
