#!/usr/bin/env bash
# test/t/retention_cron.sh — governance.schedule_retention() / unschedule_retention()
# with pg_cron.
#
# One throw-away PostgreSQL 15 cluster (initdb / pg_ctl from $PGBIN, run as the postgres
# OS user, Unix socket only, port 5611 on a socket directory inside one mktemp -d
# directory removed on exit) with shared_preload_libraries = 'pg_cron,pg_governance',
# cron.database_name = 'postgres' and cron.host = the socket directory (pg_cron's
# workers connect over libpq as the job's role; the cluster trusts local connections).
# pg_virtualenv is not used: it cannot be pointed at another PostgreSQL build than
# /usr/lib/postgresql/15 and its password authentication would stop pg_cron's libpq
# connections.  The test builds nothing: pg_governance must be installed in $PGBIN's
# PostgreSQL (test/run_all.sh installs it system-wide first).
#   1. database nocron (pg_governance, no pg_cron): schedule_retention('* * * * *') and
#      unschedule_retention() fail with SQLSTATE 55000, "pg_cron is not installed", a
#      detail and a hint naming postgresql-15-cron, shared_preload_libraries,
#      cron.database_name and CREATE EXTENSION pg_cron;
#   2. database postgres: pg_cron and pg_governance, policy jinpai-mail, region CN, a
#      governed table mail_log (owned by the admin role gov_cron_admin, a LOGIN member of
#      governance_admin with USAGE on schema cron);
#   3. privileges: a role outside governance_admin gets permission denied (42501) for both
#      functions; an admin without USAGE on schema cron gets 42501 with a GRANT hint;
#   4. gov_cron_admin schedules '0 3 * * *', then '* * * * *': the same job id, one job
#      pg_governance_retention running CALL governance.run_retention() as gov_cron_admin;
#      an invalid schedule fails with pg_cron's 22023 and leaves the job as it was;
#   5. within 90 s (polled every 2 s) governance.retention_runs has a row run by
#      gov_cron_admin and cron.job_run_details shows the job 'succeeded';
#   6. unschedule_retention() returns true and the job is gone; again, it returns false.
# Prints what it checks, "retention_cron: ok" and exits 0 on success; otherwise says what
# failed and exits 1.
#
#   PGBIN=/path/to/15/bin test/t/retention_cron.sh   — run against another installation
set -u

PORT=5611
WAIT=90
TEST_NAME=retention_cron
. "$(dirname "$0")/../lib/cluster.sh"

# q DB ROLE SQL — run SQL as ROLE in DB, print unaligned tuples; on error print psql's
# stderr (verbose: with the SQLSTATE) indented, return 1
q() {
    "$PGBIN/psql" -X -At -q -v ON_ERROR_STOP=1 -v VERBOSITY=verbose -h "$SOCK" -p "$PORT" \
        -U "$2" -d "$1" -c "$3" 2>"$work/psql.err"
    local rc=$?
    [ $rc -eq 0 ] || sed 's/^/    /' "$work/psql.err" >&2
    return $rc
}
# qq DB ROLE SQL — like q, but stop the test on error
qq() {
    q "$@" || die "as $2 in $1: $3"
}
# qerr DB ROLE SQL — SQL must fail; its verbose error report is left in $work/err
qerr() {
    if "$PGBIN/psql" -X -At -q -v ON_ERROR_STOP=1 -v VERBOSITY=verbose -h "$SOCK" -p "$PORT" \
        -U "$2" -d "$1" -c "$3" >/dev/null 2>"$work/err"; then
        return 1
    fi
    return 0
}
# sqlstate — the SQLSTATE of the error in $work/err ("ERROR:  55000: message")
sqlstate() { sed -n 's/^ERROR:  \([0-9A-Z]\{5\}\): .*/\1/p' "$work/err" | head -1; }
# has_line REGEX — does $work/err have a line matching REGEX (extended)?
has_line() { grep -Eq "$1" "$work/err"; }
show_err() { sed 's/^/    /' "$work/err"; }

# --- cluster -----------------------------------------------------------------------
cluster_start "shared_preload_libraries = 'pg_cron,pg_governance'" \
    "cron.database_name = 'postgres'" "cron.host = '$SOCK'"

ADMIN=gov_cron_admin
qq postgres postgres "CREATE EXTENSION pg_governance;
    CREATE ROLE $ADMIN LOGIN IN ROLE governance_admin;
    CREATE ROLE gov_cron_nocron LOGIN IN ROLE governance_admin;
    CREATE ROLE gov_cron_user LOGIN;" >/dev/null
qq postgres postgres "CREATE DATABASE nocron" >/dev/null
qq nocron postgres "CREATE EXTENSION pg_governance" >/dev/null

# --- 1. without pg_cron ------------------------------------------------------------------
check "nocron: schedule_retention('* * * * *') without pg_cron -> 55000 with detail and hint"
if qerr nocron $ADMIN "SELECT governance.schedule_retention('* * * * *')"; then
    st=$(sqlstate)
    [ "$st" = 55000 ] || { fail "without pg_cron: SQLSTATE $st, expected 55000"; show_err; }
    has_line '^ERROR:  55000: pg_cron is not installed in database "nocron"$' ||
        { fail "without pg_cron: unexpected message"; show_err; }
    has_line '^DETAIL:  .*pg_cron' || { fail "without pg_cron: no DETAIL"; show_err; }
    has_line '^HINT:  Install the package postgresql-15-cron, add pg_cron to shared_preload_libraries and set cron.database_name = '\''nocron'\'' .*restart the server.*CREATE EXTENSION pg_cron' ||
        { fail "without pg_cron: the HINT does not say what to install and configure"; show_err; }
else
    fail "without pg_cron: schedule_retention succeeded"
fi
check "nocron, as a superuser: the DETAIL names the database pg_cron runs jobs from"
if qerr nocron postgres "SELECT governance.schedule_retention('* * * * *')"; then
    [ "$(sqlstate)" = 55000 ] && has_line '^DETAIL:  .*database "postgres", its cron.database_name' ||
        { fail "without pg_cron, as a superuser: unexpected error"; show_err; }
else
    fail "without pg_cron: schedule_retention succeeded for the superuser"
fi
check "nocron: unschedule_retention() without pg_cron -> 55000"
if qerr nocron $ADMIN "SELECT governance.unschedule_retention()"; then
    [ "$(sqlstate)" = 55000 ] && has_line 'pg_cron is not installed' ||
        { fail "without pg_cron: unschedule_retention gave another error"; show_err; }
else
    fail "without pg_cron: unschedule_retention succeeded"
fi

# --- 2. with pg_cron: a governed table ---------------------------------------------------
qq postgres postgres "CREATE EXTENSION pg_cron;
    GRANT USAGE ON SCHEMA cron TO $ADMIN;
    SELECT governance.load_bundled_policy('jinpai-mail');
    SELECT governance.set_database_region('CN');
    CREATE TABLE mail_log (id int PRIMARY KEY, account text, line text, created timestamptz);
    ALTER TABLE mail_log OWNER TO $ADMIN;
    SELECT governance.bind('mail_log', 'jinpai-mail');
    SECURITY LABEL FOR governance ON COLUMN mail_log.line IS 'category=log.service';
    SECURITY LABEL FOR governance ON COLUMN mail_log.account IS 'subject';
    SECURITY LABEL FOR governance ON COLUMN mail_log.created IS 'anchor=created';
    INSERT INTO mail_log VALUES (1, 'alice', 'smtp login from 10.0.0.1', now());" >/dev/null

# --- 3. privileges -------------------------------------------------------------------------
for f in "schedule_retention('* * * * *')" "unschedule_retention()"; do
    check "a role outside governance_admin: $f -> permission denied (42501)"
    if qerr postgres gov_cron_user "SELECT governance.$f"; then
        [ "$(sqlstate)" = 42501 ] && has_line 'permission denied for function' ||
            { fail "non-admin $f: not a permission error"; show_err; }
    else
        fail "non-admin: $f succeeded"
    fi
    check "an admin without USAGE on schema cron: $f -> 42501 with a GRANT hint"
    if qerr postgres gov_cron_nocron "SELECT governance.$f"; then
        [ "$(sqlstate)" = 42501 ] && has_line '^HINT:  .*GRANT USAGE ON SCHEMA cron TO gov_cron_nocron' ||
            { fail "admin without USAGE on cron: $f: unexpected error"; show_err; }
    else
        fail "admin without USAGE on cron: $f succeeded"
    fi
done
[ "$(qq postgres postgres "SELECT count(*) FROM cron.job")" = 0 ] ||
    fail "a refused call left a pg_cron job"

# --- 4. schedule, reschedule, invalid schedule -------------------------------------------
JOB="SELECT jobid || '|' || schedule || '|' || command || '|' || username || '|' || database
     FROM cron.job WHERE jobname = 'pg_governance_retention'"
check "schedule_retention('0 3 * * *') schedules CALL governance.run_retention() as $ADMIN"
id1=$(qq postgres $ADMIN "SELECT governance.schedule_retention('0 3 * * *')")
[ -n "$id1" ] || die "schedule_retention('0 3 * * *') failed"
[ "$(qq postgres postgres "$JOB")" = "$id1|0 3 * * *|CALL governance.run_retention()|$ADMIN|postgres" ] ||
    fail "after schedule_retention('0 3 * * *'), cron.job holds: $(q postgres postgres "$JOB" | tr '\n' ' ') (id $id1)"
check "schedule_retention('* * * * *') replaces the schedule, keeping the job id"
id2=$(qq postgres $ADMIN "SELECT governance.schedule_retention('* * * * *')")
[ "$id2" = "$id1" ] || fail "rescheduling returned job id $id2, the first call $id1"
[ "$(qq postgres postgres "$JOB")" = "$id1|* * * * *|CALL governance.run_retention()|$ADMIN|postgres" ] ||
    fail "after rescheduling, cron.job holds: $(q postgres postgres "$JOB" | tr '\n' ' ')"
check "an invalid cron expression -> pg_cron's error (22023), the job unchanged"
if qerr postgres $ADMIN "SELECT governance.schedule_retention('every minute please')"; then
    [ "$(sqlstate)" = 22023 ] && has_line 'invalid schedule' ||
        { fail "invalid schedule: unexpected error"; show_err; }
else
    fail "schedule_retention('every minute please') succeeded"
fi
check "schedule_retention(NULL) -> an error"
qerr postgres $ADMIN "SELECT governance.schedule_retention(NULL)" ||
    fail "schedule_retention(NULL) succeeded"
[ "$(qq postgres postgres "$JOB")" = "$id1|* * * * *|CALL governance.run_retention()|$ADMIN|postgres" ] ||
    fail "after the invalid calls, cron.job holds: $(q postgres postgres "$JOB" | tr '\n' ' ')"

# --- 5. the job runs -----------------------------------------------------------------------
check "within $WAIT s (polled every 2 s): a retention run by $ADMIN in governance.retention_runs, the job 'succeeded'"
RUNS="SELECT count(*) FROM governance.retention_runs WHERE run_by = '$ADMIN'"
DONE="SELECT count(*) FROM cron.job_run_details
      WHERE jobid = $id1 AND status IN ('succeeded', 'failed')"
FAILED="SELECT count(*) FROM cron.job_run_details WHERE jobid = $id1 AND status = 'failed'"
deadline=$((SECONDS + WAIT))
runs=0
done_runs=0
while :; do
    runs=$(q postgres postgres "$RUNS" 2>/dev/null || echo 0)
    done_runs=$(q postgres postgres "$DONE" 2>/dev/null || echo 0)
    [ "${runs:-0}" -gt 0 ] && [ "${done_runs:-0}" -gt 0 ] && break
    # a failed run is final (the next one is a minute away)
    [ "$(q postgres postgres "$FAILED" 2>/dev/null)" = 0 ] || break
    [ $SECONDS -ge $deadline ] && break
    sleep 2
done
details=$(q postgres postgres "SELECT status || ': ' || coalesce(return_message, '')
                               FROM cron.job_run_details WHERE jobid = $id1 ORDER BY runid")
[ "${runs:-0}" -gt 0 ] ||
    fail "no row of governance.retention_runs with run_by = $ADMIN (pg_cron runs: $(echo "${details:-none}" | tr '\n' ' '))"
if [ -z "$details" ]; then
    fail "cron.job_run_details has no run of job $id1 after $WAIT s"
elif ! echo "$details" | grep -q '^succeeded: '; then
    fail "job $id1 did not succeed: $(echo "$details" | tr '\n' ' ')"
fi
[ "$(q postgres postgres "SELECT DISTINCT username FROM cron.job_run_details WHERE jobid = $id1")" = "$ADMIN" ] ||
    fail "the job did not run as $ADMIN"

# --- 6. unschedule -------------------------------------------------------------------------
check "unschedule_retention() -> true, the job is gone; again -> false"
r=$(qq postgres $ADMIN "SELECT governance.unschedule_retention()")
[ "$r" = t ] || fail "unschedule_retention() returned '$r'"
[ "$(qq postgres postgres "SELECT count(*) FROM cron.job WHERE jobname = 'pg_governance_retention'")" = 0 ] ||
    fail "the job is still in cron.job after unschedule_retention()"
r=$(qq postgres $ADMIN "SELECT governance.unschedule_retention()")
[ "$r" = f ] || fail "a second unschedule_retention() returned '$r'"

if [ "$failures" -ne 0 ]; then
    echo "--- server log (errors)"
    grep -E 'ERROR|FATAL|cron' "$work/server.log" | tail -30
    echo "retention_cron: FAILED ($failures)"
    exit 1
fi
echo "retention_cron: ok"
exit 0
