//! [`ZSet`]: a sorted set in the skiplist encoding (Redis's `zset` struct), the
//! [`SkipList`] for order and ranks plus the member [`Index`] for O(1) ZSCORE/ZADD lookups.
//! The member is stored once, in the skiplist node; the index links node ids. Every
//! removal goes through the skiplist with the index as its [`Hooks`](super::list::Hooks),
//! so a node leaves (or moves within) both at once.

use super::arena::NodeId;
use super::index::Index;
use super::list::SkipList;
use super::range::{LexRange, ScoreRange};
use crate::dict::{Key, hash_bytes};
use std::fmt;

/// A sorted set in the skiplist encoding: the [`SkipList`] for order and ranks plus an
/// index from member to node for O(1) ZSCORE/ZADD lookups (Redis's `zset` struct). Read-only
/// ordered queries go through [`ZSet::list`].
#[derive(Clone)]
pub struct ZSet {
    pub(super) sl: SkipList,
    pub(super) index: Index,
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
        let nodes = &self.sl.nodes;
        self.index.scan(nodes, cursor, &mut |x| {
            let n = nodes.get(x);
            f(n.member.as_bytes(), n.score);
        })
    }

    /// Heap bytes owned (skiplist, index and members).
    pub fn heap_bytes(&self) -> usize {
        self.sl.heap_bytes() + self.index.heap_bytes()
    }
}
