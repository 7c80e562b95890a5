# test/lib/apt_source.sh — fetching a Debian source package without touching the
# system's apt configuration: a private sources list with deb-src lines for every deb
# entry of the system's sources, and apt-get / apt-cache run with it.  Sourced by
# test/t/core_regress.sh and test/valgrind.sh; both set $T to their temporary directory.

# deb-src lines for every "deb" entry of the system's sources (deb822 or one-line style)
private_sources_list() {
    local f
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        awk 'function flush() {
                 if (types ~ /(^| )deb( |$)/ && uris != "")
                     { n = split(uris, u, " "); m = split(suites, s, " ");
                       for (i = 1; i <= n; i++) for (j = 1; j <= m; j++)
                           printf "deb-src %s %s %s %s\n", opt, u[i], s[j], comps }
                 types = uris = suites = comps = opt = "" }
             /^[ \t]*$/ { flush(); next }
             /^#/ { next }
             { key = tolower($1); sub(/^[^:]*:[ \t]*/, "") }
             key == "types:" { types = $0 } key == "uris:" { uris = $0 }
             key == "suites:" { suites = $0 } key == "components:" { comps = $0 }
             key == "signed-by:" { opt = "[signed-by=" $0 "]" }
             END { flush() }' "$f"
    done
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [ -f "$f" ] || continue
        sed -n 's/^[ \t]*deb[ \t]\+/deb-src /p' "$f"
    done
}

# apt-get / apt-cache with the private configuration under $T/apt
apt_private() {
    local tool=$1; shift
    "$tool" -q -o Dir::Etc::sourcelist="$T/apt/sources.list" -o Dir::Etc::sourceparts=- \
        -o Dir::State::Lists="$T/apt/lists" -o Dir::Cache="$T/apt/cache" \
        -o Dir::Etc::preferencesparts=- -o APT::Sandbox::User=root "$@"
}
