-- A retention run's batch DELETE without the guard's BEFORE ROW DELETE
-- trigger (src/retention/run_delete.c): its predicate already leaves out
-- held rows and rows inside a minimum, so the trigger is taken out of that
-- one statement, and only when the guard's is the table's only BEFORE ROW
-- DELETE trigger.  A DEBUG1 message says when.  What must not change: held
-- rows and rows inside a minimum stay; triggers of other tables (a
-- cascade) fire; the guard is back for every other statement.
SET search_path = public;
SET jit = off;
\set VERBOSITY terse
SELECT governance.set_database_region('CN');
SELECT governance.load_policy($y$
policy: {name: test-run-delete, version: "1", title: t, controller: c, home_jurisdiction: cn}
jurisdictions:
  - {name: cn, include: [CN], source: "s"}
rules:
  retention:
    - {id: rd.events, categories: [log.operation], anchor: created, maximum: P1Y, action: delete,
       source: "操作记录一年后删除"}
    - {id: rd.audit, categories: [log.security], anchor: account_closed, minimum: P3Y, maximum: P5Y, action: delete,
       source: "审计记录不少于三年"}
$y$);
CREATE ROLE rd_admin IN ROLE governance_admin;
GRANT USAGE ON SCHEMA public TO rd_admin;

CREATE TABLE ev (id int PRIMARY KEY, who text, what text, created timestamptz, audited timestamptz);
SELECT governance.bind('ev', 'test-run-delete');
SELECT governance.tag('ev', 'who', 'category=log.operation;subject');
SELECT governance.tag('ev', 'what', 'category=log.security');
SELECT governance.tag('ev', 'created', 'anchor=created');
SELECT governance.tag('ev', 'audited', 'anchor=account_closed');
GRANT SELECT, DELETE ON ev TO rd_admin;
-- rows 1-8 past their maximum, 2 held, 3 inside the audit minimum; 9 new
INSERT INTO ev SELECT g, CASE g WHEN 2 THEN 'held' ELSE 'u' || g END,
                      CASE g WHEN 3 THEN 'audit' END, now() - interval '2 years',
                      CASE g WHEN 3 THEN now() - interval '1 year' END
               FROM generate_series(1, 8) g;
INSERT INTO ev VALUES (9, 'u9', NULL, now(), NULL);
SELECT governance.place_hold('ev', 'held', 'case 1') AS hold \gset

-- a run in batches of 2: each batch is deleted without the row trigger
SET client_min_messages = debug1;
CALL governance.run_retention('ev', 2);
RESET client_min_messages;
-- the held row (2) and the row inside its minimum (3) stay, and the new one
SET ROLE rd_admin;
SELECT id, who FROM ev ORDER BY id;
RESET ROLE;
SELECT rule_id, deleted, batches FROM governance.retention_runs WHERE relation = 'public.ev' AND deleted > 0;

-- the guard is back for every other statement: the held row and the row
-- inside its minimum cannot be deleted, even by an administrator
-- (GV005 a hold, GV003 a minimum; by SQLSTATE: the messages carry an id and a time)
\set VERBOSITY sqlstate
SET ROLE rd_admin;
DELETE FROM ev WHERE id = 2;
DELETE FROM ev WHERE id = 3;
RESET ROLE;
-- ... nor through a function that runs a DELETE like the run's
CREATE FUNCTION rd_delete(t regclass, i int) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE n bigint;
BEGIN
    EXECUTE format('DELETE FROM ONLY %s WHERE id OPERATOR(pg_catalog.=) $1', t) USING i;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END $$;
SET ROLE rd_admin;
SELECT rd_delete('ev', 2);
RESET ROLE;
\set VERBOSITY terse

-- a cascade into another governed table fires that table's guard: the
-- parent row whose child is held stays, and the run says why
CREATE TABLE ev_child (id int PRIMARY KEY, ev_id int REFERENCES ev ON DELETE CASCADE, who text);
SELECT governance.bind('ev_child', 'test-run-delete');
SELECT governance.tag('ev_child', 'who', 'category=log.operation;subject');
GRANT SELECT ON ev_child TO rd_admin;
INSERT INTO ev VALUES (10, 'u10', NULL, now() - interval '2 years', NULL),
                      (11, 'u11', NULL, now() - interval '2 years', NULL);
INSERT INTO ev_child VALUES (1, 10, 'kid'), (2, 11, 'free');
SELECT governance.place_hold('ev_child', 'kid', 'case 2') AS kid_hold \gset
SET client_min_messages = debug1;
CALL governance.run_retention('ev', 10);
RESET client_min_messages;
SET ROLE rd_admin;
SELECT id FROM ev ORDER BY id;
SELECT id, ev_id FROM ev_child ORDER BY id;
RESET ROLE;
SELECT rule_id, deleted, detail IS NOT NULL AS noted FROM governance.retention_runs
WHERE relation = 'public.ev' AND run_id = (SELECT max(run_id) FROM governance.retention_runs WHERE relation = 'public.ev')
  AND (deleted > 0 OR detail IS NOT NULL);
SELECT governance.release_hold(:kid_hold);
SET pg_governance.allow_destructive_ddl = on;
DROP TABLE ev_child;
RESET pg_governance.allow_destructive_ddl;

-- another BEFORE ROW DELETE trigger, even a disabled one: the guard's stays
-- (no DEBUG1 line), and the run deletes as before
CREATE FUNCTION rd_noop() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN OLD; END $$;
CREATE TRIGGER rd_noop BEFORE DELETE ON ev FOR EACH ROW EXECUTE FUNCTION rd_noop();
ALTER TABLE ev DISABLE TRIGGER rd_noop;
INSERT INTO ev VALUES (12, 'u12', NULL, now() - interval '2 years', NULL);
SET client_min_messages = debug1;
CALL governance.run_retention('ev', 10);
RESET client_min_messages;
SET ROLE rd_admin;
SELECT id FROM ev ORDER BY id;
RESET ROLE;

-- the rows that stay past their maximum are counted (blocked): the held
-- row and the row inside its minimum
SELECT run_id = (SELECT min(run_id) FROM governance.retention_runs WHERE relation = 'public.ev') AS first_run,
       rule_id, blocked, deleted
FROM governance.retention_runs WHERE relation = 'public.ev' AND rule_id = 'rd.events' ORDER BY run_id;

-- Many rows on one anchor (more than a batch); each batch's end read from
-- an index on the anchor (run_bound.c), or, where the index is in
-- descending order, partial, or missing, with a query: every due row goes,
-- and no other, in the same batches; with nothing kept, no row is left
-- blocked, and the run knows it without counting.
CREATE FUNCTION rd_fill(t regclass) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('INSERT INTO %s SELECT g, ''u'' || g, now() - interval ''2 years'' + CASE WHEN g <= 25 THEN interval ''0'' ELSE g * interval ''1 hour'' END
                    FROM generate_series(1, 40) g', t);
    EXECUTE format('INSERT INTO %s SELECT g, ''u'' || g, now() + g * interval ''1 hour'' FROM generate_series(41, 45) g', t);
END $$;
CREATE TABLE ev_asc (id int, who text, created timestamptz);
CREATE INDEX ON ev_asc (created);
CREATE TABLE ev_desc (id int, who text, created timestamptz);
CREATE INDEX ON ev_desc (created DESC);
CREATE TABLE ev_none (id int, who text, created timestamptz);
CREATE TABLE ev_partial (id int, who text, created timestamptz);
CREATE INDEX ON ev_partial (created) WHERE id > 3;
SELECT governance.bind(t, 'test-run-delete'), governance.tag(t, 'who', 'category=log.operation'),
       governance.tag(t, 'created', 'anchor=created'), rd_fill(t)
FROM unnest('{ev_asc,ev_desc,ev_none,ev_partial}'::regclass[]) t;
SET client_min_messages = debug1;
CALL governance.run_retention('ev_asc', 4);
RESET client_min_messages;
CALL governance.run_retention('ev_desc', 4);
CALL governance.run_retention('ev_none', 4);
CALL governance.run_retention('ev_partial', 4);
SELECT relation, deleted, blocked, batches FROM governance.retention_runs
WHERE relation IN ('public.ev_asc', 'public.ev_desc', 'public.ev_none', 'public.ev_partial') ORDER BY relation;
SET pg_governance.allow_destructive_ddl = on;
SELECT (SELECT array_agg(id ORDER BY id) FROM ev_asc) AS asc_left,
       (SELECT array_agg(id ORDER BY id) FROM ev_desc) AS desc_left,
       (SELECT array_agg(id ORDER BY id) FROM ev_none) AS none_left,
       (SELECT array_agg(id ORDER BY id) FROM ev_partial) AS partial_left;
DROP TABLE ev_asc, ev_desc, ev_none, ev_partial;
DROP FUNCTION rd_fill(regclass);
-- the index entries of a previous run's rows, dead but not vacuumed yet,
-- do not count toward a batch (they made a batch of nothing each)
CREATE TABLE ev_dead (id int, who text, created timestamptz) WITH (autovacuum_enabled = off);
CREATE INDEX ON ev_dead (created);
SELECT governance.bind('ev_dead', 'test-run-delete'), governance.tag('ev_dead', 'who', 'category=log.operation'),
       governance.tag('ev_dead', 'created', 'anchor=created');
INSERT INTO ev_dead SELECT g, 'u', now() - interval '3 years' + g * interval '1 minute' FROM generate_series(1, 200) g;
CALL governance.run_retention('ev_dead', 50);
INSERT INTO ev_dead SELECT g, 'u', now() - interval '2 years' + g * interval '1 minute' FROM generate_series(201, 210) g;
CALL governance.run_retention('ev_dead', 5);
SELECT deleted, batches FROM governance.retention_runs WHERE relation = 'public.ev_dead' ORDER BY run_id;
DROP TABLE ev_dead;

-- The owner's code that PostgreSQL runs while it plans the run's batch (a
-- function in extended statistics, folded by the planner) tries the run's
-- very statement, and reads the table: its DELETE keeps the guard's
-- trigger (the held rows stay), and it sees only what the owner sees.
CREATE ROLE rd_owner;
GRANT USAGE, CREATE ON SCHEMA public TO rd_owner;
CREATE TABLE loot (src text, id int);
GRANT INSERT ON loot TO rd_owner;
CREATE TABLE ev_st (id int PRIMARY KEY, who text, created timestamptz);
SELECT governance.bind('ev_st', 'test-run-delete');
SELECT governance.tag('ev_st', 'who', 'category=log.operation;subject');
SELECT governance.tag('ev_st', 'created', 'anchor=created');
INSERT INTO ev_st VALUES (1, 'u1', now() - interval '2 years'), (2, 'held', now() - interval '2 years'),
                         (3, 'held', now() - interval '1 month'), (4, 'u4', now());
SELECT governance.place_hold('ev_st', 'held', 'case 3') AS st_hold \gset
ALTER TABLE ev_st OWNER TO rd_owner;
GRANT SELECT ON ev_st TO rd_admin;
SET ROLE rd_owner;
CREATE FUNCTION st_grab() RETURNS int LANGUAGE plpgsql VOLATILE AS $f$
BEGIN
    IF current_setting('st.busy', true) = '1' THEN RETURN 0; END IF;
    PERFORM set_config('st.busy', '1', true);
    INSERT INTO public.loot SELECT 'seen', id FROM public.ev_st;
    BEGIN
        EXECUTE 'DELETE FROM ONLY public.ev_st WHERE created OPERATOR(pg_catalog.<) $1 AND true'
            USING 'infinity'::timestamptz;
        INSERT INTO public.loot VALUES ('deleted', NULL);
    EXCEPTION WHEN OTHERS THEN
        INSERT INTO public.loot VALUES (SQLSTATE, NULL);
    END;
    PERFORM set_config('st.busy', '0', true);
    RETURN 0;
END $f$;
CREATE FUNCTION st_fold() RETURNS int LANGUAGE plpgsql IMMUTABLE AS
    $f$ DECLARE x int; BEGIN x := public.st_grab(); RETURN 1; END $f$;
CREATE STATISTICS ev_st_x ON ((id + st_fold())) FROM ev_st;
ANALYZE ev_st;
RESET ROLE;
TRUNCATE loot;
SET ROLE rd_admin;
CALL governance.run_retention('ev_st', 100);
RESET ROLE;
-- the owner's code saw what the owner sees (row 3, held but not past its
-- maximum, and row 4), never the blocked rows 1 and 2; its DELETE was refused
SELECT DISTINCT src, id FROM loot ORDER BY src, id;
-- the run deleted row 1 only
SELECT id, who FROM ev_st ORDER BY id;
SELECT governance.release_hold(:st_hold);
SET pg_governance.allow_destructive_ddl = on;
DROP TABLE ev_st, loot;
RESET pg_governance.allow_destructive_ddl;
DROP FUNCTION st_fold(), st_grab();
REVOKE ALL ON SCHEMA public FROM rd_owner;
DROP ROLE rd_owner;

-- The rules change between the batch's predicate and its execution (here,
-- while the batch is planned, a function in the table's statistics sets
-- the minimum's parameter from a day to ten years): the trigger stays for
-- that statement, and refuses by the rules as they are now.
-- (one policy for this test and the next: ev_p's rules are on log.operation
-- and log.security, ev_x's on log.support)
SELECT governance.load_policy($y$
policy: {name: test-run-delete-param, version: "1", title: t, controller: c, home_jurisdiction: cn}
jurisdictions:
  - {name: cn, include: [CN], source: "s"}
parameters:
  - {name: rd_min, default: P1D, description: "as the law requires", source: "法律规定的期限"}
  - {name: rd_max, default: P1Y, description: "as the law requires", source: "法律规定的期限"}
rules:
  retention:
    - {id: rdp.events, categories: [log.operation], anchor: created, maximum: P1D, action: delete,
       source: "操作记录一天后删除"}
    - {id: rdp.min, categories: [log.security], anchor: account_closed, minimum: {parameter: rd_min},
       source: "不少于法定期限"}
    - {id: rdx.events, categories: [log.support], anchor: created, maximum: {parameter: rd_max},
       action: delete, source: "会话记录到期后删除"}
$y$);
CREATE TABLE ev_p (id int PRIMARY KEY, who text, what text, created timestamptz, closed timestamptz);
SELECT governance.bind('ev_p', 'test-run-delete-param');
SELECT governance.tag('ev_p', 'who', 'category=log.operation');
SELECT governance.tag('ev_p', 'what', 'category=log.security');
SELECT governance.tag('ev_p', 'created', 'anchor=created');
SELECT governance.tag('ev_p', 'closed', 'anchor=account_closed');
INSERT INTO ev_p SELECT g, 'u', 'audit', now() - interval '2 years', now() - interval '2 days'
FROM generate_series(1, 3) g;
-- rd_set_once() sets the parameter named in rd.set ('policy|name|value'),
-- once; rd_fold() calls it from where the planner folds it
CREATE FUNCTION rd_set_once() RETURNS int LANGUAGE plpgsql VOLATILE AS $f$
DECLARE p text[] := string_to_array(current_setting('rd.set', true), '|');
BEGIN
    IF p IS NULL OR cardinality(p) <> 3 THEN RETURN 0; END IF;
    PERFORM set_config('rd.set', '', false);
    PERFORM governance.set_parameter(p[1], p[2], p[3]);
    RETURN 0;
END $f$;
CREATE FUNCTION rd_fold() RETURNS int LANGUAGE plpgsql IMMUTABLE AS
    $f$ DECLARE x int; BEGIN x := public.rd_set_once(); RETURN 1; END $f$;
CREATE STATISTICS ev_p_x ON ((id + rd_fold())) FROM ev_p;
ANALYZE ev_p;
-- (armed only now: the run's first statement on the table is planned then)
SET rd.set = 'test-run-delete-param|rd_min|P10Y';
SET client_min_messages = debug1;
CALL governance.run_retention('ev_p', 10);
RESET client_min_messages;
SELECT name, value FROM governance.parameters WHERE policy = 'test-run-delete-param';
SELECT id FROM ev_p ORDER BY id;
SELECT rule_id, deleted, detail ~ 'GV003' AS refused_by_the_guard FROM governance.retention_runs
WHERE relation = 'public.ev_p' AND rule_id = 'rdp.events';
SET pg_governance.allow_destructive_ddl = on;
DROP TABLE ev_p;
RESET pg_governance.allow_destructive_ddl;

-- The rows a run leaves past a delete rule's maximum are counted again at
-- its end only when it cannot know them: here the maximum is shortened
-- from a year to three months while the run plans its batch (a function
-- in the table's statistics sets the parameter), so rows of six months,
-- not due when the batch was chosen, are blocked when the run ends, and
-- the count finds them.
CREATE TABLE ev_x (id int PRIMARY KEY, who text, created timestamptz);
SELECT governance.bind('ev_x', 'test-run-delete-param');
SELECT governance.tag('ev_x', 'who', 'category=log.support');
SELECT governance.tag('ev_x', 'created', 'anchor=created');
INSERT INTO ev_x SELECT g, 'u', now() - CASE WHEN g <= 3 THEN interval '2 years' ELSE interval '6 months' END
FROM generate_series(1, 5) g;
CREATE STATISTICS ev_x_x ON ((id + rd_fold())) FROM ev_x;
ANALYZE ev_x;
SET rd.set = 'test-run-delete-param|rd_max|P3M';
CALL governance.run_retention('ev_x', 100);
SELECT rule_id, deleted, blocked FROM governance.retention_runs WHERE relation = 'public.ev_x';
SELECT count(*) AS left_past_the_new_maximum FROM ev_x;
SET pg_governance.allow_destructive_ddl = on;
DROP TABLE ev_x;
RESET pg_governance.allow_destructive_ddl;
DROP FUNCTION rd_fold(), rd_set_once();
SELECT governance.drop_policy('test-run-delete-param');

-- A minimum that mixes months with days: PostgreSQL's month arithmetic
-- clamps to a month's end, so "anchor < now - minimum" does not imply
-- "anchor + minimum <= now", which is how the guard reads a minimum.  The
-- batch keeps every row the guard would keep.  The minimum is picked for
-- today's date among those where the two differ (most dates have one),
-- with rows every hour around its cutoff.
SET TimeZone = 'UTC';
SELECT coalesce((
    SELECT format('P%sM%sD', mo, d) FROM generate_series(1, 3) mo, generate_series(0, 120) d,
        LATERAL (SELECT make_interval(months => mo, days => d) AS m) x,
        generate_series(localtimestamp - x.m - interval '1 day', localtimestamp - x.m, interval '1 hour') a
    WHERE a < localtimestamp - x.m AND a + x.m > localtimestamp + interval '1 hour'
    ORDER BY mo, d LIMIT 1), 'P2M61D') AS mixed \gset
SELECT governance.load_policy(format($y$
policy: {name: test-run-delete-min, version: "1", title: t, controller: c, home_jurisdiction: cn}
jurisdictions:
  - {name: cn, include: [CN], source: "s"}
rules:
  retention:
    - {id: rdm.events, categories: [log.operation], anchor: created, maximum: P1D, action: delete,
       source: "操作记录一天后删除"}
    - {id: rdm.min, categories: [log.security], anchor: account_closed, minimum: %s,
       source: "不少于法定期限"}
$y$, :'mixed'));
CREATE TABLE ev_min (id int PRIMARY KEY, who text, what text, created timestamptz, closed timestamptz);
SELECT governance.bind('ev_min', 'test-run-delete-min');
SELECT governance.tag('ev_min', 'who', 'category=log.operation');
SELECT governance.tag('ev_min', 'what', 'category=log.security');
SELECT governance.tag('ev_min', 'created', 'anchor=created');
SELECT governance.tag('ev_min', 'closed', 'anchor=account_closed');
INSERT INTO ev_min SELECT g, 'u', 'audit', now() - interval '1 year',
                          now() - :'mixed'::interval - interval '36 hours' + g * interval '1 hour'
FROM generate_series(1, 48) g;
CREATE TABLE ev_min_before AS SELECT id, closed FROM ev_min;
CALL governance.run_retention('ev_min', 10);
-- no row the guard keeps was deleted: none whose minimum ends after the
-- run started (and a minute more, for the run's own length)
SELECT count(*) AS deleted_inside_minimum
FROM ev_min_before b
WHERE NOT EXISTS (SELECT 1 FROM ev_min WHERE id = b.id)
  AND (b.closed AT TIME ZONE 'UTC') + :'mixed'::interval >
      (SELECT max(started_at) FROM governance.retention_runs WHERE relation = 'public.ev_min') AT TIME ZONE 'UTC'
      + interval '1 minute';
-- and the others went
SELECT count(*) > 0 AS some_deleted FROM ev_min_before b WHERE NOT EXISTS (SELECT 1 FROM ev_min WHERE id = b.id);
RESET TimeZone;
SET pg_governance.allow_destructive_ddl = on;
DROP TABLE ev_min, ev_min_before;
RESET pg_governance.allow_destructive_ddl;
SELECT governance.drop_policy('test-run-delete-min');

SELECT governance.release_hold(:hold);
SET pg_governance.allow_destructive_ddl = on;
DROP TABLE ev;
RESET pg_governance.allow_destructive_ddl;
DROP FUNCTION rd_delete(regclass, int);
DROP FUNCTION rd_noop();
REVOKE ALL ON SCHEMA public FROM rd_admin;
DROP ROLE rd_admin;
SELECT governance.drop_policy('test-run-delete');
