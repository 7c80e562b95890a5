#!/usr/bin/env bash
# test/t/core_regress.sh — PostgreSQL's own regression suite, without and with pg_governance.
#
# Owns: this script and test/core_regress/ (allowed.txt: the differences that the
# extension makes by design, each with its reason).
#
#   1. fetches the suite: Debian's postgresql-15 source package, with `apt-get source
#      --download-only` through a private apt configuration (its own sources list of deb-src
#      entries built from the system's deb entries, its own lists/cache dirs; the system's
#      apt state is not touched); the installed server's version when the mirror has it,
#      otherwise the newest one it has (printed; an older suite is adapted to the newer
#      psql, see adapt_copy_tests).  Only src/test/regress and contrib/spi are unpacked;
#      Debian's patches touch neither;
#   2. builds regress.so, refint.so, autoinc.so against the installed server headers;
#   3. runs pg_regress (parallel_schedule, --use-existing --dbname=regression) twice, each
#      on a throw-away cluster (pg_virtualenv -t), in a database created beforehand exactly
#      as pg_regress would create it (template0, UTF8, C locale, its ALTER DATABASE settings):
#        run 1: plain cluster, plain database;
#        run 2: shared_preload_libraries = pg_governance, and in the database the extension
#               with the bundled policy ctyun-huiju-2024 bound and the region CN set;
#   4. compares results/<test>.out of the two runs test by test.  A test's difference is
#      allowed only if every hunk of `diff -U0` (line numbers dropped) is listed for that
#      test in allowed.txt; anything else, or a server crash in run 2, fails the test.
#      Tests that fail identically in both runs (environment) do not count.
# Everything lives in one temporary directory under /tmp (the postgres user must reach it),
# removed on exit; CORE_REGRESS_KEEP=1 keeps it for debugging.  Prints a summary line and
# exits 0 when every difference is explained.  Takes about 1.5 minutes on 2 cores.
set -u

PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
PGBIN=$("$PG_CONFIG" --bindir)
PG_REGRESS=$("$PG_CONFIG" --pkglibdir)/pgxs/src/test/regress/pg_regress
HERE=$(cd "$(dirname "$0")" && pwd)
SELF=$HERE/$(basename "$0")
ALLOWED=${CORE_REGRESS_ALLOWED:-$HERE/../core_regress/allowed.txt}
DBNAME=regression
RUN_TIMEOUT=240                     # seconds for one pg_regress run (about 35 s normally)

say() { echo "core_regress: $*"; }
die() { echo "core_regress: FAILED: $*" >&2; exit 1; }

# --- 1. the suite's source ----------------------------------------------------------------

. "$HERE/../lib/apt_source.sh"

ensure_tools() {
    command -v bzip2 >/dev/null && command -v gcc >/dev/null && return 0
    say "installing bzip2 gcc"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bzip2 gcc >/dev/null ||
        die "cannot install bzip2/gcc"
}

# candidate versions: the installed one first, then the others, newest first
source_versions() {
    local installed=$1
    { echo "$installed"
      apt_private apt-cache showsrc postgresql-15 | awk '/^Version:/ { print $2 }' | sort -rV
    } | awk '!seen[$0]++'
}

fetch_source() {
    local installed v got=""
    mkdir -p "$T/apt/lists/partial" "$T/apt/cache/archives/partial" "$T/dl"
    private_sources_list >"$T/apt/sources.list"
    [ -s "$T/apt/sources.list" ] || die "no deb entries found in /etc/apt/sources.list*"
    # a source that cannot be reached is not fatal as long as one has postgresql-15
    apt_private apt-get update -qq >"$T/apt/update.log" 2>&1
    apt_private apt-cache showsrc postgresql-15 2>/dev/null | grep -q '^Version:' ||
        { cat "$T/apt/update.log"; die "no postgresql-15 source package in the private apt lists"; }
    installed=$(dpkg-query -W -f='${Version}' postgresql-15 2>/dev/null)
    for v in $(source_versions "$installed"); do
        if (cd "$T/dl" && apt_private apt-get source --download-only "postgresql-15=$v" \
                >"$T/apt/source.log" 2>&1); then
            got=$v; break
        fi
        rm -f "$T/dl"/*
    done
    [ -n "$got" ] || { cat "$T/apt/source.log"; die "apt-get source postgresql-15 failed"; }
    if [ "$got" = "$installed" ]; then
        say "suite from postgresql-15 $got (the installed version)"
    else
        say "suite from postgresql-15 $got (installed: $installed, whose source the mirror does not serve)"
    fi
    mkdir -p "$T/src"
    tar -xjf "$T/dl"/postgresql-15_*.orig.tar.bz2 -C "$T/src" --strip-components=1 \
        --wildcards '*/src/test/regress/*' '*/contrib/spi/*' || die "cannot unpack the source"
    rm -rf "$T/dl" "$T/apt"
    dpkg --compare-versions "$got" lt "$installed" && adapt_copy_tests
}

# psql 15.20 (fix for CVE-2026-6464) skips the in-line data of a COPY ... FROM STDIN that
# fails before COPY mode, through the next "\." line.  Older suites leave such zero-row COPYs
# without "\.", so the newer psql swallows the rest of the file (most of rowsecurity,
# generated, copy2 ... would never run).  When the suite is older than the installed psql, add
# "\." after each COPY FROM STDIN whose echo in the expected output is followed by an ERROR
# and then by the next SQL line, i.e. that has no in-line data (no-op where "\." is there).
adapt_copy_tests() {
    local dir=$T/src/src/test/regress f t n total=0 files=0
    for f in $(grep -il 'from stdin' "$dir"/sql/*.sql); do
        t=$(basename "$f" .sql)
        [ -f "$dir/expected/$t.out" ] || continue
        n=$(awk "$ADAPT_AWK" "$dir/expected/$t.out" "$f" 2>&1 >"$f.new") || die "adapting $t"
        mv "$f.new" "$f"
        [ -n "$n" ] && total=$((total + n)) && files=$((files + 1))
    done
    say "added \\. after $total early-failing zero-row COPY FROM STDIN in $files test files (psql skips to it)"
}
ADAPT_AWK='
FNR == 1 { file++ }
file == 1 { E[++m] = $0; next }
{ S[++n] = $0 }
function ends(s) { sub(/--.*$/, "", s); return s ~ /;[ \t]*$/ }
function sync(line,   k) {          # psql -a echoes every non-blank input line
    if (line ~ /^[ \t]*$/) return
    for (k = p; k <= m; k++) if (E[k] == line) { p = k + 1; return }
}
function nextline(i) { i++; while (i <= n && S[i] ~ /^[ \t]*$/) i++; return S[i] }
END {
    p = 1
    for (i = 1; i <= n; i++) {
        print S[i]
        if (indata) { if (S[i] == "\\.") indata = 0; continue }
        sync(S[i])
        if (S[i] !~ /^[ \t]*[Cc][Oo][Pp][Yy][ \t]/) continue
        stmt = S[i]
        while (!ends(S[i]) && i < n) { i++; stmt = stmt " " S[i]; print S[i]; sync(S[i]) }
        if (tolower(stmt) !~ /from[ \t]+stdin/) continue
        if (S[i + 1] == "\\.") continue
        q = p; err = 0
        while (q <= m && E[q] ~ /^(ERROR|DETAIL|HINT|CONTEXT|LINE [0-9]+|QUERY|WARNING|NOTICE): |^ +\^/) { if (E[q] ~ /^ERROR/) err = 1; q++ }
        if (err && E[q] == nextline(i)) { print "\\."; added++ }
        else indata = 1
    }
    if (added) printf "%d\n", added > "/dev/stderr"
}

'

# --- 2. the suite's C modules ------------------------------------------------------------

build_modules() {
    local inc c
    inc=$("$PG_CONFIG" --includedir-server)
    mkdir -p "$T/lib"
    for c in src/test/regress/regress.c contrib/spi/refint.c contrib/spi/autoinc.c; do
        gcc -O2 -fPIC -shared -I"$inc" -o "$T/lib/$(basename "$c" .c).so" "$T/src/$c" ||
            die "cannot build $c"
    done
}

# --- 3. the two runs ---------------------------------------------------------------------

# run_suite N PG_VIRTUALENV_OPTIONS... — results end up in $T/run$N
run_suite() {
    local n=$1; shift
    rm -rf "$T/out"
    mkdir -p "$T/out/results"
    chmod 1777 "$T/out/results"     # the server writes COPY TO / lo_export files there
    TMPDIR=$T pg_virtualenv -t -c "--locale=C --encoding=UTF8" "$@" \
        bash "$SELF" --inside "$n" >"$T/run$n.log" 2>&1
    mv "$T/out" "$T/run$n"          # the same path in both runs, so paths in output agree
    grep -q '^CORE_REGRESS_SETUP_OK' "$T/run$n.log" ||
        { tail -40 "$T/run$n.log"; die "run $n: setup failed"; }
    grep -q '^CORE_REGRESS_TIMEOUT' "$T/run$n.log" &&
        { tail -40 "$T/run$n.log"; die "run $n: pg_regress timed out (a hang?)"; }
    ls "$T/run$n/results/"*.out >/dev/null 2>&1 ||
        { tail -40 "$T/run$n.log"; die "run $n: pg_regress produced no results"; }
    say "run $n: against the suite's expected output:$(grep -E 'tests (passed|failed)|All [0-9]+ tests' "$T/run$n.log" | tr -s ' ' | head -1)"
}

# psql in the regression database, as pg_regress's own setup would
q() { "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 "$@"; }

# the database, created exactly as pg_regress --encoding=UTF8 --no-locale creates it
create_database() {
    q -d postgres -c "CREATE DATABASE \"$DBNAME\" TEMPLATE=template0 ENCODING='UTF8' LC_COLLATE='C' LC_CTYPE='C'" &&
    q -d postgres \
        -c "ALTER DATABASE \"$DBNAME\" SET lc_messages TO 'C'" \
        -c "ALTER DATABASE \"$DBNAME\" SET lc_monetary TO 'C'" \
        -c "ALTER DATABASE \"$DBNAME\" SET lc_numeric TO 'C'" \
        -c "ALTER DATABASE \"$DBNAME\" SET lc_time TO 'C'" \
        -c "ALTER DATABASE \"$DBNAME\" SET bytea_output TO 'hex'" \
        -c "ALTER DATABASE \"$DBNAME\" SET timezone_abbreviations TO 'Default'"
}

install_extension() {
    q -d "$DBNAME" -c "SET client_min_messages = warning" \
        -c "CREATE EXTENSION pg_governance" \
        -c "SELECT governance.load_bundled_policy('ctyun-huiju-2024')" \
        -c "SELECT governance.bind_database('ctyun-huiju-2024')" \
        -c "SELECT governance.set_database_region('CN')" >/dev/null
}

# inside pg_virtualenv: set the database up, then run the suite in it
inside() {
    local n=$1 spl log rc
    spl=$(q -At -d postgres -c "SHOW shared_preload_libraries") || exit 1
    echo "run $n: shared_preload_libraries = '$spl'"
    create_database || exit 1
    if [ "$n" = 2 ]; then
        [ "$spl" = pg_governance ] || { echo "run 2 is not preloaded"; exit 1; }
        install_extension || exit 1
    fi
    echo CORE_REGRESS_SETUP_OK
    timeout "$RUN_TIMEOUT" "$PG_REGRESS" --bindir="$PGBIN" --inputdir="$T/src/src/test/regress" \
        --outputdir="$T/out" --dlpath="$T/lib" \
        --schedule="$T/src/src/test/regress/parallel_schedule" \
        --use-existing --dbname="$DBNAME" --encoding=UTF8 --no-locale
    rc=$?
    [ $rc -eq 124 ] && echo "CORE_REGRESS_TIMEOUT: pg_regress still ran after $RUN_TIMEOUT s"
    echo "pg_regress exited $rc"
    log=${PG_CLUSTER_CONF_ROOT%/postgresql}/log/postgresql-15-regress.log
    cp "$log" "$T/out/server.log" || echo "no server log at $log"
    exit 0
}

# --- 4. comparison -----------------------------------------------------------------------

# one file with every test's normalized diff: "=== test", then hunks, each after "@@"
collect_diffs() {
    local f t
    for f in "$T"/run1/results/*.out "$T"/run2/results/*.out; do
        basename "$f" .out
    done | sort -u | while read -r t; do
        echo "=== $t"
        if [ ! -f "$T/run1/results/$t.out" ] || [ ! -f "$T/run2/results/$t.out" ]; then
            echo "@@"; echo "-(output missing in one of the runs)"; continue
        fi
        diff -U0 "$T/run1/results/$t.out" "$T/run2/results/$t.out" |
            awk 'NR <= 2 && /^(---|\+\+\+) / { next } /^@@/ { print "@@"; next } { print }'
    done
}

# reads allowed.txt then the collected diffs; prints the unexplained hunks and a summary
judge() {
    awk '
    FNR == 1 { if (inhunk) endhunk(); file++ }   # the last hunk of allowed.txt
    file == 1 {                                  # allowed.txt
        if (inhunk && ($0 ~ /^(~?[-+])/)) { hunk = hunk $0 "\n"; next }
        if (inhunk) { endhunk() }
        if ($0 ~ /^test:/) { entry++; test = $2; reason[entry] = ""; where[entry] = FNR; next }
        if ($0 ~ /^reason:/) { reason[entry] = $0; next }
        if ($0 ~ /^@@[ \t]*$/) {
            if (!entry) { bad("@@ before any test:") }
            inhunk = 1; hunk = ""; next
        }
        if ($0 ~ /^[ \t]*(#|$)/) { next }
        bad("unexpected line: " $0)
    }
    file == 2 {                                  # the diffs
        if ($0 ~ /^=== /) { endtest(); name = substr($0, 5); ntests++; nh = 0; next }
        if ($0 == "@@") { nh++; h[nh] = ""; next }
        h[nh] = h[nh] $0 "\n"
    }
    function bad(msg) { printf "allowed.txt:%d: %s\n", FNR, msg; broken = 1 }
    function endhunk(   i) {
        inhunk = 0
        if (hunk == "") { bad("empty hunk"); return }
        i = ++an[test]; ah[test, i] = hunk; ae[test, i] = entry; used[test, i] = 0
    }
    # an allowed line "-x"/"+x" is the diff line itself; "~-re"/"~+re": an ERE for all of x
    function linematch(act, alw) {
        if (substr(alw, 1, 1) != "~") return act == alw
        return substr(act, 1, 1) == substr(alw, 2, 1) && substr(act, 2) ~ ("^(" substr(alw, 3) ")$")
    }
    function hunkmatch(act, alw,   a, b, na, nb, j) {
        na = split(act, a, "\n"); nb = split(alw, b, "\n")
        if (na != nb) return 0
        for (j = 1; j < na; j++) if (!linematch(a[j], b[j])) return 0
        return 1
    }
    function allowedhunk(t, hk,   i) {
        for (i = 1; i <= an[t]; i++) if (hunkmatch(hk, ah[t, i])) { used[t, i]++; return 1 }
        return 0
    }
    function show(s,   n, l, j) {               # at most 150 lines a test
        n = split(s, l, "\n")
        for (j = 0; j < n; j++) {
            if (++shown > 150) { if (shown == 151) print "    ... (more: CORE_REGRESS_KEEP=1 keeps the results)"; return }
            print "    " (j ? l[j] : "@@")
        }
    }
    function endtest(   i, unexplained, ok) {
        if (name == "") return
        if (nh == 0) { same++; name = ""; return }
        unexplained = 0
        for (i = 1; i <= nh; i++) { ok[i] = allowedhunk(name, h[i]); if (!ok[i]) unexplained++ }
        if (unexplained == 0) { okdiff++; printf "  %-28s differs as allowed\n", name }
        else {
            baddiff++
            printf "  %-28s UNEXPLAINED difference (%d of %d hunks):\n", name, unexplained, nh
            shown = 0
            for (i = 1; i <= nh; i++) if (!ok[i]) show(h[i])
        }
        name = ""
    }
    END {
        if (inhunk) endhunk()
        endtest()
        for (e = 1; e <= entry; e++)
            if (reason[e] !~ /^reason:[ \t]*[^ \t]/) { printf "allowed.txt:%d: entry without reason\n", where[e]; broken = 1 }
        for (k in used) if (!used[k]) unused[ae[k]]++
        for (e = 1; e <= entry; e++) if (e in unused)
            printf "  note: %d hunk(s) of the entry at allowed.txt:%d did not occur\n", unused[e], where[e]
        printf "core_regress: %d tests compared, %d identical, %d with allowed differences, %d with unexplained differences\n", ntests, same, okdiff, baddiff
        exit (baddiff > 0 || broken || ntests == 0)
    }' "$ALLOWED" "$T/diffs"
}

# a server crash in run 2 that run 1 did not have
check_crash() {
    local crashed=0 f
    if grep -q 'terminated by signal' "$T/run2/server.log" 2>/dev/null &&
        ! grep -q 'terminated by signal' "$T/run1/server.log" 2>/dev/null; then
        say "server crash in run 2:"
        grep -B2 -A2 'terminated by signal' "$T/run2/server.log" | head -20
        crashed=1
    fi
    for f in "$T"/run2/results/*.out; do
        if grep -q 'server closed the connection unexpectedly' "$f" &&
            ! grep -q 'server closed the connection unexpectedly' "$T/run1/results/$(basename "$f")" 2>/dev/null; then
            say "run 2 lost its connection in test $(basename "$f" .out)"
            crashed=1
        fi
    done
    return $crashed
}

main() {
    local start=$SECONDS rc=0
    [ -x "$PG_REGRESS" ] || die "pg_regress not found at $PG_REGRESS"
    [ -s "$ALLOWED" ] || die "missing or empty $ALLOWED"
    T=$(mktemp -d /tmp/core_regress.XXXXXX) || die "mktemp"
    chmod 755 "$T"                  # the clusters (postgres) live and write in here
    export T
    if [ -n "${CORE_REGRESS_KEEP:-}" ]; then  # for debugging: keep sources, results, logs
        trap 'say "kept $T (remove it yourself)"' EXIT
    else
        trap 'rm -rf "$T"' EXIT
    fi
    trap 'exit 130' INT TERM
    ensure_tools
    fetch_source
    build_modules
    run_suite 1
    run_suite 2 -o "shared_preload_libraries=pg_governance"
    collect_diffs >"$T/diffs"
    check_crash || rc=1
    judge || rc=1
    say "took $((SECONDS - start)) s"
    return $rc
}

if [ "${1:-}" = "--inside" ]; then
    inside "$2"
else
    main
fi
