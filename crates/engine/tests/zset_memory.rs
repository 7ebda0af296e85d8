//! Bytes per element of the skiplist-encoded sorted set, measured at the allocator (its own
//! test binary so the counting allocator sees nothing else).
//!
//! Reference, real Redis 7.0.15 (jemalloc): `used_memory` grows by ~110 bytes per element
//! for `ZADD z <random score> m:<i>` of 1M members (`MEMORY USAGE z` ≈ 101.6 B/element).
//! Run with `RINGKV_ZSET_MEM_N=1000000 cargo test -p engine --test zset_memory -- --nocapture`
//! for the full million; the default is smaller to keep debug test runs quick.

use engine::types::skiplist::ZSet;
mod common;
use common::LIVE;
use std::sync::atomic::Ordering;

#[global_allocator]
static A: common::Counting = common::Counting;

#[test]
fn bytes_per_element_below_redis() {
    let n: usize = std::env::var("RINGKV_ZSET_MEM_N")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(200_000);
    let mut name = Vec::with_capacity(32);
    let before = LIVE.load(Ordering::Relaxed);
    let mut z = ZSet::with_seed(1);
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    for i in 0..n {
        // Random scores in [0, 1e6), as the Redis reference run used.
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let score = (x >> 11) as f64 / (1u64 << 53) as f64 * 1e6;
        name.clear();
        name.extend_from_slice(b"m:");
        name.extend_from_slice(i.to_string().as_bytes());
        z.insert(&name, score).unwrap();
    }
    while z.rehash(1000) {}
    let used = LIVE.load(Ordering::Relaxed) - before;
    let per = used as f64 / n as f64;
    println!(
        "{n} members: {used} bytes allocated, {per:.1} bytes/element (heap_bytes {:.1})",
        z.heap_bytes() as f64 / n as f64
    );
    assert!(per < 70.0, "{per} bytes per element");
    // heap_bytes is the accounting INFO/MEMORY USAGE will use: it must track reality.
    let est = z.heap_bytes() as f64;
    assert!(
        (est - used as f64).abs() / (used as f64) < 0.05,
        "estimate {est} vs {used}"
    );
    // Everything is returned on drop (the harness's own small allocations aside).
    drop(z);
    let left = LIVE.load(Ordering::Relaxed).saturating_sub(before);
    assert!(left < 64 * 1024, "{left} bytes still allocated after drop");
}
