-- test/bench/discovery.sql — the database "discovery" of test/bench/run (row
-- 20): schemas big and small, ten untagged tables each (1M rows in big, 10k
-- in small) with a mobile number, an e-mail, a resident-number-like column
-- and filler (run VACUUM ANALYZE after build); the timings table and its summary (timings.sql).
CREATE EXTENSION pg_governance;
SELECT governance.set_database_region('CN');
CREATE SCHEMA big;
CREATE SCHEMA small;

CREATE PROCEDURE build(s name, n integer) LANGUAGE plpgsql AS $$
BEGIN
    FOR t IN 1 .. 10 LOOP
        EXECUTE format('CREATE TABLE %I.t%s (id bigint, sjh text, email text, ref text, note text)', s, t);
        EXECUTE format($q$INSERT INTO %I.t%s
            SELECT g, '138' || lpad((g %% 100000000)::text, 8, '0'), 'user' || g || '@example.cn',
                   md5(g::text), repeat('x', 40)
            FROM generate_series(1, %s) g$q$, s, t, n);
    END LOOP;
END
$$;

\ir timings.sql
