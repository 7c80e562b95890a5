-- Retention: the lifecycle (block, anonymize, delete), its precedence,
-- blocking by row security (GV006), holds, minimums, parameters,
-- partitions, runs and their records, bad input, and the routes around.
SET search_path = public;
\set VERBOSITY default
SELECT governance.set_database_region('CN');
SELECT setval('governance.retention_run_id_seq', 100, false);
-- errors whose message carries a time are shown by SQLSTATE
CREATE FUNCTION sqlstate_of(sql text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE sql;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE;
END $$;
SELECT governance.load_policy($y$
policy: {name: test-life, version: "1", title: t, controller: c, home_jurisdiction: cn}
jurisdictions:
  - {name: cn, include: [CN], source: "s"}
parameters:
  - {name: after_purpose_fulfilled, default: null, description: "as the law requires", source: "法律规定的期限"}
rules:
  retention:
    - {id: life.block, categories: [personal.name], anchor: account_closed, maximum: P0D, action: block,
       source: "注销后不再使用"}
    - {id: life.closed, categories: [personal], anchor: account_closed, maximum: P1Y, action: delete,
       source: "注销一年后删除"}
    - {id: life.left, categories: [personal], anchor: left_organization, maximum: P3Y, action: anonymize,
       source: "离职三年后匿名化"}
    - {id: life.logs, categories: [log.security], anchor: created, minimum: P6M, maximum: P1Y, action: anonymize,
       source: "日志不少于六个月"}
    - {id: life.purpose, categories: [personal.contact.address], anchor: purpose_fulfilled,
       maximum: {parameter: after_purpose_fulfilled}, action: delete, source: "目的实现后依法保存"}
    - {id: life.events, categories: [log.operation], anchor: created, maximum: P1Y, action: delete,
       source: "操作记录一年后删除"}
    - {id: life.sessions, categories: [log.support], anchor: created, maximum: P6M, action: delete,
       source: "会话记录六个月后删除"}
$y$);

CREATE ROLE life_owner;
CREATE ROLE life_app;
CREATE ROLE life_admin IN ROLE governance_admin;
GRANT USAGE ON SCHEMA public TO life_owner, life_app, life_admin;
GRANT CREATE ON SCHEMA public TO life_owner;

-- ------------------------------------------------------------ blocking
SET ROLE life_owner;
CREATE TABLE accounts (id int PRIMARY KEY, name text, email text, closed_at timestamptz);
GRANT SELECT, INSERT, UPDATE, DELETE ON accounts TO life_app, life_admin;
RESET ROLE;
SELECT governance.bind('accounts', 'test-life');
SELECT governance.tag('accounts', 'name', 'category=personal.name');
SELECT governance.tag('accounts', 'email', 'category=personal.contact.email;subject');
SELECT governance.tag('accounts', 'closed_at', 'anchor=account_closed');
INSERT INTO accounts VALUES
    (1, 'open', 'a1@x.cn', NULL),
    (2, 'closed now', 'a2@x.cn', now()),
    (3, 'closed 2 days ago', 'a3@x.cn', now() - interval '2 days'),
    (4, 'closed 2 years ago', 'a4@x.cn', now() - interval '2 years'),
    (5, 'closed 3 years ago, held', 'a5@x.cn', now() - interval '3 years');
-- the guard's row security: forced, restrictive, and open while the table has no policy of its own
SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE oid = 'accounts'::regclass;
SELECT polname, polpermissive, polcmd FROM pg_policy WHERE polrelid = 'accounts'::regclass ORDER BY 1;
-- rows are blocked the moment their period ends, with no job: hidden from
-- the app and from the owner, seen by governance_admin
SET ROLE life_app;
SELECT id, name FROM accounts ORDER BY id;
SET ROLE life_owner;
SELECT id, name FROM accounts ORDER BY id;
-- ... in a parallel plan too (the leader computes the cutoffs)
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET force_parallel_mode = on;
SELECT count(*) AS app_sees_in_parallel FROM accounts;
RESET force_parallel_mode;
RESET min_parallel_table_scan_size;
RESET parallel_tuple_cost;
RESET parallel_setup_cost;
SET ROLE life_admin;
SELECT id, name FROM accounts ORDER BY id;
-- ... who may not write them (GV006), nor may a superuser
UPDATE accounts SET name = 'changed' WHERE id = 3;
DELETE FROM accounts WHERE id = 3;
RESET ROLE;
DELETE FROM accounts WHERE id = 4;
-- the app's writes to blocked rows find nothing; live rows work as before
SET ROLE life_app;
UPDATE accounts SET name = 'changed' WHERE id = 3;
DELETE FROM accounts WHERE id = 4;
UPDATE accounts SET name = 'still open' WHERE id = 1;
-- closing an account now keeps the row visible in this transaction
UPDATE accounts SET closed_at = now() WHERE id = 1;
-- writing a past closing date into a visible row is writing a blocked row
INSERT INTO accounts VALUES (6, 'open too', 'a6@x.cn', NULL);
UPDATE accounts SET closed_at = now() - interval '1 day' WHERE id = 6;
RESET ROLE;
DELETE FROM accounts WHERE id = 6;
-- once the transaction that closed it is over, reopening is writing a blocked row
UPDATE accounts SET closed_at = NULL WHERE id = 1;
-- the app's own policies keep deciding what it sees: governance_open goes
-- while the table has a permissive policy of its own
SET ROLE life_owner;
CREATE POLICY only_even ON accounts FOR SELECT USING (id % 2 = 0);
RESET ROLE;
SELECT polname, polpermissive FROM pg_policy WHERE polrelid = 'accounts'::regclass ORDER BY 1;
SET ROLE life_app;
SELECT id FROM accounts ORDER BY id;
SET ROLE life_owner;
DROP POLICY only_even ON accounts;
RESET ROLE;
SELECT polname FROM pg_policy WHERE polrelid = 'accounts'::regclass ORDER BY 1;
-- the guard's policies and row security cannot be taken away
SET ROLE life_owner;
DROP POLICY governance_blocked ON accounts;
ALTER POLICY governance_blocked ON accounts USING (true);
ALTER POLICY governance_open ON accounts RENAME TO mine;
CREATE POLICY governance_blocked ON accounts USING (true);
ALTER TABLE accounts DISABLE ROW LEVEL SECURITY;
ALTER TABLE accounts NO FORCE ROW LEVEL SECURITY;
SELECT id FROM accounts ORDER BY id;
RESET ROLE;
SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE oid = 'accounts'::regclass;
-- blocked rows are kept for the law: the owner, who cannot see them, cannot
-- destroy them wholesale either
SET ROLE life_owner;
TRUNCATE accounts;
DROP TABLE accounts;
ALTER TABLE accounts DROP COLUMN name;
RESET ROLE;
-- renaming the table or moving it to another schema keeps blocking
CREATE SCHEMA life_other;
GRANT USAGE ON SCHEMA life_other TO life_app;
ALTER TABLE accounts RENAME TO accounts_renamed;
ALTER TABLE accounts_renamed SET SCHEMA life_other;
SET ROLE life_app;
SELECT id FROM life_other.accounts_renamed ORDER BY id;
RESET ROLE;
ALTER TABLE life_other.accounts_renamed SET SCHEMA public;
ALTER TABLE accounts_renamed RENAME TO accounts;
DROP SCHEMA life_other;
-- renaming the anchor column keeps blocking on it
ALTER TABLE accounts RENAME COLUMN closed_at TO closed;
SET ROLE life_app;
SELECT id FROM accounts ORDER BY id;
RESET ROLE;
ALTER TABLE accounts RENAME COLUMN closed TO closed_at;

-- ------------------------------------------------------------ preview and runs
SELECT governance.place_hold('accounts', 'a5@x.cn', 'case 42') AS hold \gset
SELECT rule_id, action, rows_due, oldest_anchor < now() - interval '23 months' AS old, detail
FROM governance.retention_preview('accounts') ORDER BY rule_id;
-- a dry run records what it would do and changes nothing
CALL governance.run_retention('accounts', dry_run => true);
SELECT run_id, relation, rule_id, action, status, blocked, anonymized, deleted, batches, dry_run
FROM governance.retention_runs ORDER BY run_id, rule_id;
SELECT count(*) AS rows_after_dry_run FROM accounts;
-- the run deletes the due row, keeps the held one (blocked)
SET ROLE life_admin;
CALL governance.run_retention('accounts', batch_size => 1);
RESET ROLE;
SELECT run_id, rule_id, action, status, blocked, deleted, batches, dry_run, run_by = 'life_admin' AS by_admin,
       finished_at >= started_at AS finished
FROM governance.retention_runs WHERE run_id = 101 ORDER BY rule_id;
SELECT id, name FROM accounts ORDER BY id;
-- a second run finds nothing more to do
CALL governance.run_retention('accounts');
SELECT rule_id, deleted, blocked FROM governance.retention_runs WHERE run_id = 102 ORDER BY rule_id;
SELECT governance.release_hold(:hold);
CALL governance.run_retention('accounts');
SELECT id FROM accounts ORDER BY id;

-- ------------------------------------------------------------ anonymize, minimum
CREATE TABLE logs (id int PRIMARY KEY, msg text NOT NULL, ip text, created timestamptz NOT NULL);
SELECT governance.bind('logs', 'test-life');
SELECT governance.tag('logs', 'msg', 'category=log.security');
SELECT governance.tag('logs', 'created', 'anchor=created');
INSERT INTO logs VALUES
    (1, 'login from 10.0.0.1', '10.0.0.1', now() - interval '3 months'),
    (2, 'login from 10.0.0.2', '10.0.0.2', now() - interval '8 months'),
    (3, 'login from 10.0.0.3', '10.0.0.3', now() - interval '2 years'),
    (4, 'login from 10.0.0.4', '10.0.0.4', now() - interval '3 years');
-- inside its minimum a row cannot be deleted (GV003); the run leaves it
SELECT sqlstate_of('DELETE FROM logs WHERE id = 1') AS delete_inside_minimum;
SELECT rule_id, action, rows_due FROM governance.retention_preview('logs');
CALL governance.run_retention('logs');
SELECT rule_id, anonymized, deleted FROM governance.retention_runs WHERE relation = 'public.logs';
-- anonymized rows keep no message, and their clock has stopped (infinity:
-- the anchor is NOT NULL), so they are visible again and never due again
SELECT id, msg LIKE 'anon-%' AS anonymized, msg = 'login from 10.0.0.' || id AS kept, created = 'infinity' AS stopped
FROM logs ORDER BY id;
CALL governance.run_retention('logs');
SELECT run_id, anonymized FROM governance.retention_runs WHERE relation = 'public.logs' ORDER BY run_id;
-- an infinite anchor is set only by the run: on a retained row it is refused like NULL
SELECT sqlstate_of($$UPDATE logs SET created = 'infinity' WHERE id = 1$$) AS stop_the_clock;

-- ------------------------------------------------------------ precedence: the longest wins
CREATE TABLE staff (id int PRIMARY KEY, name text, closed_at date, left_at date);
SELECT governance.bind('staff', 'test-life');
SELECT governance.tag('staff', 'name', 'category=personal.name');
SELECT governance.tag('staff', 'closed_at', 'anchor=account_closed');
SELECT governance.tag('staff', 'left_at', 'anchor=left_organization');
INSERT INTO staff VALUES
    (1, 'closed 2y, left 2y', current_date - 730, current_date - 730),
    (2, 'closed 4y, left 4y', current_date - 1461, current_date - 1461),
    (3, 'closed 4y, still here', current_date - 1461, NULL),
    (4, 'closed today (UTC, as date anchors are read)', (now() AT TIME ZONE 'UTC')::date, NULL);
SELECT rule_id, action, rows_due FROM governance.retention_preview('staff') ORDER BY rule_id;
CALL governance.run_retention('staff');
SELECT id, name LIKE 'anon-%' OR name LIKE '匿名%' AS anonymized, closed_at IS NULL AS clock_stopped FROM staff ORDER BY id;

-- ------------------------------------------------------------ parameters left to the law
CREATE TABLE addresses (id int PRIMARY KEY, addr text, done_at timestamptz);
GRANT SELECT ON addresses TO life_app;
SELECT governance.bind('addresses', 'test-life');
SELECT governance.tag('addresses', 'addr', 'category=personal.contact.address');
SELECT governance.tag('addresses', 'done_at', 'anchor=purpose_fulfilled');
INSERT INTO addresses VALUES (1, '上海市', now() - interval '5 years'), (2, '北京市', NULL);
-- unset: the rule blocks and never deletes
SELECT rule_id, action, rows_due, detail FROM governance.retention_preview('addresses');
CALL governance.run_retention('addresses');
SELECT count(*) AS kept FROM addresses;
SET ROLE life_app;
SELECT id FROM addresses;
RESET ROLE;
SELECT governance.set_parameter('test-life', 'after_purpose_fulfilled', 'P1Y');
SELECT rule_id, action, rows_due FROM governance.retention_preview('addresses');
CALL governance.run_retention('addresses');
SELECT id FROM addresses;

-- ------------------------------------------------------------ anonymization and constraints
CREATE TABLE orgs (id int PRIMARY KEY);
INSERT INTO orgs VALUES (1);
CREATE DOMAIN mobile AS text CHECK (VALUE ~ '^1[3-9][0-9]{9}$');
CREATE TABLE people (id int PRIMARY KEY, email varchar(40) NOT NULL UNIQUE, phone mobile NOT NULL,
                     name text CHECK (length(name) > 0), born date, org int NOT NULL REFERENCES orgs,
                     left_at timestamptz);
SELECT governance.bind('people', 'test-life');
SELECT governance.tag('people', 'email', 'category=personal.contact.email');
SELECT governance.tag('people', 'phone', 'category=personal.contact.phone');
SELECT governance.tag('people', 'name', 'category=personal.name');
SELECT governance.tag('people', 'born', 'category=personal');
SELECT governance.tag('people', 'org', 'category=personal.employment');
SELECT governance.tag('people', 'left_at', 'anchor=left_organization');
INSERT INTO people SELECT i, 'p' || i || '@corp.cn', '1391234' || lpad(i::text, 4, '0'), 'person ' || i,
    date '1990-06-15' + i, 1, now() - interval '4 years' FROM generate_series(1, 50) i;
CALL governance.run_retention('people', batch_size => 7);
SELECT count(*) AS rows, count(DISTINCT email) AS distinct_emails,
       count(*) FILTER (WHERE email LIKE '%@corp.cn' AND email NOT LIKE 'p%') AS domain_kept,
       count(*) FILTER (WHERE phone LIKE '139%' AND right(phone, 4) = lpad(id::text, 4, '0')) AS phone_shape,
       count(*) FILTER (WHERE born = date '1990-01-01') AS born_year,
       count(*) FILTER (WHERE org = 1) AS fk_kept,
       count(*) FILTER (WHERE left_at IS NULL) AS clock_stopped
FROM people;
SELECT rule_id, anonymized, batches FROM governance.retention_runs WHERE relation = 'public.people' AND anonymized > 0;

-- ------------------------------------------------------------ partitions
CREATE TABLE events (id int, who text, at date NOT NULL) PARTITION BY RANGE (at);
CREATE TABLE events_old PARTITION OF events FOR VALUES FROM ('2000-01-01') TO ('2001-01-01');
CREATE TABLE events_held PARTITION OF events FOR VALUES FROM ('2001-01-01') TO ('2002-01-01');
CREATE TABLE events_now PARTITION OF events FOR VALUES FROM ('2002-01-01') TO (MAXVALUE);
SELECT governance.bind('events', 'test-life');
SELECT governance.tag('events', 'who', 'category=log.operation;subject');
SELECT governance.tag('events', 'at', 'anchor=created');
INSERT INTO events VALUES (1, 'a', '2000-05-01'), (2, 'b', '2000-06-01'), (3, 'c', '2001-05-01'),
    (4, 'held', '2001-06-01'), (5, 'd', '2003-01-01'), (6, 'e', current_date);
SELECT governance.place_hold('events', 'held', 'case 7') AS hold \gset
-- a fresh session whose first read of a blocking table with a hold is a
-- parallel plan (the guard's rules are built in parallel mode)
GRANT SELECT ON events TO life_app;
\c -
SET ROLE life_app;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET force_parallel_mode = on;
SELECT count(*) AS app_sees_events FROM events;
RESET ROLE;
RESET force_parallel_mode;
RESET min_parallel_table_scan_size;
RESET parallel_tuple_cost;
RESET parallel_setup_cost;
SET search_path = public;
CALL governance.run_retention('events');
-- the expired partition went whole; the one with a held row row by row
SELECT relname FROM pg_class WHERE relname LIKE 'events_%' ORDER BY 1;
SELECT id, who FROM events ORDER BY id;
SELECT rule_id, deleted, partitions_dropped, detail FROM governance.retention_runs
WHERE relation = 'public.events' AND rule_id = 'life.events';
SELECT governance.release_hold(:hold);

-- ------------------------------------------------------------ every table at once
CALL governance.run_retention();
SELECT relation, count(*) AS rules, bool_and(status IN ('done', 'skipped')) AS all_done
FROM governance.retention_runs
WHERE run_id = (SELECT max(run_id) FROM governance.retention_runs)
  AND relation = ANY ('{public.accounts,public.addresses,public.events,public.logs,public.people,public.staff}')
GROUP BY relation ORDER BY relation;

-- ------------------------------------------------------------ owner code never sees blocked rows
-- (a security review's routes: each one was open before its fix)
CREATE TABLE spied (id int PRIMARY KEY, name text, closed_at timestamptz);
ALTER TABLE spied OWNER TO life_owner;
SELECT governance.bind('spied', 'test-life');
SELECT governance.tag('spied', 'name', 'category=personal.name');
SELECT governance.tag('spied', 'closed_at', 'anchor=account_closed');
INSERT INTO spied VALUES (1, 'live', NULL), (2, 'blocked, not due', now() - interval '2 days'),
                         (3, 'due', now() - interval '2 years');
GRANT SELECT ON spied TO life_app, governance_reader;
SET ROLE life_owner;
CREATE TABLE spy (src text, seen text);
GRANT INSERT ON spy TO PUBLIC;
-- a trigger that copies what it can read, and one that would un-block rows
CREATE FUNCTION spy_trigger() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO public.spy SELECT 'trigger', name FROM public.spied;
    UPDATE public.spied SET closed_at = NULL WHERE id <> OLD.id;
    RETURN OLD;
END $$;
CREATE TRIGGER z_spy BEFORE DELETE ON spied FOR EACH ROW EXECUTE FUNCTION spy_trigger();
RESET ROLE;
-- the run leaves such a table alone, its rows blocked, and says why
CALL governance.run_retention('spied');
SELECT rule_id, deleted, detail FROM governance.retention_runs
WHERE relation = 'public.spied' AND rule_id = 'life.closed';
SELECT count(*) AS rows_kept FROM spied;
SET ROLE life_owner;
DROP TRIGGER z_spy ON spied;
-- a policy function of the owner's, evaluated on every row a preview reads
CREATE FUNCTION spy_policy(n text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO public.spy VALUES ('policy', n);
    RETURN true;
END $$;
CREATE POLICY mine ON spied USING (spy_policy(name));
RESET ROLE;
SET ROLE life_admin;
SELECT rule_id, rows_due, detail FROM governance.retention_preview('spied') WHERE rule_id = 'life.closed';
RESET ROLE;
SET ROLE life_owner;
DROP POLICY mine ON spied;
-- owner code that runs deeper inside a run's statement (a cascaded delete's
-- trigger) sees no more than the owner does
CREATE TABLE spied_child (parent int REFERENCES spied ON DELETE CASCADE);
INSERT INTO spied_child VALUES (3);
CREATE FUNCTION spy_cascade() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO public.spy SELECT 'cascade', name FROM public.spied;
    RETURN OLD;
END $$;
CREATE TRIGGER spy_cascade AFTER DELETE ON spied_child FOR EACH ROW EXECUTE FUNCTION spy_cascade();
RESET ROLE;
CALL governance.run_retention('spied');
SELECT id FROM spied ORDER BY id;
-- nothing blocked reached the owner's code
SELECT src, seen FROM spy ORDER BY 1, 2;
-- an error inside a preview's own query (the owner revoked its own SELECT)
-- does not leave the session seeing blocked rows
SET ROLE life_owner;
REVOKE SELECT ON spied FROM life_owner;
RESET ROLE;
SET ROLE life_admin;
SELECT * FROM governance.retention_preview('spied');
RESET ROLE;
SET ROLE life_app;
SELECT count(*) AS app_sees_after_error FROM spied;
SELECT governance._sees_blocked('spied') AS app_sees_blocked;
RESET ROLE;
SET pg_governance.allow_destructive_ddl = on;
DROP TABLE spied, spied_child, spy;
RESET pg_governance.allow_destructive_ddl;
DROP FUNCTION spy_trigger(), spy_policy(text), spy_cascade();

-- the session's TimeZone does not move what is blocked (six months back
-- from now crosses a change of daylight saving time in New York)
CREATE TABLE sessions (id int, note text, created timestamptz);
SELECT governance.bind('sessions', 'test-life');
SELECT governance.tag('sessions', 'note', 'category=log.support');
SELECT governance.tag('sessions', 'created', 'anchor=created');
GRANT SELECT ON sessions TO life_app;
BEGIN;
SET LOCAL ROLE life_app;
SET LOCAL TimeZone = 'UTC';
SELECT governance._cutoff_timestamptz('sessions', 'created') = now() - interval '6 months' AS utc_cutoff;
SELECT extract(epoch FROM governance._cutoff_timestamptz('sessions', 'created')) AS cutoff_utc \gset
SET LOCAL TimeZone = 'America/New_York';
SELECT extract(epoch FROM governance._cutoff_timestamptz('sessions', 'created')) = :cutoff_utc AS same_cutoff;
COMMIT;
DROP TABLE sessions;

-- ------------------------------------------------------------ governing never widens access
-- a table that denies by default (row security on, no policy) stays closed
CREATE TABLE secrets (id int, name text, closed_at timestamptz);
INSERT INTO secrets VALUES (1, 'top secret', NULL);
GRANT SELECT ON secrets TO life_app;
ALTER TABLE secrets ENABLE ROW LEVEL SECURITY;
SET ROLE life_app;
SELECT count(*) AS before_tag FROM secrets;
RESET ROLE;
SELECT governance.bind('secrets', 'test-life');
SELECT governance.tag('secrets', 'name', 'category=personal.name');
SELECT governance.tag('secrets', 'closed_at', 'anchor=account_closed');
SELECT polname FROM pg_policy WHERE polrelid = 'secrets'::regclass ORDER BY 1;
SET ROLE life_app;
SELECT count(*) AS after_tag FROM secrets;
RESET ROLE;
-- untagging gives back row security as it was: on, not forced
SELECT governance.untag('secrets', 'closed_at');
SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE oid = 'secrets'::regclass;
DROP TABLE secrets;

-- an ungoverned parent would show a governed child's blocked rows: refused
CREATE TABLE parent_plain (id int, name text, closed_at timestamptz);
CREATE TABLE child_gov (id int, name text, closed_at timestamptz);
SELECT governance.bind('child_gov', 'test-life');
SELECT governance.tag('child_gov', 'name', 'category=personal.name');
SELECT governance.tag('child_gov', 'closed_at', 'anchor=account_closed');
ALTER TABLE child_gov INHERIT parent_plain;
CREATE TABLE part_plain (id int, name text, closed_at timestamptz) PARTITION BY RANGE (id);
ALTER TABLE part_plain ATTACH PARTITION child_gov FOR VALUES FROM (0) TO (100);
-- tagging a child of an ungoverned parent is refused too
CREATE TABLE child_plain () INHERITS (parent_plain);
SELECT governance.bind('child_plain', 'test-life');
SELECT governance.tag('child_plain', 'name', 'category=personal.name');
SELECT governance.tag('child_plain', 'closed_at', 'anchor=account_closed');
DROP TABLE parent_plain, child_gov, part_plain CASCADE;

-- ------------------------------------------------------------ a reloaded policy that starts to block
SELECT governance.load_policy($y$
policy: {name: test-reload, version: "1", title: t, controller: c, home_jurisdiction: cn}
jurisdictions:
  - {name: cn, include: [CN], source: "s"}
rules:
  retention:
    - {id: r.keep, categories: [personal.name], anchor: account_closed, minimum: P1D, source: "s"}
$y$);
CREATE TABLE reloaded (id int, name text, closed_at timestamptz);
GRANT SELECT ON reloaded TO life_app;
SELECT governance.bind('reloaded', 'test-reload');
SELECT governance.tag('reloaded', 'name', 'category=personal.name');
SELECT governance.tag('reloaded', 'closed_at', 'anchor=account_closed');
INSERT INTO reloaded VALUES (1, 'closed long ago', now() - interval '1 year');
SELECT count(*) AS policies_before FROM pg_policy WHERE polrelid = 'reloaded'::regclass;
SELECT governance.load_policy($y$
policy: {name: test-reload, version: "2", title: t, controller: c, home_jurisdiction: cn}
jurisdictions:
  - {name: cn, include: [CN], source: "s"}
rules:
  retention:
    - {id: r.keep, categories: [personal.name], anchor: account_closed, minimum: P1D, maximum: P30D,
       action: block, source: "s"}
$y$);
SELECT count(*) AS policies_after FROM pg_policy WHERE polrelid = 'reloaded'::regclass;
SET ROLE life_app;
SELECT count(*) AS app_sees FROM reloaded;
RESET ROLE;
SET pg_governance.allow_destructive_ddl = on;
DROP TABLE reloaded;
RESET pg_governance.allow_destructive_ddl;
SELECT governance.drop_policy('test-reload');

-- ------------------------------------------------------------ deletion impossible: block
-- a row still referenced (here through a deferred foreign key, checked
-- inside the batch) cannot be deleted: it stays, blocked, and the run
-- says why; the others go
CREATE TABLE closed_accounts (id int PRIMARY KEY, name text, closed_at timestamptz);
CREATE TABLE invoices (id int, account int REFERENCES closed_accounts DEFERRABLE INITIALLY DEFERRED);
SELECT governance.bind('closed_accounts', 'test-life');
SELECT governance.tag('closed_accounts', 'name', 'category=personal.name');
SELECT governance.tag('closed_accounts', 'closed_at', 'anchor=account_closed');
INSERT INTO closed_accounts SELECT i, 'n' || i, now() - interval '2 years' FROM generate_series(1, 5) i;
INSERT INTO invoices VALUES (1, 3);
CALL governance.run_retention('closed_accounts');
SELECT id FROM closed_accounts ORDER BY id;
SELECT rule_id, deleted, regexp_replace(detail, 'SQLSTATE 23503: .*', 'SQLSTATE 23503: ...') AS detail
FROM governance.retention_runs WHERE relation = 'public.closed_accounts' AND rule_id = 'life.closed';
DROP TABLE invoices;
SET pg_governance.allow_destructive_ddl = on;
DROP TABLE closed_accounts;
RESET pg_governance.allow_destructive_ddl;

-- ------------------------------------------------------------ bad input
-- a run reads holds after it locks each table: it needs READ COMMITTED
SET default_transaction_isolation = 'repeatable read';
CALL governance.run_retention('accounts');
RESET default_transaction_isolation;
CALL governance.run_retention('no_such_table');
CREATE TABLE plain (id int);
CALL governance.run_retention('plain');
SELECT * FROM governance.retention_preview('plain');
CREATE VIEW plain_view AS SELECT * FROM plain;
CALL governance.run_retention('plain_view');
CALL governance.run_retention('accounts', batch_size => 0);
CALL governance.run_retention('accounts', batch_size => -5);
BEGIN;
CALL governance.run_retention('accounts');
ROLLBACK;
SET ROLE life_app;
CALL governance.run_retention('accounts');
SELECT * FROM governance.retention_preview('accounts');
SELECT count(*) FROM governance.retention_runs;
RESET ROLE;
-- scheduling needs pg_cron (test/t/retention_cron.sh schedules for real)
SELECT governance.schedule_retention('0 3 * * *');
SELECT governance.unschedule_retention();
SET ROLE life_app;
SELECT governance.schedule_retention('0 3 * * *');
RESET ROLE;
-- the cutoffs of the row security policy, called by hand, reveal nothing and
-- fail on nothing: a table without blocking, an unknown column
SELECT governance._cutoff_timestamptz('plain', 'id') AS no_blocking,
       governance._cutoff_date('accounts', 'no_such_column') AS unknown_column;
SELECT governance._cutoff_timestamp(0, 'x') AS no_table;
-- internal steps are not for PUBLIC, nor callable out of a run
SELECT governance._retention_step();
SET ROLE life_app;
SELECT governance._retention_start(NULL, 10, false);
RESET ROLE;
-- runs are trimmed with trim_retention_runs
SELECT governance.trim_retention_runs(interval '0') > 0 AS trimmed;
SELECT count(*) AS left_runs FROM governance.retention_runs;

-- ------------------------------------------------------------ untag: row security goes
SELECT governance.untag('addresses', 'done_at');
SELECT governance.untag('addresses', 'addr');
SELECT relrowsecurity, relforcerowsecurity, (SELECT count(*) FROM pg_policy WHERE polrelid = 'addresses'::regclass) AS policies
FROM pg_class WHERE oid = 'addresses'::regclass;

SET pg_governance.allow_destructive_ddl = on;
DROP TABLE accounts, logs, staff, addresses, people, orgs, events, plain CASCADE;
RESET pg_governance.allow_destructive_ddl;
DROP FUNCTION sqlstate_of(text);
DROP DOMAIN mobile;
REVOKE ALL ON SCHEMA public FROM life_owner, life_app, life_admin;
DROP ROLE life_owner, life_app, life_admin;
SELECT governance.drop_policy('test-life');
