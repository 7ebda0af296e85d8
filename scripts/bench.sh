#!/usr/bin/env bash
# The benchmark entry point named in README and docs/BENCHMARKS.md; see bench/run.sh.
set -euo pipefail
exec "$(dirname "$0")/../bench/run.sh" "$@"
