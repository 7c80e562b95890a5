#!/usr/bin/env bash
# test/run_all.sh — runs every test of pg_governance on a throw-away cluster
# and ends with one line "N passed, N failed".  Exit status 0 only if all pass.
#
#   1. pg_regress suites (sql/, expected/) on a cluster with
#      shared_preload_libraries = 'pg_governance', then sql/nopreload.sql on
#      a cluster without it;
#   2. every executable test/t/*.sh (standalone checks such as the policy
#      parser fuzzer); each one is one test, judged by its exit status.
set -u
cd "$(dirname "$0")/.."
. test/lib/common.sh

ensure_packages
build_install

passed=0
failed=0
log=$(mktemp -d)

# --- pg_regress -------------------------------------------------------------
# run_regress LABEL PG_VIRTUALENV_OPTIONS... -- MAKE_ARGS...
run_regress() {
    local label=$1; shift
    local venv_opts=()
    while [ "$1" != "--" ]; do venv_opts+=("$1"); shift; done
    shift
    rm -rf results regression.diffs regression.out output_iso
    # -t: the cluster lives in a temporary directory even as root, so a stale
    # /etc/postgresql/15/regress (left by an interrupted run) cannot stop us.
    pg_virtualenv -t "${venv_opts[@]}" \
        make -s PG_CONFIG="$PG_CONFIG" installcheck "$@" >"$log/regress.log" 2>&1
    local rc=$?
    echo "== pg_regress ($label)"
    grep -E '^(test |     )?\s*\S+\s+\.\.\. |tests (passed|failed)' "$log/regress.log"
    local ok bad
    ok=$(grep -cE '\.\.\. ok' "$log/regress.log")
    bad=$(grep -cE '\.\.\. FAILED|\.\.\. failed' "$log/regress.log")
    passed=$((passed + ok))
    failed=$((failed + bad))
    if [ "$rc" -ne 0 ] && [ "$bad" -eq 0 ]; then
        echo "pg_regress ($label) exited $rc without a failed test: counting it as a failure"
        grep -vE '^(ALTER|CREATE|DROP|SET)' "$log/regress.log" | tail -40
        failed=$((failed + 1))
    fi
    [ -f regression.diffs ] && head -200 regression.diffs
    [ -f output_iso/regression.diffs ] && head -200 output_iso/regression.diffs
}

# with shared_preload_libraries (the recommended setting)
run_regress "preloaded" -o "shared_preload_libraries=pg_governance" --
# without it: raw labels and every function must still work
run_regress "not preloaded" -- REGRESS=nopreload ISOLATION=

# --- standalone tests -------------------------------------------------------
for t in test/t/*.sh; do
    [ -x "$t" ] || continue
    if "$t" >"$log/t.log" 2>&1; then
        echo "test $t ... ok"
        passed=$((passed + 1))
    else
        echo "test $t ... FAILED"
        tail -30 "$log/t.log"
        failed=$((failed + 1))
    fi
done

rm -rf "$log"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
