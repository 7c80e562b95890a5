-- The guard: never-store, localization, minimum retention, legal holds,
-- destructive DDL, partitions, renames, and tamper resistance.
SET search_path = public, governance;
\set VERBOSITY default
SELECT count(*) AS policies FROM (SELECT governance.load_bundled_policy(n) FROM governance.bundled_policies() n) s;
-- where this database stores its data (a row without a region of its own is there)
SELECT governance.set_database_region('CN');

-- ------------------------------------------------------------- never store
CREATE TABLE payments (id int PRIMARY KEY, customer text, card text, cvv text,
                       region governance.region, note text);
SELECT governance.bind('payments', '21vianet-online-2020');
SELECT governance.tag('payments', 'cvv', 'category=payment.security_code');
SELECT governance.tag('payments', 'customer', 'category=personal.name;subject');
SELECT governance.tag('payments', 'region', 'region');
INSERT INTO payments VALUES (1, 'alice', '4111', NULL, 'CN-SH', 'ok');
INSERT INTO payments VALUES (2, 'bob', '4111', '123', 'CN', 'refused');
INSERT INTO payments VALUES (3, 'carol', NULL, NULL, 'CN', 'multi'), (4, 'dave', NULL, '999', 'CN', 'multi');
UPDATE payments SET cvv = '321' WHERE id = 1;
INSERT INTO payments VALUES (1, 'alice', NULL, NULL, 'CN', 'upsert')
    ON CONFLICT (id) DO UPDATE SET cvv = '555';
INSERT INTO payments VALUES (1, 'alice', NULL, NULL, 'CN', 'upsert')
    ON CONFLICT (id) DO UPDATE SET note = 'upserted';
COPY payments FROM STDIN;
5	erin	4111	\N	CN-BJ	copied
6	frank	4111	\N	CN	copied
\.
COPY payments FROM STDIN;
7	gina	4111	777	CN	copied
\.
SELECT id, customer, cvv, region, note FROM payments ORDER BY id;
-- the error class is catchable as GV000
DO $$ BEGIN INSERT INTO payments VALUES (9, 'x', NULL, '1', 'CN', 'x');
EXCEPTION WHEN SQLSTATE 'GV000' THEN RAISE NOTICE 'caught %', SQLSTATE; END $$;

-- ------------------------------------------------------------ localization
INSERT INTO payments VALUES (10, 'hk', NULL, NULL, 'HK', 'refused');
INSERT INTO payments VALUES (11, 'mo', NULL, NULL, 'CN-MO', 'refused');
INSERT INTO payments VALUES (12, 'tw', NULL, NULL, 'TW', 'refused');
INSERT INTO payments VALUES (13, 'us', NULL, NULL, 'US-CA', 'refused');
UPDATE payments SET region = 'HK' WHERE id = 5;
-- text region columns work too; an invalid region is 22P02
CREATE TABLE contacts (id int, phone text, stored_in varchar(8));
SELECT governance.bind('contacts', 'ctyun-huiju-2024');
SELECT governance.tag('contacts', 'phone', 'category=personal.contact.phone');
SELECT governance.tag('contacts', 'stored_in', 'region');
INSERT INTO contacts VALUES (1, '13800000000', 'cn-gd');
INSERT INTO contacts VALUES (2, '13800000000', 'hk');
INSERT INTO contacts VALUES (3, '13800000000', 'XX');
INSERT INTO contacts VALUES (4, '13800000000', NULL);
-- a value already found inside the jurisdiction is remembered for the rest of
-- the statement: a bad value late in a long statement is still refused, past
-- more distinct values than the memo holds, padded or not
INSERT INTO contacts SELECT g, NULL, r
  FROM unnest(ARRAY['CN','CN-SH','cn-sh','CN-BJ','CN-GD','CN-ZJ','CN-JS','CN-SC','CN-HB','CN-HN','CN','CN-SH','CN-TW']) WITH ORDINALITY AS u(r, g);
INSERT INTO contacts SELECT g, NULL, CASE WHEN g = 500 THEN 'MO' ELSE 'CN' END FROM generate_series(100, 600) g;
INSERT INTO contacts VALUES (5, NULL, 'CN-SHAN');
CREATE TABLE padded (id int, r char(6), phone text);
SELECT governance.bind('padded', 'ctyun-huiju-2024');
SELECT governance.tag('padded', 'r', 'region');
SELECT governance.tag('padded', 'phone', 'category=personal.contact.phone');
INSERT INTO padded VALUES (1, 'CN'), (2, 'cn-sh'), (3, 'CN');
INSERT INTO padded VALUES (4, 'CN'), (5, 'HK    ');
SELECT id, r, length(r) FROM padded ORDER BY id;
DROP TABLE padded;
-- without a region column: the tablespace's region, else the database's
CREATE TABLE profiles (id int, email text);
SELECT governance.bind('profiles', 'ctyun-huiju-2024');
SELECT governance.tag('profiles', 'email', 'category=personal.contact.email');
INSERT INTO profiles VALUES (1, 'a@example.cn');
-- the database's region cannot change while rows that rely on it would
-- then break the policy (contacts has a row with a NULL region)
SELECT governance.set_database_region(NULL);
SELECT governance.set_database_region('HK');
DELETE FROM contacts WHERE stored_in IS NULL;
DELETE FROM profiles;
-- no region known at all: refused (fail closed), rows with a NULL region too
SELECT governance.set_database_region(NULL);
INSERT INTO profiles VALUES (1, 'a@example.cn');
INSERT INTO contacts VALUES (6, '13800000000', NULL);
SELECT governance.set_database_region('HK');
INSERT INTO profiles VALUES (2, 'b@example.cn');
INSERT INTO contacts VALUES (6, '13800000000', NULL);
SELECT governance.set_database_region('CN');
INSERT INTO profiles VALUES (3, 'c@example.cn');
SET allow_in_place_tablespaces = on;
CREATE TABLESPACE gv_hk LOCATION '';
CREATE TABLESPACE gv_sh LOCATION '';
RESET allow_in_place_tablespaces;
SELECT governance.set_region('gv_hk', 'HK');
SELECT governance.set_region('gv_sh', 'CN-SH');
ALTER TABLE profiles SET TABLESPACE gv_hk;
ALTER TABLE profiles SET TABLESPACE gv_sh;
SELECT spcname FROM pg_tablespace t JOIN pg_class c ON c.reltablespace = t.oid WHERE c.oid = 'profiles'::regclass;
ALTER TABLE profiles SET TABLESPACE pg_default;
SELECT governance.set_database_region('CN');

-- -------------------------------------------------------- minimum retention
-- jinpai-mail keeps logs at least six months from their creation
CREATE TABLE mail_log (id int, account text, line text, created timestamptz);
SELECT governance.bind('mail_log', 'jinpai-mail');
SELECT governance.tag('mail_log', 'line', 'category=log.service');
SELECT governance.tag('mail_log', 'account', 'subject');
SELECT governance.tag('mail_log', 'created', 'anchor=created');
-- the CHECK reads only category and region columns; anchors and subjects
-- matter to the DELETE and UPDATE triggers alone
SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = 'mail_log'::regclass AND contype = 'c';
CREATE TABLE subjects_only (who text, since date);
SELECT governance.bind('subjects_only', 'jinpai-mail');
SELECT governance.tag('subjects_only', 'who', 'subject');
SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = 'subjects_only'::regclass AND contype = 'c';
INSERT INTO subjects_only VALUES ('alice', NULL);
SELECT governance.tag('subjects_only', 'since', 'anchor=created');
SELECT governance.tag('subjects_only', 'who', 'subject;category=personal.name');
SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = 'subjects_only'::regclass AND contype = 'c';
DROP TABLE subjects_only;
-- anchors are fixed dates so that the output does not depend on today
INSERT INTO mail_log VALUES (1, 'alice', 'login', '2099-01-01 00:00+00'),
                            (2, 'bob', 'login', '2001-01-01 00:00+00'),
                            (3, 'carol', 'login', NULL);
DELETE FROM mail_log WHERE id = 1;
-- past its minimum the row is blocked (log_retention unset): only a retention run acts on it (GV006)
DELETE FROM mail_log WHERE id = 2;
DELETE FROM mail_log WHERE id = 3;
INSERT INTO mail_log VALUES (3, 'carol', 'login', '2098-12-30 00:00+00');
UPDATE mail_log SET line = 'edited' WHERE id = 1;
UPDATE mail_log SET line = NULL WHERE id = 1;
UPDATE mail_log SET created = created - interval '1 year' WHERE id = 1;
UPDATE mail_log SET created = created + interval '1 hour' WHERE id = 1;
TRUNCATE mail_log;
ALTER TABLE mail_log DROP COLUMN line;
ALTER TABLE mail_log ADD COLUMN spare int;
ALTER TABLE mail_log DROP COLUMN spare;
DROP TABLE mail_log;
-- a minimum left to the law blocks deletion until the DBA sets it
CREATE TABLE admins (id int, name text, closed date);
SELECT governance.bind('admins', '21vianet-online-2018');
SELECT rule_id, categories, parameters ->> 'anchor' AS anchor, parameters -> 'minimum' AS minimum
FROM governance.rules WHERE policy = '21vianet-online-2018' AND rule_id = 'ret.after-close';
SELECT governance.tag('admins', 'name', 'category=administrator_data');
SELECT governance.tag('admins', 'closed', 'anchor=account_closed');
INSERT INTO admins VALUES (1, 'root', current_date - 400), (2, 'ops', NULL);
DELETE FROM admins WHERE id = 1;
DELETE FROM admins WHERE id = 2;
SELECT governance.set_parameter('21vianet-online-2018', 'after_account_closed', 'P1Y');
-- closed accounts are blocked at once (ret.after-close.block): only a retention run deletes them (GV006)
DELETE FROM admins WHERE id = 1;
SELECT governance.set_parameter('21vianet-online-2018', 'after_account_closed', NULL);
-- the superuser-only escape hatch
SET pg_governance.allow_destructive_ddl = on;
INSERT INTO admins VALUES (3, 'x', current_date);
TRUNCATE admins;
RESET pg_governance.allow_destructive_ddl;
DROP TABLE admins;

-- --------------------------------------------------------------- legal holds
CREATE TABLE tickets (id int, customer text, body text, opened timestamptz);
SELECT governance.bind('tickets', 'jinpai-mail');
SELECT governance.tag('tickets', 'customer', 'subject;category=personal.name');
SELECT governance.tag('tickets', 'body', 'category=content.email');
SELECT governance.tag('tickets', 'opened', 'anchor=created');
INSERT INTO tickets VALUES (1, 'alice', 'hello', now() - interval '5 years'),
                           (2, 'bob', 'hi', now() - interval '5 years');
SELECT governance.place_hold('tickets', 'alice', 'case 2026-17') AS hold_id \gset
SELECT relation, subject, reason, released_at IS NULL AS active FROM governance.holds;
DELETE FROM tickets WHERE id = 1;
UPDATE tickets SET body = NULL WHERE id = 1;
UPDATE tickets SET body = 'hello again' WHERE id = 1;
DELETE FROM tickets WHERE id = 2;
TRUNCATE tickets;
SELECT governance.place_hold('tickets', 'alice', '');
SELECT governance.release_hold(:hold_id);
SELECT governance.release_hold(:hold_id);
DELETE FROM tickets WHERE id = 1;

-- ---------------------------------------------------------------- partitions
CREATE TABLE events (id int, who text, phone text, day date) PARTITION BY RANGE (day);
CREATE TABLE events_2025 PARTITION OF events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
SELECT governance.bind('events', 'ctyun-huiju-2024');
SELECT governance.tag('events', 'phone', 'category=personal.contact.phone');
SELECT governance.tag('events', 'who', 'region');
CREATE TABLE events_2026 PARTITION OF events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
CREATE TABLE events_2027 (id int, who text, phone text, day date);
ALTER TABLE events ATTACH PARTITION events_2027 FOR VALUES FROM ('2027-01-01') TO ('2028-01-01');
SELECT c.relname, count(DISTINCT con.conname) AS guard_constraints,
       count(DISTINCT t.tgname) AS guard_triggers
FROM pg_class c LEFT JOIN pg_constraint con ON con.conrelid = c.oid AND con.conname LIKE 'gv_guard%'
LEFT JOIN pg_trigger t ON t.tgrelid = c.oid AND t.tgname LIKE 'governance_guard%'
WHERE c.relname LIKE 'events%' GROUP BY c.relname ORDER BY c.relname;
INSERT INTO events VALUES (1, 'CN', '138', '2025-05-01'), (2, 'CN-SH', '139', '2026-05-01'),
                          (3, 'CN', '137', '2027-05-01');
INSERT INTO events VALUES (4, 'HK', '138', '2026-06-01');
INSERT INTO events_2027 VALUES (5, 'TW', '138', '2027-06-01');
COPY events FROM STDIN;
6	CN	136	2025-07-01
7	HK	136	2026-07-01
\.
-- a partition's own tag adds to its parent's
SELECT governance.tag('events_2026', 'day', 'anchor=created');
SELECT "column", categories, roles FROM governance.tagged_columns WHERE relation = 'events_2026'::regclass;
-- DETACH copies the effective labels onto the detached table
ALTER TABLE events DETACH PARTITION events_2025;
SELECT "column", categories, roles, policy FROM governance.tagged_columns
WHERE relation = 'events_2025'::regclass ORDER BY "column";
INSERT INTO events_2025 VALUES (8, 'HK', '138', '2025-08-01');
-- and its guard is its own: the parent's constraint, renamed (same check,
-- not validated again); one with a guard of its own keeps one guard
SELECT conrelid::regclass, conname, pg_get_constraintdef(oid) FROM pg_constraint
WHERE conrelid IN ('events_2025'::regclass, 'events_2026'::regclass) AND conname LIKE 'gv_guard%'
ORDER BY 1, 2;
ALTER TABLE events DETACH PARTITION events_2026;
SELECT conrelid::regclass, conname, pg_get_constraintdef(oid) FROM pg_constraint
WHERE conrelid IN ('events_2025'::regclass, 'events_2026'::regclass) AND conname LIKE 'gv_guard%'
ORDER BY 1, 2;
INSERT INTO events_2026 VALUES (9, 'MO', '138', '2026-08-01');

-- ------------------------------------------------------------------- renames
ALTER TABLE payments RENAME COLUMN cvv TO card_code;
ALTER TABLE payments RENAME TO payments_renamed;
INSERT INTO payments_renamed VALUES (20, 'zoe', NULL, '123', 'CN', 'after rename');
INSERT INTO payments_renamed VALUES (21, 'zoe', NULL, NULL, 'HK', 'after rename');
ALTER TABLE payments_renamed RENAME TO payments;
ALTER TABLE payments RENAME COLUMN card_code TO cvv;
-- dropping an untagged column is fine; dropping a tagged one re-shapes the guard
ALTER TABLE payments DROP COLUMN note;
ALTER TABLE payments DROP COLUMN cvv;
SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = 'payments'::regclass AND contype = 'c';

-- ------------------------------------------------------- tamper resistance
CREATE ROLE gv_table_owner;
CREATE TABLE owned_log (id int, line text, created timestamptz DEFAULT now());
SELECT governance.bind('owned_log', 'jinpai-mail');
SELECT governance.tag('owned_log', 'line', 'category=log.security');
SELECT governance.tag('owned_log', 'created', 'anchor=created');
ALTER TABLE owned_log OWNER TO gv_table_owner;
INSERT INTO owned_log (id, line, created) VALUES (1, 'x', '2099-01-01 00:00+00');
SET ROLE gv_table_owner;
ALTER TABLE owned_log DROP CONSTRAINT gv_guard_owned_log;
SELECT count(*) AS guard_constraint_still_there FROM pg_constraint WHERE conrelid = 'owned_log'::regclass;
-- (trigger names end in an OID: the messages are shown without it)
DO $$ BEGIN
    ALTER TABLE owned_log DISABLE TRIGGER ALL;
EXCEPTION WHEN OTHERS THEN
    RAISE NOTICE '% %', SQLSTATE, regexp_replace(SQLERRM, '_[0-9]+', '_<oid>');
END $$;
-- a guard trigger dropped, under its own name or another, comes back at the
-- end of the command: only untagging removes it
DO $$ BEGIN
    EXECUTE format('DROP TRIGGER %I ON owned_log',
                   (SELECT tgname FROM pg_trigger WHERE tgrelid = 'owned_log'::regclass
                    AND tgname LIKE 'governance_guard_delete%'));
END $$;
DELETE FROM owned_log;
RESET ROLE;
DO $$ BEGIN
    EXECUTE format('ALTER TRIGGER %I ON owned_log RENAME TO renamed_guard',
                   (SELECT tgname FROM pg_trigger WHERE tgrelid = 'owned_log'::regclass
                    AND tgname LIKE 'governance_guard_delete%'));
END $$;
DROP TRIGGER renamed_guard ON owned_log;
SET ROLE gv_table_owner;
DELETE FROM owned_log;
RESET ROLE;
SELECT count(*) AS guard_triggers FROM pg_trigger WHERE tgrelid = 'owned_log'::regclass;

-- dropping a table leaves no guard or hold behind
SELECT governance.place_hold('tickets', 'bob', 'test') IS NOT NULL AS held;
SET pg_governance.allow_destructive_ddl = on;
DROP TABLE events, events_2025, events_2026, owned_log, tickets, profiles, contacts, payments;
RESET pg_governance.allow_destructive_ddl;
SELECT count(*) AS holds_left FROM governance.hold;
DROP TABLESPACE gv_hk;
DROP TABLESPACE gv_sh;
DROP ROLE gv_table_owner;

-- ------------------------------------------- region memo and policy changes
-- accepted region values are remembered per table; a policy change empties
-- that memory, so a value accepted before is checked again
CREATE TABLE memo_t (id int, phone text, r text);
SELECT governance.bind('memo_t', 'jinpai-mail');
SELECT governance.tag('memo_t', 'phone', 'category=personal.contact.phone');
SELECT governance.tag('memo_t', 'r', 'region');
INSERT INTO memo_t VALUES (1, 'x', 'CN-SH');
INSERT INTO memo_t VALUES (2, 'x', 'CN-SH');
SELECT governance.load_policy(replace(pg_read_file(s.setting || '/extension/pg_governance/jinpai-mail.yaml'),
                                      'include: [CN]', 'include: [CN-BJ]')) IS NOT NULL AS reloaded
FROM pg_config s WHERE s.name = 'SHAREDIR';
INSERT INTO memo_t VALUES (3, 'x', 'CN-SH');
INSERT INTO memo_t VALUES (4, 'x', 'CN-BJ');
SELECT governance.load_bundled_policy('jinpai-mail') IS NOT NULL AS restored;
INSERT INTO memo_t VALUES (5, 'x', 'CN-SH');
SELECT id, r FROM memo_t ORDER BY id;
DROP TABLE memo_t;
