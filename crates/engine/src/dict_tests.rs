//! Tests of the dict: keys, growth and shrink, incremental rehash bounds, SCAN across
//! resizes, sampling, and a property test against `HashMap`.

use super::*;
use proptest::prelude::*;
use std::collections::{HashMap, HashSet};

fn k(i: usize) -> Vec<u8> {
    format!("key:{i}").into_bytes()
}

#[test]
fn key_is_compact_and_roundtrips() {
    assert_eq!(std::mem::size_of::<Key>(), 24);
    for len in [0, 1, 21, 22, 23, 100] {
        let b: Vec<u8> = (0..len).map(|i| i as u8).collect();
        let key = Key::new(&b);
        assert_eq!(key.as_bytes(), &b[..]);
        assert_eq!(key.heap_size(), if len > INLINE_CAP { len } else { 0 });
        assert_eq!(key.clone().into_vec(), b);
        assert_eq!(Box::<[u8]>::from(key), b.clone().into_boxed_slice());
    }
}

#[test]
fn node_sizes() {
    // A bucket head is one pointer; a node with no value is key + link.
    assert_eq!(std::mem::size_of::<Link<()>>(), 8);
    assert_eq!(std::mem::size_of::<Node<()>>(), 32);
    let t: Table<u64> = Table::with_size(1 << 10);
    assert!(t.buckets.iter().all(|b| b.is_none()));
    eprintln!(
        "Node<Entry> = {} bytes, Entry = {} bytes",
        std::mem::size_of::<Node<crate::db::Entry>>(),
        std::mem::size_of::<crate::db::Entry>()
    );
}

#[test]
fn basic_ops() {
    let mut d = Dict::new();
    assert!(d.get(b"a").is_none());
    assert_eq!(d.insert(b"a", 1), None);
    assert_eq!(d.insert(b"a", 2), Some(1));
    assert_eq!(d.get(b"a"), Some(&2));
    *d.get_mut(b"a").unwrap() += 1;
    assert_eq!(d.get(b"a"), Some(&3));
    assert_eq!(d.len(), 1);
    let (key, v) = d.remove(b"a").unwrap();
    assert_eq!((&*key, v), (&b"a"[..], 3));
    assert!(d.remove(b"a").is_none());
    assert!(d.is_empty());
    let (v, ins) = d.get_or_insert_with(b"x", || 7);
    assert!(ins);
    *v += 1;
    let (v, ins) = d.get_or_insert_with(b"x", || 0);
    assert!(!ins);
    assert_eq!(*v, 8);
    d.insert_new(Key::new(b"y"), 9);
    assert_eq!(d.get(b"y"), Some(&9));
    d.clear();
    assert!(d.is_empty() && d.get(b"x").is_none());
}

#[test]
fn many_keys_and_empty_key() {
    let mut d = Dict::new();
    d.insert(b"", 0usize);
    for i in 0..10_000 {
        d.insert(&k(i), i);
    }
    assert_eq!(d.len(), 10_001);
    assert_eq!(d.get(b""), Some(&0));
    for i in 0..10_000 {
        assert_eq!(d.get(&k(i)), Some(&i));
    }
    assert_eq!(d.iter().count(), 10_001);
    for i in 0..10_000 {
        assert_eq!(d.remove(&k(i)).map(|(_, v)| v), Some(i));
    }
    assert_eq!(d.len(), 1);
}

#[test]
fn lookup_or_evict_keeps_or_removes() {
    let mut d = Dict::new();
    d.insert(b"keep", 1);
    d.insert(b"drop", 2);
    match d.lookup_or_evict(b"keep", |v| *v == 2) {
        Lookup::Found(v) => *v = 10,
        _ => panic!("expected Found"),
    }
    match d.lookup_or_evict(b"drop", |v| *v == 2) {
        Lookup::Evicted(key, v) => assert_eq!((&*key, v), (&b"drop"[..], 2)),
        _ => panic!("expected Evicted"),
    }
    assert!(matches!(
        d.lookup_or_evict(b"drop", |_| true),
        Lookup::Missing
    ));
    assert_eq!(d.get(b"keep"), Some(&10));
    assert_eq!(d.len(), 1);
}

#[test]
fn growth_is_incremental() {
    let mut d = Dict::new();
    // Fill the initial table exactly (4 keys): the 5th insert triggers expansion.
    for i in 0..4 {
        d.insert(&k(i), i);
    }
    assert!(!d.is_rehashing());
    assert_eq!(d.slots(), 4);
    d.insert(&k(4), 4);
    assert!(d.is_rehashing());
    // Grow further: at 1024 keys the next insert starts a 2048-bucket rehash; the old
    // table must still hold most entries right after it (no O(n) pause).
    while d.is_rehashing() {
        d.rehash(1);
    }
    let mut i = 5;
    while !d.is_rehashing() {
        d.insert(&k(i), i);
        i += 1;
    }
    assert!(d.ht[0].used > d.len() / 2, "old table drained at once");
    assert!(d.ht[1].used >= 1);
    // Every key stays reachable mid-rehash.
    for j in 0..i {
        assert_eq!(d.get(&k(j)), Some(&j));
    }
    while d.rehash(10) {}
    assert_eq!(d.ht[1].size(), 0);
    assert_eq!(d.ht[0].used, i);
    assert!(d.slots() >= i);
}

#[test]
fn rehash_bounds_empty_visits() {
    let mut d = Dict::new();
    for i in 0..1000 {
        d.insert(&k(i), i);
    }
    while d.rehash(100) {}
    for i in 1..1000 {
        d.remove(&k(i));
    }
    assert!(d.needs_shrink());
    assert!(d.shrink_if_needed());
    assert!(d.is_rehashing());
    let before = d.rehashidx.unwrap();
    // One step visits at most 10 empty buckets before giving up for now.
    d.rehash(1);
    let after = d.rehashidx.unwrap_or(usize::MAX);
    assert!(after == usize::MAX || after - before <= 11);
    while d.rehash(1) {}
    assert_eq!(d.slots(), 4);
    assert_eq!(d.get(&k(0)), Some(&0));
}

/// Runs a full scan while `mutate` changes the dict between calls; returns the keys seen.
fn scan_all(
    d: &mut Dict<usize>,
    mut mutate: impl FnMut(&mut Dict<usize>, usize),
) -> HashSet<Vec<u8>> {
    let mut seen = HashSet::new();
    let mut cursor = 0;
    let mut step = 0;
    loop {
        cursor = d.scan(cursor, &mut |key, _| {
            seen.insert(key.to_vec());
        });
        if cursor == 0 {
            break;
        }
        mutate(d, step);
        step += 1;
    }
    seen
}

#[test]
fn scan_survives_growth() {
    let mut d = Dict::new();
    for i in 0..100 {
        d.insert(&k(i), i);
    }
    while d.rehash(100) {}
    let mut next = 100;
    // Grow by 20 keys per call up to 2000 keys (unbounded growth would outrun the scan).
    let seen = scan_all(&mut d, |d, _| {
        for _ in 0..20 {
            if next < 2000 {
                d.insert(&k(next), next);
                next += 1;
            }
        }
    });
    assert!(next > 1000, "the dict grew several times during the scan");
    for i in 0..100 {
        assert!(seen.contains(&k(i)), "missed key {i}");
    }
}

#[test]
fn scan_survives_shrink() {
    let mut d = Dict::new();
    for i in 0..5000 {
        d.insert(&k(i), i);
    }
    while d.rehash(100) {}
    // Keys 0..100 stay; the rest are deleted during the scan, and the table shrinks.
    let mut gone = 100;
    let mut shrinks = 0;
    let seen = scan_all(&mut d, |d, _| {
        for _ in 0..50 {
            if gone < 5000 {
                d.remove(&k(gone));
                gone += 1;
            }
        }
        if d.shrink_if_needed() {
            shrinks += 1;
        }
        d.rehash(2);
    });
    assert!(shrinks >= 1, "the dict shrank during the scan");
    for i in 0..100 {
        assert!(seen.contains(&k(i)), "missed key {i}");
    }
}

#[test]
fn scan_while_rehashing_both_directions() {
    for grow in [true, false] {
        let mut d = Dict::new();
        let n = if grow { 64 } else { 4096 };
        for i in 0..n {
            d.insert(&k(i), i);
        }
        while d.rehash(100) {}
        if grow {
            d.insert(&k(n), n);
        } else {
            for i in 64..n {
                d.remove(&k(i));
            }
            d.shrink_if_needed();
        }
        assert!(d.is_rehashing());
        d.rehash(3);
        let seen = scan_all(&mut d, |_, _| {});
        assert_eq!(seen.len(), d.len());
    }
}

#[test]
fn random_returns_members_and_covers() {
    let mut d = Dict::new();
    assert!(d.random().is_none());
    for i in 0..50 {
        d.insert(&k(i), i);
    }
    let mut seen = HashSet::new();
    for _ in 0..5000 {
        let (key, v) = d.random().unwrap();
        assert_eq!(key, &k(*v)[..]);
        seen.insert(*v);
    }
    assert_eq!(seen.len(), 50);
    // Also while rehashing.
    for i in 50..65 {
        d.insert(&k(i), i);
    }
    let mut rehashing_seen = 0;
    while d.is_rehashing() {
        let (key, v) = d.random().unwrap();
        assert_eq!(key, &k(*v)[..]);
        rehashing_seen += 1;
        d.rehash(1);
    }
    assert!(rehashing_seen > 0);
}

#[test]
fn some_keys_samples_distinct_members() {
    let mut d = Dict::new();
    assert_eq!(d.some_keys(5, &mut |_, _| panic!("empty dict")), 0);
    for i in 0..1000 {
        d.insert(&k(i), i);
    }
    for _ in 0..100 {
        let mut got = HashSet::new();
        let n = d.some_keys(15, &mut |key, v| {
            assert_eq!(key, &k(*v)[..]);
            assert!(got.insert(*v), "a sample repeats an entry");
        });
        assert_eq!(n, got.len());
        assert!(n <= 15 && n > 0);
    }
    // Sparse: 3 keys left in a big table still come back (fallback to a random bucket).
    for i in 3..1000 {
        d.remove(&k(i));
    }
    let mut seen = HashSet::new();
    for _ in 0..300 {
        seen.insert(*d.random().unwrap().1);
    }
    assert_eq!(seen.len(), 3);
}

#[test]
fn iter_sees_both_tables() {
    let mut d = Dict::new();
    for i in 0..100 {
        d.insert(&k(i), i);
    }
    assert!(d.is_rehashing() || d.slots() >= 100);
    let mut got: Vec<usize> = d.iter().map(|(_, v)| *v).collect();
    got.sort();
    assert_eq!(got, (0..100).collect::<Vec<_>>());
    d.for_each_mut(|_, v| *v += 1);
    assert_eq!(d.get(&k(5)), Some(&6));
}

#[derive(Debug, Clone)]
enum Op {
    Insert(u8, u32),
    Remove(u8),
    Get(u8),
    Rehash(u8),
    Shrink,
    Evict(u8),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (any::<u8>(), any::<u32>()).prop_map(|(k, v)| Op::Insert(k, v)),
        3 => any::<u8>().prop_map(Op::Remove),
        2 => any::<u8>().prop_map(Op::Get),
        1 => (0u8..5).prop_map(Op::Rehash),
        1 => Just(Op::Shrink),
        1 => any::<u8>().prop_map(Op::Evict),
    ]
}

proptest! {
    #[test]
    fn matches_hashmap_model(ops in proptest::collection::vec(op(), 1..400)) {
        let mut d: Dict<u32> = Dict::new();
        let mut m: HashMap<Vec<u8>, u32> = HashMap::new();
        // Keys of varied lengths, some beyond the inline capacity.
        let key = |b: u8| {
            let mut v = vec![b; (b % 40) as usize];
            v.push(b);
            v
        };
        for op in ops {
            match op {
                Op::Insert(k, v) => prop_assert_eq!(d.insert(&key(k), v), m.insert(key(k), v)),
                Op::Remove(k) => prop_assert_eq!(d.remove(&key(k)).map(|(_, v)| v), m.remove(&key(k))),
                Op::Get(k) => {
                    prop_assert_eq!(d.get(&key(k)), m.get(&key(k)));
                    prop_assert_eq!(d.get_mut(&key(k)).map(|v| *v), m.get(&key(k)).copied());
                }
                Op::Rehash(n) => { d.rehash(n as usize); }
                Op::Shrink => { d.shrink_if_needed(); }
                Op::Evict(k) => {
                    let odd = |v: &u32| v % 2 == 1;
                    match d.lookup_or_evict(&key(k), odd) {
                        Lookup::Found(v) => prop_assert!(!odd(v) && m.get(&key(k)) == Some(v)),
                        Lookup::Evicted(_, v) => prop_assert_eq!(m.remove(&key(k)), Some(v)),
                        Lookup::Missing => prop_assert!(!m.contains_key(&key(k))),
                    }
                }
            }
            prop_assert_eq!(d.len(), m.len());
        }
        let mut all: Vec<(Vec<u8>, u32)> = d.iter().map(|(k, v)| (k.to_vec(), *v)).collect();
        all.sort();
        let mut want: Vec<(Vec<u8>, u32)> = m.into_iter().collect();
        want.sort();
        prop_assert_eq!(all, want);
    }
}
