-- test/demo.sql — the pg_governance walkthrough (run by test/demo.sh).
\set VERBOSITY default
\pset footer off
\echo
\echo '== 1. Install the extension'
CREATE EXTENSION pg_governance;
SET search_path = public, governance;

\echo
\echo '== 2. Data categories: dotted paths with containment'
SELECT c AS category, governance.parent(c) AS parent, governance.depth(c) AS depth,
       'personal'::governance.category @> c AS "is personal"
FROM unnest('{personal.contact.phone,personal.identity.id_number,payment.security_code}'::governance.category[]) c;
\echo '-- a malformed category is refused with its position:'
SELECT 'personal..phone'::governance.category;

\echo
\echo '== 3. Regions: ISO 3166 codes; Hong Kong is not a subdivision of CN'
SELECT r AS region, 'CN'::governance.region @> r AS "within CN"
FROM unnest('{CN,cn-sh,HK,MO,TW,US-CA}'::governance.region[]) r;
\echo '-- an unknown country is refused:'
SELECT 'XX'::governance.region;
