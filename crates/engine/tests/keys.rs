//! Keyspace commands (keys.rs) run in-process against the engine with a manual clock.
//! Keys are stored through `Db::set` so these tests depend on no other command family.

use engine::commands::testkit::Harness;
use engine::object::{Str, Value};
use std::collections::BTreeSet;

fn h() -> Harness {
    Harness::new()
}

/// Stores `val` under `key` in the selected db.
fn set(h: &mut Harness, key: &str, val: &str) {
    let v = Value::Str(Str::from_bytes(val.as_bytes()));
    let now = h.time.get();
    let db = &mut h.engine.dbs[h.session.db];
    // As a command would: the db learns the time (the new entry's LRU stamp) first.
    db.update_clock(now);
    db.set(key.as_bytes(), v, false);
}

fn int(n: i64) -> String {
    format!(":{n}\r\n")
}

fn bulk(s: &str) -> String {
    format!("${}\r\n{s}\r\n", s.len())
}

/// Splits a flat array of bulk strings (`*n $.. ..`) into its items.
fn bulks(reply: &str) -> Vec<String> {
    let mut lines = reply.split("\r\n");
    let head = lines.next().unwrap();
    assert!(head.starts_with('*'), "not an array: {reply:?}");
    let n: usize = head[1..].parse().unwrap();
    let mut out = Vec::new();
    for _ in 0..n {
        let len = lines.next().unwrap();
        assert!(len.starts_with('$'), "not a bulk: {reply:?}");
        out.push(lines.next().unwrap().to_string());
    }
    assert_eq!(lines.next(), Some(""), "trailing data in {reply:?}");
    out
}

/// `SCAN` reply → (cursor, keys).
fn scan_reply(reply: &str) -> (String, Vec<String>) {
    let rest = reply.strip_prefix("*2\r\n$").expect("scan reply head");
    let (len, rest) = rest.split_once("\r\n").unwrap();
    let len: usize = len.parse().unwrap();
    let cursor = rest[..len].to_string();
    (cursor, bulks(&rest[len + 2..]))
}

fn sorted(v: Vec<String>) -> Vec<String> {
    let mut v = v;
    v.sort();
    v
}

use engine::commands::testkit::reply::{NOT_INT, SYNTAX};

// ------------------------------------------------------------------------------------------
// DEL UNLINK EXISTS TYPE TOUCH

#[test]
fn del_and_unlink_count_distinct_existing_keys() {
    let mut h = h();
    for k in ["a", "b", "c"] {
        set(&mut h, k, "1");
    }
    let dirty = h.engine.dirty;
    assert_eq!(h.run(&["DEL", "a", "a", "nope"]), int(1));
    assert_eq!(h.engine.dirty, dirty + 1);
    assert_eq!(h.run(&["UNLINK", "b", "c", "a"]), int(2));
    assert_eq!(h.run(&["DBSIZE"]), int(0));
    assert_eq!(h.run(&["DEL", "a"]), int(0));
}

#[test]
fn exists_counts_repeats_and_type_names() {
    let mut h = h();
    set(&mut h, "k", "v");
    assert_eq!(h.run(&["EXISTS", "k", "k", "x"]), int(2));
    assert_eq!(h.run(&["TYPE", "k"]), "+string\r\n");
    assert_eq!(h.run(&["TYPE", "x"]), "+none\r\n");
    assert_eq!(h.run(&["TOUCH", "k", "x", "k"]), int(2));
}

#[test]
fn reads_count_hits_and_misses() {
    let mut h = h();
    set(&mut h, "k", "v");
    let (hits, misses) = (h.engine.dbs[0].hits, h.engine.dbs[0].misses);
    h.run(&["TYPE", "k"]);
    h.run(&["TTL", "nope"]);
    h.run(&["EXISTS", "k", "nope"]);
    // Writes do not count.
    h.run(&["EXPIRE", "k", "10"]);
    h.run(&["PERSIST", "nope"]);
    assert_eq!(h.engine.dbs[0].hits, hits + 2);
    assert_eq!(h.engine.dbs[0].misses, misses + 2);
}

#[test]
fn expired_keys_do_not_exist() {
    let mut h = h();
    set(&mut h, "k", "v");
    assert_eq!(h.run(&["PEXPIRE", "k", "100"]), int(1));
    h.advance_ms(100);
    // Live through the deadline's millisecond, gone after it (Redis's `now > when`).
    assert_eq!(h.run(&["EXISTS", "k"]), int(1));
    h.advance_ms(1);
    assert_eq!(h.run(&["EXISTS", "k"]), int(0));
    assert_eq!(h.run(&["TYPE", "k"]), "+none\r\n");
    assert_eq!(h.run(&["DBSIZE"]), int(0));
}

// ------------------------------------------------------------------------------------------
// KEYS SCAN RANDOMKEY

#[test]
fn keys_matches_globs_and_skips_expired_without_deleting() {
    let mut h = h();
    for k in ["hello", "hallo", "hxllo", "world", "h*"] {
        set(&mut h, k, "1");
    }
    assert_eq!(
        sorted(bulks(&h.run(&["KEYS", "*"]))),
        ["h*", "hallo", "hello", "hxllo", "world"]
    );
    assert_eq!(
        sorted(bulks(&h.run(&["KEYS", "h[ae]llo"]))),
        ["hallo", "hello"]
    );
    assert_eq!(sorted(bulks(&h.run(&["KEYS", "h\\*"]))), ["h*"]);
    assert_eq!(h.run(&["KEYS", "nomatch*"]), "*0\r\n");
    assert_eq!(h.run(&["KEYS", "["]), "*0\r\n");

    assert_eq!(h.run(&["PEXPIRE", "world", "10"]), int(1));
    h.advance_ms(11);
    assert_eq!(sorted(bulks(&h.run(&["KEYS", "w*"]))), Vec::<String>::new());
    // KEYS does not reclaim: DBSIZE still counts the expired key.
    assert_eq!(h.run(&["DBSIZE"]), int(5));
}

#[test]
fn keys_on_empty_db() {
    let mut h = h();
    assert_eq!(h.run(&["KEYS", "*"]), "*0\r\n");
}

#[test]
fn scan_visits_every_key_once_with_small_counts() {
    let mut h = h();
    let all: BTreeSet<String> = (0..300).map(|i| format!("key:{i}")).collect();
    for k in &all {
        set(&mut h, k, "v");
    }
    for count in ["1", "7", "1000"] {
        let mut seen = BTreeSet::new();
        let mut cursor = "0".to_string();
        let mut calls = 0;
        loop {
            let (next, keys) = scan_reply(&h.run(&["SCAN", &cursor, "COUNT", count]));
            for k in keys {
                seen.insert(k);
            }
            calls += 1;
            assert!(calls < 10_000, "scan does not terminate");
            if next == "0" {
                break;
            }
            cursor = next;
        }
        assert_eq!(seen, all, "COUNT {count}");
    }
}

#[test]
fn scan_match_and_type_filters() {
    let mut h = h();
    for k in ["user:1", "user:2", "item:1"] {
        set(&mut h, k, "v");
    }
    let (c, keys) = scan_reply(&h.run(&["SCAN", "0", "MATCH", "user:*", "COUNT", "100"]));
    assert_eq!(c, "0");
    assert_eq!(sorted(keys), ["user:1", "user:2"]);

    let (_, keys) = scan_reply(&h.run(&["scan", "0", "count", "100", "type", "STRING"]));
    assert_eq!(keys.len(), 3);
    for t in ["list", "hash", "none", "foo"] {
        let (_, keys) = scan_reply(&h.run(&["SCAN", "0", "COUNT", "100", "TYPE", t]));
        assert!(keys.is_empty(), "TYPE {t}");
    }
    // A later option of the same kind wins.
    let (_, keys) = scan_reply(&h.run(&[
        "SCAN", "0", "MATCH", "user:*", "MATCH", "item:*", "COUNT", "1", "COUNT", "100",
    ]));
    assert_eq!(keys, ["item:1"]);
}

#[test]
fn scan_argument_errors() {
    let mut h = h();
    set(&mut h, "a", "1");
    let cases: &[(&[&str], &str)] = &[
        (&["SCAN", "0", "COUNT", "0"], SYNTAX),
        (&["SCAN", "0", "COUNT", "-1"], SYNTAX),
        (&["SCAN", "0", "COUNT", "x"], NOT_INT),
        (&["SCAN", "0", "MATCH"], SYNTAX),
        (&["SCAN", "0", "FOO", "bar"], SYNTAX),
        (&["SCAN", "abc"], "-ERR invalid cursor\r\n"),
        (&["SCAN", " 1"], "-ERR invalid cursor\r\n"),
        (&["SCAN", "1 "], "-ERR invalid cursor\r\n"),
        (&["SCAN", "-"], "-ERR invalid cursor\r\n"),
        (&["SCAN", "0x1"], "-ERR invalid cursor\r\n"),
        (&["SCAN", "18446744073709551616"], "-ERR invalid cursor\r\n"),
        // The cursor is checked before the options.
        (&["SCAN", "x", "COUNT", "0"], "-ERR invalid cursor\r\n"),
    ];
    for (args, want) in cases {
        assert_eq!(h.run(args), *want, "{args:?}");
    }
    // strtoul's accepted forms.
    for c in ["", "+0", "-0", "18446744073709551615", "-1"] {
        assert!(h.run(&["SCAN", c]).starts_with("*2\r\n"), "cursor {c:?}");
    }
}

#[test]
fn scan_reclaims_expired_keys_it_meets() {
    let mut h = h();
    set(&mut h, "gone", "1");
    set(&mut h, "kept", "1");
    assert_eq!(h.run(&["PEXPIRE", "gone", "5"]), int(1));
    h.advance_ms(6);
    assert_eq!(h.run(&["DBSIZE"]), int(2));
    let (c, keys) = scan_reply(&h.run(&["SCAN", "0", "COUNT", "100"]));
    assert_eq!((c.as_str(), keys), ("0", vec!["kept".to_string()]));
    assert_eq!(h.run(&["DBSIZE"]), int(1));
}

#[test]
fn scan_type_none_reports_expired_keys_like_redis_7_0() {
    let mut h = h();
    set(&mut h, "gone", "1");
    set(&mut h, "kept", "1");
    assert_eq!(h.run(&["PEXPIRE", "gone", "5"]), int(1));
    h.advance_ms(6);
    let (_, keys) = scan_reply(&h.run(&["SCAN", "0", "COUNT", "100", "TYPE", "none"]));
    assert_eq!(keys, ["gone"]);
    assert_eq!(h.run(&["DBSIZE"]), int(1));
    let (_, keys) = scan_reply(&h.run(&["SCAN", "0", "COUNT", "100", "TYPE", "none"]));
    assert!(keys.is_empty());
}

#[test]
fn randomkey_on_empty_and_single_key_db() {
    let mut h = h();
    assert_eq!(h.run(&["RANDOMKEY"]), "$-1\r\n");
    set(&mut h, "only", "1");
    assert_eq!(h.run(&["RANDOMKEY"]), bulk("only"));
    assert_eq!(h.run(&["PEXPIRE", "only", "1"]), int(1));
    h.advance_ms(2);
    assert_eq!(h.run(&["RANDOMKEY"]), "$-1\r\n");
}

// ------------------------------------------------------------------------------------------
// RENAME RENAMENX COPY MOVE

#[test]
fn rename_moves_value_and_ttl() {
    let mut h = h();
    set(&mut h, "a", "va");
    set(&mut h, "b", "vb");
    assert_eq!(h.run(&["EXPIRE", "a", "100"]), int(1));
    let dirty = h.engine.dirty;
    assert_eq!(h.run(&["RENAME", "a", "b"]), "+OK\r\n");
    assert_eq!(h.engine.dirty, dirty + 1);
    assert_eq!(h.run(&["EXISTS", "a"]), int(0));
    assert_eq!(h.run(&["TTL", "b"]), int(100));
    // Renaming onto a key with a TTL drops that TTL when the source has none.
    set(&mut h, "c", "vc");
    assert_eq!(h.run(&["RENAME", "c", "b"]), "+OK\r\n");
    assert_eq!(h.run(&["TTL", "b"]), int(-1));
    assert_eq!(h.run(&["RENAME", "b", "b"]), "+OK\r\n");
    assert_eq!(h.run(&["RENAME", "nope", "b"]), "-ERR no such key\r\n");
    assert_eq!(h.run(&["RENAME", "nope", "nope"]), "-ERR no such key\r\n");
}

#[test]
fn renamenx_refuses_existing_destination() {
    let mut h = h();
    set(&mut h, "a", "1");
    set(&mut h, "b", "2");
    assert_eq!(h.run(&["RENAMENX", "a", "b"]), int(0));
    assert_eq!(h.run(&["RENAMENX", "a", "a"]), int(0));
    assert_eq!(h.run(&["RENAMENX", "a", "c"]), int(1));
    assert_eq!(h.run(&["EXISTS", "a", "c"]), int(1));
    assert_eq!(h.run(&["RENAMENX", "nope", "x"]), "-ERR no such key\r\n");
    // An expired destination does not count as existing.
    assert_eq!(h.run(&["PEXPIRE", "b", "1"]), int(1));
    h.advance_ms(2);
    assert_eq!(h.run(&["RENAMENX", "c", "b"]), int(1));
}

#[test]
fn copy_options_and_errors() {
    let mut h = h();
    set(&mut h, "x", "1");
    set(&mut h, "y", "2");
    let cases: &[(&[&str], &str)] = &[
        (&["COPY", "x", "y"], ":0\r\n"),
        (&["COPY", "nope", "z"], ":0\r\n"),
        (
            &["COPY", "x", "x"],
            "-ERR source and destination objects are the same\r\n",
        ),
        (
            &["COPY", "x", "x", "DB", "0"],
            "-ERR source and destination objects are the same\r\n",
        ),
        (
            &["COPY", "x", "y", "DB", "16"],
            "-ERR DB index is out of range\r\n",
        ),
        (
            &["COPY", "x", "y", "DB", "-1"],
            "-ERR DB index is out of range\r\n",
        ),
        (&["COPY", "x", "y", "DB", "abc"], NOT_INT),
        (
            &["COPY", "x", "y", "DB", "4294967296"],
            "-ERR value is out of range, value must between -2147483648 and 2147483647\r\n",
        ),
        (&["COPY", "x", "y", "DB"], SYNTAX),
        (&["COPY", "x", "y", "foo"], SYNTAX),
        (&["COPY", "x", "y", "REPLACE", "foo"], SYNTAX),
        (&["COPY", "x", "y", "replace"], ":1\r\n"),
        (&["COPY", "x", "x", "db", "1"], ":1\r\n"),
    ];
    for (args, want) in cases {
        assert_eq!(h.run(args), *want, "{args:?}");
    }
    // The copy is independent of the source and keeps its TTL and encoding.
    assert_eq!(h.run(&["OBJECT", "ENCODING", "y"]), bulk("int"));
    assert_eq!(h.run(&["EXPIRE", "x", "50"]), int(1));
    assert_eq!(h.run(&["COPY", "x", "t"]), int(1));
    assert_eq!(h.run(&["TTL", "t"]), int(50));
    assert_eq!(h.run(&["DEL", "x"]), int(1));
    assert_eq!(h.run(&["EXISTS", "t", "y"]), int(2));
    assert_eq!(h.run(&["SELECT", "1"]), "+OK\r\n");
    assert_eq!(h.run(&["EXISTS", "x"]), int(1));
}

#[test]
fn move_between_dbs() {
    let mut h = h();
    set(&mut h, "k", "v");
    assert_eq!(h.run(&["EXPIRE", "k", "70"]), int(1));
    let cases: &[(&[&str], &str)] = &[
        (
            &["MOVE", "k", "0"],
            "-ERR source and destination objects are the same\r\n",
        ),
        (&["MOVE", "k", "16"], "-ERR DB index is out of range\r\n"),
        (&["MOVE", "k", "-1"], "-ERR DB index is out of range\r\n"),
        (&["MOVE", "k", "x"], NOT_INT),
        (&["MOVE", "nope", "1"], ":0\r\n"),
        (&["MOVE", "k", "1"], ":1\r\n"),
        (&["MOVE", "k", "1"], ":0\r\n"),
    ];
    for (args, want) in cases {
        assert_eq!(h.run(args), *want, "{args:?}");
    }
    assert_eq!(h.run(&["SELECT", "1"]), "+OK\r\n");
    assert_eq!(h.run(&["TTL", "k"]), int(70));
    // The key already exists in the target: nothing moves.
    set(&mut h, "k2", "a");
    assert_eq!(h.run(&["SELECT", "0"]), "+OK\r\n");
    set(&mut h, "k2", "b");
    assert_eq!(h.run(&["MOVE", "k2", "1"]), int(0));
    assert_eq!(h.run(&["EXISTS", "k2"]), int(1));
}

// ------------------------------------------------------------------------------------------
// EXPIRE family, TTL family, PERSIST

#[test]
fn expire_option_errors_come_first() {
    let mut h = h();
    set(&mut h, "a", "1");
    let nxx = "-ERR NX and XX, GT or LT options at the same time are not compatible\r\n";
    let gtlt = "-ERR GT and LT options at the same time are not compatible\r\n";
    let cases: &[(&[&str], &str)] = &[
        (&["EXPIRE", "a", "100", "NX", "XX"], nxx),
        (&["EXPIRE", "a", "100", "nx", "gt"], nxx),
        (&["EXPIRE", "a", "100", "lt", "NX"], nxx),
        (&["EXPIRE", "a", "100", "GT", "lt"], gtlt),
        (
            &["EXPIRE", "a", "100", "foo"],
            "-ERR Unsupported option foo\r\n",
        ),
        (
            &["EXPIRE", "a", "abc", "Bar"],
            "-ERR Unsupported option Bar\r\n",
        ),
        (&["EXPIRE", "a", "abc"], NOT_INT),
        (&["EXPIRE", "nokey", "abc"], NOT_INT),
        (
            &["EXPIRE", "nokey", "9223372036854776"],
            "-ERR invalid expire time in 'expire' command\r\n",
        ),
        (
            &["EXPIRE", "a", "9223372036854775"],
            "-ERR invalid expire time in 'expire' command\r\n",
        ),
        (
            &["EXPIRE", "a", "-9223372036854776"],
            "-ERR invalid expire time in 'expire' command\r\n",
        ),
        (
            &["PEXPIRE", "a", "9223372036854775807"],
            "-ERR invalid expire time in 'pexpire' command\r\n",
        ),
        (
            &["EXPIREAT", "a", "9223372036854776"],
            "-ERR invalid expire time in 'expireat' command\r\n",
        ),
        (&["EXPIRE", "nokey", "10"], ":0\r\n"),
        (&["EXPIRE", "a", "100", "xx", "xx"], ":0\r\n"),
    ];
    for (args, want) in cases {
        assert_eq!(h.run(args), *want, "{args:?}");
    }
    assert_eq!(h.run(&["TTL", "a"]), int(-1));
}

#[test]
fn expire_flags_compare_with_current_ttl() {
    let mut h = h();
    set(&mut h, "a", "1");
    // No TTL: XX and GT refuse (no TTL is infinite), LT and NX accept.
    assert_eq!(h.run(&["EXPIRE", "a", "100", "XX"]), int(0));
    assert_eq!(h.run(&["EXPIRE", "a", "100", "GT"]), int(0));
    assert_eq!(h.run(&["EXPIRE", "a", "100", "LT"]), int(1));
    assert_eq!(h.run(&["EXPIRE", "a", "200", "NX"]), int(0));
    assert_eq!(h.run(&["TTL", "a"]), int(100));
    assert_eq!(h.run(&["EXPIRE", "a", "100", "GT"]), int(0));
    assert_eq!(h.run(&["EXPIRE", "a", "100", "LT"]), int(0));
    assert_eq!(h.run(&["EXPIRE", "a", "300", "GT"]), int(1));
    assert_eq!(h.run(&["EXPIRE", "a", "50", "lt", "XX"]), int(1));
    assert_eq!(h.run(&["TTL", "a"]), int(50));
    assert_eq!(h.run(&["PERSIST", "a"]), int(1));
    assert_eq!(h.run(&["EXPIRE", "a", "10", "nx"]), int(1));
}

#[test]
fn ttl_family_replies() {
    let mut h = h();
    let now = h.time.get();
    set(&mut h, "a", "1");
    assert_eq!(h.run(&["TTL", "nope"]), int(-2));
    assert_eq!(h.run(&["PTTL", "nope"]), int(-2));
    assert_eq!(h.run(&["EXPIRETIME", "nope"]), int(-2));
    assert_eq!(h.run(&["PEXPIRETIME", "nope"]), int(-2));
    assert_eq!(h.run(&["TTL", "a"]), int(-1));
    assert_eq!(h.run(&["PTTL", "a"]), int(-1));
    assert_eq!(h.run(&["EXPIRETIME", "a"]), int(-1));
    assert_eq!(h.run(&["PEXPIRETIME", "a"]), int(-1));

    assert_eq!(h.run(&["PEXPIRE", "a", "1500"]), int(1));
    assert_eq!(h.run(&["PTTL", "a"]), int(1500));
    // Seconds round half up.
    assert_eq!(h.run(&["TTL", "a"]), int(2));
    h.advance_ms(1);
    assert_eq!(h.run(&["TTL", "a"]), int(1));
    assert_eq!(h.run(&["PEXPIRETIME", "a"]), int(now + 1500));
    assert_eq!(h.run(&["EXPIRETIME", "a"]), int((now + 1500 + 500) / 1000));
    // At the deadline the key is still there with 0 left.
    h.advance_ms(1499);
    assert_eq!(h.run(&["PTTL", "a"]), int(0));
    h.advance_ms(1);
    assert_eq!(h.run(&["PTTL", "a"]), int(-2));
}

#[test]
fn ttl_near_the_end_of_time() {
    let mut h = h();
    set(&mut h, "k", "v");
    assert_eq!(h.run(&["PEXPIREAT", "k", "9223372036854775807"]), int(1));
    assert_eq!(h.run(&["PEXPIRETIME", "k"]), int(i64::MAX));
    assert_eq!(h.run(&["EXPIRETIME", "k"]), int(9223372036854776));
    assert_eq!(h.run(&["EXPIREAT", "k", "9223372036854775"]), int(1));
    assert_eq!(h.run(&["PEXPIRETIME", "k"]), int(9223372036854775000));
}

#[test]
fn expire_in_the_past_deletes_and_propagates_del() {
    let mut h = h();
    for (cmd, t) in [
        ("EXPIRE", "-1"),
        ("PEXPIRE", "0"),
        ("EXPIREAT", "1"),
        ("PEXPIREAT", "-9223372036854775808"),
        ("EXPIRE", "-9223372036854775"),
    ] {
        set(&mut h, "k", "v");
        h.take_propagated();
        let dirty = h.engine.dirty;
        assert_eq!(h.run(&[cmd, "k", t]), int(1), "{cmd} {t}");
        assert_eq!(h.run(&["EXISTS", "k"]), int(0));
        assert_eq!(h.engine.dirty, dirty + 1);
        assert_eq!(
            h.last_propagated(),
            Some(vec![b"DEL".to_vec(), b"k".to_vec()])
        );
    }
}

#[test]
fn expire_propagates_as_absolute_pexpireat() {
    let mut h = h();
    let now = h.time.get();
    set(&mut h, "k", "v");
    let want = |ms: i64, flags: &[&str]| {
        let mut v = vec![
            b"PEXPIREAT".to_vec(),
            b"k".to_vec(),
            ms.to_string().into_bytes(),
        ];
        v.extend(flags.iter().map(|f| f.as_bytes().to_vec()));
        Some(v)
    };
    h.take_propagated();
    assert_eq!(h.run(&["EXPIRE", "k", "10"]), int(1));
    assert_eq!(h.last_propagated(), want(now + 10_000, &[]));
    h.take_propagated();
    assert_eq!(h.run(&["PEXPIRE", "k", "20000", "gt"]), int(1));
    assert_eq!(h.last_propagated(), want(now + 20_000, &["gt"]));
    h.take_propagated();
    assert_eq!(h.run(&["EXPIREAT", "k", "4000000000"]), int(1));
    assert_eq!(h.last_propagated(), want(4_000_000_000_000, &[]));
    // PEXPIREAT is already absolute: propagated as sent.
    h.take_propagated();
    assert_eq!(h.run(&["PEXPIREAT", "k", "4000000000001"]), int(1));
    assert_eq!(h.last_propagated(), want(4_000_000_000_001, &[]));
    assert_eq!(h.run(&["PEXPIRETIME", "k"]), int(4_000_000_000_001));
    // A refused flag writes nothing.
    let dirty = h.engine.dirty;
    assert_eq!(h.run(&["EXPIRE", "k", "5", "GT"]), int(0));
    assert_eq!(h.engine.dirty, dirty);
}

#[test]
fn lazy_expiry_after_expire() {
    let mut h = h();
    set(&mut h, "k", "v");
    assert_eq!(h.run(&["EXPIRE", "k", "2"]), int(1));
    h.advance_ms(1999);
    assert_eq!(h.run(&["EXISTS", "k"]), int(1));
    h.advance_ms(2);
    assert_eq!(h.run(&["TTL", "k"]), int(-2));
    assert_eq!(h.run(&["EXPIRE", "k", "2"]), int(0));
}

#[test]
fn persist_removes_ttl_once() {
    let mut h = h();
    set(&mut h, "k", "v");
    assert_eq!(h.run(&["PERSIST", "k"]), int(0));
    assert_eq!(h.run(&["PERSIST", "nope"]), int(0));
    assert_eq!(h.run(&["EXPIRE", "k", "100"]), int(1));
    let dirty = h.engine.dirty;
    assert_eq!(h.run(&["PERSIST", "k"]), int(1));
    assert_eq!(h.engine.dirty, dirty + 1);
    assert_eq!(h.run(&["TTL", "k"]), int(-1));
    assert_eq!(h.run(&["PERSIST", "k"]), int(0));
}

// ------------------------------------------------------------------------------------------
// OBJECT

#[test]
fn object_subcommands() {
    let mut h = h();
    set(&mut h, "small", "1");
    set(&mut h, "big", "10000");
    set(&mut h, "neg", "-1");
    set(&mut h, "emb", "abc");
    set(&mut h, "raw", &"x".repeat(45));
    assert_eq!(h.run(&["OBJECT", "ENCODING", "small"]), bulk("int"));
    assert_eq!(h.run(&["object", "encoding", "emb"]), bulk("embstr"));
    assert_eq!(h.run(&["OBJECT", "Encoding", "raw"]), bulk("raw"));
    assert_eq!(h.run(&["OBJECT", "REFCOUNT", "small"]), int(2147483647));
    assert_eq!(h.run(&["OBJECT", "REFCOUNT", "big"]), int(1));
    assert_eq!(h.run(&["OBJECT", "REFCOUNT", "neg"]), int(1));
    assert_eq!(h.run(&["OBJECT", "REFCOUNT", "emb"]), int(1));
    for sub in ["ENCODING", "REFCOUNT", "IDLETIME", "FREQ"] {
        assert_eq!(h.run(&["OBJECT", sub, "nope"]), "$-1\r\n", "{sub}");
    }
    assert_eq!(
        h.run(&["OBJECT", "FREQ", "small"]),
        "-ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please \
         note that when switching between policies at runtime LRU and LFU data will take some \
         time to adjust.\r\n"
    );
    assert_eq!(
        h.run(&["OBJECT", "foo"]),
        "-ERR unknown subcommand 'foo'. Try OBJECT HELP.\r\n"
    );
    assert_eq!(
        h.run(&["OBJECT", "encoding"]),
        "-ERR wrong number of arguments for 'object|encoding' command\r\n"
    );
    assert_eq!(
        h.run(&["OBJECT", "help", "x"]),
        "-ERR wrong number of arguments for 'object|help' command\r\n"
    );
}

#[test]
fn object_idletime_follows_the_clock_and_ignores_notouch_reads() {
    let mut h = h();
    set(&mut h, "k", "v");
    assert_eq!(h.run(&["OBJECT", "IDLETIME", "k"]), int(0));
    h.advance_ms(10_000);
    // TYPE, TTL, EXISTS and OBJECT do not count as accesses.
    h.run(&["TYPE", "k"]);
    h.run(&["TTL", "k"]);
    h.run(&["EXISTS", "k"]);
    assert_eq!(h.run(&["OBJECT", "IDLETIME", "k"]), int(10));
    h.run(&["TOUCH", "k"]);
    assert_eq!(h.run(&["OBJECT", "IDLETIME", "k"]), int(0));
}

#[test]
fn object_help_text() {
    let mut h = h();
    let want = "*15\r\n\
        +OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n\
        +ENCODING <key>\r\n\
        +    Return the kind of internal representation used in order to store the value\r\n\
        +    associated with a <key>.\r\n\
        +FREQ <key>\r\n\
        +    Return the access frequency index of the <key>. The returned integer is\r\n\
        +    proportional to the logarithm of the recent access frequency of the key.\r\n\
        +IDLETIME <key>\r\n\
        +    Return the idle time of the <key>, that is the approximated number of\r\n\
        +    seconds elapsed since the last access to the key.\r\n\
        +REFCOUNT <key>\r\n\
        +    Return the number of references of the value associated with the specified\r\n\
        +    <key>.\r\n\
        +HELP\r\n\
        +    Prints this help.\r\n";
    assert_eq!(h.run(&["OBJECT", "HELP"]), want);
    assert_eq!(h.run(&["object", "help"]), want);
}

#[test]
fn resp3_nulls() {
    let mut h = h();
    h.session.proto = resp::Proto::Resp3;
    assert_eq!(h.run(&["OBJECT", "ENCODING", "nope"]), "_\r\n");
    assert_eq!(h.run(&["RANDOMKEY"]), "_\r\n");
}
