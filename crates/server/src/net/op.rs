//! Operation kinds on the ring and how a completion finds its owner.
//!
//! Every SQE carries user_data = kind (8 bits) | generation (24 bits) | key (32 bits); the
//! key is a connection's slab key (or a listener's index), and a completion whose
//! generation no longer matches the slot is stale. The loop's `dispatch` hands each
//! completion to its kind's handler, each in its own file (`conn_ops`, `periodic`).
//!
//! Adding a kind (file writes and fsync for the AOF and RDB, outgoing connections for
//! replication, more timers): a variant here, a handler method in a file of its own, one
//! arm in `dispatch`. The encoding leaves room for 255 kinds.

/// What an SQE was for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Op {
    /// Multishot accept on listener `key` (generation = listener epoch).
    Accept = 1,
    /// A connection's recv (multishot or single-shot).
    Recv = 2,
    /// A connection's send.
    Send = 3,
    /// An AsyncCancel of a connection's recv or send.
    Cancel = 4,
    /// Closing a file descriptor.
    Close = 5,
    /// The cron timer.
    Timer = 6,
    /// A read of the signalfd.
    Signal = 7,
    /// A write of a [`crate::fileio`] request (key = its slot there).
    FileWrite = 9,
    /// The fsync of a [`crate::fileio`] request.
    FileSync = 10,
    /// An outgoing connect (the replica's link; generation = the attempt).
    Connect = 11,
}

#[inline]
pub fn ud(op: Op, key: usize, generation: u32) -> u64 {
    ((op as u64) << 56) | (((generation & 0xFF_FFFF) as u64) << 32) | (key as u64 & 0xFFFF_FFFF)
}

#[inline]
pub fn ud_op(u: u64) -> Option<Op> {
    Some(match u >> 56 {
        1 => Op::Accept,
        2 => Op::Recv,
        3 => Op::Send,
        4 => Op::Cancel,
        5 => Op::Close,
        6 => Op::Timer,
        7 => Op::Signal,
        9 => Op::FileWrite,
        10 => Op::FileSync,
        11 => Op::Connect,
        _ => return None,
    })
}

#[inline]
pub fn ud_gen(u: u64) -> u32 {
    ((u >> 32) & 0xFF_FFFF) as u32
}

#[inline]
pub fn ud_key(u: u64) -> usize {
    (u & 0xFFFF_FFFF) as usize
}
