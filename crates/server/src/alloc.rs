//! A counting global allocator: jemalloc plus a running total of live bytes and its peak,
//! for INFO memory (`used_memory`, `used_memory_peak`).
//!
//! jemalloc rather than glibc malloc (measured with bench/memory.py): Redis itself runs on
//! jemalloc, whose size classes carry no per-allocation header and fragment far less under
//! the grow-by-realloc patterns of quicklist nodes and dict tables; with glibc the RSS per
//! string key was 1.46× Redis's and per list element 1.66×.
//!
//! Invariants: the counters are process-wide atomics updated with `Relaxed` ordering (they
//! are statistics, not synchronisation), so the cost is one `fetch_add`/`fetch_sub` per
//! allocation; the peak is raised with a relaxed compare-exchange loop only when the new
//! total exceeds it. Counted sizes are the sizes requested (`Layout::size()`), not what the
//! allocator rounds them to, so `used_memory` slightly under-reports, as Redis's
//! zmalloc does without malloc_size.
//!
//! Install it in the binary with
//! `#[global_allocator] static GLOBAL: alloc::Counting = alloc::Counting;`.

use std::alloc::{GlobalAlloc, Layout};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

use tikv_jemallocator::Jemalloc as System;

static USED: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

/// The counting allocator (a unit struct: the counters are statics).
pub struct Counting;

#[inline]
fn add(n: usize) {
    let now = USED.fetch_add(n, Relaxed) + n;
    let mut peak = PEAK.load(Relaxed);
    while now > peak {
        match PEAK.compare_exchange_weak(peak, now, Relaxed, Relaxed) {
            Ok(_) => break,
            Err(p) => peak = p,
        }
    }
}

#[inline]
fn sub(n: usize) {
    USED.fetch_sub(n, Relaxed);
}

// SAFETY: every method forwards to `System` with the caller's arguments unchanged and only
// updates counters afterwards, so `System`'s guarantees carry over.
unsafe impl GlobalAlloc for Counting {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded contract.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            add(layout.size());
        }
        p
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded contract.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            add(layout.size());
        }
        p
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded contract.
        unsafe { System.dealloc(ptr, layout) };
        sub(layout.size());
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded contract.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            // On failure the old block is still live and unchanged.
            if new_size >= layout.size() {
                add(new_size - layout.size());
            } else {
                sub(layout.size() - new_size);
            }
        }
        p
    }
}

/// Bytes currently allocated through the global allocator (0 if it is not installed).
#[inline]
pub fn used_memory() -> usize {
    USED.load(Relaxed)
}

/// The largest [`used_memory`] seen since start (CONFIG RESETSTAT does not reset it, as in
/// Redis).
#[inline]
pub fn peak_memory() -> usize {
    PEAK.load(Relaxed)
}

/// The process's resident set size in bytes (Redis's `used_memory_rss`), from the `VmRSS`
/// line of `/proc/self/status`; 0 if unavailable.
pub fn rss_bytes() -> usize {
    let Ok(s) = std::fs::read_to_string("/proc/self/status") else {
        return 0;
    };
    s.lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<usize>().ok())
        .map_or(0, |kb| kb * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_alloc_realloc_dealloc() {
        // The test binary installs this allocator (main.rs), so tests on other threads move
        // the same counters. Sizes are far above what they allocate or free meanwhile (the
        // pages are never touched, so this costs address space, not memory), and the
        // assertions allow that much slack.
        const MB: usize = 1 << 20;
        let a = Counting;
        let before = used_memory();
        let l = Layout::from_size_align(256 * MB, 8).unwrap();
        unsafe {
            let p = a.alloc(l);
            assert!(!p.is_null());
            assert!(used_memory() >= before + 192 * MB);
            assert!(peak_memory() >= before + 192 * MB);
            let p = a.realloc(p, l, 768 * MB);
            assert!(!p.is_null());
            assert!(used_memory() >= before + 704 * MB);
            let l2 = Layout::from_size_align(768 * MB, 8).unwrap();
            let p = a.realloc(p, l2, 10);
            assert!(used_memory() < before + 64 * MB);
            let l3 = Layout::from_size_align(10, 8).unwrap();
            a.dealloc(p, l3);
        }
        assert!(peak_memory() >= used_memory());
    }

    #[test]
    fn rss_is_positive_on_linux() {
        assert!(rss_bytes() > 0);
    }
}
