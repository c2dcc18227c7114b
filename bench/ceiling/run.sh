#!/usr/bin/env bash
# The PostgreSQL ceiling for REST POST (docs/performance.md, "POST's
# ceiling"): pgbench, a C client that costs next to nothing, runs what a
# create must write at the SQL level, against the single insert of the raw
# baseline, on a database that `make bench` kept (-keep):
#
#   single.sql  the baseline's one INSERT … RETURNING id
#   tx.sql      BEGIN, the lead, its audit event, its job, COMMIT: five
#               round trips, as ent and River send them
#   txpipe.sql  the same five statements in one round trip (a pipeline)
#
# Usage: bench/ceiling/run.sh DATABASE [SECONDS] [CLIENTS]
set -euo pipefail
db=${1:?usage: $0 DATABASE [SECONDS] [CLIENTS] (a database kept by: go run ./bench/cmd/bench -db postgres -only rest-post -keep)}
secs=${2:-8}
clients=${3:-64}
: "${PGHOST:=127.0.0.1}" "${PGUSER:=postgres}"
export PGHOST PGUSER
command -v pgbench >/dev/null || { echo "pgbench is missing: apt-get install postgresql-client" >&2; exit 1; }
dir=$(dirname "$0")
tenant=$(psql -d "$db" -Atc "SELECT id FROM tenants ORDER BY id LIMIT 1")
[ -n "$tenant" ] || { echo "$db has no tenant: run the bench with -keep first" >&2; exit 1; }
tps() { pgbench -n -M prepared -c "$clients" -j 2 -T "$secs" -D tenant="$tenant" -f "$dir/$1.sql" "$db" | awk '/^tps/ {printf "%.0f", $3}'; }
for round in 1 2; do
  s=$(tps single); t=$(tps tx); p=$(tps txpipe)
  echo "round $round: single $s tps | tx $t tps ($(awk "BEGIN {printf \"%.2f\", $t/$s}")) | pipelined $p tps ($(awk "BEGIN {printf \"%.2f\", $p/$s}"))"
done
