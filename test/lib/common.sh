# test/lib/common.sh — shared by test/demo.sh and test/run_all.sh.
# Installs what is missing (Debian bookworm, as root or with sudo), then builds
# and installs the extension.  Sourced, not run.

PKGS="postgresql-15 postgresql-server-dev-15 postgresql-contrib libyaml-dev make gcc postgresql-15-cron"

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

ensure_packages() {
    local missing=""
    for p in $PKGS; do
        dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
    done
    if [ -n "$missing" ]; then
        echo "== installing:$missing"
        as_root apt-get update -qq
        DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq $missing >/dev/null
    fi
}

build_install() {
    export PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config
    make -s PG_CONFIG="$PG_CONFIG" >/dev/null
    as_root make -s PG_CONFIG="$PG_CONFIG" install >/dev/null
}
