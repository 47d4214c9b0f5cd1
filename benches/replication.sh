#!/usr/bin/env bash
# Full-sync time: a master holding KEYS keys (DEBUG POPULATE) and a fresh, empty replica;
# from REPLICAOF until the replica reports master_link_status:up with the master's
# offset. Rill->Rill beside redis-server->redis-server in the same run, alternating,
# ROUNDS rounds, median and ratio:
#   bash benches/replication.sh                     # 1,000,000 keys, 3 rounds, diskless
#   KEYS=200000 ROUNDS=5 DISKLESS=no bash benches/replication.sh
set -euo pipefail
cd "$(dirname "$0")/.."
KEYS=${KEYS:-1000000}
ROUNDS=${ROUNDS:-3}
DISKLESS=${DISKLESS:-yes}
cargo build --release --quiet --bin rill-server
tmp=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$tmp"; }
trap cleanup EXIT
base=$((20000 + RANDOM % 20000))
common=(--bind 127.0.0.1 --save '' --appendonly no --repl-diskless-sync "$DISKLESS" --repl-diskless-sync-delay 0)

start() { # kind port dir
  mkdir -p "$3"
  if [ "$1" = rill ]; then
    target/release/rill-server --port "$2" --kafka-port -1 --loglevel warning --dir "$3" \
      --enable-debug-command yes "${common[@]}" >/dev/null 2>&1 &
  else
    redis-server --port "$2" --dir "$3" --enable-debug-command yes "${common[@]}" >/dev/null 2>&1 &
  fi
  pids+=($!)
  for _ in $(seq 100); do redis-cli -p "$2" ping >/dev/null 2>&1 && return; sleep 0.05; done
  echo "$1 on $2 did not start" >&2; exit 1
}
field() { redis-cli -p "$1" info replication | tr -d '\r' | sed -n "s/^$2://p"; }

# Masters, populated once.
start rill $base "$tmp/rill-m"
start redis $((base + 1)) "$tmp/redis-m"
redis-cli -p $base debug populate "$KEYS" >/dev/null
redis-cli -p $((base + 1)) debug populate "$KEYS" >/dev/null

sync_once() { # kind master_port replica_port
  start "$1" "$3" "$tmp/$1-r$3"
  local t0 t1
  t0=$(date +%s.%N)
  redis-cli -p "$3" replicaof 127.0.0.1 "$2" >/dev/null
  while true; do
    if [ "$(field "$3" master_link_status)" = up ] && [ "$(field "$3" slave_repl_offset)" = "$(field "$2" master_repl_offset)" ]; then
      break
    fi
    sleep 0.01
  done
  t1=$(date +%s.%N)
  [ "$(redis-cli -p "$3" dbsize)" = "$KEYS" ] || { echo "replica dbsize mismatch" >&2; exit 1; }
  redis-cli -p "$3" shutdown nosave >/dev/null 2>&1 || true
  echo "$t1 - $t0" | bc
}

rill_t=(); redis_t=()
port=$((base + 2))
for r in $(seq "$ROUNDS"); do
  a=$(sync_once rill $base $port); port=$((port + 1))
  b=$(sync_once redis $((base + 1)) $port); port=$((port + 1))
  echo "round $r: rill ${a}s  redis ${b}s"
  rill_t+=("$a"); redis_t+=("$b")
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
rm_=$(median "${rill_t[@]}"); rd_=$(median "${redis_t[@]}")
echo "full sync of $KEYS keys (diskless=$DISKLESS): rill median ${rm_}s, redis median ${rd_}s, rill/redis $(echo "scale=2; $rm_ / $rd_" | bc)"
