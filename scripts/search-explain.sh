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
psql -X -q -v ON_ERROR_STOP=1 -v count="$count" "$url" <<'SQL'
SELECT setseed(0.42);
-- 2000 tags: named ones first (low ids are the popular ones), then "topic N".
INSERT INTO tag (name)
SELECT unnest(ARRAY['nature','people','city','beach','sunset','ocean','mountain','forest','night','snow',
                    'car','street','food','coffee','office','family','dog','cat','sky','water',
                    'business','technology','sport','music','travel','winter','summer','autumn','spring','rain',
                    'flower','tree','road','bridge','river','lake','desert','island','harbour','boats']);
INSERT INTO tag (name) SELECT 'topic ' || i FROM generate_series(41, 2000) AS i;

-- Sizes and shapes as stock sites have them; 40 % videos of 2 to 60 s.
INSERT INTO asset (kind, sha256, ext, mime_type, bytes, width, height, path, duration_ms, fps,
                   created_at, last_used_at, use_count)
SELECT s.kind, s.sha, s.ext, s.mime, 1000000 + (random() * 50000000)::bigint, s.w, s.h,
       CASE s.kind WHEN 'video' THEN 'videos' ELSE 'images' END || '/original/' || left(s.sha, 2) || '/' || s.sha || '.' || s.ext,
       CASE s.kind WHEN 'video' THEN (2000 + random() * 58000)::bigint END,
       CASE s.kind WHEN 'video' THEN 25 END,
       s.created, CASE WHEN random() < 0.5 THEN s.created + random() * (now() - s.created) END,
       0
FROM (
    SELECT i, kind, encode(sha256(('asset ' || i)::bytea), 'hex') AS sha,
           CASE kind WHEN 'video' THEN 'mp4' ELSE 'jpg' END AS ext,
           CASE kind WHEN 'video' THEN 'video/mp4' ELSE 'image/jpeg' END AS mime,
           (ARRAY[1920, 1080, 3840, 2160, 1280, 720, 1080, 4000, 6000])[shape] AS w,
           (ARRAY[1080, 1920, 2160, 3840, 720, 1280, 1080, 3000, 4000])[shape] AS h,
           now() - random() * interval '730 days' AS created
    FROM (SELECT i, CASE WHEN random() < 0.4 THEN 'video' ELSE 'image' END::asset_kind AS kind,
                 1 + floor(random() * 9)::int AS shape
          FROM generate_series(1, :count) AS i) AS g
) AS s;

INSERT INTO asset_tag (asset_id, tag_id)
SELECT DISTINCT a.id, t.tag_id
FROM asset a
CROSS JOIN LATERAL (
    SELECT least(2000, floor(exp(random() * ln(2000.0)))::int) AS tag_id
    FROM generate_series(1, 3 + (a.id % 6)::int)
) AS t
ON CONFLICT DO NOTHING;

INSERT INTO provenance (asset_id, provider, provider_asset_id, source_url)
SELECT id, (ARRAY['pexels', 'pixabay', 'unsplash'])[1 + (id % 3)::int], id::text,
       'https://stock.example/' || id
FROM asset;

INSERT INTO thumbnail (asset_id, status, path, width, height, bytes)
SELECT id, 'ok', CASE kind WHEN 'video' THEN 'videos' ELSE 'images' END || '/thumbs/' || sha256 || '.jpg',
       400, greatest(1, 400 * height / width), 30000
FROM asset;

VACUUM (ANALYZE) asset, asset_tag, tag, provenance, thumbnail;
SQL
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
