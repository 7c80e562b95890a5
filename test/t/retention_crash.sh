#!/usr/bin/env bash
# test/t/retention_crash.sh — a retention run killed (kill -9) or cancelled midway has
# recorded exactly what it committed, and the next run does the rest, once.
#
# One throw-away PostgreSQL 15 cluster (initdb / pg_ctl from $PGBIN, run as the postgres
# OS user, Unix socket only, port 5621 on a socket directory inside one mktemp -d
# directory removed on exit), shared_preload_libraries = pg_governance,
# restart_after_crash = on (a backend killed with SIGKILL makes the postmaster end every
# session and recover).  The test builds nothing: pg_governance must be installed in
# $PGBIN's PostgreSQL (test/run_all.sh installs it system-wide first).
#   1. policy test-crash (one rule: log.operation, anchor created, maximum P1D, delete),
#      region CN; table t (id, who = subject, created = anchor) with 200000 due rows
#      (created years ago), 1000 rows not due (created now) and 50 due rows of a subject
#      under a legal hold;
#   2. kill -9: CALL governance.run_retention('t', 1000) in a background psql; once
#      retention_runs shows deleted > 0 (polled), kill -9 the run's backend
#      (retention_runs.pid); the postmaster recovers; then
#        - the killed run's row is still 'running' (no one has looked yet);
#        - rows left in t + the run's recorded deleted == 200000 + 1000 + 50 (every
#          committed batch was recorded, nothing recorded was rolled back);
#        - the next run marks the killed run 'aborted', ends 'done', and the recorded
#          deleted of both runs sum to exactly 200000 (no row deleted twice or missed);
#          the 1000 rows not due and the 50 held rows are all still there;
#   3. cancel: 200000 more due rows, a run in a background psql, pg_cancel_backend(pid)
#      once it made progress: the CALL fails with SQLSTATE 57014 "retention run
#      cancelled"; its row says 'cancelled', finished, with the committed count (rows
#      left + recorded == initial); the next run ends 'done' and the two runs sum to
#      200000; the not-due and held rows are still there.
#   4. a locked row: an application holds one due row FOR UPDATE for 6 s; a run
#      (default pg_governance.retention_lock_wait) ends in well under that, deletes the
#      others and leaves that row; the next run, once the lock is gone, deletes it.
# Prints what it checks, "retention_crash: ok" and exits 0 on success; otherwise says what
# failed and exits 1.
#
#   PGBIN=/path/to/15/bin test/t/retention_crash.sh   — run against another installation
set -u

PORT=5621
DUE=200000
NOT_DUE=1000
HELD=50
BATCH=1000
WAIT=60
TEST_NAME=retention_crash
. "$(dirname "$0")/../lib/cluster.sh"
bgpid=

# q SQL — run SQL as postgres, print unaligned tuples; on error print psql's stderr
# (verbose: with the SQLSTATE) indented, return 1
q() {
    "$PGBIN/psql" -X -At -q -v ON_ERROR_STOP=1 -v VERBOSITY=verbose -h "$SOCK" -p "$PORT" \
        -U postgres -d postgres -c "$1" 2>"$work/psql.err"
    local rc=$?
    [ $rc -eq 0 ] || sed 's/^/    /' "$work/psql.err" >&2
    return $rc
}
# qq SQL — like q, but stop the test on error
qq() {
    q "$1" || die "$1"
}

# --- cluster -----------------------------------------------------------------------
cluster_start "restart_after_crash = on"

# --- 1. policy, table, rows ----------------------------------------------------------
check "setup: policy test-crash, table t with $DUE due rows, $NOT_DUE not due, $HELD held"
qq "CREATE EXTENSION pg_governance;
    SELECT governance.set_database_region('CN');
    SELECT governance.load_policy(\$y\$
policy: {name: test-crash, version: \"1\", title: t, controller: c, home_jurisdiction: cn}
jurisdictions:
  - {name: cn, include: [CN], source: \"s\"}
rules:
  retention:
    - {id: crash.events, categories: [log.operation], anchor: created, maximum: P1D, action: delete,
       source: \"一天后删除\"}
\$y\$);
    CREATE TABLE t (id bigint PRIMARY KEY, who text NOT NULL, created timestamptz NOT NULL);
    SELECT governance.bind('t', 'test-crash');
    SELECT governance.tag('t', 'who', 'category=log.operation;subject');
    SELECT governance.tag('t', 'created', 'anchor=created');
    INSERT INTO t SELECT i, 'user' || (i % 997), now() - interval '3 years' + i * interval '1 second'
    FROM generate_series(1, $DUE) i;
    INSERT INTO t SELECT 1000000 + i, 'user' || i, now() FROM generate_series(1, $NOT_DUE) i;
    INSERT INTO t SELECT 2000000 + i, 'held', now() - interval '4 years' + i * interval '1 hour'
    FROM generate_series(1, $HELD) i;
    SELECT governance.place_hold('t', 'held', 'case 1');
    ANALYZE t;" >/dev/null
TOTAL=$((DUE + NOT_DUE + HELD))
expect "rows in t" "$(qq "SELECT count(*) FROM t")" "$TOTAL"
expect "rows due (retention_preview)" "$(qq "SELECT rows_due FROM governance.retention_preview('t')")" "$DUE"

# start_run — CALL run_retention('t', BATCH) in a background psql (stderr in $work/bg.err)
start_run() {
    "$PGBIN/psql" -X -At -q -v ON_ERROR_STOP=1 -v VERBOSITY=verbose -h "$SOCK" -p "$PORT" \
        -U postgres -d postgres -c "CALL governance.run_retention('t', $BATCH)" \
        >"$work/bg.out" 2>"$work/bg.err" &
    bgpid=$!
    bgpids="$bgpids $bgpid"
}
# last_run — the highest run id recorded so far (0 for none)
last_run() { qq "SELECT coalesce(max(run_id), 0) FROM governance.retention_runs"; }
# progress AFTER — has a run numbered above AFTER deleted rows yet?  Its id goes to $run
progress() {
    run=$(q "SELECT run_id FROM governance.retention_runs WHERE run_id > $1 AND deleted > 0" 2>/dev/null)
    [ -n "$run" ]
}
server_up() { q "SELECT 1" >/dev/null 2>&1; }

# --- 2. kill -9 ------------------------------------------------------------------------
# (run ids are not consecutive across the crash: a sequence logs values ahead)
check "kill -9: run 1 killed once it has deleted rows"
start_run
wait_until $WAIT progress 0 || die "run 1 showed no progress within $WAIT s ($(cat "$work/bg.err"))"
r1=$run
pid=$(qq "SELECT pid FROM governance.retention_runs WHERE run_id = $r1")
state=$(qq "SELECT status FROM governance.retention_runs WHERE run_id = $r1")
[ "$state" = running ] || die "run 1 finished ($state) before it could be killed: make DUE larger"
echo "   killing backend $pid"
if [ "$(id -u)" -eq 0 ]; then
    kill -9 "$pid" || die "kill -9 $pid"
else
    kill -9 "$pid" 2>/dev/null || die "kill -9 $pid (is the server run by this user?)"
fi
wait "$bgpid" 2>/dev/null
bgpid=
# the postmaster notices, ends every session, recovers; wait until it accepts connections
reinitialized() { grep -q "all server processes terminated; reinitializing" "$work/server.log"; }
wait_until $WAIT reinitialized || die "the postmaster did not reinitialize within $WAIT s after kill -9"
grep -q "(PID $pid) was terminated by signal 9" "$work/server.log" ||
    fail "server log: no 'terminated by signal 9' for the killed backend $pid"
wait_until $WAIT server_up || die "the server did not come back within $WAIT s after kill -9"
echo "   server recovered"

check "after recovery: run 1 is still 'running', and recorded exactly what it committed"
IFS='|' read -r st1 del1 fin1 <<<"$(qq "SELECT status, deleted, finished_at IS NOT NULL
                                        FROM governance.retention_runs WHERE run_id = $r1")"
expect "run 1 status" "$st1" running
expect "run 1 finished_at set" "$fin1" f
[ "$del1" -gt 0 ] && [ "$del1" -lt "$DUE" ] || fail "run 1 recorded deleted = $del1, expected 0 < n < $DUE"
echo "   run 1 recorded $del1 deleted"
left=$(qq "SELECT count(*) FROM t")
expect "rows left + recorded deleted" "$((left + del1))" "$TOTAL"
expect "rows due now (retention_preview)" "$(qq "SELECT rows_due FROM governance.retention_preview('t')")" "$((DUE - del1))"

check "run 2 marks run 1 'aborted' and finishes the work"
qq "CALL governance.run_retention('t', $BATCH)" >/dev/null
r2=$(last_run)
[ "$r2" -gt "$r1" ] || die "run 2 recorded nothing"
IFS='|' read -r st1 fin1 det1 <<<"$(qq "SELECT status, finished_at IS NOT NULL, detail
                                        FROM governance.retention_runs WHERE run_id = $r1")"
expect "run 1 status" "$st1" aborted
expect "run 1 finished_at set" "$fin1" t
echo "   run 1 detail: $det1"
IFS='|' read -r st2 del2 <<<"$(qq "SELECT status, deleted FROM governance.retention_runs WHERE run_id = $r2")"
expect "run 2 status" "$st2" done
expect "run 1 deleted + run 2 deleted" "$((del1 + del2))" "$DUE"
expect "rows left" "$(qq "SELECT count(*) FROM t")" "$((NOT_DUE + HELD))"
expect "rows not due left" "$(qq "SELECT count(*) FROM t WHERE id > 1000000 AND id <= 2000000")" "$NOT_DUE"
expect "held rows left" "$(qq "SELECT count(*) FROM t WHERE who = 'held'")" "$HELD"
expect "rows due now" "$(qq "SELECT rows_due FROM governance.retention_preview('t')")" 0

# --- 3. cancel -------------------------------------------------------------------------
check "cancel: run 3 cancelled with pg_cancel_backend once it has deleted rows"
qq "INSERT INTO t SELECT 3000000 + i, 'user' || (i % 997), now() - interval '2 years' + i * interval '1 second'
    FROM generate_series(1, $DUE) i;
    ANALYZE t;" >/dev/null
TOTAL=$((DUE + NOT_DUE + HELD))
expect "rows due (retention_preview)" "$(qq "SELECT rows_due FROM governance.retention_preview('t')")" "$DUE"
start_run
wait_until $WAIT progress "$r2" || die "run 3 showed no progress within $WAIT s ($(cat "$work/bg.err"))"
r3=$run
pid=$(qq "SELECT pid FROM governance.retention_runs WHERE run_id = $r3")
expect "pg_cancel_backend($pid)" "$(qq "SELECT pg_cancel_backend($pid)")" t
wait "$bgpid"
rc=$?
bgpid=
[ $rc -ne 0 ] || fail "the cancelled CALL succeeded (psql exit status 0)"
sed 's/^/   psql: /' "$work/bg.err"
grep -q '^ERROR:  57014: retention run cancelled$' "$work/bg.err" ||
    fail "the cancelled CALL did not fail with 'ERROR:  57014: retention run cancelled'"
IFS='|' read -r st3 del3 fin3 det3 <<<"$(qq "SELECT status, deleted, finished_at IS NOT NULL, detail
                                             FROM governance.retention_runs WHERE run_id = $r3")"
expect "run 3 status" "$st3" cancelled
expect "run 3 finished_at set" "$fin3" t
echo "   run 3 recorded $del3 deleted; detail: $det3"
[ "$del3" -gt 0 ] && [ "$del3" -lt "$DUE" ] || fail "run 3 recorded deleted = $del3, expected 0 < n < $DUE"
left=$(qq "SELECT count(*) FROM t")
expect "rows left + recorded deleted" "$((left + del3))" "$TOTAL"

check "run 4 finishes the work"
qq "CALL governance.run_retention('t', $BATCH)" >/dev/null
r4=$(last_run)
[ "$r4" -gt "$r3" ] || die "run 4 recorded nothing"
IFS='|' read -r st4 del4 <<<"$(qq "SELECT status, deleted FROM governance.retention_runs WHERE run_id = $r4")"
expect "run 4 status" "$st4" done
expect "run 3 status (unchanged)" "$(qq "SELECT status FROM governance.retention_runs WHERE run_id = $r3")" cancelled
expect "run 3 deleted + run 4 deleted" "$((del3 + del4))" "$DUE"
expect "rows left" "$(qq "SELECT count(*) FROM t")" "$((NOT_DUE + HELD))"
expect "rows not due left" "$(qq "SELECT count(*) FROM t WHERE id > 1000000 AND id <= 2000000")" "$NOT_DUE"
expect "held rows left" "$(qq "SELECT count(*) FROM t WHERE who = 'held'")" "$HELD"
expect "runs recorded" "$(qq "SELECT string_agg(status, ' ' ORDER BY run_id) FROM governance.retention_runs")" \
    "aborted done cancelled done"

# --- 4. a row an application holds locked --------------------------------------------
# A batch writes each row once, without locking first; a row an application
# holds locked is waited for at most pg_governance.retention_lock_wait (100 ms),
# then the batch locks what it can (SKIP LOCKED): the run does not wait for
# the application, and the next run takes the row.
check "locked row: a run leaves the row an application holds and does not wait for it"
qq "INSERT INTO t SELECT 3000000 + i, 'late' || i, now() - interval '2 years' FROM generate_series(1, 10) i" >/dev/null
"$PGBIN/psql" -X -At -q -h "$SOCK" -p "$PORT" -U postgres -d postgres \
    -c "BEGIN; SELECT id FROM t WHERE id = 3000005 FOR UPDATE; SELECT pg_sleep(6); COMMIT;" \
    >/dev/null 2>&1 &
apppid=$!
bgpids="$bgpids $apppid"
app_locked() {
    [ "$(q "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%3000005 FOR UPDATE%' AND state = 'active'
                                                   AND wait_event = 'PgSleep'" 2>/dev/null)" = 1 ]
}
wait_until 10 app_locked || die "the application session did not lock its row"
t0=$(date +%s%N)
qq "CALL governance.run_retention('t', 4)" >/dev/null
t1=$(date +%s%N)
elapsed=$(( (t1 - t0) / 1000000 ))
echo "   run 5 took $elapsed ms while the application held its lock for 6 s"
[ "$elapsed" -lt 4000 ] || fail "run 5 took $elapsed ms: it waited for the application's lock"
r5=$(last_run)
expect "run 5 deleted" "$(qq "SELECT deleted FROM governance.retention_runs WHERE run_id = $r5")" 9
expect "the locked row is still there" "$(qq "SELECT count(*) FROM t WHERE id > 3000000")" 1
wait "$apppid"
qq "CALL governance.run_retention('t', 4)" >/dev/null
expect "run 6 deleted the row once the application let it go" \
    "$(qq "SELECT deleted FROM governance.retention_runs WHERE run_id = $(last_run)")" 1

if [ "$failures" -ne 0 ]; then
    echo "--- server log (last 20 lines)"
    tail -20 "$work/server.log"
    echo "retention_crash: FAILED ($failures)"
    exit 1
fi
echo "retention_crash: ok"
exit 0
