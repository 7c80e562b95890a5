-- test/demo.sql — the pg_governance walkthrough (run by test/demo.sh).
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
SELECT p.name, p.version,
       count(*) FILTER (WHERE r.kind = 'localization') AS localization,
       count(*) FILTER (WHERE r.kind = 'retention') AS retention,
       count(*) FILTER (WHERE r.kind = 'sharing') AS sharing,
       count(*) FILTER (WHERE r.kind = 'subject_rights') AS subject_rights,
       count(*) FILTER (WHERE r.kind = 'breach') AS breach,
       count(*) FILTER (WHERE r.kind = 'minors') AS minors
FROM governance.policies p JOIN governance.rules r ON r.policy = p.name
GROUP BY p.name, p.version ORDER BY p.name;
\echo '-- every rule cites its clause, e.g. where ctyun stores data and which SDKs receive what:'
SELECT rule_id, parameters ->> 'jurisdiction' AS stored_in, source
FROM governance.rules WHERE policy = 'ctyun-huiju-2024' AND kind = 'localization';
SELECT name, class, categories, purposes FROM governance.recipient
WHERE policy = 'ctyun-huiju-2024' ORDER BY name;
\echo '-- periods the texts leave to the law are parameters a DBA sets:'
SELECT policy, name, value, left(description, 60) AS description
FROM governance.parameters WHERE policy = 'jinpai-mail' ORDER BY name;
SELECT governance.set_parameter('jinpai-mail', 'log_retention', 'P1Y') AS "log_retention := P1Y";
\echo '-- a malformed policy file is refused with file:line:column, and nothing changes:'
\! printf 'policy:\n  name: broken\n  version: "1"\n  title: t\n  controller: c\nrules:\n  retention:\n    - id: ret.x\n      categories: [log]\n      anchor: created\n      minimum: six months\n      source: "x"\n' > /tmp/pg_governance_demo_broken.yaml
SELECT governance.load_policy_file('/tmp/pg_governance_demo_broken.yaml');

\echo
\echo '== 5. Tag a small schema: the guard is attached by the extension'
CREATE TABLE payments (id int PRIMARY KEY, customer text, card_last4 text, cvv text,
                       region governance.region);
CREATE TABLE mail_log (id int, account text, line text, created timestamptz DEFAULT now());
\echo '-- governance.bind(table, policy) and governance.tag(table, column, label):'
\o /dev/null
SELECT governance.bind('payments', '21vianet-online-2020');
SELECT governance.tag('payments', 'customer', 'category=personal.name; subject');
SELECT governance.tag('payments', 'cvv', 'category=payment.security_code');
SELECT governance.tag('payments', 'region', 'region');
SELECT governance.bind('mail_log', 'jinpai-mail');
SELECT governance.tag('mail_log', 'line', 'category=log.service');
SELECT governance.tag('mail_log', 'account', 'subject');
SELECT governance.tag('mail_log', 'created', 'anchor=created');
\o
SELECT relation, "column", categories, roles, policy FROM governance.tagged_columns ORDER BY 1, 2;
\d payments

\echo
\echo '== 6. Writes the policies forbid are refused, with the clause that forbids them'
INSERT INTO payments VALUES (1, '张三', '1234', NULL, 'CN-SH');
\echo '-- the card security code must never be stored:'
INSERT INTO payments VALUES (2, '李四', '5678', '123', 'CN-BJ');
\echo '-- customer data must stay in mainland China (Hong Kong is outside):'
INSERT INTO payments VALUES (3, '王五', '9012', NULL, 'HK');
\echo '-- logs must be kept at least six months (Cybersecurity Law), so an early delete is refused:'
INSERT INTO mail_log (id, account, line) VALUES (1, 'zhangsan@example.cn', 'login from 1.2.3.4');
DELETE FROM mail_log WHERE id = 1;
\echo '-- a legal hold keeps a subject''s rows, whatever their age:'
INSERT INTO mail_log VALUES (2, 'lisi@example.cn', 'old login', now() - interval '2 years');
SELECT governance.place_hold('mail_log', 'lisi@example.cn', 'case 2026-042') AS hold_id \gset
DELETE FROM mail_log WHERE id = 2;
SELECT governance.release_hold(:hold_id);
DELETE FROM mail_log WHERE id = 2;
\echo '-- errors are SQLSTATE class GV: WHEN SQLSTATE ''GV000'' catches them all'
DO $$ BEGIN INSERT INTO payments VALUES (4, 'x', NULL, '999', 'CN');
EXCEPTION WHEN SQLSTATE 'GV000' THEN RAISE NOTICE 'caught %: %', SQLSTATE, SQLERRM; END $$;
