#!/usr/bin/env bash
# Builds ringkv-server in release mode and benchmarks it side by side with redis-server
# (bench/bench.py: same redis-benchmark flags, alternating, median of ROUNDS rounds).
# Usage: bench/run.sh [bench.py flags]   e.g. ROUNDS=5 bench/run.sh, or bench/run.sh --tests get
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ -z "${RINGKV_BIN:-}" ]]; then
    cargo build --release -p server --bin ringkv-server
fi
exec python3 bench/bench.py "$@"
