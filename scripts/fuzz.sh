#!/usr/bin/env bash
# Runs the RESP request parser's fuzz target for N seconds (default 60).
#   scripts/fuzz.sh [seconds]
# Needs a nightly toolchain and cargo-fuzz (installed on first use). The corpus is kept in
# crates/resp/fuzz/corpus/parse (git-ignored) so later runs start where earlier ones ended;
# a crash is saved under crates/resp/fuzz/artifacts/parse and makes this script fail.
set -euo pipefail

secs="${1:-60}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

if ! rustup toolchain list | grep -q '^nightly'; then
    rustup toolchain install nightly --profile minimal
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi

cd "$root/crates/resp"
mkdir -p fuzz/corpus/parse
# A few seeds: the fuzzer mutates from real requests faster than from nothing. The first byte
# of each input selects the limits and the read size (see fuzz_targets/parse.rs).
printf '\x00*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nvalue\r\n' > fuzz/corpus/parse/seed-multibulk
printf '\x05SET "a\\x41" '\''b c'\''\r\nPING\n' > fuzz/corpus/parse/seed-inline
printf '\x0a*2\r\n$4\r\nECHO\r\n$1\r\nx\r\n*0\r\n\r\n*1\r\n$2\r\nab' > fuzz/corpus/parse/seed-pipeline

cargo +nightly fuzz run parse fuzz/corpus/parse -- \
    -max_total_time="$secs" -print_final_stats=1
