#!/usr/bin/env bash
# GEO searches and SORT: redis-benchmark against Rill and Debian's redis-server 7.0 in the
# same run, alternating, reported as requests/s and the Rill/Redis ratio. Both servers get
# the same data: POINTS random points around Sicily in one geo set, a list of ITEMS numbers
# with BY weights.
#
#   bash benches/geo_sort.sh
#   N=20000 ROUNDS=1 RILL_BIN=target/debug/rill-server bash benches/geo_sort.sh   # smoke run
#
# Environment: N (requests per run, default 100000), ROUNDS (default 2), CLIENTS (-c,
# default 50), POINTS (default 100000), ITEMS (default 1000), RILL_BIN (prebuilt binary).
set -euo pipefail
cd "$(dirname "$0")/.."

N=${N:-100000}
ROUNDS=${ROUNDS:-2}
CLIENTS=${CLIENTS:-50}
POINTS=${POINTS:-100000}
ITEMS=${ITEMS:-1000}

if [ -z "${RILL_BIN:-}" ]; then
  cargo build --release --quiet --bin rill-server
  RILL_BIN="${CARGO_TARGET_DIR:-target}/release/rill-server"
fi
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

wait_ping() {
  for _ in $(seq 1 500); do
    [ "$(redis-cli -p "$1" PING 2>/dev/null)" = PONG ] && return 0
    sleep 0.02
  done
  echo "no PING reply on port $1" >&2
  exit 1
}

mkdir -p "$work/rill" "$work/redis"
"$RILL_BIN" --port 0 --bind 127.0.0.1 --kafka-port 0 --save '' --appendonly no \
  --loglevel warning --dir "$work/rill" >"$work/rill.out" 2>"$work/rill.err" &
pids+=($!)
rill_port=
for _ in $(seq 1 500); do
  rill_port=$(sed -n 's/^listening on .*:\([0-9]*\)$/\1/p' "$work/rill.out" | head -1)
  [ -n "$rill_port" ] && break
  sleep 0.02
done
[ -n "$rill_port" ] || { echo "rill-server did not report its port" >&2; exit 1; }
wait_ping "$rill_port"
redis_port=$((20000 + RANDOM % 40000))
redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no \
  --loglevel warning --dir "$work/redis" >"$work/redis.log" 2>&1 &
pids+=($!)
wait_ping "$redis_port"

# The same data set for both (seeded), loaded through redis-cli --pipe.
python3 - "$POINTS" "$ITEMS" >"$work/load.txt" <<'PY'
import random, sys
r = random.Random(1)
points, items = int(sys.argv[1]), int(sys.argv[2])
for i in range(0, points, 100):
    args = " ".join(f"{r.uniform(12, 16):.6f} {r.uniform(36.5, 38.5):.6f} p{i + j}"
                    for j in range(min(100, points - i)))
    print(f"GEOADD pts {args}")
for i in range(0, items, 100):
    print("RPUSH nums " + " ".join(str(r.randrange(1_000_000)) for _ in range(min(100, items - i))))
for i in range(items):
    print(f"SET w_{i} {r.randrange(1000)}")
print("RPUSH ids " + " ".join(str(i) for i in range(min(items, 1000))))
PY
for port in "$rill_port" "$redis_port"; do
  redis-cli -p "$port" --pipe <"$work/load.txt" >/dev/null
done

cases=(
  "GEOSEARCH pts FROMLONLAT 14 37.5 BYRADIUS 10 km ASC COUNT 10"
  "GEOSEARCH pts FROMLONLAT 14 37.5 BYBOX 40 40 km WITHDIST"
  "GEORADIUSBYMEMBER pts p1 5 km WITHCOORD"
  "GEODIST pts p1 p2 km"
  "SORT nums LIMIT 0 10"
  "SORT ids BY w_* LIMIT 0 10"
)
printf '| command | rill rps | redis rps | rill/redis |\n|---|---:|---:|---:|\n'
for c in "${cases[@]}"; do
  declare -a rill=() redis=()
  for _ in $(seq "$ROUNDS"); do
    for side in rill redis; do
      port=$rill_port
      [ "$side" = redis ] && port=$redis_port
      # shellcheck disable=SC2086 # the command's words are separate arguments
      rps=$(set -f; redis-benchmark -p "$port" -n "$N" -c "$CLIENTS" --csv $c 2>/dev/null |
        sed -n '2p' | tr -d '"' | cut -d, -f2)
      if [ "$side" = rill ]; then rill+=("$rps"); else redis+=("$rps"); fi
    done
  done
  best() { printf '%s\n' "$@" | sort -g | tail -1; }
  a=$(best "${rill[@]}")
  b=$(best "${redis[@]}")
  printf '| %s | %s | %s | %s |\n' "$c" "$a" "$b" "$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2f", a / b }')"
done
