#!/usr/bin/env bash
# test/t/dump_restore.sh — the policy catalog survives pg_dump / restore exactly once.
#
# On one throw-away cluster (pg_virtualenv, shared_preload_libraries = pg_governance):
#   1. database src: CREATE EXTENSION, the five bundled policies, one of them reloaded
#      with changed text (so policy_history has a row), one parameter set;
#   2. fingerprints of every catalog table (row count, distinct rows, md5 of the ordered
#      rows) and of the sequence policy_history_history_id_seq;
#   3. pg_dump -Fc | pg_restore into dst, and pg_dump -Fp | psql ON_ERROR_STOP into dst2,
#      both without a single error line;
#   4. dst and dst2 have the same fingerprints as src (taxonomy: one row per category of policies/taxonomy.yaml, once), and a
#      policy reloaded after the restore gets a history_id above every restored one;
#   5. the sharing log (rows appended in src, through governance.share() too when it
#      exists, one subject forgotten) comes back row for row with its hashes: the chain
#      verifies, has src's digest and passes through it, the pseudonyms are src's (the
#      forgotten subject's stays forgotten), and a row appended after the restore
#      extends the chain.
# Prints "dump_restore: ok" and exits 0 on success; otherwise says what failed, exits 1.
set -u

# Re-exec inside a throw-away cluster.  A marker of our own (not PGHOST) decides, so the
# test never creates its databases on a server that happens to be in the environment.
if [ -z "${PG_GOVERNANCE_DUMP_RESTORE_VENV:-}" ]; then
    export PG_GOVERNANCE_DUMP_RESTORE_VENV=1
    self=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")
    exec pg_virtualenv -t -o "shared_preload_libraries=pg_governance" bash "$self" "$@"
fi

export PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning"
BIN=/usr/lib/postgresql/15/bin
[ -x "$BIN/pg_dump" ] || BIN=$(dirname "$(command -v pg_dump)")

work=$(mktemp -d)
chmod 755 "$work"
trap 'rm -rf "$work"' EXIT
failures=0

fail() {
    echo "FAIL: $*"
    failures=$((failures + 1))
}

# messages go to stderr: q often runs inside $(...) or with stdout sent to /dev/null
die() {
    echo "FAIL: $*" >&2
    echo "dump_restore: FAILED" >&2
    touch "$work/died"
    exit 1
}

# q DB SQL — run SQL, print unaligned tuples; on any error say so and stop (when q runs
# in a subshell, the file "died" makes the main script stop at its next q or at the end)
q() {
    local db=$1 sql=$2 out
    [ -e "$work/died" ] && exit 1
    if ! out=$(psql -X -At -q -v ON_ERROR_STOP=1 -d "$db" -c "$sql" 2>"$work/psql.err"); then
        sed 's/^/    /' "$work/psql.err" >&2
        die "in database $db: $sql"
    fi
    printf '%s\n' "$out"
}

# --- 1. source database ------------------------------------------------------
[ "$(q postgres 'SHOW shared_preload_libraries')" = "pg_governance" ] ||
    die "cluster is not running with shared_preload_libraries = pg_governance"
for db in src dst dst2; do
    dropdb --if-exists "$db" >/dev/null 2>&1
done
createdb src || die "createdb src"
q src "CREATE EXTENSION pg_governance" >/dev/null

npol=$(q src "SELECT count(governance.load_bundled_policy(n)) FROM governance.bundled_policies() n")
[ "$npol" = 5 ] || fail "expected 5 bundled policies, loaded $npol"
q src "SELECT 1 FROM governance.policy WHERE name = 'jinpai-mail'" | grep -qx 1 ||
    die "bundled policy jinpai-mail is not loaded"

# reload jinpai-mail with changed text: the old version goes to policy_history
q src "SELECT governance.load_policy(yaml || E'\n# changed\n')
       FROM governance.policy WHERE name = 'jinpai-mail'" >/dev/null
nhist=$(q src "SELECT count(*) FROM governance.policy_history")
[ "$nhist" = 1 ] || fail "src: expected 1 policy_history row after the reload, found $nhist"

# a DBA parameter setting: jinpai-mail / log_retention if declared, else the first one
param=$(q src "SELECT policy || '|' || name FROM governance.parameters
               ORDER BY (policy, name) = ('jinpai-mail', 'log_retention') DESC, policy, name
               LIMIT 1")
[ -n "$param" ] || die "no policy declares a parameter"
ppol=${param%%|*}
pname=${param#*|}
q src "SELECT governance.set_parameter('$ppol', '$pname', 'P1Y')" >/dev/null
[ "$(q src "SELECT value FROM governance.parameters WHERE policy = '$ppol' AND name = '$pname'")" = P1Y ] ||
    fail "src: parameter $ppol/$pname is not P1Y after set_parameter"

# a governed, partitioned table with rows under retention and a legal hold
q src "CREATE TABLE pay (id int, who text, cvv text, region text, created timestamptz) PARTITION BY RANGE (id);
       CREATE TABLE pay_1 PARTITION OF pay FOR VALUES FROM (0) TO (100);
       CREATE TABLE plain_log (id int, line text, created timestamptz);
       CREATE TABLE db_bound (id int, phone text);
       SELECT governance.bind_database('ctyun-huiju-2024');
       SELECT governance.set_database_region('CN');
       SELECT governance.tag('db_bound', 'phone', 'category=personal.contact.phone');
       INSERT INTO db_bound VALUES (1, '13800000000');
       SELECT governance.bind('pay', '21vianet-online-2020');
       SELECT governance.tag('pay', 'cvv', 'category=payment.security_code');
       SELECT governance.tag('pay', 'who', 'subject;category=personal.name');
       SELECT governance.tag('pay', 'region', 'region');
       SELECT governance.bind('plain_log', 'jinpai-mail');
       SELECT governance.tag('plain_log', 'line', 'category=log.service');
       SELECT governance.tag('plain_log', 'created', 'anchor=created');
       INSERT INTO pay VALUES (1, 'alice', NULL, 'CN-SH', now());
       INSERT INTO plain_log VALUES (1, 'login', now()), (2, 'blocked: past its six months', now() - interval '2 years');
       CREATE ROLE dr_app;
       GRANT SELECT ON plain_log TO dr_app;
       SELECT governance.place_hold('pay', 'alice', 'case 1');" >/dev/null ||
    die "src: could not set up governed tables"

# a DBA's corrections of the shipped calendar: a changed row, a deleted one, a replaced one,
# and a year of its own
q src "UPDATE governance.calendar SET name = '春节 (corrected)' WHERE day = '2025-01-29';
       DELETE FROM governance.calendar WHERE day = '2025-01-26';
       INSERT INTO governance.calendar (day, kind, name) VALUES ('2025-02-08', 'holiday', 'no longer a working Saturday');
       INSERT INTO governance.calendar_year (year, source) VALUES (2027, 'test notice');" >/dev/null ||
    die "src: could not correct the calendar"

# an erased subject's row kept under a hold: blocked at once (governance_restricted)
q src "CREATE TABLE staff (id int PRIMARY KEY, email text);
       SELECT governance.bind('staff', 'jinpai-mail');
       SELECT governance.tag('staff', 'email', 'subject;category=personal.contact.email');
       INSERT INTO staff VALUES (1, 'carol@example.cn'), (2, 'dan@example.cn');
       GRANT SELECT ON staff TO dr_app;
       SELECT governance.place_hold('staff', 'carol@example.cn', 'case 2');
       SELECT count(*) FROM governance.erase_subject('carol@example.cn');" >/dev/null ||
    die "src: could not erase a held subject"
[ "$(q src "SET ROLE dr_app; SELECT count(*) FROM staff")" = 1 ] ||
    fail "src: the kept row of the erased subject is not hidden from an app role"

# a sharing log: rows with and without subject, destination and legal basis, a name
# outside ASCII; through governance.share() too when this build has it; one subject
# forgotten.  Its rows must come back in chain order (the config dump's ORDER BY id).
q src "INSERT INTO governance.sharing_log (policy, recipient, categories, purpose, subject,
                                           destination, legal_basis, rule_id, personal)
       SELECT 'jinpai-mail', CASE WHEN i % 2 = 0 THEN 'class:successor' ELSE '百度SDK' END,
              '{personal.name,personal.contact.email}', 'merger_acquisition',
              CASE WHEN i % 5 <> 0 THEN 'subject-' || (i % 7) END, CASE WHEN i % 3 = 0 THEN 'HK' END,
              CASE WHEN i % 4 = 0 THEN 'consent' END, 'test.dump', i % 5 <> 0
       FROM generate_series(1, 30) i" >/dev/null
if [ "$(q src "SELECT to_regprocedure('governance.share(text, governance.category[], text, text, governance.region, text, text)') IS NOT NULL")" = t ]; then
    q src "SELECT governance.share('class:successor', '{personal.name}', 'merger_acquisition',
                                   'subject-' || i, NULL, NULL, 'jinpai-mail')
           FROM generate_series(1, 3) i" >/dev/null
fi
q src "SELECT governance.forget_sharing_subject('subject-3')" >/dev/null
nlog=$(q src "SELECT count(*) FROM governance.sharing_log")
src_digest=$(q src "SELECT id || ' ' || hash FROM governance.sharing_log_digest()")
src_pseudonym=$(q src "SELECT governance.sharing_pseudonym('subject-1')")
[ "$(q src "SELECT ok || ' ' || checked FROM governance.verify_sharing_log()")" = "true $nlog" ] ||
    fail "src: the sharing log does not verify before the dump"
[ -n "$src_pseudonym" ] || fail "src: subject-1 has no pseudonym"

# (plain_log's rules block rows: it has forced row security and the two
# policies of the guard, restored once)
GUARD_SQL="SELECT c.relname, count(DISTINCT con.oid), count(DISTINCT t.oid), count(DISTINCT p.oid),
       c.relrowsecurity, c.relforcerowsecurity
FROM pg_class c
LEFT JOIN pg_constraint con ON con.conrelid = c.oid AND con.conname LIKE 'gv\\_guard\\_%'
LEFT JOIN pg_trigger t ON t.tgrelid = c.oid AND t.tgname LIKE 'governance\\_guard\\_%'
LEFT JOIN pg_policy p ON p.polrelid = c.oid AND p.polname LIKE 'governance\\_%'
WHERE c.relname IN ('pay', 'pay_1', 'plain_log', 'staff') GROUP BY c.oid ORDER BY 1"
q src "$GUARD_SQL" >"$work/src.guard"

# --- 2. fingerprints ---------------------------------------------------------
# one line per table: name, rows, distinct rows, md5 of the rows in order
FP_SQL=$(cat <<'EOF'
WITH t(tab, r) AS (
    SELECT 'taxonomy', x::text FROM governance.taxonomy x
    UNION ALL SELECT 'policy', row(x.name, x.sha256, x.yaml)::text FROM governance.policy x
    UNION ALL SELECT 'policy_full', row(x.name, x.version, x.effective_date, x.title, x.controller,
                     x.language, x.seed, x.home_jurisdiction, x.origin, x.document, x.loaded_at,
                     x.loaded_by)::text FROM governance.policy x
    UNION ALL SELECT 'policy_history', row(x.history_id, x.name, x.sha256)::text FROM governance.policy_history x
    UNION ALL SELECT 'policy_history_full', x::text FROM governance.policy_history x
    UNION ALL SELECT 'rule', x::text FROM governance.rule x
    UNION ALL SELECT 'policy_category', x::text FROM governance.policy_category x
    UNION ALL SELECT 'jurisdiction', x::text FROM governance.jurisdiction x
    UNION ALL SELECT 'parameter_def', x::text FROM governance.parameter_def x
    UNION ALL SELECT 'parameter_setting', row(x.policy, x.name, x.value)::text FROM governance.parameter_setting x
    UNION ALL SELECT 'recipient', x::text FROM governance.recipient x
    UNION ALL SELECT 'unenforceable', x::text FROM governance.unenforceable x
    UNION ALL SELECT 'label_history', row(x.change_id, x.changed_by, x.object, x.old_label, x.new_label)::text FROM governance.label_history x
    UNION ALL SELECT 'hold', row(x.hold_id, x.relation::text, x.subject, x.reason)::text FROM governance.hold x
    UNION ALL SELECT 'seclabel', row(l.objoid::regclass::text, l.objsubid, l.label)::text FROM pg_seclabel l WHERE l.provider = 'governance'
    UNION ALL SELECT 'database_label', x.label FROM governance.database_label x
    UNION ALL SELECT 'sharing_log', x::text FROM governance.sharing_log x
    UNION ALL SELECT 'sharing_subject', x::text FROM governance.sharing_subject x
    UNION ALL SELECT 'restricted_rows', row(x.restriction, x.key, x.reason)::text FROM governance.restricted_rows x
    UNION ALL SELECT 'calendar', row(x.day, x.kind, x.name, x.builtin)::text FROM governance.calendar x
    UNION ALL SELECT 'calendar_year', row(x.year, x.source, x.builtin)::text FROM governance.calendar_year x
    UNION ALL SELECT 'calendar_removed', row(x.day, x.year)::text FROM governance.calendar_removed x
)
SELECT tab, count(*), count(DISTINCT r), md5(string_agg(r, E'\n' ORDER BY r COLLATE "C"))
FROM t GROUP BY tab
UNION ALL
SELECT 'seq policy_history_history_id_seq', last_value, is_called::int, ''
FROM governance.policy_history_history_id_seq
ORDER BY 1
EOF
)
fingerprint() { q "$1" "$FP_SQL"; }

fingerprint src >"$work/src.fp"
dups=$(awk -F'|' '$1 !~ /^seq / && $2 != $3 { printf "%s ", $1 }' "$work/src.fp")
[ -z "$dups" ] || fail "src: tables with duplicate rows: $dups"
# the base taxonomy as installed: one row per category of policies/taxonomy.yaml
ntax_file=$(grep -c '^  - name:' "$(dirname "$0")/../../policies/taxonomy.yaml")
grep -q "^taxonomy|$ntax_file|$ntax_file|" "$work/src.fp" || fail "src: taxonomy should have $ntax_file rows: $(grep '^taxonomy|' "$work/src.fp")"
for tab in policy policy_history rule policy_category jurisdiction parameter_def parameter_setting recipient \
           sharing_log sharing_subject restricted_rows calendar_removed; do
    grep -q "^$tab|" "$work/src.fp" || fail "src: table $tab is empty, the test would prove nothing"
done

# --- 3. dump and restore -----------------------------------------------------
"$BIN/pg_dump" -Fc -f "$work/src.dump" src 2>"$work/dump.err" || { cat "$work/dump.err"; die "pg_dump -Fc src"; }
[ -s "$work/dump.err" ] && { cat "$work/dump.err"; fail "pg_dump -Fc wrote to stderr"; }
"$BIN/pg_dump" -Fp -f "$work/src.sql" src 2>"$work/dumpp.err" || { cat "$work/dumpp.err"; die "pg_dump -Fp src"; }
[ -s "$work/dumpp.err" ] && { cat "$work/dumpp.err"; fail "pg_dump -Fp wrote to stderr"; }

createdb dst || die "createdb dst"
"$BIN/pg_restore" -d dst "$work/src.dump" 2>"$work/restore.err"
rc=$?
if [ "$rc" -ne 0 ] || grep -qiE 'error|warning' "$work/restore.err"; then
    sed 's/^/    /' "$work/restore.err" | head -40
    fail "pg_restore -d dst exited $rc with errors (above)"
fi

createdb dst2 || die "createdb dst2"
psql -X -q -v ON_ERROR_STOP=1 -d dst2 -f "$work/src.sql" >/dev/null 2>"$work/psql_restore.err"
rc=$?
if [ "$rc" -ne 0 ] || grep -qiE 'error|warning' "$work/psql_restore.err"; then
    sed 's/^/    /' "$work/psql_restore.err" | head -40
    fail "psql -v ON_ERROR_STOP=1 -f plain dump into dst2 exited $rc with errors (above)"
fi

# pg_restore --create brings the database's own label too: restore src under
# its own name after moving the original aside
psql -X -q -d postgres -c "ALTER DATABASE src RENAME TO src_orig" || die "rename src"
"$BIN/pg_restore" --create -d postgres "$work/src.dump" 2>"$work/restore_create.err"
rc=$?
if [ "$rc" -ne 0 ] || grep -qiE 'error|warning' "$work/restore_create.err"; then
    sed 's/^/    /' "$work/restore_create.err" | head -40
    fail "pg_restore --create exited $rc with errors (above)"
fi
[ "$(q src "SELECT count(*) FROM pg_shseclabel s JOIN pg_database d ON d.oid = s.objoid
            WHERE d.datname = 'src' AND s.provider = 'governance'")" = 1 ] ||
    fail "src (pg_restore --create): the database label did not come back"

# --- 4. compare --------------------------------------------------------------
# dst and dst2 (no --create) have no database label: the binding and region
# come from governance.database_label
for db in dst dst2 src; do
    fingerprint "$db" >"$work/$db.fp"
    if ! diff -u "$work/src.fp" "$work/$db.fp" >"$work/$db.diff"; then
        # name the tables that differ, then show the lines
        awk -F'|' 'FNR == NR { a[$1] = $0; next }
                   { b[$1] = $0 }
                   END { for (k in a) if (a[k] != b[k]) print k ": src " a[k] "  /  " b[k];
                         for (k in b) if (!(k in a)) print k ": only after restore " b[k] }' \
            "$work/src.fp" "$work/$db.fp" | sort | while read -r l; do echo "    $db $l"; done
        fail "$db: catalog differs from src (table|rows|distinct rows|md5; seq|last_value|is_called)"
    fi
    ntax=$(q "$db" "SELECT count(*) || '/' || count(DISTINCT category) FROM governance.taxonomy")
    [ "$ntax" = "$ntax_file/$ntax_file" ] || fail "$db: taxonomy has $ntax rows/distinct categories, expected $ntax_file/$ntax_file"
    [ "$(q "$db" "SELECT extversion FROM pg_extension WHERE extname = 'pg_governance'")" = 0.2 ] ||
        fail "$db: extension pg_governance is not installed after the restore"
    [ "$(q "$db" "SELECT value FROM governance.parameters WHERE policy = '$ppol' AND name = '$pname'")" = P1Y ] ||
        fail "$db: parameter $ppol/$pname is not P1Y after the restore"

    # the guard came back once, and enforces
    q "$db" "$GUARD_SQL" >"$work/$db.guard"
    diff -u "$work/src.guard" "$work/$db.guard" >/dev/null ||
        fail "$db: guard objects differ after restore: $(tr '\n' ' ' <"$work/$db.guard") vs $(tr '\n' ' ' <"$work/src.guard")"
    out=$(psql -X -At -d "$db" -c "INSERT INTO pay VALUES (2, 'bob', '123', 'CN', now())" 2>&1)
    case "$out" in *"must never be stored"*) ;; *) fail "$db: never-store not enforced after restore: $out" ;; esac
    out=$(psql -X -At -d "$db" -c "DELETE FROM pay WHERE who = 'alice'" 2>&1)
    case "$out" in *"legal hold"*) ;; *) fail "$db: legal hold not enforced after restore: $out" ;; esac
    out=$(psql -X -At -q -d "$db" -c "SET ROLE dr_app; SELECT count(*) FROM plain_log" 2>&1)
    [ "$out" = 1 ] || fail "$db: the blocked row of plain_log is not hidden from an app role after restore: $out"
    # the erased subject's kept row: still hidden, still refused to an administrator's
    # writes, and its key survives the next erasure's clean-up
    q "$db" "SELECT count(*) FROM governance.erase_subject('nobody@example.cn')" >/dev/null
    out=$(psql -X -At -q -d "$db" -c "SET ROLE dr_app; SELECT count(*) FROM staff" 2>&1)
    [ "$out" = 1 ] || fail "$db: the erased subject's kept row of staff is not hidden after restore: $out"
    out=$(psql -X -At -d "$db" -c "SET session_replication_role = origin; UPDATE staff SET email = 'x' WHERE id = 1" 2>&1)
    case "$out" in *"blocked row"*) ;; *) fail "$db: a write to the kept row is not refused after restore: $out" ;; esac
    [ "$(q "$db" "SELECT count(*) FROM governance.restricted_rows")" = 1 ] ||
        fail "$db: the kept row's key did not survive an erasure after the restore"
    # restricted_rows names its table by name: a copy of the policy elsewhere reads nothing
    rid=$(q "$db" "SELECT substring(pg_get_expr(polqual, polrelid) FROM '''(\d+)''::bigint')
                   FROM pg_policy WHERE polname = 'governance_restricted' AND polrelid = 'staff'::regclass")
    [ "$(q "$db" "SELECT relid::text FROM governance.restricted_rows")" = staff ] ||
        fail "$db: restricted_rows does not name staff after the restore"
    q "$db" "CREATE TABLE forged (id int); GRANT SELECT ON forged TO dr_app;
             SET check_function_bodies = off;
             CREATE POLICY governance_restricted ON forged
                 USING (NOT governance._restricted_match('forged'::regclass, '$rid'::pg_catalog.int8, ARRAY[CAST(id AS text)]))" >/dev/null
    out=$(psql -X -At -q -d "$db" -c "SET ROLE dr_app; SELECT governance._restricted_match('forged', $rid, 1::bigint)" 2>&1)
    case "$out" in *"is not one of table"*) ;; *) fail "$db: a copied policy reads the restored keys: $out" ;; esac
    out=$(psql -X -At -d "$db" -c "DELETE FROM plain_log" 2>&1)
    case "$out" in *"minimum retention"*) ;; *) fail "$db: retention not enforced after restore: $out" ;; esac
    # the database's binding and region: db_bound is governed through them
    [ "$(q "$db" "SELECT governance.bound_policy('db_bound')")" = ctyun-huiju-2024 ] ||
        fail "$db: the database binding was lost in the restore"
    out=$(psql -X -At -d "$db" -c "INSERT INTO db_bound VALUES (2, '13900000000')" 2>&1)
    [ "$out" = "INSERT 0 1" ] || fail "$db: the database region was lost in the restore: $out"
    out=$(psql -X -At -d "$db" -c "SELECT governance.set_database_region('HK')" 2>&1)
    case "$out" in *"existing row"*) ;; *) fail "$db: the database region does not govern db_bound after restore: $out" ;; esac

    # the sequence continues: a reload after the restore gets a fresh, larger history_id
    maxid=$(q "$db" "SELECT max(history_id) FROM governance.policy_history")
    q "$db" "SELECT governance.load_policy(yaml || E'# changed after restore\n')
             FROM governance.policy WHERE name = 'jinpai-mail'" >/dev/null
    newid=$(q "$db" "SELECT max(history_id) FROM governance.policy_history")
    nnew=$(q "$db" "SELECT count(*) FROM governance.policy_history WHERE history_id > ${maxid:-0}")
    if [ "$nnew" != 1 ] || [ -z "$newid" ] || [ "$newid" -le "${maxid:-0}" ]; then
        fail "$db: reload after restore: history ids before max=$maxid, after max=$newid, new rows=$nnew (want exactly 1 new, larger id)"
    fi
    dup=$(q "$db" "SELECT count(*) - count(DISTINCT history_id) FROM governance.policy_history")
    [ "$dup" = 0 ] || fail "$db: policy_history has $dup duplicate history_id values"

    # --- 5. the sharing log: the same chain, still verifiable, still extensible
    out=$(q "$db" "SELECT ok || ' ' || checked || ' ' || coalesce(first_bad_id::text, '-')
                   FROM governance.verify_sharing_log()")
    [ "$out" = "true $nlog -" ] || fail "$db: verify_sharing_log() after restore: $out (want true $nlog -)"
    out=$(q "$db" "SELECT id || ' ' || hash FROM governance.sharing_log_digest()")
    [ "$out" = "$src_digest" ] || fail "$db: the sharing log's digest is $out, src's was $src_digest"
    out=$(q "$db" "SELECT ok FROM governance.verify_sharing_log(${src_digest%% *}, '${src_digest#* }')")
    [ "$out" = t ] || fail "$db: the restored chain does not pass through src's digest"
    out=$(q "$db" "SELECT coalesce(governance.sharing_pseudonym('subject-1'), '-') || ' '
                          || coalesce(governance.sharing_pseudonym('subject-3'), '-')")
    [ "$out" = "$src_pseudonym -" ] || fail "$db: pseudonyms after restore: $out (want $src_pseudonym -)"
    q "$db" "INSERT INTO governance.sharing_log (policy, recipient, categories, purpose, subject)
             VALUES ('jinpai-mail', 'class:successor', '{personal.name}', 'merger_acquisition', 'subject-1')" >/dev/null
    out=$(q "$db" "SELECT v.ok || ' ' || v.checked || ' ' || (SELECT subject = '$src_pseudonym'
                   FROM governance.sharing_log ORDER BY id DESC LIMIT 1)
                   FROM governance.verify_sharing_log() v")
    [ "$out" = "true $((nlog + 1)) true" ] ||
        fail "$db: a row appended after the restore: verify and pseudonym say $out (want true $((nlog + 1)) true)"
done

[ -e "$work/died" ] && exit 1
if [ "$failures" -ne 0 ]; then
    echo "dump_restore: FAILED ($failures checks)"
    exit 1
fi
echo "dump_restore: ok"
