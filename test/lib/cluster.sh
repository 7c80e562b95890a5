# test/lib/cluster.sh — what the standalone tests that run their own
# clusters (initdb and pg_ctl, not pg_virtualenv) share: a private working
# directory with a socket directory, the server run as postgres when the
# test runs as root, every cluster under the directory stopped on exit,
# and the reporting helpers.  Source it after setting TEST_NAME (and PGBIN,
# the binaries to use).
#
#   work, SOCK    the working directory and the socket directory in it
#   as_pg         the prefix that runs a command as postgres (empty if not root)
#   bgpids        background jobs of the test, killed on exit
#   fail MSG      count a failure and go on; failures holds the count
#   die MSG       report and stop (with the tail of $work/server.log if there is one)
#   wait_until SECONDS CMD...   poll CMD every 0.1 s until it succeeds
#   check MSG     announce what is checked next
#   expect WHAT GOT WANTED      "ok" if GOT equals WANTED, else a failure
#   cluster_start [SETTING...]  initdb $work/data and start it on $PORT, Unix
#                 socket only, fsync off, with pg_governance preloaded unless a
#                 SETTING names shared_preload_libraries itself

PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
for b in initdb pg_ctl psql; do
    [ -x "$PGBIN/$b" ] || { echo "FAIL: $PGBIN/$b not found"; echo "$TEST_NAME: FAILED"; exit 1; }
done

# the servers must not run as root
if [ "$(id -u)" -eq 0 ]; then
    as_pg=(runuser -u postgres --)
else
    as_pg=()
fi

work=$(mktemp -d)
chmod 755 "$work"
mkdir "$work/sock"
[ "$(id -u)" -eq 0 ] && chown -R postgres: "$work"
SOCK=$work/sock
bgpids=

cluster_cleanup() {
    local pid
    for pid in $bgpids; do
        kill "$pid" 2>/dev/null
    done
    for pid in "$work"/*/postmaster.pid; do
        [ -f "$pid" ] || continue
        "${as_pg[@]}" "$PGBIN/pg_ctl" -D "$(dirname "$pid")" -m immediate -w stop >/dev/null 2>&1
    done
    rm -rf "$work"
}
trap cluster_cleanup EXIT
trap 'exit 1' INT TERM HUP

failures=0
fail() {
    echo "FAIL: $*"
    failures=$((failures + 1))
}
die() {
    echo "FAIL: $*" >&2
    [ -f "$work/server.log" ] && { echo "--- server log (last 20 lines)" >&2; tail -20 "$work/server.log" >&2; }
    echo "$TEST_NAME: FAILED" >&2
    exit 1
}
wait_until() {
    local deadline=$((SECONDS + $1)); shift
    while :; do
        "$@" && return 0
        [ $SECONDS -ge $deadline ] && return 1
        sleep 0.1
    done
}
check() { echo "-- $*"; }
expect() {
    if [ "$2" = "$3" ]; then
        echo "   ok: $1 = $2"
    else
        fail "$1: got '$2', expected '$3'"
    fi
}

cluster_start() {
    local setting started= preload="shared_preload_libraries = 'pg_governance'"
    "${as_pg[@]}" "$PGBIN/initdb" -D "$work/data" -U postgres -A trust -E UTF8 --locale=C \
        --no-sync >"$work/initdb.log" 2>&1 || { cat "$work/initdb.log"; die "initdb"; }
    for setting in "$@"; do
        case $setting in shared_preload_libraries*) preload= ;; esac
    done
    {
        echo "port = $PORT"
        echo "listen_addresses = ''"
        echo "unix_socket_directories = '$SOCK'"
        echo "fsync = off"
        echo "log_line_prefix = '%m [%p] %b %e '"
        [ -n "$preload" ] && echo "$preload"
        for setting in "$@"; do echo "$setting"; done
    } >>"$work/data/postgresql.conf"
    for _ in 1 2 3; do
        # the installed extension may be being reinstalled for a moment: retry
        if "${as_pg[@]}" "$PGBIN/pg_ctl" -D "$work/data" -l "$work/server.log" -w -t 30 \
            start >/dev/null 2>&1; then
            started=1
            break
        fi
        sleep 1
    done
    [ -n "$started" ] || die "could not start the cluster"
}
