#!/usr/bin/env bash
# Starts the machine's PostgreSQL cluster and provides a password-authenticated test role.
#   postgres.sh start                 start the cluster, create the role provisio_test (CREATEDB,
#                                     pg_checkpoint)
#   postgres.sh url                   print the base URL tests append a database name to
#   postgres.sh drop-test-databases   drop the per-test databases left behind
set -euo pipefail
ROLE=provisio_test
PASSWORD=provisio_test
as_postgres() { runuser -u postgres -- "$@"; }
cluster() { pg_lsclusters --no-header | awk 'NR==1 {print $1, $2}'; }

case "${1:-}" in
  start)
    read -r version name < <(cluster)
    if ! pg_lsclusters --no-header | awk 'NR==1 {print $4}' | grep -q online; then
      pg_ctlcluster "$version" "$name" start
    fi
    for _ in $(seq 1 50); do as_postgres psql -qtAc 'select 1' >/dev/null 2>&1 && break; sleep 0.2; done
    as_postgres psql -qtAc "SELECT 1 FROM pg_roles WHERE rolname='$ROLE'" | grep -q 1 \
      || as_postgres psql -qc "CREATE ROLE $ROLE LOGIN CREATEDB PASSWORD '$PASSWORD'"
    # The benchmark checkpoints between its measurements (PostgreSQL 15 and later).
    as_postgres psql -qc "GRANT pg_checkpoint TO $ROLE" >/dev/null 2>&1 || true
    ;;
  url)
    port=$(pg_lsclusters --no-header | awk 'NR==1 {print $3}')
    echo "postgres://$ROLE:$PASSWORD@127.0.0.1:$port"
    ;;
  drop-test-databases)
    for db in $(as_postgres psql -qtAc "SELECT datname FROM pg_database WHERE datname LIKE 'provisio_test_%'"); do
      as_postgres psql -qc "DROP DATABASE IF EXISTS $db" >/dev/null
    done
    ;;
  *) echo "usage: $0 start|url|drop-test-databases" >&2; exit 2 ;;
esac
