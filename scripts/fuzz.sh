#!/usr/bin/env bash
# Runs a fuzz target for N seconds (default 60).
#   scripts/fuzz.sh [seconds] [target]
# target: parse (default: the RESP request parser, crates/resp/fuzz), rdb (the RDB file
# loader) or dump (RESTORE's payload parser), both in crates/persist/fuzz.
# Needs a nightly toolchain and cargo-fuzz (installed on first use). Each target's corpus is
# kept in <crate>/fuzz/corpus/<target> (git-ignored) so later runs start where earlier ones
# ended; a crash is saved under <crate>/fuzz/artifacts/<target> and makes this script fail.
set -euo pipefail

secs="${1:-60}"
target="${2:-parse}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

if ! rustup toolchain list | grep -q '^nightly'; then
    rustup toolchain install nightly --profile minimal
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi

case "$target" in
parse)
    cd "$root/crates/resp"
    mkdir -p fuzz/corpus/parse
    # A few seeds: the fuzzer mutates from real requests faster than from nothing. The first
    # byte of each input selects the limits and the read size (see fuzz_targets/parse.rs).
    printf '\x00*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nvalue\r\n' > fuzz/corpus/parse/seed-multibulk
    printf '\x05SET "a\\x41" '\''b c'\''\r\nPING\n' > fuzz/corpus/parse/seed-inline
    printf '\x0a*2\r\n$4\r\nECHO\r\n$1\r\nx\r\n*0\r\n\r\n*1\r\n$2\r\nab' > fuzz/corpus/parse/seed-pipeline
    ;;
rdb)
    cd "$root/crates/persist"
    mkdir -p fuzz/corpus/rdb
    # Seeds: the RDB files written by real Redis versions (beside the checkout), each behind
    # a configuration byte (0: default limits, 1: tiny limits; see fuzz_targets/common.rs).
    fixtures="$root/../shared/fixtures/rdb-from-redis"
    if [[ -d $fixtures ]]; then
        for f in "$fixtures"/*.rdb "$fixtures"/*.aof; do
            for sel in 0 1; do
                { printf "\\x0$sel"; cat "$f"; } > "fuzz/corpus/rdb/seed-$sel-$(basename "$f")"
            done
        done
    else
        echo "note: $fixtures not found; fuzzing rdb from a minimal seed" >&2
        printf '\x00REDIS0010\xfe\x00\x00\x01k\x01v\xff' > fuzz/corpus/rdb/seed-minimal
    fi
    ;;
dump)
    cd "$root/crates/persist"
    mkdir -p fuzz/corpus/dump
    # Seeds: payload bodies (type byte + value; the target appends version and CRC) for a
    # string, an LZF string, a plain list, an intset, a hash listpack and a quicklist.
    printf '\x00\x00\x05hello' > fuzz/corpus/dump/seed-string
    printf '\x01\x00\xc3\x05\x14\x00a\xe0\x0a\x00' > fuzz/corpus/dump/seed-lzf
    printf '\x01\x01\x03\x01a\x01b\xc0\x07' > fuzz/corpus/dump/seed-list
    printf '\x01\x0b\x0c\x02\x00\x00\x00\x02\x00\x00\x00\x01\x00\x05\x00' > fuzz/corpus/dump/seed-intset
    printf '\x00\x10\x11\x11\x00\x00\x00\x04\x00\x81f\x02\x01\x01\x81g\x02\x02\x01\xff' > fuzz/corpus/dump/seed-hash
    printf '\x01\x12\x01\x02\x0c\x0c\x00\x00\x00\x02\x00\x81a\x02\x01\x01\xff' > fuzz/corpus/dump/seed-quicklist
    ;;
*)
    echo "unknown fuzz target '$target' (parse, rdb or dump)" >&2
    exit 2
    ;;
esac

cargo +nightly fuzz run "$target" "fuzz/corpus/$target" -- \
    -max_total_time="$secs" -print_final_stats=1
