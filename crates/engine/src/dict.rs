//! A hash table keyed by byte strings with incremental rehashing, after Redis's dict: two
//! tables while rehashing, every operation moves a few buckets, so growth never stops the loop.
//! Hashing is keyed with a per-process random seed (no hash flooding). SCAN uses Redis's
//! reverse-binary cursor, which visits every key present for the whole scan at least once
//! even across resizes.
//!
//! Layout: each table is a power-of-two array of bucket heads; a bucket is a singly linked
//! chain of boxed nodes (safe Rust, no raw pointers). A node holds the key (inline when short,
//! see [`Key`]), the value and the next link. The hash is not stored in the node (like Redis):
//! it costs 8 bytes per key and is only needed again when rehashing.
//!
//! Invariants:
//! - `ht[0]` is the live table; `ht[1]` is non-empty only while rehashing
//!   (`rehashidx.is_some()`), and then every bucket of `ht[0]` below `rehashidx` is empty.
//! - A key is in exactly one table; new keys go to `ht[1]` while rehashing, so `ht[0]` only
//!   drains and the rehash terminates.
//! - Table sizes are powers of two (or 0 before the first insert).

use std::fmt;
use std::sync::OnceLock;

/// `DICT_HT_INITIAL_SIZE`
const INITIAL_SIZE: usize = 4;
/// Below this fill percentage a table is shrunk by [`Dict::shrink_if_needed`]
/// (Redis's `HASHTABLE_MIN_FILL`).
const MIN_FILL_PERCENT: usize = 10;

// ---- Redis's dict policy, apart from what a bucket holds ------------------------------------
//
// Shared by [`Dict`] (boxed chains) and the sorted set's intrusive member index
// (`types::skiplist::index`, chains of node ids), so both grow, shrink and scan exactly
// as Redis's dict does.

/// The table size for `n` keys: a power of two, at least `DICT_HT_INITIAL_SIZE`
/// (`_dictNextPower`); `None` past `usize`.
#[inline]
pub(crate) fn table_size_for(n: usize) -> Option<usize> {
    n.max(INITIAL_SIZE).checked_next_power_of_two()
}

/// Redis's `_dictExpandIfNeeded` for a table of `size` buckets holding `used` keys (not
/// rehashing): the size to expand to, if any. Load factor 1; the first table is
/// `DICT_HT_INITIAL_SIZE`.
#[inline]
pub(crate) fn grow_target(size: usize, used: usize) -> Option<usize> {
    if size == 0 {
        Some(INITIAL_SIZE)
    } else if used >= size {
        Some(used + 1)
    } else {
        None
    }
}

/// Redis's `htNeedsResize`: more than the initial size and under 10% full.
#[inline]
pub(crate) fn under_filled(size: usize, used: usize) -> bool {
    size > INITIAL_SIZE && used * 100 / size < MIN_FILL_PERCENT
}

/// The two tables of an incremental rehash as [`rehash_buckets`] drives them: the old table
/// (`ht[0]`) drains bucket by bucket into the new one.
pub(crate) trait RehashTables {
    /// Keys left in the old table.
    fn old_used(&self) -> usize;
    /// Whether bucket `b` of the old table is empty.
    fn old_bucket_is_empty(&self, b: usize) -> bool;
    /// Moves every key of bucket `b` of the old table into the new table.
    fn migrate(&mut self, b: usize);
}

/// Redis's `dictRehash` loop: from bucket `*idx` of the old table, migrates up to `n`
/// non-empty buckets, giving up for now after visiting `10 n` empty ones. Returns whether
/// the old table still holds keys (if not, the caller swaps the tables and ends the
/// rehash).
pub(crate) fn rehash_buckets(t: &mut impl RehashTables, idx: &mut usize, n: usize) -> bool {
    let mut empty_visits = n.saturating_mul(10);
    for _ in 0..n {
        if t.old_used() == 0 {
            break;
        }
        // used > 0 guarantees a non-empty bucket at or after idx.
        while t.old_bucket_is_empty(*idx) {
            *idx += 1;
            empty_visits -= 1;
            if empty_visits == 0 {
                return true;
            }
        }
        t.migrate(*idx);
        *idx += 1;
    }
    t.old_used() != 0
}

/// One call of Redis's `dictScan` as a walk over bucket numbers: visits the bucket(s) the
/// cursor names and returns the next cursor (0 = complete). `sizes` are the two tables'
/// bucket counts (powers of two); with `rehashing` false only table 0 is used. `visit(t, b)`
/// is called for bucket `b` of table `t`.
///
/// The cursor's bits are incremented from the high end (reverse binary), so each bucket of
/// a smaller table is followed by all its expansions in a bigger one; while rehashing, the
/// small table's bucket and all its expansions in the big table are visited in one call.
/// Guarantee: every key present from the first call to the last is returned at least once;
/// some may be returned more than once.
pub(crate) fn scan_buckets(
    cursor: u64,
    sizes: [usize; 2],
    rehashing: bool,
    mut visit: impl FnMut(usize, usize),
) -> u64 {
    let mut v = cursor;
    if !rehashing {
        let m0 = (sizes[0] - 1) as u64;
        visit(0, (v & m0) as usize);
        // Set the unmasked bits so the reversed increment carries into the masked ones.
        v |= !m0;
        v = v.reverse_bits().wrapping_add(1).reverse_bits();
    } else {
        let (small, big) = if sizes[0] <= sizes[1] { (0, 1) } else { (1, 0) };
        let m0 = (sizes[small] - 1) as u64;
        let m1 = (sizes[big] - 1) as u64;
        visit(small, (v & m0) as usize);
        // Then every bucket of the big table that expands the small table's bucket.
        loop {
            visit(big, (v & m1) as usize);
            v |= !m1;
            v = v.reverse_bits().wrapping_add(1).reverse_bits();
            if v & (m0 ^ m1) == 0 {
                break;
            }
        }
    }
    v
}

/// Longest key stored inside the node rather than in its own allocation. 22 keeps [`Key`] at
/// 24 bytes (a tag byte, a length byte and the bytes), only 8 more than a `Box<[u8]>`, while
/// saving a separate heap allocation (>= 16-32 bytes with malloc's overhead) for typical keys
/// such as `user:1000:session`.
const INLINE_CAP: usize = 22;

/// The allocation (jemalloc's class) of a key of `len` bytes: none when stored inline.
fn key_heap_bytes(len: usize) -> usize {
    if len <= INLINE_CAP {
        0
    } else {
        crate::util::malloc_size(len)
    }
}

/// An owned byte-string key. Short keys live inline (no allocation); longer ones on the heap.
/// Derefs to `[u8]`.
#[derive(Clone)]
pub struct Key(Repr);

#[derive(Clone)]
enum Repr {
    Inline { len: u8, buf: [u8; INLINE_CAP] },
    Heap(Box<[u8]>),
}

impl Key {
    #[inline]
    pub fn new(b: &[u8]) -> Key {
        if b.len() <= INLINE_CAP {
            let mut buf = [0u8; INLINE_CAP];
            buf[..b.len()].copy_from_slice(b);
            Key(Repr::Inline {
                len: b.len() as u8,
                buf,
            })
        } else {
            Key(Repr::Heap(b.into()))
        }
    }

    #[inline]
    pub fn as_bytes(&self) -> &[u8] {
        match &self.0 {
            Repr::Inline { len, buf } => &buf[..*len as usize],
            Repr::Heap(b) => b,
        }
    }

    pub fn into_vec(self) -> Vec<u8> {
        match self.0 {
            Repr::Inline { .. } => self.as_bytes().to_vec(),
            Repr::Heap(b) => b.into_vec(),
        }
    }

    /// Heap bytes owned by this key beyond its own size (for memory accounting).
    pub fn heap_size(&self) -> usize {
        match &self.0 {
            Repr::Inline { .. } => 0,
            Repr::Heap(b) => b.len(),
        }
    }
}

impl std::ops::Deref for Key {
    type Target = [u8];
    #[inline]
    fn deref(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl AsRef<[u8]> for Key {
    #[inline]
    fn as_ref(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl std::borrow::Borrow<[u8]> for Key {
    fn borrow(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl From<&[u8]> for Key {
    fn from(b: &[u8]) -> Key {
        Key::new(b)
    }
}

impl From<Key> for Vec<u8> {
    fn from(k: Key) -> Vec<u8> {
        k.into_vec()
    }
}

impl From<Key> for Box<[u8]> {
    fn from(k: Key) -> Box<[u8]> {
        match k.0 {
            Repr::Inline { .. } => k.as_bytes().into(),
            Repr::Heap(b) => b,
        }
    }
}

impl PartialEq for Key {
    fn eq(&self, o: &Key) -> bool {
        self.as_bytes() == o.as_bytes()
    }
}
impl Eq for Key {}

impl PartialEq<[u8]> for Key {
    fn eq(&self, o: &[u8]) -> bool {
        self.as_bytes() == o
    }
}

impl std::hash::Hash for Key {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        self.as_bytes().hash(h)
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", String::from_utf8_lossy(self.as_bytes()))
    }
}

/// The per-process keyed hash. One seed for the whole process (like Redis's siphash seed) so
/// that dicts do not each carry a 32-byte hasher.
#[inline]
pub fn hash_bytes(key: &[u8]) -> u64 {
    static STATE: OnceLock<ahash::RandomState> = OnceLock::new();
    STATE.get_or_init(ahash::RandomState::new).hash_one(key)
}

thread_local! {
    static RNG: std::cell::Cell<u64> = std::cell::Cell::new({
        // Seed from the keyed hasher (itself seeded from the OS) and the time, so that two
        // processes do not share a sequence.
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        hash_bytes(&t.to_le_bytes()) | 1
    });
}

/// A fast non-cryptographic random u64 (wyrand), for sampling: random buckets, RANDOMKEY,
/// SRANDMEMBER and the like. Not for anything security-related.
#[inline]
pub fn random_u64() -> u64 {
    RNG.with(|s| {
        let x = s.get().wrapping_add(0xa076_1d64_78bd_642f);
        s.set(x);
        let t = (x as u128).wrapping_mul((x ^ 0xe703_7ed1_a0b4_28db) as u128);
        ((t >> 64) as u64) ^ (t as u64)
    })
}

/// A random number in `0..n` (`n > 0`). Slight modulo bias is irrelevant for sampling.
#[inline]
fn random_below(n: usize) -> usize {
    (random_u64() % n as u64) as usize
}

struct Node<V> {
    key: Key,
    next: Link<V>,
    value: V,
}

type Link<V> = Option<Box<Node<V>>>;

struct Table<V> {
    buckets: Box<[Link<V>]>,
    used: usize,
}

impl<V> Table<V> {
    fn empty() -> Self {
        Table {
            buckets: Box::new([]),
            used: 0,
        }
    }

    fn with_size(n: usize) -> Self {
        let zeroed: Box<[std::mem::MaybeUninit<Link<V>>]> = Box::new_zeroed_slice(n);
        // SAFETY: `Option<Box<T>>` is guaranteed to be a nullable pointer with `None` as
        // null (std::option, "Representation"), so all-zero memory is an array of `None`.
        // Zeroed allocation (calloc) matters for big tables: the OS hands out zero pages
        // lazily, so starting a rehash to a 2^24-bucket table does not touch 128 MB at once.
        let buckets = unsafe { zeroed.assume_init() };
        Table { buckets, used: 0 }
    }

    #[inline]
    fn size(&self) -> usize {
        self.buckets.len()
    }

    #[inline]
    fn mask(&self) -> usize {
        self.buckets.len().wrapping_sub(1)
    }

    /// Position of `key` as (bucket, depth in chain).
    #[inline]
    fn locate(&self, key: &[u8], h: u64) -> Option<(usize, usize)> {
        if self.used == 0 {
            return None;
        }
        let b = h as usize & self.mask();
        let mut cur = self.buckets[b].as_deref();
        let mut depth = 0;
        while let Some(n) = cur {
            if n.key.as_bytes() == key {
                return Some((b, depth));
            }
            depth += 1;
            cur = n.next.as_deref();
        }
        None
    }

    /// The node at a position returned by `locate`.
    #[inline]
    fn node_mut(&mut self, b: usize, depth: usize) -> &mut Node<V> {
        let mut n = self.buckets[b]
            .as_deref_mut()
            .expect("dict: located bucket is empty");
        for _ in 0..depth {
            n = n
                .next
                .as_deref_mut()
                .expect("dict: located chain too short");
        }
        n
    }

    #[inline]
    fn node(&self, b: usize, depth: usize) -> &Node<V> {
        let mut n = self.buckets[b]
            .as_deref()
            .expect("dict: located bucket is empty");
        for _ in 0..depth {
            n = n.next.as_deref().expect("dict: located chain too short");
        }
        n
    }

    /// Unlinks and returns the node at a position returned by `locate`.
    fn unlink(&mut self, b: usize, depth: usize) -> Box<Node<V>> {
        let mut link = &mut self.buckets[b];
        for _ in 0..depth {
            link = &mut link.as_mut().expect("dict: located chain too short").next;
        }
        let mut node = link.take().expect("dict: located node missing");
        *link = node.next.take();
        self.used -= 1;
        node
    }

    /// Pushes a node at the head of its bucket (as Redis does: recently added keys are
    /// likely to be accessed again).
    #[inline]
    fn push(&mut self, mut node: Box<Node<V>>, h: u64) {
        let b = h as usize & self.mask();
        node.next = self.buckets[b].take();
        self.buckets[b] = Some(node);
        self.used += 1;
    }
}

impl<V> Drop for Table<V> {
    /// Drops chains iteratively: the default recursive drop of a `Box` chain would use stack
    /// proportional to the chain length.
    fn drop(&mut self) {
        for head in self.buckets.iter_mut() {
            let mut cur = head.take();
            while let Some(mut n) = cur {
                cur = n.next.take();
            }
        }
    }
}

impl<V> RehashTables for [Table<V>; 2] {
    #[inline]
    fn old_used(&self) -> usize {
        self[0].used
    }

    #[inline]
    fn old_bucket_is_empty(&self, b: usize) -> bool {
        self[0].buckets[b].is_none()
    }

    fn migrate(&mut self, b: usize) {
        let [t0, t1] = self;
        let mut cur = t0.buckets[b].take();
        while let Some(mut node) = cur {
            cur = node.next.take();
            t0.used -= 1;
            let h = hash_bytes(&node.key);
            t1.push(node, h);
        }
    }
}

/// The result of [`Dict::lookup_or_evict`].
pub enum Lookup<'a, V> {
    /// The key exists and was kept.
    Found(&'a mut V),
    /// The key existed but the predicate asked for its removal; here it is.
    Evicted(Key, V),
    Missing,
}

pub struct Dict<V> {
    ht: [Table<V>; 2],
    /// Next bucket of `ht[0]` to move, while rehashing.
    rehashidx: Option<usize>,
}

impl<V> Default for Dict<V> {
    fn default() -> Self {
        Self::new()
    }
}

impl<V: fmt::Debug> fmt::Debug for Dict<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl<V> Dict<V> {
    pub fn new() -> Self {
        Dict {
            ht: [Table::empty(), Table::empty()],
            rehashidx: None,
        }
    }

    /// A dict with room for `n` keys without growing (RDB loading, COPY of a whole set).
    pub fn with_capacity(n: usize) -> Self {
        let mut d = Self::new();
        d.expand(n);
        d
    }

    #[inline]
    pub fn len(&self) -> usize {
        self.ht[0].used + self.ht[1].used
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Buckets in both tables (Redis's `dictSlots`), for fill-ratio decisions and INFO.
    pub fn slots(&self) -> usize {
        self.ht[0].size() + self.ht[1].size()
    }

    #[inline]
    pub fn is_rehashing(&self) -> bool {
        self.rehashidx.is_some()
    }

    /// Approximate heap bytes used by the tables and nodes (excluding what `V` owns).
    pub fn heap_bytes(&self) -> usize {
        let node = std::mem::size_of::<Node<V>>();
        let link = std::mem::size_of::<Link<V>>();
        self.slots() * link
            + self.len() * node
            + self.iter_keys().map(|k| k.heap_size()).sum::<usize>()
    }

    /// [`Dict::heap_bytes`] plus what values own (`value_bytes`), with keys and values
    /// measured on the first `samples` entries only and scaled to the whole dict (MEMORY
    /// USAGE's sampling of aggregates, as Redis's `objectComputeSize`). Sizes are jemalloc's
    /// classes.
    pub fn heap_bytes_sampled(&self, samples: usize, value_bytes: impl Fn(&V) -> usize) -> usize {
        use crate::util::malloc_size;
        let node = malloc_size(std::mem::size_of::<Node<V>>());
        let table = malloc_size(self.slots() * std::mem::size_of::<Link<V>>());
        let (mut seen, mut sum) = (0usize, 0usize);
        for (k, v) in self.iter().take(samples.max(1)) {
            sum += node + key_heap_bytes(k.len()) + value_bytes(v);
            seen += 1;
        }
        table + sum.checked_div(seen).unwrap_or(0) * self.len()
    }

    /// Bytes of the bucket arrays and the entry nodes (jemalloc's classes), without keys'
    /// and values' own allocations: MEMORY STATS' `overhead.hashtable.*`.
    pub fn table_overhead(&self) -> usize {
        use crate::util::malloc_size;
        let table = |n: usize| {
            if n == 0 {
                0
            } else {
                malloc_size(n * std::mem::size_of::<Link<V>>())
            }
        };
        table(self.ht[0].size())
            + table(self.ht[1].size())
            + self.len() * malloc_size(std::mem::size_of::<Node<V>>())
    }

    /// Bytes of one entry's node and out-of-line key (jemalloc's classes), excluding what
    /// the value owns: the keyspace's share of MEMORY USAGE.
    pub fn entry_bytes(&self, key: &[u8]) -> usize {
        use crate::util::malloc_size;
        malloc_size(std::mem::size_of::<Node<V>>()) + key_heap_bytes(key.len())
    }

    /// Redis's `_dictRehashStep`: every lookup/insert/delete moves one bucket while rehashing.
    #[inline]
    fn rehash_step(&mut self) {
        if self.rehashidx.is_some() {
            self.rehash(1);
        }
    }

    /// Where `key` is: (table, bucket, depth).
    #[inline]
    fn locate(&self, key: &[u8], h: u64) -> Option<(usize, usize, usize)> {
        if let Some((b, d)) = self.ht[0].locate(key, h) {
            return Some((0, b, d));
        }
        if self.rehashidx.is_some()
            && let Some((b, d)) = self.ht[1].locate(key, h)
        {
            return Some((1, b, d));
        }
        None
    }

    pub fn get(&self, key: &[u8]) -> Option<&V> {
        self.get_key_value(key).map(|(_, v)| v)
    }

    pub fn get_key_value(&self, key: &[u8]) -> Option<(&[u8], &V)> {
        if self.is_empty() {
            return None;
        }
        let (t, b, d) = self.locate(key, hash_bytes(key))?;
        let n = self.ht[t].node(b, d);
        Some((n.key.as_bytes(), &n.value))
    }

    pub fn contains_key(&self, key: &[u8]) -> bool {
        self.get(key).is_some()
    }

    pub fn get_mut(&mut self, key: &[u8]) -> Option<&mut V> {
        if self.is_empty() {
            return None;
        }
        self.rehash_step();
        let (t, b, d) = self.locate(key, hash_bytes(key))?;
        Some(&mut self.ht[t].node_mut(b, d).value)
    }

    /// Looks `key` up and, if `evict` says so, removes it in the same operation (used for lazy
    /// expiry: one hash, one chain walk, whether the key is kept or dropped).
    pub fn lookup_or_evict(&mut self, key: &[u8], evict: impl FnOnce(&V) -> bool) -> Lookup<'_, V> {
        if self.is_empty() {
            return Lookup::Missing;
        }
        self.rehash_step();
        let Some((t, b, d)) = self.locate(key, hash_bytes(key)) else {
            return Lookup::Missing;
        };
        if evict(&self.ht[t].node(b, d).value) {
            let n = self.ht[t].unlink(b, d);
            let n = *n;
            Lookup::Evicted(n.key, n.value)
        } else {
            Lookup::Found(&mut self.ht[t].node_mut(b, d).value)
        }
    }

    /// Inserts or replaces; returns the old value.
    pub fn insert(&mut self, key: &[u8], value: V) -> Option<V> {
        self.rehash_step();
        let h = hash_bytes(key);
        if let Some((t, b, d)) = self.locate(key, h) {
            return Some(std::mem::replace(
                &mut self.ht[t].node_mut(b, d).value,
                value,
            ));
        }
        self.add_new(Key::new(key), value, h);
        None
    }

    /// Inserts a key known to be absent (Redis's `dictAdd` after a failed lookup); skips the
    /// lookup. Inserting a key that is present breaks the dict's invariants (a duplicate), so
    /// this checks in debug builds.
    pub fn insert_new(&mut self, key: Key, value: V) {
        self.rehash_step();
        let h = hash_bytes(&key);
        debug_assert!(
            self.locate(&key, h).is_none(),
            "insert_new of a present key"
        );
        self.add_new(key, value, h);
    }

    /// The value for `key`, inserting `make()` first if absent. Returns (value, inserted).
    pub fn get_or_insert_with(&mut self, key: &[u8], make: impl FnOnce() -> V) -> (&mut V, bool) {
        self.rehash_step();
        let h = hash_bytes(key);
        if let Some((t, b, d)) = self.locate(key, h) {
            return (&mut self.ht[t].node_mut(b, d).value, false);
        }
        let t = self.add_new(Key::new(key), make(), h);
        let table = &mut self.ht[t];
        let b = h as usize & table.mask();
        let head = table.buckets[b]
            .as_deref_mut()
            .expect("dict: just inserted");
        (&mut head.value, true)
    }

    /// Adds a node for an absent key; returns the table it went into.
    fn add_new(&mut self, key: Key, value: V, h: u64) -> usize {
        self.expand_if_needed();
        let t = if self.rehashidx.is_some() { 1 } else { 0 };
        self.ht[t].push(
            Box::new(Node {
                key,
                next: None,
                value,
            }),
            h,
        );
        t
    }

    pub fn remove(&mut self, key: &[u8]) -> Option<(Key, V)> {
        if self.is_empty() {
            return None;
        }
        self.rehash_step();
        let (t, b, d) = self.locate(key, hash_bytes(key))?;
        let n = *self.ht[t].unlink(b, d);
        Some((n.key, n.value))
    }

    pub fn clear(&mut self) {
        self.ht = [Table::empty(), Table::empty()];
        self.rehashidx = None;
    }

    /// Redis's `_dictExpandIfNeeded`: grow at load factor 1. Redis also refuses to grow while
    /// a fork child exists (up to a forced ratio of 5); snapshots here are fork-free, so
    /// resizing is never disabled and the forced ratio never applies.
    #[inline]
    fn expand_if_needed(&mut self) {
        if self.rehashidx.is_some() {
            return;
        }
        if let Some(n) = grow_target(self.ht[0].size(), self.ht[0].used) {
            self.expand(n);
        }
    }

    /// Redis's `dictExpand`: start moving to a table of `size` rounded up to a power of two
    /// (at least 4). False if rehashing already, if `size` cannot hold the keys, or if the
    /// size would not change.
    pub fn expand(&mut self, size: usize) -> bool {
        if self.rehashidx.is_some() || self.ht[0].used > size {
            return false;
        }
        let Some(real) = table_size_for(size) else {
            return false;
        };
        if real == self.ht[0].size() {
            return false;
        }
        let new = Table::with_size(real);
        if self.ht[0].size() == 0 {
            // First allocation: nothing to move.
            self.ht[0] = new;
        } else {
            self.ht[1] = new;
            self.rehashidx = Some(0);
        }
        true
    }

    /// Redis's `htNeedsResize`: more than the initial size and under 10% full.
    pub fn needs_shrink(&self) -> bool {
        under_filled(self.slots(), self.len())
    }

    /// Redis's `tryResizeHashTables` step for one dict: shrink to the smallest power of two
    /// holding the keys, incrementally. Called from the cron, not on delete, so a burst of
    /// deletes followed by inserts does not flap.
    pub fn shrink_if_needed(&mut self) -> bool {
        if self.rehashidx.is_some() || !self.needs_shrink() {
            return false;
        }
        self.expand(self.ht[0].used.max(INITIAL_SIZE))
    }

    /// Moves up to `n` buckets from the old table to the new one, visiting at most `10 * n`
    /// empty buckets (Redis's `dictRehash`); false when not rehashing (any more).
    pub fn rehash(&mut self, n: usize) -> bool {
        let Some(mut idx) = self.rehashidx else {
            return false;
        };
        if rehash_buckets(&mut self.ht, &mut idx, n) {
            self.rehashidx = Some(idx);
            return true;
        }
        self.ht[0] = std::mem::replace(&mut self.ht[1], Table::empty());
        self.rehashidx = None;
        false
    }

    /// Rehashes in batches of 100 buckets for about `budget` of CPU time (Redis's
    /// `dictRehashMilliseconds`). Returns the buckets moved (approximately).
    pub fn rehash_for(&mut self, budget: std::time::Duration) -> usize {
        let start = std::time::Instant::now();
        let mut moved = 0;
        while self.rehash(100) {
            moved += 100;
            if start.elapsed() > budget {
                break;
            }
        }
        moved
    }

    /// Visits the bucket(s) at `cursor`, returns the next cursor (0 = complete): Redis's
    /// `dictScan`, see [`scan_buckets`] for the cursor order and the guarantee.
    pub fn scan(&self, cursor: u64, f: &mut dyn FnMut(&[u8], &V)) -> u64 {
        if self.is_empty() {
            return 0;
        }
        let sizes = [self.ht[0].size(), self.ht[1].size()];
        scan_buckets(cursor, sizes, self.rehashidx.is_some(), |t, b| {
            let mut cur = self.ht[t].buckets[b].as_deref();
            while let Some(n) = cur {
                f(n.key.as_bytes(), &n.value);
                cur = n.next.as_deref();
            }
        })
    }

    /// [`Dict::scan`] with mutable access to the values (a snapshot's walk stamps what it
    /// writes). Keys stay fixed, so the cursor's guarantee is unchanged.
    pub fn scan_mut(&mut self, cursor: u64, f: &mut dyn FnMut(&[u8], &mut V)) -> u64 {
        if self.is_empty() {
            return 0;
        }
        let sizes = [self.ht[0].size(), self.ht[1].size()];
        let ht = &mut self.ht;
        scan_buckets(cursor, sizes, self.rehashidx.is_some(), |t, b| {
            let mut cur = ht[t].buckets[b].as_deref_mut();
            while let Some(n) = cur {
                f(n.key.as_bytes(), &mut n.value);
                cur = n.next.as_deref_mut();
            }
        })
    }

    /// A random entry (Redis's `dictGetFairRandomKey`): samples up to 15 entries from a
    /// random run of buckets and picks one of them, which is fairer than one random bucket
    /// (a key sharing its bucket is not less likely to be picked); falls back to
    /// [`Dict::random_bucket_entry`] when the sample comes back empty (a sparse table).
    pub fn random(&self) -> Option<(&[u8], &V)> {
        const FAIR_SAMPLE: usize = 15;
        let mut picked: [Option<&Node<V>>; FAIR_SAMPLE] = [None; FAIR_SAMPLE];
        let mut n = 0;
        self.some_nodes(FAIR_SAMPLE, &mut |node| {
            picked[n] = Some(node);
            n += 1;
        });
        if n == 0 {
            return self.random_bucket_entry();
        }
        // Slots below `n` were all filled.
        let node = picked[random_below(n)]?;
        Some((node.key.as_bytes(), &node.value))
    }

    /// Up to `count` entries from a random position, for sampling (Redis's
    /// `dictGetSomeKeys`: eviction pools, fair random). Not a uniform sample and may return
    /// fewer than `count` (it gives up after `10 * count` bucket steps) or repeat nothing.
    pub fn some_keys(&self, count: usize, f: &mut dyn FnMut(&[u8], &V)) -> usize {
        let mut n = 0;
        self.some_nodes(count, &mut |node| {
            n += 1;
            f(node.key.as_bytes(), &node.value)
        });
        n
    }

    fn some_nodes<'a>(&'a self, count: usize, f: &mut dyn FnMut(&'a Node<V>)) {
        let count = count.min(self.len());
        if count == 0 {
            return;
        }
        let mut maxsteps = count * 10;
        let tables = if self.rehashidx.is_some() { 2 } else { 1 };
        let maxmask = self.ht[0]
            .mask()
            .max(if tables == 2 { self.ht[1].mask() } else { 0 });
        let rehashidx = self.rehashidx.unwrap_or(0);
        let mut i = random_u64() as usize & maxmask;
        let mut emptylen = 0;
        let mut stored = 0;
        while stored < count && maxsteps > 0 {
            maxsteps -= 1;
            for j in 0..tables {
                // Buckets of ht[0] below rehashidx are empty; if ht[1] has no bucket `i`
                // either (shrinking), jump to rehashidx.
                if tables == 2 && j == 0 && i < rehashidx {
                    if i >= self.ht[1].size() {
                        i = rehashidx;
                    } else {
                        continue;
                    }
                }
                let t = &self.ht[j];
                if i >= t.size() {
                    continue;
                }
                let mut cur = t.buckets[i].as_deref();
                if cur.is_none() {
                    // Long runs of empty buckets: jump somewhere else.
                    emptylen += 1;
                    if emptylen >= 5 && emptylen > count {
                        i = random_u64() as usize & maxmask;
                        emptylen = 0;
                    }
                    continue;
                }
                emptylen = 0;
                while let Some(node) = cur {
                    f(node);
                    stored += 1;
                    if stored == count {
                        return;
                    }
                    cur = node.next.as_deref();
                }
            }
            i = (i + 1) & maxmask;
        }
    }

    /// A random entry (Redis's `dictGetRandomKey`): a random non-empty bucket, then a random
    /// element of its chain. Keys in longer chains are less likely; [`Dict::random`] is
    /// fairer. Expected time is proportional to slots / len, so a dict left sparse by mass
    /// deletion is slow here until the cron shrinks it, as in Redis.
    pub fn random_bucket_entry(&self) -> Option<(&[u8], &V)> {
        if self.is_empty() {
            return None;
        }
        let head = match self.rehashidx {
            Some(idx) => {
                // Buckets of ht[0] below rehashidx are empty: draw from the rest of ht[0]
                // followed by ht[1].
                let s0 = self.ht[0].size();
                let span = s0 + self.ht[1].size() - idx;
                loop {
                    let h = idx + random_below(span);
                    let b = if h >= s0 {
                        &self.ht[1].buckets[h - s0]
                    } else {
                        &self.ht[0].buckets[h]
                    };
                    if let Some(n) = b.as_deref() {
                        break n;
                    }
                }
            }
            None => {
                let t = &self.ht[0];
                loop {
                    if let Some(n) = t.buckets[random_u64() as usize & t.mask()].as_deref() {
                        break n;
                    }
                }
            }
        };
        let mut len = 0;
        let mut cur = Some(head);
        while let Some(n) = cur {
            len += 1;
            cur = n.next.as_deref();
        }
        let mut n = head;
        for _ in 0..random_below(len) {
            n = n.next.as_deref().expect("dict: chain shorter than counted");
        }
        Some((n.key.as_bytes(), &n.value))
    }

    pub fn iter(&self) -> Iter<'_, V> {
        Iter {
            tables: [&self.ht[0].buckets, &self.ht[1].buckets],
            table: 0,
            bucket: 0,
            node: None,
            left: self.len(),
        }
    }

    pub fn iter_keys(&self) -> impl Iterator<Item = &Key> {
        self.iter_nodes().map(|n| &n.key)
    }

    fn iter_nodes(&self) -> impl Iterator<Item = &Node<V>> {
        self.ht.iter().flat_map(|t| {
            t.buckets.iter().flat_map(|head| {
                let mut cur = head.as_deref();
                std::iter::from_fn(move || {
                    let n = cur?;
                    cur = n.next.as_deref();
                    Some(n)
                })
            })
        })
    }

    /// Mutable access to every value (keys stay fixed).
    pub fn for_each_mut(&mut self, mut f: impl FnMut(&[u8], &mut V)) {
        for t in self.ht.iter_mut() {
            for head in t.buckets.iter_mut() {
                let mut cur = head.as_deref_mut();
                while let Some(n) = cur {
                    f(n.key.as_bytes(), &mut n.value);
                    cur = n.next.as_deref_mut();
                }
            }
        }
    }
}

/// Iterator over all entries (both tables), in bucket order.
pub struct Iter<'a, V> {
    tables: [&'a [Link<V>]; 2],
    table: usize,
    bucket: usize,
    node: Option<&'a Node<V>>,
    left: usize,
}

impl<'a, V> Iterator for Iter<'a, V> {
    type Item = (&'a [u8], &'a V);

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(n) = self.node {
                self.node = n.next.as_deref();
                self.left -= 1;
                return Some((n.key.as_bytes(), &n.value));
            }
            if self.left == 0 {
                return None;
            }
            let t = self.tables[self.table];
            if self.bucket >= t.len() {
                if self.table == 1 {
                    return None;
                }
                self.table = 1;
                self.bucket = 0;
                continue;
            }
            self.node = t[self.bucket].as_deref();
            self.bucket += 1;
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl<V> ExactSizeIterator for Iter<'_, V> {}

#[cfg(test)]
#[path = "dict_tests.rs"]
mod tests;
