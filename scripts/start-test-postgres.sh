#!/usr/bin/env bash
# Starts the machine's own PostgreSQL cluster (as CI has it: installed, not running), makes a
# role the tests can use over TCP with a password, and prints the TEST_DATABASE_URL for it.
# Safe to run again.
set -euo pipefail

role=media_test
password=media_test

version=$(ls /usr/lib/postgresql | sort -n | tail -1)
if ! pg_lsclusters -h | awk -v v="$version" '$1 == v && $2 == "main"' | grep -q .; then
  pg_createcluster "$version" main >&2
fi
status=$(pg_lsclusters -h | awk -v v="$version" '$1 == v && $2 == "main" {print $4}')
if [[ "$status" != online* ]]; then
  pg_ctlcluster --skip-systemctl-redirect "$version" main start >&2
fi
port=$(pg_lsclusters -h | awk -v v="$version" '$1 == v && $2 == "main" {print $3}')

runuser -u postgres -- psql -p "$port" -v ON_ERROR_STOP=1 -qAt >&2 <<SQL
DO \$\$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$role') THEN
    CREATE ROLE $role LOGIN CREATEDB PASSWORD '$password';
  ELSE
    ALTER ROLE $role LOGIN CREATEDB PASSWORD '$password';
  END IF;
  -- DROP DATABASE … WITH (FORCE) signals the sessions still in the database.
  GRANT pg_signal_backend TO $role;
END
\$\$;
SQL

echo "postgres://$role:$password@127.0.0.1:$port/postgres?sslmode=disable"
