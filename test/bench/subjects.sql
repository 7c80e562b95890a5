-- test/bench/subjects.sql — the database "subjects" of test/bench/run (rows
-- 21-22): schemas big and small bound to jinpai-mail, each with a customer
-- table (subject column email, indexed) and an orders table referencing it
-- (foreign key indexed); 1M customers and 1M orders in big, 10k and 10k in
-- small; the subject looked up has one customer row and three orders in
-- each.  The timings table and its summary (timings.sql).
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
CREATE EXTENSION pg_governance;
SELECT governance.set_database_region('CN');
SELECT governance.load_bundled_policy('jinpai-mail');

CREATE PROCEDURE build(s name, n integer) LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('CREATE SCHEMA %I', s);
    EXECUTE format('SECURITY LABEL FOR governance ON SCHEMA %I IS %L', s, 'policy=jinpai-mail');
    EXECUTE format('CREATE TABLE %I.customer (id int PRIMARY KEY, email text, name text)', s);
    EXECUTE format('CREATE TABLE %I.orders (id int PRIMARY KEY, customer_id int REFERENCES %I.customer, ship_to text)', s, s);
    PERFORM governance.tag(format('%I.customer', s)::regclass, 'email', 'subject;category=personal.contact.email');
    PERFORM governance.tag(format('%I.customer', s)::regclass, 'name', 'category=personal.name');
    PERFORM governance.tag(format('%I.orders', s)::regclass, 'ship_to', 'category=personal.contact.address');
    EXECUTE format($q$INSERT INTO %I.customer SELECT g, 'u' || g || '@%s.example.cn', 'name ' || g
                      FROM generate_series(1, %s) g$q$, s, s, n);
    -- customer 1 has three orders, the others one each
    EXECUTE format($q$INSERT INTO %I.orders SELECT g, CASE WHEN g <= 3 THEN 1 ELSE g END, 'address ' || g
                      FROM generate_series(1, %s) g$q$, s, n);
    EXECUTE format('CREATE INDEX ON %I.customer (email)', s);
    EXECUTE format('CREATE INDEX ON %I.orders (customer_id)', s);
END
$$;

\ir timings.sql
