#!/usr/bin/env bash
# test/run_all.sh — runs every test of pg_governance on a throw-away cluster
# and ends with one line "N passed, N failed".  Exit status 0 only if all pass.
#
#   1. pg_regress suites (sql/, expected/) on a cluster with
#      shared_preload_libraries = 'pg_governance';
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
rm -rf results regression.diffs regression.out
pg_virtualenv -o "shared_preload_libraries=pg_governance" \
    make -s PG_CONFIG="$PG_CONFIG" installcheck >"$log/regress.log" 2>&1
regress_rc=$?
grep -E '^(test |     )?\s*\S+\s+\.\.\. |tests (passed|failed)' "$log/regress.log"
[ "$regress_rc" -ne 0 ] && grep -vE '^(ALTER|CREATE|DROP|SET)' "$log/regress.log" | tail -40
ok=$(grep -cE '\.\.\. ok' "$log/regress.log")
bad=$(grep -cE '\.\.\. FAILED|\.\.\. failed' "$log/regress.log")
passed=$((passed + ok))
failed=$((failed + bad))
if [ "$regress_rc" -ne 0 ] && [ "$bad" -eq 0 ]; then
    echo "pg_regress exited $regress_rc without a failed test: counting it as a failure"
    failed=$((failed + 1))
fi
[ -f regression.diffs ] && head -200 regression.diffs

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
