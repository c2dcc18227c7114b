#!/usr/bin/env bash
# Instructions per REST GET /v1/leads/{id} on SQLite, for Leadron and for the
# raw baseline (docs/performance.md, "Instructions per GET"). callgrind counts
# instructions, not seconds, so the rounds agree to within a few per cent
# whatever else the machine is doing: a way to judge a change worth a few
# per cent where wrk's req/s on a shared 2-core machine cannot.
#
# Each program runs under callgrind twice, serving N1 and then N2 GETs over
# one keep-alive connection (curl); counting starts once it is ready. The
# difference over N2 - N1 requests cancels start-up and the first requests'
# warm-up (caches, the API key's verification). Background work that runs
# by the clock (River's polling, the key cache's sweeps) is measured while
# each program idles and set aside in proportion to the GETs' wall time.
#
# Each count is the median of three rounds: now and then one round counts
# far more (see docs/performance.md), which the median sets aside.
#
# Usage: bench/instructions/run.sh [N1] [N2]      (default 300 1300, ~4 min)
set -euo pipefail
n1=${1:-300}
n2=${2:-1300}
for tool in valgrind callgrind_control curl sqlite3; do
  command -v "$tool" >/dev/null || { echo "$tool is missing: apt-get install valgrind curl sqlite3" >&2; exit 1; }
done
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$root"
go build -o "$work/leadron" ./cmd/leadron
go build -o "$work/baseline" ./bench/baseline

export LEADRON_DATABASE_URL="sqlite://$work/bench.db"
# callgrind cannot follow the Go runtime's preemption signals.
export GODEBUG=asyncpreemptoff=1
"$work/leadron" tenant create --slug bench --name Bench --plan enterprise \
  --owner-email owner@bench.test --owner-password bench-password-1 --json >/dev/null 2>&1
"$work/leadron" seed --tenant bench --leads 2000 --json >/dev/null 2>&1
key=$("$work/leadron" apikey create --tenant bench --user owner@bench.test --env live \
  --scopes full_access --name bench --json 2>/dev/null | sed -n 's/.*"key": *"\([^"]*\)".*/\1/p')
tenant=$(sqlite3 "$work/bench.db" "SELECT id FROM tenants WHERE slug = 'bench'")
sqlite3 "$work/bench.db" "SELECT id FROM leads ORDER BY id LIMIT 100" >"$work/ids"

# count NAME N URL_PREFIX ID_MAP READY ARGS…: prints the instructions of N
# GETs, less the background work of the time they took. The program first
# idles for $idle seconds under count (dump 1), then serves the GETs (dump
# 2); the idle rate times the GETs' wall time is what the clock-driven work
# (River's polling and batching above all) did meanwhile. Under callgrind a
# GET takes tens of times longer than natively, so without this the clock's
# work would count tens of times over per request.
idle=10
count() {
  local name=$1 n=$2 prefix=$3 ids=$4 ready=$5
  shift 5
  local cfg="$work/$name.$n.curl" out="$work/$name.$n.out"
  rm -f "$out"*
  awk -v n="$n" -v prefix="$prefix" '{id[NR] = $1} END {for (i = 0; i < n; i++) printf "url = \"%s%s\"\noutput = /dev/null\n", prefix, id[i % NR + 1]}' "$ids" >"$cfg"
  valgrind --tool=callgrind --callgrind-out-file="$out" "$@" >"$work/$name.$n.log" 2>&1 &
  local pid=$!
  for _ in $(seq 1 240); do curl -sf "$ready" >/dev/null && break; sleep 0.5; done
  callgrind_control -z "$pid" >/dev/null 2>&1
  sleep "$idle"
  callgrind_control -d "$pid" >/dev/null 2>&1
  local codes start end
  start=$(date +%s.%N)
  codes=$(curl -s -H "X-API-Key: $key" -K "$cfg" -w '%{http_code}\n' | sort -u | tr '\n' ' ')
  end=$(date +%s.%N)
  callgrind_control -d "$pid" >/dev/null 2>&1
  sleep 1
  kill -KILL "$pid"
  wait "$pid" 2>/dev/null || true
  [ "$codes" = "200 " ] || { echo "$name answered $codes (want only 200)" >&2; exit 1; }
  local idled served
  idled=$(awk '/^summary/ {print $2}' "$out.1")
  served=$(awk '/^summary/ {print $2}' "$out.2")
  awk -v i="$idled" -v s="$served" -v t="$idle" -v a="$start" -v b="$end" 'BEGIN {
    bg = i / t * (b - a)
    printf "%.0f %.0f\n", s - bg, bg
  }'
}

# Leadron addresses leads by their encoded IDs; the baseline by the integers.
addr=127.0.0.1:18701
export LEADRON_ADDR=$addr LEADRON_IP_RATE_LIMIT=1000000000 LEADRON_IP_RATE_BURST=1000000000
"$work/leadron" serve >/dev/null 2>&1 &
pid=$!
for _ in $(seq 1 60); do curl -sf "http://$addr/readyz" >/dev/null && break; sleep 0.5; done
curl -sf -H "X-API-Key: $key" "http://$addr/v1/leads?limit=100" | grep -o '"id":"[^"]*"' | cut -d'"' -f4 >"$work/eids"
kill "$pid"
wait "$pid" 2>/dev/null || true

per() { awk -v a="$1" -v b="$2" -v n=$((n2 - n1)) 'BEGIN {printf "%.0f", (b - a) / n}'; }
median() { sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
leadron_counts=() baseline_counts=()
for round in 1 2 3; do
  read -r l1 lb1 < <(count leadron "$n1" "http://$addr/v1/leads/" "$work/eids" "http://$addr/readyz" "$work/leadron" serve)
  read -r l2 lb2 < <(count leadron "$n2" "http://$addr/v1/leads/" "$work/eids" "http://$addr/readyz" "$work/leadron" serve)
  read -r b1 bb1 < <(count baseline "$n1" "http://$addr/leads/" "$work/ids" "http://$addr/healthz" "$work/baseline" -db "sqlite://$work/bench.db" -addr "$addr" -tenant "$tenant")
  read -r b2 bb2 < <(count baseline "$n2" "http://$addr/leads/" "$work/ids" "http://$addr/healthz" "$work/baseline" -db "sqlite://$work/bench.db" -addr "$addr" -tenant "$tenant")
  leadron_counts+=("$(per "$l1" "$l2")") baseline_counts+=("$(per "$b1" "$b2")")
  echo "round $round: Leadron ${leadron_counts[-1]}, baseline ${baseline_counts[-1]} instructions per GET" \
    "(background set aside per GET: Leadron $(per "$lb1" "$lb2"), baseline $(per "$bb1" "$bb2"))" >&2
done
l=$(printf '%s\n' "${leadron_counts[@]}" | median)
b=$(printf '%s\n' "${baseline_counts[@]}" | median)
echo "instructions per GET on SQLite (median of 3 rounds): Leadron $l, baseline $b, baseline/Leadron $(awk -v l="$l" -v b="$b" 'BEGIN {printf "%.2f", b / l}')"
