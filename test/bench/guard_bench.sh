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
#     10), plain and governed alternating (which goes first alternates too),
#     PGBENCH_ROUNDS rounds (default 7); median TPS ratio.
# Ratios, not absolute times: these 2-core machines drift about 5%.  The cluster
# runs with fsync=off: disk latency is the same for both sides and only adds noise.  Autovacuum
# is off and each pgbench run starts after a CHECKPOINT, so that neither lands
# on one side only.
# Runs in a throw-away cluster; writes nothing into the repository.
set -eu
here="$(cd "$(dirname "$0")" && pwd)"
if [ -z "${GUARD_BENCH_INSIDE:-}" ]; then
    export GUARD_BENCH_INSIDE=1
    exec pg_virtualenv -t -o shared_preload_libraries=pg_governance \
        -o max_wal_size=4GB -o checkpoint_timeout=30min -o synchronous_commit=off \
        -o autovacuum=off -o fsync=off -o full_page_writes=off \
        bash "$0" "$@"
fi
BIN=/usr/lib/postgresql/15/bin
ROUNDS=${ROUNDS:-7}      # 0: only the pgbench part
SECS=${BENCH_SECONDS:-10}
PGROUNDS=${PGBENCH_ROUNDS:-7}
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
for r in $(seq 1 "$PGROUNDS"); do
    order="plain governed"
    [ $((r % 2)) -eq 0 ] && order="governed plain"
    for t in $order; do
        psql -X -q -d bench -c checkpoint
        tps=$("$BIN/pgbench" -n -c 1 -T "$SECS" -f "$work/$t.sql" bench 2>/dev/null |
              sed -n 's/^tps = \([0-9.]*\).*/\1/p')
        echo "$t $r $tps" | tee -a "$work/tps"
    done
done
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
p=$(awk '$1=="plain" {print $3}' "$work/tps" | median)
g=$(awk '$1=="governed" {print $3}' "$work/tps" | median)
# the ratio within each round cancels drift between rounds
pr=$(awk '$1=="plain"{p[$2]=$3} $1=="governed"{g[$2]=$3} END {for (r in p) print g[r]/p[r]}' "$work/tps" | median)
awk -v p="$p" -v g="$g" -v pr="$pr" 'BEGIN { printf "pgbench single-row inserts governed/plain TPS %.3f (median of per-round ratios; goal >= 0.97), ratio of medians %.3f; median TPS plain %.0f, governed %.0f\n", pr, g/p, p, g }'
rm -rf "$work"
