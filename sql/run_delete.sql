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

SELECT governance.release_hold(:hold);
SET pg_governance.allow_destructive_ddl = on;
DROP TABLE ev;
RESET pg_governance.allow_destructive_ddl;
DROP FUNCTION rd_delete(regclass, int);
DROP FUNCTION rd_noop();
REVOKE ALL ON SCHEMA public FROM rd_admin;
DROP ROLE rd_admin;
SELECT governance.drop_policy('test-run-delete');
