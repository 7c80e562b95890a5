#!/usr/bin/env bash
# test/bench/guard_bench.sh — measures the per-row cost of the guard.
#
# Method (issue: performance goals of the guard):
#   - a 10-column table with 4 tagged columns (region, phone, email, created),
#     bound to ctyun-huiju-2024 so that localization is checked on every row,
#     against the same table without governance ("plain"), with a
#     do-nothing C BEFORE ROW trigger ("noop") and with only CHECK (id > -1)
#     ("checked", the floor of any CHECK constraint);
#   - INSERT ... SELECT and COPY of 300k rows, ROUNDS rounds (default 7) in
#     ONE session, a warm-up round discarded.  Inside a round the 300k rows go
#     in as 30 slices of 10k, the four tables taking turns slice by slice (and
#     rotating who goes first), so that drift hits them all alike; a round's
#     time is the sum of its slices.  Reported: the median of the per-slice
#     ratios (the steadiest), medians and ratios of medians, and the median
#     of the per-round ratios;
#   - single-row INSERTs under pgbench (1 client, BENCH_SECONDS per run,
#     default 10): plain and governed INSERTs interleaved at random inside each
#     run, PGBENCH_ROUNDS runs (default 7); median of the per-run TPS ratios.
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

echo "== pgbench: single-row INSERT, 1 client, ${SECS}s per run, plain and governed interleaved"
work=$(mktemp -d)
for t in plain governed checked; do
    cat >"$work/$t.sql" <<SQL
\set id random(1, 100000000)
INSERT INTO $t VALUES (:id, 'CN-SH', '13800000000', 'u@example.cn', timestamptz '2001-01-01', 1, 'b', 1.5, date '2020-01-01', 'e');
SQL
done
: >"$work/ratios"
# Both scripts run in the same pgbench run, transaction by transaction chosen at
# random: whatever the machine does meanwhile hits both alike.  Per-transaction
# latencies (pgbench --log, microseconds) give each script's mean latency; the
# TPS ratio of governed to plain is the inverse ratio of their mean latencies.
for r in $(seq 1 "$PGROUNDS"); do
    psql -X -q -d bench -c checkpoint
    rm -f "$work"/log*
    "$BIN/pgbench" -n -c 1 -T "$SECS" --log --log-prefix="$work/log" \
        -f "$work/plain.sql" -f "$work/governed.sql" -f "$work/checked.sql" bench >/dev/null 2>&1
    cat "$work"/log* | awk -v r="$r" '
        { n[$4]++; t[$4] += $3 }
        END { printf "round %d: plain %d tx, %.1f us; governed %d tx, %.1f us; trivial CHECK %d tx, %.1f us; trivial-CHECK/plain TPS %.4f; governed/plain TPS %.4f\n",
                     r, n[0], t[0]/n[0], n[1], t[1]/n[1], n[2], t[2]/n[2], (t[0]/n[0]) / (t[2]/n[2]), (t[0]/n[0]) / (t[1]/n[1]) }' |
        tee -a "$work/ratios"
done
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
pr=$(awk '{print $NF}' "$work/ratios" | median)
pc=$(awk '{sub(";", "", $(NF-3)); print $(NF-3)}' "$work/ratios" | median)
echo "pgbench single-row inserts governed/plain TPS $pr (median of $PGROUNDS interleaved runs; goal >= 0.97); a table with only CHECK (id > -1): $pc"
rm -rf "$work" /tmp/pg_governance_bench_*.copy
