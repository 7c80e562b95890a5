#!/usr/bin/env bash
# test/valgrind.sh — the pg_regress suites of pg_governance under valgrind memcheck.
#
# Owns: this script only.  It is NOT part of test/run_all.sh (slow: 1.5-3 minutes on 2
# cores); run it by hand, as root, against the extension as installed system-wide.
#
#   1. fetches PostgreSQL's src/tools/valgrind.supp from Debian's postgresql-15 source
#      package (apt-get source --download-only through a private apt configuration, as
#      test/t/core_regress.sh does; the system's apt state is not touched).  If that fails
#      the run goes on without it: errors are filtered by our .so anyway.
#      VALGRIND_SUPP=<file> uses that file instead, VALGRIND_SUPP=none uses none;
#   2. creates a throw-away cluster (initdb as postgres) in a mktemp -d directory, with
#      shared_preload_libraries = 'pg_governance', a random port in 20000-30000 and a
#      socket directory inside that directory (no TCP), and starts the postmaster under
#      valgrind --tool=memcheck --trace-children=yes, one log per process (vg.<pid>.log);
#   3. runs every test of REGRESS (sql/, expected/) with pg_regress and of ISOLATION
#      (specs/) with pg_isolation_regress, as listed in the Makefile; output goes to the
#      temporary directory, nothing is written into the repository; the databases are
#      named as PGXS's installcheck names them (contrib_regression, isolation_regression:
#      sql/violating_rows.sql reconnects to contrib_regression).  Test failures are only
#      reported (timing under valgrind), they do not decide the exit status;
#   4. stops the server and reads the valgrind logs: every memcheck error block (invalid
#      read/write/free, uninitialised values, syscall params, overlaps ...) that has a
#      frame in pg_governance.so (our frames show as src/<file>.c:<line>) is printed once
#      per distinct kind + top frames (down to our first frame), with its count and the
#      tests (application_name) whose backends hit it; errors without our frames are
#      only counted (PostgreSQL's own false positives on a build without valgrind support).
# Exit status: 1 if any error involves pg_governance.so (or the run itself failed), else 0.
# The temporary directory is removed on exit (server stopped first); VALGRIND_KEEP=1 keeps it.
# VALGRIND_SUITE_TIMEOUT (seconds, default 3600) bounds each of the two pg_regress runs;
# VALGRIND_NUM_CALLERS (default 30) is valgrind's --num-callers.
set -u

ROOT=$(cd "$(dirname "$0")/.." && pwd)
PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
PGBIN=$("$PG_CONFIG" --bindir)
PKGLIB=$("$PG_CONFIG" --pkglibdir)
PG_REGRESS=$PKGLIB/pgxs/src/test/regress/pg_regress
PG_ISO_REGRESS=$PKGLIB/pgxs/src/test/isolation/pg_isolation_regress
SO=$PKGLIB/pg_governance.so
SUITE_TIMEOUT=${VALGRIND_SUITE_TIMEOUT:-3600}
NUM_CALLERS=${VALGRIND_NUM_CALLERS:-30}

say() { echo "valgrind: $*"; }
die() { echo "valgrind: FAILED: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "run as root (initdb/postgres run as the postgres user via runuser)"
command -v valgrind >/dev/null || die "valgrind is not installed"
[ -f "$SO" ] || die "$SO not installed"
[ -x "$PG_REGRESS" ] && [ -x "$PG_ISO_REGRESS" ] || die "pg_regress / pg_isolation_regress missing"

T=$(mktemp -d) || die "mktemp"
PM_PID=""          # postmaster (the valgrind process)
RU_PID=""          # runuser wrapping it

stop_server() {
    [ -n "$RU_PID" ] || return 0
    if [ -f "$T/data/postmaster.pid" ]; then
        runuser -u postgres -- "$PGBIN/pg_ctl" -D "$T/data" stop -m fast -w -t 300 \
            >>"$T/pg_ctl.log" 2>&1
    fi
    [ -z "$PM_PID" ] && [ -f "$T/data/postmaster.pid" ] && PM_PID=$(head -1 "$T/data/postmaster.pid")
    # pg_ctl returns once postmaster.pid is gone; valgrind still finishes its logs after that
    local i
    for i in $(seq 1 120); do
        kill -0 "$RU_PID" 2>/dev/null || break
        sleep 1
    done
    if [ -n "$PM_PID" ] && kill -0 "$PM_PID" 2>/dev/null; then
        say "server did not stop, killing postmaster $PM_PID and its children"
        local kids
        kids=$(pgrep -P "$PM_PID")
        kill -KILL "$PM_PID" $kids 2>/dev/null
    fi
    wait "$RU_PID" 2>/dev/null
    RU_PID=""
}

cleanup() {
    stop_server
    if [ "${VALGRIND_KEEP:-0}" = 1 ]; then
        say "kept $T"
    else
        rm -rf "$T"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- the test lists from the Makefile -------------------------------------------------------
make_list() {
    awk -v var="$1" '
        cont { line = line " " $0
               if (line ~ /\\$/) { sub(/\\$/, "", line); next }
               print line; exit }
        $0 ~ "^" var "[ \t]*[:+]?=" {
               line = $0; sub(/^[^=]*=/, "", line)
               if (line ~ /\\$/) { sub(/\\$/, "", line); cont = 1; next }
               print line; exit }' "$ROOT/Makefile" | xargs
}
REGRESS=$(make_list REGRESS)
ISOLATION=$(make_list ISOLATION)
[ -n "$REGRESS$ISOLATION" ] || die "no REGRESS/ISOLATION list in $ROOT/Makefile"

# --- 1. PostgreSQL's suppressions ---------------------------------------------------------
. "$ROOT/test/lib/apt_source.sh"

# prints the path of valgrind.supp, or nothing
fetch_supp() {
    local installed v
    mkdir -p "$T/apt/lists/partial" "$T/apt/cache/archives/partial" "$T/dl"
    private_sources_list >"$T/apt/sources.list"
    [ -s "$T/apt/sources.list" ] || return 0
    apt_private apt-get update -qq >"$T/apt/update.log" 2>&1
    installed=$(dpkg-query -W -f='${Version}' postgresql-15 2>/dev/null)
    for v in $( { echo "$installed"
                  apt_private apt-cache showsrc postgresql-15 2>/dev/null |
                      awk '/^Version:/ { print $2 }' | sort -rV; } | awk 'NF && !seen[$0]++'); do
        if (cd "$T/dl" && apt_private apt-get source --download-only "postgresql-15=$v" \
                >"$T/apt/source.log" 2>&1); then
            tar -xjf "$T/dl"/postgresql-15_*.orig.tar.bz2 -C "$T/dl" --strip-components=1 \
                --wildcards '*/src/tools/valgrind.supp' 2>/dev/null &&
                [ -s "$T/dl/src/tools/valgrind.supp" ] &&
                mv "$T/dl/src/tools/valgrind.supp" "$T/valgrind.supp" &&
                echo "$T/valgrind.supp ($v)"
            break
        fi
        rm -f "$T/dl"/*
    done
    rm -rf "$T/dl" "$T/apt"
}

SUPP_OPT=()
case "${VALGRIND_SUPP:-}" in
    none) say "no suppressions file (VALGRIND_SUPP=none)" ;;
    "")   got=$(fetch_supp)
          if [ -n "$got" ]; then
              say "suppressions: src/tools/valgrind.supp of postgresql-15 ${got#* }"
              SUPP_OPT=(--suppressions="$T/valgrind.supp")
          else
              say "could not fetch PostgreSQL's valgrind.supp; going on without it"
          fi ;;
    *)    [ -r "$VALGRIND_SUPP" ] || die "VALGRIND_SUPP=$VALGRIND_SUPP is not readable"
          cp "$VALGRIND_SUPP" "$T/valgrind.supp"
          SUPP_OPT=(--suppressions="$T/valgrind.supp")
          say "suppressions: $VALGRIND_SUPP" ;;
esac

# --- 2. the cluster, under valgrind ---------------------------------------------------------
SOCK=$T/sock
mkdir -p "$SOCK" "$T/vg" "$T/out" "$T/out_iso"
chown -R postgres: "$T"
chmod 755 "$T"
runuser -u postgres -- "$PGBIN/initdb" -D "$T/data" -A trust -U postgres \
    --encoding=UTF8 --locale=C.UTF-8 >"$T/initdb.log" 2>&1 ||
    { cat "$T/initdb.log"; die "initdb failed"; }

PORT=$((20000 + RANDOM % 10001))
cat >>"$T/data/postgresql.conf" <<EOF

# test/valgrind.sh
shared_preload_libraries = 'pg_governance'
port = $PORT
listen_addresses = ''
unix_socket_directories = '$SOCK'
fsync = off
autovacuum = off
log_line_prefix = '%p|%a| '
log_disconnections = on
EOF

# our frames show as src/<dir>/<file>.c:<line>: paths relative to the .so's build directory
COMP_DIR=$(readelf --debug-dump=info "$SO" 2>/dev/null |
           awk -F': ' '/DW_AT_comp_dir/ { print $NF; exit }')
FULLPATH_OPT=()
[ -n "$COMP_DIR" ] && FULLPATH_OPT=(--fullpath-after="$COMP_DIR/")

say "tests: $REGRESS | isolation: $ISOLATION"
say "starting postgres under valgrind (port $PORT, socket dir $SOCK)"
START=$(date +%s)
runuser -u postgres -- valgrind --tool=memcheck --trace-children=yes --leak-check=no \
    --error-exitcode=0 --read-var-info=yes --num-callers=$NUM_CALLERS --vgdb=no \
    "${FULLPATH_OPT[@]}" "${SUPP_OPT[@]}" --log-file="$T/vg/vg.%p.log" \
    "$PGBIN/postgres" -D "$T/data" >"$T/server.log" 2>&1 &
RU_PID=$!

ready=0
for _ in $(seq 1 600); do
    if ! kill -0 "$RU_PID" 2>/dev/null; then break; fi
    if pg_isready -q -h "$SOCK" -p "$PORT" 2>/dev/null; then ready=1; break; fi
    sleep 1
done
[ "$ready" = 1 ] || { tail -30 "$T/server.log"; die "server did not start under valgrind"; }
PM_PID=$(head -1 "$T/data/postmaster.pid")
say "server up after $(( $(date +%s) - START )) s (postmaster $PM_PID)"

# --- 3. the suites ------------------------------------------------------------------------
run_suite() {    # LABEL OUTDIR PROGRAM ARGS...
    local label=$1 out=$2; shift 2
    local t0 rc
    t0=$(date +%s)
    timeout "$SUITE_TIMEOUT" "$@" >"$out/run.log" 2>&1
    rc=$?
    [ "$rc" = 124 ] && say "$label: timed out after $SUITE_TIMEOUT s"
    say "$label ($(( $(date +%s) - t0 )) s, exit $rc):"
    grep -E '^(ok|not ok|test |     )?\s*\S+\s+\.\.\. |tests (passed|failed)|tests? failed' \
        "$out/run.log" | sed 's/^/    /'
}
if [ -n "$REGRESS" ]; then
    run_suite "pg_regress" "$T/out" "$PG_REGRESS" --inputdir="$ROOT" --outputdir="$T/out" \
        --load-extension=pg_governance --host="$SOCK" --port="$PORT" --user=postgres \
        --dbname=contrib_regression $REGRESS
fi
if [ -n "$ISOLATION" ]; then
    run_suite "pg_isolation_regress" "$T/out_iso" "$PG_ISO_REGRESS" --inputdir="$ROOT" \
        --outputdir="$T/out_iso" --load-extension=pg_governance --host="$SOCK" --port="$PORT" \
        --user=postgres --dbname=isolation_regression $ISOLATION
fi

say "stopping the server"
stop_server
say "suites and shutdown done after $(( $(date +%s) - START )) s"

# --- 4. the valgrind logs -----------------------------------------------------------------
ls "$T"/vg/vg.*.log >/dev/null 2>&1 || die "no valgrind logs"
nlogs=$(ls "$T"/vg/vg.*.log | wc -l)

# pid -> application_name (pg_regress/<test>, isolation/<spec>/...) from the server log
awk -F'|' '$1 ~ /^[0-9]+$/ && $2 != "" && $2 != "[unknown]" { app[$1] = $2 }
           END { for (p in app) print p "\t" app[p] }' \
    "$T/server.log" >"$T/apps.tsv"

awk -v apps="$T/apps.tsv" -v numcallers="$NUM_CALLERS" -v report="$T/report.txt" -v counts="$T/counts.txt" '
BEGIN {
    FS = "\n"
    while ((getline l < apps) > 0) { split(l, pa, "\t"); app[pa[1]] = pa[2] }
    kinds = "^(Invalid (read|write|free|realloc)|Conditional jump or move depends|Use of uninitialised value|Syscall param|Mismatched free|Source and destination overlap|Argument .* has a fishy value|Invalid (alignment|size) value|Jump to the invalid address|Process terminating)"
    ours = "\\((src/[^:)]+:[0-9]+|in [^)]*pg_governance\\.so)\\)"
}
function flush(   i, key, top, n, ourframe, f, fr, inmain) {
    if (nb == 0) return
    own = 0
    for (i = 1; i <= nb; i++) if (B[i] ~ ours) { own = 1; break }
    if (!own) {
        other++
        # a main stack cut at --num-callers could hide our frames further down
        for (i = 2; i <= nb && B[i] ~ /^   +(at|by) /; i++) ;
        if (i - 2 >= numcallers && B[i - 1] !~ / (main|start_thread|clone3?) \(/) cut++
        nb = 0; return
    }
    # key: kind + main-stack frames down to our first one (at most 12), addresses dropped
    key = B[1]; n = 0; ourframe = 0
    for (i = 2; i <= nb && B[i] ~ /^   +(at|by) /; i++) {
        fr = B[i]; sub(/^ +(at|by) 0x[0-9A-Fa-f]+: /, "", fr)
        key = key " | " fr
        if (fr ~ ours || ++n >= 12) break
    }
    if (!(key in cnt)) {
        order[++nk] = key
        blk = ""
        for (i = 1; i <= nb; i++) blk = blk "    " B[i] "\n"
        text[key] = blk
    }
    cnt[key]++
    an = (pid in app) ? app[pid] : "pid " pid " (no application_name)"
    if (!((key, an) in seenapp)) { seenapp[key, an] = 1; where[key] = where[key] (where[key] == "" ? "" : ", ") an }
    nb = 0
}
{
    if (FNR == 1) { flush(); pid = FILENAME; sub(/.*vg\./, "", pid); sub(/\.log$/, "", pid) }
    line = $0
    if (line !~ /^==[0-9]+==( |$)/) { if (nb) flush(); next }
    sub(/^==[0-9]+== ?/, "", line)
    if (nb == 0) { if (line ~ kinds) { nb = 1; B[1] = line }; next }
    if (line ~ /^ *$/) { flush(); next }
    B[++nb] = line
}
END {
    flush()
    for (k = 1; k <= nk; k++) {
        key = order[k]
        printf "--- error %d of %d: seen %d time(s), in: %s\n%s\n", k, nk, cnt[key], where[key], text[key] > report
    }
    total = 0; for (key in cnt) total += cnt[key]
    printf "%d %d %d %d\n", nk, total, other + 0, cut + 0 > counts
}' "$T"/vg/vg.*.log

read -r distinct ours_total others cut <"$T/counts.txt"
if [ "$distinct" -gt 0 ]; then
    echo
    say "memcheck errors involving pg_governance.so:"
    echo
    cat "$T/report.txt"
fi
say "summary: $distinct distinct memcheck error(s) involving pg_governance.so ($ours_total reported occurrences), $others error report(s) without our frames (PostgreSQL's own); $nlogs processes logged; $(( $(date +%s) - START )) s under valgrind"
[ "$cut" -gt 0 ] && say "note: $cut of those have a stack cut at $NUM_CALLERS frames (our frames could be below; VALGRIND_KEEP=1 and read the logs)"
[ "$distinct" -eq 0 ]
