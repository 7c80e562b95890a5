SELECT governance.set_database_region('CN');
-- Reports: governance.explain(rel) and governance.compliance_report().
-- The report covers the whole database, so this test runs in a database of
-- its own (created and dropped here): what it prints does not depend on the
-- tables other tests leave behind.  Nothing printed depends on the time or
-- on OIDs.
\set VERBOSITY default
SELECT current_database() AS regress_db \gset
CREATE DATABASE reports_db;
\c reports_db
SET client_min_messages = warning;
CREATE EXTENSION pg_governance;
RESET client_min_messages;
SELECT governance.set_database_region('CN');

-- ------------------------------------------------------------ an empty database
-- every check has its line; nothing to find
SELECT * FROM governance.compliance_report()
WHERE "check" NOT IN ('untagged suspects', 'requests overdue');
-- checks that depend on parts installed separately report ok or skipped, never fail
SELECT "check", status IN ('ok', 'skipped') AS fine FROM governance.compliance_report()
WHERE "check" IN ('untagged suspects', 'requests overdue');

-- an untagged table, no policy anywhere
CREATE TABLE plain (id int, note text);
SELECT * FROM governance.explain('plain');

-- ------------------------------------------------------------ policies
SELECT governance.load_bundled_policy(p)
FROM unnest(ARRAY['21vianet-online-2020', 'ctyun-huiju-2024', 'jinpai-mail']) p;

-- ------------------------------------------------------------ bound at table level
-- administrator_data implies personal and its contact categories (21Vianet):
-- the rules on personal cover it; a never_store column; a subject and an anchor
CREATE TABLE admins (
    id         int PRIMARY KEY,
    email      text,
    closed_at  timestamptz,
    cvv        text
);
SELECT governance.bind('admins', '21vianet-online-2020');
SELECT governance.tag('admins', 'id', 'subject');
SELECT governance.tag('admins', 'email', 'category=administrator_data');
SELECT governance.tag('admins', 'closed_at', 'anchor=account_closed');
SELECT governance.tag('admins', 'cvv', 'category=payment.security_code');
SELECT * FROM governance.explain('admins');

-- ------------------------------------------------------------ bound at schema level
CREATE SCHEMA mail;
SECURITY LABEL FOR governance ON SCHEMA mail IS 'policy=jinpai-mail';
CREATE TABLE mail.users (uid int, phone text, left_at date);
SELECT governance.tag('mail.users', 'uid', 'subject');
SELECT governance.tag('mail.users', 'phone', 'category=personal.contact.phone');
SELECT governance.tag('mail.users', 'left_at', 'anchor=left_organization');
SELECT "column", category, rule_kind, rule_id, effect FROM governance.explain('mail.users')
WHERE rule_kind NOT IN ('sharing') OR "column" IS NOT NULL;
-- personal data with no subject column and no foreign key to one
CREATE TABLE mail.notes (signature text);
SELECT governance.tag('mail.notes', 'signature', 'category=personal.name');

-- no subject column either, but a foreign key to a table that has one: reachable
CREATE TABLE admin_notes (admin_id int REFERENCES admins, note text);
SELECT governance.bind('admin_notes', '21vianet-online-2020');
SELECT governance.tag('admin_notes', 'note', 'category=personal.name');

-- ------------------------------------------------------------ tagged, not governed
CREATE TABLE devices (owner int, mac text);
SELECT governance.tag('devices', 'mac', 'category=device.mac_address');
SELECT * FROM governance.explain('devices');

-- ------------------------------------------------------------ a partition
-- labels and binding come from the parent; the partition is explained with them
CREATE TABLE events (uid int, at timestamptz NOT NULL, ip text) PARTITION BY RANGE (at);
CREATE TABLE events_2026 PARTITION OF events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
SELECT governance.bind('events', 'jinpai-mail');
SELECT governance.tag('events', 'uid', 'subject');
SELECT governance.tag('events', 'at', 'anchor=created');
SELECT governance.tag('events', 'ip', 'category=log.network');
SELECT "column", category, rule_kind, rule_id, effect FROM governance.explain('events_2026')
WHERE rule_kind <> 'sharing';
-- the partition and its parent say the same, but for where the binding comes from
SELECT (SELECT array_agg(e ORDER BY e::text) FROM governance.explain('events') e WHERE e.rule_kind <> 'binding')
     = (SELECT array_agg(e ORDER BY e::text) FROM governance.explain('events_2026') e WHERE e.rule_kind <> 'binding')
       AS same_rules;
CREATE INDEX ON events (uid);

-- ------------------------------------------------------------ a legal hold
SELECT governance.place_hold('admins', '7', 'case 2026-42') > 0 AS placed;
SELECT rule_kind, effect FROM governance.explain('admins') WHERE rule_kind = 'hold';

-- ------------------------------------------------------------ the report, with findings
-- no region anywhere: localization rules cannot be met (tables are empty)
SELECT governance.set_database_region(NULL);
SELECT * FROM governance.compliance_report() WHERE "check" = 'missing region';
SELECT governance.set_database_region('CN');

-- rows past a maximum that deletes: a run is due
SELECT governance.set_parameter('jinpai-mail', 'after_left_organization', 'P30D');
INSERT INTO mail.users VALUES (1, '13800138000', current_date - 10), (2, '13900139000', current_date - 400);

-- a broken sharing-log chain, played by the superuser behind the extension's back
INSERT INTO governance.sharing_log (policy, recipient, categories, purpose, subject, rule_id, personal)
SELECT 'jinpai-mail', 'class:successor', '{personal.name}', 'merger_acquisition', 's-' || i, 'share.merger', true
FROM generate_series(1, 3) i;
SELECT * FROM governance.compliance_report() WHERE "check" = 'sharing log chain';
ALTER TABLE governance.sharing_log DISABLE TRIGGER sharing_log_append_only;
UPDATE governance.sharing_log SET purpose = 'marketing' WHERE id = 2;
ALTER TABLE governance.sharing_log ENABLE ALWAYS TRIGGER sharing_log_append_only;

SELECT * FROM governance.compliance_report()
WHERE "check" NOT IN ('untagged suspects', 'requests overdue');

-- binding the database governs the tagged table; its finding goes
SELECT governance.bind_database('ctyun-huiju-2024');
SELECT "column", category, rule_kind, rule_id, effect FROM governance.explain('devices')
WHERE rule_kind IN ('binding', 'category', 'localization') OR rule_id = 'share.sdk.baidu';
SELECT * FROM governance.compliance_report() WHERE "check" = 'tags without policy';

-- discovery and requests: an untagged column of mobile numbers, and a
-- request overdue since January
CREATE TABLE public.contacts_raw (id int, sjh text);
INSERT INTO public.contacts_raw SELECT i, '138' || lpad(i::text, 8, '0') FROM generate_series(1, 60) i;
INSERT INTO governance.request (subject, kind, policy, rule_id, deadline, days, opened_at, due_at)
VALUES ('s-1', 'export', 'jinpai-mail', 'dsr.response', 'P15D', 'calendar',
        '2026-01-05 10:00+08', '2026-01-20 23:59:59.999999+08');
SELECT "check", status, regexp_replace(regexp_replace(detail, 'request [0-9]+', 'request N', 'g'), 'close_request\([0-9]+\)', 'close_request(N)', 'g') AS detail
FROM governance.compliance_report() WHERE "check" IN ('untagged suspects', 'requests overdue');
-- a part that fails is reported as skipped, with the error; the report goes on
REVOKE EXECUTE ON FUNCTION governance.suggest_tags(name, integer) FROM governance_reader;
CREATE ROLE reports_probe IN ROLE governance_reader;
SET ROLE reports_probe;
SELECT "check", status FROM governance.compliance_report() WHERE "check" IN ('untagged suspects', 'sharing log chain');
RESET ROLE;
DROP ROLE reports_probe;
GRANT EXECUTE ON FUNCTION governance.suggest_tags(name, integer) TO governance_reader;
DELETE FROM governance.request;
SELECT setval('governance.request_id_seq', 1, false);
DROP TABLE public.contacts_raw;

-- ------------------------------------------------------------ privileges
CREATE ROLE reports_reader IN ROLE governance_reader;
CREATE ROLE reports_nobody;
GRANT USAGE ON SCHEMA mail TO reports_reader, reports_nobody;
SET ROLE reports_reader;
SELECT count(*) > 0 AS explains FROM governance.explain('admins');
SELECT count(*) AS report_lines FROM governance.compliance_report();
RESET ROLE;
SET ROLE reports_nobody;
SELECT * FROM governance.explain('admins');
SELECT * FROM governance.compliance_report();
SELECT * FROM governance._explain_compiled('admins');
RESET ROLE;
SELECT p.proname, has_function_privilege('public', p.oid, 'EXECUTE') AS public_may
FROM pg_proc p
WHERE p.pronamespace = 'governance'::regnamespace
  AND p.proname IN ('explain', 'compliance_report', '_explain_compiled', '_report_tables',
                    '_report_lines', '_sharing_words', '_cross_border_words')
ORDER BY 1;

-- ------------------------------------------------------------ bad input
CREATE VIEW admins_view AS SELECT id FROM admins;
SELECT * FROM governance.explain('admins_view');
CREATE SEQUENCE admins_seq;
SELECT * FROM governance.explain('admins_seq');
SELECT * FROM governance.explain(NULL);
CREATE TABLE gone (id int);
SELECT set_config('reports.gone', 'gone'::regclass::oid::text, false) IS NOT NULL AS noted;
DROP TABLE gone;
DO $$
BEGIN
    PERFORM * FROM governance.explain(current_setting('reports.gone')::oid::regclass);
EXCEPTION WHEN undefined_table THEN
    RAISE NOTICE 'undefined_table: %', regexp_replace(SQLERRM, '[0-9]+', 'N');
END $$;

-- ------------------------------------------------------------ clean up
\c :regress_db
DROP DATABASE reports_db;
DROP ROLE reports_reader, reports_nobody;
