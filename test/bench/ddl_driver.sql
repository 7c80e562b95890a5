-- test/bench/ddl_driver.sql — owns database ddl_driver of test/bench/run and
-- the DDL that its pgbench transactions send to ddl_plain or ddl_governed.
--
-- pgbench cannot switch databases inside a run, and separate runs on this
-- machine differ by far more than the extension's cost.  So pgbench runs here
-- and "ddl_transaction" sends each transaction over a kept dblink connection:
-- both databases take turns transaction by transaction and the hop costs
-- both alike (it brings the ratio a little closer to 1).
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
CREATE EXTENSION "dblink";

-- cheap DDL on a table that is never tagged: create, add a column, set
-- statistics, add and validate a constraint, index, drop; one transaction
CREATE FUNCTION "ddl_transaction"("db" text, "client" int, "n" bigint) RETURNS void
LANGUAGE plpgsql AS $fn$
DECLARE
    "tbl" text := format('%I', 'ddl_' || "client" || '_' || "n");
BEGIN
    IF NOT "db" = ANY (COALESCE(dblink_get_connections(), '{}')) THEN
        PERFORM dblink_connect("db", format('dbname=%s port=%s host=%s', "db", current_setting('port'),
                                            split_part(current_setting('unix_socket_directories'), ',', 1)));
    END IF;
    PERFORM dblink_exec("db", format($ddl$
        BEGIN;
        CREATE TABLE %1$s ("id" int, "a" text, "b" int);
        ALTER TABLE %1$s ADD COLUMN "c" text;
        ALTER TABLE %1$s ALTER COLUMN "a" SET STATISTICS 500;
        ALTER TABLE %1$s ADD CONSTRAINT "positive" CHECK ("id" > 0) NOT VALID;
        ALTER TABLE %1$s VALIDATE CONSTRAINT "positive";
        CREATE INDEX ON %1$s ("b");
        DROP TABLE %1$s;
        COMMIT;
    $ddl$, "tbl"));
END
$fn$;
