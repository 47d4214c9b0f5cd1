#!/usr/bin/env bash
# Memory per stream entry: N `XADD s * field value` into Rill (release) and redis-server
# 7.0, reporting used_memory and RSS deltas per entry. Usage: benches/stream_memory.sh [N]
set -euo pipefail
N=${1:-1000000}
RILL_PORT=${RILL_PORT:-7131}
REDIS_PORT=${REDIS_PORT:-7132}
cd "$(dirname "$0")/.."
cargo build --release --bin rill-server >/dev/null
tmp=$(mktemp -d)
trap 'redis-cli -p $RILL_PORT shutdown nosave >/dev/null 2>&1 || true;
      redis-cli -p $REDIS_PORT shutdown nosave >/dev/null 2>&1 || true; rm -rf "$tmp"' EXIT
./target/release/rill-server --port "$RILL_PORT" --save '' --appendonly no --dir "$tmp" >"$tmp/rill.log" 2>&1 &
redis-server --port "$REDIS_PORT" --save '' --appendonly no --dir "$tmp" --daemonize yes >/dev/null
for p in $RILL_PORT $REDIS_PORT; do
  for _ in $(seq 50); do redis-cli -p "$p" ping >/dev/null 2>&1 && break; sleep 0.1; done
done
# RESP for N XADDs, generated once.
python3 - "$N" >"$tmp/cmds" <<'PY'
import sys
n = int(sys.argv[1])
out = sys.stdout.buffer
cmd = b"*5\r\n$4\r\nXADD\r\n$1\r\ns\r\n$1\r\n*\r\n$5\r\nfield\r\n$5\r\nvalue\r\n"
for _ in range(n):
    out.write(cmd)
PY
info() { redis-cli -p "$1" info memory | tr -d '\r' | awk -F: -v k="$2" '$1==k{print $2}'; }
rss() { ps -o rss= -p "$(redis-cli -p "$1" info server | tr -d '\r' | awk -F: '$1=="process_id"{print $2}')" | tr -d ' '; }
measure() {
  local name=$1 port=$2
  local u0 r0 u1 r1 len
  u0=$(info "$port" used_memory); r0=$(rss "$port")
  redis-cli -p "$port" --pipe <"$tmp/cmds" >/dev/null
  len=$(redis-cli -p "$port" xlen s)
  u1=$(info "$port" used_memory); r1=$(rss "$port")
  awk -v n="$name" -v len="$len" -v du="$((u1 - u0))" -v dr="$(((r1 - r0) * 1024))" \
    'BEGIN{printf "%-6s entries=%d used_memory/entry=%.1f B  rss/entry=%.1f B\n", n, len, du/len, dr/len}'
}
measure rill "$RILL_PORT"
measure redis "$REDIS_PORT"
