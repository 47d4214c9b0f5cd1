#!/usr/bin/env bash
# Resident memory for 1,000,000 small string keys, Rill (release build) vs redis-server.
#
# Keys are what `redis-benchmark -t set -r 1000000` writes: 16-byte "key:000000123456",
# 3-byte value "xxx"; here exactly key:000000000000 .. key:000000999999, loaded with
# `redis-cli --pipe` into both servers. Prints each server's RSS (VmRSS) empty and full, the
# per-key cost, used_memory where INFO reports it, and the Rill/Redis ratio.
#
# Usage: benches/memory_1m.sh            (builds target/release/rill-server if missing)
# Env:   KEYS=1000000  REDIS_PORT=7107  RILL_PORT=7108  RILL_BIN=path  MODE=pipe|benchmark
#        MODE=benchmark loads with `redis-benchmark -t set -r $KEYS -n 2*$KEYS` instead
#        (random keys: about 86% of KEYS distinct).
set -euo pipefail

cd "$(dirname "$0")/.."
KEYS=${KEYS:-1000000}
MODE=${MODE:-pipe}
RILL_BIN=${RILL_BIN:-target/release/rill-server}

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
free_port() {
    local p=$1
    while ! port_free "$p"; do p=$((p + 1)); done
    echo "$p"
}
REDIS_PORT=$(free_port "${REDIS_PORT:-7107}")
RILL_PORT=${RILL_PORT:-7108}
[ "$RILL_PORT" = "$REDIS_PORT" ] && RILL_PORT=$((REDIS_PORT + 1))
RILL_PORT=$(free_port "$RILL_PORT")

if [ ! -x "$RILL_BIN" ]; then
    cargo build --release --bin rill-server >&2
fi

WORK=$(mktemp -d)
REDIS_PID=""
RILL_PID=""
cleanup() {
    [ -n "$REDIS_PID" ] && kill "$REDIS_PID" 2>/dev/null || true
    [ -n "$RILL_PID" ] && kill "$RILL_PID" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
wait_ping() {
    for _ in $(seq 1 200); do
        redis-cli -p "$1" PING 2>/dev/null | grep -q PONG && return 0
        sleep 0.05
    done
    echo "server on port $1 did not start" >&2
    exit 1
}
wait_dbsize() { # port expected
    for _ in $(seq 1 600); do
        [ "$(redis-cli -p "$1" DBSIZE 2>/dev/null)" = "$2" ] && return 0
        sleep 0.1
    done
    echo "port $1: DBSIZE never reached $2 (is $(redis-cli -p "$1" DBSIZE))" >&2
    exit 1
}
info_field() { redis-cli -p "$1" INFO "$2" 2>/dev/null | tr -d '\r' | awk -F: -v f="$3" '$1 == f {print $2}'; }

# The load, generated once: RESP SET commands for redis-cli --pipe.
if [ "$MODE" = pipe ]; then
    awk -v n="$KEYS" 'BEGIN { for (i = 0; i < n; i++) printf "*3\r\n$3\r\nSET\r\n$16\r\nkey:%012d\r\n$3\r\nxxx\r\n", i }' >"$WORK/load.resp"
fi

load() { # port
    if [ "$MODE" = pipe ]; then
        redis-cli -p "$1" --pipe <"$WORK/load.resp" >/dev/null
        wait_dbsize "$1" "$KEYS"
    else
        redis-benchmark -p "$1" -t set -r "$KEYS" -n $((2 * KEYS)) -q >/dev/null
    fi
}

measure() { # name port pid
    local name=$1 port=$2 pid=$3 empty full keys used
    empty=$(rss_kb "$pid")
    load "$port"
    keys=$(redis-cli -p "$port" DBSIZE)
    full=$(rss_kb "$pid")
    used=$(info_field "$port" memory used_memory)
    printf '%-6s keys=%s rss_empty=%sKB rss_full=%sKB (%.1f MB) per_key=%.1fB used_memory=%s\n' \
        "$name" "$keys" "$empty" "$full" "$(echo "$full / 1024" | bc -l)" \
        "$(echo "($full - $empty) * 1024 / $keys" | bc -l)" "${used:-n/a}"
    echo "$full"
}

redis-server --port "$REDIS_PORT" --save '' --appendonly no --daemonize yes \
    --dir "$WORK" --pidfile "$WORK/redis.pid" --logfile "$WORK/redis.log"
wait_ping "$REDIS_PORT"
REDIS_PID=$(redis-cli -p "$REDIS_PORT" INFO server | tr -d '\r' | awk -F: '$1 == "process_id" {print $2}')
REDIS_OUT=$(measure redis "$REDIS_PORT" "$REDIS_PID")
redis-cli -p "$REDIS_PORT" SHUTDOWN NOSAVE >/dev/null 2>&1 || true
REDIS_PID=""

"$RILL_BIN" --port "$RILL_PORT" --bind 127.0.0.1 --kafka-port 0 --save '' --appendonly no \
    --dir "$WORK" --loglevel warning >"$WORK/rill.log" 2>&1 &
RILL_PID=$!
wait_ping "$RILL_PORT"
RILL_OUT=$(measure rill "$RILL_PORT" "$RILL_PID")

echo "$REDIS_OUT" | head -1
echo "$RILL_OUT" | head -1
REDIS_RSS=$(echo "$REDIS_OUT" | tail -1)
RILL_RSS=$(echo "$RILL_OUT" | tail -1)
printf 'ratio rill/redis rss_full = %.3f\n' "$(echo "$RILL_RSS / $REDIS_RSS" | bc -l)"
