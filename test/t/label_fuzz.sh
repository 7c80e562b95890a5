#!/usr/bin/env bash
# test/t/label_fuzz.sh — runs the security label fuzzer (test/fuzz/label_fuzz.py)
# for a bounded time on a throw-away cluster.  It owns the label grammar's
# robustness: every label set with SECURITY LABEL FOR governance on a column,
# table, schema, database or tablespace is either accepted (and then stored
# verbatim, re-parsable, and read back alike by tagged_columns, bound_policy
# and the database wrappers) or refused with GV011, exactly as a Python
# re-implementation of the grammar predicts; 42501 only for a role that is
# not governance_admin.
#
#   FUZZ_SECONDS   fuzzing time in seconds (default 30; the whole test takes
#                  about 5 s more: cluster creation, fixture, removal)
#   FUZZ_SEED      replay a run with the seed a previous run printed
#   FUZZ_PORT      port of the cluster (default: random in 20000-30000)
#   FUZZ_ARGS      more arguments for the fuzzer, e.g. "--keep-going -v"
#
# Exit status: 0 if every outcome was expected (the exact rules are in the
# fuzzer's docstring), non-zero otherwise; the failing labels are printed
# with the seed, nothing is written to disk outside the cluster.
#
# pg_virtualenv -t: the cluster lives in a temporary directory even as root,
# so that another pg_virtualenv running at the same time (cluster name
# "regress" under /etc/postgresql) does not make this one refuse to start;
# the explicit port keeps it off the ports other clusters on this machine use.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
port="${FUZZ_PORT:-$((20000 + RANDOM % 10000))}"
args=(--seconds "${FUZZ_SECONDS:-30}")
if [ -n "${FUZZ_SEED:-}" ]; then
    args+=(--seed "$FUZZ_SEED")
fi
# shellcheck disable=SC2206  # FUZZ_ARGS is split on purpose
args+=(${FUZZ_ARGS:-})
echo "label_fuzz: cluster on port $port"
exec pg_virtualenv -t -o shared_preload_libraries=pg_governance -o "port=$port" \
    python3 "$here/../fuzz/label_fuzz.py" "${args[@]}"
