#!/usr/bin/env bash
# The whole test suite: installs what the tests need (Debian's redis-server/redis-tools as
# the compatibility oracle, the Python clients), then lint, unit, integration and
# differential tests. Used by README.md and .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v redis-server >/dev/null || need_apt+=(redis-server)
command -v redis-cli >/dev/null || need_apt+=(redis-tools)
if [ ${#need_apt[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi
python3 -c 'import redis' 2>/dev/null || python3 -m pip install -q 'redis>=5,<6'

echo "== fmt and clippy"
cargo fmt --all --check
cargo clippy --workspace --all-targets --quiet -- -D warnings

echo "== unit and integration tests"
cargo build --workspace --quiet
# pipefail keeps cargo's exit code.
cargo test --workspace 2>&1 | grep -E -v '^(running 0 tests|test result: ok. 0 passed.*)?$'

if [ -f tests/compat/run.sh ]; then
  echo "== differential test against redis-server 7.0"
  bash tests/compat/run.sh
fi
