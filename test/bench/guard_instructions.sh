#!/usr/bin/env bash
# test/bench/guard_instructions.sh — what the guard costs, in instructions.
#
# test/bench/run times the goals; on these 2-core machines its ratios wander
# by 5-10% between identical runs, which is as large as what it measures.
# Instruction counts do not wander: this script runs the same work under
# valgrind's callgrind, in a single-user backend, and reports instructions
# per single-row INSERT and per row of INSERT ... SELECT and COPY, for the
# same kinds of table as test/bench/run: plain, noop (a do-nothing C BEFORE ROW
# trigger), checked (CHECK (id > -1) alone) and governed (4 tagged columns,
# bound to ctyun-huiju-2024, so that every row's region is checked).
#
# Each figure is (run with warm-up + N units) - (run with the warm-up only),
# divided by N: the backend's start, the first statement's catalog lookups
# and the guard's one-time cache build cancel out.  Instructions are not
# time (a cache miss costs more than an add), so this explains the timed
# ratios rather than replacing them.
#
# Needs valgrind (apt-get install -y valgrind); takes about three minutes.
# Works in a throw-away data directory; writes nothing into the repository.
set -eu
BIN=$(pg_config --bindir)
N_SINGLE=${N_SINGLE:-2000}
N_ROWS=${N_ROWS:-20000}
command -v valgrind >/dev/null || { echo "valgrind is needed: apt-get install -y valgrind" >&2; exit 1; }

work=$(mktemp -d /tmp/pg_governance_instr.XXXXXX)
trap 'rm -rf "$work"' EXIT
chmod 755 "$work"
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
[ "$(id -u)" = 0 ] && chown postgres "$work"
data="$work/data"
opts="-c shared_preload_libraries=pg_governance -c fsync=off -c autovacuum=off"

as_pg "$BIN/initdb" -D "$data" -A trust --no-sync >/dev/null
as_pg "$BIN/pg_ctl" -D "$data" -l "$work/log" -w \
    -o "$opts -c listen_addresses= -k $work -p 5477" start >/dev/null
as_pg "$BIN/psql" -X -q -h "$work" -p 5477 -d postgres -v ON_ERROR_STOP=1 <<'SQL'
CREATE DATABASE bench;
\c bench
CREATE EXTENSION pg_governance;
SELECT governance.load_bundled_policy('ctyun-huiju-2024') IS NOT NULL AS loaded \gset
CREATE TABLE plain (id bigint, region text, phone text, email text, created timestamptz,
                    a int, b text, c numeric, d date, e text);
CREATE TABLE noop (LIKE plain);
CREATE TABLE checked (LIKE plain);
ALTER TABLE checked ADD CONSTRAINT trivial CHECK (id > -1);
CREATE TABLE governed (LIKE plain);
CREATE TRIGGER noop_row BEFORE INSERT OR UPDATE ON noop
    FOR EACH ROW EXECUTE FUNCTION governance._noop_trigger();
SELECT governance.bind('governed', 'ctyun-huiju-2024') \gset
SELECT governance.tag('governed', 'region', 'region') \gset
SELECT governance.tag('governed', 'phone', 'category=personal.contact.phone') \gset
SELECT governance.tag('governed', 'email', 'category=personal.contact.email') \gset
SELECT governance.tag('governed', 'created', 'anchor=created') \gset
CREATE TABLE src AS
SELECT g::bigint AS id, (ARRAY['CN','CN-SH','CN-BJ','CN-GD'])[1 + g % 4] AS region,
       '138' || lpad(g::text, 8, '0') AS phone, 'u' || g || '@example.cn' AS email,
       timestamptz '2001-01-01' + g * interval '1 second' AS created,
       g % 1000 AS a, md5(g::text) AS b, (g % 997)::numeric / 7 AS c,
       date '2020-01-01' + (g % 1000) AS d, repeat('x', 20) AS e
FROM generate_series(1, 100000) g;
SQL
as_pg "$BIN/psql" -X -q -h "$work" -p 5477 -d bench \
    -c "COPY (SELECT * FROM src LIMIT $N_ROWS) TO '$work/rows.copy'"
as_pg "$BIN/pg_ctl" -D "$data" -w stop >/dev/null

# instructions of one single-user backend fed the statements in $1
count() {
    as_pg valgrind --tool=callgrind --callgrind-out-file="$work/cg.out" \
        "$BIN/postgres" --single -D "$data" $opts bench <"$1" >"$work/run.log" 2>&1
    sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$work/run.log"
}
row() { printf "INSERT INTO %s VALUES (%d, 'CN-SH', '13800000000', 'u@example.cn', timestamptz '2001-01-01', 1, 'b', 1.5, date '2020-01-01', 'e');\n" "$1" "$2"; }

printf "%-28s %-9s %14s\n" "workload" "table" "instructions"
results="$work/results"
: >"$results"
for t in plain noop checked governed; do
    # single-row INSERTs, one statement each
    row "$t" 0 >"$work/base.sql"
    { row "$t" 0; for i in $(seq 1 "$N_SINGLE"); do row "$t" "$i"; done; } >"$work/full.sql"
    b=$(count "$work/base.sql"); f=$(count "$work/full.sql")
    echo "single_insert $t $(( (f - b) / N_SINGLE ))" | tee -a "$results" |
        awk '{printf "%-28s %-9s %14s per statement\n", $1, $2, $3}'
    # INSERT ... SELECT and COPY: per row
    echo "INSERT INTO $t SELECT * FROM src LIMIT 1;" >"$work/base.sql"
    { cat "$work/base.sql"; echo "INSERT INTO $t SELECT * FROM src LIMIT $N_ROWS;"; } >"$work/full.sql"
    b=$(count "$work/base.sql"); f=$(count "$work/full.sql")
    echo "insert_select $t $(( (f - b) / N_ROWS ))" | tee -a "$results" |
        awk '{printf "%-28s %-9s %14s per row\n", $1, $2, $3}'
    { cat "$work/base.sql"; echo "COPY $t FROM '$work/rows.copy';"; } >"$work/full.sql"
    f=$(count "$work/full.sql")
    echo "copy $t $(( (f - b) / N_ROWS ))" | tee -a "$results" |
        awk '{printf "%-28s %-9s %14s per row\n", $1, $2, $3}'
done
echo
echo "== extra instructions over the plain table (ratio of the whole work)"
awk '{ v[$1 "," $2] = $3; w[$1] = 1 }
     END {
        for (k in w) {
            p = v[k ",plain"]
            printf "%-14s governed +%d (%.3f)  noop +%d (%.3f)  trivial CHECK +%d (%.3f)\n", k,
                   v[k ",governed"] - p, v[k ",governed"] / p, v[k ",noop"] - p, v[k ",noop"] / p,
                   v[k ",checked"] - p, v[k ",checked"] / p
        }
     }' "$results" | sort
