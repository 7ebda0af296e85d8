//! The skiplist proper (Redis's `zskiplist`): ordered by `(score, member)`, scores compared
//! as doubles (never NaN; `-0.0 == 0.0`, so those tie and the member decides) and members by
//! `memcmp` then length, exactly Rust's `[u8]` order. Levels are drawn with p = 1/4 up to
//! 32; every link carries a span (nodes skipped), so rank ↔ element is O(log n). Insert,
//! delete, the in-place score update, rank, element by rank, first/last in a score or lex
//! range and the range deletions follow `t_zset.c` (7.0.15) step for step.
//!
//! Levels: level 0's span is implicit (1 if there is a next node, else 0 — Redis's values),
//! so three nodes in four (height 1) store no level array at all. Levels 1.. of the nodes of
//! height `h` are packed in a pool per height: `(forward, span)` pairs then the owning node
//! id, so a freed block is refilled by moving the pool's last block and re-pointing its
//! owner. The header's 31 upper levels are an inline array. Spans follow Redis's
//! convention: for a link with no forward node, the span is the number of nodes after the
//! owner (so `rank(x) + span = len`).
//!
//! Removal keeps the arena dense by moving the last node into the freed slot (its
//! predecessors are found by one search on its key), so **a [`NodeId`] is valid only until
//! the next removal**; insertions and score updates keep every id valid.

use super::arena::{Arena, BLOCK_MASK, HEAD, MAX_LEN, NIL, Node, NodeId, encode_upper, stride};
use super::range::{LexRange, ScoreRange};
use crate::dict::{Key, random_u64};
use std::fmt;

/// Redis's `ZSKIPLIST_MAXLEVEL`.
pub const MAX_LEVEL: usize = 32;

/// What a [`ZSet`](super::ZSet) must hear about while the skiplist removes or moves nodes.
pub(super) trait Hooks {
    /// `x` is unlinked from the skiplist and about to be freed; its data is intact.
    fn removing(&mut self, nodes: &mut Arena, x: u32);
    /// The node formerly at `from` now lives at `to`.
    fn moved(&mut self, nodes: &mut Arena, from: u32, to: u32);
}

impl Hooks for () {
    fn removing(&mut self, _: &mut Arena, _: u32) {}
    fn moved(&mut self, _: &mut Arena, _: u32, _: u32) {}
}

/// A skiplist ordered by `(score, member)`; see the module documentation.
#[derive(Clone)]
pub struct SkipList {
    /// Node 0 is the header (empty member, its level 0 in `next0`).
    pub(super) nodes: Arena,
    /// `pools[h - 2]`: the upper-level blocks of the nodes of height `h`.
    pub(super) pools: Vec<Vec<u32>>,
    /// The header's levels 1..32 as `[forward, span]`.
    pub(super) head_up: [[u32; 2]; MAX_LEVEL - 1],
    pub(super) tail: u32,
    /// Linked nodes (the arena also holds the header).
    pub(super) length: u32,
    /// Levels in use (Redis's `zsl->level`), >= 1.
    pub(super) level: usize,
    /// wyrand state for the level draws (per list so tests can seed it).
    rng: u64,
    /// Bytes of members stored out of line (longer than the inline limit), kept as a
    /// running sum so [`SkipList::heap_bytes`] is O(1).
    pub(super) member_heap: usize,
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
    pub(super) fn link(&self, x: u32, i: usize) -> (u32, u32) {
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
    pub(super) fn fwd(&self, x: u32, i: usize) -> u32 {
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
    pub(super) fn insert_key(&mut self, score: f64, member: Key) -> u32 {
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
    pub(super) fn remove_id<H: Hooks>(&mut self, x: u32, hooks: &mut H) -> (Key, f64) {
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

    pub(super) fn pop_first_with<H: Hooks>(&mut self, hooks: &mut H) -> Option<(Key, f64)> {
        let x = self.fwd(HEAD, 0);
        if x == NIL {
            return None;
        }
        // The first node's predecessor is the header at every level.
        let mut update = [HEAD; MAX_LEVEL];
        let n = self.remove_node(x, &mut update, &mut [], hooks);
        Some((n.member, n.score))
    }

    pub(super) fn pop_last_with<H: Hooks>(&mut self, hooks: &mut H) -> Option<(Key, f64)> {
        (self.tail != NIL).then(|| self.remove_id(self.tail, hooks))
    }

    /// Redis's `zslDeleteRangeByScore`.
    pub(super) fn delete_range_by_score_with<H: Hooks>(
        &mut self,
        r: &ScoreRange,
        hooks: &mut H,
    ) -> usize {
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
    pub(super) fn delete_range_by_lex_with<H: Hooks>(
        &mut self,
        r: &LexRange<'_>,
        hooks: &mut H,
    ) -> usize {
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
    pub(super) fn delete_range_by_rank_with<H: Hooks>(
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
    pub(super) fn set_node_score(&mut self, x: u32, new: f64) {
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
