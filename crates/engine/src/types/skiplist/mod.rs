//! The sorted-set skiplist (Redis's `zskiplist`, `OBJECT ENCODING skiplist`) and [`ZSet`],
//! its pairing with a member → node hash index.
//!
//! # Ordering and the Redis algorithms
//! Elements are ordered by `(score, member bytes)`, scores compared as doubles (never NaN;
//! `-0.0 == 0.0`, so those tie and the member decides) and members by `memcmp` then length,
//! exactly Rust's `[u8]` order. Levels are drawn with p = 1/4 up to 32; every link carries a
//! span (nodes skipped), so rank ↔ element is O(log n). Insert, delete, the in-place score
//! update, rank, element by rank, first/last in a score or lex range and the range deletions
//! follow `t_zset.c` (7.0.15) step for step; results are identical to Redis's.
//!
//! # Layout (why it is not a node-per-allocation skiplist)
//! - Nodes live in an arena of fixed 4096-node chunks and are named by `u32` ids
//!   ([`NodeId`]), `NIL = u32::MAX`; id 0 is the header. Chunks bound the arena's spare
//!   capacity (no 2× `Vec` doubling slack on a million-node set, no big `realloc` copies).
//! - A node is 48 bytes: member ([`Key`]: inline up to 22 bytes, else one heap block),
//!   score, backward link, the level-0 forward link, the hash-chain link used by [`ZSet`]'s
//!   index, and `upper` = height (5 bits) + the index of its block of upper levels.
//! - Level 0's span is implicit (1 if there is a next node, else 0 — Redis's values), so
//!   three nodes in four (height 1) store no level array at all. Levels 1.. of the nodes of
//!   height `h` are packed in a pool per height: `(forward, span)` pairs then the owning node
//!   id, so a freed block is refilled by moving the pool's last block and re-pointing its
//!   owner. The header's 31 upper levels are an inline array.
//! - Spans follow Redis's convention: for a link with no forward node, the span is the
//!   number of nodes after the owner (so `rank(x) + span = len`).
//! - The arena stays dense: removing node `x` moves the last node into `x`'s slot (its
//!   predecessors are found by one search on its key) and memory is returned as the set
//!   shrinks, as Redis's per-node `free` would. Consequently **a [`NodeId`] is valid only
//!   until the next removal** (insertions and score updates keep every id valid). Ids are
//!   always `1..=len`, which gives O(1) uniform random members.
//!
//! # ZSet: one copy of each member
//! Redis shares one sds between its dict and its skiplist. Here the member is stored once,
//! in the node: the hash index is a chained table of node ids whose chain links are the
//! nodes' `hnext` fields (an intrusive dictEntry), hashed by the member bytes with the
//! process-wide seeded hash. Like Redis's dict it is a power-of-two table grown at load
//! factor 1, shrunk below 10 % fill, rehashed incrementally across two tables (a step per
//! insert/remove, or [`ZSet::rehash`] from cron), and scanned with Redis's reverse-binary
//! cursor. Cost: 4 bytes per bucket plus the 4-byte link, instead of a 24-byte dictEntry
//! and an 8-byte bucket pointer.
//!
//! Invariants (checked after every operation in the tests by [`SkipList::check`] and
//! [`ZSet::check`]):
//! - the arena holds the header and exactly `len` linked nodes, ids `1..=len`;
//! - at every level the forward chain is strictly increasing, each span equals the rank
//!   difference it covers, and nodes appear at exactly the levels below their height;
//! - backward links mirror level 0; `tail` is the last node (NIL when empty);
//! - every pool block is owned by the node whose `upper` names it;
//! - in a [`ZSet`], each node is in exactly one hash chain, and the members are distinct.
//!
//! Capacity: at most [`MAX_LEN`] (2^32 − 2) members, about 200 GB of sorted set; inserting
//! beyond that aborts like an allocation failure. Scores must never be NaN: the commands
//! reject NaN before reaching here (as Redis does), and the order is undefined with one.

use crate::dict::{Key, hash_bytes, random_u64};
use std::cmp::Ordering;
use std::fmt;

/// Redis's `ZSKIPLIST_MAXLEVEL`.
pub const MAX_LEVEL: usize = 32;

/// The most elements a skiplist can hold: ids are `u32`, id 0 is the header and
/// `u32::MAX` means "no node".
pub const MAX_LEN: usize = (u32::MAX - 1) as usize;

const NIL: u32 = u32::MAX;
const HEAD: u32 = 0;

/// Low bits of `Node::upper` index the node's block in its height's pool; the top 5 bits
/// hold `height - 1`. 2^27 blocks per height: a node that would overflow its pool is given
/// height 1 instead (still correct, marginally less balanced) — unreachable below ~700M
/// members.
const BLOCK_BITS: u32 = 27;
const BLOCK_MASK: u32 = (1 << BLOCK_BITS) - 1;

const CHUNK_BITS: u32 = 12;
/// Nodes per arena chunk: 4096 × 48 B = 192 KiB, small beside the sets that need chunks.
const CHUNK: usize = 1 << CHUNK_BITS;

/// A node of a [`SkipList`] (or [`ZSet`]). Valid until the next removal from that set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct NodeId(u32);

#[derive(Clone)]
struct Node {
    member: Key,
    score: f64,
    /// Previous node at level 0; NIL for the first node (never the header, as in Redis).
    backward: u32,
    /// Forward link at level 0.
    next0: u32,
    /// Next node in the same hash-index bucket ([`ZSet`] only).
    hnext: u32,
    /// `(height - 1) << BLOCK_BITS | block`; the block is meaningless for height 1.
    upper: u32,
}

impl Node {
    #[inline]
    fn height(&self) -> usize {
        (self.upper >> BLOCK_BITS) as usize + 1
    }

    #[inline]
    fn block(&self) -> usize {
        (self.upper & BLOCK_MASK) as usize
    }

    /// Whether this node sorts before `(score, member)`.
    #[inline]
    fn before(&self, score: f64, member: &[u8]) -> bool {
        self.score < score || (self.score == score && self.member.as_bytes() < member)
    }
}

#[inline]
fn encode_upper(height: usize, block: usize) -> u32 {
    ((height as u32 - 1) << BLOCK_BITS) | block as u32
}

/// u32s per block in the pool of height `h`: `(forward, span)` for levels `1..h`, then owner.
#[inline]
fn stride(h: usize) -> usize {
    2 * h - 1
}

/// Nodes in chunks of [`CHUNK`]; the first chunk grows by doubling up to [`CHUNK`] so small
/// sets stay small. Dense: ids `0..len` are all live.
#[derive(Clone)]
struct Arena {
    chunks: Vec<Vec<Node>>,
    len: usize,
}

impl Arena {
    fn new() -> Arena {
        Arena {
            chunks: Vec::new(),
            len: 0,
        }
    }

    #[inline]
    fn get(&self, i: u32) -> &Node {
        &self.chunks[(i >> CHUNK_BITS) as usize][i as usize & (CHUNK - 1)]
    }

    #[inline]
    fn get_mut(&mut self, i: u32) -> &mut Node {
        &mut self.chunks[(i >> CHUNK_BITS) as usize][i as usize & (CHUNK - 1)]
    }

    fn reserve(&mut self, additional: usize) {
        if self.chunks.is_empty() {
            self.chunks.push(Vec::new());
        }
        if self.chunks.len() == 1 {
            let c = &mut self.chunks[0];
            let want = (c.len() + additional).min(CHUNK);
            c.reserve_exact(want.saturating_sub(c.len()));
        }
    }

    fn push(&mut self, n: Node) -> u32 {
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
    fn swap_remove(&mut self, i: u32) -> Node {
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
    fn heap_bytes(&self) -> usize {
        self.chunks.capacity() * std::mem::size_of::<Vec<Node>>()
            + self
                .chunks
                .iter()
                .map(|c| c.capacity() * std::mem::size_of::<Node>())
                .sum::<usize>()
    }
}

/// What a [`ZSet`] must hear about while the skiplist removes or moves nodes.
trait Hooks {
    /// `x` is unlinked from the skiplist and about to be freed; its data is intact.
    fn removing(&mut self, nodes: &mut Arena, x: u32);
    /// The node formerly at `from` now lives at `to`.
    fn moved(&mut self, nodes: &mut Arena, from: u32, to: u32);
}

impl Hooks for () {
    fn removing(&mut self, _: &mut Arena, _: u32) {}
    fn moved(&mut self, _: &mut Arena, _: u32, _: u32) {}
}

/// An inclusive or exclusive score interval (Redis's `zrangespec`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ScoreRange {
    pub min: f64,
    pub max: f64,
    /// `(min`: exclude `min` itself.
    pub minex: bool,
    /// `(max`: exclude `max` itself.
    pub maxex: bool,
}

impl ScoreRange {
    /// `[min, max]`.
    pub fn inclusive(min: f64, max: f64) -> ScoreRange {
        ScoreRange {
            min,
            max,
            minex: false,
            maxex: false,
        }
    }

    /// Redis's `zslValueGteMin`.
    #[inline]
    pub fn gte_min(&self, v: f64) -> bool {
        if self.minex {
            v > self.min
        } else {
            v >= self.min
        }
    }

    /// Redis's `zslValueLteMax`.
    #[inline]
    pub fn lte_max(&self, v: f64) -> bool {
        if self.maxex {
            v < self.max
        } else {
            v <= self.max
        }
    }

    #[inline]
    pub fn contains(&self, v: f64) -> bool {
        self.gte_min(v) && self.lte_max(v)
    }

    /// A range no score can satisfy (`min > max`, or `min == max` with an open end).
    pub fn is_empty(&self) -> bool {
        self.min > self.max || (self.min == self.max && (self.minex || self.maxex))
    }
}

/// One end of a lex range: `-`, `+`, `[member` or `(member`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LexBound<'a> {
    /// `-`: below every string.
    NegInf,
    /// `+`: above every string.
    PosInf,
    /// `[member`
    Incl(&'a [u8]),
    /// `(member`
    Excl(&'a [u8]),
}

impl<'a> LexBound<'a> {
    /// Redis's `zslParseLexRangeItem`. `+` and `-` must stand alone; Redis tests the byte
    /// after them against NUL (C strings), so `"+\0…"` also reads as `+`.
    pub fn parse(s: &'a [u8]) -> Option<LexBound<'a>> {
        match s.first()? {
            b'+' if s.len() == 1 || s[1] == 0 => Some(LexBound::PosInf),
            b'-' if s.len() == 1 || s[1] == 0 => Some(LexBound::NegInf),
            b'(' => Some(LexBound::Excl(&s[1..])),
            b'[' => Some(LexBound::Incl(&s[1..])),
            _ => None,
        }
    }

    fn excl(&self) -> bool {
        !matches!(self, LexBound::Incl(_))
    }

    /// Redis's `sdscmplex` of two bounds (the infinities are `shared.minstring/maxstring`,
    /// compared by identity first).
    fn cmp_bound(&self, o: &LexBound<'_>) -> Ordering {
        use LexBound::*;
        match (self, o) {
            (NegInf, NegInf) | (PosInf, PosInf) => Ordering::Equal,
            (NegInf, _) | (_, PosInf) => Ordering::Less,
            (PosInf, _) | (_, NegInf) => Ordering::Greater,
            (Incl(a) | Excl(a), Incl(b) | Excl(b)) => a.cmp(b),
        }
    }
}

/// A lex interval (Redis's `zlexrangespec`), meaningful on a set whose scores are all equal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LexRange<'a> {
    pub min: LexBound<'a>,
    pub max: LexBound<'a>,
}

impl<'a> LexRange<'a> {
    /// Redis's `zslParseLexRange`; `None` is Redis's
    /// `ERR min or max not valid string range item`.
    pub fn parse(min: &'a [u8], max: &'a [u8]) -> Option<LexRange<'a>> {
        Some(LexRange {
            min: LexBound::parse(min)?,
            max: LexBound::parse(max)?,
        })
    }

    /// Redis's `zslLexValueGteMin`.
    #[inline]
    pub fn gte_min(&self, v: &[u8]) -> bool {
        match self.min {
            LexBound::NegInf => true,
            LexBound::PosInf => false,
            LexBound::Incl(m) => v >= m,
            LexBound::Excl(m) => v > m,
        }
    }

    /// Redis's `zslLexValueLteMax`.
    #[inline]
    pub fn lte_max(&self, v: &[u8]) -> bool {
        match self.max {
            LexBound::NegInf => false,
            LexBound::PosInf => true,
            LexBound::Incl(m) => v <= m,
            LexBound::Excl(m) => v < m,
        }
    }

    #[inline]
    pub fn contains(&self, v: &[u8]) -> bool {
        self.gte_min(v) && self.lte_max(v)
    }

    /// A range no string can satisfy (the first test of Redis's `zslIsInLexRange`).
    pub fn is_empty(&self) -> bool {
        match self.min.cmp_bound(&self.max) {
            Ordering::Greater => true,
            Ordering::Equal => self.min.excl() || self.max.excl(),
            Ordering::Less => false,
        }
    }
}

/// A skiplist ordered by `(score, member)`; see the module documentation.
#[derive(Clone)]
pub struct SkipList {
    /// Node 0 is the header (empty member, its level 0 in `next0`).
    nodes: Arena,
    /// `pools[h - 2]`: the upper-level blocks of the nodes of height `h`.
    pools: Vec<Vec<u32>>,
    /// The header's levels 1..32 as `[forward, span]`.
    head_up: [[u32; 2]; MAX_LEVEL - 1],
    tail: u32,
    /// Linked nodes (the arena also holds the header).
    length: u32,
    /// Levels in use (Redis's `zsl->level`), >= 1.
    level: usize,
    /// wyrand state for the level draws (per list so tests can seed it).
    rng: u64,
    /// Bytes of members stored out of line (longer than the inline limit), kept as a
    /// running sum so [`SkipList::heap_bytes`] is O(1).
    member_heap: usize,
}

impl Default for SkipList {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for SkipList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.iter().map(|(m, s)| (String::from_utf8_lossy(m), s)))
            .finish()
    }
}

impl SkipList {
    pub fn new() -> SkipList {
        SkipList::with_seed(random_u64())
    }

    /// A list whose level draws are a function of `seed` (reproducible tests).
    pub fn with_seed(seed: u64) -> SkipList {
        let mut nodes = Arena::new();
        nodes.push(Node {
            member: Key::new(b""),
            score: 0.0,
            backward: NIL,
            next0: NIL,
            hnext: NIL,
            upper: 0,
        });
        SkipList {
            nodes,
            pools: Vec::new(),
            head_up: [[NIL, 0]; MAX_LEVEL - 1],
            tail: NIL,
            length: 0,
            level: 1,
            rng: seed,
            member_heap: 0,
        }
    }

    #[inline]
    pub fn len(&self) -> usize {
        self.length as usize
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.length == 0
    }

    /// Redis's `zslRandomLevel`: level k+1 with probability (1/4)^k · 3/4, capped at 32.
    /// Two zero bits of one draw per extra level.
    fn random_level(&mut self) -> usize {
        self.rng = self.rng.wrapping_add(0xa076_1d64_78bd_642f);
        let t = u128::from(self.rng).wrapping_mul(u128::from(self.rng ^ 0xe703_7ed1_a0b4_28db));
        let r = ((t >> 64) as u64) ^ (t as u64);
        (1 + r.trailing_zeros() as usize / 2).min(MAX_LEVEL)
    }

    // ---- level access -------------------------------------------------------------------

    /// Position in its pool of level `i >= 1` of node `x` (not the header).
    #[inline]
    fn slot(&self, x: u32, i: usize) -> (usize, usize) {
        let n = self.nodes.get(x);
        let h = n.height();
        debug_assert!(i < h, "level {i} of a node of height {h}");
        (h - 2, n.block() * stride(h) + 2 * (i - 1))
    }

    /// `(forward, span)` of node `x` at level `i`.
    #[inline]
    fn link(&self, x: u32, i: usize) -> (u32, u32) {
        if i == 0 {
            let f = self.nodes.get(x).next0;
            return (f, u32::from(f != NIL));
        }
        if x == HEAD {
            let [f, s] = self.head_up[i - 1];
            return (f, s);
        }
        let (p, o) = self.slot(x, i);
        let pool = &self.pools[p];
        (pool[o], pool[o + 1])
    }

    #[inline]
    fn fwd(&self, x: u32, i: usize) -> u32 {
        if i == 0 {
            self.nodes.get(x).next0
        } else {
            self.link(x, i).0
        }
    }

    #[inline]
    fn set_fwd(&mut self, x: u32, i: usize, f: u32) {
        if i == 0 {
            self.nodes.get_mut(x).next0 = f;
        } else if x == HEAD {
            self.head_up[i - 1][0] = f;
        } else {
            let (p, o) = self.slot(x, i);
            self.pools[p][o] = f;
        }
    }

    /// Level 0 spans are implicit (derived from `next0`), so setting one is a no-op.
    #[inline]
    fn set_span(&mut self, x: u32, i: usize, s: u32) {
        if i == 0 {
            return;
        }
        if x == HEAD {
            self.head_up[i - 1][1] = s;
        } else {
            let (p, o) = self.slot(x, i);
            self.pools[p][o + 1] = s;
        }
    }

    /// A block of `h - 1` unlinked levels for node `owner`; `None` if the pool is full.
    fn alloc_block(&mut self, h: usize, owner: u32) -> Option<usize> {
        if self.pools.len() < h - 1 {
            self.pools.resize_with(h - 1, Vec::new);
        }
        let pool = &mut self.pools[h - 2];
        let block = pool.len() / stride(h);
        if block > BLOCK_MASK as usize {
            return None;
        }
        for _ in 1..h {
            pool.extend_from_slice(&[NIL, 0]);
        }
        pool.push(owner);
        Some(block)
    }

    /// Frees block `b` of height `h` by moving the pool's last block into it.
    fn free_block(&mut self, h: usize, b: usize) {
        let st = stride(h);
        let pool = &mut self.pools[h - 2];
        let last = pool.len() / st - 1;
        if b != last {
            pool.copy_within(last * st..(last + 1) * st, b * st);
            let owner = pool[b * st + st - 1];
            self.nodes.get_mut(owner).upper = encode_upper(h, b);
        }
        let pool = &mut self.pools[h - 2];
        pool.truncate(last * st);
        if pool.is_empty() {
            *pool = Vec::new();
        } else if pool.capacity() >= 64 && pool.len() < pool.capacity() / 4 {
            pool.shrink_to(pool.capacity() / 2);
        }
        while self.pools.last().is_some_and(|p| p.capacity() == 0) {
            self.pools.pop();
        }
    }

    // ---- core algorithms ----------------------------------------------------------------

    /// For each level, the last node before `(score, member)` and its rank (Redis's search
    /// loop of `zslInsert`).
    fn search(
        &self,
        score: f64,
        member: &[u8],
        update: &mut [u32; MAX_LEVEL],
        rank: &mut [u32; MAX_LEVEL],
    ) {
        let mut x = HEAD;
        let mut r = 0u32;
        for i in (0..self.level).rev() {
            loop {
                let (f, s) = self.link(x, i);
                if f == NIL || !self.nodes.get(f).before(score, member) {
                    break;
                }
                r += s;
                x = f;
            }
            update[i] = x;
            rank[i] = r;
        }
    }

    /// Creates a node for `(score, member)`, which must not be present, and links it.
    fn insert_key(&mut self, score: f64, member: Key) -> u32 {
        assert!(self.len() < MAX_LEN, "sorted set exceeds {MAX_LEN} members");
        debug_assert!(!score.is_nan());
        let mut h = self.random_level();
        self.member_heap += member.heap_size();
        let x = self.nodes.push(Node {
            member,
            score,
            backward: NIL,
            next0: NIL,
            hnext: NIL,
            upper: 0,
        });
        if h > 1 {
            match self.alloc_block(h, x) {
                Some(b) => self.nodes.get_mut(x).upper = encode_upper(h, b),
                None => h = 1,
            }
        }
        self.link_node(x, h);
        x
    }

    /// Links the unlinked node `x` of height `h` at the place its key sorts to (the body of
    /// Redis's `zslInsert`).
    fn link_node(&mut self, x: u32, h: usize) {
        let mut update = [HEAD; MAX_LEVEL];
        let mut rank = [0u32; MAX_LEVEL];
        {
            let n = self.nodes.get(x);
            self.search(n.score, n.member.as_bytes(), &mut update, &mut rank);
        }
        if h > self.level {
            for i in self.level..h {
                rank[i] = 0;
                update[i] = HEAD;
                self.head_up[i - 1][1] = self.length;
            }
            self.level = h;
        }
        for i in 0..h {
            let (uf, us) = self.link(update[i], i);
            let d = rank[0] - rank[i];
            self.set_fwd(x, i, uf);
            self.set_span(x, i, us - d);
            self.set_fwd(update[i], i, x);
            self.set_span(update[i], i, d + 1);
        }
        for (i, &u) in update.iter().enumerate().take(self.level).skip(h) {
            let (_, s) = self.link(u, i);
            self.set_span(u, i, s + 1);
        }
        let back = if update[0] == HEAD { NIL } else { update[0] };
        self.nodes.get_mut(x).backward = back;
        let next = self.nodes.get(x).next0;
        if next != NIL {
            self.nodes.get_mut(next).backward = x;
        } else {
            self.tail = x;
        }
        self.length += 1;
    }

    /// Unlinks `x` given its predecessors (Redis's `zslDeleteNode`); the node stays in the
    /// arena with stale links.
    fn unlink(&mut self, x: u32, update: &[u32; MAX_LEVEL]) {
        for (i, &u) in update.iter().enumerate().take(self.level) {
            let (uf, us) = self.link(u, i);
            if uf == x {
                let (xf, xs) = self.link(x, i);
                self.set_span(u, i, us + xs - 1);
                self.set_fwd(u, i, xf);
            } else {
                self.set_span(u, i, us - 1);
            }
        }
        let (next, back) = {
            let n = self.nodes.get(x);
            (n.next0, n.backward)
        };
        if next != NIL {
            self.nodes.get_mut(next).backward = back;
        } else {
            self.tail = back;
        }
        while self.level > 1 && self.head_up[self.level - 2][0] == NIL {
            self.level -= 1;
        }
        self.length -= 1;
    }

    /// Unlinks and frees `x`, keeping the arena dense. Ids held by the caller in `update`
    /// and `held` are renamed if the node they name is moved. Returns the removed node.
    fn remove_node<H: Hooks>(
        &mut self,
        x: u32,
        update: &mut [u32; MAX_LEVEL],
        held: &mut [u32],
        hooks: &mut H,
    ) -> Node {
        self.unlink(x, update);
        hooks.removing(&mut self.nodes, x);
        let n = self.nodes.get(x);
        let (h, b) = (n.height(), n.block());
        self.member_heap -= n.member.heap_size();
        if h > 1 {
            self.free_block(h, b);
        }
        let last = (self.nodes.len - 1) as u32;
        if x == last {
            return self.nodes.swap_remove(x);
        }
        self.repoint(last, x);
        for id in update.iter_mut().chain(held.iter_mut()) {
            if *id == last {
                *id = x;
            }
        }
        let removed = self.nodes.swap_remove(x);
        hooks.moved(&mut self.nodes, last, x);
        removed
    }

    /// Re-points every link to the linked node `from` at `to` (whose slot it is about to
    /// take): its predecessors at each of its levels, its successor's backward link or the
    /// tail, and its pool block's owner.
    fn repoint(&mut self, from: u32, to: u32) {
        let mut preds = [HEAD; MAX_LEVEL];
        let (h, next) = {
            let n = self.nodes.get(from);
            let (score, member) = (n.score, n.member.as_bytes());
            let mut y = HEAD;
            for i in (0..self.level).rev() {
                loop {
                    let f = self.fwd(y, i);
                    if f == NIL || !self.nodes.get(f).before(score, member) {
                        break;
                    }
                    y = f;
                }
                preds[i] = y;
            }
            (n.height(), n.next0)
        };
        for (i, &p) in preds.iter().enumerate().take(h) {
            debug_assert_eq!(self.fwd(p, i), from);
            self.set_fwd(p, i, to);
        }
        if next != NIL {
            self.nodes.get_mut(next).backward = to;
        } else {
            self.tail = to;
        }
        if h > 1 {
            let st = stride(h);
            let b = self.nodes.get(from).block();
            self.pools[h - 2][b * st + st - 1] = to;
        }
    }

    /// Removes `(score, member)` if present (Redis's `zslDelete`), returning its member.
    fn delete_with<H: Hooks>(&mut self, score: f64, member: &[u8], hooks: &mut H) -> Option<Key> {
        let mut update = [HEAD; MAX_LEVEL];
        let mut rank = [0u32; MAX_LEVEL];
        self.search(score, member, &mut update, &mut rank);
        let x = self.fwd(update[0], 0);
        if x == NIL {
            return None;
        }
        let n = self.nodes.get(x);
        if n.score != score || n.member.as_bytes() != member {
            return None;
        }
        Some(self.remove_node(x, &mut update, &mut [], hooks).member)
    }

    /// Removes the linked node `x`.
    fn remove_id<H: Hooks>(&mut self, x: u32, hooks: &mut H) -> (Key, f64) {
        let mut update = [HEAD; MAX_LEVEL];
        let mut rank = [0u32; MAX_LEVEL];
        {
            let n = self.nodes.get(x);
            self.search(n.score, n.member.as_bytes(), &mut update, &mut rank);
        }
        debug_assert_eq!(self.fwd(update[0], 0), x);
        let n = self.remove_node(x, &mut update, &mut [], hooks);
        (n.member, n.score)
    }

    fn pop_first_with<H: Hooks>(&mut self, hooks: &mut H) -> Option<(Key, f64)> {
        let x = self.fwd(HEAD, 0);
        if x == NIL {
            return None;
        }
        // The first node's predecessor is the header at every level.
        let mut update = [HEAD; MAX_LEVEL];
        let n = self.remove_node(x, &mut update, &mut [], hooks);
        Some((n.member, n.score))
    }

    fn pop_last_with<H: Hooks>(&mut self, hooks: &mut H) -> Option<(Key, f64)> {
        (self.tail != NIL).then(|| self.remove_id(self.tail, hooks))
    }

    /// Redis's `zslDeleteRangeByScore`.
    fn delete_range_by_score_with<H: Hooks>(&mut self, r: &ScoreRange, hooks: &mut H) -> usize {
        let mut update = [HEAD; MAX_LEVEL];
        let mut x = HEAD;
        for i in (0..self.level).rev() {
            loop {
                let f = self.fwd(x, i);
                if f == NIL || r.gte_min(self.nodes.get(f).score) {
                    break;
                }
                x = f;
            }
            update[i] = x;
        }
        let mut x = self.fwd(x, 0);
        let mut removed = 0;
        while x != NIL && r.lte_max(self.nodes.get(x).score) {
            let mut held = [self.nodes.get(x).next0];
            self.remove_node(x, &mut update, &mut held, hooks);
            removed += 1;
            x = held[0];
        }
        removed
    }

    /// Redis's `zslDeleteRangeByLex`.
    fn delete_range_by_lex_with<H: Hooks>(&mut self, r: &LexRange<'_>, hooks: &mut H) -> usize {
        let mut update = [HEAD; MAX_LEVEL];
        let mut x = HEAD;
        for i in (0..self.level).rev() {
            loop {
                let f = self.fwd(x, i);
                if f == NIL || r.gte_min(self.nodes.get(f).member.as_bytes()) {
                    break;
                }
                x = f;
            }
            update[i] = x;
        }
        let mut x = self.fwd(x, 0);
        let mut removed = 0;
        while x != NIL && r.lte_max(self.nodes.get(x).member.as_bytes()) {
            let mut held = [self.nodes.get(x).next0];
            self.remove_node(x, &mut update, &mut held, hooks);
            removed += 1;
            x = held[0];
        }
        removed
    }

    /// Redis's `zslDeleteRangeByRank` with 0-based inclusive `start..=end`.
    fn delete_range_by_rank_with<H: Hooks>(
        &mut self,
        start: usize,
        end: usize,
        hooks: &mut H,
    ) -> usize {
        if start > end || start >= self.len() {
            return 0;
        }
        // 1-based, as Redis; `start + 1 <= len <= u32::MAX - 1`.
        let start1 = start as u64 + 1;
        let end1 = end.min(self.len() - 1) as u64 + 1;
        let mut update = [HEAD; MAX_LEVEL];
        let mut traversed = 0u64;
        let mut x = HEAD;
        for i in (0..self.level).rev() {
            loop {
                let (f, s) = self.link(x, i);
                if f == NIL || traversed + u64::from(s) >= start1 {
                    break;
                }
                traversed += u64::from(s);
                x = f;
            }
            update[i] = x;
        }
        traversed += 1;
        let mut x = self.fwd(x, 0);
        let mut removed = 0;
        while x != NIL && traversed <= end1 {
            let mut held = [self.nodes.get(x).next0];
            self.remove_node(x, &mut update, &mut held, hooks);
            removed += 1;
            traversed += 1;
            x = held[0];
        }
        removed
    }

    /// Changes the score of the linked node `x` (Redis's `zslUpdateScore`): in place when
    /// the node keeps its position, else unlinked and relinked. The node keeps its id and its
    /// height (a fresh draw would be equally random), so nothing is allocated or freed.
    fn set_node_score(&mut self, x: u32, new: f64) {
        debug_assert!(!new.is_nan());
        let (back, next, old) = {
            let n = self.nodes.get(x);
            (n.backward, n.next0, n.score)
        };
        let fits = {
            let member = self.nodes.get(x).member.as_bytes();
            (back == NIL || self.nodes.get(back).before(new, member))
                && (next == NIL || {
                    let nn = self.nodes.get(next);
                    new < nn.score || (new == nn.score && member < nn.member.as_bytes())
                })
        };
        if fits {
            self.nodes.get_mut(x).score = new;
            return;
        }
        let mut update = [HEAD; MAX_LEVEL];
        let mut rank = [0u32; MAX_LEVEL];
        {
            let n = self.nodes.get(x);
            self.search(old, n.member.as_bytes(), &mut update, &mut rank);
        }
        debug_assert_eq!(self.fwd(update[0], 0), x);
        let h = self.nodes.get(x).height();
        self.unlink(x, &update);
        self.nodes.get_mut(x).score = new;
        self.link_node(x, h);
    }

    // ---- public API ---------------------------------------------------------------------

    /// Inserts `(score, member)`; the member must not be present (the caller checks, as
    /// Redis's callers of `zslInsert` check the dict), and `score` must not be NaN.
    pub fn insert(&mut self, score: f64, member: &[u8]) -> NodeId {
        NodeId(self.insert_key(score, Key::new(member)))
    }

    /// Removes `(score, member)`; returns the member's bytes if it was present.
    pub fn delete(&mut self, score: f64, member: &[u8]) -> Option<Key> {
        self.delete_with(score, member, &mut ())
    }

    /// Changes the score of `(cur, member)` to `new` (Redis's `zslUpdateScore`); `None` if
    /// the element is not present. The node keeps its id.
    pub fn update_score(&mut self, cur: f64, member: &[u8], new: f64) -> Option<NodeId> {
        let mut update = [HEAD; MAX_LEVEL];
        let mut rank = [0u32; MAX_LEVEL];
        self.search(cur, member, &mut update, &mut rank);
        let x = self.fwd(update[0], 0);
        if x == NIL {
            return None;
        }
        let n = self.nodes.get(x);
        if n.score != cur || n.member.as_bytes() != member {
            return None;
        }
        self.set_node_score(x, new);
        Some(NodeId(x))
    }

    /// Removes and returns the lowest element.
    pub fn pop_first(&mut self) -> Option<(Key, f64)> {
        self.pop_first_with(&mut ())
    }

    /// Removes and returns the highest element.
    pub fn pop_last(&mut self) -> Option<(Key, f64)> {
        self.pop_last_with(&mut ())
    }

    /// Removes every element whose score is in `r`; returns how many.
    pub fn delete_range_by_score(&mut self, r: &ScoreRange) -> usize {
        self.delete_range_by_score_with(r, &mut ())
    }

    /// Removes every element whose member is in `r` (all scores assumed equal).
    pub fn delete_range_by_lex(&mut self, r: &LexRange<'_>) -> usize {
        self.delete_range_by_lex_with(r, &mut ())
    }

    /// Removes the elements of 0-based ranks `start..=end` (`end` clamped to the last).
    pub fn delete_range_by_rank(&mut self, start: usize, end: usize) -> usize {
        self.delete_range_by_rank_with(start, end, &mut ())
    }

    /// 0-based rank of `(score, member)` in ascending order (Redis's `zslGetRank` − 1).
    pub fn rank(&self, score: f64, member: &[u8]) -> Option<usize> {
        let mut x = HEAD;
        let mut rank = 0usize;
        for i in (0..self.level).rev() {
            loop {
                let (f, s) = self.link(x, i);
                if f == NIL {
                    break;
                }
                let n = self.nodes.get(f);
                // Advance while <= (score, member): stop on the element itself.
                if !(n.score < score || (n.score == score && n.member.as_bytes() <= member)) {
                    break;
                }
                rank += s as usize;
                x = f;
            }
            if x != HEAD {
                let n = self.nodes.get(x);
                if n.score == score && n.member.as_bytes() == member {
                    return Some(rank - 1);
                }
            }
        }
        None
    }

    /// 0-based ascending rank of node `id`.
    pub fn rank_of(&self, id: NodeId) -> usize {
        let n = self.nodes.get(id.0);
        match self.rank(n.score, n.member.as_bytes()) {
            Some(r) => r,
            None => unreachable!("node {} is not linked", id.0),
        }
    }

    /// The element at 0-based ascending rank `rank` (Redis's `zslGetElementByRank`).
    pub fn by_rank(&self, rank: usize) -> Option<NodeId> {
        if rank >= self.len() {
            return None;
        }
        let target = rank as u64 + 1;
        let mut x = HEAD;
        let mut traversed = 0u64;
        for i in (0..self.level).rev() {
            loop {
                let (f, s) = self.link(x, i);
                if f == NIL || traversed + u64::from(s) > target {
                    break;
                }
                traversed += u64::from(s);
                x = f;
            }
            if traversed == target {
                return Some(NodeId(x));
            }
        }
        None
    }

    /// Whether some element may be in `r` (Redis's `zslIsInRange`).
    fn is_in_range(&self, r: &ScoreRange) -> bool {
        if r.is_empty() || self.tail == NIL {
            return false;
        }
        r.gte_min(self.nodes.get(self.tail).score)
            && r.lte_max(self.nodes.get(self.fwd(HEAD, 0)).score)
    }

    /// The lowest element with a score in `r` (Redis's `zslFirstInRange`).
    pub fn first_in_range(&self, r: &ScoreRange) -> Option<NodeId> {
        if !self.is_in_range(r) {
            return None;
        }
        let mut x = HEAD;
        for i in (0..self.level).rev() {
            loop {
                let f = self.fwd(x, i);
                if f == NIL || r.gte_min(self.nodes.get(f).score) {
                    break;
                }
                x = f;
            }
        }
        // Inside the range's span: the tail's score is >= min, so a next node exists.
        let x = self.fwd(x, 0);
        (x != NIL && r.lte_max(self.nodes.get(x).score)).then_some(NodeId(x))
    }

    /// The highest element with a score in `r` (Redis's `zslLastInRange`).
    pub fn last_in_range(&self, r: &ScoreRange) -> Option<NodeId> {
        if !self.is_in_range(r) {
            return None;
        }
        let mut x = HEAD;
        for i in (0..self.level).rev() {
            loop {
                let f = self.fwd(x, i);
                if f == NIL || !r.lte_max(self.nodes.get(f).score) {
                    break;
                }
                x = f;
            }
        }
        (x != HEAD && r.gte_min(self.nodes.get(x).score)).then_some(NodeId(x))
    }

    /// Redis's `zslIsInLexRange`.
    fn is_in_lex_range(&self, r: &LexRange<'_>) -> bool {
        if r.is_empty() || self.tail == NIL {
            return false;
        }
        r.gte_min(self.nodes.get(self.tail).member.as_bytes())
            && r.lte_max(self.nodes.get(self.fwd(HEAD, 0)).member.as_bytes())
    }

    /// The lowest element whose member is in `r` (Redis's `zslFirstInLexRange`).
    pub fn first_in_lex_range(&self, r: &LexRange<'_>) -> Option<NodeId> {
        if !self.is_in_lex_range(r) {
            return None;
        }
        let mut x = HEAD;
        for i in (0..self.level).rev() {
            loop {
                let f = self.fwd(x, i);
                if f == NIL || r.gte_min(self.nodes.get(f).member.as_bytes()) {
                    break;
                }
                x = f;
            }
        }
        let x = self.fwd(x, 0);
        (x != NIL && r.lte_max(self.nodes.get(x).member.as_bytes())).then_some(NodeId(x))
    }

    /// The highest element whose member is in `r` (Redis's `zslLastInLexRange`).
    pub fn last_in_lex_range(&self, r: &LexRange<'_>) -> Option<NodeId> {
        if !self.is_in_lex_range(r) {
            return None;
        }
        let mut x = HEAD;
        for i in (0..self.level).rev() {
            loop {
                let f = self.fwd(x, i);
                if f == NIL || !r.lte_max(self.nodes.get(f).member.as_bytes()) {
                    break;
                }
                x = f;
            }
        }
        (x != HEAD && r.gte_min(self.nodes.get(x).member.as_bytes())).then_some(NodeId(x))
    }

    #[inline]
    fn opt(x: u32) -> Option<NodeId> {
        (x != NIL).then_some(NodeId(x))
    }

    /// The lowest element.
    pub fn first(&self) -> Option<NodeId> {
        Self::opt(self.fwd(HEAD, 0))
    }

    /// The highest element.
    pub fn last(&self) -> Option<NodeId> {
        Self::opt(self.tail)
    }

    /// The element after `id`.
    pub fn next(&self, id: NodeId) -> Option<NodeId> {
        Self::opt(self.nodes.get(id.0).next0)
    }

    /// The element before `id`.
    pub fn prev(&self, id: NodeId) -> Option<NodeId> {
        Self::opt(self.nodes.get(id.0).backward)
    }

    #[inline]
    pub fn member(&self, id: NodeId) -> &[u8] {
        self.nodes.get(id.0).member.as_bytes()
    }

    #[inline]
    pub fn score(&self, id: NodeId) -> f64 {
        self.nodes.get(id.0).score
    }

    /// A uniformly random element, O(1) (ids are dense).
    pub fn random(&self) -> Option<NodeId> {
        if self.is_empty() {
            return None;
        }
        Some(NodeId(1 + (random_u64() % u64::from(self.length)) as u32))
    }

    /// Ascending `(member, score)` pairs.
    pub fn iter(&self) -> Iter<'_> {
        Iter {
            sl: self,
            cur: self.fwd(HEAD, 0),
            rev: false,
        }
    }

    /// Descending `(member, score)` pairs.
    pub fn iter_rev(&self) -> Iter<'_> {
        Iter {
            sl: self,
            cur: self.tail,
            rev: true,
        }
    }

    /// Ascending from `id` included.
    pub fn iter_from(&self, id: NodeId) -> Iter<'_> {
        Iter {
            sl: self,
            cur: id.0,
            rev: false,
        }
    }

    /// Descending from `id` included.
    pub fn iter_rev_from(&self, id: NodeId) -> Iter<'_> {
        Iter {
            sl: self,
            cur: id.0,
            rev: true,
        }
    }

    /// Heap bytes owned: arena, level pools and out-of-line members. O(1).
    pub fn heap_bytes(&self) -> usize {
        self.member_heap
            + self.nodes.heap_bytes()
            + self.pools.capacity() * std::mem::size_of::<Vec<u32>>()
            + self.pools.iter().map(|p| p.capacity() * 4).sum::<usize>()
    }

    /// Verifies every structural invariant of the module documentation; for tests and
    /// debugging (O(n · levels)).
    pub fn check(&self) -> Result<(), String> {
        let len = self.len();
        if self.nodes.len != len + 1 {
            return Err(format!("arena {} for {} nodes", self.nodes.len, len));
        }
        if self.level == 0 || self.level > MAX_LEVEL {
            return Err(format!("level {}", self.level));
        }
        // Level 0: order, backward links, tail, ranks.
        let mut rank_of = vec![u32::MAX; self.nodes.len];
        let (mut prev, mut x, mut r) = (NIL, self.fwd(HEAD, 0), 0u32);
        while x != NIL {
            if x == HEAD || x as usize >= self.nodes.len {
                return Err(format!("bad id {x} after {prev}"));
            }
            if rank_of[x as usize] != u32::MAX {
                return Err(format!("cycle at {x}"));
            }
            r += 1;
            rank_of[x as usize] = r;
            let n = self.nodes.get(x);
            if n.backward != prev {
                return Err(format!("backward of {x} is {} not {prev}", n.backward));
            }
            if n.score.is_nan() {
                return Err(format!("NaN score at {x}"));
            }
            if prev != NIL {
                let p = self.nodes.get(prev);
                if !p.before(n.score, n.member.as_bytes()) {
                    return Err(format!("order broken: {prev} then {x}"));
                }
            }
            if n.height() > self.level {
                return Err(format!(
                    "node {x} height {} > level {}",
                    n.height(),
                    self.level
                ));
            }
            prev = x;
            x = n.next0;
        }
        if r as usize != len || self.tail != prev {
            return Err(format!(
                "walked {r} of {len}, tail {} last {prev}",
                self.tail
            ));
        }
        // Upper levels: chains, spans, heights.
        let rank = |x: u32| if x == HEAD { 0 } else { rank_of[x as usize] };
        for i in 0..self.level {
            let mut x = HEAD;
            let mut count = 0;
            loop {
                let (f, s) = self.link(x, i);
                if f == NIL {
                    if s as usize != len - rank(x) as usize {
                        return Err(format!("end span {s} at level {i} of {x}"));
                    }
                    break;
                }
                if f == HEAD || f as usize >= self.nodes.len || rank(f) == u32::MAX {
                    return Err(format!("level {i} of {x} points to {f}"));
                }
                if self.nodes.get(f).height() <= i {
                    return Err(format!(
                        "node {f} of height {} at level {i}",
                        self.nodes.get(f).height()
                    ));
                }
                if rank(f) <= rank(x) || rank(f) - rank(x) != s {
                    return Err(format!("span {s} at level {i} from {x} to {f}"));
                }
                count += 1;
                x = f;
            }
            let want = (1..self.nodes.len as u32)
                .filter(|&y| self.nodes.get(y).height() > i)
                .count();
            if count != want {
                return Err(format!("level {i} links {count} of {want} nodes"));
            }
            if i > 0 && i == self.level - 1 && count == 0 {
                return Err(format!("empty top level {i}"));
            }
        }
        // Pools: each block owned by the node naming it.
        let mut blocks = 0;
        for (p, pool) in self.pools.iter().enumerate() {
            let h = p + 2;
            let st = stride(h);
            if pool.len() % st != 0 {
                return Err(format!("pool {h} length {}", pool.len()));
            }
            for b in 0..pool.len() / st {
                let owner = pool[b * st + st - 1];
                if owner == HEAD || owner as usize >= self.nodes.len {
                    return Err(format!("pool {h} block {b} owner {owner}"));
                }
                if self.nodes.get(owner).upper != encode_upper(h, b) {
                    return Err(format!("pool {h} block {b} owner {owner} disagrees"));
                }
                blocks += 1;
            }
        }
        let tall = (1..self.nodes.len as u32)
            .filter(|&y| self.nodes.get(y).height() > 1)
            .count();
        if blocks != tall {
            return Err(format!("{blocks} blocks for {tall} tall nodes"));
        }
        let heap: usize = (1..self.nodes.len as u32)
            .map(|y| self.nodes.get(y).member.heap_size())
            .sum();
        if heap != self.member_heap {
            return Err(format!("member bytes {heap}, counted {}", self.member_heap));
        }
        Ok(())
    }
}

/// Iterator over `(member, score)` in one direction from a starting node.
pub struct Iter<'a> {
    sl: &'a SkipList,
    cur: u32,
    rev: bool,
}

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a [u8], f64);

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        if self.cur == NIL {
            return None;
        }
        let n = self.sl.nodes.get(self.cur);
        self.cur = if self.rev { n.backward } else { n.next0 };
        Some((n.member.as_bytes(), n.score))
    }
}

// ---- ZSet ---------------------------------------------------------------------------------

const NOT_REHASHING: usize = usize::MAX;
/// Redis's `DICT_HT_INITIAL_SIZE`.
const INITIAL_BUCKETS: usize = 4;
/// Redis's `HASHTABLE_MIN_FILL` (percent).
const MIN_FILL: usize = 10;

/// The member → node index: chained hashing through the nodes' `hnext` links, two tables
/// during an incremental rehash (Redis's dict, minus the dictEntry allocations).
#[derive(Clone)]
struct Index {
    /// Bucket heads; `ht[1]` is non-empty only while rehashing.
    ht: [Vec<u32>; 2],
    used: [usize; 2],
    /// Next bucket of `ht[0]` to migrate, or `NOT_REHASHING`. Buckets below it are empty.
    rehashidx: usize,
}

impl Index {
    fn new() -> Index {
        Index {
            ht: [Vec::new(), Vec::new()],
            used: [0, 0],
            rehashidx: NOT_REHASHING,
        }
    }

    #[inline]
    fn rehashing(&self) -> bool {
        self.rehashidx != NOT_REHASHING
    }

    #[inline]
    fn bucket(t: &[u32], h: u64) -> usize {
        h as usize & (t.len() - 1)
    }

    fn find(&self, nodes: &Arena, member: &[u8], h: u64) -> Option<u32> {
        for t in &self.ht {
            if t.is_empty() {
                break;
            }
            let mut n = t[Self::bucket(t, h)];
            while n != NIL {
                let node = nodes.get(n);
                if node.member.as_bytes() == member {
                    return Some(n);
                }
                n = node.hnext;
            }
            if !self.rehashing() {
                break;
            }
        }
        None
    }

    /// Allocates a table of `size` buckets (a power of two >= the elements); starts an
    /// incremental rehash into it unless the index is empty.
    fn resize(&mut self, size: usize) {
        let size = size.max(INITIAL_BUCKETS).next_power_of_two();
        if self.rehashing() || size == self.ht[0].len() {
            return;
        }
        if self.used[0] == 0 {
            self.ht[0] = vec![NIL; size];
            return;
        }
        self.ht[1] = vec![NIL; size];
        self.rehashidx = 0;
    }

    /// Links node `x`, whose member hashes to `h` and is not present.
    fn add(&mut self, nodes: &mut Arena, x: u32, h: u64) {
        if self.rehashing() {
            self.rehash_step(nodes, 1);
        }
        if !self.rehashing() && self.used[0] >= self.ht[0].len() {
            // Redis's _dictExpandIfNeeded: grow at load factor 1.
            self.resize(self.used[0] + 1);
        }
        let t = usize::from(self.rehashing());
        let tab = &mut self.ht[t];
        let b = Self::bucket(tab, h);
        nodes.get_mut(x).hnext = tab[b];
        tab[b] = x;
        self.used[t] += 1;
    }

    /// Unlinks node `x` from its chain.
    fn remove(&mut self, nodes: &mut Arena, x: u32) {
        let h = hash_bytes(nodes.get(x).member.as_bytes());
        let next = nodes.get(x).hnext;
        for t in 0..2 {
            if self.ht[t].is_empty() {
                break;
            }
            if Self::relink(&mut self.ht[t], nodes, h, x, next) {
                self.used[t] -= 1;
                return;
            }
        }
        debug_assert!(false, "node {x} not in the index");
    }

    /// In the chain of bucket `h` of `tab`, replaces the link to `from` with `to`; returns
    /// whether the link was found.
    fn relink(tab: &mut [u32], nodes: &mut Arena, h: u64, from: u32, to: u32) -> bool {
        let b = Self::bucket(tab, h);
        if tab[b] == from {
            tab[b] = to;
            return true;
        }
        let mut n = tab[b];
        while n != NIL {
            let next = nodes.get(n).hnext;
            if next == from {
                nodes.get_mut(n).hnext = to;
                return true;
            }
            n = next;
        }
        false
    }

    /// Shrinks below 10 % fill (Redis's `htNeedsResize` + `dictResize`).
    fn shrink_if_needed(&mut self) {
        let size = self.ht[0].len();
        if !self.rehashing() && size > INITIAL_BUCKETS && self.used[0] * 100 / size < MIN_FILL {
            self.resize(self.used[0]);
        }
    }

    /// Migrates up to `n` buckets (visiting at most `10 n` empty ones, as Redis's
    /// `dictRehash`); returns whether migration remains.
    fn rehash_step(&mut self, nodes: &mut Arena, n: usize) -> bool {
        if !self.rehashing() {
            return false;
        }
        let mut empty_visits = n * 10;
        let mut n = n;
        while n > 0 && self.used[0] != 0 {
            n -= 1;
            while self.ht[0][self.rehashidx] == NIL {
                self.rehashidx += 1;
                empty_visits -= 1;
                if empty_visits == 0 {
                    return true;
                }
            }
            let mut x = self.ht[0][self.rehashidx];
            while x != NIL {
                let next = nodes.get(x).hnext;
                let b = Self::bucket(&self.ht[1], hash_bytes(nodes.get(x).member.as_bytes()));
                nodes.get_mut(x).hnext = self.ht[1][b];
                self.ht[1][b] = x;
                self.used[0] -= 1;
                self.used[1] += 1;
                x = next;
            }
            self.ht[0][self.rehashidx] = NIL;
            self.rehashidx += 1;
        }
        if self.used[0] == 0 {
            self.ht[0] = std::mem::take(&mut self.ht[1]);
            self.used = [self.used[1], 0];
            self.rehashidx = NOT_REHASHING;
            return false;
        }
        true
    }

    fn heap_bytes(&self) -> usize {
        (self.ht[0].capacity() + self.ht[1].capacity()) * 4
    }
}

impl Hooks for Index {
    fn removing(&mut self, nodes: &mut Arena, x: u32) {
        self.remove(nodes, x);
    }

    fn moved(&mut self, nodes: &mut Arena, from: u32, to: u32) {
        let h = hash_bytes(nodes.get(to).member.as_bytes());
        for t in 0..2 {
            if self.ht[t].is_empty() {
                break;
            }
            if Self::relink(&mut self.ht[t], nodes, h, from, to) {
                return;
            }
        }
        debug_assert!(false, "moved node {from} not in the index");
    }
}

/// A sorted set in the skiplist encoding: the [`SkipList`] for order and ranks plus an
/// index from member to node for O(1) ZSCORE/ZADD lookups (Redis's `zset` struct). Read-only
/// ordered queries go through [`ZSet::list`].
#[derive(Clone)]
pub struct ZSet {
    sl: SkipList,
    index: Index,
}

impl Default for ZSet {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for ZSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.sl.fmt(f)
    }
}

impl ZSet {
    pub fn new() -> ZSet {
        ZSet {
            sl: SkipList::new(),
            index: Index::new(),
        }
    }

    /// Sized for `n` members (conversion from a listpack, like Redis's `dictExpand`).
    pub fn with_capacity(n: usize) -> ZSet {
        let mut z = ZSet::new();
        z.sl.nodes.reserve(n);
        z.index.resize(n);
        z
    }

    /// Reproducible level draws (tests).
    pub fn with_seed(seed: u64) -> ZSet {
        ZSet {
            sl: SkipList::with_seed(seed),
            index: Index::new(),
        }
    }

    #[inline]
    pub fn len(&self) -> usize {
        self.sl.len()
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.sl.is_empty()
    }

    /// The ordered view: ranks, ranges, iteration, `member(id)`/`score(id)`.
    #[inline]
    pub fn list(&self) -> &SkipList {
        &self.sl
    }

    /// The node of `member`.
    pub fn find(&self, member: &[u8]) -> Option<NodeId> {
        if self.is_empty() {
            return None;
        }
        self.index
            .find(&self.sl.nodes, member, hash_bytes(member))
            .map(NodeId)
    }

    /// The score of `member` (ZSCORE).
    pub fn score(&self, member: &[u8]) -> Option<f64> {
        self.find(member).map(|id| self.sl.score(id))
    }

    /// Inserts `member` with `score` if absent (`Ok(new node)`); if present, changes nothing
    /// and returns `Err(its node)` so the caller can apply ZADD's NX/XX/GT/LT/INCR rules and
    /// [`ZSet::set_score`] without a second lookup.
    pub fn insert(&mut self, member: &[u8], score: f64) -> Result<NodeId, NodeId> {
        let h = hash_bytes(member);
        if let Some(x) = self.index.find(&self.sl.nodes, member, h) {
            return Err(NodeId(x));
        }
        let x = self.sl.insert_key(score, Key::new(member));
        self.index.add(&mut self.sl.nodes, x, h);
        Ok(NodeId(x))
    }

    /// Sets the score of node `id` (repositioning it); `id` stays valid.
    pub fn set_score(&mut self, id: NodeId, score: f64) {
        self.sl.set_node_score(id.0, score);
    }

    /// Removes `member`; returns its score if it was present.
    pub fn remove(&mut self, member: &[u8]) -> Option<f64> {
        let id = self.find(member)?;
        Some(self.remove_node(id).1)
    }

    /// Removes node `id`, returning its member and score.
    pub fn remove_node(&mut self, id: NodeId) -> (Key, f64) {
        let r = self.sl.remove_id(id.0, &mut self.index);
        self.after_remove();
        r
    }

    /// Removes and returns the lowest element (ZPOPMIN).
    pub fn pop_first(&mut self) -> Option<(Key, f64)> {
        let r = self.sl.pop_first_with(&mut self.index);
        self.after_remove();
        r
    }

    /// Removes and returns the highest element (ZPOPMAX).
    pub fn pop_last(&mut self) -> Option<(Key, f64)> {
        let r = self.sl.pop_last_with(&mut self.index);
        self.after_remove();
        r
    }

    /// ZREMRANGEBYSCORE; returns the number removed.
    pub fn delete_range_by_score(&mut self, r: &ScoreRange) -> usize {
        let n = self.sl.delete_range_by_score_with(r, &mut self.index);
        self.after_remove();
        n
    }

    /// ZREMRANGEBYLEX; returns the number removed.
    pub fn delete_range_by_lex(&mut self, r: &LexRange<'_>) -> usize {
        let n = self.sl.delete_range_by_lex_with(r, &mut self.index);
        self.after_remove();
        n
    }

    /// ZREMRANGEBYRANK with 0-based inclusive ranks; returns the number removed.
    pub fn delete_range_by_rank(&mut self, start: usize, end: usize) -> usize {
        let n = self
            .sl
            .delete_range_by_rank_with(start, end, &mut self.index);
        self.after_remove();
        n
    }

    fn after_remove(&mut self) {
        self.index.rehash_step(&mut self.sl.nodes, 1);
        self.index.shrink_if_needed();
    }

    /// 0-based ascending rank of `member` (ZRANK; ZREVRANK is `len - 1 - rank`).
    pub fn rank(&self, member: &[u8]) -> Option<usize> {
        self.find(member).map(|id| self.sl.rank_of(id))
    }

    /// A uniformly random member's node (ZRANDMEMBER), O(1).
    pub fn random(&self) -> Option<NodeId> {
        self.sl.random()
    }

    /// Advances the incremental rehash by up to `n` buckets (cron); returns whether more
    /// remains.
    pub fn rehash(&mut self, n: usize) -> bool {
        self.index.rehash_step(&mut self.sl.nodes, n)
    }

    /// Redis's `dictScan` over the index (ZSCAN): calls `f` for each member in the buckets
    /// the cursor names and returns the next cursor (0 when done). Every member present for
    /// the whole scan is returned at least once, across resizes; some may repeat.
    pub fn scan(&self, cursor: u64, f: &mut dyn FnMut(&[u8], f64)) -> u64 {
        if self.is_empty() {
            return 0;
        }
        let nodes = &self.sl.nodes;
        let emit = |t: &[u32], v: u64, f: &mut dyn FnMut(&[u8], f64)| {
            let mut x = t[v as usize & (t.len() - 1)];
            while x != NIL {
                let n = nodes.get(x);
                f(n.member.as_bytes(), n.score);
                x = n.hnext;
            }
        };
        let mut v = cursor;
        if !self.index.rehashing() {
            let t0 = &self.index.ht[0];
            let m0 = (t0.len() - 1) as u64;
            emit(t0, v, f);
            // Set the unmasked bits so the reversed increment carries into the masked ones.
            v |= !m0;
            v = v.reverse_bits().wrapping_add(1).reverse_bits();
        } else {
            let (small, big) = if self.index.ht[0].len() <= self.index.ht[1].len() {
                (&self.index.ht[0], &self.index.ht[1])
            } else {
                (&self.index.ht[1], &self.index.ht[0])
            };
            let m0 = (small.len() - 1) as u64;
            let m1 = (big.len() - 1) as u64;
            emit(small, v, f);
            // Then every bucket of the big table that expands the small table's bucket.
            loop {
                emit(big, v, f);
                v |= !m1;
                v = v.reverse_bits().wrapping_add(1).reverse_bits();
                if v & (m0 ^ m1) == 0 {
                    break;
                }
            }
        }
        v
    }

    /// Heap bytes owned (skiplist, index and members).
    pub fn heap_bytes(&self) -> usize {
        self.sl.heap_bytes() + self.index.heap_bytes()
    }

    /// [`SkipList::check`] plus the index invariants.
    pub fn check(&self) -> Result<(), String> {
        self.sl.check()?;
        let ix = &self.index;
        let nodes = &self.sl.nodes;
        let mut seen = vec![false; nodes.len];
        let mut total = 0;
        for t in 0..2 {
            let tab = &ix.ht[t];
            if t == 1 && !ix.rehashing() && !tab.is_empty() {
                return Err("second table outside a rehash".into());
            }
            if !tab.is_empty() && !tab.len().is_power_of_two() {
                return Err(format!("table {t} size {}", tab.len()));
            }
            let mut count = 0;
            for (b, &head) in tab.iter().enumerate() {
                if t == 0 && ix.rehashing() && b < ix.rehashidx && head != NIL {
                    return Err(format!("migrated bucket {b} not empty"));
                }
                let mut x = head;
                while x != NIL {
                    if x == HEAD || x as usize >= nodes.len || seen[x as usize] {
                        return Err(format!("bad or repeated node {x} in bucket {b}"));
                    }
                    seen[x as usize] = true;
                    let n = nodes.get(x);
                    if Index::bucket(tab, hash_bytes(n.member.as_bytes())) != b {
                        return Err(format!("node {x} in the wrong bucket"));
                    }
                    count += 1;
                    x = n.hnext;
                }
            }
            if count != ix.used[t] {
                return Err(format!("table {t} holds {count}, counts {}", ix.used[t]));
            }
            total += count;
        }
        if total != self.len() {
            return Err(format!("index holds {total} of {}", self.len()));
        }
        for x in 1..nodes.len as u32 {
            let m = nodes.get(x).member.as_bytes();
            if self.find(m) != Some(NodeId(x)) {
                return Err(format!("member of node {x} not found at it"));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
