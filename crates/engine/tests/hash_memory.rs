//! Bytes per field of both hash encodings, measured at the allocator (its own test binary so
//! the counting allocator sees nothing else).
//!
//! Reference, real Redis 7.0.15 (jemalloc), `used_memory` delta:
//! - one hash of 1M fields `field:<i>` → `value:<i>` (hashtable): ~72 bytes per field;
//! - 1M keys `HSET user:<i> name x age y` (listpack): ~104 bytes per key, of which the value
//!   is a 16-byte robj plus a 24-byte listpack in a 32-byte size class.
//!
//! Run with `RINGKV_HASH_MEM_N=1000000 cargo test -p engine --test hash_memory -- --nocapture`
//! for the full million; the default is smaller to keep debug test runs quick.

use engine::object::HashValue;
use engine::object::hash::HashLimits;
mod common;
use common::LIVE;
use std::sync::atomic::Ordering;

#[global_allocator]
static A: common::Counting = common::Counting;

/// The counter is process-wide: tests measuring it must not overlap.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn n() -> usize {
    std::env::var("RINGKV_HASH_MEM_N")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(200_000)
}

#[test]
fn hashtable_bytes_per_field_below_redis() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let n = n();
    let limits = HashLimits::default();
    let (mut f, mut v) = (Vec::with_capacity(32), Vec::with_capacity(32));
    let before = LIVE.load(Ordering::Relaxed);
    let mut h = HashValue::new();
    for i in 0..n {
        f.clear();
        v.clear();
        f.extend_from_slice(format!("field:{i}").as_bytes());
        v.extend_from_slice(format!("value:{i}").as_bytes());
        h.set(&f, &v, limits);
    }
    let used = LIVE.load(Ordering::Relaxed) - before;
    let per = used as f64 / n as f64;
    println!(
        "{n} fields: {used} bytes allocated, {per:.1} bytes/field (heap_size {:.1})",
        h.heap_size() as f64 / n as f64
    );
    assert_eq!(h.encoding_name(), "hashtable");
    assert!(per < 72.0, "{per} bytes per field (Redis: ~72)");
    // heap_size is what memory accounting will use: it must track reality.
    let est = h.heap_size() as f64;
    assert!(
        (est - used as f64).abs() / (used as f64) < 0.05,
        "estimate {est} vs {used}"
    );
    drop(h);
    let left = LIVE.load(Ordering::Relaxed).saturating_sub(before);
    assert!(left < 64 * 1024, "{left} bytes still allocated after drop");
}

#[test]
fn small_listpack_hash_value_bytes() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let limits = HashLimits::default();
    let n = 100_000;
    let before = LIVE.load(Ordering::Relaxed);
    let hashes: Vec<HashValue> = (0..n)
        .map(|_| {
            let mut h = HashValue::new();
            h.set(b"name", b"x", limits);
            h.set(b"age", b"y", limits);
            h
        })
        .collect();
    let used = LIVE.load(Ordering::Relaxed) - before;
    let heap = used - n * std::mem::size_of::<HashValue>();
    let per = heap as f64 / n as f64;
    println!(
        "small hash: {per:.1} heap bytes + {} inline (Redis: 16-byte robj + 32-byte listpack)",
        std::mem::size_of::<HashValue>()
    );
    // The 24-byte listpack in its 32-byte size class, nothing else (the harness's own
    // one-off allocations aside).
    assert!(per < 32.5, "{per}");
    assert!(hashes.iter().all(|h| h.encoding_name() == "listpack"));
    assert_eq!(hashes[0].heap_size(), 32);
}
