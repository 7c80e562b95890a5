-- Sharing log: the chain, its canonical encoding, verification and digests,
-- tampering behind the extension's back, append-only for every role,
-- rows arriving with a hash (restore), rollback, erasure, privileges.
-- Rows are appended by INSERT as the superuser (the owner); the BEFORE
-- INSERT trigger chains them as it chains governance.share()'s.
-- Nothing printed depends on the time: hashes are compared, not shown
-- (except the known answer of a row whose every column is fixed).
SET search_path = public;
\set VERBOSITY default

-- the superuser's ways around the log, used to play the tamperer
CREATE FUNCTION behind_the_back(sql text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    ALTER TABLE governance.sharing_log DISABLE TRIGGER sharing_log_append_only;
    ALTER TABLE governance.sharing_log DISABLE TRIGGER sharing_log_chain;
    EXECUTE sql;
    ALTER TABLE governance.sharing_log ENABLE ALWAYS TRIGGER sharing_log_append_only;
    ALTER TABLE governance.sharing_log ENABLE ALWAYS TRIGGER sharing_log_chain;
END $$;
CREATE FUNCTION reset_log() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    PERFORM behind_the_back('TRUNCATE governance.sharing_log');
    UPDATE governance.sharing_log_state SET last_id = 0, last_hash = repeat('0', 64);
END $$;
CREATE FUNCTION fill(n int) RETURNS void LANGUAGE sql AS $$
    INSERT INTO governance.sharing_log (policy, recipient, categories, purpose, subject,
                                        destination, legal_basis, rule_id, personal)
    SELECT 'jinpai-mail', CASE WHEN i % 2 = 0 THEN 'class:successor' ELSE '百度SDK' END,
           '{personal.name,personal.contact.email}', 'merger_acquisition',
           CASE WHEN i % 5 <> 0 THEN 'subject-' || (i % 3) END,
           CASE WHEN i % 2 = 0 THEN 'HK' END, CASE WHEN i % 4 = 0 THEN 'consent' END,
           'share.successor', i % 5 <> 0
    FROM generate_series(1, n) i;
$$;
-- a chain check done in SQL, independently of verify_sharing_log()
CREATE VIEW chain AS
    SELECT count(*) AS rows,
           bool_and(hash ~ '^[0-9a-f]{64}$') AS hex,
           bool_and(prev_hash = coalesce(prev, repeat('0', 64))) AS linked,
           bool_and(id = n) AS ids_1_to_n,
           bool_and(rehash = hash) AS hashes
    FROM (SELECT l.id, l.prev_hash, l.hash, governance.sharing_log_hash(l) AS rehash,
                 lag(l.hash) OVER (ORDER BY l.id) AS prev, row_number() OVER (ORDER BY l.id) AS n
          FROM governance.sharing_log l) l;

-- ------------------------------------------------------------ empty log
SELECT * FROM governance.verify_sharing_log();
SELECT * FROM governance.sharing_log_digest();
SELECT governance.sharing_log_head() = repeat('0', 64) AS genesis;
SELECT * FROM governance.verify_sharing_log(0, repeat('0', 64));

-- ------------------------------------------------------------ the chain
SELECT fill(6);
SELECT * FROM chain;
SELECT * FROM governance.verify_sharing_log();
SELECT id, actor = current_user AS actor_is_me, logged_at <= now() AS logged,
       subject IS NULL AS no_subject, subject ~ '^[0-9a-f]{32}$' AS pseudonym
FROM governance.sharing_log ORDER BY id;
-- the subject is never stored: the same person has the same pseudonym
SELECT count(*) FROM governance.sharing_log WHERE subject LIKE 'subject-%';
SELECT count(DISTINCT subject) AS people, count(subject) AS rows_with_subject FROM governance.sharing_log;
SELECT count(*) FROM governance.sharing_log WHERE subject = governance.sharing_pseudonym('subject-1');
SELECT governance.sharing_pseudonym('nobody');
-- the digest and head name the last row
SELECT d.id, d.hash = l.hash AS is_last_hash, governance.sharing_log_head() = l.hash AS head
FROM governance.sharing_log_digest() d JOIN governance.sharing_log l USING (id);
SELECT id AS digest_id, hash AS digest_hash FROM governance.sharing_log_digest() \gset
SELECT hash AS row3_hash FROM governance.sharing_log WHERE id = 3 \gset
SELECT * FROM governance.verify_sharing_log(:digest_id, :'digest_hash');
SELECT * FROM governance.verify_sharing_log(3, :'row3_hash');
SELECT * FROM governance.verify_sharing_log(3, upper(:'row3_hash'));
SELECT * FROM governance.verify_sharing_log(3, :'digest_hash');       -- not row 3's hash
SELECT * FROM governance.verify_sharing_log(99, :'digest_hash');      -- a row the chain never reached
SELECT * FROM governance.verify_sharing_log(0, repeat('0', 64));
SELECT * FROM governance.verify_sharing_log(3, 'not a hash');
SELECT * FROM governance.verify_sharing_log(-1, repeat('0', 64));
SELECT * FROM governance.verify_sharing_log(NULL, repeat('0', 64));

-- ------------------------------------------------------------ the encoding
-- a row with every column fixed has a known hash; the same hash computed
-- here in SQL from the documented encoding (docs/sharing-log.md)
SELECT reset_log();
INSERT INTO governance.sharing_log (logged_at, policy, recipient, categories, purpose, subject,
                                    destination, legal_basis, rule_id, actor, personal)
VALUES ('2024-01-01 08:00:00.000001+08', 'jinpai-mail', '百度SDK', '{personal.name,personal.contact.phone}',
        'marketing', NULL, 'hk', NULL, 'share.sdk', 'auditor', false);
SELECT id, hash FROM governance.sharing_log;
CREATE FUNCTION enc(t text) RETURNS bytea LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN t IS NULL THEN '\x6e'::bytea
                ELSE '\x74'::bytea || int4send(octet_length(convert_to(t, 'UTF8'))) || convert_to(t, 'UTF8') END
$$;
CREATE FUNCTION enc(i bigint) RETURNS bytea LANGUAGE sql IMMUTABLE AS $$
    SELECT '\x69'::bytea || int8send(i)
$$;
SELECT encode(sha256(
           convert_to('pg_governance.sharing_log.v1', 'UTF8') || '\x00'::bytea
           || enc(l.prev_hash) || enc(l.id)
           || enc((extract(epoch FROM l.logged_at) * 1000000)::bigint)
           || enc(l.policy) || enc(l.recipient)
           || '\x61'::bytea || int4send(1) || int4send(cardinality(l.categories)) || int4send(1)
           || (SELECT string_agg(enc(c::text), ''::bytea ORDER BY o)
               FROM unnest(l.categories) WITH ORDINALITY u(c, o))
           || enc(l.purpose) || enc(l.subject) || enc(l.destination::text) || enc(l.legal_basis)
           || enc(l.rule_id) || enc(l.actor::text)
           || '\x62'::bytea || CASE WHEN l.personal THEN '\x01'::bytea ELSE '\x00'::bytea END),
       'hex') = l.hash AS documented_encoding
FROM governance.sharing_log l;
-- session settings change nothing: hashes recomputed and rows appended
-- under other settings verify under the usual ones, and the other way round
SELECT fill(4);
SET TimeZone = 'America/Los_Angeles';
SET DateStyle = 'SQL, DMY';
SET IntervalStyle = 'sql_standard';
SET extra_float_digits = -3;
SET client_encoding = 'GB18030';
SET lc_messages = 'C';
SELECT * FROM chain;
SELECT fill(3);
SELECT * FROM governance.verify_sharing_log();
RESET TimeZone;
RESET DateStyle;
RESET IntervalStyle;
RESET extra_float_digits;
RESET client_encoding;
SELECT * FROM chain;
SELECT * FROM governance.verify_sharing_log();
-- under session_replication_role = replica the trigger still chains
SET session_replication_role = replica;
SELECT fill(1);
RESET session_replication_role;
SELECT * FROM chain;

-- ------------------------------------------------------------ append-only
SELECT reset_log();
SELECT fill(6);
UPDATE governance.sharing_log SET purpose = 'advertising' WHERE id = 3;
DELETE FROM governance.sharing_log WHERE id = 6;
DELETE FROM governance.sharing_log WHERE false;
TRUNCATE governance.sharing_log;
INSERT INTO governance.sharing_log SELECT * FROM governance.sharing_log WHERE id = 1
    ON CONFLICT (id) DO UPDATE SET purpose = 'advertising';
MERGE INTO governance.sharing_log l USING (VALUES (1)) v(id) ON l.id = v.id
    WHEN MATCHED THEN DELETE;
SET session_replication_role = replica;
UPDATE governance.sharing_log SET purpose = 'advertising' WHERE id = 3;
DELETE FROM governance.sharing_log WHERE id = 6;
TRUNCATE governance.sharing_log;
RESET session_replication_role;
SELECT * FROM governance.verify_sharing_log();

-- ------------------------------------------------------------ rows that arrive with a hash
-- as pg_restore's COPY brings them: accepted in chain order, refused otherwise
CREATE TABLE saved AS SELECT * FROM governance.sharing_log;
CREATE FUNCTION restore_saved() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    PERFORM reset_log();
    INSERT INTO governance.sharing_log SELECT * FROM saved ORDER BY id;
END $$;
SELECT restore_saved();
SELECT count(*) AS same_rows FROM governance.sharing_log l JOIN saved s USING (id)
WHERE l::text = s::text;
SELECT * FROM governance.verify_sharing_log(:digest_id, :'digest_hash');  -- another chain
SELECT id AS digest_id, hash AS digest_hash FROM governance.sharing_log_digest() \gset
SELECT * FROM governance.verify_sharing_log(:digest_id, :'digest_hash');
-- the next row again
INSERT INTO governance.sharing_log SELECT * FROM saved WHERE id = 6;
-- a wrong hash, prev_hash or id
SELECT reset_log();
INSERT INTO governance.sharing_log SELECT * FROM saved WHERE id = 1;
INSERT INTO governance.sharing_log SELECT id, logged_at, policy, recipient, categories, purpose, subject,
    destination, legal_basis, rule_id, actor, personal, prev_hash, repeat('a', 64) FROM saved WHERE id = 2;
INSERT INTO governance.sharing_log SELECT id, logged_at, policy, recipient, categories, 'advertising', subject,
    destination, legal_basis, rule_id, actor, personal, prev_hash, hash FROM saved WHERE id = 2;
INSERT INTO governance.sharing_log SELECT id, logged_at, policy, recipient, categories, purpose, subject,
    destination, legal_basis, rule_id, actor, personal, repeat('0', 64), hash FROM saved WHERE id = 2;
INSERT INTO governance.sharing_log SELECT * FROM saved WHERE id = 3;
INSERT INTO governance.sharing_log SELECT 7, logged_at, policy, recipient, categories, purpose, subject,
    destination, legal_basis, rule_id, actor, personal, prev_hash, hash FROM saved WHERE id = 2;
-- out of order
SELECT reset_log();
INSERT INTO governance.sharing_log SELECT * FROM saved ORDER BY id DESC;
-- a new row may not choose its id or prev_hash
INSERT INTO governance.sharing_log (id, policy, recipient, categories, purpose)
VALUES (5, 'jinpai-mail', 'class:successor', '{personal.name}', 'merger_acquisition');
INSERT INTO governance.sharing_log (prev_hash, policy, recipient, categories, purpose)
VALUES (repeat('1', 64), 'jinpai-mail', 'class:successor', '{personal.name}', 'merger_acquisition');
INSERT INTO governance.sharing_log (id, prev_hash, policy, recipient, categories, purpose)
VALUES (1, repeat('0', 64), 'jinpai-mail', 'class:successor', '{personal.name}', 'merger_acquisition');
SELECT * FROM chain;

-- ------------------------------------------------------------ tampering behind the back
SELECT restore_saved();
SELECT * FROM governance.verify_sharing_log();
-- an edit
SELECT behind_the_back($$UPDATE governance.sharing_log SET purpose = 'advertising' WHERE id = 3$$);
SELECT * FROM governance.verify_sharing_log();
-- an edit whose row hash is recomputed: the next row's link breaks
SELECT behind_the_back($$UPDATE governance.sharing_log l SET hash = governance.sharing_log_hash(l) WHERE id = 3$$);
SELECT * FROM governance.verify_sharing_log();
-- a row inserted in the middle (the rows after it renumbered), with a correct hash
SELECT restore_saved();
SELECT behind_the_back($$
    UPDATE governance.sharing_log SET id = id + 10 WHERE id >= 4;
    UPDATE governance.sharing_log SET id = id - 9 WHERE id >= 14;
    INSERT INTO governance.sharing_log
        SELECT 4, logged_at, policy, 'forged', categories, purpose, subject, destination,
               legal_basis, rule_id, actor, personal, hash, hash FROM saved WHERE id = 3;
    UPDATE governance.sharing_log l SET hash = governance.sharing_log_hash(l) WHERE id = 4;
    UPDATE governance.sharing_log_state SET last_id = 7$$);
SELECT * FROM governance.verify_sharing_log();
-- a row deleted in the middle
SELECT restore_saved();
SELECT behind_the_back('DELETE FROM governance.sharing_log WHERE id = 3');
SELECT * FROM governance.verify_sharing_log();
-- the first row deleted
SELECT restore_saved();
SELECT behind_the_back('DELETE FROM governance.sharing_log WHERE id = 1');
SELECT * FROM governance.verify_sharing_log();
-- the last row deleted: the chain's state still names it
SELECT restore_saved();
SELECT behind_the_back('DELETE FROM governance.sharing_log WHERE id = 6');
SELECT * FROM governance.verify_sharing_log();
-- ... and a row appended after that
INSERT INTO governance.sharing_log (policy, recipient, categories, purpose)
VALUES ('jinpai-mail', 'class:successor', '{personal.name}', 'merger_acquisition');
SELECT * FROM governance.verify_sharing_log();
-- a row added at the end behind the state's back
SELECT restore_saved();
SELECT behind_the_back($$
    INSERT INTO governance.sharing_log
        SELECT 7, logged_at, policy, recipient, categories, purpose, subject, destination,
               legal_basis, rule_id, actor, personal, hash, hash FROM saved WHERE id = 6;
    UPDATE governance.sharing_log l SET hash = governance.sharing_log_hash(l) WHERE id = 7$$);
SELECT * FROM governance.verify_sharing_log();
-- the whole chain rewritten, every hash and the state recomputed: the plain
-- verification passes, only a digest recorded before catches it
SELECT restore_saved();
SELECT * FROM governance.verify_sharing_log(:digest_id, :'digest_hash');
SELECT hash AS row3_hash FROM governance.sharing_log WHERE id = 3 \gset
SELECT behind_the_back($tamper$
    DO $rw$
    DECLARE
        r record;
        prev text := repeat('0', 64);
        h text;
    BEGIN
        FOR r IN SELECT id FROM governance.sharing_log ORDER BY id LOOP
            UPDATE governance.sharing_log SET purpose = 'advertising', prev_hash = prev WHERE id = r.id;
            SELECT governance.sharing_log_hash(l) INTO h FROM governance.sharing_log l WHERE id = r.id;
            UPDATE governance.sharing_log SET hash = h WHERE id = r.id;
            prev := h;
        END LOOP;
        UPDATE governance.sharing_log_state SET last_hash = prev;
    END $rw$$tamper$);
SELECT * FROM chain;
SELECT * FROM governance.verify_sharing_log();
SELECT * FROM governance.verify_sharing_log(:digest_id, :'digest_hash');
SELECT * FROM governance.verify_sharing_log(3, :'row3_hash');

-- ------------------------------------------------------------ rollback
SELECT restore_saved();
BEGIN;
SELECT fill(2);
ROLLBACK;
BEGIN;
SELECT fill(1);
SAVEPOINT s;
SELECT fill(2);
ROLLBACK TO SAVEPOINT s;
SELECT fill(1);
COMMIT;
SELECT * FROM chain;
SELECT * FROM governance.verify_sharing_log();

-- ------------------------------------------------------------ erasure
SELECT restore_saved();
SELECT governance.sharing_pseudonym('subject-1') AS old_pseudonym \gset
SELECT count(*) FROM governance.sharing_log WHERE subject = :'old_pseudonym';
SELECT governance.forget_sharing_subject('subject-1');
SELECT governance.sharing_pseudonym('subject-1') IS NULL AS forgotten;
SELECT count(*) FROM governance.sharing_subject WHERE subject = 'subject-1' OR pseudonym = :'old_pseudonym';
SELECT count(*) AS rows_kept FROM governance.sharing_log WHERE subject = :'old_pseudonym';
SELECT * FROM governance.verify_sharing_log();
SELECT governance.forget_sharing_subject('subject-1');
SELECT governance.forget_sharing_subject('nobody');
-- shared again later: a new pseudonym, unlinked to the old rows
INSERT INTO governance.sharing_log (policy, recipient, categories, purpose, subject)
VALUES ('jinpai-mail', 'class:successor', '{personal.name}', 'merger_acquisition', 'subject-1');
SELECT governance.sharing_pseudonym('subject-1') <> :'old_pseudonym' AS new_pseudonym,
       (SELECT count(*) FROM governance.sharing_log
        WHERE subject = governance.sharing_pseudonym('subject-1')) AS rows;
SELECT * FROM governance.verify_sharing_log();

-- ------------------------------------------------------------ privileges
CREATE ROLE slog_app;
CREATE ROLE slog_other;
CREATE ROLE slog_reader IN ROLE governance_reader;
CREATE ROLE slog_admin IN ROLE governance_admin;
CREATE ROLE slog_granted;
GRANT INSERT, UPDATE, DELETE, TRUNCATE ON governance.sharing_log TO slog_granted;
INSERT INTO governance.sharing_log (policy, recipient, categories, purpose, actor)
SELECT 'jinpai-mail', 'class:successor', '{personal.name}', 'merger_acquisition', a
FROM (VALUES ('slog_app'), ('slog_app'), ('slog_other')) v(a);
SELECT count(*) AS all_rows FROM governance.sharing_log;
-- an ordinary role reads the rows it logged, and nothing else of the log
SET SESSION AUTHORIZATION slog_app;
SELECT count(*), bool_and(actor = 'slog_app') FROM governance.sharing_log;
SELECT * FROM governance.verify_sharing_log();
SELECT * FROM governance.verify_sharing_log(0, repeat('0', 64));
SELECT * FROM governance.sharing_log_digest();
SELECT governance.sharing_log_head();
SELECT governance.sharing_log_hash(l) FROM governance.sharing_log l LIMIT 1;
SELECT governance.sharing_pseudonym('subject-2');
SELECT governance.forget_sharing_subject('subject-2');
SELECT * FROM governance.sharing_subject;
SELECT * FROM governance.sharing_log_state;
UPDATE governance.sharing_log_state SET last_id = 0;
INSERT INTO governance.sharing_log (policy, recipient, categories, purpose)
VALUES ('jinpai-mail', 'class:successor', '{personal.name}', 'merger_acquisition');
UPDATE governance.sharing_log SET purpose = 'advertising';
DELETE FROM governance.sharing_log;
TRUNCATE governance.sharing_log;
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION slog_other;
SELECT count(*), bool_and(actor = 'slog_other') FROM governance.sharing_log;
RESET SESSION AUTHORIZATION;
-- a role that was granted the writes still cannot change a row
SET ROLE slog_granted;
UPDATE governance.sharing_log SET purpose = 'advertising';
DELETE FROM governance.sharing_log;
TRUNCATE governance.sharing_log;
RESET ROLE;
-- governance_reader: every row, verification, no erasure, no mapping
SET ROLE slog_reader;
SELECT count(*) AS all_rows FROM governance.sharing_log;
SELECT * FROM governance.verify_sharing_log();
SELECT (governance.sharing_log_digest()).id = (SELECT max(id) FROM governance.sharing_log) AS digest;
SELECT governance.sharing_pseudonym('subject-2') IS NOT NULL AS known;
SELECT governance.forget_sharing_subject('subject-2');
SELECT count(*) FROM governance.sharing_subject;
INSERT INTO governance.sharing_log (policy, recipient, categories, purpose)
VALUES ('jinpai-mail', 'class:successor', '{personal.name}', 'merger_acquisition');
RESET ROLE;
-- governance_admin: erasure
SET ROLE slog_admin;
SELECT count(*) > 0 AS mapped FROM governance.sharing_subject;
SELECT governance.forget_sharing_subject('subject-2') > 0 AS forgot;
SELECT * FROM governance.verify_sharing_log();
INSERT INTO governance.sharing_log (policy, recipient, categories, purpose)
VALUES ('jinpai-mail', 'class:successor', '{personal.name}', 'merger_acquisition');
RESET ROLE;
-- no function of the log is PUBLIC's
SELECT p.oid::regprocedure FROM pg_proc p
WHERE p.pronamespace = 'governance'::regnamespace AND p.proname ~ 'sharing'
  AND has_function_privilege('slog_app', p.oid, 'EXECUTE')
ORDER BY 1;

DROP OWNED BY slog_app, slog_other, slog_reader, slog_admin, slog_granted;
DROP ROLE slog_app, slog_other, slog_reader, slog_admin, slog_granted;
DROP TABLE saved;
DROP VIEW chain;
DROP FUNCTION behind_the_back(text), reset_log(), fill(int), restore_saved(), enc(text), enc(bigint);
