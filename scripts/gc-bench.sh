#!/usr/bin/env bash
# GC planning and doctor (without --verify) on a synthetic library of N assets (default 100000):
# rows made with SQL as in scripts/search-explain.sh, plus a 1-byte file (mode 0444) for every
# original and thumbnail, so doctor walks, stats and matches a real tree. Prints the times of
# whole commands (best of 3) and EXPLAIN ANALYZE of the first page of GC's candidates.
#
#   scripts/gc-bench.sh [N]
#
# SERVER_URL (or TEST_DATABASE_URL) names a PostgreSQL server where a database may be created;
# without either, scripts/start-test-postgres.sh starts the machine's own. MEDIAQ names the
# binary (default .build/debug/mediaq; a release build is faster). KEEP=1 keeps database and root.
set -euo pipefail
cd "$(dirname "$0")/.."

tool=gc-bench
source scripts/lib/scratch-library.sh "$@"

echo "gc-bench: generating $count assets" >&2
psql -X -q -v ON_ERROR_STOP=1 -v count="$count" "$url" <<'SQL'
SELECT setseed(0.42);
INSERT INTO asset (kind, sha256, ext, mime_type, bytes, width, height, path, duration_ms, fps, created_at, last_used_at)
SELECT s.kind, s.sha, s.ext, s.mime, 1000000 + (random() * 50000000)::bigint, 1920, 1080,
       CASE s.kind WHEN 'video' THEN 'videos' ELSE 'images' END || '/original/' || left(s.sha, 2) || '/' || s.sha || '.' || s.ext,
       CASE s.kind WHEN 'video' THEN (2000 + random() * 58000)::bigint END, CASE s.kind WHEN 'video' THEN 25 END,
       s.created, CASE WHEN random() < 0.5 THEN s.created + random() * (now() - s.created) END
FROM (
    SELECT i, kind, encode(sha256(('asset ' || i)::bytea), 'hex') AS sha,
           CASE kind WHEN 'video' THEN 'mp4' ELSE 'jpg' END AS ext,
           CASE kind WHEN 'video' THEN 'video/mp4' ELSE 'image/jpeg' END AS mime,
           now() - random() * interval '730 days' AS created
    FROM (SELECT i, CASE WHEN random() < 0.4 THEN 'video' ELSE 'image' END::asset_kind AS kind
          FROM generate_series(1, :count) AS i) AS g
) AS s;
INSERT INTO provenance (asset_id, provider, provider_asset_id, source_url)
SELECT id, (ARRAY['pexels', 'pixabay', 'unsplash'])[1 + (id % 3)::int], id::text, 'https://stock.example/' || id FROM asset;
INSERT INTO thumbnail (asset_id, status, path, width, height, bytes)
SELECT id, 'ok', CASE kind WHEN 'video' THEN 'videos' ELSE 'images' END || '/thumbs/' || sha256 || '.jpg', 400, 225, 30000
FROM asset;
-- 2 % pinned by live runs, 2 % by expired ones.
INSERT INTO pin (run_id, asset_id, created_at, expires_at)
SELECT 'run-' || (id % 50), id, now() - interval '2 days',
       CASE WHEN id % 100 < 2 THEN now() + interval '1 day' ELSE now() - interval '1 day' END
FROM asset WHERE id % 100 < 4;
ANALYZE;
SQL

echo "gc-bench: writing $((count * 2)) files" >&2
psql -X -q -At "$url" -c "SELECT a.path, t.path FROM asset a JOIN thumbnail t ON t.asset_id = a.id" |
python3 -c '
import os, sys
root = sys.argv[1]
made = set()
for line in sys.stdin:
    for rel in line.rstrip("\n").split("|"):
        path = os.path.join(root, rel)
        folder = os.path.dirname(path)
        if folder not in made:
            os.makedirs(folder, exist_ok=True)
            made.add(folder)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o444)
        os.write(fd, b"x")
        os.close(fd)
' "$root"

used=$(psql -X -q -At "$url" -c "SELECT sum(original_bytes + thumbnail_bytes) FROM storage_usage")
target=$((used / 2))
args=(--library-root "$root" --database-url "$url" --budget "$used")

best() {  # best of 3 wall-clock seconds of "$@"
  local best=""
  for _ in 1 2 3; do
    local start end took
    start=$(date +%s.%N); "$@" >/dev/null || true; end=$(date +%s.%N)
    took=$(echo "$end - $start" | bc)
    if [[ -z "$best" ]] || (( $(echo "$took < $best" | bc) )); then best=$took; fi
  done
  echo "$best"
}

echo "== EXPLAIN ANALYZE of the first page of GC's candidates (GarbageCollector.lruPage, least recently used first)"
psql -X -q "$url" <<'SQL' | grep -E "Execution Time|Planning Time|asset_lru"
EXPLAIN ANALYZE
SELECT coalesce(array_agg(s.id ORDER BY s.n), '{}'), coalesce(array_agg(s.kind ORDER BY s.n), '{}'),
       coalesce(array_agg(s.provider ORDER BY s.n), '{}'), coalesce(array_agg(s.bytes ORDER BY s.n), '{}'),
       coalesce(array_agg(s.thumb ORDER BY s.n), '{}'), coalesce(array_agg(s.used ORDER BY s.n), '{}'),
       coalesce(array_agg(s.pinned ORDER BY s.n), '{}')
FROM (
    SELECT row_number() OVER () AS n, a.id, a.kind::text AS kind,
           coalesce((SELECT p.provider FROM provenance p WHERE p.asset_id = a.id ORDER BY p.id LIMIT 1), 'local') AS provider,
           a.bytes, coalesce((SELECT t.bytes FROM thumbnail t WHERE t.asset_id = a.id), 0)::int8 AS thumb,
           (extract(epoch FROM coalesce(a.last_used_at, a.created_at)) * 1000000)::int8 AS used,
           coalesce((SELECT (extract(epoch FROM max(pn.expires_at)) * 1000000)::int8 FROM pin pn WHERE pn.asset_id = a.id), 0) AS pinned
    FROM (SELECT * FROM asset a WHERE a.state = 'present'
          ORDER BY coalesce(a.last_used_at, a.created_at), a.id LIMIT 5000) a
) s;
SQL
echo "== whole commands, best of 3 (s), $count assets"
echo "mediaq version (process start):            $(best "$mediaq" version)"
echo "mediaq gc --dry-run (to half the size):     $(best "$mediaq" gc --dry-run --json --target "$target" "${args[@]}")"
echo "mediaq doctor (no --verify):                $(best "$mediaq" doctor --json "${args[@]}")"
"$mediaq" gc --dry-run --target "$target" "${args[@]}" | head -1
