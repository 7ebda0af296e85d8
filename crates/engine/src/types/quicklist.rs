//! Quicklist: Redis 7.0's list encoding (`src/quicklist.c`), a sequence of listpack nodes.
//! Small elements share listpacks of bounded size; an element of `packed_threshold` bytes or
//! more (1 GiB by default) gets a PLAIN node of its own, as in Redis 7.0.
//!
//! Node sizing follows `list-max-listpack-size` (`fill`): -1..-5 cap a node at 4/8/16/32/64 KiB
//! of listpack bytes; a positive fill caps it at that many entries, and then also at 8 KiB
//! (`SIZE_SAFETY_LIMIT`). Insertion, splitting and merging follow Redis's rules
//! (`_quicklistNodeAllowInsert`, `_quicklistInsert`, `_quicklistMergeNodes`), so a list built by
//! the same commands has the same node layout as in Redis: the same memory and the same RDB
//! `QUICKLIST_2` nodes. As in Redis, only the split of a full node on a middle insert merges
//! neighbours; deletes just drop empty nodes.
//!
//! Storage: a `VecDeque<Node>`, not a linked list. Node headers sit contiguously, so the walk
//! to an index (summing node counts from the nearer end) touches one cache line per two nodes
//! instead of chasing pointers; push/pop at both ends stay O(1); and a node inserted or removed
//! in the middle (split, merge) costs a memmove of 32-byte headers, a few KiB even for a
//! million elements, which is cheaper than the allocation Redis pays per node. No unsafe.
//!
//! Not implemented: `list-compress-depth` (LZF-compressing interior nodes). The depth is not
//! stored; all nodes are raw, which is Redis's default (depth 0).
//!
//! Invariants: no node is empty; `count` is the sum of node counts; a packed node's count
//! equals its listpack's length; a plain node holds exactly one element.

use std::collections::VecDeque;

use super::listpack::{self, HDR_SIZE, Listpack, LpValue, Where};

/// `optimization_level`: byte caps for fill -1..-5.
const OPTIMIZATION_LEVEL: [usize; 5] = [4096, 8192, 16384, 32768, 65536];
/// Byte cap of a node when the fill is a count.
const SIZE_SAFETY_LIMIT: usize = 8192;
/// Over-estimate of an entry's encoding overhead when deciding whether it fits.
const SIZE_ESTIMATE_OVERHEAD: usize = 8;
/// Elements this large (or larger) get a plain node.
pub const DEFAULT_PACKED_THRESHOLD: usize = 1 << 30;
/// The process-wide threshold (Redis's `packed_threshold` global, which DEBUG
/// QUICKLIST-PACKED-THRESHOLD sets for every list, existing ones included). A list's own
/// non-zero `packed_threshold` overrides it (tests set thresholds concurrently per list).
static PACKED_THRESHOLD: std::sync::atomic::AtomicUsize =
    std::sync::atomic::AtomicUsize::new(DEFAULT_PACKED_THRESHOLD);
/// Largest accepted threshold (`quicklistisSetPackedThreshold`: 4 GiB - 1 MiB).
const PACKED_THRESHOLD_MAX: u64 = (1u64 << 32) - (1 << 20);

/// DEBUG QUICKLIST-PACKED-THRESHOLD: sets the threshold of every list (0 restores the
/// default). False, changing nothing, above 4 GiB - 1 MiB.
pub fn set_default_packed_threshold(sz: u64) -> bool {
    if sz > PACKED_THRESHOLD_MAX {
        return false;
    }
    let t = if sz == 0 {
        DEFAULT_PACKED_THRESHOLD
    } else {
        sz as usize
    };
    PACKED_THRESHOLD.store(t, std::sync::atomic::Ordering::Relaxed);
    true
}
/// `list-max-listpack-size` default.
pub const DEFAULT_FILL: i32 = -2;
const FILL_MAX: i64 = (1 << 15) - 1;
/// A replace that would take a packed node past this many bytes re-inserts instead, keeping
/// every listpack far below the format's 4 GiB (a small value in tests, to exercise it).
#[cfg(not(test))]
const REPLACE_LIMIT: usize = listpack::MAX_SAFETY_SIZE;
#[cfg(test)]
const REPLACE_LIMIT: usize = 100_000;

#[derive(Clone, Debug)]
enum Node {
    Packed { lp: Listpack, count: u32 },
    Plain(Box<[u8]>),
}

impl Node {
    /// A packed node holding one element, allocated once at about its final size.
    fn packed_with(v: LpValue<'_>) -> Node {
        let mut lp = Listpack::with_capacity(HDR_SIZE + 1 + v.str_len() + 10);
        lp.push_back_value(v);
        Node::Packed { lp, count: 1 }
    }

    #[inline]
    fn count(&self) -> usize {
        match self {
            Node::Packed { count, .. } => *count as usize,
            Node::Plain(_) => 1,
        }
    }

    /// Redis's `node->sz`: listpack bytes, or the element's size for a plain node.
    #[inline]
    fn sz(&self) -> usize {
        match self {
            Node::Packed { lp, .. } => lp.total_bytes(),
            Node::Plain(b) => b.len(),
        }
    }

    #[inline]
    fn is_plain(&self) -> bool {
        matches!(self, Node::Plain(_))
    }

    fn get(&self, off: usize) -> Option<LpValue<'_>> {
        match self {
            Node::Packed { lp, .. } => lp.get(off as i64),
            Node::Plain(b) => (off == 0).then_some(LpValue::Str(b)),
        }
    }

    fn heap_size(&self) -> usize {
        match self {
            Node::Packed { lp, .. } => lp.heap_size(),
            Node::Plain(b) => b.len(),
        }
    }

    fn iter(&self) -> NodeIter<'_> {
        match self {
            Node::Packed { lp, .. } => NodeIter::Packed(lp.iter()),
            Node::Plain(b) => NodeIter::Plain(Some(b)),
        }
    }
}

/// One node as the RDB writer sees it (`QUICKLIST_NODE_CONTAINER_PACKED` / `_PLAIN`).
#[derive(Clone, Copy, Debug)]
pub enum NodeRef<'a> {
    Packed(&'a Listpack),
    Plain(&'a [u8]),
}

/// A list of byte strings in listpack nodes. See the module documentation.
#[derive(Clone, Debug)]
pub struct Quicklist {
    nodes: VecDeque<Node>,
    count: usize,
    fill: i32,
    packed_threshold: usize,
}

impl Default for Quicklist {
    fn default() -> Self {
        Self::new()
    }
}

impl Quicklist {
    /// An empty list with the default fill (-2: 8 KiB nodes).
    pub fn new() -> Self {
        Self::with_fill(DEFAULT_FILL as i64)
    }

    /// An empty list with `list-max-listpack-size` = `fill` (clamped as `quicklistSetFill`).
    pub fn with_fill(fill: i64) -> Self {
        let mut q = Quicklist {
            nodes: VecDeque::new(),
            count: 0,
            fill: DEFAULT_FILL,
            packed_threshold: 0,
        };
        q.set_fill(fill);
        q
    }

    /// Sets the fill, clamped to -5..=32767 as Redis does. Existing nodes are kept as they are.
    pub fn set_fill(&mut self, fill: i64) {
        self.fill = fill.clamp(-5, FILL_MAX) as i32;
    }

    #[inline]
    pub fn fill(&self) -> i32 {
        self.fill
    }

    /// This list's own threshold, overriding the process-wide one (tests): 0 restores the
    /// default; above 4 GiB - 1 MiB is refused.
    pub fn set_packed_threshold(&mut self, sz: usize) -> bool {
        if sz as u64 > PACKED_THRESHOLD_MAX {
            return false;
        }
        self.packed_threshold = if sz == 0 {
            DEFAULT_PACKED_THRESHOLD
        } else {
            sz
        };
        true
    }

    /// Number of elements.
    #[inline]
    pub fn len(&self) -> usize {
        self.count
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Number of nodes (Redis's `quicklist->len`).
    #[inline]
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// Heap bytes held: node headers plus every node's buffer.
    pub fn heap_size(&self) -> usize {
        self.nodes.capacity() * std::mem::size_of::<Node>()
            + self.nodes.iter().map(Node::heap_size).sum::<usize>()
    }

    /// The nodes, head to tail, for the RDB writer.
    pub fn nodes(&self) -> impl DoubleEndedIterator<Item = NodeRef<'_>> + ExactSizeIterator {
        self.nodes.iter().map(|n| match n {
            Node::Packed { lp, .. } => NodeRef::Packed(lp),
            Node::Plain(b) => NodeRef::Plain(b),
        })
    }

    /// Appends a whole listpack as a node (`quicklistAppendListpack`, the RDB loader's path).
    /// An empty listpack is dropped: nodes are never empty.
    pub fn append_listpack(&mut self, lp: Listpack) {
        let n = lp.len();
        if n == 0 {
            return;
        }
        self.count += n;
        self.nodes.push_back(Node::Packed {
            lp,
            count: n as u32,
        });
    }

    /// Appends a plain node (`quicklistAppendPlainNode`).
    pub fn append_plain(&mut self, data: Box<[u8]>) {
        self.count += 1;
        self.nodes.push_back(Node::Plain(data));
    }

    /// Removes every element.
    pub fn clear(&mut self) {
        self.nodes.clear();
        self.count = 0;
    }

    // --- sizing rules ----------------------------------------------------------------------

    #[inline]
    fn is_large(&self, sz: usize) -> bool {
        let t = match self.packed_threshold {
            0 => PACKED_THRESHOLD.load(std::sync::atomic::Ordering::Relaxed),
            t => t,
        };
        sz >= t
    }

    /// `_quicklistNodeSizeMeetsOptimizationRequirement`.
    #[inline]
    fn meets_size_level(&self, sz: usize) -> bool {
        self.fill < 0 && sz <= OPTIMIZATION_LEVEL[(-self.fill - 1) as usize]
    }

    /// `_quicklistNodeAllowInsert`: may an element of `sz` bytes join `node`?
    fn allow_insert(&self, node: Option<&Node>, sz: usize) -> bool {
        let Some(node) = node else {
            return false;
        };
        if node.is_plain() || self.is_large(sz) {
            return false;
        }
        let new_sz = node.sz() + sz + SIZE_ESTIMATE_OVERHEAD;
        if self.meets_size_level(new_sz) {
            true
        } else if new_sz > SIZE_SAFETY_LIMIT {
            false
        } else {
            (node.count() as i64) < self.fill as i64
        }
    }

    /// `_quicklistNodeAllowMerge`.
    fn allow_merge(&self, a: Option<&Node>, b: Option<&Node>) -> bool {
        let (Some(a), Some(b)) = (a, b) else {
            return false;
        };
        if a.is_plain() || b.is_plain() {
            return false;
        }
        // One header and terminator disappear in the merge.
        let merge_sz = a.sz() + b.sz() - 11;
        if self.meets_size_level(merge_sz) {
            true
        } else if merge_sz > SIZE_SAFETY_LIMIT {
            false
        } else {
            (a.count() + b.count()) as i64 <= self.fill as i64
        }
    }

    // --- positions -------------------------------------------------------------------------

    /// Absolute position of `index` (negative counts from the tail), if in range.
    #[inline]
    fn abs_index(&self, index: i64) -> Option<usize> {
        let n = self.count as i64;
        let i = if index < 0 { index + n } else { index };
        (0..n).contains(&i).then_some(i as usize)
    }

    /// (node index, offset in node) of absolute position `pos < count`, walking node counts
    /// from the nearer end.
    fn locate(&self, pos: usize) -> (usize, usize) {
        debug_assert!(pos < self.count);
        if pos <= self.count / 2 {
            let mut acc = 0;
            for (i, n) in self.nodes.iter().enumerate() {
                let c = n.count();
                if pos < acc + c {
                    return (i, pos - acc);
                }
                acc += c;
            }
        } else {
            // `start` is the position of the current node's first element.
            let mut start = self.count;
            for (i, n) in self.nodes.iter().enumerate().rev() {
                start -= n.count();
                if pos >= start {
                    return (i, pos - start);
                }
            }
        }
        unreachable!("position {pos} inside a list of {} elements", self.count)
    }

    // --- reads -----------------------------------------------------------------------------

    /// The element at `index` (negative counts from the tail): `LINDEX`.
    pub fn get(&self, index: i64) -> Option<LpValue<'_>> {
        let pos = self.abs_index(index)?;
        let (ni, off) = self.locate(pos);
        self.nodes[ni].get(off)
    }

    /// The head element.
    pub fn front(&self) -> Option<LpValue<'_>> {
        self.nodes.front().and_then(|n| n.get(0))
    }

    /// The tail element.
    pub fn back(&self) -> Option<LpValue<'_>> {
        self.nodes.back().and_then(|n| n.get(n.count() - 1))
    }

    /// Iterates head to tail (`.rev()` for tail to head).
    pub fn iter(&self) -> Iter<'_> {
        let front = self.nodes.front().map_or(NodeIter::Empty, Node::iter);
        let back = self.nodes.back().map_or(NodeIter::Empty, Node::iter);
        Iter {
            nodes: &self.nodes,
            front_node: 0,
            front,
            back_node: self.nodes.len().saturating_sub(1),
            back,
            remaining: self.count,
        }
    }

    /// Iterates from position `start` (0-based from the head) to the tail; empty past the end.
    /// `LRANGE` takes `iter_from(start).take(n)`.
    pub fn iter_from(&self, start: usize) -> Iter<'_> {
        if start >= self.count {
            return Iter {
                nodes: &self.nodes,
                front_node: 0,
                front: NodeIter::Empty,
                back_node: 0,
                back: NodeIter::Empty,
                remaining: 0,
            };
        }
        let (ni, off) = self.locate(start);
        let front = match &self.nodes[ni] {
            Node::Packed { lp, .. } => match lp.seek(off as i64) {
                Some(c) => NodeIter::Packed(lp.iter_from(c)),
                None => NodeIter::Empty,
            },
            Node::Plain(b) => NodeIter::Plain(Some(b)),
        };
        let last = self.nodes.len() - 1;
        Iter {
            nodes: &self.nodes,
            front_node: ni,
            front,
            back_node: last,
            back: self.nodes[last].iter(),
            remaining: self.count - start,
        }
    }

    // --- pushes and pops -------------------------------------------------------------------

    /// `quicklistPushHead` (`LPUSH`).
    #[inline]
    pub fn push_front(&mut self, ele: &[u8]) {
        self.push_front_value(LpValue::Str(ele));
    }

    /// `quicklistPushTail` (`RPUSH`).
    #[inline]
    pub fn push_back(&mut self, ele: &[u8]) {
        self.push_back_value(LpValue::Str(ele));
    }

    /// [`Quicklist::push_front`] for a value read from a listpack (no printing of integers).
    pub fn push_front_value(&mut self, v: LpValue<'_>) {
        let sz = v.str_len();
        if self.is_large(sz) {
            self.nodes.push_front(Node::Plain(v.to_vec().into()));
        } else if self.allow_insert(self.nodes.front(), sz) {
            if let Some(Node::Packed { lp, count }) = self.nodes.front_mut() {
                lp.push_front_value(v);
                *count += 1;
            }
        } else {
            self.nodes.push_front(Node::packed_with(v));
        }
        self.count += 1;
    }

    /// [`Quicklist::push_back`] for a value read from a listpack.
    pub fn push_back_value(&mut self, v: LpValue<'_>) {
        let sz = v.str_len();
        if self.is_large(sz) {
            self.nodes.push_back(Node::Plain(v.to_vec().into()));
        } else if self.allow_insert(self.nodes.back(), sz) {
            if let Some(Node::Packed { lp, count }) = self.nodes.back_mut() {
                lp.push_back_value(v);
                *count += 1;
            }
        } else {
            self.nodes.push_back(Node::packed_with(v));
        }
        self.count += 1;
    }

    /// Pops the head element, handing it to `f` before it is deleted (so the caller can copy
    /// it into a reply without an intermediate allocation).
    pub fn pop_front_with<R>(&mut self, f: impl FnOnce(LpValue<'_>) -> R) -> Option<R> {
        let node = self.nodes.front_mut()?;
        let (r, empty) = match node {
            Node::Plain(b) => (f(LpValue::Str(b)), true),
            Node::Packed { lp, count } => {
                let c = lp.first()?;
                let r = f(lp.value(c));
                lp.delete(c);
                *count -= 1;
                (r, *count == 0)
            }
        };
        if empty {
            self.nodes.pop_front();
        }
        self.count -= 1;
        Some(r)
    }

    /// Pops the tail element through `f` (see [`Quicklist::pop_front_with`]).
    pub fn pop_back_with<R>(&mut self, f: impl FnOnce(LpValue<'_>) -> R) -> Option<R> {
        let node = self.nodes.back_mut()?;
        let (r, empty) = match node {
            Node::Plain(b) => (f(LpValue::Str(b)), true),
            Node::Packed { lp, count } => {
                let c = lp.last()?;
                let r = f(lp.value(c));
                lp.delete(c);
                *count -= 1;
                (r, *count == 0)
            }
        };
        if empty {
            self.nodes.pop_back();
        }
        self.count -= 1;
        Some(r)
    }

    /// Pops the head element as owned bytes.
    pub fn pop_front(&mut self) -> Option<Vec<u8>> {
        self.pop_front_with(|v| v.to_vec())
    }

    /// Pops the tail element as owned bytes.
    pub fn pop_back(&mut self) -> Option<Vec<u8>> {
        self.pop_back_with(|v| v.to_vec())
    }

    /// `quicklistRotate`: moves the tail element to the head. Note Redis 7.0's
    /// `LMOVE k k RIGHT LEFT` does not use it: it pops then pushes, which can leave a different
    /// node layout; the command should do the same for layout parity.
    pub fn rotate(&mut self) {
        if self.count <= 1 {
            return;
        }
        if self.nodes.back().is_some_and(Node::is_plain) {
            if let Some(n) = self.nodes.pop_back() {
                self.nodes.push_front(n);
            }
            return;
        }
        if self.nodes.len() == 1 {
            // Head and tail share one listpack. Redis pushes a copy at the head, then deletes
            // the tail; where the copy fits, that is a rotation of the entry bytes.
            let Some(node) = self.nodes.front() else {
                return;
            };
            let Some(sz) = node.get(node.count() - 1).map(LpValue::str_len) else {
                return;
            };
            let fits = self.allow_insert(Some(node), sz);
            let large = self.is_large(sz);
            let Some(Node::Packed { lp, count }) = self.nodes.front_mut() else {
                return;
            };
            let Some(last) = lp.last() else {
                return;
            };
            if fits {
                lp.rotate_last_to_front();
                return;
            }
            let v = lp.value(last);
            let head = if large {
                Node::Plain(v.to_vec().into())
            } else {
                Node::packed_with(v)
            };
            lp.delete(last);
            *count -= 1;
            self.nodes.push_front(head);
            return;
        }
        // Several nodes: lift the tail node out so its value can be read while the head grows.
        let Some(mut tail) = self.nodes.pop_back() else {
            return;
        };
        if let Node::Packed { lp, count } = &mut tail
            && let Some(last) = lp.last()
        {
            self.push_front_value(lp.value(last));
            lp.delete(last);
            *count -= 1;
            self.count -= 1;
        }
        if tail.count() > 0 {
            self.nodes.push_back(tail);
        }
    }

    // --- positional writes -----------------------------------------------------------------

    /// `quicklistReplaceAtIndex` (`LSET`): false when `index` is out of range.
    pub fn replace(&mut self, index: i64, ele: &[u8]) -> bool {
        let Some(pos) = self.abs_index(index) else {
            return false;
        };
        let (ni, off) = self.locate(pos);
        let large = self.is_large(ele.len());
        match &mut self.nodes[ni] {
            Node::Packed { lp, .. } if !large && lp.total_bytes() + ele.len() > REPLACE_LIMIT => {
                // Redis replaces in place whatever the node's size, and crashes once a node
                // passes 4 GiB. Past 1 GiB the value gets a node of its own instead.
                self.replace_isolated(ni, off, ele);
            }
            Node::Packed { lp, .. } if !large => {
                if let Some(c) = lp.seek(off as i64) {
                    lp.replace(c, ele);
                }
            }
            Node::Plain(b) if large => *b = ele.into(),
            Node::Plain(_) => {
                // A small value replaces a plain node: insert after it, drop the plain node.
                self.insert_at(ni, 0, true, LpValue::Str(ele));
                self.remove_node(ni);
            }
            Node::Packed { .. } => {
                // A large value inside a packed node: insert it after the old entry (which
                // splits the node there), then the old entry is the node's last.
                self.insert_at(ni, off, true, LpValue::Str(ele));
                if self.nodes[ni].count() == 1 {
                    self.remove_node(ni);
                } else {
                    self.delete_in_node(ni, self.nodes[ni].count() - 1);
                }
            }
        }
        true
    }

    /// Inserts `ele` before or after the element at `index` (`LINSERT` once the pivot's
    /// position is known); false when `index` is out of range.
    pub fn insert(&mut self, index: i64, at: Where, ele: &[u8]) -> bool {
        let Some(pos) = self.abs_index(index) else {
            return false;
        };
        let (ni, off) = self.locate(pos);
        self.insert_at(ni, off, at == Where::After, LpValue::Str(ele));
        true
    }

    /// Deletes the element at `index`; false when out of range.
    pub fn remove(&mut self, index: i64) -> bool {
        let Some(pos) = self.abs_index(index) else {
            return false;
        };
        let (ni, off) = self.locate(pos);
        self.delete_in_node(ni, off);
        true
    }

    /// `quicklistDelRange` (`LTRIM`): deletes up to `count` elements from `start` (negative
    /// counts from the tail). Returns how many were deleted.
    pub fn delete_range(&mut self, start: i64, count: usize) -> usize {
        let Some(pos) = self.abs_index(start) else {
            return 0;
        };
        let total = count.min(self.count - pos);
        let mut extent = total;
        if extent == 0 {
            return 0;
        }
        let (mut ni, mut off) = self.locate(pos);
        while extent > 0 {
            let nc = self.nodes[ni].count();
            if (off == 0 && extent >= nc) || self.nodes[ni].is_plain() {
                // The whole node goes; the next node slides into index `ni`.
                self.remove_node(ni);
                extent -= nc;
            } else {
                let del = (nc - off).min(extent);
                if let Node::Packed { lp, count } = &mut self.nodes[ni] {
                    lp.delete_range(off as i64, del);
                    *count -= del as u32;
                }
                self.count -= del;
                extent -= del;
                if self.nodes[ni].count() == 0 {
                    self.nodes.remove(ni);
                } else {
                    ni += 1;
                }
            }
            off = 0;
        }
        total
    }

    /// Deletes up to `limit` elements matching `pred`, scanning from the head or from the tail
    /// (`LREM`'s walk with `quicklistDelEntry`). Returns how many were deleted.
    pub fn remove_matching(
        &mut self,
        from_tail: bool,
        limit: usize,
        mut pred: impl FnMut(LpValue<'_>) -> bool,
    ) -> usize {
        let mut removed = 0;
        let n = self.nodes.len();
        for k in 0..n {
            if removed == limit {
                break;
            }
            let ni = if from_tail { n - 1 - k } else { k };
            match &mut self.nodes[ni] {
                Node::Plain(b) => {
                    if pred(LpValue::Str(b)) {
                        // Emptied nodes are swept below so indexes stay put meanwhile.
                        self.nodes[ni] = Node::Packed {
                            lp: Listpack::new(),
                            count: 0,
                        };
                        removed += 1;
                    }
                }
                Node::Packed { lp, count } => {
                    if from_tail {
                        let mut c = lp.last();
                        while let Some(cur) = c {
                            if removed == limit {
                                break;
                            }
                            // Deleting `cur` leaves the entries before it where they were.
                            let prev = lp.prev(cur);
                            if pred(lp.value(cur)) {
                                lp.delete(cur);
                                *count -= 1;
                                removed += 1;
                            }
                            c = prev;
                        }
                    } else {
                        let mut c = lp.first();
                        while let Some(cur) = c {
                            if removed == limit {
                                break;
                            }
                            if pred(lp.value(cur)) {
                                c = lp.delete(cur);
                                *count -= 1;
                                removed += 1;
                            } else {
                                c = lp.next(cur);
                            }
                        }
                    }
                }
            }
        }
        if removed > 0 {
            self.nodes.retain(|n| n.count() > 0);
            self.count -= removed;
        }
        removed
    }

    // --- internals -------------------------------------------------------------------------

    fn remove_node(&mut self, ni: usize) {
        if let Some(n) = self.nodes.remove(ni) {
            self.count -= n.count();
        }
    }

    /// `quicklistDelIndex`: deletes entry `off` of node `ni`, dropping the node if emptied.
    fn delete_in_node(&mut self, ni: usize, off: usize) {
        match &mut self.nodes[ni] {
            Node::Plain(_) => {
                self.remove_node(ni);
                return;
            }
            Node::Packed { lp, count } => {
                if let Some(c) = lp.seek(off as i64) {
                    lp.delete(c);
                    *count -= 1;
                }
            }
        }
        self.count -= 1;
        if self.nodes[ni].count() == 0 {
            self.nodes.remove(ni);
        }
    }

    /// Replaces entry `off` of packed node `ni` with a new node holding only `ele`, splitting
    /// node `ni` around it.
    fn replace_isolated(&mut self, ni: usize, off: usize, ele: &[u8]) {
        let single = Node::packed_with(LpValue::Str(ele));
        let nc = self.nodes[ni].count();
        if nc == 1 {
            self.nodes[ni] = single;
            return;
        }
        self.delete_in_node(ni, off);
        self.count += 1;
        if off == 0 {
            self.nodes.insert(ni, single);
        } else if off == nc - 1 {
            self.nodes.insert(ni + 1, single);
        } else {
            // Node `ni` keeps [off..]; the head part goes in front, then the new node.
            let head = self.split_node(ni, off, false);
            self.nodes.insert(ni, head);
            self.nodes.insert(ni + 1, single);
        }
    }

    /// `_quicklistSplitNode`: with `after`, node `ni` keeps `[0, off]` and the returned node
    /// holds the rest; without, the returned node holds `[0, off)` and node `ni` keeps the rest.
    /// The caller inserts the returned node (counts in `self.count` are unchanged).
    fn split_node(&mut self, ni: usize, off: usize, after: bool) -> Node {
        let Node::Packed { lp, count } = &mut self.nodes[ni] else {
            unreachable!("plain nodes hold one element and are never split");
        };
        let at = if after { off + 1 } else { off };
        let mut tail = lp.split_off(at);
        let tail_count = *count as usize - at;
        *count = at as u32;
        if after {
            Node::Packed {
                lp: tail,
                count: tail_count as u32,
            }
        } else {
            // Node `ni` keeps the tail; the head part becomes the new node.
            std::mem::swap(lp, &mut tail);
            *count = tail_count as u32;
            Node::Packed {
                lp: tail,
                count: at as u32,
            }
        }
    }

    /// `_quicklistInsert`: inserts `v` before or after entry `off` of node `ni`.
    fn insert_at(&mut self, ni: usize, off: usize, after: bool, v: LpValue<'_>) {
        let sz = v.str_len();
        let node = &self.nodes[ni];
        let ncount = node.count();
        let full = !self.allow_insert(Some(node), sz);
        let at_tail = after && off == ncount - 1;
        let at_head = !after && off == 0;
        let avail_next = at_tail && self.allow_insert(self.nodes.get(ni + 1), sz);
        let avail_prev = at_head && ni > 0 && self.allow_insert(self.nodes.get(ni - 1), sz);
        self.count += 1;

        if self.is_large(sz) {
            let plain = Node::Plain(v.to_vec().into());
            if node.is_plain() || at_tail || at_head {
                self.nodes.insert(if after { ni + 1 } else { ni }, plain);
            } else {
                let new_node = self.split_node(ni, off, after);
                if after {
                    // node[0..=off], plain, new_node
                    self.nodes.insert(ni + 1, plain);
                    self.nodes.insert(ni + 2, new_node);
                } else {
                    // new_node, plain, node[off..]
                    self.nodes.insert(ni, plain);
                    self.nodes.insert(ni, new_node);
                }
            }
            return;
        }

        if !full {
            if let Node::Packed { lp, count } = &mut self.nodes[ni]
                && let Some(c) = lp.seek(off as i64)
            {
                lp.insert_value(c, if after { Where::After } else { Where::Before }, v);
                *count += 1;
            }
        } else if avail_next {
            if let Node::Packed { lp, count } = &mut self.nodes[ni + 1] {
                lp.push_front_value(v);
                *count += 1;
            }
        } else if avail_prev {
            if let Node::Packed { lp, count } = &mut self.nodes[ni - 1] {
                lp.push_back_value(v);
                *count += 1;
            }
        } else if at_tail || at_head {
            self.nodes
                .insert(if after { ni + 1 } else { ni }, Node::packed_with(v));
        } else {
            // Full, and the position is inside the node: split there, put the element at the
            // inner end of the split-off part, then merge what the split left undersized.
            let mut new_node = self.split_node(ni, off, after);
            if let Node::Packed { lp, count } = &mut new_node {
                if after {
                    lp.push_front_value(v);
                } else {
                    lp.push_back_value(v);
                }
                *count += 1;
            }
            let center = if after {
                self.nodes.insert(ni + 1, new_node);
                ni
            } else {
                self.nodes.insert(ni, new_node);
                ni + 1
            };
            self.merge_around(center);
        }
    }

    /// `_quicklistMergeNodes`: tries (prev-prev, prev), (next, next-next), (prev, center) and
    /// then (center, next), in Redis's order.
    fn merge_around(&mut self, center: usize) {
        let mut c = center;
        if c >= 2 && self.allow_merge(self.nodes.get(c - 2), self.nodes.get(c - 1)) {
            self.merge_with_next(c - 2);
            c -= 1;
        }
        if self.allow_merge(self.nodes.get(c + 1), self.nodes.get(c + 2)) {
            self.merge_with_next(c + 1);
        }
        let target = if c >= 1 && self.allow_merge(self.nodes.get(c - 1), self.nodes.get(c)) {
            self.merge_with_next(c - 1);
            c - 1
        } else {
            c
        };
        if self.allow_merge(self.nodes.get(target), self.nodes.get(target + 1)) {
            self.merge_with_next(target);
        }
    }

    /// Merges node `i + 1` into node `i` (both packed).
    fn merge_with_next(&mut self, i: usize) {
        let Some(Node::Packed {
            lp: second,
            count: c2,
        }) = self.nodes.remove(i + 1)
        else {
            unreachable!("merge of a plain node");
        };
        if let Node::Packed { lp, count } = &mut self.nodes[i] {
            lp.append(second);
            *count += c2;
        }
    }

    /// Checks the structural invariants (tests and debug assertions).
    #[doc(hidden)]
    pub fn assert_invariants(&self) {
        let mut total = 0;
        for n in &self.nodes {
            assert!(n.count() > 0, "empty node");
            if let Node::Packed { lp, count } = n {
                assert_eq!(lp.len(), *count as usize);
                assert!(listpack::validate(lp.bytes(), |_| true));
            }
            total += n.count();
        }
        assert_eq!(total, self.count);
    }
}

impl<'a> FromIterator<&'a [u8]> for Quicklist {
    fn from_iter<I: IntoIterator<Item = &'a [u8]>>(iter: I) -> Self {
        let mut q = Quicklist::new();
        for e in iter {
            q.push_back(e);
        }
        q
    }
}

/// Iteration state inside one node.
#[derive(Clone)]
enum NodeIter<'a> {
    Packed(listpack::Iter<'a>),
    Plain(Option<&'a [u8]>),
    Empty,
}

impl<'a> NodeIter<'a> {
    #[inline]
    fn next(&mut self) -> Option<LpValue<'a>> {
        match self {
            NodeIter::Packed(it) => it.next(),
            NodeIter::Plain(b) => b.take().map(LpValue::Str),
            NodeIter::Empty => None,
        }
    }

    #[inline]
    fn next_back(&mut self) -> Option<LpValue<'a>> {
        match self {
            NodeIter::Packed(it) => it.next_back(),
            NodeIter::Plain(b) => b.take().map(LpValue::Str),
            NodeIter::Empty => None,
        }
    }
}

/// Elements of a quicklist, double-ended. Front and back each walk their own node; the
/// shared `remaining` count stops them where they meet.
#[derive(Clone)]
pub struct Iter<'a> {
    nodes: &'a VecDeque<Node>,
    front_node: usize,
    front: NodeIter<'a>,
    back_node: usize,
    back: NodeIter<'a>,
    remaining: usize,
}

impl<'a> Iterator for Iter<'a> {
    type Item = LpValue<'a>;

    #[inline]
    fn next(&mut self) -> Option<LpValue<'a>> {
        if self.remaining == 0 {
            return None;
        }
        loop {
            if let Some(v) = self.front.next() {
                self.remaining -= 1;
                return Some(v);
            }
            self.front_node += 1;
            self.front = self.nodes.get(self.front_node)?.iter();
        }
    }

    #[inline]
    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

impl<'a> DoubleEndedIterator for Iter<'a> {
    #[inline]
    fn next_back(&mut self) -> Option<LpValue<'a>> {
        if self.remaining == 0 {
            return None;
        }
        loop {
            if let Some(v) = self.back.next_back() {
                self.remaining -= 1;
                return Some(v);
            }
            self.back_node = self.back_node.checked_sub(1)?;
            self.back = self.nodes.get(self.back_node)?.iter();
        }
    }
}

impl ExactSizeIterator for Iter<'_> {}

impl<'a> IntoIterator for &'a Quicklist {
    type Item = LpValue<'a>;
    type IntoIter = Iter<'a>;
    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

#[cfg(test)]
#[path = "quicklist_tests.rs"]
mod tests;
