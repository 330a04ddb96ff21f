# Sourced by the benchmark scripts: a scratch database and library root for one run.
# Expects $tool (the script's name, for messages and names) and $1 (asset count, optional).
# Sets count, mediaq, server, database, url, work, root; the database is created and migrated,
# and both are removed on exit unless KEEP=1.

count=${1:-100000}
mediaq=${MEDIAQ:-.build/debug/mediaq}
[[ -x "$mediaq" ]] || { echo "$tool: build mediaq first ($mediaq not found)" >&2; exit 1; }
server=${SERVER_URL:-${TEST_DATABASE_URL:-$(scripts/start-test-postgres.sh)}}
database=media_${tool//-/_}_$$
url=$(printf '%s' "$server" | sed -E "s#^(postgres(ql)?://[^/]*)/[^?]*#\1/$database#")
work=$(mktemp -d "/tmp/$tool-XXXXXX")
chmod 755 "$work"
root=$work/library

cleanup() {
  if [[ "${KEEP:-0}" != 1 ]]; then
    psql -X -q "$server" -c "DROP DATABASE IF EXISTS $database WITH (FORCE)" >/dev/null || true
    rm -rf "$work"
  else
    echo "kept: database $url, root $root" >&2
  fi
}
trap cleanup EXIT

psql -X -q -v ON_ERROR_STOP=1 "$server" -c "CREATE DATABASE $database" >/dev/null
"$mediaq" db migrate --library-root "$root" --database-url "$url" >/dev/null
