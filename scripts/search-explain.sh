#!/usr/bin/env bash
# Builds a library of N synthetic assets (default 100000) in a scratch database and prints
# PostgreSQL's EXPLAIN (ANALYZE, BUFFERS) of the exact query `mediaq search` runs, for a common
# tag, a two-tag query and a rare tag, then times whole `mediaq search --json` calls.
#
#   scripts/search-explain.sh [N]
#
# SERVER_URL (or TEST_DATABASE_URL) names a PostgreSQL server where a database may be created;
# without either, scripts/start-test-postgres.sh starts the machine's own. MEDIAQ names the
# binary (default .build/debug/mediaq; build it first). KEEP=1 keeps the database and root.
# The assets are rows only (no files): search reads only rows. Tags follow a skewed
# (log-uniform) popularity over 2000 tags, 3 to 8 per asset, so "nature" is on about a third
# of the library and "topic 1900" on a few dozen assets.
set -euo pipefail
cd "$(dirname "$0")/.."

tool=search-explain
source scripts/lib/scratch-library.sh "$@"

echo "search-explain: generating $count assets" >&2
started=$(date +%s.%N)
psql -X -q -v ON_ERROR_STOP=1 -v count="$count" "$url" -f scripts/lib/synthetic-library.sql
finished=$(date +%s.%N)
echo "search-explain: generated in $(awk -v a="$started" -v b="$finished" 'BEGIN { printf "%.1f", b - a }') s" >&2

psql -X -q -At "$url" <<'SQL'
SELECT 'assets: ' || count(*) || ' (' || count(*) FILTER (WHERE kind = 'video') || ' videos), asset_tag rows: '
       || (SELECT count(*) FROM asset_tag) FROM asset;
SELECT 'assets tagged ' || t.name || ': ' || count(*) FROM tag t JOIN asset_tag x ON x.tag_id = t.id
WHERE t.name IN ('nature', 'beach', 'sunset', 'harbour', 'topic 1900') GROUP BY t.name ORDER BY count(*) DESC;
SQL

library=(--library-root "$root" --database-url "$url")
queries=(
  "videos --tags nature --aspect 9:16 --limit 20"
  "videos --tags beach,sunset --min-width 1080 --min-duration 5 --aspect 9:16 --limit 5"
  "images --tags topic-1900,harbour --limit 10"
)
for query in "${queries[@]}"; do
  echo
  echo "=== mediaq search $query"
  # shellcheck disable=SC2086
  "$mediaq" search $query --explain "${library[@]}"
done

echo
echo "=== wall clock of whole mediaq search --json processes (open library + search + print), 5 runs each"
for query in "${queries[@]}"; do
  times=()
  for _ in 1 2 3 4 5; do
    begin=$(date +%s%N)
    # shellcheck disable=SC2086
    "$mediaq" search $query --json "${library[@]}" >/dev/null
    end=$(date +%s%N)
    times+=("$(( (end - begin) / 1000000 ))")
  done
  echo "mediaq search $query: ${times[*]} ms"
done
