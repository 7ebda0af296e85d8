//! Hash values: `listpack` while small, then `hashtable` (Redis's `t_hash.c` type API).
//!
//! Encodings:
//! - [`HashValue::Listpack`]: fields and values alternate in one [`Listpack`], in insertion
//!   order (a new field is appended, an update replaces the value in place), byte for byte
//!   what Redis 7.0 builds, so OBJECT ENCODING, iteration order and a future RDB writer match.
//! - [`HashValue::Table`]: a [`Dict`] from field to value. Both are [`Key`]s, which keep up
//!   to 22 bytes inline, so a typical field costs one 56-byte node (64 with malloc's header)
//!   plus its bucket, no separate string allocations — no more than Redis's dictEntry + two
//!   sds strings.
//!
//! Invariants:
//! - A listpack hash has an even number of entries, no two equal fields, at most
//!   `hash-max-listpack-entries` pairs and no field or value longer than
//!   `hash-max-listpack-value` bytes *as of the write that put them there* (a later CONFIG SET
//!   applies to the next conversion decision only, as Redis).
//! - Conversion is one way: a hash never goes back from `hashtable` to `listpack`.
//! - A hash stored in the keyspace is never empty: commands delete the key when the last
//!   field goes (this module does not know about keys).

use crate::dict::{Dict, Key, random_u64};
use crate::types::listpack::{Cursor, Listpack, LpValue};

/// The conversion thresholds (`hash-max-listpack-entries` / `hash-max-listpack-value`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HashLimits {
    pub max_listpack_entries: usize,
    pub max_listpack_value: usize,
}

impl Default for HashLimits {
    fn default() -> Self {
        HashLimits {
            max_listpack_entries: 512,
            max_listpack_value: 64,
        }
    }
}

/// A hash in one of its two encodings.
#[derive(Debug)]
pub enum HashValue {
    Listpack(Listpack),
    /// Boxed so that a [`crate::object::Value`] stays small for the (common) small hashes.
    Table(Box<Dict<Key>>),
}

impl Default for HashValue {
    fn default() -> Self {
        HashValue::new()
    }
}

impl Clone for HashValue {
    /// A deep copy in the same encoding (COPY, as Redis's `hashTypeDup`).
    fn clone(&self) -> Self {
        match self {
            HashValue::Listpack(lp) => HashValue::Listpack(lp.clone()),
            HashValue::Table(d) => {
                let mut copy = Dict::with_capacity(d.len());
                for (f, v) in d.iter() {
                    copy.insert_new(Key::new(f), v.clone());
                }
                HashValue::Table(Box::new(copy))
            }
        }
    }
}

/// Where a field/value pair is found while iterating: fields and values borrow from the hash
/// (listpack integers are decoded by value).
pub type Pair<'a> = (LpValue<'a>, LpValue<'a>);

impl HashValue {
    /// An empty hash (`createHashObject`: an empty listpack).
    pub fn new() -> HashValue {
        HashValue::Listpack(Listpack::new())
    }

    /// The name `OBJECT ENCODING` reports.
    pub fn encoding_name(&self) -> &'static str {
        match self {
            HashValue::Listpack(_) => "listpack",
            HashValue::Table(_) => "hashtable",
        }
    }

    /// Number of fields (`hashTypeLength`).
    pub fn len(&self) -> usize {
        match self {
            HashValue::Listpack(lp) => lp.len() / 2,
            HashValue::Table(d) => d.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        match self {
            HashValue::Listpack(lp) => lp.is_empty(),
            HashValue::Table(d) => d.is_empty(),
        }
    }

    /// Heap bytes owned by the hash (memory accounting).
    pub fn heap_size(&self) -> usize {
        match self {
            HashValue::Listpack(lp) => lp.heap_size(),
            HashValue::Table(d) => {
                std::mem::size_of::<Dict<Key>>()
                    + d.heap_bytes()
                    + d.iter().map(|(_, v)| v.heap_size()).sum::<usize>()
            }
        }
    }

    /// The listpack entry holding `field`'s name, if present.
    #[inline]
    fn lp_find(lp: &Listpack, field: &[u8]) -> Option<Cursor> {
        lp.find(lp.first()?, field, 1)
    }

    /// `field`'s value (`hashTypeGetValue`).
    pub fn get(&self, field: &[u8]) -> Option<LpValue<'_>> {
        match self {
            HashValue::Listpack(lp) => {
                let f = Self::lp_find(lp, field)?;
                let v = lp.next(f)?;
                Some(lp.value(v))
            }
            HashValue::Table(d) => d.get(field).map(|v| LpValue::Str(v.as_bytes())),
        }
    }

    /// Whether `field` exists (`hashTypeExists`).
    pub fn contains(&self, field: &[u8]) -> bool {
        match self {
            HashValue::Listpack(lp) => Self::lp_find(lp, field).is_some(),
            HashValue::Table(d) => d.contains_key(field),
        }
    }

    /// `hashTypeTryConversion`: before a write of the fields/values `items`, converts a
    /// listpack to a table if one of them is longer than `max_listpack_value`, or if the
    /// listpack would grow past its 1 GiB safety limit.
    pub fn try_conversion(&mut self, items: &[&[u8]], limits: HashLimits) {
        let HashValue::Listpack(lp) = self else {
            return;
        };
        let mut sum = 0usize;
        for it in items {
            if it.len() > limits.max_listpack_value {
                self.convert();
                return;
            }
            sum += it.len();
        }
        if !lp.safe_to_add(sum) {
            self.convert();
        }
    }

    /// `hashTypeSet`: sets `field` to `value`; true if the field is new. Converts to a table
    /// first if either is too long for a listpack (HINCRBY* reach here without
    /// [`HashValue::try_conversion`]), and after the write (insert or update) if the listpack
    /// has more than `max_listpack_entries` pairs.
    pub fn set(&mut self, field: &[u8], value: &[u8], limits: HashLimits) -> bool {
        if matches!(self, HashValue::Listpack(_))
            && (field.len() > limits.max_listpack_value || value.len() > limits.max_listpack_value)
        {
            self.convert();
        }
        match self {
            HashValue::Listpack(lp) => {
                let mut created = true;
                // A listpack of pairs always has a value after a field.
                if let Some(v) = Self::lp_find(lp, field).and_then(|f| lp.next(f)) {
                    lp.replace(v, value);
                    created = false;
                } else {
                    lp.push_back(field);
                    lp.push_back(value);
                }
                // Checked after an update too, as Redis does: a hash left over the limit by
                // a lowered `hash-max-listpack-entries` converts on its next write.
                if lp.len() / 2 > limits.max_listpack_entries {
                    self.convert();
                }
                created
            }
            HashValue::Table(d) => match d.get_mut(field) {
                Some(v) => {
                    *v = Key::new(value);
                    false
                }
                None => {
                    d.insert_new(Key::new(field), Key::new(value));
                    true
                }
            },
        }
    }

    /// `hashTypeDelete`: removes `field`; true if it was there. A table is shrunk when it
    /// falls under 10% full, as Redis checks after every delete.
    pub fn delete(&mut self, field: &[u8]) -> bool {
        match self {
            HashValue::Listpack(lp) => match Self::lp_find(lp, field) {
                Some(f) => {
                    lp.delete_range_at(f, 2);
                    true
                }
                None => false,
            },
            HashValue::Table(d) => {
                let found = d.remove(field).is_some();
                if found {
                    d.shrink_if_needed();
                }
                found
            }
        }
    }

    /// Adopts a listpack of field/value pairs loaded from an RDB file or a RESTORE payload
    /// (already validated: an even number of entries, no repeated field), converting it to a
    /// table when it has more than `max_listpack_entries` pairs. As Redis's loader, only the
    /// count is checked, not the value lengths (that would be a second O(n) scan).
    pub fn from_listpack(lp: Listpack, limits: HashLimits) -> HashValue {
        let mut h = HashValue::Listpack(lp);
        if h.len() > limits.max_listpack_entries {
            h.convert();
        }
        h
    }

    /// Converts a listpack hash to a table now (`hashTypeConvert`), for callers that decide
    /// on other grounds than a write, such as the RDB loader for a zipmap with a long value.
    pub fn convert_to_table(&mut self) {
        self.convert();
    }

    /// `hashTypeConvert(o, OBJ_ENCODING_HT)`: moves every pair into a table sized for them.
    fn convert(&mut self) {
        let HashValue::Listpack(lp) = self else {
            return;
        };
        let mut d = Dict::with_capacity(lp.len() / 2);
        let mut it = lp.iter();
        let mut fbuf = [0u8; 20];
        let mut vbuf = [0u8; 20];
        while let (Some(f), Some(v)) = (it.next(), it.next()) {
            // insert (not insert_new): a listpack adopted from outside could repeat a field;
            // the last value wins instead of corrupting the table.
            d.insert(f.as_bytes(&mut fbuf), Key::new(v.as_bytes(&mut vbuf)));
        }
        *self = HashValue::Table(Box::new(d));
    }

    /// Every pair, in the encoding's order (listpack: insertion order; table: bucket order).
    pub fn iter(&self) -> Iter<'_> {
        match self {
            HashValue::Listpack(lp) => Iter::Listpack(lp.iter()),
            HashValue::Table(d) => Iter::Table(d.iter()),
        }
    }

    /// One random pair, uniformly for a listpack (`lpRandomPair`), Redis's "fair" sampling
    /// for a table (`dictGetFairRandomKey`). None if empty.
    pub fn random_pair(&self) -> Option<Pair<'_>> {
        match self {
            HashValue::Listpack(lp) => {
                let n = lp.len() / 2;
                if n == 0 {
                    return None;
                }
                let i = (random_u64() % n as u64) as i64;
                let f = lp.seek(2 * i)?;
                let v = lp.next(f)?;
                Some((lp.value(f), lp.value(v)))
            }
            HashValue::Table(d) => d
                .random()
                .map(|(f, v)| (LpValue::Str(f), LpValue::Str(v.as_bytes()))),
        }
    }

    /// Visits `count` distinct random pairs (`count < len`) in listpack order, each subset
    /// equally likely (`lpRandomPairsUnique`: selection sampling). Listpack only; returns
    /// false for a table.
    pub fn lp_sample_unique(&self, count: usize, f: &mut dyn FnMut(Pair<'_>)) -> bool {
        let HashValue::Listpack(lp) = self else {
            return false;
        };
        let mut left = lp.len() / 2;
        let mut need = count;
        let mut it = lp.iter();
        while need > 0 {
            let (Some(k), Some(v)) = (it.next(), it.next()) else {
                break;
            };
            // Pick this pair with probability need/left.
            if random_u64() % (left as u64) < need as u64 {
                f((k, v));
                need -= 1;
            }
            left -= 1;
        }
        true
    }

    /// The table, for SCAN and sampling code that needs its cursor API.
    pub fn as_table(&self) -> Option<&Dict<Key>> {
        match self {
            HashValue::Table(d) => Some(d),
            HashValue::Listpack(_) => None,
        }
    }
}

/// Iterator over a hash's pairs.
pub enum Iter<'a> {
    Listpack(crate::types::listpack::Iter<'a>),
    Table(crate::dict::Iter<'a, Key>),
}

impl<'a> Iterator for Iter<'a> {
    type Item = Pair<'a>;

    #[inline]
    fn next(&mut self) -> Option<Pair<'a>> {
        match self {
            Iter::Listpack(it) => Some((it.next()?, it.next()?)),
            Iter::Table(it) => it
                .next()
                .map(|(f, v)| (LpValue::Str(f), LpValue::Str(v.as_bytes()))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lim(entries: usize, value: usize) -> HashLimits {
        HashLimits {
            max_listpack_entries: entries,
            max_listpack_value: value,
        }
    }

    fn get(h: &HashValue, f: &str) -> Option<Vec<u8>> {
        h.get(f.as_bytes()).map(|v| v.to_vec())
    }

    #[test]
    fn from_listpack_converts_by_count_only() {
        let lp = Listpack::from_items([&b"f1"[..], b"v1", b"f2", b"a-long-value"]);
        let h = HashValue::from_listpack(lp.clone(), lim(2, 4));
        assert_eq!(
            h.encoding_name(),
            "listpack",
            "value length is not checked on load"
        );
        assert_eq!(get(&h, "f2").as_deref(), Some(&b"a-long-value"[..]));
        let mut h = HashValue::from_listpack(lp, lim(1, 64));
        assert_eq!(h.encoding_name(), "hashtable");
        assert_eq!((h.len(), get(&h, "f1").as_deref()), (2, Some(&b"v1"[..])));
        h.convert_to_table();
        assert_eq!(h.encoding_name(), "hashtable");
        let mut h = HashValue::from_listpack(Listpack::from_items([&b"a"[..], b"1"]), lim(8, 8));
        h.convert_to_table();
        assert_eq!(
            (h.encoding_name(), get(&h, "a").as_deref()),
            ("hashtable", Some(&b"1"[..]))
        );
    }

    #[test]
    fn listpack_keeps_insertion_order_and_updates_in_place() {
        let mut h = HashValue::new();
        let l = HashLimits::default();
        assert!(h.set(b"b", b"1", l));
        assert!(h.set(b"a", b"x", l));
        assert!(!h.set(b"b", b"2", l));
        assert_eq!(h.len(), 2);
        assert_eq!(h.encoding_name(), "listpack");
        let pairs: Vec<_> = h.iter().map(|(f, v)| (f.to_vec(), v.to_vec())).collect();
        assert_eq!(
            pairs,
            vec![
                (b"b".to_vec(), b"2".to_vec()),
                (b"a".to_vec(), b"x".to_vec())
            ]
        );
        // An integer-looking value is stored as an integer but reads back as the same bytes.
        assert_eq!(get(&h, "b").as_deref(), Some(&b"2"[..]));
        assert!(h.delete(b"b"));
        assert!(!h.delete(b"b"));
        assert_eq!(h.len(), 1);
        assert!(h.delete(b"a"));
        assert!(h.is_empty());
    }

    #[test]
    fn update_converts_a_listpack_left_over_a_lowered_limit() {
        let mut h = HashValue::new();
        h.set(b"a", b"1", lim(4, 64));
        h.set(b"b", b"2", lim(4, 64));
        assert!(!h.set(b"a", b"3", lim(2, 64)));
        assert_eq!(h.encoding_name(), "listpack");
        assert!(!h.set(b"a", b"4", lim(1, 64)));
        assert_eq!(h.encoding_name(), "hashtable");
        assert_eq!(get(&h, "a").as_deref(), Some(&b"4"[..]));
    }

    #[test]
    fn converts_past_entry_limit_and_never_back() {
        let mut h = HashValue::new();
        let l = lim(4, 64);
        for i in 0..4 {
            h.set(format!("f{i}").as_bytes(), b"v", l);
        }
        assert_eq!(h.encoding_name(), "listpack");
        h.set(b"f4", b"v", l);
        assert_eq!(h.encoding_name(), "hashtable");
        assert_eq!(h.len(), 5);
        for i in 0..5 {
            assert_eq!(get(&h, &format!("f{i}")).as_deref(), Some(&b"v"[..]));
        }
        for i in 0..4 {
            assert!(h.delete(format!("f{i}").as_bytes()));
        }
        assert_eq!(h.encoding_name(), "hashtable");
    }

    #[test]
    fn converts_on_long_field_or_value() {
        let l = lim(512, 3);
        let mut h = HashValue::new();
        h.set(b"abc", b"xyz", l);
        assert_eq!(h.encoding_name(), "listpack");
        h.set(b"f", b"long", l);
        assert_eq!(h.encoding_name(), "hashtable");
        let mut h = HashValue::new();
        h.set(b"abcd", b"1", l);
        assert_eq!(h.encoding_name(), "hashtable");
        let mut h = HashValue::new();
        h.try_conversion(&[b"abc", b"abcd"], l);
        assert_eq!(h.encoding_name(), "hashtable");
    }

    #[test]
    fn clone_is_deep_in_both_encodings() {
        for limit in [512, 1] {
            let l = lim(limit, 64);
            let mut h = HashValue::new();
            h.set(b"a", b"1", l);
            h.set(b"b", b"a-much-longer-value-than-twenty-two-bytes", l);
            let c = h.clone();
            h.set(b"a", b"2", l);
            assert_eq!(c.encoding_name(), h.encoding_name());
            assert_eq!(get(&c, "a").as_deref(), Some(&b"1"[..]));
            assert_eq!(c.len(), 2);
        }
    }

    #[test]
    fn unique_sample_returns_distinct_pairs_in_order() {
        let l = HashLimits::default();
        let mut h = HashValue::new();
        for i in 0..20 {
            h.set(format!("f{i:02}").as_bytes(), b"v", l);
        }
        for count in [1, 5, 19] {
            let mut got = Vec::new();
            assert!(h.lp_sample_unique(count, &mut |(f, _)| got.push(f.to_vec())));
            assert_eq!(got.len(), count);
            let mut sorted = got.clone();
            sorted.sort();
            sorted.dedup();
            assert_eq!(sorted, got, "distinct and in listpack order");
        }
    }

    #[test]
    fn random_pair_covers_every_field() {
        for limit in [512, 1] {
            let l = lim(limit, 64);
            let mut h = HashValue::new();
            for i in 0..5 {
                h.set(format!("f{i}").as_bytes(), format!("v{i}").as_bytes(), l);
            }
            let mut seen = std::collections::HashSet::new();
            for _ in 0..500 {
                let (f, v) = h.random_pair().unwrap();
                assert_eq!(&f.to_vec()[1..], &v.to_vec()[1..]);
                seen.insert(f.to_vec());
            }
            assert_eq!(seen.len(), 5);
        }
        assert!(HashValue::new().random_pair().is_none());
    }

    mod model {
        use super::*;
        use proptest::prelude::*;
        use std::collections::HashMap;

        #[derive(Clone, Debug)]
        enum Op {
            Set(Vec<u8>, Vec<u8>),
            Delete(Vec<u8>),
        }

        /// Few distinct fields (so updates and deletes hit), integer-looking ones included
        /// (stored as listpack integers), and lengths around a small value limit.
        fn bytes() -> impl Strategy<Value = Vec<u8>> {
            prop_oneof![
                3 => "[a-d]{0,2}".prop_map(String::into_bytes),
                2 => "-?[0-9]{1,3}".prop_map(String::into_bytes),
                1 => "[a-z]{5,7}".prop_map(String::into_bytes),
            ]
        }

        fn op() -> impl Strategy<Value = Op> {
            prop_oneof![
                3 => (bytes(), bytes()).prop_map(|(f, v)| Op::Set(f, v)),
                1 => bytes().prop_map(Op::Delete),
            ]
        }

        proptest! {
            #[test]
            fn behaves_like_hashmap(
                ops in prop::collection::vec(op(), 0..120),
                entries in 0usize..12,
                value in 0usize..8,
            ) {
                let limits = lim(entries, value);
                let mut h = HashValue::new();
                let mut m: HashMap<Vec<u8>, Vec<u8>> = HashMap::new();
                let mut was_table = false;
                for op in ops {
                    match op {
                        Op::Set(f, v) => {
                            let fits = f.len() <= value && v.len() <= value;
                            let new = h.set(&f, &v, limits);
                            prop_assert_eq!(new, m.insert(f, v).is_none());
                            if h.encoding_name() == "listpack" {
                                // Still a listpack only if everything fits.
                                prop_assert!(fits && m.len() <= entries);
                            }
                        }
                        Op::Delete(f) => {
                            prop_assert_eq!(h.delete(&f), m.remove(&f).is_some());
                        }
                    }
                    if was_table {
                        prop_assert_eq!(h.encoding_name(), "hashtable", "never converts back");
                    }
                    was_table = h.encoding_name() == "hashtable";
                    prop_assert_eq!(h.len(), m.len());
                    prop_assert_eq!(h.is_empty(), m.is_empty());
                }
                let mut got: Vec<(Vec<u8>, Vec<u8>)> =
                    h.iter().map(|(f, v)| (f.to_vec(), v.to_vec())).collect();
                got.sort();
                let mut want: Vec<(Vec<u8>, Vec<u8>)> = m.clone().into_iter().collect();
                want.sort();
                prop_assert_eq!(got, want);
                for (f, v) in &m {
                    prop_assert_eq!(h.get(f).map(|x| x.to_vec()), Some(v.clone()));
                    prop_assert!(h.contains(f));
                }
                prop_assert!(!h.contains(b"zzzzzzzzz"));
                let c = h.clone();
                prop_assert_eq!(c.len(), h.len());
                prop_assert_eq!(c.encoding_name(), h.encoding_name());
            }
        }
    }
}
