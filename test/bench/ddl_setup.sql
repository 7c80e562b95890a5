-- test/bench/ddl_setup.sql — owns the two databases of the DDL workload of
-- test/bench/run.  psql variable governed: true sets the database up as a
-- real install would have it (the extension, the bundled policies, the
-- database bound to a policy and given a region, one governed table); false
-- leaves the extension out.  Both get the same "customers" table, so that
-- their catalogs are alike; the DDL itself (ddl_driver.sql) only touches tables
-- of its own, which are never tagged.
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
CREATE TABLE "customers" ("id" bigint, "name" text, "phone" text, "region" text,
                          "created" timestamptz);
\if :governed
CREATE EXTENSION "pg_governance";
SELECT count("governance"."load_bundled_policy"("n")) AS "policies"
FROM "governance"."bundled_policies"() AS "n" \gset
SELECT "governance"."bind_database"('ctyun-huiju-2024') IS NULL AS "bound" \gset
SELECT "governance"."set_database_region"('CN-SH') IS NULL AS "located" \gset
SELECT "governance"."tag"('"customers"', 'name', 'category=personal.name') IS NULL AS "t1" \gset
SELECT "governance"."tag"('"customers"', 'phone', 'category=personal.contact.phone') IS NULL AS "t2" \gset
SELECT "governance"."tag"('"customers"', 'region', 'region') IS NULL AS "t3" \gset
SELECT "governance"."tag"('"customers"', 'created', 'anchor=created') IS NULL AS "t4" \gset
\endif
VACUUM ANALYZE;
