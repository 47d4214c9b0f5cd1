#!/usr/bin/env bash
# End-to-end load comparison: redis-benchmark against Rill and against Debian's
# redis-server 7.0 in the same run, alternating (Rill, Redis, Rill, Redis, ...) so both see
# the same machine conditions, reported as ratios.
#
#   bash benches/redis_benchmark.sh                 # defaults below
#   N=20000 ROUNDS=2 bash benches/redis_benchmark.sh
#   OUT=bench.md bash benches/redis_benchmark.sh    # also write the table to a file
#
# Environment:
#   N         requests per redis-benchmark run (-n)              default 100000
#   ROUNDS    rounds; each round runs every case on both servers  default 2
#   CLIENTS   parallel connections (-c)                           default 50
#   PIPELINES pipeline depths (-P)                                default "1 16"
#   KEYSPACE  random key space (-r)                               default 1000000
#   TESTS     commands to run                    default "SET GET INCR LPUSH RPOP SADD HSET ZADD MSET"
#             (also: XADD, as "XADD mystream MAXLEN ~ 1000000 * field __rand_int__";
#             PFADD, as "PFADD hll __rand_int__"; PFCOUNT, as "PFCOUNT hll";
#             EVALSHA, a small script doing one SET, loaded by the probe with SCRIPT LOAD)
#   RILL_BIN  prebuilt rill-server (skips cargo build --release)
#   OUT       file to write the Markdown table to
#
# A command Rill does not implement yet (probed with redis-cli first) shows as n/a.
set -euo pipefail
cd "$(dirname "$0")/.."

N=${N:-100000}
ROUNDS=${ROUNDS:-2}
CLIENTS=${CLIENTS:-50}
PIPELINES=${PIPELINES:-"1 16"}
KEYSPACE=${KEYSPACE:-1000000}
TESTS=${TESTS:-"SET GET INCR LPUSH RPOP SADD HSET ZADD MSET"}

for tool in redis-server redis-cli redis-benchmark; do
  command -v "$tool" >/dev/null || { echo "$tool not found: apt-get install redis-server redis-tools" >&2; exit 1; }
done

if [ -z "${RILL_BIN:-}" ]; then
  echo "== cargo build --release --bin rill-server" >&2
  cargo build --release --quiet --bin rill-server
  RILL_BIN="${CARGO_TARGET_DIR:-target}/release/rill-server"
fi
[ -x "$RILL_BIN" ] || { echo "no rill-server binary at $RILL_BIN" >&2; exit 1; }

work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

free_port() {
  local p
  for _ in $(seq 1 200); do
    p=$((20000 + RANDOM % 40000))
    port_in_use "$p" || { echo "$p"; return; }
  done
  echo "no free port found" >&2
  exit 1
}

wait_ping() { # port
  for _ in $(seq 1 500); do
    [ "$(redis-cli -p "$1" PING 2>/dev/null)" = PONG ] && return 0
    sleep 0.02
  done
  echo "server on port $1 did not answer PING" >&2
  exit 1
}

# Rill on port 0: it prints "listening on <addr>".
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
[ -n "$rill_port" ] || { echo "rill-server did not report its port:" >&2; cat "$work/rill.err" >&2; exit 1; }
wait_ping "$rill_port"

redis_port=$(free_port)
redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no \
  --daemonize no --loglevel warning --dir "$work/redis" >"$work/redis.log" 2>&1 &
pids+=($!)
wait_ping "$redis_port"
echo "== rill on port $rill_port, redis-server $(redis-server --version | sed 's/.*v=\([^ ]*\).*/\1/') on port $redis_port" >&2

# The EVALSHA case's script: one SET, as small as scripts behind rate limiters and locks.
EVALSHA_SCRIPT="return redis.call('SET', KEYS[1], ARGV[1])"
EVALSHA_SHA=d8f2fad9f8e86a53d2a6ebd960b33c4972cacc37

# The redis-benchmark arguments for a test name, and a probe command for it.
bench_args() {
  case $1 in
    ZADD) echo "ZADD myzset __rand_int__ element:__rand_int__" ;;
    XADD) echo "XADD mystream MAXLEN ~ 1000000 * field __rand_int__" ;;
    PFADD) echo "PFADD hll __rand_int__" ;;
    PFCOUNT) echo "PFCOUNT hll" ;;
    EVALSHA) echo "EVALSHA $EVALSHA_SHA 1 key:__rand_int__ __rand_int__" ;;
    *) echo "-t ${1,,}" ;;
  esac
}
probe() { # port test
  case $2 in
    SET) redis-cli -p "$1" SET __probe v ;;
    GET) redis-cli -p "$1" GET __probe ;;
    INCR) redis-cli -p "$1" INCR __probe_n ;;
    LPUSH) redis-cli -p "$1" LPUSH __probe_l a ;;
    RPOP) redis-cli -p "$1" RPOP __probe_l ;;
    SADD) redis-cli -p "$1" SADD __probe_s a ;;
    HSET) redis-cli -p "$1" HSET __probe_h f v ;;
    ZADD) redis-cli -p "$1" ZADD __probe_z 1 a ;;
    XADD) redis-cli -p "$1" XADD __probe_x '*' f v ;;
    MSET) redis-cli -p "$1" MSET __probe_a 1 __probe_b 2 ;;
    PFADD) redis-cli -p "$1" PFADD __probe_hll a ;;
    PFCOUNT) redis-cli -p "$1" PFCOUNT __probe_hll ;;
    EVALSHA) redis-cli -p "$1" SCRIPT LOAD "$EVALSHA_SCRIPT" ;;
    *) echo "ERR no probe for $2" ;;
  esac
}
supported() { # port test
  local out
  out=$(probe "$1" "$2" 2>&1) || return 1
  ! grep -qE '^(ERR|WRONGTYPE|NOAUTH|Could not connect)' <<<"$out"
}

declare -A skip
for t in $TESTS; do
  supported "$redis_port" "$t" || { echo "redis-server rejects the $t probe" >&2; exit 1; }
  supported "$rill_port" "$t" || { skip[$t]=1; echo "== Rill lacks $t: reported as n/a" >&2; }
done

# One CSV row: "test","rps","avg","min","p50","p95","p99","max" -> "rps p50 p99".
results="$work/results"
: >"$results"
run_one() { # server port test pipeline round
  local server=$1 port=$2 t=$3 p=$4 round=$5 row
  # No globbing: XADD's "*" id must reach redis-benchmark as is.
  local -
  set -f
  # shellcheck disable=SC2046 # word splitting of the argument list is intended
  row=$(redis-benchmark -p "$port" -n "$N" -c "$CLIENTS" -P "$p" -r "$KEYSPACE" --csv \
    $(bench_args "$t") 2>"$work/bench.err" | sed -n '2p' | tr -d '"')
  if [ -z "$row" ]; then
    echo "redis-benchmark gave no result for $server $t -P $p:" >&2
    cat "$work/bench.err" >&2
    return
  fi
  IFS=, read -r _ rps _ _ p50 _ p99 _ <<<"$row"
  echo "$server $t $p $round $rps $p50 $p99" >>"$results"
  printf '   %-5s %-6s -P %-3s round %s: %10s rps  p50 %s ms  p99 %s ms\n' \
    "$server" "$t" "$p" "$round" "$rps" "$p50" "$p99" >&2
}

start=$(date +%s)
for round in $(seq 1 "$ROUNDS"); do
  echo "== round $round/$ROUNDS (-n $N -c $CLIENTS -r $KEYSPACE)" >&2
  for p in $PIPELINES; do
    for t in $TESTS; do
      # Alternate which server goes first so neither always runs on a warmer machine.
      if [ $((round % 2)) = 1 ]; then order="rill redis"; else order="redis rill"; fi
      for server in $order; do
        if [ "$server" = rill ]; then
          [ -n "${skip[$t]:-}" ] || run_one rill "$rill_port" "$t" "$p" "$round"
        else
          run_one redis "$redis_port" "$t" "$p" "$round"
        fi
      done
    done
  done
done

# Mean over rounds per (server, test, pipeline); then one table row per (test, pipeline).
table=$(
  echo "| command | pipeline | Rill rps | Redis rps | Rill/Redis | Rill p50 ms | Redis p50 ms | Rill p99 ms | Redis p99 ms |"
  echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
  awk -v tests="$TESTS" -v pipes="$PIPELINES" '
    { k = $1 SUBSEP $2 SUBSEP $3; n[k]++; rps[k] += $5; p50[k] += $6; p99[k] += $7 }
    function f(x, d) { return x == "" ? "n/a" : sprintf("%." d "f", x) }
    END {
      nt = split(tests, T, " "); np = split(pipes, P, " ")
      for (i = 1; i <= np; i++) for (j = 1; j <= nt; j++) {
        a = "rill" SUBSEP T[j] SUBSEP P[i]; b = "redis" SUBSEP T[j] SUBSEP P[i]
        ar = n[a] ? rps[a] / n[a] : ""; br = n[b] ? rps[b] / n[b] : ""
        ratio = (ar != "" && br != "" && br > 0) ? sprintf("%.2f", ar / br) : "n/a"
        printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", T[j], P[i], f(ar, 0), f(br, 0), ratio,
          n[a] ? f(p50[a] / n[a], 3) : "n/a", n[b] ? f(p50[b] / n[b], 3) : "n/a",
          n[a] ? f(p99[a] / n[a], 3) : "n/a", n[b] ? f(p99[b] / n[b], 3) : "n/a"
      }
    }' "$results"
)
echo
echo "redis-benchmark -n $N -c $CLIENTS -r $KEYSPACE, $ROUNDS rounds alternating, mean of rounds; $(nproc) CPUs; $(($(date +%s) - start))s"
echo
echo "$table"
if [ -n "${OUT:-}" ]; then
  echo "$table" >"$OUT"
fi
