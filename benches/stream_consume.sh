#!/usr/bin/env bash
# Consumer-group consumption (XREADGROUP COUNT 100 + XACK), Rill vs redis-server 7.0 in
# the same run, alternating. ENTRIES entries XADDed first.
#   bash benches/stream_consume.sh           # ENTRIES=200000 ROUNDS=3
set -euo pipefail
cd "$(dirname "$0")/.."
ENTRIES=${ENTRIES:-200000}
ROUNDS=${ROUNDS:-3}
cargo build --release --quiet --bin rill-server
cargo build --release --quiet --bench stream_consume
bench=$(ls -t target/release/deps/stream_consume-* | grep -v '\.d$' | head -n 1)
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
  echo "rill  round $r: $("$bench" "127.0.0.1:$rill_port" "$ENTRIES")"
  echo "redis round $r: $("$bench" "127.0.0.1:$redis_port" "$ENTRIES")"
done
