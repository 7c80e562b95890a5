-- Data subjects: subject_export and erase_subject over tables linked by
-- foreign keys (simple, composite and self-referencing), rows referenced
-- from outside, a legal hold, a minimum retention, a subject of the wrong
-- type, a cycle of foreign keys, an unknown subject, privileges.
SET search_path = public;
\set VERBOSITY default
SELECT governance.set_database_region('CN');
SELECT governance.load_bundled_policy('jinpai-mail');
CREATE SCHEMA dsr;
SECURITY LABEL FOR governance ON SCHEMA dsr IS 'policy=jinpai-mail';

-- an address (no subject column) that customers reference
CREATE TABLE dsr.address (id int PRIMARY KEY, line text);
SELECT governance.tag('dsr.address', 'line', 'category=personal.contact.address');
CREATE TABLE dsr.customer (id int PRIMARY KEY, email text UNIQUE, name text,
                           address_id int REFERENCES dsr.address);
SELECT governance.tag('dsr.customer', 'email', 'subject;category=personal.contact.email');
SELECT governance.tag('dsr.customer', 'name', 'category=personal.name');
-- the customer's orders, their lines (composite key) and the lines' shipments
CREATE TABLE dsr.orders (id int PRIMARY KEY, customer_id int NOT NULL REFERENCES dsr.customer,
                         ship_to text);
CREATE INDEX ON dsr.orders (customer_id);
SELECT governance.tag('dsr.orders', 'ship_to', 'category=personal.contact.address');
CREATE TABLE dsr.order_line (order_id int REFERENCES dsr.orders, line_no int, note text,
                             PRIMARY KEY (order_id, line_no));
SELECT governance.tag('dsr.order_line', 'note', 'category=content.user_input');
CREATE TABLE dsr.shipment (id int PRIMARY KEY, order_id int, line_no int, tracking text,
                           FOREIGN KEY (order_id, line_no) REFERENCES dsr.order_line);
SELECT governance.tag('dsr.shipment', 'tracking', 'category=personal.location');
-- employees with a manager: a self-referencing key between subjects
CREATE TABLE dsr.employee (id int PRIMARY KEY, email text, manager_id int REFERENCES dsr.employee);
SELECT governance.tag('dsr.employee', 'email', 'subject;category=personal.contact.email');
-- a table no policy governs that references customers
CREATE TABLE public.invoice (id int PRIMARY KEY, customer_id int REFERENCES dsr.customer);
-- logs kept for six months at least (jinpai ret.log-minimum)
CREATE TABLE dsr.login_log (who text, line text, created timestamptz NOT NULL);
SELECT governance.tag('dsr.login_log', 'who', 'subject');
SELECT governance.tag('dsr.login_log', 'line', 'category=log.service');
SELECT governance.tag('dsr.login_log', 'created', 'anchor=created');
-- a subject column of another type
CREATE TABLE dsr.badge (badge_no int, holder text);
SELECT governance.tag('dsr.badge', 'badge_no', 'subject');
SELECT governance.tag('dsr.badge', 'holder', 'category=personal.name');

INSERT INTO dsr.address VALUES (1, '上海市浦东新区 1 号'), (2, '北京市海淀区 2 号');
INSERT INTO dsr.customer VALUES (1, 'alice@example.cn', 'Alice', 1), (2, 'bob@example.cn', 'Bob', 2);
INSERT INTO dsr.orders VALUES (10, 1, 'Shanghai'), (11, 1, 'Hangzhou'), (20, 2, 'Beijing');
INSERT INTO dsr.order_line VALUES (10, 1, 'red'), (10, 2, 'blue'), (11, 1, 'green'), (20, 1, 'bob''s');
INSERT INTO dsr.shipment VALUES (100, 10, 1, 'SF100'), (200, 20, 1, 'SF200');
INSERT INTO dsr.employee VALUES (1, 'alice@example.cn', NULL), (2, 'carol@example.cn', 1);
INSERT INTO dsr.login_log VALUES ('alice@example.cn', 'login', now() - interval '1 day'),
                                 ('alice@example.cn', 'login', now() - interval '2 years'),
                                 ('bob@example.cn', 'login', now() - interval '1 day');
INSERT INTO dsr.badge VALUES (7, 'Alice');

-- ============================================================ export
-- every governed row of alice: by subject column, then the foreign keys
-- (orders, their lines, the lines' shipments, the address she references);
-- not Bob's rows, not Carol (her manager's row is alice's, hers is not)
SELECT t.key AS relation, jsonb_array_length(t.value -> 'rows') AS rows, t.value -> 'skipped' AS skipped
FROM jsonb_each(governance.subject_export('alice@example.cn') -> 'tables') t ORDER BY 1;
-- each value with its categories and their descriptions
SELECT r -> 'email' AS email, r -> 'id' AS id
FROM jsonb_array_elements(governance.subject_export('alice@example.cn') -> 'tables' -> 'dsr.customer' -> 'rows') r;
SELECT jsonb_pretty(r) FROM jsonb_array_elements(
    governance.subject_export('alice@example.cn') -> 'tables' -> 'dsr.shipment' -> 'rows') r;
SELECT e ? 'exported_at' AS dated, e ->> 'subject' AS subject, e ->> 'blocked_rows' AS blocked_rows
FROM governance.subject_export('alice@example.cn') e;
-- an unknown subject: an empty export, not an error
SELECT governance.subject_export('nobody@example.cn') -> 'tables' AS tables;
-- a subject that is a number for one table and not for the others
SELECT t.key, jsonb_array_length(t.value -> 'rows') AS rows
FROM jsonb_each(governance.subject_export('7') -> 'tables') t ORDER BY 1;
SELECT governance.subject_export(NULL);
SELECT governance.subject_export('');

-- ============================================================ erasure
SELECT governance.place_hold('dsr.employee', 'alice@example.cn', 'labour arbitration 2026-17') AS hold \gset
-- a dry run says what would happen and changes nothing
SELECT * FROM governance.erase_subject('alice@example.cn', dry_run => true);
SELECT (SELECT count(*) FROM dsr.orders) AS orders, (SELECT count(*) FROM dsr.customer) AS customers,
       (SELECT count(*) FROM governance.erasure_log) AS erasures;
-- the invoice (ungoverned) still references alice: her customer row is
-- anonymized instead of deleted; the held employee row and the log row
-- under minimum retention are kept; her old log row goes
INSERT INTO public.invoice VALUES (1, 1);
SELECT * FROM governance.erase_subject('alice@example.cn');
SELECT id, email <> 'alice@example.cn' AS email_changed, name <> 'Alice' AS name_changed, address_id
FROM dsr.customer ORDER BY id;
SELECT * FROM dsr.orders ORDER BY id;
SELECT * FROM dsr.order_line ORDER BY 1, 2;
SELECT * FROM dsr.shipment ORDER BY id;
SELECT id, email, manager_id FROM dsr.employee ORDER BY id;
SELECT who, line FROM dsr.login_log ORDER BY who, created;
-- the address she referenced is not hers alone: it stays
SELECT count(*) AS addresses FROM dsr.address;
-- the record: what, when, by whom; never the subject
SELECT relation, action, rows, erased_by = session_user AS by_me FROM governance.erasure_log ORDER BY relation, action;
SELECT count(*) AS mentions_subject FROM governance.erasure_log e WHERE e::text LIKE '%alice%';
-- once the hold is released, a second erasure takes the employee row;
-- carol's manager reference stops it (a row of another subject): anonymized
SELECT governance.release_hold(:hold);
SELECT * FROM governance.erase_subject('alice@example.cn');
SELECT id, email = 'alice@example.cn' AS still_alice, manager_id FROM dsr.employee ORDER BY id;

-- ============================================================ sharing log and consents
SELECT governance.grant_consent('bob@example.cn', 'survey') > 0 AS granted;
SELECT governance.share('class:successor', '{personal.name}', 'merger_acquisition', 'bob@example.cn',
                        policy => 'jinpai-mail') > 0 AS shared;
SELECT * FROM governance.erase_subject('bob@example.cn');
SELECT governance.sharing_pseudonym('bob@example.cn') IS NULL AS forgotten;
SELECT ok FROM governance.verify_sharing_log();
SELECT in_force FROM governance.consents WHERE subject = 'bob@example.cn';

-- ============================================================ cascading keys
-- a mentor's erasure must not take the mentee with it (ON DELETE CASCADE) nor
-- change the mentee's row (ON DELETE SET NULL): the mentor's row is
-- anonymized instead
CREATE TABLE dsr.mentor (id int PRIMARY KEY, email text, mentor_id int REFERENCES dsr.mentor ON DELETE CASCADE,
                         buddy_id int REFERENCES dsr.mentor ON DELETE SET NULL);
SELECT governance.tag('dsr.mentor', 'email', 'subject;category=personal.contact.email');
INSERT INTO dsr.mentor VALUES (1, 'mentor@m.example.cn', NULL, NULL), (2, 'mentee@m.example.cn', 1, NULL),
                              (3, 'buddy@m.example.cn', NULL, 1), (4, 'loner@m.example.cn', NULL, NULL);
SELECT * FROM governance.erase_subject('mentor@m.example.cn') WHERE relation = 'dsr.mentor'::regclass;
SELECT id, email, mentor_id, buddy_id FROM dsr.mentor WHERE id > 1 ORDER BY id;
SELECT email = 'mentor@m.example.cn' AS still_mentor FROM dsr.mentor WHERE id = 1;
-- nobody references the loner: deleted
SELECT * FROM governance.erase_subject('loner@m.example.cn') WHERE relation = 'dsr.mentor'::regclass;

-- ============================================================ rows shared by two people
-- a message from ann to ben is ann's and ben's: ann's erasure anonymizes it
-- (ben keeps the message, without ann's words), and deletes the note only ann wrote
CREATE TABLE dsr.message (id int PRIMARY KEY, sender_id int REFERENCES dsr.customer,
                          recipient_id int REFERENCES dsr.customer, body text);
SELECT governance.tag('dsr.message', 'body', 'category=content.email');
INSERT INTO dsr.customer VALUES (5, 'ann@example.cn', 'Ann', NULL), (6, 'ben@example.cn', 'Ben', NULL);
INSERT INTO dsr.message VALUES (1, 5, 6, 'hello Ben'), (2, 5, NULL, 'note to self');
SELECT jsonb_array_length(governance.subject_export('ann@example.cn') -> 'tables' -> 'dsr.message' -> 'rows') AS ann_messages;
SELECT * FROM governance.erase_subject('ann@example.cn')
WHERE relation IN ('dsr.message'::regclass, 'dsr.customer'::regclass);
SELECT id, sender_id, recipient_id, body = 'hello Ben' AS body_kept FROM dsr.message ORDER BY id;
SELECT id, email = 'ben@example.cn' AS ben_untouched FROM dsr.customer WHERE id IN (5, 6) ORDER BY id;

-- ============================================================ a cycle of keys
CREATE TABLE dsr.cyc_a (id int PRIMARY KEY, owner text, b_id int);
CREATE TABLE dsr.cyc_b (id int PRIMARY KEY, a_id int REFERENCES dsr.cyc_a, note text);
ALTER TABLE dsr.cyc_a ADD FOREIGN KEY (b_id) REFERENCES dsr.cyc_b;
SELECT governance.tag('dsr.cyc_a', 'owner', 'subject;category=personal.name');
SELECT governance.tag('dsr.cyc_b', 'note', 'category=content.user_input');
INSERT INTO dsr.cyc_a VALUES (1, 'dave', NULL);
INSERT INTO dsr.cyc_b VALUES (1, 1, 'x');
UPDATE dsr.cyc_a SET b_id = 1;
SELECT * FROM governance.erase_subject('dave');
SELECT (SELECT count(*) FROM dsr.cyc_a) AS a, (SELECT count(*) FROM dsr.cyc_b) AS b;

-- ============================================================ inheritance and partitions
-- a key references its own table's rows only, not those of a table that
-- inherits from it: erasing the archived alice leaves bob's order alone
CREATE TABLE dsr.member (id int PRIMARY KEY, email text);
CREATE TABLE dsr.member_archive () INHERITS (dsr.member);
CREATE TABLE dsr.member_order (id int PRIMARY KEY, member_id int REFERENCES dsr.member, ship_to text);
SELECT governance.tag('dsr.member', 'email', 'subject;category=personal.contact.email');
SELECT governance.tag('dsr.member_order', 'ship_to', 'category=personal.contact.address');
INSERT INTO dsr.member VALUES (5, 'bob@example.cn');
INSERT INTO dsr.member_archive VALUES (5, 'erin@example.cn');
INSERT INTO dsr.member_order VALUES (1, 5, 'bob''s street');
SELECT t.key AS relation, jsonb_array_length(t.value -> 'rows') AS rows
FROM jsonb_each(governance.subject_export('erin@example.cn') -> 'tables') t ORDER BY 1;
SELECT * FROM governance.erase_subject('erin@example.cn');
SELECT * FROM dsr.member_order;
-- a key to a partitioned table, its partition's columns in another order:
-- each partition's own column numbers
CREATE TABLE dsr.part (a int, id int, email text, PRIMARY KEY (id)) PARTITION BY RANGE (id);
CREATE TABLE dsr.part1 (email text, a int, id int NOT NULL);
ALTER TABLE dsr.part ATTACH PARTITION dsr.part1 FOR VALUES FROM (0) TO (100);
CREATE TABLE dsr.part_note (part_id int REFERENCES dsr.part, note text);
SELECT governance.tag('dsr.part', 'email', 'subject;category=personal.contact.email');
SELECT governance.tag('dsr.part_note', 'note', 'category=content.user_input');
INSERT INTO dsr.part VALUES (2, 1, 'frank@example.cn'), (0, 2, 'bob@example.cn');
INSERT INTO dsr.part_note VALUES (1, 'frank''s note'), (2, 'bob''s note');
SELECT r -> 'note' ->> 'value' AS note FROM jsonb_array_elements(
    governance.subject_export('frank@example.cn') -> 'tables' -> 'dsr.part_note' -> 'rows') r;
SELECT * FROM governance.erase_subject('frank@example.cn');
SELECT * FROM dsr.part_note;
SELECT email FROM dsr.part ORDER BY id;

-- ============================================================ a row the table keeps
-- a trigger of the table's owner that skips the delete: the row is not
-- reported (or recorded) as deleted
CREATE TABLE dsr.sticky (who text, note text);
SELECT governance.tag('dsr.sticky', 'who', 'subject;category=personal.contact.email');
SELECT governance.tag('dsr.sticky', 'note', 'category=personal.name');
INSERT INTO dsr.sticky VALUES ('gina@example.cn', 'kept by a trigger');
CREATE FUNCTION dsr.sticky_keep() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$;
CREATE TRIGGER sticky_keep BEFORE DELETE ON dsr.sticky FOR EACH ROW EXECUTE FUNCTION dsr.sticky_keep();
SELECT * FROM governance.erase_subject('gina@example.cn');
SELECT relation, action, rows FROM governance.erasure_log
WHERE erasure_id = (SELECT max(erasure_id) FROM governance.erasure_log) ORDER BY relation, action;
SELECT who, note FROM dsr.sticky;

-- ============================================================ many rows
-- a row reached through two keys is the subject's once; twenty thousand
-- rows of one subject in one table (found rows are looked up in a hash
-- table: walking lists was quadratic, minutes for a few hundred thousand)
CREATE TABLE dsr.acct (id int PRIMARY KEY, who text);
CREATE TABLE dsr.transfer (from_id int REFERENCES dsr.acct, to_id int REFERENCES dsr.acct, memo text);
CREATE INDEX ON dsr.transfer (from_id);
CREATE INDEX ON dsr.transfer (to_id);
SELECT governance.tag('dsr.acct', 'who', 'subject;category=personal.contact.email');
SELECT governance.tag('dsr.transfer', 'memo', 'category=content.user_input');
INSERT INTO dsr.acct VALUES (1, 'hank@example.cn'), (2, 'hank@example.cn'), (3, 'ivy@example.cn');
INSERT INTO dsr.transfer SELECT 1, 2, 'own' FROM generate_series(1, 20000);
INSERT INTO dsr.transfer VALUES (3, 3, 'ivy''s');
SELECT jsonb_array_length(governance.subject_export('hank@example.cn') -> 'tables' -> 'dsr.transfer' -> 'rows') AS rows;
SELECT * FROM governance.erase_subject('hank@example.cn', dry_run => true);

-- ============================================================ privileges
CREATE ROLE dsr_app;
SET ROLE dsr_app;
SELECT governance.subject_export('alice@example.cn');
SELECT * FROM governance.erase_subject('alice@example.cn');
RESET ROLE;
DROP ROLE dsr_app;

SET pg_governance.allow_destructive_ddl = on;
DROP TABLE public.invoice;
DROP SCHEMA dsr CASCADE;
RESET pg_governance.allow_destructive_ddl;
