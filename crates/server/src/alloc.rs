//! A counting global allocator: jemalloc plus a running total of live bytes and its peak,
//! for INFO memory (`used_memory`, `used_memory_peak`) and `maxmemory`; and the jemalloc
//! statistics and controls INFO and MEMORY read (`allocator_*`, STATS, PURGE, MALLOC-STATS).
//!
//! jemalloc rather than glibc malloc (measured with bench/memory.py): Redis itself runs on
//! jemalloc, whose size classes carry no per-allocation header and fragment far less under
//! the grow-by-realloc patterns of quicklist nodes and dict tables; with glibc the RSS per
//! string key was 1.46× Redis's and per list element 1.66×.
//!
//! What is counted: the bytes jemalloc really hands out for each block — its size class
//! (`usable size`), as Redis's zmalloc counts `je_malloc_usable_size` — not the size asked
//! for. A 20-byte request takes jemalloc's 32-byte class, and counting 20 made `used_memory`
//! trail RSS by a fifth for small keys, so `maxmemory` let memory run past the limit.
//! The class is computed from the request with jemalloc's size-class formula
//! ([`usable_size`]: a few integer instructions, no call into jemalloc, no lookup of the
//! pointer), checked against jemalloc's own `nallocx` by a test; unusual alignments (above
//! 16) ask `nallocx`.
//!
//! Invariants: the counters are process-wide atomics updated with `Relaxed` ordering (they
//! are statistics, not synchronisation), so the cost is one `fetch_add`/`fetch_sub` per
//! allocation; the peak is raised with a relaxed compare-exchange loop only when the new
//! total exceeds it. Every block is counted at the same usable size when it is allocated and
//! when it is freed (both computed from its `Layout`), so the total never drifts.
//!
//! Install it in the binary with
//! `#[global_allocator] static GLOBAL: alloc::Counting = alloc::Counting;`.

use std::alloc::{GlobalAlloc, Layout};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

use tikv_jemalloc_sys as jem;
use tikv_jemallocator::Jemalloc as System;

static USED: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

/// The counting allocator (a unit struct: the counters are statics).
pub struct Counting;

/// jemalloc's quantum on the 64-bit targets we build for (`LG_QUANTUM` 4): plain `malloc`
/// results are aligned to it, so alignments up to it cost nothing extra.
const QUANTUM: usize = 16;

/// Sizes above this are left to `nallocx` (jemalloc's largest classes are spaced the same
/// way, but computing them here buys nothing for multi-terabyte requests).
const FORMULA_MAX: usize = 1 << 40;

/// The bytes jemalloc hands out for a block of `layout` (its size class): what
/// `malloc_usable_size` would say of the pointer. jemalloc 5's classes: 8, then multiples of
/// 16 up to 128, then four classes per power of two (160, 192, 224, 256, 320, …), the same
/// spacing continuing through the page-sized large classes.
#[inline]
pub fn usable_size(layout: Layout) -> usize {
    let (size, align) = (layout.size(), layout.align());
    if align > QUANTUM || size > FORMULA_MAX {
        return nallocx(size, align);
    }
    // An alignment above the size is met by rounding the size up to it (jemalloc's
    // `sz_sa2u` for small sizes).
    engine::util::malloc_size(size.max(align))
}

/// jemalloc's own answer for a block of `size` bytes aligned to `align`.
#[cold]
pub fn nallocx(size: usize, align: usize) -> usize {
    // SAFETY: nallocx only computes a size; any size and a power-of-two alignment are valid.
    let n = unsafe { jem::nallocx(size.max(1), jem::MALLOCX_ALIGN(align)) };
    if n == 0 { size } else { n }
}

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
            add(usable_size(layout));
        }
        p
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded contract.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            add(usable_size(layout));
        }
        p
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded contract.
        unsafe { System.dealloc(ptr, layout) };
        sub(usable_size(layout));
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded contract.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            // On failure the old block is still live and unchanged.
            let old = usable_size(layout);
            // SAFETY: `realloc`'s contract: the new size with the old alignment is a valid
            // layout.
            let new =
                usable_size(unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) });
            if new >= old {
                add(new - old);
            } else {
                sub(old - new);
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

/// jemalloc's own figures (Redis's `zmalloc_get_allocator_info`), refreshed on each call.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AllocatorInfo {
    /// `stats.allocated`: bytes in live blocks.
    pub allocated: u64,
    /// `stats.active`: bytes in active pages (allocated plus the unused space of those pages).
    pub active: u64,
    /// `stats.resident`: bytes in pages jemalloc has touched and not returned.
    pub resident: u64,
}

/// Reads a `size_t` mallctl value (`name` NUL-terminated).
fn mallctl_usize(name: &[u8]) -> Option<usize> {
    let mut v: usize = 0;
    let mut len = std::mem::size_of::<usize>();
    // SAFETY: `name` is NUL-terminated, `v`/`len` describe a writable size_t.
    let rc = unsafe {
        jem::mallctl(
            name.as_ptr().cast(),
            (&mut v as *mut usize).cast(),
            &mut len,
            std::ptr::null_mut(),
            0,
        )
    };
    (rc == 0).then_some(v)
}

/// Asks jemalloc to refresh its statistics (the `epoch` control).
fn refresh_stats() {
    let mut epoch: u64 = 1;
    let mut len = std::mem::size_of::<u64>();
    // SAFETY: `epoch` is a u64 read and written by the control, as documented.
    unsafe {
        jem::mallctl(
            c"epoch".as_ptr(),
            (&mut epoch as *mut u64).cast(),
            &mut len,
            (&mut epoch as *mut u64).cast(),
            len,
        );
    }
}

/// jemalloc's allocated/active/resident figures (zeros if its statistics are unavailable).
pub fn allocator_info() -> AllocatorInfo {
    refresh_stats();
    let get = |n: &[u8]| mallctl_usize(n).unwrap_or(0) as u64;
    AllocatorInfo {
        allocated: get(b"stats.allocated\0"),
        active: get(b"stats.active\0"),
        resident: get(b"stats.resident\0"),
    }
}

/// MEMORY PURGE (Redis's `jemalloc_purge`): returns every arena's unused dirty pages to the
/// OS. True on success.
pub fn purge() -> bool {
    // MALLCTL_ARENAS_ALL.
    // SAFETY: a control that takes no value.
    let rc = unsafe {
        jem::mallctl(
            c"arena.4096.purge".as_ptr(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            0,
        )
    };
    rc == 0
}

/// `jemalloc-bg-thread` (Redis's `set_jemalloc_bg_thread`): jemalloc's background thread
/// returns freed dirty pages to the OS off the loop thread; without it that purging runs
/// inline in whatever allocation crosses the decay deadline (latency spikes under
/// eviction's steady free/allocate churn). True if jemalloc took the setting.
pub fn set_background_thread(on: bool) -> bool {
    let mut v = on;
    // SAFETY: the control takes a `bool`, written from `v`.
    let rc = unsafe {
        jem::mallctl(
            c"background_thread".as_ptr(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            (&mut v as *mut bool).cast(),
            std::mem::size_of::<bool>(),
        )
    };
    rc == 0
}

/// Whether jemalloc's background thread is on.
pub fn background_thread() -> bool {
    let mut v = false;
    let mut len = std::mem::size_of::<bool>();
    // SAFETY: the control reads a `bool` into `v`.
    let rc = unsafe {
        jem::mallctl(
            c"background_thread".as_ptr(),
            (&mut v as *mut bool).cast(),
            &mut len,
            std::ptr::null_mut(),
            0,
        )
    };
    rc == 0 && v
}

/// MEMORY MALLOC-STATS: jemalloc's statistics report (`malloc_stats_print`) as text.
pub fn malloc_stats() -> Vec<u8> {
    unsafe extern "C" fn write_cb(opaque: *mut std::ffi::c_void, text: *const std::ffi::c_char) {
        // SAFETY: `opaque` is the `Vec<u8>` passed below, alive for the call; `text` is a
        // NUL-terminated string from jemalloc.
        unsafe {
            let out = &mut *(opaque as *mut Vec<u8>);
            out.extend_from_slice(std::ffi::CStr::from_ptr(text).to_bytes());
        }
    }
    refresh_stats();
    let mut out: Vec<u8> = Vec::new();
    // SAFETY: the callback only appends to `out`, which outlives the call.
    unsafe {
        jem::malloc_stats_print(
            Some(write_cb),
            (&mut out as *mut Vec<u8>).cast(),
            std::ptr::null(),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_alloc_realloc_dealloc() {
        // Lib tests do not install this allocator, but other threads of a test binary that
        // does would move the same counters. Sizes are far above what they allocate or free
        // meanwhile (the pages are never touched, so this costs address space, not memory),
        // and the assertions allow that much slack.
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

    /// The size-class formula is jemalloc's: for every size up to 64 KiB, sizes around each
    /// power of two beyond, and every alignment up to the quantum, it equals `nallocx`.
    #[test]
    fn usable_size_matches_jemalloc() {
        let mut sizes: Vec<usize> = (1..=65_536).collect();
        for shift in 16..40 {
            let p = 1usize << shift;
            for d in [
                p - 1,
                p,
                p + 1,
                p + p / 8 - 1,
                p + p / 8,
                p + p / 8 + 1,
                p + p / 3,
            ] {
                sizes.push(d);
            }
        }
        for align in [1, 2, 4, 8, 16] {
            for &size in &sizes {
                let l = Layout::from_size_align(size, align).unwrap();
                assert_eq!(
                    usable_size(l),
                    nallocx(size, align),
                    "size {size} align {align}"
                );
            }
        }
        // Above the quantum, jemalloc answers itself.
        let l = Layout::from_size_align(100, 64).unwrap();
        assert_eq!(usable_size(l), nallocx(100, 64));
        assert!(usable_size(l) >= 100);
    }

    /// A real block's usable size is what the formula said (jemalloc's `sallocx`).
    #[test]
    fn usable_size_is_what_jemalloc_hands_out() {
        for size in [
            1usize,
            7,
            9,
            17,
            100,
            129,
            1000,
            5000,
            20_000,
            100_000,
            3 << 20,
        ] {
            let l = Layout::from_size_align(size, 8).unwrap();
            unsafe {
                let p = Counting.alloc(l);
                let real = jem::sallocx(p.cast(), 0);
                Counting.dealloc(p, l);
                assert_eq!(usable_size(l), real, "size {size}");
            }
        }
    }

    #[test]
    fn allocator_stats_and_controls() {
        // Something live in jemalloc whether or not this binary installs the allocator.
        let l = Layout::from_size_align(1 << 20, 8).unwrap();
        let p = unsafe { Counting.alloc(l) };
        let info = allocator_info();
        unsafe { Counting.dealloc(p, l) };
        assert!(
            info.allocated > 0 && info.active >= info.allocated,
            "{info:?}"
        );
        assert!(info.resident >= info.active, "{info:?}");
        assert!(purge());
        let text = String::from_utf8(malloc_stats()).unwrap();
        assert!(
            text.contains("jemalloc statistics"),
            "{}",
            &text[..text.len().min(300)]
        );
    }

    #[test]
    fn background_thread_follows_the_setting() {
        assert!(set_background_thread(true));
        assert!(background_thread());
        assert!(set_background_thread(false));
        assert!(!background_thread());
    }

    #[test]
    fn rss_is_positive_on_linux() {
        assert!(rss_bytes() > 0);
    }
}
