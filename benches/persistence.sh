#!/usr/bin/env bash
# Persistence beside redis-server 7.0 in the same run, alternating (Rill, Redis, ...):
#   - SET throughput with appendonly yes, appendfsync everysec and always (redis-benchmark)
#   - BGSAVE of KEYS keys (DEBUG POPULATE): duration, and the p99 and max latency of a
#     client sending GETs back to back on one connection while it runs
#     (benches/bgsave_probe.py), and the fork time (INFO stats latest_fork_usec)
#   - start-up: time from exec until PING answers (not -LOADING) with that RDB
#
#   bash benches/persistence.sh
#   N=50000 KEYS=200000 ROUNDS=1 bash benches/persistence.sh
#
# Environment: N (SET requests, default 100000), CLIENTS (default 50), KEYS (default
# 1000000), ROUNDS (default 2), RILL_BIN (prebuilt binary).
set -euo pipefail
cd "$(dirname "$0")/.."

N=${N:-100000}
CLIENTS=${CLIENTS:-50}
KEYS=${KEYS:-1000000}
ROUNDS=${ROUNDS:-2}

for tool in redis-server redis-cli redis-benchmark; do
  command -v "$tool" >/dev/null || { echo "$tool not found: apt-get install redis-server redis-tools" >&2; exit 1; }
done
if [ -z "${RILL_BIN:-}" ]; then
  cargo build --release --quiet --bin rill-server
  RILL_BIN="${CARGO_TARGET_DIR:-target}/release/rill-server"
fi

work=$(mktemp -d)
pid=""
cleanup() { [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

port=$((20000 + RANDOM % 40000))
now_ms() { date +%s%3N; }

start() { # server dir args...
  local which=$1 dir=$2; shift 2
  mkdir -p "$dir"
  if [ "$which" = rill ]; then
    "$RILL_BIN" --port "$port" --bind 127.0.0.1 --kafka-port 0 --dir "$dir" --loglevel warning --enable-debug-command yes "$@" >"$work/server.log" 2>&1 &
  else
    redis-server --port "$port" --bind 127.0.0.1 --dir "$dir" --loglevel warning --enable-debug-command yes "$@" >"$work/server.log" 2>&1 &
  fi
  pid=$!
  for _ in $(seq 1 20000); do
    [ "$(redis-cli -p "$port" ping 2>/dev/null)" = PONG ] && return
    sleep 0.005
  done
  echo "$which did not start on port $port:" >&2; tail -5 "$work/server.log" >&2; exit 1
}
stop() { kill -9 "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; pid=""; }

rps() { # prints requests/s of a SET run
  redis-benchmark -p "$port" -t set -n "$N" -c "$CLIENTS" -r 1000000 --csv -q 2>/dev/null \
    | awk -F'","' '/"SET"/ {print $2}' | tr -d '"'
}

declare -A sum
add() { sum[$1]=$(echo "${sum[$1]:-0} + $2" | bc -l); }

for round in $(seq 1 "$ROUNDS"); do
  for s in rill redis; do
    d="$work/$s-$round"
    for policy in everysec always; do
      start "$s" "$d-$policy" --save '' --appendonly yes --appendfsync "$policy"
      v=$(rps)
      echo "$s round $round: SET appendfsync $policy $v rps" >&2
      add "$s-set-$policy" "$v"
      stop
    done
    start "$s" "$d-rdb" --save '' --appendonly no
    redis-cli -p "$port" debug populate "$KEYS" key 10 >/dev/null
    line=$(python3 benches/bgsave_probe.py "$port" "$KEYS")
    echo "$s round $round: $line" >&2
    field() { sed -n "s/.*\b$1=\([0-9.]*\).*/\1/p" <<<"$line"; }
    add "$s-bgsave-ms" "$(field bgsave_ms)"
    add "$s-bgsave-p99" "$(field p99_ms)"
    add "$s-bgsave-max" "$(field max_ms)"
    add "$s-fork-us" "$(field fork_us)"
    stop
    t0=$(now_ms)
    start "$s" "$d-rdb" --save '' --appendonly no
    t1=$(now_ms)
    add "$s-load-ms" "$((t1 - t0))"
    [ "$(redis-cli -p "$port" dbsize)" = "$KEYS" ] || echo "warning: $s loaded $(redis-cli -p "$port" dbsize) keys" >&2
    stop
    rm -rf "$d"-*
  done
done

avg() { echo "scale=3; ${sum[$1]} / $ROUNDS" | bc -l; }
printf '| measure | Rill | Redis 7.0.15 | ratio (higher = Rill better) |\n|---|---:|---:|---:|\n'
for m in set-everysec set-always; do
  r=$(avg "rill-$m"); x=$(avg "redis-$m")
  printf '| SET rps, appendfsync %s | %s | %s | %.2f |\n' "${m#set-}" "$r" "$x" "$(echo "$r / $x" | bc -l)"
done
for m in bgsave-ms bgsave-p99 bgsave-max fork-us load-ms; do
  r=$(avg "rill-$m"); x=$(avg "redis-$m")
  printf '| %s | %s | %s | %.2f |\n' "$m" "$r" "$x" "$(echo "$x / $r" | bc -l)"
done
