#!/usr/bin/env bash
# test/t/sharing_concurrency.sh — concurrent appends to the sharing log neither lose,
# duplicate nor fork the chain, and rolled-back appends leave no trace.
#
# One throw-away PostgreSQL 15 cluster (initdb / pg_ctl from $PGBIN, run as the postgres
# OS user, Unix socket only, port 5631 on a socket directory inside one mktemp -d
# directory removed on exit), shared_preload_libraries = pg_governance.  The test builds
# nothing: pg_governance must be installed in $PGBIN's PostgreSQL.
#   1. setup: CREATE EXTENSION; when governance.share() exists, the bundled policy
#      jinpai-mail is loaded and every append is
#        governance.share('class:successor', '{personal.name}', 'merger_acquisition',
#                         'subject-'||:n, NULL, NULL, 'jinpai-mail')
#      otherwise a direct INSERT into governance.sharing_log as the superuser (the
#      chain trigger chains both alike);
#   2. at the same time, with pgbench:
#        - 4 clients, $PER_CLIENT appends each (READ COMMITTED);
#        - 2 clients under REPEATABLE READ, $RR_PER_CLIENT appends each, serialization
#          failures retried (--max-tries): a concurrent append must fail them, never
#          fork the chain;
#        - 1 client appending twice and rolling back, $ROLLBACKS times;
#        - 1 client appending, rolling back to a savepoint an append, committing,
#          $SAVEPOINTS times (one row each);
#        - a loop calling verify_sharing_log() until the appenders are done: every
#          call must be ok (one snapshot for the rows and the chain's state);
#      subjects are drawn from 200, so new subjects' pseudonyms are made concurrently;
#   3. then: no pgbench failure; rows = committed appends; ids 1..rows without a gap;
#      verify_sharing_log() = (t, rows, NULL); the digest names the last row and the
#      digest form verifies; no subject is stored as given.
# Prints what it checks, "sharing_concurrency: ok" and exits 0 on success; otherwise
# says what failed and exits 1.
#
#   PGBIN=/path/to/15/bin test/t/sharing_concurrency.sh   — run against another installation
set -u

PORT=5631
PER_CLIENT=${PER_CLIENT:-500}
RR_PER_CLIENT=${RR_PER_CLIENT:-200}
ROLLBACKS=${ROLLBACKS:-200}
SAVEPOINTS=${SAVEPOINTS:-200}
TEST_NAME=sharing_concurrency
. "$(dirname "$0")/../lib/cluster.sh"
[ -x "$PGBIN/pgbench" ] || die "$PGBIN/pgbench not found"

# q SQL — run SQL as postgres, print unaligned tuples; on error print psql's stderr
# indented, return 1
q() {
    "$PGBIN/psql" -X -At -q -v ON_ERROR_STOP=1 -h "$SOCK" -p "$PORT" \
        -U postgres -d postgres -c "$1" 2>"$work/psql.err"
    local rc=$?
    [ $rc -eq 0 ] || sed 's/^/    /' "$work/psql.err" >&2
    return $rc
}
qq() {
    q "$1" || die "$1"
}

# --- cluster -----------------------------------------------------------------------
cluster_start "max_connections = 30"

# --- 1. setup ----------------------------------------------------------------------
qq "CREATE EXTENSION pg_governance" >/dev/null
has_share=$(qq "SELECT count(*) FROM pg_proc
                WHERE oid = to_regprocedure('governance.share(text, governance.category[], text, text, governance.region, text, text)')")
if [ "$has_share" = 1 ]; then
    check "setup: governance.share() exists: appends go through it (policy jinpai-mail)"
    qq "SELECT governance.load_bundled_policy('jinpai-mail')" >/dev/null
    APPEND="SELECT governance.share('class:successor', '{personal.name}', 'merger_acquisition', 'subject-' || :n, NULL, NULL, 'jinpai-mail');"
    q "BEGIN; $(echo "$APPEND" | sed 's/:n/0/'); ROLLBACK;" >/dev/null ||
        die "governance.share() refuses the test's sharing event"
else
    check "setup: no governance.share() in this build: appends are INSERTs by the superuser"
    APPEND="INSERT INTO governance.sharing_log (policy, recipient, categories, purpose, subject, rule_id)
    VALUES ('jinpai-mail', 'class:successor', '{personal.name}', 'merger_acquisition', 'subject-' || :n, 'test.concurrency');"
fi
cat >"$work/append.sql" <<EOF
\set n random(1, 200)
$APPEND
EOF
cat >"$work/rollback.sql" <<EOF
\set n random(1, 200)
BEGIN;
$APPEND
$APPEND
ROLLBACK;
EOF
cat >"$work/savepoint.sql" <<EOF
\set n random(1, 200)
BEGIN;
$APPEND
SAVEPOINT s;
$APPEND
ROLLBACK TO SAVEPOINT s;
COMMIT;
EOF
[ "$(id -u)" -eq 0 ] && chown -R postgres: "$work"

# bench NAME PGBENCH_ARGS... — pgbench in the background, output in $work/NAME.out
bench() {
    local name=$1; shift
    "${as_pg[@]}" env PGOPTIONS="${BENCH_OPTIONS:-}" "$PGBIN/pgbench" -n -h "$SOCK" -p "$PORT" \
        -U postgres "$@" postgres >"$work/$name.out" 2>&1 &
    bgpids="$bgpids $!"
    eval "pid_$name=$!"
}

# --- 2. concurrent appends ---------------------------------------------------------
check "appending: 4 clients x $PER_CLIENT, 2 REPEATABLE READ clients x $RR_PER_CLIENT, rollbacks, savepoints, verification meanwhile"
bench rc -c 4 -j 4 -t "$PER_CLIENT" -f "$work/append.sql"
BENCH_OPTIONS="-c default_transaction_isolation=repeatable\\ read" \
    bench rr -c 2 -j 2 -t "$RR_PER_CLIENT" --max-tries=10000 -f "$work/append.sql"
bench rollback -c 1 -t "$ROLLBACKS" -f "$work/rollback.sql"
bench savepoint -c 1 -t "$SAVEPOINTS" -f "$work/savepoint.sql"
# shellcheck disable=SC2154
appenders="$pid_rc $pid_rr $pid_rollback $pid_savepoint"

verifies=0
bad_verifies=0
while :; do
    running=0
    for p in $appenders; do
        kill -0 "$p" 2>/dev/null && running=1
    done
    [ "$running" = 1 ] || break
    v=$(q "SELECT ok FROM governance.verify_sharing_log()") || v=error
    verifies=$((verifies + 1))
    if [ "$v" != t ]; then
        bad_verifies=$((bad_verifies + 1))
        echo "   verify during the appends said: $v"
    fi
done
for p in $appenders; do
    wait "$p" || true
done

# processed NAME — sets N to the transactions pgbench committed; fails on any pgbench failure
processed() {
    local out=$work/$1.out
    N=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$out")
    if [ -z "$N" ] || grep -qE '^number of failed transactions: [1-9]' "$out" ||
        grep -qiE 'error|aborted' "$out"; then
        sed 's/^/    /' "$out" | head -30
        fail "pgbench $1 did not run cleanly (above)"
    fi
    N=${N:-0}
}
processed rc; n_rc=$N
processed rr; n_rr=$N
processed rollback; n_rollback=$N
processed savepoint; n_savepoint=$N
retried=$(sed -n 's/^number of transactions retried: \([0-9]*\).*/\1/p' "$work/rr.out")
echo "   committed: $n_rc read committed, $n_rr repeatable read (${retried:-0} retried), $n_savepoint savepoint transactions; $n_rollback rolled back"
expect "read committed appends" "$n_rc" $((4 * PER_CLIENT))
expect "repeatable read appends" "$n_rr" $((2 * RR_PER_CLIENT))
expect "savepoint transactions" "$n_savepoint" "$SAVEPOINTS"
expect "rolled-back transactions" "$n_rollback" "$ROLLBACKS"
expect "verifications during the appends that failed (of $verifies)" "$bad_verifies" 0
[ "$verifies" -gt 0 ] || fail "no verification ran during the appends"

# --- 3. the chain ------------------------------------------------------------------
rows=$((n_rc + n_rr + n_savepoint))
check "the log: every committed append once, in one chain"
expect "rows in the log" "$(qq "SELECT count(*) FROM governance.sharing_log")" "$rows"
expect "ids 1..rows, no gap, no duplicate" \
    "$(qq "SELECT min(id) || '..' || max(id) || ' ' || count(DISTINCT id) FROM governance.sharing_log")" \
    "1..$rows $rows"
expect "verify_sharing_log()" "$(qq "SELECT ok || ' ' || checked || ' ' || coalesce(first_bad_id::text, '-')
                                      FROM governance.verify_sharing_log()")" "true $rows -"
expect "the digest names the last row" "$(qq "SELECT d.id = $rows AND d.hash = l.hash
                                               FROM governance.sharing_log_digest() d
                                               JOIN governance.sharing_log l USING (id)")" t
expect "verify_sharing_log(digest)" "$(qq "SELECT v.ok FROM governance.sharing_log_digest() d,
                                            governance.verify_sharing_log(d.id, d.hash) v")" t
expect "every prev_hash is the hash of the row before" \
    "$(qq "SELECT count(*) FROM (SELECT prev_hash, lag(hash) OVER (ORDER BY id) AS prev, id
                                 FROM governance.sharing_log) x
           WHERE prev_hash IS DISTINCT FROM coalesce(prev, repeat('0', 64))")" 0
expect "subjects stored as given" "$(qq "SELECT count(*) FROM governance.sharing_log WHERE subject LIKE 'subject-%'")" 0
expect "one pseudonym per subject" \
    "$(qq "SELECT count(*) = count(DISTINCT subject) AND count(*) = count(DISTINCT pseudonym)
           FROM governance.sharing_subject")" t
expect "every logged pseudonym is a subject's" \
    "$(qq "SELECT count(*) FROM governance.sharing_log l
           WHERE NOT EXISTS (SELECT 1 FROM governance.sharing_subject s WHERE s.pseudonym = l.subject)")" 0

if [ "$failures" -ne 0 ]; then
    echo "--- server log (last 20 lines)"
    tail -20 "$work/server.log"
    echo "sharing_concurrency: FAILED ($failures)"
    exit 1
fi
echo "sharing_concurrency: ok"
exit 0
