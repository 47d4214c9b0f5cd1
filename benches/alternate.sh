#!/usr/bin/env bash
# Runs one of the client benches in benches/ (a harness=false [[bench]] that takes
# <host:port> then its own arguments) against Rill and redis-server 7.0 in the same run,
# alternating, ROUNDS times:
#   bash benches/alternate.sh pubsub_fanout 100 20000    # 100 subscribers, 20,000 messages
#   bash benches/alternate.sh stream_consume 200000      # XREADGROUP+XACK over 200,000 entries
set -euo pipefail
cd "$(dirname "$0")/.."
name=${1:?usage: benches/alternate.sh <bench> [args...]}
shift
ROUNDS=${ROUNDS:-3}
cargo build --release --quiet --bin rill-server
cargo build --release --quiet --bench "$name"
bench=$(ls -t target/release/deps/"$name"-* | grep -v '\.d$' | head -n 1)
rill_port=$((20000 + RANDOM % 20000))
redis_port=$((rill_port + 1))
target/release/rill-server --port "$rill_port" --bind 127.0.0.1 --kafka-port 0 --loglevel warning >/dev/null 2>&1 &
rill_pid=$!
redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no >/dev/null 2>&1 &
redis_pid=$!
trap 'kill $rill_pid $redis_pid 2>/dev/null || true' EXIT
for _ in $(seq 50); do
  redis-cli -p "$rill_port" ping >/dev/null 2>&1 && redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break
  sleep 0.1
done
for r in $(seq "$ROUNDS"); do
  echo "rill  round $r: $("$bench" "127.0.0.1:$rill_port" "$@")"
  echo "redis round $r: $("$bench" "127.0.0.1:$redis_port" "$@")"
done
