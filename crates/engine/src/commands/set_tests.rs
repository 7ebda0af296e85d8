//! In-process tests of the set commands: replies byte for byte as Redis 7.0.15, encodings
//! and their transitions, dirty counts and propagation.

use crate::commands::testkit::Harness;
use crate::engine::EngineConfig;

use crate::commands::testkit::reply::WRONGTYPE;

fn h() -> Harness {
    Harness::new()
}

/// `OBJECT ENCODING key` as a plain name.
fn enc(h: &mut Harness, key: &str) -> String {
    let r = h.run(&["OBJECT", "ENCODING", key]);
    r.split("\r\n").nth(1).unwrap_or(&r).to_string()
}

/// Bulk strings of a flat array reply, sorted (for replies whose order is unspecified).
fn sorted_items(reply: &str) -> Vec<String> {
    let mut lines = reply.split("\r\n");
    let head = lines.next().unwrap();
    assert!(head.starts_with('*') || head.starts_with('~'), "{reply:?}");
    let mut v = Vec::new();
    while let Some(l) = lines.next() {
        if l.starts_with('$') {
            v.push(lines.next().unwrap().to_string());
        }
    }
    v.sort();
    v
}

fn s(v: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = v.iter().map(|x| x.to_string()).collect();
    v.sort();
    v
}

#[test]
fn sadd_counts_new_members_and_picks_the_encoding() {
    let mut h = h();
    assert_eq!(h.run(&["SADD", "i", "3", "1", "2", "1"]), ":3\r\n");
    assert_eq!(enc(&mut h, "i"), "intset");
    // Intsets are sorted, as in Redis.
    assert_eq!(
        h.run(&["SMEMBERS", "i"]),
        "*3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n"
    );
    assert_eq!(h.run(&["SADD", "i", "2", "x"]), ":1\r\n");
    assert_eq!(enc(&mut h, "i"), "hashtable");
    assert_eq!(
        sorted_items(&h.run(&["SMEMBERS", "i"])),
        s(&["1", "2", "3", "x"])
    );
    assert_eq!(h.run(&["SADD", "s", "a"]), ":1\r\n");
    assert_eq!(enc(&mut h, "s"), "hashtable");
    assert_eq!(h.run(&["TYPE", "s"]), "+set\r\n");
    h.run(&["SET", "str", "v"]);
    assert_eq!(h.run(&["SADD", "str", "a"]), WRONGTYPE);
    assert_eq!(
        h.run(&["SADD", "k"]),
        "-ERR wrong number of arguments for 'sadd' command\r\n"
    );
}

#[test]
fn intset_converts_past_the_configured_limit_and_never_back() {
    let mut h = h();
    let mut args = vec!["SADD".to_string(), "k".to_string()];
    args.extend((0..512).map(|i| i.to_string()));
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    assert_eq!(h.run(&a), ":512\r\n");
    assert_eq!(enc(&mut h, "k"), "intset");
    assert_eq!(h.run(&["SADD", "k", "511"]), ":0\r\n");
    assert_eq!(enc(&mut h, "k"), "intset");
    assert_eq!(h.run(&["SADD", "k", "512"]), ":1\r\n");
    assert_eq!(enc(&mut h, "k"), "hashtable");
    assert_eq!(h.run(&["SCARD", "k"]), ":513\r\n");
    assert_eq!(h.run(&["SREM", "k", "512", "511"]), ":2\r\n");
    assert_eq!(enc(&mut h, "k"), "hashtable");
    assert_eq!(h.run(&["SISMEMBER", "k", "510"]), ":1\r\n");

    let mut h = Harness::with_config(EngineConfig {
        set_max_intset_entries: 2,
        ..EngineConfig::default()
    });
    h.run(&["SADD", "k", "1", "2"]);
    assert_eq!(enc(&mut h, "k"), "intset");
    h.run(&["SADD", "k", "3"]);
    assert_eq!(enc(&mut h, "k"), "hashtable");
}

#[test]
fn non_canonical_integers_make_a_hashtable() {
    for m in ["01", "+1", "-0", "1.5", " 1", "9223372036854775808"] {
        let mut h = h();
        h.run(&["SADD", "k", "1"]);
        assert_eq!(h.run(&["SADD", "k", m]), ":1\r\n", "{m}");
        assert_eq!(enc(&mut h, "k"), "hashtable", "{m}");
        assert_eq!(h.run(&["SISMEMBER", "k", m]), ":1\r\n");
    }
    let mut h = h();
    h.run(&["SADD", "k", "-9223372036854775808", "9223372036854775807"]);
    assert_eq!(enc(&mut h, "k"), "intset");
    assert_eq!(
        h.run(&["SMEMBERS", "k"]),
        "*2\r\n$20\r\n-9223372036854775808\r\n$19\r\n9223372036854775807\r\n"
    );
}

#[test]
fn srem_deletes_the_emptied_key() {
    let mut h = h();
    assert_eq!(h.run(&["SREM", "nokey", "a"]), ":0\r\n");
    h.run(&["SADD", "k", "a", "b", "1"]);
    let d = h.engine.dirty;
    assert_eq!(h.run(&["SREM", "k", "a", "zz", "a"]), ":1\r\n");
    assert_eq!(h.engine.dirty - d, 1);
    assert_eq!(h.run(&["SREM", "k", "b", "1", "c"]), ":2\r\n");
    assert_eq!(h.run(&["EXISTS", "k"]), ":0\r\n");
    h.run(&["SET", "str", "v"]);
    assert_eq!(h.run(&["SREM", "str", "a"]), WRONGTYPE);
    // An intset refuses non-integers without converting.
    h.run(&["SADD", "i", "1", "2"]);
    assert_eq!(h.run(&["SREM", "i", "x"]), ":0\r\n");
    assert_eq!(enc(&mut h, "i"), "intset");
}

#[test]
fn sismember_smismember_scard() {
    let mut h = h();
    h.run(&["SADD", "k", "a", "1"]);
    assert_eq!(h.run(&["SISMEMBER", "k", "a"]), ":1\r\n");
    assert_eq!(h.run(&["SISMEMBER", "k", "b"]), ":0\r\n");
    assert_eq!(h.run(&["SISMEMBER", "nokey", "b"]), ":0\r\n");
    assert_eq!(
        h.run(&["SMISMEMBER", "k", "a", "b", "1"]),
        "*3\r\n:1\r\n:0\r\n:1\r\n"
    );
    assert_eq!(
        h.run(&["SMISMEMBER", "nokey", "a", "b"]),
        "*2\r\n:0\r\n:0\r\n"
    );
    assert_eq!(h.run(&["SCARD", "k"]), ":2\r\n");
    assert_eq!(h.run(&["SCARD", "nokey"]), ":0\r\n");
    h.run(&["SET", "str", "v"]);
    for cmd in [
        &["SISMEMBER", "str", "a"][..],
        &["SMISMEMBER", "str", "a"],
        &["SCARD", "str"],
        &["SMEMBERS", "str"],
    ] {
        assert_eq!(h.run(cmd), WRONGTYPE, "{cmd:?}");
    }
}

#[test]
fn smove_moves_and_creates_the_destination() {
    let mut h = h();
    assert_eq!(h.run(&["SMOVE", "nokey", "d", "a"]), ":0\r\n");
    h.run(&["SET", "str", "v"]);
    assert_eq!(h.run(&["SMOVE", "nokey", "str", "a"]), ":0\r\n");
    assert_eq!(h.run(&["SMOVE", "str", "d", "a"]), WRONGTYPE);
    h.run(&["SADD", "src", "1", "a"]);
    assert_eq!(h.run(&["SMOVE", "src", "str", "a"]), WRONGTYPE);
    assert_eq!(h.run(&["SMOVE", "src", "src", "a"]), ":1\r\n");
    assert_eq!(h.run(&["SMOVE", "src", "src", "zz"]), ":0\r\n");
    assert_eq!(h.run(&["SMOVE", "src", "d", "zz"]), ":0\r\n");
    let d0 = h.engine.dirty;
    assert_eq!(h.run(&["SMOVE", "src", "d", "1"]), ":1\r\n");
    assert_eq!(h.engine.dirty - d0, 2);
    assert_eq!(enc(&mut h, "d"), "intset");
    h.run(&["SADD", "d", "a"]);
    let d0 = h.engine.dirty;
    // Already in the destination: only the removal counts.
    assert_eq!(h.run(&["SMOVE", "src", "d", "a"]), ":1\r\n");
    assert_eq!(h.engine.dirty - d0, 1);
    assert_eq!(h.run(&["EXISTS", "src"]), ":0\r\n");
    assert_eq!(sorted_items(&h.run(&["SMEMBERS", "d"])), s(&["1", "a"]));
}

#[test]
fn spop_single_removes_and_propagates_srem() {
    let mut h = h();
    assert_eq!(h.run(&["SPOP", "nokey"]), "$-1\r\n");
    h.run(&["SADD", "k", "a", "b"]);
    let r = h.run(&["SPOP", "k"]);
    let m = if r == "$1\r\na\r\n" { "a" } else { "b" };
    assert_eq!(r, format!("$1\r\n{m}\r\n"));
    assert_eq!(h.run(&["SISMEMBER", "k", m]), ":0\r\n");
    let rw = h.last_propagated().unwrap();
    assert_eq!(
        rw,
        vec![b"SREM".to_vec(), b"k".to_vec(), m.as_bytes().to_vec()]
    );
    h.run(&["SPOP", "k"]);
    assert_eq!(h.run(&["EXISTS", "k"]), ":0\r\n");
    assert_eq!(h.run(&["SPOP", "k", "1", "2"]), "-ERR syntax error\r\n");
    h.run(&["SET", "str", "v"]);
    assert_eq!(h.run(&["SPOP", "str"]), WRONGTYPE);
}

#[test]
fn spop_count_errors_and_edge_cases() {
    let mut h = h();
    for c in ["-1", "x", "1.5"] {
        assert_eq!(
            h.run(&["SPOP", "k", c]),
            "-ERR value is out of range, must be positive\r\n"
        );
    }
    assert_eq!(h.run(&["SPOP", "nokey", "3"]), "*0\r\n");
    h.run(&["SADD", "k", "1"]);
    assert_eq!(h.run(&["SPOP", "k", "0"]), "*0\r\n");
    h.session.proto = resp::Proto::Resp3;
    assert_eq!(h.run(&["SPOP", "nokey", "3"]), "~0\r\n");
    assert_eq!(h.run(&["SPOP", "k", "5"]), "~1\r\n$1\r\n1\r\n");
}

#[test]
fn spop_count_whole_set_is_a_del() {
    let mut h = h();
    h.run(&["SADD", "k", "3", "1", "2"]);
    let d0 = h.engine.dirty;
    assert_eq!(
        h.run(&["SPOP", "k", "10"]),
        "*3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n"
    );
    assert_eq!(h.engine.dirty - d0, 3, "dirty += min(count, size)");
    assert_eq!(h.run(&["EXISTS", "k"]), ":0\r\n");
    assert_eq!(
        h.last_propagated().unwrap(),
        vec![b"DEL".to_vec(), b"k".to_vec()]
    );
    // An all-integer hashtable comes out sorted, as the union copy is an intset.
    h.run(&["SADD", "k", "x", "3", "1", "2"]);
    h.run(&["SREM", "k", "x"]);
    assert_eq!(enc(&mut h, "k"), "hashtable");
    assert_eq!(
        h.run(&["SPOP", "k", "3"]),
        "*3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n"
    );
}

/// SPOP with a count in both strategies: the popped members leave the set, are distinct,
/// and are propagated as one SREM each; the command itself is not propagated.
#[test]
fn spop_count_partial_pops_distinct_members() {
    for (size, count) in [(100usize, 10usize), (100, 95), (3000, 2500), (20, 19)] {
        for ints in [true, false] {
            let mut h = h();
            h.take_propagated();
            let members: Vec<String> = (0..size)
                .map(|i| if ints { i.to_string() } else { format!("m{i}") })
                .collect();
            let mut args = vec!["SADD", "k"];
            args.extend(members.iter().map(String::as_str));
            h.run(&args);
            h.run(&["EXPIRE", "k", "100"]);
            h.take_propagated();
            let d0 = h.engine.dirty;
            let r = h.run(&["SPOP", "k", &count.to_string()]);
            assert!(r.starts_with(&format!("*{count}\r\n")));
            let popped = sorted_items(&r);
            let mut dedup = popped.clone();
            dedup.dedup();
            assert_eq!(dedup.len(), count, "distinct");
            assert_eq!(h.engine.dirty - d0, count as u64);
            assert_eq!(h.run(&["SCARD", "k"]), format!(":{}\r\n", size - count));
            for m in &popped {
                assert_eq!(h.run(&["SISMEMBER", "k", m]), ":0\r\n");
            }
            // The TTL survives the rebuild strategy (dbOverwrite).
            assert_eq!(h.run(&["TTL", "k"]), ":100\r\n");
            // One SREM per member (Redis 7.0.15), wrapped as one unit; SPOP itself is not
            // propagated.
            let all = h.take_propagated();
            let mut units = all.iter().filter(|a| a[0] != b"SELECT");
            assert_eq!(units.next().unwrap(), &vec![b"MULTI".to_vec()]);
            let mut propagated: Vec<String> = Vec::new();
            for argv in units {
                if argv[0] == b"EXEC" {
                    continue;
                }
                assert_eq!(argv.len(), 3, "one member per SREM");
                assert_eq!(argv[0], b"SREM");
                assert_eq!(argv[1], b"k");
                propagated.push(String::from_utf8(argv[2].clone()).unwrap());
            }
            propagated.sort();
            assert_eq!(propagated, popped);
        }
    }
}

#[test]
fn spop_rebuild_may_shrink_back_to_an_intset() {
    // Redis rebuilds the survivors with setTypeCreate, so an all-integer hashtable whose
    // survivors are few comes back as an intset.
    let mut h = h();
    let mut args = vec!["SADD".to_string(), "k".to_string()];
    args.extend((0..600).map(|i| i.to_string()));
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    h.run(&a);
    assert_eq!(enc(&mut h, "k"), "hashtable");
    h.run(&["SPOP", "k", "590"]);
    assert_eq!(enc(&mut h, "k"), "intset");
    assert_eq!(h.run(&["SCARD", "k"]), ":10\r\n");
}

#[test]
fn srandmember_variants() {
    let mut h = h();
    assert_eq!(h.run(&["SRANDMEMBER", "nokey"]), "$-1\r\n");
    assert_eq!(h.run(&["SRANDMEMBER", "nokey", "5"]), "*0\r\n");
    assert_eq!(
        h.run(&["SRANDMEMBER", "nokey", "x"]),
        "-ERR value is not an integer or out of range\r\n"
    );
    assert_eq!(
        h.run(&["SRANDMEMBER", "nokey", "-9223372036854775808"]),
        "-ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807\r\n"
    );
    assert_eq!(
        h.run(&["SRANDMEMBER", "k", "1", "2"]),
        "-ERR syntax error\r\n"
    );
    h.run(&["SADD", "k", "3", "1", "2"]);
    assert_eq!(h.run(&["SRANDMEMBER", "k", "0"]), "*0\r\n");
    // Whole set of an intset: sorted.
    assert_eq!(
        h.run(&["SRANDMEMBER", "k", "3"]),
        "*3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n"
    );
    let r = h.run(&["SRANDMEMBER", "k", "-7"]);
    let items = sorted_items(&r);
    assert_eq!(items.len(), 7);
    assert!(items.iter().all(|m| ["1", "2", "3"].contains(&m.as_str())));
    h.session.proto = resp::Proto::Resp3;
    // Always an array, also in RESP3 (a negative count repeats members).
    assert!(h.run(&["SRANDMEMBER", "k", "2"]).starts_with("*2\r\n"));
    assert_eq!(h.run(&["SRANDMEMBER", "nokey"]), "_\r\n");
    h.run(&["SET", "str", "v"]);
    assert_eq!(h.run(&["SRANDMEMBER", "str"]), WRONGTYPE);
    assert_eq!(h.run(&["SRANDMEMBER", "str", "2"]), WRONGTYPE);
}

#[test]
fn srandmember_positive_count_is_distinct_in_every_strategy() {
    let mut h = h();
    let members: Vec<String> = (0..300).map(|i| format!("m{i}")).collect();
    let mut args = vec!["SADD", "k"];
    args.extend(members.iter().map(String::as_str));
    h.run(&args);
    let d0 = h.engine.dirty;
    for count in [1usize, 2, 50, 99, 101, 250, 299, 300, 500] {
        let r = h.run(&["SRANDMEMBER", "k", &count.to_string()]);
        let mut items = sorted_items(&r);
        let n = items.len();
        assert_eq!(n, count.min(300));
        items.dedup();
        assert_eq!(items.len(), n, "distinct for count {count}");
        assert!(items.iter().all(|m| members.contains(m)));
    }
    assert_eq!(h.engine.dirty, d0, "read-only");
    assert_eq!(h.run(&["SCARD", "k"]), ":300\r\n");
}

#[test]
fn sinter_smembers_and_sintercard() {
    let mut h = h();
    assert_eq!(h.run(&["SMEMBERS", "nokey"]), "*0\r\n");
    h.run(&["SADD", "a", "1", "2", "3", "x"]);
    h.run(&["SADD", "b", "2", "3", "4"]);
    h.run(&["SADD", "c", "3", "2", "9", "8", "7"]);
    // The smallest set (an intset here) leads: sorted.
    assert_eq!(
        h.run(&["SINTER", "a", "b", "c"]),
        "*2\r\n$1\r\n2\r\n$1\r\n3\r\n"
    );
    assert_eq!(h.run(&["SINTER", "a", "nokey"]), "*0\r\n");
    assert_eq!(
        h.run(&["SINTER", "b", "b"]),
        "*3\r\n$1\r\n2\r\n$1\r\n3\r\n$1\r\n4\r\n"
    );
    h.run(&["SET", "str", "v"]);
    assert_eq!(h.run(&["SINTER", "nokey", "str"]), WRONGTYPE);
    assert_eq!(h.run(&["SINTERCARD", "2", "a", "b"]), ":2\r\n");
    assert_eq!(
        h.run(&["SINTERCARD", "2", "a", "b", "LIMIT", "1"]),
        ":1\r\n"
    );
    assert_eq!(
        h.run(&["SINTERCARD", "2", "a", "b", "limit", "0"]),
        ":2\r\n"
    );
    assert_eq!(h.run(&["SINTERCARD", "1", "a"]), ":4\r\n");
    assert_eq!(h.run(&["SINTERCARD", "2", "a", "nokey"]), ":0\r\n");
    assert_eq!(h.run(&["SINTERCARD", "1", "str"]), WRONGTYPE);
    for (args, err) in [
        (
            &["SINTERCARD", "0", "a"][..],
            "ERR numkeys should be greater than 0",
        ),
        (
            &["SINTERCARD", "x", "a"],
            "ERR numkeys should be greater than 0",
        ),
        (
            &["SINTERCARD", "-1", "a"],
            "ERR numkeys should be greater than 0",
        ),
        (
            &["SINTERCARD", "3", "a", "b"],
            "ERR Number of keys can't be greater than number of args",
        ),
        (
            &["SINTERCARD", "1", "a", "LIMIT", "-1"],
            "ERR LIMIT can't be negative",
        ),
        (
            &["SINTERCARD", "1", "a", "LIMIT", "x"],
            "ERR LIMIT can't be negative",
        ),
        (&["SINTERCARD", "1", "a", "LIMIT"], "ERR syntax error"),
        (&["SINTERCARD", "1", "a", "foo", "1"], "ERR syntax error"),
    ] {
        assert_eq!(h.run(args), format!("-{err}\r\n"), "{args:?}");
    }
    h.session.proto = resp::Proto::Resp3;
    assert_eq!(h.run(&["SMEMBERS", "nokey"]), "~0\r\n");
    assert_eq!(
        h.run(&["SINTER", "a", "b", "c"]),
        "~2\r\n$1\r\n2\r\n$1\r\n3\r\n"
    );
}

#[test]
fn sinterstore_result_encoding_and_empty_result() {
    let mut h = h();
    h.run(&["SADD", "a", "x", "1", "2", "y"]);
    h.run(&["SADD", "b", "x", "1", "2"]);
    h.run(&["SADD", "c", "1", "2", "3"]);
    h.run(&["SET", "d", "old"]);
    h.run(&["EXPIRE", "d", "100"]);
    let d0 = h.engine.dirty;
    assert_eq!(h.run(&["SINTERSTORE", "d", "b", "c"]), ":2\r\n");
    assert_eq!(h.engine.dirty - d0, 1);
    // All-integer result of hashtables: an intset, TTL dropped.
    assert_eq!(enc(&mut h, "d"), "intset");
    assert_eq!(h.run(&["TTL", "d"]), ":-1\r\n");
    assert_eq!(h.run(&["SINTERSTORE", "d", "a", "b"]), ":3\r\n");
    assert_eq!(enc(&mut h, "d"), "hashtable");
    // Empty result deletes the destination (one write), or does nothing if it is absent.
    let d0 = h.engine.dirty;
    assert_eq!(h.run(&["SINTERSTORE", "d", "a", "nokey"]), ":0\r\n");
    assert_eq!(h.engine.dirty - d0, 1);
    assert_eq!(h.run(&["EXISTS", "d"]), ":0\r\n");
    let d0 = h.engine.dirty;
    assert_eq!(h.run(&["SINTERSTORE", "d", "a", "nokey"]), ":0\r\n");
    assert_eq!(h.engine.dirty, d0);
    h.run(&["SADD", "z", "zz"]);
    h.run(&["SET", "d", "v"]);
    assert_eq!(h.run(&["SINTERSTORE", "d", "a", "z"]), ":0\r\n");
    assert_eq!(h.run(&["EXISTS", "d"]), ":0\r\n");
    // The destination may be a source.
    assert_eq!(h.run(&["SINTERSTORE", "a", "a", "b"]), ":3\r\n");
    assert_eq!(
        sorted_items(&h.run(&["SMEMBERS", "a"])),
        s(&["1", "2", "x"])
    );
    h.run(&["SET", "str", "v"]);
    assert_eq!(h.run(&["SINTERSTORE", "d", "a", "str"]), WRONGTYPE);
}

#[test]
fn sunion_and_sunionstore() {
    let mut h = h();
    h.run(&["SADD", "a", "3", "1"]);
    h.run(&["SADD", "b", "2", "x"]);
    h.run(&["SREM", "b", "x"]);
    // Union of an intset and an all-integer hashtable is an intset: sorted.
    assert_eq!(
        h.run(&["SUNION", "a", "nokey", "b"]),
        "*3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n"
    );
    assert_eq!(h.run(&["SUNION", "nokey"]), "*0\r\n");
    h.run(&["SADD", "c", "y"]);
    assert_eq!(
        sorted_items(&h.run(&["SUNION", "a", "c"])),
        s(&["1", "3", "y"])
    );
    assert_eq!(h.run(&["SUNIONSTORE", "d", "a", "b"]), ":3\r\n");
    assert_eq!(enc(&mut h, "d"), "intset");
    assert_eq!(h.run(&["SUNIONSTORE", "d", "a", "c"]), ":3\r\n");
    assert_eq!(enc(&mut h, "d"), "hashtable");
    assert_eq!(h.run(&["SUNIONSTORE", "d", "nokey"]), ":0\r\n");
    assert_eq!(h.run(&["EXISTS", "d"]), ":0\r\n");
    h.run(&["SET", "str", "v"]);
    assert_eq!(h.run(&["SUNION", "nokey", "str"]), WRONGTYPE);
    assert_eq!(h.run(&["SUNIONSTORE", "d", "str"]), WRONGTYPE);
    h.session.proto = resp::Proto::Resp3;
    assert_eq!(h.run(&["SUNION", "nokey"]), "~0\r\n");
}

#[test]
fn sdiff_and_sdiffstore() {
    let mut h = h();
    h.run(&["SADD", "a", "1", "2", "3", "x"]);
    h.run(&["SADD", "b", "2"]);
    h.run(&["SADD", "c", "x", "9"]);
    assert_eq!(
        h.run(&["SDIFF", "a", "b", "c", "nokey"]),
        "*2\r\n$1\r\n1\r\n$1\r\n3\r\n"
    );
    assert_eq!(h.run(&["SDIFF", "nokey", "a"]), "*0\r\n");
    assert_eq!(h.run(&["SDIFF", "a", "a"]), "*0\r\n");
    assert_eq!(h.run(&["SDIFF", "a", "b", "a"]), "*0\r\n");
    assert_eq!(
        sorted_items(&h.run(&["SDIFF", "a"])),
        s(&["1", "2", "3", "x"])
    );
    assert_eq!(h.run(&["SDIFFSTORE", "d", "a", "b", "c"]), ":2\r\n");
    assert_eq!(enc(&mut h, "d"), "intset");
    assert_eq!(h.run(&["SDIFFSTORE", "d", "a", "a"]), ":0\r\n");
    assert_eq!(h.run(&["EXISTS", "d"]), ":0\r\n");
    h.run(&["SET", "str", "v"]);
    assert_eq!(h.run(&["SDIFF", "nokey", "str"]), WRONGTYPE);
}

#[test]
fn sdiff_algorithm_choice_shows_in_the_stored_encoding() {
    // Checked against Redis 7.0.15. 600 integers minus five sets of 20: algorithm 2 (add
    // all, then remove) converts the temporary set on the way, so 500 survivors are a
    // hashtable; algorithm 1 builds only the survivors.
    let mut h = h();
    let mut a = vec!["SADD".to_string(), "a".to_string()];
    a.extend((0..600).map(|i| i.to_string()));
    h.run(&a.iter().map(String::as_str).collect::<Vec<_>>());
    for j in 0..5 {
        let mut b = vec!["SADD".to_string(), format!("b{j}")];
        b.extend((j * 20..j * 20 + 20).map(|i| i.to_string()));
        h.run(&b.iter().map(String::as_str).collect::<Vec<_>>());
    }
    let mut big = vec!["SADD".to_string(), "big".to_string()];
    big.extend((5..2000).map(|i| i.to_string()));
    h.run(&big.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(
        h.run(&["SDIFFSTORE", "d", "a", "b0", "b1", "b2", "b3", "b4"]),
        ":500\r\n"
    );
    assert_eq!(enc(&mut h, "d"), "hashtable");
    h.run(&["SADD", "small", "1", "2", "3000"]);
    assert_eq!(h.run(&["SDIFFSTORE", "d", "small", "big", "a"]), ":1\r\n");
    assert_eq!(enc(&mut h, "d"), "intset");
    assert_eq!(h.run(&["SDIFFSTORE", "d", "a", "big"]), ":5\r\n");
    assert_eq!(enc(&mut h, "d"), "intset");
}

#[test]
fn sscan_intset_whole_and_hashtable_by_cursor() {
    let mut h = h();
    assert_eq!(h.run(&["SSCAN", "nokey", "0"]), "*2\r\n$1\r\n0\r\n*0\r\n");
    assert_eq!(
        h.run(&["SSCAN", "nokey", "0", "bogus"]),
        "*2\r\n$1\r\n0\r\n*0\r\n"
    );
    assert_eq!(h.run(&["SSCAN", "nokey", "x"]), "-ERR invalid cursor\r\n");
    h.run(&["SADD", "i", "3", "1", "2", "10"]);
    assert_eq!(
        h.run(&["SSCAN", "i", "0", "COUNT", "1"]),
        "*2\r\n$1\r\n0\r\n*4\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n$2\r\n10\r\n"
    );
    assert_eq!(
        h.run(&["SSCAN", "i", "7", "MATCH", "1*"]),
        "*2\r\n$1\r\n0\r\n*2\r\n$1\r\n1\r\n$2\r\n10\r\n"
    );
    for bad in [
        &["SSCAN", "i", "0", "COUNT", "0"][..],
        &["SSCAN", "i", "0", "MATCH"],
        &["SSCAN", "i", "0", "TYPE", "set"],
    ] {
        assert_eq!(h.run(bad), "-ERR syntax error\r\n", "{bad:?}");
    }
    h.run(&["SET", "str", "v"]);
    assert_eq!(h.run(&["SSCAN", "str", "0"]), WRONGTYPE);

    let members: Vec<String> = (0..1000).map(|i| format!("m{i}")).collect();
    let mut args = vec!["SADD", "h"];
    args.extend(members.iter().map(String::as_str));
    h.run(&args);
    let mut seen = Vec::new();
    let mut cursor = "0".to_string();
    let mut calls = 0;
    loop {
        let r = h.run(&["SSCAN", "h", &cursor, "COUNT", "20"]);
        let mut lines = r.split("\r\n").skip(2);
        cursor = lines.next().unwrap().to_string();
        seen.extend(sorted_items(&lines.collect::<Vec<_>>().join("\r\n")));
        calls += 1;
        if cursor == "0" {
            break;
        }
    }
    assert!(calls > 10, "hashtable is scanned in steps");
    seen.sort();
    seen.dedup();
    let mut want = members.clone();
    want.sort();
    assert_eq!(seen, want);
    let r = h.run(&["SSCAN", "h", "0", "MATCH", "m99*", "COUNT", "10000"]);
    assert_eq!(
        sorted_items(&r.split("\r\n").skip(3).collect::<Vec<_>>().join("\r\n")),
        s(&[
            "m99", "m990", "m991", "m992", "m993", "m994", "m995", "m996", "m997", "m998", "m999"
        ])
    );
}

#[test]
fn writes_count_dirty_like_redis() {
    // Deltas measured on Redis 7.0.15 (INFO rdb_changes_since_last_save).
    let mut h = h();
    let cases: &[(&[&str], u64)] = &[
        (&["SADD", "a", "1", "2", "x"], 3),
        (&["SADD", "a", "1"], 0),
        (&["SADD", "b", "2", "x", "y"], 3),
        (&["SINTERSTORE", "d", "a", "b"], 1),
        (&["SINTERSTORE", "d", "a", "nokey"], 1),
        (&["SINTERSTORE", "d", "a", "nokey"], 0),
        (&["SUNIONSTORE", "d", "a", "b"], 1),
        (&["SDIFFSTORE", "d", "a", "a"], 1),
        (&["SMOVE", "a", "b", "1"], 2),
        (&["SMOVE", "a", "b", "2"], 1),
        (&["SMOVE", "a", "a", "2"], 0),
        (&["SREM", "b", "1", "2", "nope"], 2),
        (&["SPOP", "b"], 1),
        (&["SPOP", "nokey"], 0),
        (&["SISMEMBER", "b", "x"], 0),
    ];
    for (args, d) in cases {
        let before = h.engine.dirty;
        h.run(args);
        assert_eq!(h.engine.dirty - before, *d, "{args:?}");
    }
}

#[test]
fn copy_keeps_the_set_encoding() {
    let mut h = h();
    h.run(&["SADD", "i", "1", "2"]);
    h.run(&["SADD", "s", "a", "b"]);
    assert_eq!(h.run(&["COPY", "i", "i2"]), ":1\r\n");
    assert_eq!(h.run(&["COPY", "s", "s2"]), ":1\r\n");
    assert_eq!(enc(&mut h, "i2"), "intset");
    assert_eq!(enc(&mut h, "s2"), "hashtable");
    h.run(&["SADD", "s2", "c"]);
    assert_eq!(h.run(&["SCARD", "s"]), ":2\r\n");
    assert_eq!(
        sorted_items(&h.run(&["SMEMBERS", "s2"])),
        s(&["a", "b", "c"])
    );
}

/// Without an AOF or replica listening, propagation must neither copy nor accumulate
/// anything (it used to grow by one SREM batch per SPOP with a count).
#[test]
fn nothing_is_recorded_for_propagation_without_a_listener() {
    let mut h = Harness::new();
    h.stop_propagation();
    h.run(&["SADD", "s", "a", "b", "c", "d", "e", "f"]);
    h.run(&["SPOP", "s", "2"]);
    h.run(&["SET", "k", "v", "EX", "100"]);
    h.run(&["INCRBYFLOAT", "f", "1.5"]);
    assert!(h.engine.propagation.pending().is_empty());
    assert!(h.take_propagated().is_empty());
}
