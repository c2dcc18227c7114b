#!/usr/bin/env bash
# The PostgreSQL ceiling for REST POST (docs/performance.md, "POST's
# ceiling"): pgbench, a C client that costs next to nothing, runs what a
# create must write at the SQL level, against the single insert of the raw
# baseline, on a database that `make bench` kept (-keep):
#
#   single.sql  the baseline's one INSERT … RETURNING id
#   tx.sql      BEGIN, the lead, its audit event, its job, COMMIT: five
#               round trips, as ent and River send them
#   tx4.sql     the same, with BEGIN sent together with the lead's insert:
#               four round trips (what a driver that defers BEGIN would send)
#   tx2.sql     BEGIN and the lead, then the audit event, the job and COMMIT:
#               two round trips (what a create could send if the lead's ID
#               were known before its insert and the later writes waited
#               for the commit)
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
ratio() { awk "BEGIN {printf \"%.2f\", $1/$2}"; }
for round in 1 2; do
  s=$(tps single); t=$(tps tx); t4=$(tps tx4); t2=$(tps tx2); p=$(tps txpipe)
  echo "round $round: single $s tps | 5 round trips $t ($(ratio "$t" "$s")) | 4: $t4 ($(ratio "$t4" "$s")) | 2: $t2 ($(ratio "$t2" "$s")) | 1 (pipelined): $p ($(ratio "$p" "$s"))"
done
