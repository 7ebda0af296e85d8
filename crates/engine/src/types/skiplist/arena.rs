//! Node storage of the skiplist: the 48-byte [`Node`] and the chunked, dense [`Arena`] that
//! names nodes by `u32` id.
//!
//! - Nodes live in fixed 4096-node chunks ([`CHUNK`]); id 0 is the header, `NIL = u32::MAX`.
//!   Chunks bound the spare capacity (no 2× `Vec` doubling slack on a million-node set, no
//!   big `realloc` copies); the first chunk grows by doubling so small sets stay small.
//! - A node is 48 bytes: member ([`Key`]: inline up to 22 bytes, else one heap block),
//!   score, backward link, the level-0 forward link, the hash-chain link of the member index
//!   (`hnext`), and `upper` = height (5 bits) + the index of its block of upper levels (the
//!   blocks themselves live in the skiplist's per-height pools).
//! - Dense: removing node `x` moves the last node into `x`'s slot, so ids are always
//!   `1..=len` and memory is returned as the set shrinks.

use crate::dict::Key;

/// The most elements a skiplist can hold: ids are `u32`, id 0 is the header and
/// `u32::MAX` means "no node".
pub const MAX_LEN: usize = (u32::MAX - 1) as usize;

pub(super) const NIL: u32 = u32::MAX;
pub(super) const HEAD: u32 = 0;

/// Low bits of `Node::upper` index the node's block in its height's pool; the top 5 bits
/// hold `height - 1`. 2^27 blocks per height: a node that would overflow its pool is given
/// height 1 instead (still correct, marginally less balanced) — unreachable below ~700M
/// members.
pub(super) const BLOCK_BITS: u32 = 27;
pub(super) const BLOCK_MASK: u32 = (1 << BLOCK_BITS) - 1;

const CHUNK_BITS: u32 = 12;
/// Nodes per arena chunk: 4096 × 48 B = 192 KiB, small beside the sets that need chunks.
pub(super) const CHUNK: usize = 1 << CHUNK_BITS;

/// A node of a [`SkipList`](super::SkipList) (or [`ZSet`](super::ZSet)). Valid until the
/// next removal from that set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct NodeId(pub(super) u32);

#[derive(Clone)]
pub(super) struct Node {
    pub(super) member: Key,
    pub(super) score: f64,
    /// Previous node at level 0; NIL for the first node (never the header, as in Redis).
    pub(super) backward: u32,
    /// Forward link at level 0.
    pub(super) next0: u32,
    /// Next node in the same bucket of the member index ([`ZSet`](super::ZSet) only).
    pub(super) hnext: u32,
    /// `(height - 1) << BLOCK_BITS | block`; the block is meaningless for height 1.
    pub(super) upper: u32,
}

impl Node {
    #[inline]
    pub(super) fn height(&self) -> usize {
        (self.upper >> BLOCK_BITS) as usize + 1
    }

    #[inline]
    pub(super) fn block(&self) -> usize {
        (self.upper & BLOCK_MASK) as usize
    }

    /// Whether this node sorts before `(score, member)`.
    #[inline]
    pub(super) fn before(&self, score: f64, member: &[u8]) -> bool {
        self.score < score || (self.score == score && self.member.as_bytes() < member)
    }
}

#[inline]
pub(super) fn encode_upper(height: usize, block: usize) -> u32 {
    ((height as u32 - 1) << BLOCK_BITS) | block as u32
}

/// u32s per block in the pool of height `h`: `(forward, span)` for levels `1..h`, then owner.
#[inline]
pub(super) fn stride(h: usize) -> usize {
    2 * h - 1
}

/// Nodes in chunks of [`CHUNK`]; the first chunk grows by doubling up to [`CHUNK`] so small
/// sets stay small. Dense: ids `0..len` are all live.
#[derive(Clone)]
pub(super) struct Arena {
    pub(super) chunks: Vec<Vec<Node>>,
    pub(super) len: usize,
}

impl Arena {
    pub(super) fn new() -> Arena {
        Arena {
            chunks: Vec::new(),
            len: 0,
        }
    }

    #[inline]
    pub(super) fn get(&self, i: u32) -> &Node {
        &self.chunks[(i >> CHUNK_BITS) as usize][i as usize & (CHUNK - 1)]
    }

    #[inline]
    pub(super) fn get_mut(&mut self, i: u32) -> &mut Node {
        &mut self.chunks[(i >> CHUNK_BITS) as usize][i as usize & (CHUNK - 1)]
    }

    pub(super) fn reserve(&mut self, additional: usize) {
        if self.chunks.is_empty() {
            self.chunks.push(Vec::new());
        }
        if self.chunks.len() == 1 {
            let c = &mut self.chunks[0];
            let want = (c.len() + additional).min(CHUNK);
            c.reserve_exact(want.saturating_sub(c.len()));
        }
    }

    pub(super) fn push(&mut self, n: Node) -> u32 {
        let ci = self.len >> CHUNK_BITS;
        if ci == self.chunks.len() {
            self.chunks.push(Vec::new());
        }
        let c = &mut self.chunks[ci];
        if c.len() == c.capacity() {
            let target = if ci == 0 {
                (c.capacity() * 2).clamp(4, CHUNK)
            } else {
                CHUNK
            };
            c.reserve_exact(target - c.len());
        }
        c.push(n);
        self.len += 1;
        (self.len - 1) as u32
    }

    /// Removes node `i`, moving the last node into its slot; returns node `i`.
    pub(super) fn swap_remove(&mut self, i: u32) -> Node {
        let last = self.len - 1;
        let tail = match self.chunks[last >> CHUNK_BITS].pop() {
            Some(n) => n,
            None => unreachable!("arena chunk shorter than the arena length"),
        };
        self.len = last;
        let removed = if i as usize == last {
            tail
        } else {
            std::mem::replace(self.get_mut(i), tail)
        };
        // Free a trailing empty chunk once the one before it is at most half full, so a set
        // oscillating around a chunk boundary does not allocate and free 192 KiB each time.
        while self.chunks.len() > 1
            && self.chunks.last().is_some_and(Vec::is_empty)
            && self.len <= (self.chunks.len() - 1) * CHUNK - CHUNK / 2
        {
            self.chunks.pop();
        }
        if self.chunks.len() == 1 {
            let c = &mut self.chunks[0];
            if c.capacity() >= 64 && c.len() < c.capacity() / 4 {
                c.shrink_to(c.capacity() / 2);
            }
        }
        removed
    }

    /// Chunk capacity only; out-of-line member bytes are counted by the owner.
    pub(super) fn heap_bytes(&self) -> usize {
        self.chunks.capacity() * std::mem::size_of::<Vec<Node>>()
            + self
                .chunks
                .iter()
                .map(|c| c.capacity() * std::mem::size_of::<Node>())
                .sum::<usize>()
    }
}
