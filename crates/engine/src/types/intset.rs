//! Redis's intset: a sorted set of integers stored in the narrowest width that fits all of
//! them (`OBJECT ENCODING intset`), byte-compatible with Redis 7.0's `intset.c`.
//!
//! Layout (little-endian, exactly Redis's bytes, which RDB v10 stores as a raw blob):
//!
//! ```text
//! u32 encoding   2, 4 or 8: the width of every element in bytes
//! u32 length     number of elements
//! length × encoding bytes: the elements, signed, strictly ascending
//! ```
//!
//! Invariants (held by every method, checked by [`IntSet::from_bytes`] on foreign input):
//! - the buffer is exactly `8 + length × encoding` bytes and `encoding` is 2, 4 or 8;
//! - elements are strictly ascending (so binary search applies and there are no duplicates);
//! - the encoding only widens (on inserting a value that does not fit): removing the wide
//!   values does not narrow it, as in Redis. Foreign blobs may use a wider encoding than their
//!   values need; every method handles that.
//!
//! Sizes follow Redis too: the buffer is resized to the exact byte count on every add and
//! remove (Redis `zrealloc`s each time), so memory per element is the encoding width. The
//! sorted-array insert is O(n) anyway; intsets are kept small by `set-max-intset-entries`.

use crate::dict::random_u64;

/// Header bytes: encoding and length, both u32.
const HDR: usize = 8;

/// The most elements an intset can count in its u32 length field. Callers convert a set to a
/// hashtable long before (`set-max-intset-entries`); [`IntSet::add`] refuses beyond it.
pub const MAX_LEN: usize = u32::MAX as usize;

/// A sorted set of `i64` in Redis's intset encoding.
#[derive(Clone, PartialEq, Eq)]
pub struct IntSet {
    /// The whole intset, header included, so [`IntSet::as_bytes`] is free.
    blob: Vec<u8>,
}

/// The width needed for `v` (Redis's `_intsetValueEncoding`).
#[inline]
fn value_encoding(v: i64) -> usize {
    if i32::try_from(v).is_err() {
        8
    } else if i16::try_from(v).is_err() {
        4
    } else {
        2
    }
}

/// Element `pos` of `contents` read with width `enc`.
#[inline]
fn read(contents: &[u8], pos: usize, enc: usize) -> i64 {
    let o = pos * enc;
    match enc {
        2 => i64::from(i16::from_le_bytes([contents[o], contents[o + 1]])),
        4 => {
            let mut b = [0u8; 4];
            b.copy_from_slice(&contents[o..o + 4]);
            i64::from(i32::from_le_bytes(b))
        }
        _ => {
            let mut b = [0u8; 8];
            b.copy_from_slice(&contents[o..o + 8]);
            i64::from_le_bytes(b)
        }
    }
}

/// Writes `v` as element `pos` with width `enc`; `v` must fit (checked by the callers'
/// encoding logic, so the truncating casts never lose bits).
#[inline]
fn write(contents: &mut [u8], pos: usize, enc: usize, v: i64) {
    let o = pos * enc;
    match enc {
        2 => contents[o..o + 2].copy_from_slice(&(v as i16).to_le_bytes()),
        4 => contents[o..o + 4].copy_from_slice(&(v as i32).to_le_bytes()),
        _ => contents[o..o + 8].copy_from_slice(&v.to_le_bytes()),
    }
}

#[inline]
fn read_u32(b: &[u8], o: usize) -> u32 {
    u32::from_le_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]])
}

impl Default for IntSet {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for IntSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

impl IntSet {
    /// An empty set in the 16-bit encoding (Redis's `intsetNew`).
    pub fn new() -> Self {
        let mut blob = Vec::with_capacity(HDR);
        blob.extend_from_slice(&2u32.to_le_bytes());
        blob.extend_from_slice(&0u32.to_le_bytes());
        IntSet { blob }
    }

    /// Width of each element in bytes: 2, 4 or 8.
    #[inline]
    pub fn encoding(&self) -> usize {
        read_u32(&self.blob, 0) as usize
    }

    #[inline]
    pub fn len(&self) -> usize {
        read_u32(&self.blob, 4) as usize
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    #[inline]
    fn contents(&self) -> &[u8] {
        &self.blob[HDR..]
    }

    #[inline]
    fn set_len(&mut self, len: usize) {
        // len <= MAX_LEN is guaranteed by `add`.
        self.blob[4..8].copy_from_slice(&(len as u32).to_le_bytes());
    }

    /// Element at `pos` in ascending order (Redis's `intsetGet`).
    #[inline]
    pub fn get(&self, pos: usize) -> Option<i64> {
        (pos < self.len()).then(|| read(self.contents(), pos, self.encoding()))
    }

    pub fn min(&self) -> Option<i64> {
        self.get(0)
    }

    pub fn max(&self) -> Option<i64> {
        self.len().checked_sub(1).and_then(|p| self.get(p))
    }

    /// Binary search (Redis's `intsetSearch`): `Ok(pos)` if present, else `Err(insert pos)`.
    /// The ends are checked first because appends and prepends are common (ascending IDs).
    fn search(&self, v: i64) -> Result<usize, usize> {
        let len = self.len();
        if len == 0 {
            return Err(0);
        }
        let (c, enc) = (self.contents(), self.encoding());
        if v > read(c, len - 1, enc) {
            return Err(len);
        }
        if v < read(c, 0, enc) {
            return Err(0);
        }
        let (mut lo, mut hi) = (0usize, len);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            let cur = read(c, mid, enc);
            match cur.cmp(&v) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return Ok(mid),
            }
        }
        Err(lo)
    }

    /// Whether `v` is a member (Redis's `intsetFind`).
    pub fn contains(&self, v: i64) -> bool {
        value_encoding(v) <= self.encoding() && self.search(v).is_ok()
    }

    /// Position of `v` in ascending order, if present.
    pub fn position(&self, v: i64) -> Option<usize> {
        if value_encoding(v) > self.encoding() {
            return None;
        }
        self.search(v).ok()
    }

    /// Adds `v`; returns whether it was added (false if already present, or if the set
    /// already holds [`MAX_LEN`] elements). Widens the encoding when `v` needs it, like
    /// Redis's `intsetAdd`/`intsetUpgradeAndAdd`.
    pub fn add(&mut self, v: i64) -> bool {
        let len = self.len();
        let enc = self.encoding();
        let venc = value_encoding(v);
        if venc > enc {
            if len >= MAX_LEN {
                return false;
            }
            self.upgrade_and_add(v, venc);
            return true;
        }
        let Err(pos) = self.search(v) else {
            return false;
        };
        if len >= MAX_LEN {
            return false;
        }
        self.blob.reserve_exact(enc);
        self.blob.resize(self.blob.len() + enc, 0);
        let c = &mut self.blob[HDR..];
        // Shift the tail up one slot (Redis's intsetMoveTail).
        c.copy_within(pos * enc..len * enc, (pos + 1) * enc);
        write(c, pos, enc, v);
        self.set_len(len + 1);
        true
    }

    /// Re-encodes every element with width `new_enc` and adds `v`, which lies outside the
    /// current range because it needs the wider encoding: it goes first if negative, last if
    /// positive. Elements are rewritten back to front so no unread element is overwritten.
    fn upgrade_and_add(&mut self, v: i64, new_enc: usize) {
        let len = self.len();
        let old_enc = self.encoding();
        let prepend = usize::from(v < 0);
        self.blob.reserve_exact((len + 1) * new_enc - len * old_enc);
        self.blob.resize(HDR + (len + 1) * new_enc, 0);
        self.blob[0..4].copy_from_slice(&(new_enc as u32).to_le_bytes());
        let c = &mut self.blob[HDR..];
        for i in (0..len).rev() {
            let x = read(c, i, old_enc);
            write(c, i + prepend, new_enc, x);
        }
        write(c, if prepend == 1 { 0 } else { len }, new_enc, v);
        self.set_len(len + 1);
    }

    /// Removes `v`; returns whether it was present (Redis's `intsetRemove`). The encoding
    /// stays as it is.
    pub fn remove(&mut self, v: i64) -> bool {
        let Some(pos) = self.position(v) else {
            return false;
        };
        let (len, enc) = (self.len(), self.encoding());
        self.blob
            .copy_within(HDR + (pos + 1) * enc..HDR + len * enc, HDR + pos * enc);
        self.blob.truncate(HDR + (len - 1) * enc);
        self.blob.shrink_to_fit();
        self.set_len(len - 1);
        true
    }

    /// A uniformly random element (Redis's `intsetRandom`), `None` when empty.
    pub fn random(&self) -> Option<i64> {
        let len = self.len();
        if len == 0 {
            return None;
        }
        self.get((random_u64() % len as u64) as usize)
    }

    /// The elements in ascending order.
    pub fn iter(&self) -> Iter<'_> {
        Iter {
            contents: self.contents(),
            enc: self.encoding(),
            front: 0,
            back: self.len(),
        }
    }

    /// Redis's exact bytes for this intset (`intsetBlobLen` bytes), as RDB stores them.
    #[inline]
    pub fn as_bytes(&self) -> &[u8] {
        &self.blob
    }

    /// Bytes of heap owned (for memory accounting).
    pub fn heap_bytes(&self) -> usize {
        self.blob.capacity()
    }

    /// Redis's `intsetValidateIntegrity`: the header is readable, the encoding is 2/4/8, the
    /// size matches the length exactly and the set is not empty (RDB never stores empty
    /// intsets); with `deep`, the elements are also strictly ascending.
    pub fn validate(b: &[u8], deep: bool) -> bool {
        if b.len() < HDR {
            return false;
        }
        let enc = read_u32(b, 0) as usize;
        if !matches!(enc, 2 | 4 | 8) {
            return false;
        }
        let count = read_u32(b, 4) as usize;
        // No overflow: count < 2^32 and enc <= 8.
        if HDR + count * enc != b.len() || count == 0 {
            return false;
        }
        if !deep {
            return true;
        }
        let c = &b[HDR..];
        let mut prev = read(c, 0, enc);
        for i in 1..count {
            let cur = read(c, i, enc);
            if cur <= prev {
                return false;
            }
            prev = cur;
        }
        true
    }

    /// Adopts a blob from outside (an RDB payload) after deep validation; `None` if it is
    /// not a well-formed non-empty intset. Never panics, whatever the bytes.
    pub fn from_bytes(b: &[u8]) -> Option<Self> {
        Self::validate(b, true).then(|| IntSet { blob: b.to_vec() })
    }
}

/// Ascending (and, from the back, descending) iterator over an [`IntSet`].
#[derive(Clone)]
pub struct Iter<'a> {
    contents: &'a [u8],
    enc: usize,
    front: usize,
    back: usize,
}

impl Iterator for Iter<'_> {
    type Item = i64;

    #[inline]
    fn next(&mut self) -> Option<i64> {
        if self.front == self.back {
            return None;
        }
        let v = read(self.contents, self.front, self.enc);
        self.front += 1;
        Some(v)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.back - self.front;
        (n, Some(n))
    }
}

impl DoubleEndedIterator for Iter<'_> {
    fn next_back(&mut self) -> Option<i64> {
        if self.front == self.back {
            return None;
        }
        self.back -= 1;
        Some(read(self.contents, self.back, self.enc))
    }
}

impl ExactSizeIterator for Iter<'_> {}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    fn from_values(vals: &[i64]) -> IntSet {
        let mut s = IntSet::new();
        for &v in vals {
            s.add(v);
        }
        s
    }

    /// Checks the module invariants on the raw bytes.
    fn check(s: &IntSet) {
        let b = s.as_bytes();
        assert_eq!(b.len(), HDR + s.len() * s.encoding());
        assert!(matches!(s.encoding(), 2 | 4 | 8));
        if !s.is_empty() {
            assert!(IntSet::validate(b, true), "invalid: {b:?}");
        }
    }

    #[test]
    fn empty_set_bytes_and_queries() {
        let s = IntSet::new();
        assert_eq!(s.as_bytes(), &[2, 0, 0, 0, 0, 0, 0, 0]);
        assert!(s.is_empty());
        assert_eq!(s.get(0), None);
        assert_eq!(s.min(), None);
        assert_eq!(s.max(), None);
        assert_eq!(s.random(), None);
        assert!(!s.contains(0));
        // Empty intsets are not valid RDB payloads, as in Redis.
        assert!(!IntSet::validate(s.as_bytes(), false));
    }

    /// Blobs taken from `DUMP` of real Redis 7.0.15 (`rdbcompression no`; RDB type 11, the
    /// length byte stripped) for the SADD calls named in each case.
    #[test]
    fn golden_bytes_match_redis_dump() {
        let cases: &[(&[i64], &str)] = &[
            // SADD a 5 -3 100
            (&[5, -3, 100], "0200000003000000fdff05006400"),
            // SADD b 1 70000 -2: upgrade to 32 bits by an append, then an insert.
            (&[1, 70000, -2], "0400000003000000feffffff0100000070110100"),
            // SADD c 1 -5000000000 3: upgrade to 64 bits by a prepend.
            (
                &[1, -5_000_000_000, 3],
                "0800000003000000000efad5feffffff01000000000000000300000000000000",
            ),
            // SADD d 32767 -32768: the 16-bit extremes stay 16-bit.
            (&[32767, -32768], "02000000020000000080ff7f"),
        ];
        for (vals, want) in cases {
            let s = from_values(vals);
            assert_eq!(s.as_bytes(), hex(want).as_slice(), "{vals:?}");
            let back = IntSet::from_bytes(&hex(want)).unwrap();
            assert_eq!(back, s);
        }
    }

    #[test]
    fn encoding_boundaries() {
        assert_eq!(value_encoding(-32768), 2);
        assert_eq!(value_encoding(32767), 2);
        assert_eq!(value_encoding(-32769), 4);
        assert_eq!(value_encoding(32768), 4);
        assert_eq!(value_encoding(i32::MIN as i64), 4);
        assert_eq!(value_encoding(i32::MAX as i64), 4);
        assert_eq!(value_encoding(i32::MIN as i64 - 1), 8);
        assert_eq!(value_encoding(i32::MAX as i64 + 1), 8);
        assert_eq!(value_encoding(i64::MIN), 8);
        assert_eq!(value_encoding(i64::MAX), 8);
    }

    #[test]
    fn add_reports_duplicates_and_keeps_order() {
        let mut s = IntSet::new();
        assert!(s.add(5));
        assert!(s.add(6));
        assert!(s.add(4));
        assert!(!s.add(4));
        assert_eq!(s.iter().collect::<Vec<_>>(), [4, 5, 6]);
        assert_eq!(s.iter().rev().collect::<Vec<_>>(), [6, 5, 4]);
        assert_eq!((s.min(), s.max()), (Some(4), Some(6)));
        check(&s);
    }

    #[test]
    fn upgrades_keep_values_and_never_narrow() {
        for (small, big, enc) in [
            (32, 65535, 4),
            (32, -65535, 4),
            (32, 4_294_967_295, 8),
            (32, -4_294_967_295, 8),
            (65535, 4_294_967_295, 8),
            (65535, -4_294_967_295, 8),
        ] {
            let mut s = from_values(&[small]);
            assert!(s.add(big));
            assert_eq!(s.encoding(), enc);
            assert!(s.contains(small) && s.contains(big));
            check(&s);
            assert!(s.remove(big));
            assert_eq!(s.encoding(), enc, "removal does not narrow");
            assert_eq!(s.iter().collect::<Vec<_>>(), [small]);
            check(&s);
        }
    }

    #[test]
    fn lookups_of_wider_values_miss_without_searching() {
        let s = from_values(&[1, 2, 3]);
        assert!(!s.contains(1 << 40));
        assert_eq!(s.position(1 << 40), None);
        let mut s2 = s.clone();
        assert!(!s2.remove(70000));
        assert_eq!(s2, s);
    }

    #[test]
    fn random_returns_members_and_covers_them() {
        let s = from_values(&[10, 20, 30]);
        let mut seen = BTreeSet::new();
        for _ in 0..300 {
            let v = s.random().unwrap();
            assert!(s.contains(v));
            seen.insert(v);
        }
        assert_eq!(seen.len(), 3);
    }

    #[test]
    fn validate_rejects_malformed_blobs() {
        let good = hex("0200000003000000fdff05006400");
        assert!(IntSet::validate(&good, true));
        // Too short for a header.
        assert!(!IntSet::validate(&good[..7], false));
        // Bad encodings.
        for enc in [0u8, 1, 3, 16] {
            let mut b = good.clone();
            b[0] = enc;
            assert!(!IntSet::validate(&b, false));
        }
        // Length disagreeing with the size, both ways; a huge length must not overflow.
        assert!(!IntSet::validate(&good[..good.len() - 1], false));
        let mut b = good.clone();
        b[4] = 4;
        assert!(!IntSet::validate(&b, false));
        let mut b = good.clone();
        b[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(!IntSet::validate(&b, false));
        // Out of order and duplicates pass the shallow check only.
        let unordered = hex("020000000300000005000000fdff");
        assert!(IntSet::validate(&unordered, false));
        assert!(!IntSet::validate(&unordered, true));
        let dup = hex("020000000200000005000500");
        assert!(!IntSet::validate(&dup, true));
        assert!(IntSet::from_bytes(&dup).is_none());
    }

    #[test]
    fn wider_than_needed_foreign_encoding_works() {
        // {1, 2} stored with 64-bit elements: valid for Redis, so for us.
        let b = hex("08000000020000000100000000000000 0200000000000000"
            .replace(' ', "")
            .as_str());
        let mut s = IntSet::from_bytes(&b).unwrap();
        assert_eq!(s.encoding(), 8);
        assert!(s.contains(2));
        assert!(s.add(-7));
        assert_eq!(s.iter().collect::<Vec<_>>(), [-7, 1, 2]);
        assert_eq!(s.encoding(), 8);
        check(&s);
    }

    #[derive(Debug, Clone)]
    enum Op {
        Add(i64),
        Remove(i64),
    }

    /// Values drawn across the three widths so upgrades happen, and from a small range so
    /// duplicates and removals of present members are frequent.
    fn value() -> impl Strategy<Value = i64> {
        prop_oneof![
            -40i64..40,
            any::<i16>().prop_map(i64::from),
            any::<i32>().prop_map(i64::from),
            any::<i64>(),
        ]
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            3 => value().prop_map(Op::Add),
            2 => value().prop_map(Op::Remove),
        ]
    }

    proptest! {
        #[test]
        fn behaves_like_btreeset(ops in prop::collection::vec(op(), 0..200), probes in prop::collection::vec(value(), 0..20)) {
            let mut s = IntSet::new();
            let mut model = BTreeSet::new();
            for op in ops {
                match op {
                    Op::Add(v) => prop_assert_eq!(s.add(v), model.insert(v)),
                    Op::Remove(v) => prop_assert_eq!(s.remove(v), model.remove(&v)),
                }
                check(&s);
                prop_assert_eq!(s.len(), model.len());
            }
            let want: Vec<i64> = model.iter().copied().collect();
            prop_assert_eq!(s.iter().collect::<Vec<_>>(), want.clone());
            for (i, v) in want.iter().enumerate() {
                prop_assert_eq!(s.get(i), Some(*v));
                prop_assert_eq!(s.position(*v), Some(i));
            }
            prop_assert_eq!(s.get(want.len()), None);
            for p in probes {
                prop_assert_eq!(s.contains(p), model.contains(&p));
            }
            // The encoding is the narrowest one fitting every value ever added, which for a
            // set built only by adds is the widest of the current values.
            if !want.is_empty() {
                let back = IntSet::from_bytes(s.as_bytes()).unwrap();
                prop_assert_eq!(back, s);
            }
        }

        #[test]
        fn encoding_is_the_widest_needed_by_adds(vals in prop::collection::vec(value(), 1..50)) {
            let s = from_values(&vals);
            let need = vals.iter().map(|&v| value_encoding(v)).max().unwrap();
            prop_assert_eq!(s.encoding(), need);
        }

        /// Mostly well-formed headers (a plausible encoding and a length near the size) over
        /// random contents, so the deep check is reached, plus fully random bytes.
        #[test]
        fn arbitrary_bytes_never_panic(
            enc in prop_oneof![Just(2u32), Just(4), Just(8), any::<u32>()],
            len in prop_oneof![0u32..6, any::<u32>()],
            contents in prop::collection::vec(any::<u8>(), 0..48),
            raw in any::<bool>(),
        ) {
            let b = if raw {
                contents
            } else {
                let mut b = enc.to_le_bytes().to_vec();
                b.extend_from_slice(&len.to_le_bytes());
                b.extend_from_slice(&contents);
                b
            };
            if let Some(s) = IntSet::from_bytes(&b) {
                prop_assert_eq!(s.as_bytes(), b.as_slice());
                check(&s);
                let _ = s.random();
            }
        }
    }
}
