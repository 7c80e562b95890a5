#!/usr/bin/env bash
# test/t/upgrade.sh — ALTER EXTENSION pg_governance UPDATE from 0.1 gives a
# fresh 0.2 install, keeps what the database held, and keeps enforcing.
#
# On one throw-away cluster (pg_virtualenv, shared_preload_libraries = pg_governance):
#   1. database fresh: CREATE EXTENSION (the default version, 0.2);
#   2. database upgraded: CREATE EXTENSION ... VERSION '0.1', the five bundled
#      policies, a parameter, tags, a table binding, a database binding and
#      region, rows, a legal hold; the guard's refusals are recorded; then
#      ALTER EXTENSION pg_governance UPDATE;
#   3. (a) the extension's objects are exactly those of fresh: every member
#      (pg_depend 'e') with its definition, privileges and comment, and the
#      whole schema-only dump of a bare updated database against a bare fresh
#      one; (b) rows, labels, holds, policies, label history are unchanged;
#      (c) the guard refuses what it refused before, with the same SQLSTATEs;
#   4. database old stays at 0.1 next to them: the same library serves its
#      0.1 functions (tag, bind, guard, holds) without error or crash.
# Prints "upgrade: ok" and exits 0 on success; otherwise says what failed, exits 1.
set -u

if [ -z "${PG_GOVERNANCE_UPGRADE_VENV:-}" ]; then
    export PG_GOVERNANCE_UPGRADE_VENV=1
    self=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")
    exec pg_virtualenv -t -o "shared_preload_libraries=pg_governance" bash "$self" "$@"
fi

export PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning"
BIN=/usr/lib/postgresql/15/bin
[ -x "$BIN/pg_dump" ] || BIN=$(dirname "$(command -v pg_dump)")

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0

fail() {
    echo "FAIL: $*"
    failures=$((failures + 1))
}

# q DB SQL — run SQL, print unaligned tuples; any error stops the test (said
# on stderr: stdout is often a file)
q() {
    local db=$1 sql=$2 out
    if ! out=$(psql -X -At -q -v ON_ERROR_STOP=1 -d "$db" -c "$sql" 2>"$work/psql.err"); then
        {
            sed 's/^/    /' "$work/psql.err"
            echo "FAIL: in database $db: $sql"
            echo "upgrade: FAILED"
        } >&2
        exit 1
    fi
    printf '%s\n' "$out"
}

# sqlstate DB SQL — the SQLSTATE the statement fails with, or "ok"
sqlstate() {
    psql -X -At -q -d "$1" -v VERBOSITY=sqlstate -c "$2" 2>&1 >/dev/null |
        sed -n 's/^ERROR:  \([0-9A-Z]\{5\}\).*/\1/p' | head -1 | grep . || echo ok
}

# Each member of the extension with what defines it: the object, its
# definition (functions, views, tables with columns and constraints, types,
# operators, operator families, casts, event triggers), its ACL, its comment.
members_sql="
SELECT pg_catalog.pg_describe_object(d.classid, d.objid, 0) || E'\n' ||
       COALESCE(CASE d.classid
         WHEN 'pg_catalog.pg_proc'::regclass THEN
              (SELECT pg_catalog.pg_get_functiondef(p.oid) || ' acl=' || COALESCE(p.proacl::text, '-')
                      || ' leakproof=' || p.proleakproof || ' cost=' || p.procost
               FROM pg_catalog.pg_proc p WHERE p.oid = d.objid AND p.prokind <> 'a')
         WHEN 'pg_catalog.pg_class'::regclass THEN
              (SELECT c.relkind::text || ' acl=' || COALESCE(c.relacl::text, '-') || E'\n' ||
                      COALESCE(pg_catalog.pg_get_viewdef(c.oid), '') ||
                      COALESCE((SELECT string_agg(a.attnum || ' ' || a.attname || ' ' ||
                                       pg_catalog.format_type(a.atttypid, a.atttypmod) ||
                                       CASE WHEN a.attnotnull THEN ' not null' ELSE '' END ||
                                       COALESCE(' default ' || pg_catalog.pg_get_expr(ad.adbin, ad.adrelid), ''),
                                       E'\n' ORDER BY a.attnum)
                                FROM pg_catalog.pg_attribute a
                                LEFT JOIN pg_catalog.pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
                                WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped), '') || E'\n' ||
                      COALESCE((SELECT string_agg(pg_catalog.pg_get_constraintdef(k.oid), E'\n' ORDER BY k.conname)
                                FROM pg_catalog.pg_constraint k WHERE k.conrelid = c.oid), '') || E'\n' ||
                      COALESCE((SELECT string_agg(d.def, E'\n' ORDER BY d.def)
                                FROM pg_catalog.pg_index i,
                                     LATERAL (SELECT regexp_replace(pg_catalog.pg_get_indexdef(i.indexrelid),
                                                                    ' INDEX \S+ ON ', ' INDEX ON ') AS def) d
                                WHERE i.indrelid = c.oid), '')
               FROM pg_catalog.pg_class c WHERE c.oid = d.objid)
         WHEN 'pg_catalog.pg_type'::regclass THEN
              (SELECT concat_ws(' ', t.typlen, t.typbyval, t.typalign, t.typstorage, t.typcategory,
                                t.typinput::text, t.typoutput::text, t.typreceive::text, t.typsend::text,
                                t.typispreferred, t.typcollation <> 0, t.typacl)
               FROM pg_catalog.pg_type t WHERE t.oid = d.objid)
         WHEN 'pg_catalog.pg_operator'::regclass THEN
              (SELECT concat_ws(' ', o.oprcode::text, o.oprcom::regoperator, o.oprnegate::regoperator,
                                o.oprrest::text, o.oprjoin::text, o.oprcanmerge, o.oprcanhash)
               FROM pg_catalog.pg_operator o WHERE o.oid = d.objid)
         WHEN 'pg_catalog.pg_opfamily'::regclass THEN
              (SELECT string_agg(m, E'\n' ORDER BY m) FROM (
                   SELECT 'op ' || ao.amopstrategy || ' ' || ao.amopopr::regoperator || ' ' || ao.amoppurpose::text AS m
                   FROM pg_catalog.pg_amop ao WHERE ao.amopfamily = d.objid
                   UNION ALL
                   SELECT 'proc ' || ap.amprocnum || ' ' || ap.amproc::regprocedure
                   FROM pg_catalog.pg_amproc ap WHERE ap.amprocfamily = d.objid) ms)
         WHEN 'pg_catalog.pg_opclass'::regclass THEN
              (SELECT oc.opcdefault || ' ' || pg_catalog.pg_describe_object('pg_catalog.pg_opfamily'::regclass, oc.opcfamily, 0)
               FROM pg_catalog.pg_opclass oc WHERE oc.oid = d.objid)
         WHEN 'pg_catalog.pg_cast'::regclass THEN
              (SELECT concat_ws(' ', ca.castfunc, ca.castcontext, ca.castmethod)
               FROM pg_catalog.pg_cast ca WHERE ca.oid = d.objid)
         WHEN 'pg_catalog.pg_event_trigger'::regclass THEN
              (SELECT concat_ws(' ', e.evtevent, e.evtfoid::regprocedure, e.evtenabled, e.evttags)
               FROM pg_catalog.pg_event_trigger e WHERE e.oid = d.objid)
       END, '') ||
       COALESCE(E'\ncomment: ' || pg_catalog.obj_description(d.objid, d.classid::regclass::name), '')
FROM pg_catalog.pg_depend d
JOIN pg_catalog.pg_extension x ON x.oid = d.refobjid AND x.extname = 'pg_governance'
WHERE d.refclassid = 'pg_catalog.pg_extension'::regclass AND d.deptype = 'e'
ORDER BY 1"

# what the extension registers for pg_dump, and its version
config_sql="SELECT extversion, (SELECT array_agg(c::regclass::text ORDER BY c::regclass::text) FROM unnest(extconfig) c),
                   (SELECT array_agg(x ORDER BY x) FROM unnest(extcondition) x)
            FROM pg_catalog.pg_extension WHERE extname = 'pg_governance'"

# --- 1. a fresh install ------------------------------------------------------
q postgres "CREATE DATABASE fresh" >/dev/null
q postgres "CREATE DATABASE bare" >/dev/null
q postgres "CREATE DATABASE upgraded" >/dev/null
q postgres "CREATE DATABASE old" >/dev/null
q fresh "CREATE EXTENSION pg_governance" >/dev/null
[ "$(q fresh "SELECT extversion FROM pg_extension WHERE extname = 'pg_governance'")" = 0.2 ] ||
    fail "a fresh install is not version 0.2"

# --- 2. a 0.1 database in use ------------------------------------------------
setup="
CREATE EXTENSION pg_governance VERSION '0.1';
SELECT count(*) FROM (SELECT governance.load_bundled_policy(n) FROM governance.bundled_policies() n) s;
SELECT governance.set_parameter('21vianet-online-2018', 'after_account_closed', 'P2Y');
SELECT governance.bind_database('ctyun-huiju-2024');
SELECT governance.set_database_region('CN');
CREATE TABLE payments (id int PRIMARY KEY, customer text, cvv text, region governance.region);
SELECT governance.bind('payments', '21vianet-online-2020');
SELECT governance.tag('payments', 'cvv', 'category=payment.security_code');
SELECT governance.tag('payments', 'customer', 'category=personal.name;subject');
SELECT governance.tag('payments', 'region', 'region');
INSERT INTO payments VALUES (1, 'alice', NULL, 'CN-SH'), (2, 'bob', NULL, 'CN');
CREATE TABLE mail_log (id int, account text, line text, created timestamptz);
SELECT governance.bind('mail_log', 'jinpai-mail');
SELECT governance.tag('mail_log', 'line', 'category=log.service');
SELECT governance.tag('mail_log', 'account', 'subject');
SELECT governance.tag('mail_log', 'created', 'anchor=created');
INSERT INTO mail_log VALUES (1, 'alice', 'login', '2099-01-01 00:00+00'), (2, 'bob', 'login', '2001-01-01 00:00+00');
CREATE TABLE contacts (id int, phone text);
SELECT governance.tag('contacts', 'phone', 'category=personal.contact.phone');
INSERT INTO contacts VALUES (1, '13800000000');
SELECT governance.place_hold('mail_log', 'bob', 'case 2026-17');
"
q upgraded "$setup" >/dev/null
q old "$setup" >/dev/null
q bare "CREATE EXTENSION pg_governance VERSION '0.1'" >/dev/null

# the refusals, by SQLSTATE; the same before and after the update
refusals=(
    "INSERT INTO payments VALUES (3, 'carol', '123', 'CN')"
    "INSERT INTO payments VALUES (4, 'dave', NULL, 'HK')"
    "INSERT INTO payments VALUES (5, 'erin', NULL, 'XX')"
    "UPDATE payments SET cvv = '1' WHERE id = 1"
    "DELETE FROM mail_log WHERE id = 1"
    "DELETE FROM mail_log WHERE id = 2"
    "TRUNCATE mail_log"
    "DROP TABLE mail_log"
    "SECURITY LABEL FOR governance ON COLUMN payments.cvv IS 'category=no.such'"
)
record_refusals() {
    local db=$1 s
    for s in "${refusals[@]}"; do
        printf '%s => %s\n' "$s" "$(sqlstate "$db" "$s")"
    done
}
record_refusals upgraded >"$work/refusals.before"
grep -q ' => ok$' "$work/refusals.before" &&
    fail "0.1 accepted what it should refuse: $(grep ' => ok$' "$work/refusals.before")"

# everything the database holds, to compare after the update
state_sql="
SELECT 'payments', string_agg(format('%s', p), ';' ORDER BY id) FROM payments p
UNION ALL SELECT 'mail_log', string_agg(format('%s', m), ';' ORDER BY id) FROM mail_log m
UNION ALL SELECT 'contacts', string_agg(format('%s', c), ';' ORDER BY id) FROM contacts c
UNION ALL SELECT 'labels', string_agg(format('%s=%s', pg_describe_object(classoid, objoid, objsubid), label), ';' ORDER BY 2)
          FROM pg_seclabel WHERE provider = 'governance'
UNION ALL SELECT 'db labels', string_agg(label, ';') FROM pg_shseclabel s JOIN pg_database d ON d.oid = s.objoid
          WHERE s.provider = 'governance' AND d.datname = current_database()
UNION ALL SELECT 'holds', string_agg(format('%s', h), ';' ORDER BY hold_id) FROM governance.holds h
UNION ALL SELECT 'policies', string_agg(name || ' ' || sha256, ';' ORDER BY name) FROM governance.policies
UNION ALL SELECT 'rules', count(*)::text FROM governance.rules
UNION ALL SELECT 'parameters', string_agg(format('%s', p), ';' ORDER BY policy, name) FROM governance.parameters p
UNION ALL SELECT 'label_history', count(*)::text FROM governance.label_history
UNION ALL SELECT 'tagged_columns', string_agg(format('%s', (t.relation, t.\"column\", t.categories, t.roles, t.policy)), ';'
                                             ORDER BY relation::text, \"column\") FROM governance.tagged_columns t
UNION ALL SELECT 'guards', string_agg(conrelid::regclass || ' ' || conname || ' ' || pg_get_constraintdef(oid), ';' ORDER BY conrelid::regclass::text, conname)
          FROM pg_constraint WHERE conname LIKE 'gv\_guard\_%'
UNION ALL SELECT 'triggers', string_agg(tgrelid::regclass || ' ' || tgname, ';' ORDER BY tgrelid::regclass::text, tgname)
          FROM pg_trigger WHERE tgname LIKE 'governance\_guard\_%' AND tgname NOT LIKE 'governance\_guard\_write%'"
q upgraded "$state_sql" >"$work/state.before"

# --- 3. the update -----------------------------------------------------------
q upgraded "ALTER EXTENSION pg_governance UPDATE" >/dev/null
q bare "ALTER EXTENSION pg_governance UPDATE" >/dev/null

# (a) the same objects as a fresh install
q fresh "$config_sql" >"$work/config.fresh"
for db in upgraded bare; do
    q "$db" "$config_sql" >"$work/config.$db"
    diff -u "$work/config.fresh" "$work/config.$db" >"$work/config.diff" ||
        fail "$db: extension version or dump configuration differs from a fresh install:
$(cat "$work/config.diff")"
done
q fresh "$members_sql" >"$work/members.fresh"
[ "$(grep -c '^function ' "$work/members.fresh")" -gt 40 ] ||
    fail "the member listing of a fresh install looks empty"
for db in upgraded bare; do
    q "$db" "$members_sql" >"$work/members.$db"
    diff -u "$work/members.fresh" "$work/members.$db" >"$work/members.diff" ||
        fail "$db: extension objects differ from a fresh install:
$(head -60 "$work/members.diff")"
done
# a bare database holds nothing but the extension: its whole schema-only dump
# (binary-upgrade mode lists every member) must equal a fresh one's, OIDs aside
dump_schema() {
    "$BIN/pg_dump" --schema-only --binary-upgrade -d "$1" |
        grep -vE "binary_upgrade_set_next_|^\\\\(un)?restrict |^-- Dumped|^SET |^SELECT pg_catalog.set_config" |
        sed -E "s/\b[0-9]{5,}\b/N/g"
}
dump_schema fresh >"$work/dump.fresh"
dump_schema bare >"$work/dump.bare"
[ -s "$work/dump.fresh" ] || fail "empty schema dump of a fresh install"
diff -u "$work/dump.fresh" "$work/dump.bare" >"$work/dump.diff" ||
    fail "schema dump of an updated install differs from a fresh one:
$(head -60 "$work/dump.diff")"

# (b) nothing the database held has changed
q upgraded "$state_sql" >"$work/state.after"
diff -u "$work/state.before" "$work/state.after" >"$work/state.diff" ||
    fail "the update changed data, labels, holds or the catalog:
$(cat "$work/state.diff")"

# ... and the guard is brought to 0.2's shape: the guard triggers fire on
# replication apply too (no table here is a subscription target, so none has
# the apply-only row check)
[ "$(q upgraded "SELECT string_agg(c.relname || ':' || t.tgenabled::text, ',' ORDER BY c.relname, t.tgname)
                FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
                WHERE t.tgname LIKE 'governance\_guard\_%'")" = \
  "contacts:A,contacts:A,contacts:A,mail_log:A,mail_log:A,mail_log:A,payments:A,payments:A,payments:A" ] ||
    fail "the update did not bring the guard triggers to 0.2 (ALWAYS)"
# ... and tables whose rules can block rows get 0.2's row security
# (mail_log: jinpai-mail's log rule blocks logs past their six months; the
# extension's own tables, such as governance.sharing_log, are not governed)
[ "$(q upgraded "SELECT string_agg(c.relname || ':' || p.polname || ':' || c.relforcerowsecurity::text, ',' ORDER BY p.polname)
                FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid
                WHERE c.relnamespace <> 'governance'::regnamespace")" = \
  "mail_log:governance_blocked:true,mail_log:governance_open:true" ] ||
    fail "the update did not give the blocking tables their row security"

# (c) the guard refuses what it refused before
record_refusals upgraded >"$work/refusals.after"
diff -u "$work/refusals.before" "$work/refusals.after" >"$work/refusals.diff" ||
    fail "the guard decides differently after the update:
$(cat "$work/refusals.diff")"
[ "$(sqlstate upgraded "INSERT INTO payments VALUES (6, 'fay', NULL, 'CN-BJ')")" = ok ] ||
    fail "the updated database refuses a valid row"

# --- 4. a 0.1 database beside them, served by the same library ---------------
record_refusals old >"$work/refusals.old"
diff -u "$work/refusals.before" "$work/refusals.old" >"$work/refusals.diff" ||
    fail "a 0.1 database decides differently next to 0.2 ones:
$(cat "$work/refusals.diff")"
q old "SELECT governance.untag('contacts', 'phone');
       SELECT governance.tag('contacts', 'phone', 'category=personal.contact.phone');
       SELECT governance.release_hold(h.hold_id) FROM governance.holds h;
       SELECT governance.drop_policy('21vianet-o365-2016');
       INSERT INTO payments VALUES (7, 'gus', NULL, 'CN')" >/dev/null
[ "$(q old "SELECT extversion FROM pg_extension WHERE extname = 'pg_governance'")" = 0.1 ] ||
    fail "database old is no longer at 0.1"
[ "$(q postgres "SELECT 1")" = 1 ] || fail "the server is gone"

if [ "$failures" -eq 0 ]; then
    echo "upgrade: ok"
    exit 0
fi
echo "upgrade: FAILED ($failures)"
exit 1
