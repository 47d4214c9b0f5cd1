#!/usr/bin/env bash
# Failover time: SIGKILL of the master -> first successful write through redis-py's
# Sentinel client. 1 master + 2 replicas, 3 sentinels, down-after 1000 ms; Rill's stack
# (Rill sentinels over Rill data nodes) vs Redis's (redis-server --sentinel over
# redis-server 7.0), alternating, median of rounds. NODES=redis puts redis-server data
# nodes under the Rill sentinels too, which times the sentinels alone.
#
# usage: benches/sentinel_failover.sh [rounds]     (RILL=path/to/rill-server, NODES=rill|redis)
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-5}
RILL=${RILL:-target/release/rill-server}
NODES=${NODES:-rill}
[ -x "$RILL" ] || cargo build --release -q
PY=benches/sentinel_failover.py
BASE=$((30000 + RANDOM % 20000))
PIDS=()

cleanup() { for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill -9 "$p" 2>/dev/null || true; done; PIDS=(); }
trap cleanup EXIT

wait_until() { # timeout_s command...
    local end=$((SECONDS + $1)); shift
    until "$@" >/dev/null 2>&1; do [ $SECONDS -ge $end ] && return 1; sleep 0.1; done
}

round() { # kind -> prints seconds
    local kind=$1 dir; dir=$(mktemp -d)
    local m=$BASE r1=$((BASE + 1)) r2=$((BASE + 2)) s=$((BASE + 10))
    BASE=$((BASE + 20))
    local node=(redis-server)
    [ "$kind" = rill ] && [ "$NODES" = rill ] && node=("$RILL" --kafka-port -1)
    mkdir -p "$dir/m" "$dir/r1" "$dir/r2"
    "${node[@]}" --port $m --save '' --dir "$dir/m" >/dev/null 2>&1 & PIDS+=($!); local mpid=$!
    wait_until 10 redis-cli -p $m ping
    "${node[@]}" --port $r1 --save '' --dir "$dir/r1" --replicaof 127.0.0.1 $m >/dev/null 2>&1 & PIDS+=($!)
    "${node[@]}" --port $r2 --save '' --dir "$dir/r2" --replicaof 127.0.0.1 $m >/dev/null 2>&1 & PIDS+=($!)
    wait_until 10 sh -c "redis-cli -p $m info replication | grep -c state=online | grep -q 2"
    local ports=()
    for i in 0 1 2; do
        local p=$((s + i)) conf="$dir/sentinel$i.conf"
        printf 'port %s\ndir %s\nsentinel monitor mymaster 127.0.0.1 %s 2\nsentinel down-after-milliseconds mymaster 1000\nsentinel failover-timeout mymaster 10000\n' "$p" "$dir" "$m" > "$conf"
        if [ "$kind" = rill ]; then
            "$RILL" "$conf" --sentinel >"$dir/s$i.log" 2>&1 & PIDS+=($!)
        else
            redis-server "$conf" --sentinel --logfile "$dir/s$i.log" & PIDS+=($!)
        fi
        ports+=($p)
    done
    for p in "${ports[@]}"; do
        wait_until 30 sh -c "redis-cli -p $p sentinel master mymaster | tr '\n' ' ' | grep -q 'num-slaves 2 num-other-sentinels 2'"
    done
    python3 "$PY" "$mpid" "${ports[@]}"
    cleanup
    if [ -n "${KEEP:-}" ]; then echo "logs: $dir" >&2; else rm -rf "$dir"; fi
}

declare -A T=([rill]="" [redis]="")
for ((i = 0; i < ROUNDS; i++)); do
    for kind in rill redis; do
        [ -n "${ONLY:-}" ] && [ "$ONLY" != "$kind" ] && continue
        t=$(round $kind)
        echo "round $i $kind: ${t}s" >&2
        T[$kind]+="$t "
    done
done
median() { tr ' ' '\n' | { grep -v '^$' || true; } | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
mr=$(echo "${T[rill]}" | median); mx=$(echo "${T[redis]}" | median)
ratio=n/a
[ -n "$mr" ] && [ -n "$mx" ] && ratio=$(awk -v a="$mr" -v b="$mx" 'BEGIN{printf "%.2f", a/b}')
echo "failover (kill -> first write via redis-py), median of $ROUNDS, NODES=$NODES: rill ${mr:-n/a}s, redis ${mx:-n/a}s, ratio $ratio"
echo "all rounds: rill ${T[rill]}| redis ${T[redis]}"
