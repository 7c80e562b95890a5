#!/usr/bin/env bash
# test/t/discovery_corpus.sh — precision and recall of governance.suggest_tags
# on the labelled corpus (test/corpus/corpus.sql, made by test/corpus/generate.py).
#
# One throw-away PostgreSQL 15 cluster (initdb / pg_ctl from $PGBIN, run as the
# postgres OS user, Unix socket only, port 5632 on a socket directory inside one
# mktemp -d directory removed on exit), shared_preload_libraries = pg_governance;
# pg_governance must be installed in $PGBIN's PostgreSQL.  Loads the corpus, runs
# suggest_tags('corpus'), and counts per kind (category): a suggestion of the
# kind for a column labelled with it is a true positive, for any other column a
# false positive; a labelled column without that suggestion a false negative.
# Prints the table (kind, columns, suggested, tp, fp, fn, precision, recall),
# fails when a kind's precision or recall is below 0.95.
#
#   PGBIN=/path/to/15/bin test/t/discovery_corpus.sh
set -u

PORT=5632
TEST_NAME=discovery_corpus
. "$(dirname "$0")/../lib/cluster.sh"
corpus="$(cd "$(dirname "$0")/../corpus" && pwd)/corpus.sql"
[ -f "$corpus" ] || die "$corpus not found (python3 test/corpus/generate.py > test/corpus/corpus.sql)"

q() {
    "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$SOCK" -p "$PORT" -U postgres -d postgres "$@" \
        2>"$work/psql.err" || { sed 's/^/    /' "$work/psql.err" >&2; return 1; }
}

cluster_start

q -c 'CREATE EXTENSION pg_governance' -c "SELECT governance.set_database_region('CN')" >/dev/null ||
    die "CREATE EXTENSION"
q -f "$corpus" >/dev/null 2>&1 || die "loading the corpus"

q -c "CREATE TABLE suggested AS SELECT * FROM governance.suggest_tags('corpus')" ||
    die "suggest_tags"

# one line per kind: the categories suggest_tags knows
q -c "
CREATE TABLE score AS
WITH kinds AS (SELECT category::text AS kind FROM governance._discovery_kinds()),
pred AS (SELECT ((relation::oid)::regclass)::text AS rel, \"column\"::text AS col, category::text AS kind
         FROM suggested),
truth AS (SELECT format('corpus.%I', tbl) AS rel, col, category AS kind FROM corpus.truth)
SELECT k.kind,
       (SELECT count(*) FROM truth t WHERE t.kind = k.kind) AS labelled,
       (SELECT count(*) FROM pred p WHERE p.kind = k.kind) AS suggested,
       (SELECT count(*) FROM pred p JOIN truth t USING (rel, col) WHERE p.kind = k.kind AND t.kind = k.kind) AS tp,
       (SELECT count(*) FROM pred p LEFT JOIN truth t USING (rel, col)
         WHERE p.kind = k.kind AND t.kind IS DISTINCT FROM k.kind) AS fp
FROM kinds k;
ALTER TABLE score ADD fn bigint, ADD precision numeric, ADD recall numeric;
UPDATE score SET fn = labelled - tp,
                 precision = CASE WHEN suggested = 0 THEN 1 ELSE round(tp::numeric / suggested, 3) END,
                 recall = CASE WHEN labelled = 0 THEN 1 ELSE round(tp::numeric / labelled, 3) END;
" || die "scoring"

echo "discovery corpus: $(q -At -c 'SELECT count(*) FROM corpus.truth') labelled columns," \
     "$(q -At -c "SELECT count(*) FROM corpus.truth WHERE category = 'none'") of them decoys"
q -c 'SELECT kind, labelled AS columns, suggested, tp, fp, fn, precision, recall FROM score ORDER BY kind'

while IFS='|' read -r kind p r; do
    awk -v p="$p" -v r="$r" 'BEGIN { exit !(p >= 0.95 && r >= 0.95) }' ||
        fail "$kind: precision $p, recall $r (goal >= 0.95 for both)"
done < <(q -At -c 'SELECT kind, precision, recall FROM score')
# every decoy suggested (whatever the kind) is a mistake: show them
q -At -c "SELECT format('  decoy suggested: %s.%s as %s (%s)', s.relation, s.\"column\", s.category, s.evidence)
          FROM suggested s JOIN corpus.truth t ON format('corpus.%I', t.tbl) = s.relation::text AND t.col = s.\"column\"
          WHERE t.category = 'none'"
labelled_missing=$(q -At -c "SELECT count(*) FROM corpus.truth t WHERE t.category <> 'none' AND NOT EXISTS
          (SELECT 1 FROM suggested s WHERE s.relation::text = format('corpus.%I', t.tbl) AND s.\"column\" = t.col)")
[ "$labelled_missing" = 0 ] || fail "$labelled_missing labelled columns got no suggestion at all"

if [ "$failures" -eq 0 ]; then
    echo "$TEST_NAME: ok"
else
    echo "$TEST_NAME: FAILED ($failures)"
    exit 1
fi
