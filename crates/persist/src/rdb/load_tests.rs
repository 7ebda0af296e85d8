//! Unit tests of the loader over hand-built images: each encoding, each opcode, the limits'
//! conversions, the checksum rules and corruption (never a panic).

use super::*;
use crate::rdb::codec::put_len;
use crate::rdb::ziplist::{self, Entry as Ze};
use engine::object::hash::HashLimits;
use engine::object::zset::ZLimits;

fn cfg() -> EngineConfig {
    EngineConfig::default()
}

fn opts(c: &EngineConfig) -> LoadOptions<'_> {
    LoadOptions {
        config: c,
        deep_sanitize: false,
    }
}

/// A complete file image: header, `body`, EOF, CRC.
fn image(ver: u32, body: &[u8]) -> Vec<u8> {
    let mut v = format!("REDIS{ver:04}").into_bytes();
    v.extend_from_slice(body);
    v.push(op::EOF);
    if ver >= 5 {
        let crc = codec::crc64(0, &v);
        v.extend_from_slice(&crc.to_le_bytes());
    }
    v
}

fn s(out: &mut Vec<u8>, b: &[u8]) {
    put_len(out, b.len() as u64);
    out.extend_from_slice(b);
}

/// `key` of type `t` whose value bytes are `val`.
fn kv(t: u8, key: &[u8], val: &[u8]) -> Vec<u8> {
    let mut v = vec![t];
    s(&mut v, key);
    v.extend_from_slice(val);
    v
}

fn load_all(img: &[u8], c: &EngineConfig) -> std::result::Result<Vec<Item>, RdbError> {
    let mut items = Vec::new();
    let n = load(img, &opts(c), &mut |it| {
        items.push(it);
        Ok(())
    })?;
    assert_eq!(n, img.len());
    Ok(items)
}

/// The one key's value in an image of one key.
fn one(t: u8, val: &[u8], c: &EngineConfig) -> std::result::Result<Option<Value>, RdbError> {
    let items = load_all(&image(10, &kv(t, b"k", val)), c)?;
    Ok(items.into_iter().find_map(|it| match it {
        Item::Entry { value, .. } => Some(value),
        _ => None,
    }))
}

fn strs(v: &Value) -> Vec<String> {
    let mut b = [0u8; 20];
    let lossy = |x: &[u8]| String::from_utf8_lossy(x).into_owned();
    match v {
        Value::Str(x) => vec![lossy(x.as_bytes(&mut b))],
        Value::List(l) => l.ql().iter().map(|e| lossy(&e.to_vec())).collect(),
        Value::Set(st) => {
            let mut m: Vec<String> = st.iter().map(|m| lossy(m.as_bytes(&mut b))).collect();
            m.sort();
            m
        }
        Value::Hash(h) => {
            let mut m: Vec<String> = h
                .iter()
                .map(|(f, v)| format!("{}={}", lossy(&f.to_vec()), lossy(&v.to_vec())))
                .collect();
            m.sort();
            m
        }
        Value::ZSet(z) => {
            let mut m = Vec::new();
            z.for_each(&mut |k, sc| m.push(format!("{}:{sc}", lossy(k))));
            m
        }
        Value::Stream(st) => {
            let mut m = Vec::new();
            st.for_each_entry(&mut |id, fields| {
                let mut e = format!("{}-{}", id.ms, id.seq);
                for (f, v) in fields {
                    e += &format!(" {}={}", lossy(&f.to_vec()), lossy(&v.to_vec()));
                }
                m.push(e);
            });
            m
        }
    }
}

#[test]
fn strings_in_every_encoding_get_redis_object_encodings() {
    let c = cfg();
    let enc = |val: &[u8]| {
        let v = one(ty::STRING, val, &c).unwrap().unwrap();
        (strs(&v).remove(0), v.encoding_name())
    };
    let mut raw = Vec::new();
    s(&mut raw, b"hello");
    assert_eq!(enc(&raw), ("hello".into(), "embstr"));
    let mut raw = Vec::new();
    s(&mut raw, b"12345");
    assert_eq!(enc(&raw), ("12345".into(), "int"));
    let long = vec![b'x'; 45];
    let mut raw = Vec::new();
    s(&mut raw, &long);
    assert_eq!(enc(&raw).1, "raw");
    assert_eq!(enc(&[0xC0, 0xF6]), ("-10".into(), "int"));
    assert_eq!(enc(&[0xC1, 0x39, 0x30]), ("12345".into(), "int"));
    assert_eq!(
        enc(&[0xC2, 0x00, 0x94, 0x35, 0x77]),
        ("2000000000".into(), "int")
    );
    // LZF: compressed length, original length, data.
    let text = vec![b'a'; 200];
    let mut z = Vec::new();
    codec::Lzf::new()
        .compress(&text, &mut z, text.len())
        .unwrap();
    let mut lzf = vec![0xC3];
    put_len(&mut lzf, z.len() as u64);
    put_len(&mut lzf, 200);
    lzf.extend_from_slice(&z);
    assert_eq!(enc(&lzf), (String::from_utf8(text).unwrap(), "raw"));
    // A claimed length no LZF input of that size can reach is refused before allocating.
    let mut huge = vec![0xC3];
    put_len(&mut huge, 3);
    put_len(&mut huge, 1 << 40);
    huge.extend_from_slice(&[0, b'a', 0]);
    let e = one(ty::STRING, &huge, &c).unwrap_err();
    assert_eq!(e.kind, "Invalid LZF compressed string");
    assert_eq!(e.offset, 9 + 3, "the string's first byte");
    assert!(
        one(ty::STRING, &[0xC4], &c).is_err(),
        "unknown string encoding"
    );
}

#[test]
fn plain_aggregates_follow_the_limits() {
    let mut c = cfg();
    c.set_max_intset_entries = 3;
    c.hash_limits = HashLimits {
        max_listpack_entries: 2,
        max_listpack_value: 5,
    };
    c.zset_limits = ZLimits {
        max_entries: 2,
        max_value: 5,
    };
    let agg = |items: &[&[u8]]| {
        let mut v = Vec::new();
        put_len(&mut v, items.len() as u64);
        for i in items {
            s(&mut v, i);
        }
        v
    };
    // A hash's length counts pairs.
    let hagg = |items: &[&[u8]]| {
        let mut v = agg(items);
        v[0] /= 2;
        v
    };
    let l = one(ty::LIST, &agg(&[b"a", b"1", b"b"]), &c)
        .unwrap()
        .unwrap();
    assert_eq!(
        (strs(&l), l.encoding_name()),
        (vec!["a".into(), "1".into(), "b".into()], "quicklist")
    );

    let st = one(ty::SET, &agg(&[b"3", b"1", b"2"]), &c)
        .unwrap()
        .unwrap();
    assert_eq!(
        (strs(&st), st.encoding_name()),
        (vec!["1".into(), "2".into(), "3".into()], "intset")
    );
    let st = one(ty::SET, &agg(&[b"3", b"1", b"2", b"4"]), &c)
        .unwrap()
        .unwrap();
    assert_eq!(
        st.encoding_name(),
        "hashtable",
        "past set-max-intset-entries"
    );
    let st = one(ty::SET, &agg(&[b"3", b"x"]), &c).unwrap().unwrap();
    assert_eq!(st.encoding_name(), "hashtable");
    let e = one(ty::SET, &agg(&[b"3", b"3"]), &c).unwrap_err();
    assert_eq!(e.kind, "Duplicate set members detected");
    assert!(one(ty::SET, &agg(&[b"a", b"b", b"c", b"d", b"a"]), &c).is_err());

    let h = one(ty::HASH, &hagg(&[b"f", b"1", b"g", b"2"]), &c)
        .unwrap()
        .unwrap();
    assert_eq!(
        (strs(&h), h.encoding_name()),
        (vec!["f=1".into(), "g=2".into()], "listpack")
    );
    let h = one(ty::HASH, &hagg(&[b"f", b"1", b"g", b"long-value"]), &c)
        .unwrap()
        .unwrap();
    assert_eq!(
        h.encoding_name(),
        "hashtable",
        "value past hash-max-listpack-value"
    );
    let h = one(ty::HASH, &hagg(&[b"f", b"1", b"g", b"2", b"h", b"3"]), &c)
        .unwrap()
        .unwrap();
    assert_eq!(
        h.encoding_name(),
        "hashtable",
        "past hash-max-listpack-entries"
    );
    for dup in [
        &hagg(&[b"f", b"1", b"f", b"2"]),
        &hagg(&[b"f", b"1", b"g", b"2", b"f", b"3"]),
        // Repeated in the listpack part, then converted by a long value; and repeated by
        // the pair that converts.
        &hagg(&[b"f", b"1", b"f", b"2", b"g", b"long-value"]),
        &hagg(&[b"f", b"1", b"f", b"long-value"]),
    ] {
        assert_eq!(
            one(ty::HASH, dup, &c).unwrap_err().kind,
            "Duplicate hash fields detected"
        );
    }

    // ZSET_2: binary scores, loaded unordered, converted after loading.
    let mut z = Vec::new();
    put_len(&mut z, 2);
    s(&mut z, b"b");
    z.extend_from_slice(&2.5f64.to_le_bytes());
    s(&mut z, b"a");
    z.extend_from_slice(&(-1f64).to_le_bytes());
    let v = one(ty::ZSET_2, &z, &c).unwrap().unwrap();
    assert_eq!(
        (strs(&v), v.encoding_name()),
        (vec!["a:-1".into(), "b:2.5".into()], "listpack")
    );
    // ZSET: string scores with the special lengths for infinities; NaN is corruption.
    let mut z = Vec::new();
    put_len(&mut z, 3);
    s(&mut z, b"x");
    z.push(254);
    s(&mut z, b"y");
    z.push(255);
    s(&mut z, b"w");
    s(&mut z, b"1.5");
    let v = one(ty::ZSET, &z, &c).unwrap().unwrap();
    assert_eq!(strs(&v), ["y:-inf", "w:1.5", "x:inf"]);
    assert_eq!(
        v.encoding_name(),
        "skiplist",
        "3 > zset-max-listpack-entries"
    );
    let mut z = Vec::new();
    put_len(&mut z, 1);
    s(&mut z, b"x");
    z.push(253);
    assert_eq!(
        one(ty::ZSET, &z, &c).unwrap_err().kind,
        "Zset with NAN score detected"
    );
    let mut z = Vec::new();
    put_len(&mut z, 1);
    s(&mut z, b"a-long-member");
    z.extend_from_slice(&1f64.to_le_bytes());
    assert_eq!(
        one(ty::ZSET_2, &z, &c).unwrap().unwrap().encoding_name(),
        "skiplist"
    );
}

#[test]
fn blobs_are_adopted_or_converted() {
    let mut c = cfg();
    c.hash_limits.max_listpack_entries = 1;
    c.zset_limits.max_entries = 1;
    c.set_max_intset_entries = 1;
    let blob = |b: &[u8]| {
        let mut v = Vec::new();
        s(&mut v, b);
        v
    };
    let lp = Listpack::from_items([&b"f"[..], b"1", b"g", b"2"]);
    let h = one(ty::HASH_LISTPACK, &blob(lp.bytes()), &c)
        .unwrap()
        .unwrap();
    assert_eq!(
        (strs(&h), h.encoding_name()),
        (vec!["f=1".into(), "g=2".into()], "hashtable")
    );
    let h = one(ty::HASH_LISTPACK, &blob(lp.bytes()), &cfg())
        .unwrap()
        .unwrap();
    assert_eq!(h.encoding_name(), "listpack");
    let zl = Listpack::from_items([&b"m"[..], b"1", b"n", b"2"]);
    let z = one(ty::ZSET_LISTPACK, &blob(zl.bytes()), &c)
        .unwrap()
        .unwrap();
    assert_eq!(
        (strs(&z), z.encoding_name()),
        (vec!["m:1".into(), "n:2".into()], "skiplist")
    );
    let dup = Listpack::from_items([&b"f"[..], b"1", b"f", b"2"]);
    let e = one(ty::HASH_LISTPACK, &blob(dup.bytes()), &c).unwrap_err();
    assert_eq!(e.kind, "Hash listpack integrity check failed.");
    // Past the pairwise-comparison size too, and with a field equal to an integer's bytes
    // stored as a string (Redis never writes one, a crafted blob can).
    let mut many: Vec<Vec<u8>> = (0..40)
        .flat_map(|i| [format!("f{i}").into_bytes(), b"v".to_vec()])
        .collect();
    let lp = Listpack::from_items(many.iter().map(|v| v.as_slice()));
    assert!(one(ty::HASH_LISTPACK, &blob(lp.bytes()), &cfg()).is_ok());
    many[78] = b"f3".to_vec();
    let lp = Listpack::from_items(many.iter().map(|v| v.as_slice()));
    assert!(one(ty::HASH_LISTPACK, &blob(lp.bytes()), &cfg()).is_err());
    // "7" as a 1-byte string entry (0x81 '7', backlen 2) next to the integer 7 (0x07, backlen 1).
    let crafted = b"\x10\x00\x00\x00\x04\x00\x81\x37\x02\x01\x01\x07\x01\x01\x01\xff";
    assert!(Listpack::from_bytes(crafted.to_vec()).is_ok());
    assert!(one(ty::HASH_LISTPACK, &blob(crafted), &cfg()).is_err());
    let odd = Listpack::from_items([&b"f"[..], b"1", b"g"]);
    assert!(one(ty::ZSET_LISTPACK, &blob(odd.bytes()), &c).is_err());
    // Deep sanitization also checks the order of a listpack sorted set.
    let unordered = Listpack::from_items([&b"m"[..], b"2", b"n", b"1"]);
    assert!(one(ty::ZSET_LISTPACK, &blob(unordered.bytes()), &cfg()).is_ok());
    let deep = LoadOptions {
        config: &c,
        deep_sanitize: true,
    };
    let img = image(10, &kv(ty::ZSET_LISTPACK, b"k", &blob(unordered.bytes())));
    assert!(load(&img, &deep, &mut |_| Ok(())).is_err());

    let mut is = IntSet::new();
    is.add(5);
    is.add(-3);
    let st = one(ty::SET_INTSET, &blob(is.as_bytes()), &cfg())
        .unwrap()
        .unwrap();
    assert_eq!(
        (strs(&st), st.encoding_name()),
        (vec!["-3".into(), "5".into()], "intset")
    );
    let st = one(ty::SET_INTSET, &blob(is.as_bytes()), &c)
        .unwrap()
        .unwrap();
    assert_eq!(st.encoding_name(), "hashtable");
    let e = one(ty::SET_INTSET, &blob(&is.as_bytes()[..9]), &c).unwrap_err();
    assert_eq!(e.kind, "Intset integrity check failed.");

    // Ziplists (Redis <= 6.2) become listpacks; integers are read back as integers.
    let zl = ziplist::build(&[Ze::Str(b"f"), Ze::Int(7), Ze::Str(b"g"), Ze::Str(b"x")]);
    let h = one(ty::HASH_ZIPLIST, &blob(&zl), &cfg()).unwrap().unwrap();
    assert_eq!(
        (strs(&h), h.encoding_name()),
        (vec!["f=7".into(), "g=x".into()], "listpack")
    );
    let zz = ziplist::build(&[Ze::Str(b"a"), Ze::Str(b"1.5"), Ze::Str(b"b"), Ze::Int(2)]);
    let z = one(ty::ZSET_ZIPLIST, &blob(&zz), &cfg()).unwrap().unwrap();
    assert_eq!(strs(&z), ["a:1.5", "b:2"]);
    let l = one(ty::LIST_ZIPLIST, &blob(&zl), &cfg()).unwrap().unwrap();
    assert_eq!(strs(&l), ["f", "7", "g", "x"]);
    let e = one(ty::LIST_ZIPLIST, &blob(&zl[..zl.len() - 1]), &c).unwrap_err();
    assert_eq!(e.kind, "List ziplist integrity check failed.");
    // Zipmap (Redis 2.x): converted by count and by the longest field or value.
    let zm = b"\x02\x02f1\x02\x00v1\x02f2\x02\x00v2\xff";
    let h = one(ty::HASH_ZIPMAP, &blob(zm), &cfg()).unwrap().unwrap();
    assert_eq!(
        (strs(&h), h.encoding_name()),
        (vec!["f1=v1".into(), "f2=v2".into()], "listpack")
    );
    let mut short = cfg();
    short.hash_limits.max_listpack_value = 1;
    assert_eq!(
        one(ty::HASH_ZIPMAP, &blob(zm), &short)
            .unwrap()
            .unwrap()
            .encoding_name(),
        "hashtable"
    );
    let dupm = b"\x02\x02f1\x02\x00v1\x02f1\x02\x00v2\xff";
    assert!(one(ty::HASH_ZIPMAP, &blob(dupm), &cfg()).is_err());
}

#[test]
fn quicklists_adopt_nodes() {
    let c = cfg();
    let lp1 = Listpack::from_items([&b"a"[..], b"b"]);
    let mut v = Vec::new();
    put_len(&mut v, 3);
    put_len(&mut v, codec::QUICKLIST_PACKED);
    s(&mut v, lp1.bytes());
    put_len(&mut v, codec::QUICKLIST_PLAIN);
    s(&mut v, b"a plain element");
    put_len(&mut v, codec::QUICKLIST_PACKED);
    s(&mut v, Listpack::new().bytes()); // an empty node is skipped
    let l = one(ty::LIST_QUICKLIST_2, &v, &c).unwrap().unwrap();
    assert_eq!(strs(&l), ["a", "b", "a plain element"]);
    let Value::List(lv) = &l else { unreachable!() };
    assert_eq!(lv.ql().node_count(), 2);
    // Only empty nodes: an empty key, skipped.
    let mut v = Vec::new();
    put_len(&mut v, 1);
    put_len(&mut v, codec::QUICKLIST_PACKED);
    s(&mut v, Listpack::new().bytes());
    assert!(one(ty::LIST_QUICKLIST_2, &v, &c).unwrap().is_none());
    // A container that is neither.
    let mut v = Vec::new();
    put_len(&mut v, 1);
    put_len(&mut v, 3);
    s(&mut v, lp1.bytes());
    assert_eq!(
        one(ty::LIST_QUICKLIST_2, &v, &c).unwrap_err().kind,
        "Quicklist integrity check failed."
    );
    // Redis 6 quicklists of ziplists.
    let mut v = Vec::new();
    put_len(&mut v, 2);
    s(&mut v, &ziplist::build(&[Ze::Str(b"x"), Ze::Int(-5)]));
    s(&mut v, &ziplist::build(&[Ze::Int(100_000)]));
    let l = one(ty::LIST_QUICKLIST, &v, &c).unwrap().unwrap();
    assert_eq!(strs(&l), ["x", "-5", "100000"]);
}

#[test]
fn opcodes_and_per_key_metadata() {
    let c = cfg();
    let mut body = Vec::new();
    body.push(op::AUX);
    s(&mut body, b"redis-ver");
    s(&mut body, b"7.0.15");
    body.push(op::AUX);
    s(&mut body, b"redis-bits");
    body.extend_from_slice(&[0xC0, 64]);
    body.push(op::FUNCTION2);
    s(&mut body, b"#!lua name=lib\n");
    // Module aux: id, when opcode (UINT) + value, an UINT, a STRING, a DOUBLE, EOF.
    body.push(op::MODULE_AUX);
    body.extend_from_slice(&[0x81, 0, 0, 0, 0, 0, 0, 0, 9, 2, 2, 2, 7, 5]);
    s(&mut body, b"data");
    body.push(4);
    body.extend_from_slice(&1.5f64.to_le_bytes());
    body.push(0);
    body.extend_from_slice(&[op::SELECTDB, 3, op::RESIZEDB, 2, 1]);
    body.push(op::EXPIRETIME_MS);
    body.extend_from_slice(&1_700_000_000_123i64.to_le_bytes());
    body.extend_from_slice(&[op::IDLE, 0x41, 0x00]);
    body.extend(kv(ty::STRING, b"a", b"\x011"));
    body.push(op::EXPIRETIME);
    body.extend_from_slice(&1_700_000_000i32.to_le_bytes());
    body.extend_from_slice(&[op::FREQ, 7]);
    body.extend(kv(ty::STRING, b"b", b"\x012"));
    body.extend(kv(ty::STRING, b"c", b"\x013"));
    let items = load_all(&image(10, &body), &c).unwrap();
    let got: Vec<String> = items
        .iter()
        .map(|it| match it {
            Item::Aux { key, value } => format!(
                "aux {}={}",
                String::from_utf8_lossy(key),
                String::from_utf8_lossy(value)
            ),
            Item::ResizeDb { db, size, expires } => format!("resize {db} {size} {expires}"),
            Item::Function { code } => format!("function {}", code.len()),
            Item::ModuleAux => "module-aux".into(),
            Item::Entry {
                db,
                key,
                value,
                expire_ms,
                idle_secs,
                freq,
            } => format!(
                "{db}:{} {:?} {expire_ms:?} {idle_secs:?} {freq:?}",
                String::from_utf8_lossy(key),
                strs(value)
            ),
        })
        .collect();
    assert_eq!(
        got,
        [
            "aux redis-ver=7.0.15",
            "aux redis-bits=64",
            "function 15",
            "module-aux",
            "resize 3 2 1",
            "3:a [\"1\"] Some(1700000000123) Some(256) None",
            "3:b [\"2\"] Some(1700000000000) None Some(7)",
            "3:c [\"3\"] None None None",
        ]
    );
    // An error from the callback stops the load and is returned.
    let stop = RdbError {
        offset: 0,
        kind: "stop".into(),
    };
    let r = load(&image(10, &body), &opts(&c), &mut |_| Err(stop.clone()));
    assert_eq!(r.unwrap_err(), stop);
}

#[test]
fn refusals_name_the_problem() {
    let c = cfg();
    let err = |img: &[u8]| load(img, &opts(&c), &mut |_| Ok(())).unwrap_err();
    assert_eq!(
        err(b"RIDES0010\xff").kind,
        "Wrong signature trying to load DB from file"
    );
    assert_eq!(
        err(&image(11, b"")).kind,
        "Can't handle RDB format version 11"
    );
    assert_eq!(
        err(&image(0, b"")).kind,
        "Can't handle RDB format version 0"
    );
    let e = err(&image(10, &[op::SELECTDB, 16]));
    assert_eq!(
        e.to_string(),
        "FATAL: Data file was created with a Redis server configured to handle more than 16 \
         databases at offset 9"
    );
    assert_eq!(
        err(&image(10, &[op::FUNCTION_PRE_GA])).kind,
        "Pre-release function format not supported."
    );
    // A stream cut short after its key (the EOF opcode is read where its node count is).
    let e = err(&image(10, &kv(ty::STREAM_LISTPACKS_2, b"s", b"")));
    assert_eq!(
        e.to_string(),
        "Unexpected string encoding where a length was expected at offset 12"
    );
    assert_eq!(
        err(&image(10, &kv(ty::MODULE_2, b"m", b""))).kind,
        "module type not supported yet"
    );
    assert_eq!(
        err(&image(10, &kv(8, b"x", b""))).kind,
        "Unknown RDB encoding type 8"
    );
    assert_eq!(
        err(&image(10, &[0x82])).kind,
        "Unknown RDB encoding type 130"
    );
}

#[test]
fn checksum_rules() {
    let c = cfg();
    let body = kv(ty::STRING, b"k", b"\x01v");
    let good = image(10, &body);
    assert!(load_all(&good, &c).is_ok());
    let mut bad = good.clone();
    let n = bad.len();
    bad[n - 1] ^= 1;
    let e = load(&bad, &opts(&c), &mut |_| Ok(())).unwrap_err();
    assert!(e.kind.starts_with("RDB CRC error"), "{e}");
    assert_eq!(e.offset as usize, n - 8);
    // rdbchecksum no: a zero checksum is not checked.
    let mut zero = good.clone();
    zero[n - 8..].fill(0);
    assert!(load_all(&zero, &c).is_ok());
    // Before version 5 there is no checksum; what follows EOF is not consumed.
    let mut old = image(4, &body);
    let consumed_old = old.len();
    old.extend_from_slice(b"*1\r\n$4\r\nPING\r\n");
    assert_eq!(
        load(&old, &opts(&c), &mut |_| Ok(())).unwrap(),
        consumed_old
    );
    let mut pre = good.clone();
    pre.extend_from_slice(b"*1\r\n$4\r\nPING\r\n");
    assert_eq!(load(&pre, &opts(&c), &mut |_| Ok(())).unwrap(), good.len());
}

#[test]
fn truncation_and_byte_flips_never_panic() {
    let c = cfg();
    let mut body = Vec::new();
    body.extend(kv(ty::STRING, b"s", b"\x05hello"));
    let lp = Listpack::from_items([&b"f"[..], b"1", b"g", b"2"]);
    let mut b = Vec::new();
    s(&mut b, lp.bytes());
    body.extend(kv(ty::HASH_LISTPACK, b"h", &b));
    let zl = ziplist::build(&[Ze::Str(b"a"), Ze::Int(1)]);
    let mut b = Vec::new();
    s(&mut b, &zl);
    body.extend(kv(ty::ZSET_ZIPLIST, b"z", &b));
    let mut b = vec![1, 2];
    s(&mut b, lp.bytes());
    body.extend(kv(ty::LIST_QUICKLIST_2, b"l", &b));
    let img = image(10, &body);
    assert_eq!(load_all(&img, &c).unwrap().len(), 4);
    for n in 0..img.len() {
        assert!(load(&img[..n], &opts(&c), &mut |_| Ok(())).is_err());
    }
    // Flipping a body byte and fixing the CRC: whatever happens, no panic.
    for i in 9..img.len() - 9 {
        for x in [1u8, 0x40, 0x80, 0xFF] {
            let mut m = img.clone();
            m[i] ^= x;
            let n = m.len();
            let crc = codec::crc64(0, &m[..n - 8]);
            m[n - 8..].copy_from_slice(&crc.to_le_bytes());
            let _ = load(&m, &opts(&c), &mut |_| Ok(()));
        }
    }
}

/// A DUMP payload of `t` + `val`.
fn payload(t: u8, val: &[u8], ver: u16) -> Vec<u8> {
    let mut p = vec![t];
    p.extend_from_slice(val);
    p.extend_from_slice(&ver.to_le_bytes());
    let crc = codec::crc64(0, &p);
    p.extend_from_slice(&crc.to_le_bytes());
    p
}

#[test]
fn dump_payloads() {
    let c = cfg();
    let o = opts(&c);
    let v = parse_dump_payload(&payload(ty::STRING, b"\x03abc", 10), &o).unwrap();
    assert_eq!(strs(&v), ["abc"]);
    assert!(parse_dump_payload(&payload(ty::STRING, b"\x03abc", 9), &o).is_ok());
    let bad = |p: &[u8]| parse_dump_payload(p, &o).unwrap_err();
    assert_eq!(
        bad(&payload(ty::STRING, b"\x03abc", 11)),
        DumpError::VersionOrChecksum
    );
    assert_eq!(bad(b"\x00\x0a\x00"), DumpError::VersionOrChecksum);
    let mut flipped = payload(ty::STRING, b"\x03abc", 10);
    flipped[2] ^= 1;
    assert_eq!(bad(&flipped), DumpError::VersionOrChecksum);
    // As in Redis, the value is read from the whole payload: a length running into the
    // footer reads footer bytes; one running past the end is bad data.
    let Ok(Value::Str(v)) = parse_dump_payload(&payload(ty::STRING, b"\x09abc", 10), &o) else {
        panic!("a string")
    };
    assert_eq!(v.len(), 9);
    assert_eq!(
        bad(&payload(ty::STRING, b"\x3fabc", 10)),
        DumpError::BadData
    );
    assert_eq!(bad(&payload(8, b"", 10)), DumpError::BadData);
    assert_eq!(
        bad(&payload(ty::STREAM_LISTPACKS, b"\x00", 10)),
        DumpError::BadData
    );
    assert_eq!(
        bad(&payload(ty::SET, b"\x00", 10)),
        DumpError::BadData,
        "empty set"
    );
}

/// A Redis 5/6 stream (type 15): no first ID, max-deleted ID, entries-added or group
/// entries-read in the file; they are derived as Redis 7.0 derives them.
#[test]
fn legacy_stream_type_15_gets_7_0_counters() {
    let node = Listpack::from_items(
        [
            &b"2"[..],
            b"0",
            b"1",
            b"a",
            b"0", // master: count, deleted, fields, a, 0
            b"2",
            b"0",
            b"0",
            b"1",
            b"4", // 1-1 SAMEFIELDS a=1, lp-count 4
            b"2",
            b"0",
            b"1",
            b"2",
            b"4", // 1-2 SAMEFIELDS a=2
        ]
        .iter()
        .copied(),
    );
    let mut v = Vec::new();
    put_len(&mut v, 1);
    s(
        &mut v,
        &engine::types::stream::StreamId::new(1, 1).to_be_bytes(),
    );
    s(&mut v, node.bytes());
    for n in [2u64, 1, 2, 1] {
        put_len(&mut v, n); // length, last ID 1-2, groups
    }
    s(&mut v, b"g");
    put_len(&mut v, 1);
    put_len(&mut v, 1); // group last ID 1-1
    put_len(&mut v, 1); // PEL: 1-1
    v.extend_from_slice(&engine::types::stream::StreamId::new(1, 1).to_be_bytes());
    v.extend_from_slice(&5i64.to_le_bytes());
    put_len(&mut v, 1);
    put_len(&mut v, 1); // consumers
    s(&mut v, b"c");
    v.extend_from_slice(&6i64.to_le_bytes());
    put_len(&mut v, 1);
    v.extend_from_slice(&engine::types::stream::StreamId::new(1, 1).to_be_bytes());
    let c = cfg();
    let Some(Value::Stream(st)) = one(ty::STREAM_LISTPACKS, &v, &c).unwrap() else {
        panic!("a stream");
    };
    assert_eq!(strs(&Value::Stream(st.clone())), ["1-1 a=1", "1-2 a=2"]);
    assert_eq!((st.length, st.entries_added), (2, 2));
    assert_eq!(st.first_id, engine::types::stream::StreamId::new(1, 1));
    let g = &st.groups.as_ref().unwrap()[&b"g"[..]];
    assert_eq!(g.entries_read, 1, "the first entry's exact counter");
    assert_eq!(&*g.pel[&g.last_id].consumer, b"c");
    // The same bytes as type 19 lack the 7.0 fields: the reader runs off the end.
    assert!(one(ty::STREAM_LISTPACKS_2, &v, &c).is_err());
}

/// A stream of many nodes written in one go and in the smallest steps gives the same bytes,
/// and they load back to the same entries and groups.
#[test]
fn streams_write_in_steps_and_round_trip() {
    use crate::rdb::write::{Encoder, SaveOptions};
    use engine::types::stream::{Consumer, ConsumerGroup, PendingEntry, Stream, StreamId};
    let mut st = Stream::default();
    for n in 0..20u64 {
        let (ms, seq) = ((n + 1).to_string(), (n * 3).to_string());
        let items: [&[u8]; 15] = [
            b"2",
            b"0",
            b"1",
            b"f",
            b"0", // master entry
            b"2",
            b"0",
            b"0",
            ms.as_bytes(),
            b"4", // n+1-0 SAMEFIELDS f=<ms>
            b"0",
            b"0",
            b"1",
            b"1",
            b"g", // n+1-1 own fields: g=seq
        ];
        let mut items = items.to_vec();
        items.extend([seq.as_bytes(), b"6"]);
        st.nodes
            .insert(StreamId::new(n + 1, 0), Listpack::from_items(items));
        st.length += 2;
    }
    st.last_id = StreamId::new(20, 1);
    st.first_id = StreamId::new(1, 0);
    st.entries_added = 40;
    let mut g = ConsumerGroup {
        last_id: StreamId::new(3, 0),
        entries_read: 5,
        ..Default::default()
    };
    g.pel.insert(
        StreamId::new(2, 1),
        PendingEntry {
            delivery_time: 77,
            delivery_count: 2,
            consumer: b"c".to_vec().into_boxed_slice(),
        },
    );
    let mut c = Consumer {
        seen_time: 88,
        ..Default::default()
    };
    c.pel.insert(StreamId::new(2, 1));
    g.consumers.insert(b"c".to_vec().into_boxed_slice(), c);
    g.consumers
        .insert(b"idle".to_vec().into_boxed_slice(), Consumer::default());
    st.groups = Some(Box::new([(b"g".to_vec().into_boxed_slice(), g)].into()));
    let v = Value::Stream(Box::new(st));
    let opts = SaveOptions {
        compression: false,
        checksum: true,
    };
    let mut whole = Encoder::new(opts);
    whole.value(&v);
    let mut stepped = Encoder::new(opts);
    let mut at = None;
    let mut steps = 0;
    while !stepped.value_step(&v, &mut at, 1) {
        steps += 1;
    }
    assert!(steps >= 19, "one node per step: {steps}");
    assert_eq!(stepped.out, whole.out);
    let c = cfg();
    let Some(back) = one(ty::STREAM_LISTPACKS_2, &whole.out, &c).unwrap() else {
        panic!("a stream");
    };
    assert_eq!(strs(&back), strs(&v));
    assert_eq!(strs(&back)[..3], ["1-0 f=1", "1-1 g=0", "2-0 f=2"]);
    let (Value::Stream(a), Value::Stream(b)) = (&back, &v) else {
        unreachable!()
    };
    assert_eq!(format!("{:?}", a.groups), format!("{:?}", b.groups));
    // More entries than were ever added is corrupt (lag arithmetic would wrap).
    let mut bad = (**b).clone();
    bad.entries_added = bad.length - 1;
    let mut e = Encoder::new(opts);
    e.value(&Value::Stream(Box::new(bad)));
    let err = one(ty::STREAM_LISTPACKS_2, &e.out, &c).unwrap_err();
    assert!(err.kind.contains("entries added"), "{err}");
    assert_eq!(
        (a.length, a.last_id, a.entries_added),
        (b.length, b.last_id, b.entries_added)
    );
}

/// Loading in steps of one key reads the same items, in the same order, as one pass.
#[test]
fn a_load_in_steps_reads_what_one_pass_reads() {
    let mut body = Vec::new();
    body.extend_from_slice(&[op::SELECTDB, 0]);
    for i in 0..5u8 {
        body.extend_from_slice(&kv(ty::STRING, &[b'k', b'0' + i], &[1, b'v']));
    }
    body.extend_from_slice(&[op::SELECTDB, 3]);
    body.push(op::EXPIRETIME_MS);
    body.extend_from_slice(&42i64.to_le_bytes());
    body.extend_from_slice(&kv(ty::STRING, b"x", &[1, b'y']));
    let img = image(10, &body);
    let c = cfg();
    let show = |it: Item| match it {
        Item::Entry {
            db, key, expire_ms, ..
        } => format!("{db} {} {expire_ms:?}", String::from_utf8_lossy(&key)),
        other => format!("{other:?}"),
    };
    let whole: Vec<String> = load_all(&img, &c).unwrap().into_iter().map(show).collect();
    let mut l = Loader::new(&img).unwrap();
    let mut stepped = Vec::new();
    let mut steps = 0;
    while !l
        .step(
            &img,
            &opts(&c),
            &mut |it| {
                stepped.push(show(it));
                Ok(())
            },
            1,
        )
        .unwrap()
    {
        steps += 1;
    }
    assert_eq!(stepped, whole);
    assert_eq!(l.pos(), img.len());
    assert!(steps >= 6, "one key per step: {steps}");
    assert!(whole.last().unwrap().ends_with("3 x Some(42)"));
}
