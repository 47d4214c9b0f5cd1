#!/usr/bin/env bash
# PUBLISH fan-out, Rill vs redis-server 7.0 in the same run, alternating:
# 100 subscribers on one channel, one publisher pipelining 100 PUBLISHes at a time.
#   bash benches/pubsub_fanout.sh            # SUBS=100 MSGS=20000 ROUNDS=3
set -euo pipefail
cd "$(dirname "$0")/.."
SUBS=${SUBS:-100}
MSGS=${MSGS:-20000}
ROUNDS=${ROUNDS:-3}
cargo build --release --quiet --bin rill-server
cargo build --release --quiet --bench pubsub_fanout
bench=$(ls -t target/release/deps/pubsub_fanout-* | grep -v '\.d$' | head -n 1)
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
  echo "rill  round $r: $("$bench" "127.0.0.1:$rill_port" "$SUBS" "$MSGS")"
  echo "redis round $r: $("$bench" "127.0.0.1:$redis_port" "$SUBS" "$MSGS")"
done
