#!/usr/bin/env bash
# test/demo.sh — the walkthrough of pg_governance on a throw-away cluster.
# Installs what is missing, builds, installs, starts a cluster with
# shared_preload_libraries = 'pg_governance' and runs test/demo.sql in it.
set -eu
cd "$(dirname "$0")/.."
. test/lib/common.sh
ensure_packages
build_install
exec pg_virtualenv -t -o "shared_preload_libraries=pg_governance" \
    psql -X -v ON_ERROR_STOP=0 -f test/demo.sql postgres
