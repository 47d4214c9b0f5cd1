#!/usr/bin/env bash
# The whole test suite: installs what the tests need (Debian's redis-server/redis-tools as
# the compatibility oracle, python3 with redis-py and pytest), then lint, unit, integration,
# differential (tests/it/compat.rs) and real-client (tests/it/clients.rs) tests.
# Used by README.md and .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v redis-server >/dev/null || need_apt+=(redis-server)
command -v redis-cli >/dev/null || need_apt+=(redis-tools)
command -v redis-benchmark >/dev/null || need_apt+=(redis-tools)
command -v python3 >/dev/null || need_apt+=(python3)
command -v kcat >/dev/null || need_apt+=(kcat)
python3 -m pip --version >/dev/null 2>&1 || need_apt+=(python3-pip)
if [ ${#need_apt[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi
# redis-py >= 5 (RESP3), pytest, and the Kafka clients tests/it/kafka.rs drives (issue 5
# names kafka-python 3.x and confluent-kafka 2.x). Debian's python is "externally managed"
# (PEP 668): retry with --break-system-packages there.
if ! python3 -c 'import redis, pytest, kafka, confluent_kafka, sys; sys.exit(int(redis.__version__.split(".")[0]) < 5)' 2>/dev/null; then
  pip_args=(-q --disable-pip-version-check 'redis>=5,<6' 'pytest>=7' 'kafka-python>=3,<4' 'confluent-kafka>=2,<3')
  python3 -m pip install "${pip_args[@]}" 2>/dev/null ||
    python3 -m pip install --break-system-packages "${pip_args[@]}"
fi

echo "== fmt and clippy"
cargo fmt --all --check
cargo clippy --workspace --all-targets --quiet -- -D warnings

echo "== unit, integration, differential (compat) and redis-py tests"
cargo build --workspace --quiet
# pipefail keeps cargo's exit code.
cargo test --workspace 2>&1 | grep -E -v '^(running 0 tests|test result: ok. 0 passed.*)?$'

echo "== benchmark script syntax check"
bash -n benches/redis_benchmark.sh
bash -n benches/alternate.sh
bash -n benches/geo_sort.sh
bash -n benches/persistence.sh
python3 -m py_compile benches/bgsave_probe.py
bash -n benches/kafka.sh
python3 -m py_compile benches/kafka_probe.py
bash -n benches/replication.sh
bash -n benches/memory_1m.sh
bash -n benches/stream_memory.sh
bash -n benches/sentinel_failover.sh
python3 -m py_compile benches/sentinel_failover.py
