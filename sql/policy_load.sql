-- Policy loading: the five bundled policies, idempotence, history, parameters,
-- dropping, and every class of load error (GV010 with line:column).
SET search_path = public, governance;
\set VERBOSITY default

-- ------------------------------------------------------------ bundled policies
SELECT count(*) AS taxonomy_categories FROM governance.taxonomy;
SELECT n FROM governance.bundled_policies() n ORDER BY n;
SELECT governance.load_bundled_policy(n) FROM governance.bundled_policies() n ORDER BY n;
SELECT name, version, effective_date, controller, length(sha256) AS sha_len
FROM governance.policies ORDER BY name;
SELECT policy, kind, count(*) FROM governance.rules GROUP BY 1, 2 ORDER BY 1, 2;
-- every rule quotes its clause
SELECT count(*) AS rules_without_source FROM governance.rules WHERE source IS NULL OR source = '';

-- key rules: mainland China excludes Hong Kong, Macao and Taiwan
SELECT policy, name, include, exclude FROM governance.jurisdiction
WHERE name = 'mainland_china' ORDER BY policy;
SELECT governance.in_jurisdiction('CN-SH', 'mainland_china', 'ctyun-huiju-2024') AS shanghai,
       governance.in_jurisdiction('HK', 'mainland_china', 'ctyun-huiju-2024') AS hong_kong,
       governance.in_jurisdiction('CN-HK', 'mainland_china', 'ctyun-huiju-2024') AS cn_hk,
       governance.in_jurisdiction('TW', 'mainland_china', 'ctyun-huiju-2024') AS taiwan,
       governance.in_jurisdiction('US', 'mainland_china', 'ctyun-huiju-2024') AS us,
       governance.in_jurisdiction('CN-SH', 'CN', 'ctyun-huiju-2024') AS region_code;
SELECT governance.in_jurisdiction('CN', 'atlantis', 'ctyun-huiju-2024');
-- 21Vianet: customer data stored in mainland China; the security code is never stored
SELECT policy, rule_id, categories, parameters ->> 'jurisdiction' AS jurisdiction,
       parameters -> 'cross_border' ->> 'condition' AS cross_border
FROM governance.rules WHERE kind = 'localization' AND policy LIKE '21vianet%'
ORDER BY policy, rule_id;
SELECT policy, rule_id, categories FROM governance.rules
WHERE kind = 'retention' AND (parameters ->> 'never_store')::boolean ORDER BY policy;
-- 21Vianet's own categories and what they imply
SELECT policy, category, implies @> '{personal}' AS implies_personal
FROM governance.policy_category WHERE defined AND category = 'administrator_data' ORDER BY policy;
-- ctyun: the SDK table as named recipients, and working-day deadlines
SELECT name, class FROM governance.recipient WHERE policy = 'ctyun-huiju-2024' ORDER BY name;
SELECT rule_id, parameters ->> 'deadline' AS deadline, parameters ->> 'days' AS days
FROM governance.rules WHERE policy = 'ctyun-huiju-2024' AND kind = 'subject_rights' ORDER BY rule_id;
SELECT policy, parameters ->> 'age_of_consent' AS age FROM governance.rules
WHERE kind = 'minors' ORDER BY policy;
-- jinpai: logs kept at least six months; breach notice within 72 hours
SELECT rule_id, parameters ->> 'anchor' AS anchor, parameters ->> 'minimum' AS minimum
FROM governance.rules WHERE policy = 'jinpai-mail' AND rule_id = 'ret.log-minimum';
SELECT policy, rule_id, parameters ->> 'deadline' AS deadline FROM governance.rules
WHERE kind = 'breach' AND parameters ? 'deadline' ORDER BY policy, rule_id;
-- periods left to the law are parameters without default
SELECT policy, name, value, default_value FROM governance.parameters
WHERE name IN ('after_account_closed', 'log_retention') ORDER BY policy, name;
-- the category registry: taxonomy plus the policies' own categories
SELECT category, defined_by FROM governance.categories
WHERE category IN ('personal.contact.phone', 'customer_data', 'support_data') ORDER BY category;

-- ------------------------------------------------------- idempotence, history
CREATE TABLE snap AS SELECT name, loaded_at, sha256 FROM governance.policy;
SELECT governance.load_bundled_policy('jinpai-mail');
SELECT count(*) AS unchanged FROM governance.policy p JOIN snap s USING (name, loaded_at, sha256);
SELECT count(*) AS history_rows FROM governance.policy_history;

CREATE TABLE doc (name text PRIMARY KEY, yaml text);
INSERT INTO doc VALUES ('mini', $y$
policy:
  name: test-mini
  version: "1"
  title: Test policy
  controller: Example Co.
  effective_date: 2024-01-01
  home_jurisdiction: mainland_china
categories:
  - name: customer_data
    description: customer data
    implies: [content.customer]
    source: "客户数据"
jurisdictions:
  - name: mainland_china
    include: [CN]
    exclude: [HK, MO, TW, CN-HK, CN-MO, CN-TW]
parameters:
  - name: after_account_closed
    default: null
    description: Kept as long as the law requires after the account is closed.
    source: "法律法规规定的期限"
recipients:
  - name: 百度SDK
    class: sdk
    categories: [device.identifier]
    purposes: [third_party_offering]
    source: "百度SDK"
rules:
  localization:
    - id: loc.customer
      categories: [customer_data]
      jurisdiction: mainland_china
      source: "存储在中国境内"
  retention:
    - id: ret.cvv
      categories: [payment.security_code]
      never_store: true
      source: "不会保存安全码"
    - id: ret.logs
      categories: [log]
      anchor: created
      minimum: P6M
      maximum: {parameter: after_account_closed}
      action: delete
      source: "日志至少保存六个月"
  sharing:
    - id: share.baidu
      recipients: [百度SDK]
      purposes: [third_party_offering]
      consent: required
      source: "百度SDK"
  subject_rights:
    - id: dsr.all
      requests: [access, deletion]
      deadline: P15D
      days: working
      source: "十五个工作日"
  breach:
    - id: breach.notify
      deadline: PT72H
      notify: [subjects, authority]
      source: "72小时"
  minors:
    - id: minors.consent
      age_of_consent: 14
      requires: guardian_consent
      source: "不满十四周岁"
$y$);

SELECT governance.load_policy(yaml) FROM doc WHERE name = 'mini';
SELECT kind, rule_id, categories, parameters FROM governance.rules WHERE policy = 'test-mini' ORDER BY kind, rule_id;
SELECT governance.load_policy(yaml) FROM doc WHERE name = 'mini';   -- same content: no-op
SELECT count(*) AS history_rows FROM governance.policy_history WHERE name = 'test-mini';
SELECT governance.load_policy(replace(yaml, 'version: "1"', 'version: "2"')) FROM doc WHERE name = 'mini';
SELECT name, version FROM governance.policy_history WHERE name = 'test-mini';
SELECT version FROM governance.policies WHERE name = 'test-mini';

-- ------------------------------------------------------------------ parameters
SELECT governance.set_parameter('test-mini', 'after_account_closed', 'P3Y');
SELECT name, value, default_value FROM governance.parameters WHERE policy = 'test-mini';
SELECT governance.set_parameter('test-mini', 'after_account_closed', 'three years');
SELECT governance.set_parameter('test-mini', 'no_such_parameter', 'P1Y');
-- a reload keeps the DBA's setting
SELECT governance.load_policy(replace(yaml, 'version: "1"', 'version: "3"')) FROM doc WHERE name = 'mini';
SELECT name, value FROM governance.parameters WHERE policy = 'test-mini';
SELECT governance.set_parameter('test-mini', 'after_account_closed', NULL);
SELECT name, value FROM governance.parameters WHERE policy = 'test-mini';
SELECT d, governance.is_iso8601_duration(d)
FROM unnest('{P6M,P30D,PT72H,P1Y6M,P1W,P,PT,P6,6M,P1.5Y,P1M1Y,-P1D,P1DT}'::text[]) d;

-- ---------------------------------------------------------------- load errors
CREATE TABLE before_counts AS
    SELECT (SELECT count(*) FROM governance.policy) AS p, (SELECT count(*) FROM governance.rule) AS r,
           (SELECT count(*) FROM governance.policy_history) AS h,
           (SELECT string_agg(sha256, ',' ORDER BY name) FROM governance.policy) AS shas;

-- malformed YAML
SELECT governance.load_policy(E'policy:\n  name: [unclosed\n');
SELECT governance.load_policy(E'policy: {name: x\nrules: {}');
-- not a mapping, empty, two documents
SELECT governance.load_policy('- a list');
SELECT governance.load_policy('');
SELECT governance.load_policy(yaml || E'\n---\nfoo: 1\n') FROM doc WHERE name = 'mini';
-- unknown keys, with the nearest valid key
SELECT governance.load_policy(replace(yaml, '  retention:', '  retension:')) FROM doc WHERE name = 'mini';
SELECT governance.load_policy(replace(yaml, 'never_store: true', 'never_stored: true')) FROM doc WHERE name = 'mini';
SELECT governance.load_policy(yaml || E'extra_section: 1\n') FROM doc WHERE name = 'mini';
-- wrong types and missing keys
SELECT governance.load_policy(replace(yaml, 'categories: [payment.security_code]', 'categories: payment.security_code')) FROM doc WHERE name = 'mini';
SELECT governance.load_policy(replace(yaml, 'age_of_consent: 14', 'age_of_consent: fourteen')) FROM doc WHERE name = 'mini';
SELECT governance.load_policy(replace(yaml, 'never_store: true', 'never_store: yes')) FROM doc WHERE name = 'mini';
-- a principle rule (how rules combine) takes no period, anchor or action; its value is known
SELECT governance.load_policy(replace(yaml, 'never_store: true', 'principle: shortest_wins')) FROM doc WHERE name = 'mini';
SELECT governance.load_policy(replace(yaml, 'never_store: true', E'principle: longest_wins\n      anchor: created')) FROM doc WHERE name = 'mini';
SELECT governance.load_policy(replace(yaml, '  controller: Example Co.', '')) FROM doc WHERE name = 'mini';
SELECT governance.load_policy(replace(yaml, 'effective_date: 2024-01-01', 'effective_date: 2024-13-01')) FROM doc WHERE name = 'mini';
SELECT governance.load_policy(replace(yaml, 'effective_date: 2024-01-01', 'effective_date: 2024-04-31')) FROM doc WHERE name = 'mini';
SELECT governance.load_policy(replace(yaml, 'effective_date: 2024-01-01', 'effective_date: 2023-02-29')) FROM doc WHERE name = 'mini';
SELECT governance.load_policy(replace(yaml, 'effective_date: 2024-01-01', 'effective_date: "2024- 1- 1"')) FROM doc WHERE name = 'mini';
SELECT governance.load_policy(replace(yaml, 'retention:', repeat('x', 300) || ':')) FROM doc WHERE name = 'mini';
-- names are catalog keys: bounded (a 10,000-character recipient used to fail as an index row)
SELECT governance.load_policy(replace(yaml, '百度SDK', repeat('长', 10000))) FROM doc WHERE name = 'mini';
SELECT governance.load_policy(replace(yaml, '百度SDK', repeat('长', 201))) FROM doc WHERE name = 'mini';
SELECT governance.load_policy(replace(yaml, 'id: ret.logs', 'id: ret.' || repeat('x', 300))) FROM doc WHERE name = 'mini';
BEGIN;
SELECT governance.load_policy(replace(yaml, '百度SDK', repeat('长', 200))) IS NOT NULL AS loaded FROM doc WHERE name = 'mini';
SELECT length(name) FROM governance.recipient WHERE name LIKE '长%';
ROLLBACK;
-- bad durations
SELECT governance.load_policy(replace(yaml, 'minimum: P6M', 'minimum: 6 months')) FROM doc WHERE name = 'mini';
SELECT governance.load_policy(replace(yaml, 'deadline: PT72H', 'deadline: P72H')) FROM doc WHERE name = 'mini';
-- unknown references and vocabulary
SELECT governance.load_policy(replace(yaml, 'categories: [log]', 'categories: [logs]')) FROM doc WHERE name = 'mini';
SELECT governance.load_policy(replace(yaml, 'categories: [log]', 'categories: [Log]')) FROM doc WHERE name = 'mini';
SELECT governance.load_policy(replace(yaml, 'jurisdiction: mainland_china', 'jurisdiction: mainland')) FROM doc WHERE name = 'mini';
SELECT governance.load_policy(replace(yaml, 'include: [CN]', 'include: [XX]')) FROM doc WHERE name = 'mini';
SELECT governance.load_policy(replace(yaml, 'recipients: [百度SDK]', 'recipients: [谷歌SDK]')) FROM doc WHERE name = 'mini';
SELECT governance.load_policy(replace(yaml, 'purposes: [third_party_offering]
      consent', 'purposes: [advertising]
      consent')) FROM doc WHERE name = 'mini';
SELECT governance.load_policy(replace(yaml, 'consent: required', 'consent: required
      legal_bases: [because_we_can]')) FROM doc WHERE name = 'mini';
SELECT governance.load_policy(replace(yaml, 'class: sdk', 'class: friend')) FROM doc WHERE name = 'mini';
SELECT governance.load_policy(replace(yaml, 'anchor: created', 'anchor: birthday')) FROM doc WHERE name = 'mini';
SELECT governance.load_policy(replace(yaml, '{parameter: after_account_closed}', '{parameter: after_closing}')) FROM doc WHERE name = 'mini';
-- rule-level consistency
SELECT governance.load_policy(replace(yaml, 'id: ret.logs', 'id: ret.cvv')) FROM doc WHERE name = 'mini';
SELECT governance.load_policy(replace(yaml, '      action: delete
', '')) FROM doc WHERE name = 'mini';
SELECT governance.load_policy(replace(yaml, 'never_store: true', 'never_store: true
      anchor: created')) FROM doc WHERE name = 'mini';
SELECT governance.load_policy(replace(yaml, '      recipients: [百度SDK]
', '')) FROM doc WHERE name = 'mini';
SELECT governance.load_policy(replace(yaml, '  - name: customer_data', '  - name: customer_data.sub')) FROM doc WHERE name = 'mini';
-- duplicate keys and names
SELECT governance.load_policy(replace(yaml, 'version: "1"', E'version: "1"\n  version: "2"')) FROM doc WHERE name = 'mini';
SELECT governance.load_policy(replace(yaml, 'jurisdictions:', E'jurisdictions:\n  - name: mainland_china\n    include: [CN]')) FROM doc WHERE name = 'mini';
-- hostile YAML: aliases (billion laughs), anchors, tags, nesting, size
SELECT governance.load_policy(E'a: &a ["lol","lol"]\nb: &b [*a,*a]\nc: [*b,*b]\n');
SELECT governance.load_policy(E'policy: &p {name: x}\n');
SELECT governance.load_policy(E'policy: *undefined\n');
SELECT governance.load_policy(E'policy: !!python/object:os.system {name: x}\n');
SELECT governance.load_policy('x: ' || repeat('[', 40) || repeat(']', 40));
SELECT governance.load_policy('x: "' || repeat('a', 1100000) || '"');
SELECT governance.load_policy(E'policy:\n  name: "a\\0b"\n');
-- a wrong policy name
SELECT governance.load_policy(replace(yaml, 'name: test-mini', 'name: "Test Mini"')) FROM doc WHERE name = 'mini';

-- nothing above changed the catalog
SELECT (SELECT count(*) FROM governance.policy) = p AS same_policies,
       (SELECT count(*) FROM governance.rule) = r AS same_rules,
       (SELECT count(*) FROM governance.policy_history) = h AS same_history,
       (SELECT string_agg(sha256, ',' ORDER BY name) FROM governance.policy) = shas AS same_content
FROM before_counts;

-- errors are catchable as the GV class
DO $$ BEGIN PERFORM governance.load_policy('- x');
EXCEPTION WHEN SQLSTATE 'GV000' THEN RAISE NOTICE 'caught class GV: %', SQLSTATE; END $$;

-- ------------------------------------------------------ files and bundled names
SELECT governance.load_bundled_policy('../../../../etc/passwd');
SELECT governance.load_bundled_policy('taxonomy');
SELECT governance.load_bundled_policy('no-such-policy');
SELECT governance.load_policy_file('relative/path.yaml');
SELECT governance.load_policy_file('/nonexistent/policy.yaml');
SELECT governance.load_policy_file('/tmp');
-- files are written into the throw-away cluster's data directory (not /tmp)
SELECT current_setting('data_directory') AS datadir \gset
\set latin1_file :datadir '/pg_governance_latin1.yaml'
\set ok_file :datadir '/pg_governance_ok.yaml'
COPY (VALUES ('policy:'), ('  name: café')) TO :'latin1_file' WITH (ENCODING 'LATIN1');
SELECT governance.load_policy_file(:'latin1_file');
COPY (VALUES ('policy:'), ('  name: from-file'), ('  version: "1"'), ('  title: t'),
             ('  controller: c'), ('rules: {}')) TO :'ok_file';
SELECT governance.load_policy_file(:'ok_file');
SELECT name, replace(origin, :'datadir', '$PGDATA') AS origin FROM governance.policy WHERE name = 'from-file';

-- ------------------------------------------------------------------ privileges
CREATE ROLE gv_plain_user;
CREATE ROLE gv_admin_user IN ROLE governance_admin;
GRANT SELECT ON doc TO gv_admin_user;
SET ROLE gv_plain_user;
SELECT governance.load_policy('policy: {}');
SELECT governance.drop_policy('from-file');
SELECT governance.set_parameter('test-mini', 'after_account_closed', 'P1Y');
SELECT governance.load_policy_file(:'ok_file');
RESET ROLE;
SET ROLE gv_admin_user;
SELECT governance.load_policy(replace(yaml, 'version: "1"', 'version: "4"')) FROM doc WHERE name = 'mini';
SELECT governance.load_policy_file('/nonexistent/pg_governance_ok.yaml');
SELECT count(*) > 0 AS admin_reads_rules FROM governance.rules;
RESET ROLE;

-- ------------------------------------------- SQLSTATEs of missing objects
-- as in PostgreSQL: a missing object is 42704, a missing column 42703; GV010
-- is only for invalid policy documents
CREATE FUNCTION pg_temp.sqlstate_of(stmt text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE stmt;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END $$;
SELECT stmt, pg_temp.sqlstate_of(stmt) FROM (VALUES
    ($$SELECT governance.drop_policy('no-such-policy')$$),
    ($$SELECT governance.set_parameter('no-such-policy', 'after_account_closed', 'P1Y')$$),
    ($$SELECT governance.set_parameter('test-mini', 'no_such_parameter', 'P1Y')$$),
    ($$SELECT governance.set_parameter('test-mini', 'after_account_closed', 'one year')$$),
    ($$SELECT governance.in_jurisdiction('CN', 'no_such_jurisdiction', 'test-mini')$$),
    ($$SELECT governance.load_bundled_policy('no-such-policy')$$),
    ($$SELECT governance.load_bundled_policy('../x')$$),
    ($$SELECT governance.load_policy_file('/tmp')$$),
    ($$SELECT governance.load_policy('policy: {}')$$)) v(stmt);

-- ------------------------------------------------------------------- dropping
SELECT governance.drop_policy('no-such-policy');
SELECT governance.drop_policy('from-file');
SELECT name, dropped FROM governance.policy_history WHERE name = 'from-file';
SELECT count(*) AS left_rows FROM governance.rule WHERE policy = 'from-file';
SELECT governance.drop_policy('test-mini');
SELECT count(*) AS left_rows FROM governance.policy_category WHERE policy = 'test-mini';

DROP TABLE snap, doc, before_counts;
DROP ROLE gv_plain_user, gv_admin_user;
