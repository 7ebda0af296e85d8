#!/usr/bin/env bash
# The long randomized differential run against real Redis 7.0.15, for before a release.
#   scripts/diff-random.sh [MINUTES] [SEED]
# Runs random command sequences (crates/server/tests/diff/random/) from SEED on (default:
# derived from the clock, printed) for MINUTES (default 10; 0 = only SEED, to reproduce a
# failure). Each seed's result is printed; every distinct divergence is shrunk to a minimal
# script (paste it into crates/server/tests/scripts/*.txt) shown with both servers' replies.
# Exits non-zero if any seed diverged.
#
# Environment: RINGKV_RANDOM_OPS (ops per sequence, default 2000), RINGKV_RANDOM_SHRINK_SECS
# (time budget to shrink one divergence, default 300), PROFILE=release to test the release
# build (more seeds per minute; the default debug build has overflow checks and debug
# assertions, and needs no extra build), RINGKV_REDIS_SERVER (the redis-server binary).
set -euo pipefail

minutes="${1:-10}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

profile_flag=()
if [[ "${PROFILE:-debug}" == "release" ]]; then
    profile_flag=(--release)
fi

export RINGKV_RANDOM_MINUTES="$minutes"
if [[ $# -ge 2 ]]; then
    export RINGKV_RANDOM_SEED="$2"
fi
# A missing redis-server must fail the run, not skip it.
export RINGKV_REQUIRE_REDIS=1

exec cargo test "${profile_flag[@]}" -p server --test harness \
    diff::random::random_long_run -- --ignored --exact --nocapture
