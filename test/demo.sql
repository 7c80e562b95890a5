-- test/demo.sql — the pg_governance walkthrough (run by test/demo.sh).
-- Calls that return nothing end in \gset, so that psql prints no empty table;
-- the statement after each such call shows what it changed.
\set VERBOSITY default
\pset footer off
\echo
\echo '== 1. Install the extension'
CREATE EXTENSION pg_governance;
SET search_path = public, governance;

\echo
\echo '== 2. Data categories: dotted paths with containment'
SELECT c AS category, governance.parent(c) AS parent, governance.depth(c) AS depth,
       'personal'::governance.category @> c AS "is personal"
FROM unnest('{personal.contact.phone,personal.identity.id_number,payment.security_code}'::governance.category[]) c;
\echo '-- a malformed category is refused with its position:'
SELECT 'personal..phone'::governance.category;

\echo
\echo '== 3. Regions: ISO 3166 codes; Hong Kong is not a subdivision of CN'
SELECT r AS region, 'CN'::governance.region @> r AS "within CN"
FROM unnest('{CN,cn-sh,HK,MO,TW,US-CA}'::governance.region[]) r;
\echo '-- an unknown country is refused:'
SELECT 'XX'::governance.region;

\echo
\echo '== 4. The five bundled policies, loaded from YAML with libyaml'
SELECT governance.load_bundled_policy(n) AS loaded FROM governance.bundled_policies() n ORDER BY n;
SELECT name, version, controller, title FROM governance.policies ORDER BY name;
\echo '-- their rules, by kind:'
SELECT p.name,
       count(*) FILTER (WHERE r.kind = 'localization') AS localization,
       count(*) FILTER (WHERE r.kind = 'retention') AS retention,
       count(*) FILTER (WHERE r.kind = 'sharing') AS sharing,
       count(*) FILTER (WHERE r.kind = 'subject_rights') AS subject_rights,
       count(*) FILTER (WHERE r.kind = 'breach') AS breach,
       count(*) FILTER (WHERE r.kind = 'minors') AS minors
FROM governance.policies p JOIN governance.rules r ON r.policy = p.name
GROUP BY p.name ORDER BY p.name;
\echo '-- every rule quotes its clause, e.g. where ctyun stores data and which SDKs receive what:'
SELECT rule_id, parameters ->> 'jurisdiction' AS stored_in, source
FROM governance.rules WHERE policy = 'ctyun-huiju-2024' AND kind = 'localization';
SELECT name, class, categories, purposes FROM governance.recipient
WHERE policy = 'ctyun-huiju-2024' ORDER BY name;
\echo '-- periods a text leaves to the law are parameters, empty until a DBA sets them (section 8):'
SELECT name, value, source FROM governance.parameters
WHERE policy = '21vianet-online-2020' ORDER BY name;
\echo '-- a malformed policy is refused with line:column, and nothing changes.'
\echo '-- Here jinpai-mail again, with its six-month minimum written "six months":'
SELECT governance.load_policy(replace(yaml, 'minimum: P6M', 'minimum: six months'))
FROM governance.policy WHERE name = 'jinpai-mail';
\echo '-- the loaded jinpai-mail still says P6M:'
SELECT rule_id, parameters ->> 'minimum' AS minimum FROM governance.rules
WHERE policy = 'jinpai-mail' AND rule_id = 'ret.log-minimum';

\echo
\echo '== 5. Tag two tables: the extension attaches the guard itself'
CREATE TABLE payments (id int PRIMARY KEY, customer text, card_last4 text, cvv text,
                       region governance.region, closed date);
CREATE TABLE mail_log (id int, account text, line text, created timestamptz DEFAULT now());
SELECT governance.bind('payments', '21vianet-online-2020') \gset
SELECT governance.tag('payments', 'customer', 'category=personal.name; subject') \gset
SELECT governance.tag('payments', 'cvv', 'category=payment.security_code') \gset
SELECT governance.tag('payments', 'region', 'region') \gset
SELECT governance.tag('payments', 'closed', 'anchor=account_closed') \gset
SELECT governance.bind('mail_log', 'jinpai-mail') \gset
SELECT governance.tag('mail_log', 'line', 'category=log.service') \gset
SELECT governance.tag('mail_log', 'account', 'subject') \gset
SELECT governance.tag('mail_log', 'created', 'anchor=created') \gset
\echo '-- governance.bind(table, policy) and governance.tag(table, column, label) gave:'
SELECT relation, "column", categories, roles, policy FROM governance.tagged_columns ORDER BY 1, 2;
\d payments

\echo
\echo '== 6. Where the data is: mail_log has no region column, so its rows are where the database is'
\echo '-- governance.set_database_region(''HK''): jinpai-mail stores personal information, logs included, in mainland China:'
SELECT governance.set_database_region('HK') \gset
INSERT INTO mail_log (id, account, line) VALUES (1, 'zhangsan@example.cn', 'login from 1.2.3.4');
\echo '-- governance.set_database_region(''CN-SH''): the same row is accepted:'
SELECT governance.set_database_region('CN-SH') \gset
INSERT INTO mail_log (id, account, line) VALUES (1, 'zhangsan@example.cn', 'login from 1.2.3.4');

\echo
\echo '== 7. Writes the policies forbid are refused, with the clause that forbids them'
INSERT INTO payments VALUES (1, '张三', '1234', NULL, 'CN-SH', NULL);
\echo '-- the card security code must never be stored:'
INSERT INTO payments VALUES (2, '李四', '5678', '123', 'CN-BJ', NULL);
\echo '-- personal information must be stored in mainland China (Hong Kong is outside):'
INSERT INTO payments VALUES (3, '王五', '9012', NULL, 'HK', NULL);
\echo '-- logs must be kept at least six months, so an early delete is refused:'
DELETE FROM mail_log WHERE id = 1;
\echo '-- a legal hold keeps a subject''s rows, whatever their age:'
INSERT INTO mail_log VALUES (2, 'lisi@example.cn', 'old login', now() - interval '2 years');
SELECT governance.place_hold('mail_log', 'lisi@example.cn', 'case 2026-042') AS hold_id \gset
DELETE FROM mail_log WHERE id = 2;
\echo '-- governance.release_hold(hold_id): the two-year-old row is no longer held, but it is past its'
\echo '-- six months and how long logs are kept after that is left to the law (log_retention, unset):'
\echo '-- it is blocked (restricted processing), and only a retention run may end it (section 12):'
SELECT governance.release_hold(:hold_id) \gset
DELETE FROM mail_log WHERE id = 2;

\echo
\echo '== 8. A period the law sets: closed accounts under 21vianet-online-2020'
INSERT INTO payments VALUES (10, '赵六', '3456', NULL, 'CN-BJ', current_date - 1000),
                            (11, '钱七', '7890', NULL, 'CN-GD', current_date - 30);
\echo '-- the text keeps data after an account is closed "as the law requires"; until a DBA says'
\echo '-- how long (parameter after_account_closed), no closed account may be deleted:'
SELECT rule_id, action, rows_due, detail FROM governance.retention_preview('payments');
\echo '-- governance.set_parameter(''21vianet-online-2020'', ''after_account_closed'', ''P2Y''):'
SELECT governance.set_parameter('21vianet-online-2020', 'after_account_closed', 'P2Y') \gset
SELECT name, value FROM governance.parameters
WHERE policy = '21vianet-online-2020' AND name = 'after_account_closed';
\echo '-- an account closed 1000 days ago is now due; one closed 30 days ago is not. Both are'
\echo '-- blocked since their closing ("我们不会在此期间使用或处理您的信息"), so not even a superuser'
\echo '-- deletes them by hand; the retention run does:'
DELETE FROM payments WHERE id = 10;
CALL governance.run_retention('payments');
SELECT id, customer, closed FROM payments WHERE id IN (10, 11) ORDER BY id;

\echo
\echo '== 9. Errors are SQLSTATE class GV: WHEN SQLSTATE ''GV000'' catches them all'
DO $$ BEGIN INSERT INTO payments VALUES (4, 'x', NULL, '999', 'CN', NULL);
EXCEPTION WHEN SQLSTATE 'GV000' THEN RAISE NOTICE 'caught %: %', SQLSTATE, SQLERRM; END $$;

\echo
\echo '== 10. Rows already in a table are checked when it becomes governed'
CREATE TABLE legacy_cards (id int, cvv text);
INSERT INTO legacy_cards VALUES (1, '123'), (2, NULL), (3, '456');
\echo '-- a tag on a table no policy governs is stored, with a warning:'
SELECT governance.tag('legacy_cards', 'cvv', 'category=payment.security_code') \gset
\echo '-- binding it to a policy that forbids keeping security codes is refused, saying how many rows break it:'
SELECT governance.bind('legacy_cards', '21vianet-online-2020') \gset

\echo
\echo '== 11. No way around the guard through DDL'
\echo '-- with a row under minimum retention, neither the table nor its anchor column can be dropped:'
DROP TABLE mail_log;
ALTER TABLE mail_log DROP COLUMN created;
\echo '-- forgetting where the database stores its data is refused while rows rely on it (no region means no row may stay):'
SELECT governance.set_database_region(NULL) \gset

\echo
\echo '== 12. Retention: blocked rows vanish from applications at once; a DBA run ends them'
\echo '-- a year of mail logs, one row a day, and the log retention set (jinpai-mail: at least six months):'
SELECT governance.set_parameter('jinpai-mail', 'log_retention', 'P9M') \gset
CREATE TABLE app_log (id bigint, account text, line text, created timestamptz NOT NULL);
SELECT governance.bind('app_log', 'jinpai-mail') \gset
SELECT governance.tag('app_log', 'line', 'category=log.network') \gset
SELECT governance.tag('app_log', 'account', 'subject') \gset
SELECT governance.tag('app_log', 'created', 'anchor=created') \gset
CREATE INDEX ON app_log (created);
INSERT INTO app_log SELECT i, 'user' || (i % 1000) || '@example.cn', 'login from 10.0.' || (i % 250) || '.' || (i % 7),
                           now() - (i % 365) * interval '1 day'
FROM generate_series(1, 200000) i;
SELECT governance.place_hold('app_log', 'user7@example.cn', 'complaint 2026-311') AS log_hold \gset
CREATE ROLE demo_app;
GRANT SELECT, UPDATE, DELETE ON app_log TO demo_app;
\echo '-- the application sees only the rows inside their nine months; governance_admin sees all:'
SET ROLE demo_app;
SELECT count(*) AS app_sees, min(created)::date AS oldest_it_sees FROM app_log;
RESET ROLE;
SELECT count(*) AS admin_sees FROM app_log;
\echo '-- writing a blocked row, for a role that sees it, is refused:'
UPDATE app_log SET line = 'edited' WHERE id = 300;
\echo '-- what a run would do (an index range on created, nothing changes):'
SELECT rule_id, action, rows_due, oldest_anchor::date FROM governance.retention_preview('app_log');
\echo '-- the DBA runs it in batches of 5000 rows, each committed; a second session watches:'
\! psql -X -q -c "CALL governance.run_retention('app_log', 5000)" &
\! sleep 0.4
SELECT rule_id, status, anonymized, batches FROM governance.retention_runs WHERE relation = 'public.app_log';
\! sleep 3
SELECT rule_id, status, anonymized, batches, blocked, finished_at IS NOT NULL AS finished
FROM governance.retention_runs WHERE relation = 'public.app_log';
\echo '-- the anonymized logs keep no address, their clock has stopped, and they are visible again;'
\echo '-- the held subject''s rows are untouched:'
SELECT line LIKE 'anon-%' AS anonymized, created = 'infinity' AS clock_stopped, count(*)
FROM app_log GROUP BY 1, 2 ORDER BY 1, 2;
SELECT count(*) AS held_rows_kept FROM app_log WHERE account = 'user7@example.cn' AND line NOT LIKE 'anon-%'
  AND created < now() - interval '9 months';
\echo '-- governance.schedule_retention(''0 3 * * *'') would run it nightly with pg_cron; this cluster has none:'
SELECT governance.schedule_retention('0 3 * * *');


\echo
\echo '== 13. Sharing: every share decided against the policy, and chained in a log'
\echo '-- ctyun 2.8 names the SDKs that receive data; 百度SDK gets the camera for real-name checks, with the user''s authorization:'
SELECT allowed, rule_id, reason
FROM governance.check_share('百度SDK', '{device.camera}', 'real_name_verification', 'user-42', policy => 'ctyun-huiju-2024');
SELECT governance.share('百度SDK', '{device.camera}', 'real_name_verification', 'user-42', policy => 'ctyun-huiju-2024');
\echo '-- the user authorizes it; the same share is now allowed and logged:'
SELECT governance.grant_consent('user-42', 'real_name_verification', '百度SDK') AS consent_id;
SELECT governance.share('百度SDK', '{device.camera}', 'real_name_verification', 'user-42', policy => 'ctyun-huiju-2024') AS log_id \gset
\echo '-- but the SDK receives only what the table declares for it:'
SELECT governance.share('百度SDK', '{personal.identity.id_number}', 'real_name_verification', 'user-42', policy => 'ctyun-huiju-2024');
\echo '-- a criminal investigation needs no consent ("根据…行政、司法机关的要求"):'
SELECT governance.share('class:government', '{personal.name,personal.contact.phone}', 'legal_compliance', 'user-42',
                        legal_basis => 'criminal_investigation', policy => 'ctyun-huiju-2024') AS log_id2 \gset
\echo '-- marketing with the user''s input is an explicit prohibition; no consent lifts it:'
SELECT governance.grant_consent('user-42', 'marketing') AS consent_id;
SELECT governance.share('class:third_party', '{content.user_input}', 'marketing', 'user-42', policy => 'ctyun-huiju-2024');
\echo '-- sending it to Hong Kong is cross-border: mainland China excludes HK:'
SELECT allowed, rule_id FROM governance.check_share('class:processor', '{personal.contact.email}', 'service_provision',
                                                    'user-42', 'HK', 'contract_necessity', 'ctyun-huiju-2024');
\echo '-- anonymized data is not personal information (jinpai), so it needs no consent and names no subject:'
SELECT governance.share('class:research', '{anonymized}', 'research', policy => 'jinpai-mail') AS log_id3 \gset
\echo '-- the log: subjects are pseudonyms, every row chained to the one before:'
SELECT id, recipient, categories, purpose, legal_basis, rule_id, personal,
       subject = governance.sharing_pseudonym('user-42') AS "is user-42", left(hash, 12) AS hash
FROM governance.sharing_log ORDER BY id;
SELECT * FROM governance.verify_sharing_log();
\echo '-- a digest, to be recorded outside the database:'
SELECT id AS digest_id, hash AS digest_hash FROM governance.sharing_log_digest() \gset
SELECT :digest_id AS digest_id, left(:'digest_hash', 12) AS digest_hash;
\echo '-- a superuser edits a row behind the extension''s back (the append-only triggers need disabling):'
ALTER TABLE governance.sharing_log DISABLE TRIGGER USER;
UPDATE governance.sharing_log SET recipient = 'class:processor' WHERE id = :log_id2;
SELECT * FROM governance.verify_sharing_log();
\echo '-- then rewrites every hash after it, so that the chain is whole again:'
DO $$
DECLARE
    r governance.sharing_log;
    prev text := repeat('0', 64);
BEGIN
    FOR r IN SELECT * FROM governance.sharing_log ORDER BY id LOOP
        r.prev_hash := prev;
        UPDATE governance.sharing_log SET prev_hash = prev, hash = governance.sharing_log_hash(r) WHERE id = r.id;
        prev := governance.sharing_log_hash(r);
    END LOOP;
    UPDATE governance.sharing_log_state SET last_hash = prev;
END $$;
ALTER TABLE governance.sharing_log ENABLE ALWAYS TRIGGER sharing_log_chain;
ALTER TABLE governance.sharing_log ENABLE ALWAYS TRIGGER sharing_log_append_only;
SELECT * FROM governance.verify_sharing_log();
\echo '-- only the digest recorded outside catches the rewrite:'
SELECT * FROM governance.verify_sharing_log(:digest_id, :'digest_hash');

\echo
\echo '== 14. Data subjects, deadlines, discovery and reports'
SELECT governance.set_database_region('CN') \gset
CREATE SCHEMA shop;
SECURITY LABEL FOR governance ON SCHEMA shop IS 'policy=jinpai-mail';
CREATE TABLE shop.customer (id int PRIMARY KEY, email text UNIQUE, name text);
CREATE TABLE shop.orders (id int PRIMARY KEY, customer_id int REFERENCES shop.customer, ship_to text);
CREATE INDEX ON shop.orders (customer_id);
SELECT governance.tag('shop.customer', 'email', 'subject;category=personal.contact.email') \gset
SELECT governance.tag('shop.customer', 'name', 'category=personal.name') \gset
SELECT governance.tag('shop.orders', 'ship_to', 'category=personal.contact.address') \gset
INSERT INTO shop.customer VALUES (1, 'wang@example.cn', '王芳'), (2, 'li@example.cn', '李雷');
INSERT INTO shop.orders VALUES (10, 1, '上海市浦东新区'), (11, 1, '杭州市西湖区'), (20, 2, '北京市海淀区');
\echo '-- the copy handed to 王芳 ("用户信息副本"): her customer row and, through the foreign key, her orders:'
SELECT t.key AS "table", r AS "row"
FROM jsonb_each(governance.subject_export('wang@example.cn') -> 'tables') t,
     jsonb_array_elements(t.value -> 'rows') r ORDER BY 1;
\echo '-- her erasure, while a legal hold protects her customer row: the orders go, the held row stays, blocked:'
SELECT governance.place_hold('shop.customer', 'wang@example.cn', 'consumer dispute 2026-88') \gset
SELECT * FROM governance.erase_subject('wang@example.cn');
SELECT count(*) AS orders_left_for_wang FROM shop.orders WHERE customer_id = 1;
GRANT USAGE ON SCHEMA shop TO demo_app;
GRANT SELECT ON shop.customer TO demo_app;
\echo '-- the application no longer sees the kept row; governance_admin (here a superuser) does:'
SET ROLE demo_app;
SELECT id, email, name FROM shop.customer ORDER BY id;
RESET ROLE;
SELECT id, email, name FROM shop.customer ORDER BY id;
\echo '-- a deletion request under ctyun is due in 5 working days; across Spring Festival 2025 and National Day 2025:'
SELECT governance.open_request('wang@example.cn', 'deletion', 'ctyun-huiju-2024') AS request \gset
SELECT kind, policy, rule_id, due_at::date AS due FROM governance.requests WHERE request_id = :request;
SELECT governance.add_working_days('2025-01-27', 5) AS "5 working days after 2025-01-27",
       governance.add_working_days('2025-09-30', 3) AS "3 working days after 2025-09-30";
\echo '-- columns nobody tagged that look personal (names in pinyin, values with valid check digits):'
CREATE TABLE shop.kyc (id int, xm text, sfzh text, sjh text, note text);
INSERT INTO shop.kyc SELECT i, '张三', '11010519491231002X', '1380013' || lpad(i::text, 4, '0'), md5(i::text)
FROM generate_series(1, 50) i;
SELECT "column", category, round(confidence::numeric, 2) AS confidence, evidence
FROM governance.suggest_tags('shop') ORDER BY 1;
\echo '-- what applies to shop.customer, and where it comes from:'
SELECT "column", rule_kind, rule_id, effect FROM governance.explain('shop.customer') ORDER BY 1 NULLS FIRST, 2, 3;
\echo '-- the compliance report (what needs attention, each line with what to do):'
SELECT "check", status, left(detail, 140) AS detail FROM governance.compliance_report() WHERE status <> 'ok';
