#!/usr/bin/env bash
# test/bench/guard_bench.sh — measures the per-row cost of the guard.
#
# Method (issue: performance goals of the guard):
#   - a 10-column table with 4 tagged columns (region, phone, email, created),
#     bound to ctyun-huiju-2024 so that localization is checked on every row,
#     against the same table without governance ("plain") and with a
#     do-nothing C BEFORE ROW trigger ("noop");
#   - INSERT ... SELECT and COPY of 300k rows, ROUNDS rounds (default 7) in
#     ONE session, plain / noop / governed alternating inside each round, a
#     warm-up round discarded; medians, and ratios of medians;
#   - single-row INSERTs under pgbench (1 client, BENCH_SECONDS each, default
#     10), plain and governed alternating, 3 rounds; median TPS ratio.
# Ratios, not absolute times: these 2-core machines drift about 5%.
# Runs in a throw-away cluster; writes nothing into the repository.
set -eu
here="$(cd "$(dirname "$0")" && pwd)"
if [ -z "${GUARD_BENCH_INSIDE:-}" ]; then
    export GUARD_BENCH_INSIDE=1
    exec pg_virtualenv -t -o shared_preload_libraries=pg_governance \
        -o max_wal_size=4GB -o checkpoint_timeout=30min -o synchronous_commit=off \
        bash "$0" "$@"
fi
BIN=/usr/lib/postgresql/15/bin
ROUNDS=${ROUNDS:-7}
SECS=${BENCH_SECONDS:-10}
createdb bench
psql -X -q -d bench -v rounds="$ROUNDS" -f "$here/guard_bench.sql"

echo "== pgbench: single-row INSERT, 1 client, ${SECS}s per run, synchronous_commit=off"
work=$(mktemp -d)
for t in plain governed; do
    cat >"$work/$t.sql" <<SQL
\set id random(1, 100000000)
INSERT INTO $t VALUES (:id, 'CN-SH', '13800000000', 'u@example.cn', timestamptz '2001-01-01', 1, 'b', 1.5, date '2020-01-01', 'e');
SQL
done
: >"$work/tps"
for r in 1 2 3; do
    for t in plain governed; do
        tps=$("$BIN/pgbench" -n -c 1 -T "$SECS" -f "$work/$t.sql" bench 2>/dev/null |
              sed -n 's/^tps = \([0-9.]*\).*/\1/p')
        echo "$t $r $tps" | tee -a "$work/tps"
    done
done
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
p=$(awk '$1=="plain" {print $3}' "$work/tps" | median)
g=$(awk '$1=="governed" {print $3}' "$work/tps" | median)
awk -v p="$p" -v g="$g" 'BEGIN { printf "pgbench single-row inserts governed/plain TPS %.3f (goal >= 0.97); median TPS plain %.0f, governed %.0f\n", g/p, p, g }'
rm -rf "$work"
