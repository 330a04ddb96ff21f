#!/usr/bin/env bash
# mediaq serve on a synthetic library of N assets (default 100000): the server's own time for
# the grid's first page and for a search page (its Server-Timing header, which the handler
# measures from the request to the rendered page), p50 and p95 of 300 requests each; then
# thumbnails served per second by wrk (2 threads, 32 connections, 10 s) and the server's
# resident memory before and after.
#
#   scripts/serve-bench.sh [N]
#
# As scripts/search-explain.sh: SERVER_URL or TEST_DATABASE_URL names a PostgreSQL server (else
# scripts/start-test-postgres.sh starts the machine's), MEDIAQ the binary (build it in release
# first: swift build -c release --product mediaq; MEDIAQ=.build/release/mediaq), KEEP=1 keeps
# the database and root. The assets are rows only; asset 1's thumbnail is a real 400×225 JPEG
# made here, which wrk asks for again and again (by id, as a browser would).
set -euo pipefail
cd "$(dirname "$0")/.."

tool=serve-bench
source scripts/lib/scratch-library.sh "$@"
command -v wrk >/dev/null || { echo "$tool: wrk not found (scripts/install-deps.sh installs it)" >&2; exit 1; }

echo "$tool: generating $count assets" >&2
psql -X -q -v ON_ERROR_STOP=1 -v count="$count" "$url" -f scripts/lib/synthetic-library.sql
thumb=$(psql -X -q -At "$url" -c "SELECT path FROM thumbnail WHERE asset_id = 1")
mkdir -p "$root/$(dirname "$thumb")"
convert -size 400x225 gradient:orange-blue -quality 85 "$root/$thumb"

port=${SERVE_BENCH_PORT:-18181}
"$mediaq" serve --listen "127.0.0.1:$port" --library-root "$root" --database-url "$url" 2>"$work/serve.log" &
server_pid=$!
trap 'kill $server_pid 2>/dev/null || true; wait $server_pid 2>/dev/null || true; cleanup' EXIT
for _ in $(seq 1 100); do
  curl -s -o /dev/null "http://127.0.0.1:$port/openapi.json" && break
  sleep 0.1
done
base="http://127.0.0.1:$port"

# p50 and p95 of the Server-Timing durations of $2 requests for $1.
timing() {
  local path=$1 n=$2
  for _ in $(seq 1 20); do curl -s -o /dev/null "$base$path"; done
  for _ in $(seq 1 "$n"); do
    curl -s -D - -o /dev/null "$base$path" | tr -d '\r' | sed -n 's/^[Ss]erver-[Tt]iming: db;dur=//p'
  done | sort -n | awk '{ v[NR] = $1 } END { printf "%.2f / %.2f ms", v[int(NR * 0.5 + 0.5)], v[int(NR * 0.95 + 0.5)] }'
}

rss() { awk '/VmRSS/ { printf "%.1f MB", $2 / 1024 }' "/proc/$server_pid/status"; }

first=$(timing "/" 300)
older=$(timing "/?before=50000" 300)
search=$(timing "/?q=nature&kind=videos" 300)
search2=$(timing "/?q=beach,sunset" 300)
before=$(rss)
wrk_out=$(wrk -t2 -c32 -d10s "$base/assets/1/thumbnail")
after=$(rss)
rate=$(printf '%s\n' "$wrk_out" | awk '/Requests\/sec/ { print $2 }')
latency=$(printf '%s\n' "$wrk_out" | awk '/Latency/ { print $2 " avg, " $4 " max" }')
errors=$(printf '%s\n' "$wrk_out" | grep -E "Non-2xx|Socket errors" || true)

cat <<EOF2
serve-bench: $count assets, $(nproc) cores, $(date -u +%F)
| figure | value | goal |
|---|---|---|
| first page (/, 60 assets), server time p50 / p95 | $first | p95 ≤ 50 ms |
| a deeper page (/?before=50000), p50 / p95 | $older | — |
| search page (videos: nature), p50 / p95 | $search | — |
| search page (both kinds: beach, sunset), p50 / p95 | $search2 | — |
| thumbnails, wrk -t2 -c32 -d10s | $rate req/s ($latency) | ≥ 5,000 req/s |
| server resident memory before / after wrk | $before / $after | flat |
EOF2
[[ -z "$errors" ]] || echo "wrk: $errors"
