//! The invariants of the module documentation, verified: [`SkipList::check`] and
//! [`ZSet::check`], run after every operation by the tests (O(n · levels); for tests and
//! debugging, never on a command's path).

use super::arena::{HEAD, NIL, NodeId, encode_upper, stride};
use super::index::Index;
use super::list::{MAX_LEVEL, SkipList};
use super::zset::ZSet;
use crate::dict::hash_bytes;

impl SkipList {
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

impl ZSet {
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
