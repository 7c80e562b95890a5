-- The guard's CHECK constraint prepared from the per-relation cache
-- (src/guard_prepare.c).  From the second statement on a table, the
-- executor gets the guard's expression state from the cache instead of
-- parsing the constraint; it must refuse and accept exactly what
-- governance._guard_row does, next to the table's own CHECK constraints,
-- for rows from VALUES (virtual tuples) and from another table (heap
-- tuples), on INSERT, UPDATE, ON CONFLICT, MERGE, prepared statements, CTEs
-- and partitions.  A DEBUG1 message says when a statement took that path.
SET search_path = public, governance;
\set VERBOSITY default
SELECT count(*) AS policies FROM (SELECT governance.load_bundled_policy(n) FROM governance.bundled_policies() n) s;
SELECT governance.set_database_region('CN');

CREATE TABLE orders (id int PRIMARY KEY, customer text, cvv text, region text,
                     qty int CHECK (qty > 0),
                     note text CONSTRAINT short_note CHECK (length(note) < 10)
                               CONSTRAINT no_evil CHECK (textregexne(coalesce(note, ''), '^evil')),
                     secret text);
SELECT governance.bind('orders', '21vianet-online-2020');
SELECT governance.tag('orders', 'customer', 'category=personal.name');
SELECT governance.tag('orders', 'cvv', 'category=payment.security_code');
SELECT governance.tag('orders', 'region', 'region');
SET client_min_messages = debug1;
-- the first statement takes PostgreSQL's path and fills the cache
INSERT INTO orders VALUES (1, 'c', NULL, 'CN', 1, 'first');
-- the next ones are prepared from it
INSERT INTO orders VALUES (2, 'c', NULL, 'CN-SH', 1, 'second');
INSERT INTO orders VALUES (3, 'c', '123', 'CN', 1, 'x');
INSERT INTO orders VALUES (3, 'c', NULL, 'HK', 1, 'x');
INSERT INTO orders VALUES (3, 'c', NULL, 'C1', 1, 'x');
INSERT INTO orders VALUES (3, 'c', NULL, 'CN', 0, 'x');
INSERT INTO orders VALUES (3, 'c', NULL, 'CN', 1, 'far too long');
INSERT INTO orders VALUES (3, 'c', NULL, 'CN', 1, 'evil');
INSERT INTO orders VALUES (3, 'c', NULL, 'cn-bj', 1, 'ok'), (4, 'c', NULL, NULL, 1, NULL), (5, 'c', NULL, 'CN-GD  ', 2, NULL);
UPDATE orders SET cvv = '999' WHERE id = 1;
UPDATE orders SET region = 'TW' WHERE id = 2;
UPDATE orders SET qty = 0 WHERE id = 2;
UPDATE orders SET region = 'CN-ZJ', note = 'moved' WHERE id = 2;
INSERT INTO orders VALUES (1, 'c', NULL, 'CN', 1, 'dup') ON CONFLICT (id) DO UPDATE SET region = 'MO';
INSERT INTO orders VALUES (1, 'c', NULL, 'CN', 1, 'dup') ON CONFLICT (id) DO UPDATE SET note = 'upserted';
MERGE INTO orders o USING (VALUES (2, 'HK'), (6, 'CN')) v(id, region) ON o.id = v.id
  WHEN MATCHED THEN UPDATE SET region = v.region
  WHEN NOT MATCHED THEN INSERT VALUES (v.id, 'c', NULL, v.region, 1, NULL);
MERGE INTO orders o USING (VALUES (2, 'CN'), (6, 'TW')) v(id, region) ON o.id = v.id
  WHEN MATCHED THEN UPDATE SET region = v.region
  WHEN NOT MATCHED THEN INSERT VALUES (v.id, 'c', NULL, v.region, 1, NULL);
MERGE INTO orders o USING (VALUES (6, 'CN-HB')) v(id, region) ON o.id = v.id
  WHEN NOT MATCHED THEN INSERT VALUES (v.id, 'c', NULL, v.region, 1, NULL);
-- an empty region is no region, even once the memo holds values
INSERT INTO orders VALUES (7, 'c', NULL, '', 1, NULL);
INSERT INTO orders VALUES (7, 'c', NULL, '   ', 1, NULL);
RESET client_min_messages;
SELECT id, customer, cvv, region, qty, note FROM orders ORDER BY id;

-- rows that come as heap tuples from a table of the same shape: the guard
-- reads the region and the never-store columns straight from the tuple
CREATE TABLE orders_src (LIKE orders);
INSERT INTO orders_src SELECT 100 + g, 'c', NULL, (ARRAY['CN', 'CN-SH', 'cn-gd', NULL])[1 + g % 4], 1, NULL
  FROM generate_series(1, 200) g;
SET client_min_messages = debug1;
INSERT INTO orders SELECT * FROM orders_src;
SELECT count(*) AS copied, count(region) AS with_region FROM orders WHERE id > 100;
DELETE FROM orders WHERE id > 100;
UPDATE orders_src SET cvv = '1' WHERE id = 250;
INSERT INTO orders SELECT * FROM orders_src;
UPDATE orders_src SET cvv = NULL, region = 'CN-TW' WHERE id = 250;
INSERT INTO orders SELECT * FROM orders_src;
UPDATE orders_src SET region = 'CN-SHAN' WHERE id = 250;
INSERT INTO orders SELECT * FROM orders_src;
RESET client_min_messages;
SELECT count(*) AS none_left FROM orders WHERE id > 100;

-- a prepared statement follows a new tag and its removal
PREPARE ins(int, text) AS INSERT INTO orders VALUES ($1, 'c', NULL, 'CN', 1, NULL, $2);
SET client_min_messages = debug1;
EXECUTE ins(20, 'a');
DELETE FROM orders WHERE id = 20;
RESET client_min_messages;
SELECT governance.tag('orders', 'secret', 'category=payment.security_code');
-- the statement after a change rebuilds the cache on PostgreSQL's path
SET client_min_messages = debug1;
EXECUTE ins(21, 'b');
EXECUTE ins(21, NULL);
EXECUTE ins(22, NULL);
RESET client_min_messages;
SELECT governance.untag('orders', 'secret');
SET client_min_messages = debug1;
EXECUTE ins(23, 'c');
EXECUTE ins(24, 'd');
RESET client_min_messages;
DEALLOCATE ins;

-- two governed result relations in one statement
CREATE TABLE refunds (id int, cvv text);
SELECT governance.bind('refunds', '21vianet-online-2020');
SELECT governance.tag('refunds', 'cvv', 'category=payment.security_code');
INSERT INTO refunds VALUES (0, NULL);
SET client_min_messages = debug1;
WITH o AS (INSERT INTO orders VALUES (30, 'c', NULL, 'CN', 1, NULL) RETURNING id)
INSERT INTO refunds SELECT id, '000' FROM o;
WITH o AS (INSERT INTO orders VALUES (30, 'c', NULL, 'HK', 1, NULL) RETURNING id)
INSERT INTO refunds SELECT id, NULL FROM o;
WITH o AS (INSERT INTO orders VALUES (30, 'c', NULL, 'CN', 1, NULL) RETURNING id)
INSERT INTO refunds SELECT id, NULL FROM o;
RESET client_min_messages;
SELECT * FROM refunds ORDER BY id;

-- partitions: rows routed through the parent take PostgreSQL's path, rows
-- written to the partition itself the cached one; both are refused alike
CREATE TABLE pay (id int, customer text, cvv text, region text) PARTITION BY RANGE (id);
CREATE TABLE pay_low PARTITION OF pay FOR VALUES FROM (0) TO (100);
SELECT governance.bind('pay', '21vianet-online-2020');
SELECT governance.tag('pay', 'customer', 'category=personal.name');
SELECT governance.tag('pay', 'cvv', 'category=payment.security_code');
SELECT governance.tag('pay', 'region', 'region');
SET client_min_messages = debug1;
INSERT INTO pay VALUES (1, 'c', NULL, 'CN');
INSERT INTO pay_low VALUES (2, 'c', NULL, 'CN');
INSERT INTO pay_low VALUES (3, 'c', '1', 'CN');
INSERT INTO pay VALUES (3, 'c', '1', 'CN');
INSERT INTO pay_low VALUES (3, 'c', NULL, 'US');
UPDATE pay SET region = 'HK' WHERE id = 1;
UPDATE pay SET region = 'CN-SC' WHERE id = 1;
RESET client_min_messages;
SELECT * FROM pay ORDER BY id;

-- the two paths agree row for row: generated rows go to the same partition
-- through its parent (tuple routing: PostgreSQL's path) and directly (the
-- cached path), and must meet the same outcome
CREATE TABLE dual (id int, customer text, cvv text, region text) PARTITION BY LIST (id);
CREATE TABLE dual_leaf PARTITION OF dual DEFAULT;
SELECT governance.bind('dual', '21vianet-online-2020');
SELECT governance.tag('dual', 'customer', 'category=personal.name');
SELECT governance.tag('dual', 'cvv', 'category=payment.security_code');
SELECT governance.tag('dual', 'region', 'region');
INSERT INTO dual_leaf VALUES (0, 'c', NULL, 'CN');
CREATE TEMP TABLE dual_outcome (id int, routed text, direct text);
-- one row into one table: 'ok', or the SQLSTATE and message it met
CREATE FUNCTION pg_temp.dual_try(tbl regclass, id int, customer text, cvv text, region text)
RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('INSERT INTO %s VALUES ($1, $2, $3, $4)', tbl) USING id, customer, cvv, region;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ' ' || SQLERRM;
END $$;
SELECT setseed(0.42);
INSERT INTO dual_outcome
SELECT g, pg_temp.dual_try('dual', g, customer, cvv, region),
          pg_temp.dual_try('dual_leaf', g, customer, cvv, region)
FROM (SELECT g,
             (ARRAY['CN', 'cn-sh', 'CN-HK', 'HK', 'TW', 'MO', 'US', 'XX', '', 'C', 'CN-',
                    'cn-bj  ', NULL, 'CN-SHANG', 'CN-GD', 'cn'])[1 + floor(random() * 16)::int] AS region,
             CASE WHEN random() < 0.2 THEN 'x' END AS cvv,
             CASE WHEN random() < 0.8 THEN 'c' END AS customer
      FROM generate_series(1, 400) g) rows;
SELECT count(*) FILTER (WHERE routed IS DISTINCT FROM direct) AS differ,
       count(*) FILTER (WHERE routed = 'ok') AS accepted,
       count(*) FILTER (WHERE routed LIKE 'GV001%') AS gv001,
       count(*) FILTER (WHERE routed LIKE 'GV002%') AS gv002,
       count(*) FILTER (WHERE routed LIKE '22P02%') AS invalid
FROM dual_outcome;
SELECT count(*) = 2 * (SELECT count(*) FROM dual_outcome WHERE routed = 'ok') AS rows_kept
FROM dual_leaf WHERE id > 0;

-- odd identifiers only ever reach messages, quoted
CREATE TABLE "pr;ep ""t""" ("c;v ""v""" text, id int);
SELECT governance.bind('"pr;ep ""t"""', '21vianet-online-2020');
SELECT governance.tag('"pr;ep ""t"""', 'c;v "v"', 'category=payment.security_code');
INSERT INTO "pr;ep ""t""" VALUES (NULL, 1);
INSERT INTO "pr;ep ""t""" VALUES ('x', 2);

-- what the executor checks before it calls a constraint's function still
-- holds on the cached path, at the first row as before: the right to
-- execute the table's own constraint functions and the guard's
CREATE FUNCTION qty_ok(int) RETURNS boolean LANGUAGE plpgsql IMMUTABLE
    AS 'BEGIN RETURN $1 < 1000; END';
CREATE TABLE stock (id int, customer text, qty int CONSTRAINT qty_ok CHECK (qty_ok(qty)));
SELECT governance.bind('stock', '21vianet-online-2020');
SELECT governance.tag('stock', 'customer', 'category=personal.name');
REVOKE EXECUTE ON FUNCTION qty_ok(int) FROM PUBLIC;
CREATE ROLE gv_prep_writer;
GRANT SELECT, INSERT, UPDATE ON stock TO gv_prep_writer;
INSERT INTO stock VALUES (1, 'c', 1);
SET ROLE gv_prep_writer;
SET client_min_messages = debug1;
UPDATE stock SET qty = 2 WHERE id = 0;
INSERT INTO stock VALUES (2, 'c', 2);
RESET client_min_messages;
RESET ROLE;
GRANT EXECUTE ON FUNCTION qty_ok(int) TO gv_prep_writer;
REVOKE EXECUTE ON FUNCTION governance._guard_row(oid, "any") FROM PUBLIC;
SET ROLE gv_prep_writer;
SET client_min_messages = debug1;
UPDATE stock SET qty = 3 WHERE id = 0;
INSERT INTO stock VALUES (2, 'c', 2);
RESET client_min_messages;
RESET ROLE;
GRANT EXECUTE ON FUNCTION governance._guard_row(oid, "any") TO PUBLIC;
SET ROLE gv_prep_writer;
INSERT INTO stock VALUES (2, 'c', 2);
INSERT INTO stock VALUES (3, 'c', 5000);
RESET ROLE;
SELECT * FROM stock ORDER BY id;

-- EXPLAIN without ANALYZE prepares nothing and refuses nothing
SET client_min_messages = debug1;
EXPLAIN (COSTS OFF) INSERT INTO orders VALUES (40, 'c', '1', 'CN', 1, NULL);
EXPLAIN (COSTS OFF, ANALYZE, TIMING OFF, SUMMARY OFF) INSERT INTO orders VALUES (40, 'c', '1', 'CN', 1, NULL);
RESET client_min_messages;

DROP TABLE orders, orders_src, refunds, pay, "pr;ep ""t""", stock, dual;
DROP FUNCTION qty_ok(int);
DROP ROLE gv_prep_writer;
