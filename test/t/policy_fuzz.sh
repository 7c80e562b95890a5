#!/usr/bin/env bash
# test/t/policy_fuzz.sh — runs the governance.load_policy() fuzzer
# (test/fuzz/policy_fuzz.py) for a bounded time on a throw-away cluster.
#
#   FUZZ_SECONDS   fuzzing time in seconds (default 45; the whole test takes
#                  about 5 s more: cluster creation and removal)
#   FUZZ_SEED      replay a run with the seed a previous run printed
#   FUZZ_ARGS      more arguments for the fuzzer, e.g. "--keep-going -v"
#
# Exit status: 0 if every document was loaded or refused with GV010 at a
# line:column (the exact rules are in the fuzzer's docstring), non-zero
# otherwise; the offending documents are written to /tmp, their paths printed.
#
# pg_virtualenv -t: the cluster lives in a temporary directory even as root,
# so that another pg_virtualenv running at the same time (cluster name
# "regress" under /etc/postgresql) does not make this one refuse to start.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
args=(--seconds "${FUZZ_SECONDS:-45}")
if [ -n "${FUZZ_SEED:-}" ]; then
    args+=(--seed "$FUZZ_SEED")
fi
# shellcheck disable=SC2206  # FUZZ_ARGS is split on purpose
args+=(${FUZZ_ARGS:-})
exec pg_virtualenv -t -o shared_preload_libraries=pg_governance \
    python3 "$here/../fuzz/policy_fuzz.py" "${args[@]}"
