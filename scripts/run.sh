#!/usr/bin/env bash
# Builds mediad and mediaq (release) and starts mediad on the embedded default: no DATABASE_URL
# needed, the library in LIBRARY_ROOT (default /media/videos when writable, else
# ./cache/library) with its own PostgreSQL cluster in <LIBRARY_ROOT>/.db. Ctrl-C stops it.
# Extra arguments go to mediad (see `mediad --help`).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
swift build -c release
exec .build/release/mediad "$@"
