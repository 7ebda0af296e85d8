//! The member → node index of a [`ZSet`](super::ZSet) (the `dict` of Redis's `zset`).
//!
//! Redis shares one sds between its dict and its skiplist. Here the member is stored once,
//! in the skiplist node, and the index is intrusive: a chained table of node ids whose chain
//! links are the nodes' `hnext` fields (an intrusive dictEntry), hashed by the member bytes
//! with the process-wide seeded hash ([`hash_bytes`]). Cost: 4 bytes per bucket (the link
//! fits the node's padding), where a [`Dict`](crate::dict::Dict) keyed by member would add
//! a 40-byte boxed node (a second copy of the member, the link, the id) and an 8-byte
//! bucket per element: ~102 instead of ~58 bytes per element for the whole sorted set.
//!
//! The policy is the dict's own, shared with [`Dict`](crate::dict::Dict) rather than
//! copied: the sizes ([`table_size_for`]), growth at load factor 1 ([`grow_target`]),
//! shrinking below 10 % fill ([`under_filled`], checked after removals as `zsetDel` and
//! `zremrangeGeneric` do), the incremental rehash loop ([`rehash_buckets`]: a bucket per
//! insert/remove, or more from cron via [`ZSet::rehash`](super::ZSet::rehash)) and the ZSCAN
//! cursor ([`scan_buckets`]). What is particular to the index is only how a chain is
//! walked: through the arena.
//!
//! Invariants (checked by [`ZSet::check`](super::ZSet::check)): `ht[1]` is non-empty only
//! while rehashing, and then the buckets of `ht[0]` below `rehashidx` are empty; each node
//! is in exactly one chain, in the bucket its member hashes to.

use super::arena::{Arena, NIL};
use super::list::Hooks;
use crate::dict::{
    RehashTables, grow_target, hash_bytes, rehash_buckets, scan_buckets, table_size_for,
    under_filled,
};

const NOT_REHASHING: usize = usize::MAX;

/// Chained hashing through the nodes' `hnext` links, two tables during an incremental
/// rehash (Redis's dict, minus the dictEntry allocations).
#[derive(Clone)]
pub(super) struct Index {
    /// Bucket heads; `ht[1]` is non-empty only while rehashing.
    pub(super) ht: [Vec<u32>; 2],
    pub(super) used: [usize; 2],
    /// Next bucket of `ht[0]` to migrate, or `NOT_REHASHING`. Buckets below it are empty.
    pub(super) rehashidx: usize,
}

impl Index {
    pub(super) fn new() -> Index {
        Index {
            ht: [Vec::new(), Vec::new()],
            used: [0, 0],
            rehashidx: NOT_REHASHING,
        }
    }

    #[inline]
    pub(super) fn rehashing(&self) -> bool {
        self.rehashidx != NOT_REHASHING
    }

    #[inline]
    pub(super) fn bucket(t: &[u32], h: u64) -> usize {
        h as usize & (t.len() - 1)
    }

    pub(super) fn find(&self, nodes: &Arena, member: &[u8], h: u64) -> Option<u32> {
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

    /// Allocates a table sized for `n` elements; starts an incremental rehash into it unless
    /// the index is empty (Redis's `dictExpand`).
    pub(super) fn resize(&mut self, n: usize) {
        let Some(size) = table_size_for(n) else {
            return;
        };
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
    pub(super) fn add(&mut self, nodes: &mut Arena, x: u32, h: u64) {
        if self.rehashing() {
            self.rehash_step(nodes, 1);
        }
        if !self.rehashing()
            && let Some(n) = grow_target(self.ht[0].len(), self.used[0])
        {
            self.resize(n);
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
    pub(super) fn shrink_if_needed(&mut self) {
        if !self.rehashing() && under_filled(self.ht[0].len(), self.used[0]) {
            self.resize(self.used[0]);
        }
    }

    /// Migrates up to `n` buckets (visiting at most `10 n` empty ones: the dict's
    /// [`rehash_buckets`]); returns whether migration remains.
    pub(super) fn rehash_step(&mut self, nodes: &mut Arena, n: usize) -> bool {
        if !self.rehashing() {
            return false;
        }
        let mut tables = Migration {
            ht: &mut self.ht,
            used: &mut self.used,
            nodes,
        };
        if rehash_buckets(&mut tables, &mut self.rehashidx, n) {
            return true;
        }
        self.ht[0] = std::mem::take(&mut self.ht[1]);
        self.used = [self.used[1], 0];
        self.rehashidx = NOT_REHASHING;
        false
    }

    /// Redis's `dictScan` over the index: calls `f` for each node in the buckets the cursor
    /// names and returns the next cursor (0 when done).
    pub(super) fn scan(&self, nodes: &Arena, cursor: u64, f: &mut dyn FnMut(u32)) -> u64 {
        if self.used == [0, 0] {
            return 0;
        }
        let sizes = [self.ht[0].len(), self.ht[1].len()];
        scan_buckets(cursor, sizes, self.rehashing(), |t, b| {
            let mut x = self.ht[t][b];
            while x != NIL {
                f(x);
                x = nodes.get(x).hnext;
            }
        })
    }

    pub(super) fn heap_bytes(&self) -> usize {
        (self.ht[0].capacity() + self.ht[1].capacity()) * 4
    }
}

/// An index's two tables and the arena their chains run through, for [`rehash_buckets`].
struct Migration<'a> {
    ht: &'a mut [Vec<u32>; 2],
    used: &'a mut [usize; 2],
    nodes: &'a mut Arena,
}

impl RehashTables for Migration<'_> {
    #[inline]
    fn old_used(&self) -> usize {
        self.used[0]
    }

    #[inline]
    fn old_bucket_is_empty(&self, b: usize) -> bool {
        self.ht[0][b] == NIL
    }

    fn migrate(&mut self, b: usize) {
        let [t0, t1] = &mut *self.ht;
        let mut x = t0[b];
        while x != NIL {
            let next = self.nodes.get(x).hnext;
            let nb = Index::bucket(t1, hash_bytes(self.nodes.get(x).member.as_bytes()));
            self.nodes.get_mut(x).hnext = t1[nb];
            t1[nb] = x;
            self.used[0] -= 1;
            self.used[1] += 1;
            x = next;
        }
        t0[b] = NIL;
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
