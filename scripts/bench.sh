#!/usr/bin/env bash
# Every benchmark of the project, in one command (`make bench` runs this):
#   1. installs the Debian packages the build and the benchmarks need (scripts/install-deps.sh);
#   2. builds in release mode (mediad, mediaq, media-bench), once;
#   3. media-bench ingest: the ingest function beside sha256sum + cp + vipsthumbnail / ffmpeg;
#   4. media-bench daemon: mediad's burst, close-to-row latency and memory beside the ingest function;
#   5. media-bench scale: a synthetic library of 10k, 100k and 1M assets: search in the database,
#      whole mediaq processes beside psql, mediaq plan, mediad start to READY=1;
#   6. media-bench related: a library tagged in stock providers' words, searched in other words with
#      WordNet's relations loaded: local hit rate with and without the fallback through related
#      tags, precision of its picks against StockVocabulary's acceptable lists, fallback p95 beside
#      exact p95 at 100k;
#   7. serve: mediaq serve on a synthetic library (scripts/serve-bench.sh): the grid's server time,
#      thumbnails per second with wrk; its own table (not yet in bench/results.json);
#   8. media-bench optimize: the original optimiser on a corpus it makes (camera-like baseline JPEGs,
#      PNG screenshots at zlib level 1, MP4s with a trailing index): bytes saved and seconds per GB
#      beside jpegtran -copy all -optimize -progressive, optipng -o2, ffmpeg -c copy -movflags +faststart;
#   9. media-bench report: one table, and bench/results.json (name, value, unit, baseline, goal).
# Each step writes its own bench/*-results.json; the report gathers those that exist.
#
# Knobs (environment): BENCH_ONLY="ingest daemon scale related serve optimize" picks steps; BENCH_SERVE_SIZE (default 100000); BENCH_SIZES (default
# 10000,100000,1000000), BENCH_IMAGES, BENCH_VIDEOS, BENCH_BIG_VIDEO_MB (default 1000),
# BENCH_BURST (default 10000), BENCH_LATENCY (default 100), BENCH_KEEP=1 (keep the scale library), BENCH_ROOT=DIR (grow the
# scale library there, or reuse the one there, and keep it), BENCH_SLOWEST=N (slowest searches shown),
# BENCH_RELATED_SIZES (default 2000,100000; BENCH_RELATED_QUICK=1: 2000,10000 and 100 searches),
# BENCH_RELATED_SEARCHES (default 300), BENCH_RELATED_RELATIONS (default wordnet; wordnet,library
# also runs `mediaq tags learn`), BENCH_RELATED_ROOT=DIR (grow or reuse that library and keep it),
# BENCH_EXPLAIN=1 (EXPLAIN ANALYZE of the slowest fallback search), BENCH_OPTIMIZE_PHOTOS,
# BENCH_OPTIMIZE_SCREENS, BENCH_OPTIMIZE_VIDEOS (defaults 12, 12, 4).
# Benchmarks never run in `swift test`.
set -euo pipefail
cd "$(dirname "$0")/.."

only=${BENCH_ONLY:-ingest daemon scale related serve optimize}
scripts/install-deps.sh
swift build -c release
bin=$(swift build -c release --show-bin-path)
mkdir -p bench

for step in $only; do
  case $step in
    ingest) "$bin/media-bench" ingest --images "${BENCH_IMAGES:-40}" --videos "${BENCH_VIDEOS:-10}" \
              --big-video-mb "${BENCH_BIG_VIDEO_MB:-1000}" --out bench/ingest-results.json ;;
    daemon) "$bin/media-bench" daemon --burst "${BENCH_BURST:-10000}" --latency "${BENCH_LATENCY:-100}" \
              --out bench/daemon-results.json ;;
    scale)  "$bin/media-bench" scale --sizes "${BENCH_SIZES:-10000,100000,1000000}" --out bench/scale-results.json ;;
    related)
      if [ "${BENCH_RELATED_QUICK:-0}" = 1 ]; then sizing=(--quick); else
        sizing=(--sizes "${BENCH_RELATED_SIZES:-2000,100000}" --searches "${BENCH_RELATED_SEARCHES:-300}"); fi
      "$bin/media-bench" related "${sizing[@]}" --relations "${BENCH_RELATED_RELATIONS:-wordnet}" \
        --out bench/related-results.json ;;
    serve)  MEDIAQ="$bin/mediaq" scripts/serve-bench.sh "${BENCH_SERVE_SIZE:-100000}" | tee bench/serve-results.md ;;
    optimize) "$bin/media-bench" optimize --photos "${BENCH_OPTIMIZE_PHOTOS:-12}" --screens "${BENCH_OPTIMIZE_SCREENS:-12}" \
                --videos "${BENCH_OPTIMIZE_VIDEOS:-4}" --out bench/optimize-results.json ;;
    *) echo "bench: unknown step $step (ingest, daemon, scale, related, serve, optimize)" >&2; exit 2 ;;
  esac
done
"$bin/media-bench" report --out bench/results.json \
  bench/ingest-results.json bench/daemon-results.json bench/scale-results.json bench/related-results.json \
  bench/optimize-results.json
