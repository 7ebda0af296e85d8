//! Listpack tests: golden bytes from real Redis 7.0.15, encoding boundaries, a model-based
//! property test, and corrupt-input robustness.

use super::*;
use proptest::prelude::*;

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn items(lp: &Listpack) -> Vec<Vec<u8>> {
    lp.iter().map(|v| v.to_vec()).collect()
}

fn lp_of(vals: &[&[u8]]) -> Listpack {
    Listpack::from_items(vals.iter().copied())
}

/// Checks every invariant that must hold after any operation, against the model.
fn check(lp: &Listpack, model: &[Vec<u8>]) {
    assert!(
        validate(lp.bytes(), |_| true),
        "invalid bytes {:?}",
        lp.bytes()
    );
    assert_eq!(lp.len(), model.len());
    assert_eq!(lp.is_empty(), model.is_empty());
    assert_eq!(items(lp), model);
    let mut back: Vec<Vec<u8>> = lp.iter().rev().map(|v| v.to_vec()).collect();
    back.reverse();
    assert_eq!(back, model);
    // Cursor walks agree with the iterator both ways.
    let mut fwd = Vec::new();
    let mut c = lp.first();
    while let Some(x) = c {
        fwd.push(lp.value(x).to_vec());
        c = lp.next(x);
    }
    assert_eq!(fwd, model);
    let mut rev = Vec::new();
    let mut c = lp.last();
    while let Some(x) = c {
        rev.push(lp.value(x).to_vec());
        c = lp.prev(x);
    }
    rev.reverse();
    assert_eq!(rev, model);
    let again = Listpack::from_bytes(lp.bytes().to_vec()).expect("round trip");
    assert_eq!(again.bytes(), lp.bytes());
    assert_eq!(lp.total_bytes(), lp.bytes().len());
    assert!(lp.heap_size() >= lp.total_bytes());
}

// --- golden vectors: `RPUSH k ...` / `HSET k ...` then `DUMP k` on Redis 7.0.15 with
// `rdbcompression no`; the hex is the listpack blob inside the DUMP payload.

#[test]
fn golden_mixed() {
    let lp = lp_of(&[b"a", b"1", b"-1", b"300", b"hello"]);
    assert_eq!(
        lp.bytes(),
        unhex("1900000005008161020101dfff02c12c028568656c6c6f06ff")
    );
}

#[test]
fn golden_every_integer_width() {
    let vals: [i64; 19] = [
        0,
        127,
        128,
        -1,
        -4096,
        4095,
        4096,
        -4097,
        32767,
        -32768,
        32768,
        8388607,
        -8388608,
        8388608,
        2147483647,
        -2147483648,
        2147483648,
        i64::MAX,
        i64::MIN,
    ];
    let expect = unhex(concat!(
        "66000000130000017f01c08002dfff02d00002cfff02f1001003f1ffef03f1ff7f03f1008003",
        "f200800004f2ffff7f04f200008004f30000800005f3ffffff7f05f30000008005f400000080",
        "0000000009f4ffffffffffffff7f09f4000000000000008009ff"
    ));
    let strs: Vec<Vec<u8>> = vals.iter().map(|v| v.to_string().into_bytes()).collect();
    let lp = Listpack::from_items(strs.iter().map(|s| &s[..]));
    assert_eq!(lp.bytes(), &expect[..]);
    // The integer API writes the same bytes, and reads give the integers back.
    let mut lp2 = Listpack::new();
    for v in vals {
        lp2.push_back_int(v);
    }
    assert_eq!(lp2.bytes(), &expect[..]);
    let got: Vec<LpValue<'_>> = lp.iter().collect();
    let want: Vec<LpValue<'_>> = vals.iter().map(|&v| LpValue::Int(v)).collect();
    assert_eq!(got, want);
}

#[test]
fn golden_strings_that_are_not_integers() {
    let z125 = vec![b'z'; 125];
    let x63 = vec![b'x'; 63];
    let y64 = vec![b'y'; 64];
    let vals: Vec<&[u8]> = vec![
        b"",
        b"-0",
        b"01",
        b"+1",
        b" 1",
        b"9223372036854775808",
        b"-9223372036854775809",
        b"1a",
        &x63,
        &y64,
        &z125,
    ];
    let lp = Listpack::from_items(vals.iter().copied());
    let mut expect = unhex(concat!(
        "4c0100000b008001822d300382303103822b310382203103933932323333373230333638353437",
        "373538303814942d393232333337323033363835343737353830391582316103bf"
    ));
    expect.extend_from_slice(&x63);
    expect.extend_from_slice(&unhex("40e040"));
    expect.extend_from_slice(&y64);
    expect.extend_from_slice(&unhex("42e07d"));
    expect.extend_from_slice(&z125);
    expect.extend_from_slice(&unhex("7fff"));
    assert_eq!(lp.bytes(), &expect[..]);
    for (v, want) in lp.iter().zip(&vals) {
        assert_eq!(v, LpValue::Str(want));
    }
}

/// Single long strings: (length, header hex, backlen+EOF hex) as Redis wrote them. Covers
/// the 12-bit and 32-bit string encodings and 2- and 3-byte backlens at their edges.
#[test]
fn golden_long_strings() {
    let cases: [(usize, &str, &str); 5] = [
        (126, "890000000100e07e", "0180ff"),
        (4095, "0a1000000100efff", "2081ff"),
        (4096, "0e1000000100f000100000", "2085ff"),
        (16377, "074000000100f0f93f0000", "7ffeff"),
        (16378, "094000000100f0fa3f0000", "00ffffff"),
    ];
    for (n, head, tail) in cases {
        let s = vec![b'c'; n];
        let lp = lp_of(&[&s]);
        let mut expect = unhex(head);
        expect.extend_from_slice(&s);
        expect.extend_from_slice(&unhex(tail));
        assert_eq!(lp.bytes(), &expect[..], "length {n}");
        check(&lp, &[s]);
    }
    let s = vec![b'c'; 20000];
    let lp = lp_of(&[&s]);
    assert_eq!(&lp.bytes()[..11], &unhex("2f4e00000100f0204e0000")[..]);
    assert_eq!(&lp.bytes()[lp.total_bytes() - 4..], &unhex("019ca5ff")[..]);
}

#[test]
fn golden_hash_pairs() {
    let lp = lp_of(&[b"f1", b"v1", b"f2", b"2", b"f3", b"-7"]);
    assert_eq!(
        lp.bytes(),
        unhex("1c0000000600826631038276310382663203020182663303dff902ff")
    );
    // Keys only (skip the values).
    let first = lp.first().unwrap();
    assert_eq!(
        lp.find(first, b"f3", 1).map(|c| lp.value(c)),
        Some(LpValue::Str(b"f3"))
    );
    assert_eq!(lp.find(first, b"v1", 1), None);
    assert_eq!(
        lp.find(first, b"v1", 0).map(|c| lp.value(c)),
        Some(LpValue::Str(b"v1"))
    );
    let c = lp.find(first, b"-7", 0).unwrap();
    assert_eq!(lp.value(c), LpValue::Int(-7));
    assert_eq!(lp.find(first, b"-07", 0), None);
}

#[test]
fn backlen_boundaries_walk_backwards() {
    // Encoded sizes 127/128 (1 vs 2 bytes), 16382/16383 (2 vs 3 bytes).
    let lens = [125usize, 126, 127, 16377, 16378, 4094, 62, 63, 0];
    let model: Vec<Vec<u8>> = lens.iter().map(|&n| vec![b'q'; n]).collect();
    let lp = Listpack::from_items(model.iter().map(|v| &v[..]));
    check(&lp, &model);
}

#[test]
fn empty_listpack() {
    let mut lp = Listpack::new();
    assert_eq!(lp.bytes(), &[7, 0, 0, 0, 0, 0, 0xFF]);
    assert_eq!(lp.first(), None);
    assert_eq!(lp.last(), None);
    assert_eq!(lp.seek(0), None);
    assert_eq!(lp.seek(-1), None);
    assert_eq!(lp.iter().next(), None);
    lp.delete_range(0, 5);
    lp.rotate_last_to_front();
    assert_eq!(lp.split_off(0).len(), 0);
    check(&lp, &[]);
}

#[test]
fn seek_and_get_negative() {
    let model: Vec<Vec<u8>> = (0..50).map(|i| format!("e{i}").into_bytes()).collect();
    let lp = Listpack::from_items(model.iter().map(|v| &v[..]));
    for i in -60i64..60 {
        let want = if i >= 0 {
            model.get(i as usize)
        } else {
            model.len().checked_sub((-i) as usize).map(|j| &model[j])
        };
        assert_eq!(lp.get(i).map(|v| v.to_vec()).as_ref(), want, "index {i}");
    }
}

#[test]
fn insert_replace_delete_cursors() {
    let mut lp = lp_of(&[b"a", b"c"]);
    let c = lp.seek(1).unwrap();
    let b = lp.insert(c, Where::Before, b"b");
    assert_eq!(lp.value(b), LpValue::Str(b"b"));
    let d = lp.insert(lp.last().unwrap(), Where::After, b"12345");
    assert_eq!(lp.value(d), LpValue::Int(12345));
    assert_eq!(lp.next(d), None);
    let r = lp.replace(b, b"a-much-longer-replacement-value");
    assert_eq!(
        lp.value(r),
        LpValue::Str(b"a-much-longer-replacement-value")
    );
    let r = lp.replace_int(r, -3);
    assert_eq!(lp.value(r), LpValue::Int(-3));
    check(
        &lp,
        &[
            b"a".to_vec(),
            b"-3".to_vec(),
            b"c".to_vec(),
            b"12345".to_vec(),
        ],
    );
    let next = lp.delete(r).unwrap();
    assert_eq!(lp.value(next), LpValue::Str(b"c"));
    let after_last = lp.delete(lp.last().unwrap());
    assert_eq!(after_last, None);
    check(&lp, &[b"a".to_vec(), b"c".to_vec()]);
    let next = lp.delete_range_at(lp.first().unwrap(), 10);
    assert_eq!(next, None);
    check(&lp, &[]);
}

#[test]
fn delete_range_like_redis() {
    let model: Vec<Vec<u8>> = (0..10).map(|i| vec![b'a' + i as u8]).collect();
    let base = Listpack::from_items(model.iter().map(|v| &v[..]));
    for index in -12i64..12 {
        for num in 0..12usize {
            let mut lp = base.clone();
            lp.delete_range(index, num);
            let mut m = model.clone();
            let start = if index < 0 { index + 10 } else { index };
            if (0..10).contains(&start) {
                let s = start as usize;
                let e = (s + num).min(10);
                m.drain(s..e);
            }
            check(&lp, &m);
        }
    }
}

#[test]
fn split_and_merge() {
    let model: Vec<Vec<u8>> = (0..20).map(|i| format!("v{i}").into_bytes()).collect();
    for at in 0..=21 {
        let mut a = Listpack::from_items(model.iter().map(|v| &v[..]));
        let b = a.split_off(at);
        let k = at.min(20);
        check(&a, &model[..k]);
        check(&b, &model[k..]);
        let m = Listpack::merge(a, b);
        check(&m, &model);
    }
    // Prepend path: the second listpack is the larger one.
    let small = lp_of(&[b"x"]);
    let big = Listpack::from_items(model.iter().map(|v| &v[..]));
    let m = Listpack::merge(small, big);
    let mut want = vec![b"x".to_vec()];
    want.extend(model.iter().cloned());
    check(&m, &want);
}

#[test]
fn rotate_moves_last_entry() {
    let mut lp = lp_of(&[b"1", b"two", b"300000"]);
    lp.rotate_last_to_front();
    check(&lp, &[b"300000".to_vec(), b"1".to_vec(), b"two".to_vec()]);
}

#[test]
fn unknown_count_past_65534() {
    let mut lp = Listpack::new();
    for i in 0..65534 {
        lp.push_back_int(i % 100);
    }
    assert_eq!(&lp.bytes()[4..6], &[0xFE, 0xFF]);
    lp.push_back(b"x");
    // 65535 entries: the header now says "unknown", as Redis's lpInsert leaves it.
    assert_eq!(&lp.bytes()[4..6], &[0xFF, 0xFF]);
    assert_eq!(lp.len(), 65535);
    lp.push_front(b"y");
    assert_eq!(lp.len(), 65536);
    assert_eq!(lp.get(-1), Some(LpValue::Str(b"x")));
    assert_eq!(lp.get(0), Some(LpValue::Str(b"y")));
    assert_eq!(lp.get(65535), Some(LpValue::Str(b"x")));
    assert_eq!(lp.get(65536), None);
    assert_eq!(lp.get(-65537), None);
    lp.delete(lp.first().unwrap());
    assert_eq!(&lp.bytes()[4..6], &[0xFF, 0xFF]);
    assert_eq!(lp.len(), 65535);
    assert!(validate(lp.bytes(), |_| true));
    lp.delete_range(-10, 100);
    assert_eq!(lp.len(), 65525);
    assert_eq!(lp.get(-1), Some(LpValue::Int(24)));
    let tail = lp.split_off(65000);
    assert_eq!(lp.len(), 65000);
    assert_eq!(&lp.bytes()[4..6], &65000u16.to_le_bytes());
    assert_eq!(tail.len(), 525);
}

#[test]
fn value_helpers() {
    let mut buf = [0u8; 20];
    assert_eq!(
        LpValue::Int(i64::MIN).as_bytes(&mut buf),
        b"-9223372036854775808"
    );
    assert_eq!(LpValue::Int(-5).str_len(), 2);
    assert_eq!(LpValue::Str(b"abc").str_len(), 3);
    assert!(LpValue::Int(10).eq_bytes(b"10"));
    assert!(!LpValue::Int(10).eq_bytes(b"010"));
    assert!(!LpValue::Int(0).eq_bytes(b"-0"));
    assert!(LpValue::Str(b"-0").eq_bytes(b"-0"));
    assert_eq!(LpValue::Str(b"42").as_int(), Some(42));
    assert_eq!(LpValue::Str(b"4x").as_int(), None);
}

#[test]
fn size_classes_follow_jemalloc() {
    let got: Vec<usize> = [
        1, 8, 9, 16, 17, 128, 129, 160, 161, 256, 257, 4097, 8180, 8193,
    ]
    .iter()
    .map(|&n| size_class(n))
    .collect();
    assert_eq!(
        got,
        [
            8, 8, 16, 16, 32, 128, 160, 160, 192, 256, 320, 5120, 8192, 10240
        ]
    );
}

// --- validation ----------------------------------------------------------------------------

#[test]
fn validate_rejects_corruptions() {
    let good = lp_of(&[b"a", b"1", b"-1", b"300", b"hello"]).into_bytes();
    assert!(validate(&good, |_| true));
    let bad = |f: &dyn Fn(&mut Vec<u8>)| {
        let mut b = good.clone();
        f(&mut b);
        assert!(Listpack::from_bytes(b.clone()).is_err(), "accepted {b:?}");
    };
    bad(&|b| b.truncate(6));
    bad(&|b| b[0] += 1); // total mismatch
    bad(&|b| *b.last_mut().unwrap() = 0); // no EOF
    bad(&|b| b[4] = 4); // count mismatch
    bad(&|b| b[8] = 3); // backlen mismatch
    bad(&|b| b[6] = 0xF5); // invalid encoding byte
    bad(&|b| b[6] = 0xF0); // 32-bit string running past the end
    bad(&|b| {
        // An EOF byte in the middle: the walk must end exactly at the last byte.
        b[6] = 0xFF;
    });
    // Unknown count is accepted.
    let mut b = good.clone();
    b[4] = 0xFF;
    b[5] = 0xFF;
    let lp = Listpack::from_bytes(b).unwrap();
    assert_eq!(lp.len(), 5);
    // The entry callback can reject.
    assert!(!validate(&good, |v| v != LpValue::Int(300)));
    let mut seen = 0;
    assert!(validate(&good, |_| {
        seen += 1;
        true
    }));
    assert_eq!(seen, 5);
}

#[test]
fn validate_accepts_non_canonical_encodings_and_works_on_them() {
    // "ab" as a 12-bit string and 5 as a 64-bit integer: legal, if not what we write.
    let mut b = vec![0, 0, 0, 0, 2, 0];
    b.extend_from_slice(&[0xE0, 0x02, b'a', b'b', 4]);
    b.extend_from_slice(&[0xF4, 5, 0, 0, 0, 0, 0, 0, 0, 9]);
    b.push(0xFF);
    let n = b.len() as u32;
    b[..4].copy_from_slice(&n.to_le_bytes());
    let mut lp = Listpack::from_bytes(b).unwrap();
    check(&lp, &[b"ab".to_vec(), b"5".to_vec()]);
    lp.push_front(b"z");
    lp.insert(lp.seek(1).unwrap(), Where::After, b"m");
    check(
        &lp,
        &[b"z".to_vec(), b"ab".to_vec(), b"m".to_vec(), b"5".to_vec()],
    );
}

// --- property tests ------------------------------------------------------------------------

fn value_strategy() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        4 => proptest::collection::vec(any::<u8>(), 0..12),
        2 => any::<i64>().prop_map(|v| v.to_string().into_bytes()),
        2 => (-5000i64..5000).prop_map(|v| v.to_string().into_bytes()),
        1 => prop::sample::select(vec![
            &b"0"[..], b"-0", b"01", b"+1", b" 1", b"1 ", b"", b"-", b"127", b"128",
            b"-4096", b"-4097", b"9223372036854775807", b"9223372036854775808",
            b"-9223372036854775808", b"-9223372036854775809",
        ]).prop_map(|s| s.to_vec()),
        1 => (60usize..70).prop_map(|n| vec![b'm'; n]),
        1 => (120usize..300).prop_map(|n| vec![b'L'; n]),
        1 => (4090usize..4100).prop_map(|n| vec![b'H'; n]),
    ]
}

#[derive(Debug, Clone)]
enum Op {
    PushBack(Vec<u8>),
    PushFront(Vec<u8>),
    Insert(usize, bool, Vec<u8>),
    Replace(usize, Vec<u8>),
    Delete(usize),
    DeleteRange(i64, usize),
    SplitMerge(usize),
    Rotate,
    Find(usize, usize),
}

fn op_strategy() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => value_strategy().prop_map(Op::PushBack),
        3 => value_strategy().prop_map(Op::PushFront),
        3 => (any::<usize>(), any::<bool>(), value_strategy())
            .prop_map(|(i, a, v)| Op::Insert(i, a, v)),
        2 => (any::<usize>(), value_strategy()).prop_map(|(i, v)| Op::Replace(i, v)),
        2 => any::<usize>().prop_map(Op::Delete),
        1 => (-30i64..30, 0usize..8).prop_map(|(i, n)| Op::DeleteRange(i, n)),
        1 => any::<usize>().prop_map(Op::SplitMerge),
        1 => Just(Op::Rotate),
        1 => (any::<usize>(), 0usize..3).prop_map(|(i, s)| Op::Find(i, s)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn prop_matches_vec_model(ops in proptest::collection::vec(op_strategy(), 1..60)) {
        let mut lp = Listpack::new();
        let mut m: Vec<Vec<u8>> = Vec::new();
        for op in ops {
            match op {
                Op::PushBack(v) => { lp.push_back(&v); m.push(v); }
                Op::PushFront(v) => { lp.push_front(&v); m.insert(0, v); }
                Op::Insert(i, after, v) => {
                    if m.is_empty() { continue; }
                    let i = i % m.len();
                    let c = lp.seek(i as i64).unwrap();
                    let at = if after { Where::After } else { Where::Before };
                    let nc = lp.insert(c, at, &v);
                    prop_assert!(lp.value(nc).eq_bytes(&v));
                    m.insert(if after { i + 1 } else { i }, v);
                }
                Op::Replace(i, v) => {
                    if m.is_empty() { continue; }
                    let i = i % m.len();
                    // Negative index path too.
                    let c = lp.seek(i as i64 - m.len() as i64).unwrap();
                    lp.replace(c, &v);
                    m[i] = v;
                }
                Op::Delete(i) => {
                    if m.is_empty() { continue; }
                    let i = i % m.len();
                    let next = lp.delete(lp.seek(i as i64).unwrap());
                    m.remove(i);
                    prop_assert_eq!(next.map(|c| lp.value(c).to_vec()), m.get(i).cloned());
                }
                Op::DeleteRange(i, n) => {
                    lp.delete_range(i, n);
                    let len = m.len() as i64;
                    let s = if i < 0 { i + len } else { i };
                    if (0..len).contains(&s) {
                        let s = s as usize;
                        let e = (s + n).min(m.len());
                        m.drain(s..e);
                    }
                }
                Op::SplitMerge(at) => {
                    let at = at % (m.len() + 1);
                    let tail = lp.split_off(at);
                    check(&lp, &m[..at]);
                    check(&tail, &m[at..]);
                    lp = Listpack::merge(std::mem::take(&mut lp), tail);
                }
                Op::Rotate => {
                    lp.rotate_last_to_front();
                    if let Some(x) = m.pop() { m.insert(0, x); }
                }
                Op::Find(i, skip) => {
                    if m.is_empty() { continue; }
                    let i = i % m.len();
                    let needle = m[i].clone();
                    let got = lp.find(lp.first().unwrap(), &needle, skip);
                    // The model: first index j = 0 mod (skip+1) whose bytes equal the needle.
                    let want = (0..m.len()).step_by(skip + 1).find(|&j| m[j] == needle);
                    let got_idx = got.map(|c| {
                        let mut k = 0;
                        let mut x = lp.first();
                        while x != Some(c) { x = lp.next(x.unwrap()); k += 1; }
                        k
                    });
                    prop_assert_eq!(got_idx, want);
                }
            }
            check(&lp, &m);
        }
    }

    #[test]
    fn prop_from_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
        // Make the header plausible half the time so the entry walk is exercised.
        let mut b = bytes;
        if b.len() >= 7 && b[0] & 1 == 0 {
            let n = b.len() as u32;
            b[..4].copy_from_slice(&n.to_le_bytes());
            *b.last_mut().unwrap() = 0xFF;
        }
        if let Ok(lp) = Listpack::from_bytes(b) {
            exercise(lp);
        }
    }

    #[test]
    fn prop_corrupted_listpacks_never_panic(
        vals in proptest::collection::vec(value_strategy(), 0..12),
        cut in any::<usize>(),
        flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 0..4),
    ) {
        let good = Listpack::from_items(vals.iter().map(|v| &v[..])).into_bytes();
        // Truncation keeping the header's claim (fails the size check) and with a fixed header.
        let cut = cut % (good.len() + 1);
        let mut t = good[..cut].to_vec();
        prop_assert!(Listpack::from_bytes(t.clone()).is_err() || cut == good.len());
        if t.len() >= 7 {
            let n = t.len() as u32;
            t[..4].copy_from_slice(&n.to_le_bytes());
            *t.last_mut().unwrap() = 0xFF;
            if let Ok(lp) = Listpack::from_bytes(t) { exercise(lp); }
        }
        // Byte flips anywhere.
        let mut f = good.clone();
        for (i, b) in flips {
            let i = i % f.len();
            f[i] = b;
        }
        if let Ok(lp) = Listpack::from_bytes(f) { exercise(lp); }
    }
}

/// Runs every read and a few writes over an accepted listpack: none may panic.
fn exercise(mut lp: Listpack) {
    let n = lp.len();
    let fwd: Vec<Vec<u8>> = items(&lp);
    assert_eq!(fwd.len(), n);
    let mut rev: Vec<Vec<u8>> = lp.iter().rev().map(|v| v.to_vec()).collect();
    rev.reverse();
    assert_eq!(rev, fwd);
    for i in -(n as i64) - 1..=n as i64 {
        let _ = lp.get(i);
    }
    if let Some(c) = lp.first() {
        let _ = lp.find(c, b"1", 0);
        let _ = lp.find(c, b"x", 1);
    }
    lp.push_front(b"front");
    lp.push_back(b"12");
    if let Some(c) = lp.seek(1) {
        lp.replace(c, b"r");
    }
    lp.delete_range(1, 2);
    let t = lp.split_off(lp.len() / 2);
    let lp = Listpack::merge(lp, t);
    assert!(validate(lp.bytes(), |_| true));
}
