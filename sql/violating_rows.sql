-- Rows that break the policy never enter a governed table: not through
-- ATTACH PARTITION, a tag or binding that comes after the rows, an
-- inheritance child, a foreign partition, nor a region nobody knows.
SET search_path = public, governance;
\set VERBOSITY default
SELECT count(*) AS policies FROM (SELECT governance.load_bundled_policy(n) FROM governance.bundled_policies() n) s;
SELECT governance.set_database_region('CN');

-- ------------------------------------------------------ ATTACH PARTITION
CREATE TABLE pay (id int, cvv text, region text) PARTITION BY RANGE (id);
SELECT governance.bind('pay', '21vianet-online-2020');
SELECT governance.tag('pay', 'cvv', 'category=payment.security_code');
SELECT governance.tag('pay', 'region', 'region');
CREATE TABLE pay_old (id int, cvv text, region text);
INSERT INTO pay_old VALUES (1, '123', 'CN'), (2, NULL, 'TW'), (3, '456', 'CN');
ALTER TABLE pay ATTACH PARTITION pay_old FOR VALUES FROM (0) TO (100);
SELECT count(*) AS attached FROM pg_inherits WHERE inhparent = 'pay'::regclass;
DELETE FROM pay_old WHERE cvv IS NOT NULL;
ALTER TABLE pay ATTACH PARTITION pay_old FOR VALUES FROM (0) TO (100);
SELECT c.conname, c.convalidated FROM pg_constraint c WHERE c.conrelid = 'pay_old'::regclass ORDER BY 1;
INSERT INTO pay VALUES (5, '1', 'CN');
INSERT INTO pay_old VALUES (6, '9', 'CN');

-- a foreign table holds its rows elsewhere: it cannot become a partition
CREATE FOREIGN DATA WRAPPER gv_dummy;
CREATE SERVER gv_elsewhere FOREIGN DATA WRAPPER gv_dummy;
CREATE FOREIGN TABLE pay_far (id int, cvv text, region text) SERVER gv_elsewhere;
ALTER TABLE pay ATTACH PARTITION pay_far FOR VALUES FROM (100) TO (200);
CREATE FOREIGN TABLE pay_far2 PARTITION OF pay FOR VALUES FROM (200) TO (300) SERVER gv_elsewhere;
-- ... nor hide under a partition of its own
CREATE TABLE pay_mid (id int, cvv text, region text) PARTITION BY RANGE (id);
CREATE FOREIGN TABLE pay_mid_far PARTITION OF pay_mid FOR VALUES FROM (300) TO (400) SERVER gv_elsewhere;
ALTER TABLE pay ATTACH PARTITION pay_mid FOR VALUES FROM (300) TO (400);
DROP TABLE pay_mid;

-- ------------------------------------------------------- tag before bind
CREATE TABLE cards (id int, cvv text);
SELECT governance.tag('cards', 'cvv', 'category=payment.security_code');
SELECT "column", policy, governed FROM governance.tagged_columns WHERE relation = 'cards'::regclass;
INSERT INTO cards VALUES (1, '123');
SELECT governance.bind('cards', '21vianet-online-2020');
SELECT governance.bound_policy('cards');
-- ... at schema level, and at database level (checked at commit)
CREATE SCHEMA shop;
CREATE TABLE shop.cards (id int, cvv text);
SELECT governance.tag('shop.cards', 'cvv', 'category=payment.security_code');
INSERT INTO shop.cards VALUES (1, '123');
SECURITY LABEL FOR governance ON SCHEMA shop IS 'policy=21vianet-online-2020';
SELECT governance.bind_database('21vianet-online-2020');
SELECT governance.bound_policy('cards') AS still_unbound;
DELETE FROM cards;
DELETE FROM shop.cards;
SELECT governance.bind('cards', '21vianet-online-2020');
INSERT INTO cards VALUES (2, '123');

-- a tag refused because of existing rows says so, with the count
CREATE TABLE notes (id int, phone text, region text);
SELECT governance.bind('notes', 'ctyun-huiju-2024');
SELECT governance.tag('notes', 'phone', 'category=personal.contact.phone');
INSERT INTO notes VALUES (1, 'x', 'HK'), (2, 'y', 'HK'), (3, 'z', 'CN');
SELECT governance.tag('notes', 'region', 'region');

-- a partition's labels merge with its parent's (categories compared as text)
CREATE TABLE merged_p (id int, c text) PARTITION BY RANGE (id);
CREATE TABLE merged_p1 PARTITION OF merged_p FOR VALUES FROM (0) TO (10);
SELECT governance.bind('merged_p', 'ctyun-huiju-2024');
SECURITY LABEL FOR governance ON COLUMN merged_p.c IS 'category=personal.name,personal.contact';
SECURITY LABEL FOR governance ON COLUMN merged_p1.c IS 'category=personal.contact,personal.gender';
INSERT INTO merged_p VALUES (1, 'x');
DROP TABLE merged_p;

-- --------------------------------------------------- inheritance children
CREATE TABLE parent_log (id int, cvv text);
SELECT governance.bind('parent_log', '21vianet-online-2020');
SELECT governance.tag('parent_log', 'cvv', 'category=payment.security_code');
CREATE TABLE child_log () INHERITS (parent_log);
INSERT INTO child_log VALUES (1, '123');
SELECT governance.bound_policy('child_log');
CREATE TABLE loose_log (id int, cvv text);
INSERT INTO loose_log VALUES (1, '123');
ALTER TABLE loose_log INHERIT parent_log;
DELETE FROM loose_log;
ALTER TABLE loose_log INHERIT parent_log;
INSERT INTO loose_log VALUES (2, '999');
-- a foreign table cannot inherit from a governed table either
CREATE FOREIGN TABLE far_log () INHERITS (parent_log) SERVER gv_elsewhere;

-- ----------------------------------------------- a label before the extension
CREATE DATABASE gv_no_extension;
\c gv_no_extension
CREATE TABLE t (x text);
SECURITY LABEL FOR governance ON COLUMN t.x IS 'category=personal.name';
\c contrib_regression
DROP DATABASE gv_no_extension;

SET search_path = public, governance;
SELECT governance.bind_database(NULL);
DROP TABLE pay, cards, notes, parent_log, loose_log CASCADE;
DROP SCHEMA shop CASCADE;
DROP SERVER gv_elsewhere CASCADE;
DROP FOREIGN DATA WRAPPER gv_dummy;
