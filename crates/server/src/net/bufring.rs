//! The provided-buffer ring (IORING_REGISTER_PBUF_RING) multishot recv picks from.
//!
//! Invariant: buffers are mmap'd once and never move; a buffer is re-provided to the kernel
//! only after the loop is done with the bytes of its completion.

use io_uring::{IoUring, types};
use std::io;

/// Bytes per provided buffer: Redis's PROTO_IOBUF_LEN, the most one read takes.
pub const BUF_SIZE: usize = 16 * 1024;
/// Provided buffers. Each is handed back right after its CQE is handled, so this bounds
/// the recv completions of one iteration, not the number of clients.
pub const BUF_COUNT: u16 = 512;
pub const BUF_GROUP: u16 = 0;

/// A ring of provided buffers (IORING_REGISTER_PBUF_RING) the kernel picks from for
/// multishot recv.
pub struct BufRing {
    ring: *mut types::BufRingEntry,
    ring_bytes: usize,
    data: *mut u8,
    data_bytes: usize,
    /// A Cell: buffers are given back through a shared reference, as a busy script's poll
    /// does while the running command still borrows another buffer's bytes.
    tail: std::cell::Cell<u16>,
}

impl BufRing {
    pub fn new(ring: &IoUring) -> io::Result<BufRing> {
        let ring_bytes = BUF_COUNT as usize * std::mem::size_of::<types::BufRingEntry>();
        let data_bytes = BUF_COUNT as usize * BUF_SIZE;
        let entries = mmap(ring_bytes)? as *mut types::BufRingEntry;
        let data = match mmap(data_bytes) {
            Ok(p) => p,
            Err(e) => {
                munmap(entries as *mut u8, ring_bytes);
                return Err(e);
            }
        };
        let br = BufRing {
            ring: entries,
            ring_bytes,
            data,
            data_bytes,
            tail: std::cell::Cell::new(0),
        };
        // SAFETY: `entries` is page-aligned, BUF_COUNT entries long, and lives until this
        // BufRing drops, which happens after the ring (field order in EventLoop).
        unsafe {
            ring.submitter().register_buf_ring_with_flags(
                entries as u64,
                BUF_COUNT,
                BUF_GROUP,
                0,
            )?;
        }
        for bid in 0..BUF_COUNT {
            br.provide(bid);
        }
        Ok(br)
    }

    /// Gives buffer `bid` (back) to the kernel.
    #[inline]
    pub fn provide(&self, bid: u16) {
        let mask = BUF_COUNT - 1;
        // SAFETY: the index is masked into the ring; bid < BUF_COUNT so the address is in
        // `data`. The tail is published with Release after the entry is written.
        unsafe {
            let e = &mut *self.ring.add((self.tail.get() & mask) as usize);
            e.set_addr(self.data.add(bid as usize * BUF_SIZE) as u64);
            e.set_len(BUF_SIZE as u32);
            e.set_bid(bid);
            self.tail.set(self.tail.get().wrapping_add(1));
            let tail = types::BufRingEntry::tail(self.ring) as *const std::sync::atomic::AtomicU16;
            (*tail).store(self.tail.get(), std::sync::atomic::Ordering::Release);
        }
    }

    /// The bytes the kernel wrote into buffer `bid`.
    #[inline]
    pub fn get(&self, bid: u16, len: usize) -> &[u8] {
        let bid = bid.min(BUF_COUNT - 1) as usize;
        // SAFETY: in bounds (clamped); the kernel is done writing this buffer (its CQE
        // arrived) and it is not re-provided until the caller is done with the slice.
        unsafe { std::slice::from_raw_parts(self.data.add(bid * BUF_SIZE), len.min(BUF_SIZE)) }
    }
}

impl Drop for BufRing {
    fn drop(&mut self) {
        munmap(self.ring as *mut u8, self.ring_bytes);
        munmap(self.data, self.data_bytes);
    }
}

fn mmap(len: usize) -> io::Result<*mut u8> {
    // SAFETY: anonymous private mapping, no file.
    let p = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            len,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    if p == libc::MAP_FAILED {
        Err(io::Error::last_os_error())
    } else {
        Ok(p as *mut u8)
    }
}

fn munmap(p: *mut u8, len: usize) {
    // SAFETY: `p`/`len` came from `mmap` above.
    unsafe {
        libc::munmap(p as *mut libc::c_void, len);
    }
}
