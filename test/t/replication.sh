#!/usr/bin/env bash
# test/t/replication.sh — the guard fires on logical-replication apply.
#
# The guard's DELETE, UPDATE and TRUNCATE triggers are created ENABLE ALWAYS
# (tgenabled = 'A'), so they fire in the apply worker too (it runs with
# session_replication_role = replica); its row check for INSERT and UPDATE fires on
# apply through a REPLICA trigger (the apply worker leaves tableoid unset for CHECK
# constraints in PostgreSQL 15).  So a governed SUBSCRIBER refuses a DELETE, TRUNCATE or
# a never-store value its policy forbids even when the (ungoverned) publisher allowed
# it; the apply worker stops with the guard's error and retries.
#
# Two throw-away PostgreSQL 15 clusters (initdb / pg_ctl, run as the postgres OS user,
# Unix socket only, in one mktemp -d directory removed on exit), both with
# shared_preload_libraries = pg_governance, wal_level = logical:
#   1. both: the extension, policy jinpai-mail, database region CN, and four tables
#      mail_log, mail_trunc, mail_ins, mail_plain (id int PRIMARY KEY, account, line,
#      created timestamptz);
#   2. subscriber only: mail_log, mail_trunc and mail_ins bound to jinpai-mail, line tagged
#      category=log.service, created tagged anchor=created (6-month minimum); mail_plain
#      is left ungoverned (the contrast);
#   3. one publication + subscription per table (an apply worker stuck on one table must
#      not hold up the others); a row created '2099-01-01' in mail_log, mail_trunc and
#      mail_plain reaches the subscriber (by the subscription's initial copy);
#   4. publisher: DELETE from mail_log, TRUNCATE mail_trunc, DELETE from mail_plain — all
#      succeed there — and an INSERT of an allowed row into mail_ins;
#   5. subscriber: mail_plain's row is gone (replication works), mail_log's and
#      mail_trunc's rows are still there, and the server log holds the GV003 errors
#      "cannot delete: ..." and "cannot truncate: ..." from a logical replication worker;
#      the allowed row of mail_ins arrived (the guard lets the apply worker insert what
#      the policy allows), and the card security code sent to card_bad did not (GV002).
# Prints "replication: ok" and exits 0 on success; otherwise says what failed, exits 1.
set -u

TEST_NAME=replication
. "$(dirname "$0")/../lib/cluster.sh"
BIN=$PGBIN

# two distinct random ports in 20000-30000 that nothing listens on (the servers listen on
# the socket directory only, but keep clear of anyone else's port numbers anyway)
free_port() {
    local p
    while :; do
        p=$((20000 + RANDOM % 10001))
        [ "$p" != "${1:-}" ] || continue
        [ -z "$(ss -Hltn "( sport = :$p )" 2>/dev/null)" ] || continue
        [ -e "/tmp/.s.PGSQL.$p" ] && continue
        echo "$p"
        return
    done
}
PUB_PORT=$(free_port)
SUB_PORT=$(free_port "$PUB_PORT")
SOCK=$work/sock

# q pub|sub SQL — run SQL, print unaligned tuples; on error print psql's stderr, return 1
q() {
    local port
    case $1 in pub) port=$PUB_PORT ;; sub) port=$SUB_PORT ;; esac
    psql -X -At -q -v ON_ERROR_STOP=1 -h "$SOCK" -p "$port" -U postgres -d postgres \
        -c "$2" 2>"$work/psql.err"
    local rc=$?
    [ $rc -eq 0 ] || sed 's/^/    /' "$work/psql.err" >&2
    return $rc
}

# qq pub|sub SQL — like q, but stop the test on error
qq() {
    q "$@" || die "on the $( [ "$1" = pub ] && echo publisher || echo subscriber ): $2"
}

# --- clusters ------------------------------------------------------------------
make_cluster() {
    local name=$1 port=$2
    "${as_pg[@]}" "$BIN/initdb" -D "$work/$name" -U postgres -A trust -E UTF8 --locale=C \
        --no-sync >"$work/$name.initdb.log" 2>&1 ||
        { cat "$work/$name.initdb.log"; die "initdb $name"; }
    cat >>"$work/$name/postgresql.conf" <<EOF
port = $port
listen_addresses = ''
unix_socket_directories = '$SOCK'
shared_preload_libraries = 'pg_governance'
wal_level = logical
fsync = off
log_line_prefix = '%m [%p] %b %e '
wal_retrieve_retry_interval = '500ms'
max_worker_processes = 24
max_logical_replication_workers = 16
max_replication_slots = 24
max_wal_senders = 24
EOF
    local try
    for try in 1 2 3; do
        # the installed extension may be being reinstalled for a moment: retry
        if "${as_pg[@]}" "$BIN/pg_ctl" -D "$work/$name" -l "$work/$name.log" -w -t 30 \
            start >/dev/null 2>&1; then
            return 0
        fi
        sleep 1
    done
    tail -20 "$work/$name.log" >&2
    die "could not start the $name cluster"
}
make_cluster pub "$PUB_PORT"
make_cluster sub "$SUB_PORT"

# --- schema on both ----------------------------------------------------------------
SETUP="CREATE EXTENSION pg_governance;
SELECT governance.load_bundled_policy('jinpai-mail');
SELECT governance.load_bundled_policy('21vianet-online-2020');
SELECT governance.set_database_region('CN');
CREATE TABLE card_bad   (id int PRIMARY KEY, cvv text);
CREATE TABLE mail_log   (id int PRIMARY KEY, account text, line text, created timestamptz);
CREATE TABLE mail_trunc (id int PRIMARY KEY, account text, line text, created timestamptz);
CREATE TABLE mail_ins   (id int PRIMARY KEY, account text, line text, created timestamptz);
CREATE TABLE mail_plain (id int PRIMARY KEY, account text, line text, created timestamptz);"
for c in pub sub; do
    ok=
    for try in 1 2 3; do
        if q "$c" "BEGIN; $SETUP COMMIT;" >/dev/null; then ok=1; break; fi
        sleep 1
    done
    [ -n "$ok" ] || die "setup on $c"
done

# --- govern mail_log, mail_trunc and mail_ins on the subscriber only ---------------
for t in log trunc ins; do
    qq sub "SELECT governance.bind('mail_$t', 'jinpai-mail');
            SELECT governance.tag('mail_$t', 'line', 'category=log.service');
            SELECT governance.tag('mail_$t', 'created', 'anchor=created');" >/dev/null
done

qq sub "SELECT governance.bind('card_bad', '21vianet-online-2020');
        SELECT governance.tag('card_bad', 'cvv', 'category=payment.security_code');" >/dev/null
# a partitioned target on the subscriber (plain on the publisher): the rows land in its
# partitions, which must carry the apply-only check too
qq pub "CREATE TABLE card_part (id int PRIMARY KEY, cvv text)" >/dev/null
qq sub "CREATE TABLE card_part (id int PRIMARY KEY, cvv text) PARTITION BY RANGE (id);
        CREATE TABLE card_part_1 PARTITION OF card_part FOR VALUES FROM (0) TO (1000);
        SELECT governance.bind('card_part', '21vianet-online-2020');
        SELECT governance.tag('card_part', 'cvv', 'category=payment.security_code');" >/dev/null

# --- replication -------------------------------------------------------------------
# The rows to be deleted arrive by the initial copy (COPY sets tableoid for the guard's
# CHECK constraint); an apply-worker INSERT is checked on its own table, mail_ins, so the
# DELETE / TRUNCATE checks do not depend on it.
CONN="host=$SOCK port=$PUB_PORT user=postgres dbname=postgres"
for t in log trunc plain; do
    qq pub "INSERT INTO mail_$t VALUES (1, 'alice', 'smtp login from 10.0.0.1', '2099-01-01')" >/dev/null
done
for t in log trunc ins plain; do
    qq pub "CREATE PUBLICATION p_$t FOR TABLE mail_$t" >/dev/null
done
qq pub "CREATE PUBLICATION p_card FOR TABLE card_bad" >/dev/null
qq pub "CREATE PUBLICATION p_cpart FOR TABLE card_part" >/dev/null
for t in log trunc ins plain card cpart; do
    qq sub "CREATE SUBSCRIPTION s_$t CONNECTION '$CONN' PUBLICATION p_$t" >/dev/null
done

# the guard's triggers exist on the governed tables, and fire ALWAYS (delete,
# truncate, update); the apply-only row check, added to a table when it becomes
# a subscription target, fires on REPLICA (write)
trig=$(qq sub "SELECT c.relname || ':' || coalesce(string_agg(t.tgenabled::text, '' ORDER BY t.tgname), '')
               FROM pg_class c LEFT JOIN pg_trigger t
                 ON t.tgrelid = c.oid AND t.tgname LIKE 'governance\\_guard\\_%'
               WHERE c.relname IN ('mail_log', 'mail_trunc', 'mail_ins', 'mail_plain')
               GROUP BY c.relname ORDER BY 1")
echo "$trig" | grep -Eq '^mail_log:AAAR$' || fail "mail_log's guard triggers do not fire on apply: $trig"
echo "$trig" | grep -Eq '^mail_trunc:AAAR$' || fail "mail_trunc's guard triggers do not fire on apply: $trig"
echo "$trig" | grep -Eq '^mail_ins:AAAR$' || fail "mail_ins's guard triggers do not fire on apply: $trig"
echo "$trig" | grep -Eq '^mail_plain:$' || fail "mail_plain should have no guard trigger: $trig"
[ "$(qq pub "SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'governance\\_guard\\_%'")" = 0 ] ||
    fail "the publisher should have no guard trigger"


rows_on_sub() {
    [ "$(q sub "SELECT (SELECT count(*) FROM mail_log WHERE id = 1)
                     + (SELECT count(*) FROM mail_trunc WHERE id = 1)
                     + (SELECT count(*) FROM mail_plain WHERE id = 1)" 2>/dev/null)" = 3 ]
}
wait_until 20 rows_on_sub || {
    tail -20 "$work/sub.log"
    die "the rows did not reach the subscriber within 20 s"
}

# --- the publisher deletes / truncates (it is not governed, so it succeeds) ---------
q pub "DELETE FROM mail_log WHERE id = 1" >/dev/null || fail "publisher: DELETE FROM mail_log was refused"
q pub "TRUNCATE mail_trunc" >/dev/null || fail "publisher: TRUNCATE mail_trunc was refused"
q pub "DELETE FROM mail_plain WHERE id = 1" >/dev/null || fail "publisher: DELETE FROM mail_plain was refused"
q pub "INSERT INTO mail_ins VALUES (1, 'bob', 'pop3 login from 10.0.0.2', '2099-01-01')" >/dev/null ||
    fail "publisher: INSERT INTO mail_ins was refused"
# a row the subscriber's policy forbids (a card security code), allowed on the publisher
q pub "INSERT INTO card_bad VALUES (1, '123')" >/dev/null || fail "publisher: INSERT INTO card_bad was refused"
q pub "INSERT INTO card_part VALUES (1, '456')" >/dev/null || fail "publisher: INSERT INTO card_part was refused"
[ "$(qq pub "SELECT (SELECT count(*) FROM mail_log) + (SELECT count(*) FROM mail_trunc)
                  + (SELECT count(*) FROM mail_plain)")" = 0 ] ||
    fail "publisher: rows left after DELETE / TRUNCATE"

# the guard's errors, as logged by a logical replication (apply) worker
DEL_RE='logical replication worker GV003 ERROR:  cannot delete: a row of table public\.mail_log is under minimum retention'
# (the TRUNCATE message may name the table after the verb: "cannot truncate public.mail_trunc: ...")
TRUNC_RE='logical replication worker GV003 ERROR:  cannot truncate( public\.mail_trunc)?: a row of table public\.mail_trunc is under minimum retention'
plain_gone() { [ "$(q sub "SELECT count(*) FROM mail_plain" 2>/dev/null)" = 0 ]; }
logged() { grep -Eq "$1" "$work/sub.log"; }
ins_arrived() { [ "$(q sub "SELECT count(*) FROM mail_ins WHERE id = 1" 2>/dev/null)" = 1 ]; }
CARD_RE='logical replication worker GV002 ERROR:  column "cvv" of table public\.card_bad must never be stored'
CPART_RE='logical replication worker GV002 ERROR:  column "cvv" of table public\.card_part_1 must never be stored'
all_seen() { plain_gone && ins_arrived && logged "$DEL_RE" && logged "$TRUNC_RE" && logged "$CARD_RE" && logged "$CPART_RE"; }
wait_until 20 all_seen

plain_gone || fail "contrast: the DELETE on the ungoverned subscriber table mail_plain did not replicate within 20 s"
logged "$DEL_RE" ||
    fail "subscriber log: no GV003 \"cannot delete\" error for public.mail_log from a logical replication worker"
logged "$CARD_RE" ||
    fail "subscriber log: no GV002 \"must never be stored\" error for public.card_bad from a logical replication worker"
[ "$(qq sub "SELECT count(*) FROM card_bad")" = 0 ] || fail "subscriber: a never-store row of card_bad was applied"
logged "$CPART_RE" ||
    fail "subscriber log: no GV002 error for the partition public.card_part_1 from a logical replication worker"
[ "$(qq sub "SELECT count(*) FROM card_part")" = 0 ] || fail "subscriber: a never-store row reached a partition of card_part"
logged "$TRUNC_RE" ||
    fail "subscriber log: no GV003 \"cannot truncate\" error for public.mail_trunc from a logical replication worker"
ins_arrived || {
    fail "subscriber: the allowed row INSERTed into the governed table mail_ins on the publisher did not arrive within 20 s (apply worker error: $(grep -E 'logical replication worker [0-9A-Z]{5} ERROR: .*' "$work/sub.log" | grep -v 'cannot delete\|cannot truncate' | tail -1 | sed 's/.* ERROR: *//'))"
}
# ... and the governed rows are still there (read after the errors were logged)
n=$(qq sub "SELECT count(*) FROM mail_log WHERE id = 1 AND created = '2099-01-01'")
[ "$n" = 1 ] || fail "subscriber: mail_log's row was deleted by replication (count $n)"
n=$(qq sub "SELECT count(*) FROM mail_trunc WHERE id = 1 AND created = '2099-01-01'")
[ "$n" = 1 ] || fail "subscriber: mail_trunc was truncated by replication (count $n)"

# --- a retention run on a governed publisher replicates to a governed subscriber ---
# The run anonymizes rows that are blocked on both sides; the subscriber's guard
# lets the apply worker change them (GV006 is for roles that see blocked rows
# in ordinary sessions), so the two stay the same.
for c in pub sub; do
    qq "$c" "CREATE TABLE ret_log (id int PRIMARY KEY, line text, created timestamptz NOT NULL);
             SELECT governance.bind('ret_log', 'jinpai-mail');
             SELECT governance.tag('ret_log', 'line', 'category=log.network');
             SELECT governance.tag('ret_log', 'created', 'anchor=created');
             SELECT governance.set_parameter('jinpai-mail', 'log_retention', 'P9M');" >/dev/null
done
qq pub "INSERT INTO ret_log VALUES (1, 'login from 10.0.0.1', now() - interval '2 years'),
                                   (2, 'login from 10.0.0.2', now() - interval '1 day');
        CREATE PUBLICATION p_ret FOR TABLE ret_log" >/dev/null
qq sub "CREATE SUBSCRIPTION s_ret CONNECTION '$CONN' PUBLICATION p_ret" >/dev/null
ret_rows() { [ "$(q sub "SELECT count(*) FROM ret_log" 2>/dev/null)" = 2 ]; }
wait_until 20 ret_rows || fail "ret_log's rows did not reach the subscriber within 20 s"
q pub "CALL governance.run_retention('ret_log')" >/dev/null || fail "publisher: run_retention('ret_log') failed"
[ "$(qq pub "SELECT count(*) FROM ret_log WHERE line LIKE 'anon-%' AND created = 'infinity'")" = 1 ] ||
    fail "publisher: the run did not anonymize ret_log's two-year-old row"
ret_applied() {
    [ "$(q sub "SELECT string_agg(id || ':' || (line LIKE 'anon-%') || ':' || (created = 'infinity'), ',' ORDER BY id)
               FROM ret_log" 2>/dev/null)" = "1:true:true,2:false:false" ]
}
wait_until 20 ret_applied ||
    fail "subscriber: the publisher's retention run did not replicate into the governed ret_log within 20 s ($(grep -E 'logical replication worker .*ERROR' "$work/sub.log" | grep ret_log | tail -1))"

if [ "$failures" -ne 0 ]; then
    echo "--- subscriber log (last 40 lines, errors and worker lines)"
    grep -E 'ERROR|FATAL|logical replication' "$work/sub.log" | tail -40
    echo "replication: FAILED ($failures)"
    exit 1
fi
echo "replication: ok"
exit 0
