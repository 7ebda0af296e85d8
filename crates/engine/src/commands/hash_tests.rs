//! Hash command tests. Expected replies were taken from Redis 7.0.15 running the same
//! commands.

use crate::commands::testkit::Harness;
use crate::object::hash::HashLimits;
use resp::Proto;
use std::collections::HashSet;

use crate::commands::testkit::reply::{NIL, NOT_FLOAT, NOT_INT, OK, SYNTAX, WRONGTYPE};
use crate::commands::testkit::script;

fn encoding(h: &mut Harness, key: &str) -> String {
    h.run(&["OBJECT", "ENCODING", key])
}

/// Parses a flat RESP2 array of bulk strings (no nesting, no nulls).
fn bulks(reply: &str) -> Vec<String> {
    let mut lines = reply.split("\r\n");
    let head = lines.next().unwrap();
    assert!(head.starts_with('*'), "not an array: {reply:?}");
    let n: usize = head[1..].parse().unwrap();
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let len = lines.next().unwrap();
        assert!(len.starts_with('$'), "not a bulk: {reply:?}");
        out.push(lines.next().unwrap().to_owned());
    }
    out
}

/// HSCAN until the cursor comes back to 0; returns (calls, fields and values).
fn hscan_all(h: &mut Harness, key: &str, extra: &[&str]) -> (usize, Vec<String>) {
    let mut cursor = "0".to_owned();
    let mut items = Vec::new();
    let mut calls = 0;
    loop {
        let mut args = vec!["HSCAN", key, cursor.as_str()];
        args.extend_from_slice(extra);
        let r = h.run(&args);
        calls += 1;
        // *2 $n cursor *m items...
        let mut lines = r.split("\r\n");
        assert_eq!(lines.next(), Some("*2"), "{r:?}");
        lines.next();
        let next = lines.next().unwrap().to_owned();
        let rest: Vec<&str> = lines.collect();
        items.extend(bulks(&rest.join("\r\n")));
        cursor = next;
        if cursor == "0" {
            return (calls, items);
        }
        assert!(calls < 100_000, "HSCAN does not terminate");
    }
}

#[test]
fn hset_hget_and_arity() {
    let mut h = Harness::new();
    script(
        &mut h,
        &[
            (&["HSET", "h", "a", "1", "b", "2"], ":2\r\n"),
            (&["HSET", "h", "a", "x", "c", "3", "c", "4"], ":1\r\n"),
            (&["HGET", "h", "a"], "$1\r\nx\r\n"),
            (&["HGET", "h", "c"], "$1\r\n4\r\n"),
            (&["HGET", "h", "zz"], NIL),
            (&["HGET", "nokey", "a"], NIL),
            (&["HMSET", "h", "d", "5"], OK),
            (&["HLEN", "h"], ":4\r\n"),
            (
                &["HSET", "h", "a"],
                "-ERR wrong number of arguments for 'hset' command\r\n",
            ),
            (
                &["HSET", "h", "a", "1", "b"],
                "-ERR wrong number of arguments for 'hset' command\r\n",
            ),
            (
                &["HMSET", "h", "a", "1", "b"],
                "-ERR wrong number of arguments for 'hmset' command\r\n",
            ),
            (&["HLEN", "h"], ":4\r\n"),
            (&["TYPE", "h"], "+hash\r\n"),
        ],
    );
    // A failed HSET on a missing key leaves nothing behind.
    h.run(&["HSET", "new", "a"]);
    assert_eq!(h.run(&["EXISTS", "new"]), ":0\r\n");
}

#[test]
fn hsetnx_sets_only_new_fields() {
    let mut h = Harness::new();
    let d0 = h.engine.dirty;
    script(
        &mut h,
        &[
            (&["HSETNX", "h", "a", "1"], ":1\r\n"),
            (&["HSETNX", "h", "a", "2"], ":0\r\n"),
            (&["HGET", "h", "a"], "$1\r\n1\r\n"),
        ],
    );
    assert_eq!(h.engine.dirty - d0, 1, "a refused HSETNX is no write");
}

#[test]
fn hmget_hlen_hstrlen_hexists() {
    let mut h = Harness::new();
    h.run(&["HSET", "h", "a", "hello", "n", "-12345"]);
    script(
        &mut h,
        &[
            (
                &["HMGET", "h", "a", "x", "n"],
                "*3\r\n$5\r\nhello\r\n$-1\r\n$6\r\n-12345\r\n",
            ),
            (&["HMGET", "nokey", "a", "b"], "*2\r\n$-1\r\n$-1\r\n"),
            (&["HSTRLEN", "h", "a"], ":5\r\n"),
            // Stored as a listpack integer, measured as its text.
            (&["HSTRLEN", "h", "n"], ":6\r\n"),
            (&["HSTRLEN", "h", "x"], ":0\r\n"),
            (&["HSTRLEN", "nokey", "x"], ":0\r\n"),
            (&["HEXISTS", "h", "a"], ":1\r\n"),
            (&["HEXISTS", "h", "x"], ":0\r\n"),
            (&["HEXISTS", "nokey", "x"], ":0\r\n"),
            (&["HLEN", "nokey"], ":0\r\n"),
        ],
    );
    h.session.proto = Proto::Resp3;
    assert_eq!(h.run(&["HMGET", "nokey", "a", "b"]), "*2\r\n_\r\n_\r\n");
    assert_eq!(h.run(&["HGET", "nokey", "a"]), "_\r\n");
}

#[test]
fn hdel_counts_and_deletes_the_emptied_key() {
    let mut h = Harness::new();
    h.run(&["HSET", "h", "a", "1", "b", "2", "c", "3"]);
    let d0 = h.engine.dirty;
    script(
        &mut h,
        &[
            (&["HDEL", "h", "a", "zz", "a"], ":1\r\n"),
            (&["HDEL", "nokey", "a"], ":0\r\n"),
            (&["HDEL", "h", "zz"], ":0\r\n"),
            (&["HDEL", "h", "b", "c", "b"], ":2\r\n"),
            (&["EXISTS", "h"], ":0\r\n"),
        ],
    );
    assert_eq!(h.engine.dirty - d0, 3);
    // The same in the hashtable encoding.
    h.engine.config.hash_limits.max_listpack_entries = 1;
    h.run(&["HSET", "t", "a", "1", "b", "2"]);
    assert_eq!(encoding(&mut h, "t"), "$9\r\nhashtable\r\n");
    assert_eq!(h.run(&["HDEL", "t", "a", "b", "c"]), ":2\r\n");
    assert_eq!(h.run(&["EXISTS", "t"]), ":0\r\n");
}

#[test]
fn hgetall_hkeys_hvals_in_insertion_order() {
    let mut h = Harness::new();
    h.run(&["HSET", "h", "b", "1", "a", "2"]);
    h.run(&["HSET", "h", "b", "3"]);
    script(
        &mut h,
        &[
            (
                &["HGETALL", "h"],
                "*4\r\n$1\r\nb\r\n$1\r\n3\r\n$1\r\na\r\n$1\r\n2\r\n",
            ),
            (&["HKEYS", "h"], "*2\r\n$1\r\nb\r\n$1\r\na\r\n"),
            (&["HVALS", "h"], "*2\r\n$1\r\n3\r\n$1\r\n2\r\n"),
            (&["HGETALL", "nokey"], "*0\r\n"),
            (&["HKEYS", "nokey"], "*0\r\n"),
            (&["HVALS", "nokey"], "*0\r\n"),
        ],
    );
    h.session.proto = Proto::Resp3;
    script(
        &mut h,
        &[
            (
                &["HGETALL", "h"],
                "%2\r\n$1\r\nb\r\n$1\r\n3\r\n$1\r\na\r\n$1\r\n2\r\n",
            ),
            (&["HGETALL", "nokey"], "%0\r\n"),
            (&["HKEYS", "nokey"], "*0\r\n"),
        ],
    );
}

#[test]
fn hgetall_of_a_hashtable_returns_every_pair() {
    let mut h = Harness::new();
    for i in 0..600 {
        h.run(&["HSET", "h", &format!("f{i}"), &format!("v{i}")]);
    }
    assert_eq!(encoding(&mut h, "h"), "$9\r\nhashtable\r\n");
    let items = bulks(&h.run(&["HGETALL", "h"]));
    assert_eq!(items.len(), 1200);
    let pairs: HashSet<(String, String)> = items
        .chunks(2)
        .map(|p| (p[0].clone(), p[1].clone()))
        .collect();
    for i in 0..600 {
        assert!(pairs.contains(&(format!("f{i}"), format!("v{i}"))));
    }
    assert_eq!(bulks(&h.run(&["HKEYS", "h"])).len(), 600);
    assert_eq!(bulks(&h.run(&["HVALS", "h"])).len(), 600);
}

#[test]
fn hincrby() {
    let mut h = Harness::new();
    script(
        &mut h,
        &[
            (&["HINCRBY", "h", "n", "5"], ":5\r\n"),
            (&["HINCRBY", "h", "n", "-7"], ":-2\r\n"),
            (&["HGET", "h", "n"], "$2\r\n-2\r\n"),
            (&["HSET", "h", "s", "hello", "f", "1.5"], ":2\r\n"),
            (
                &["HINCRBY", "h", "s", "1"],
                "-ERR hash value is not an integer\r\n",
            ),
            (
                &["HINCRBY", "h", "f", "1"],
                "-ERR hash value is not an integer\r\n",
            ),
            (&["HINCRBY", "h", "n", "x"], NOT_INT),
            (&["HSET", "h", "big", "9223372036854775807"], ":1\r\n"),
            (
                &["HINCRBY", "h", "big", "1"],
                "-ERR increment or decrement would overflow\r\n",
            ),
            (&["HINCRBY", "h", "big", "-1"], ":9223372036854775806\r\n"),
            (&["HSET", "h", "small", "-9223372036854775808"], ":1\r\n"),
            (
                &["HINCRBY", "h", "small", "-1"],
                "-ERR increment or decrement would overflow\r\n",
            ),
            (
                &["HINCRBY", "h", "new", "9223372036854775807"],
                ":9223372036854775807\r\n",
            ),
            // The increment is parsed before the key is looked at.
            (&["HINCRBY", "nokey", "n", "1.0"], NOT_INT),
            (&["EXISTS", "nokey"], ":0\r\n"),
        ],
    );
}

#[test]
fn hincrbyfloat_long_double_and_propagation() {
    let mut h = Harness::new();
    script(
        &mut h,
        &[
            (&["HSET", "h", "a", "10.5", "i", "3", "s", "x"], ":3\r\n"),
            (&["HINCRBYFLOAT", "h", "a", "0.1"], "$4\r\n10.6\r\n"),
            (
                &["HINCRBYFLOAT", "h", "a", "5.0e3"],
                "$22\r\n5010.60000000000000009\r\n",
            ),
            (&["HINCRBYFLOAT", "h", "i", "0.5"], "$3\r\n3.5\r\n"),
            (&["HINCRBYFLOAT", "h", "new", "-1.25"], "$5\r\n-1.25\r\n"),
            (
                &["HINCRBYFLOAT", "h", "s", "1"],
                "-ERR hash value is not a float\r\n",
            ),
            (&["HINCRBYFLOAT", "h", "a", "abc"], NOT_FLOAT),
            (&["HINCRBYFLOAT", "h", "a", "1e4933"], NOT_FLOAT),
            (
                &["HINCRBYFLOAT", "h", "a", "inf"],
                "-ERR value is NaN or Infinity\r\n",
            ),
            (
                &["HINCRBYFLOAT", "nokey", "a", "-inf"],
                "-ERR value is NaN or Infinity\r\n",
            ),
            (&["EXISTS", "nokey"], ":0\r\n"),
            (&["HSET", "h", "huge", "1.1e4932"], ":1\r\n"),
            (
                &["HINCRBYFLOAT", "h", "huge", "1.1e4932"],
                "-ERR increment would produce NaN or Infinity\r\n",
            ),
        ],
    );
    h.take_propagated();
    h.run(&["HINCRBYFLOAT", "h", "i", "1"]);
    let argv = h.last_propagated().expect("rewritten");
    assert_eq!(
        argv,
        vec![
            b"HSET".to_vec(),
            b"h".to_vec(),
            b"i".to_vec(),
            b"4.5".to_vec()
        ]
    );
}

#[test]
fn wrongtype_everywhere() {
    let mut h = Harness::new();
    h.run(&["SET", "s", "x"]);
    let cmds: &[&[&str]] = &[
        &["HSET", "s", "a", "1"],
        &["HMSET", "s", "a", "1"],
        &["HSETNX", "s", "a", "1"],
        &["HGET", "s", "a"],
        &["HMGET", "s", "a"],
        &["HDEL", "s", "a"],
        &["HLEN", "s"],
        &["HSTRLEN", "s", "a"],
        &["HEXISTS", "s", "a"],
        &["HKEYS", "s"],
        &["HVALS", "s"],
        &["HGETALL", "s"],
        &["HINCRBY", "s", "a", "1"],
        &["HINCRBYFLOAT", "s", "a", "1"],
        &["HRANDFIELD", "s"],
        &["HRANDFIELD", "s", "0"],
        &["HSCAN", "s", "0", "COUNT", "0"],
    ];
    for c in cmds {
        assert_eq!(h.run(c), WRONGTYPE, "{c:?}");
    }
    assert_eq!(h.run(&["GET", "s"]), "$1\r\nx\r\n");
}

#[test]
fn listpack_to_hashtable_at_513_entries() {
    let mut h = Harness::new();
    for i in 0..512 {
        h.run(&["HSET", "h", &format!("f{i}"), "v"]);
    }
    assert_eq!(encoding(&mut h, "h"), "$8\r\nlistpack\r\n");
    // Updating an existing field does not grow the hash.
    h.run(&["HSET", "h", "f0", "w"]);
    assert_eq!(encoding(&mut h, "h"), "$8\r\nlistpack\r\n");
    h.run(&["HSET", "h", "f512", "v"]);
    assert_eq!(encoding(&mut h, "h"), "$9\r\nhashtable\r\n");
    assert_eq!(h.run(&["HLEN", "h"]), ":513\r\n");
    assert_eq!(h.run(&["HGET", "h", "f0"]), "$1\r\nw\r\n");
    // Never converted back.
    for i in 0..510 {
        h.run(&["HDEL", "h", &format!("f{i}")]);
    }
    assert_eq!(h.run(&["HLEN", "h"]), ":3\r\n");
    assert_eq!(encoding(&mut h, "h"), "$9\r\nhashtable\r\n");
    // HSETNX, HINCRBY and HINCRBYFLOAT convert by entry count as well.
    for (i, cmd) in ["HSETNX", "HINCRBY", "HINCRBYFLOAT"].iter().enumerate() {
        let key = format!("k{i}");
        for j in 0..513 {
            h.run(&[cmd, &key, &format!("f{j}"), "1"]);
            let want = if j < 512 { "listpack" } else { "hashtable" };
            assert!(encoding(&mut h, &key).contains(want), "{cmd} at {j}");
        }
    }
}

#[test]
fn listpack_to_hashtable_on_65_byte_field_or_value() {
    let mut h = Harness::new();
    let b64 = "x".repeat(64);
    let b65 = "x".repeat(65);
    h.run(&["HSET", "v", "a", &b64]);
    h.run(&["HSET", "v", &b64, "a"]);
    assert_eq!(encoding(&mut h, "v"), "$8\r\nlistpack\r\n");
    h.run(&["HSET", "v", "b", &b65]);
    assert_eq!(encoding(&mut h, "v"), "$9\r\nhashtable\r\n");
    assert_eq!(h.run(&["HSTRLEN", "v", "b"]), ":65\r\n");
    assert_eq!(h.run(&["HLEN", "v"]), ":3\r\n");

    h.run(&["HSET", "f", &b65, "1"]);
    assert_eq!(encoding(&mut h, "f"), "$9\r\nhashtable\r\n");
    // HMSET checks every argument before writing any.
    h.run(&["HMSET", "m", "a", "1", "b", &b65]);
    assert_eq!(encoding(&mut h, "m"), "$9\r\nhashtable\r\n");
    // HSETNX on an existing field writes nothing, so nothing converts.
    h.run(&["HSET", "nx", "a", "1"]);
    h.run(&["HSETNX", "nx", "a", &b65]);
    assert_eq!(encoding(&mut h, "nx"), "$8\r\nlistpack\r\n");
    h.run(&["HSETNX", "nx", "b", &b65]);
    assert_eq!(encoding(&mut h, "nx"), "$9\r\nhashtable\r\n");
    // HINCRBY with a long field, HINCRBYFLOAT producing a long value.
    h.run(&["HSET", "i", "a", "1"]);
    h.run(&["HINCRBY", "i", &b65, "1"]);
    assert_eq!(encoding(&mut h, "i"), "$9\r\nhashtable\r\n");
    h.run(&["HSET", "fl", "a", "1"]);
    let r = h.run(&["HINCRBYFLOAT", "fl", "a", "1e100"]);
    assert!(r.starts_with("$100\r\n99999999999999999996"), "{r:?}");
    assert_eq!(encoding(&mut h, "fl"), "$9\r\nhashtable\r\n");
}

#[test]
fn thresholds_follow_the_live_config() {
    let mut h = Harness::new();
    h.run(&["HSET", "a", "f1", "v", "f2", "v", "f3", "v"]);
    h.engine.config.hash_limits = HashLimits {
        max_listpack_entries: 2,
        max_listpack_value: 64,
    };
    // The existing listpack is not touched until the next write decides; an update of an
    // existing field decides too, as in Redis (HSETNX of an existing field writes nothing).
    assert_eq!(encoding(&mut h, "a"), "$8\r\nlistpack\r\n");
    h.run(&["HSETNX", "a", "f1", "w"]);
    assert_eq!(encoding(&mut h, "a"), "$8\r\nlistpack\r\n");
    h.run(&["HSET", "a", "f1", "w"]);
    assert_eq!(encoding(&mut h, "a"), "$9\r\nhashtable\r\n");
    h.engine.config.hash_limits = HashLimits {
        max_listpack_entries: 512,
        max_listpack_value: 2,
    };
    h.run(&["HSET", "b", "abc", "1"]);
    assert_eq!(encoding(&mut h, "b"), "$9\r\nhashtable\r\n");
    // Entries 0: every hash is a table from its first field.
    h.engine.config.hash_limits.max_listpack_entries = 0;
    h.run(&["HSET", "c", "a", "1"]);
    assert_eq!(encoding(&mut h, "c"), "$9\r\nhashtable\r\n");
}

#[test]
fn hrandfield_without_count() {
    let mut h = Harness::new();
    assert_eq!(h.run(&["HRANDFIELD", "nokey"]), NIL);
    h.run(&["HSET", "h", "a", "1", "b", "2", "c", "3"]);
    let mut seen = HashSet::new();
    for _ in 0..300 {
        let r = h.run(&["HRANDFIELD", "h"]);
        seen.insert(r);
    }
    let want: HashSet<String> = ["a", "b", "c"]
        .iter()
        .map(|f| format!("$1\r\n{f}\r\n"))
        .collect();
    assert_eq!(seen, want);
    h.session.proto = Proto::Resp3;
    assert_eq!(h.run(&["HRANDFIELD", "nokey"]), "_\r\n");
}

#[test]
fn hrandfield_argument_errors() {
    let mut h = Harness::new();
    h.run(&["HSET", "h", "a", "1"]);
    script(
        &mut h,
        &[
            (&["HRANDFIELD", "h", "x"], NOT_INT),
            (
                &["HRANDFIELD", "h", "-9223372036854775808"],
                "-ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807\r\n",
            ),
            (
                &["HRANDFIELD", "h", "4611686018427387904", "WITHVALUES"],
                "-ERR value is out of range\r\n",
            ),
            (
                &["HRANDFIELD", "h", "-4611686018427387904", "withvalues"],
                "-ERR value is out of range\r\n",
            ),
            (&["HRANDFIELD", "h", "1", "withvalue"], SYNTAX),
            (&["HRANDFIELD", "h", "1", "withvalues", "x"], SYNTAX),
            // Argument errors come before the key lookup.
            (&["HRANDFIELD", "nokey", "1", "x"], SYNTAX),
            (&["HRANDFIELD", "nokey", "1"], "*0\r\n"),
            (&["HRANDFIELD", "h", "0"], "*0\r\n"),
            (&["HRANDFIELD", "h", "0", "WITHVALUES"], "*0\r\n"),
            (
                &["HRANDFIELD", "h", "4611686018427387903", "WITHVALUES"],
                "*2\r\n$1\r\na\r\n$1\r\n1\r\n",
            ),
        ],
    );
}

/// Checks one HRANDFIELD-with-count reply from a hash whose fields are `f<i>` → `v<i>`.
fn check_hrandfield(h: &mut Harness, count: i64, withvalues: bool, size: usize) {
    let c = count.to_string();
    let mut args = vec!["HRANDFIELD", "h", c.as_str()];
    if withvalues {
        args.push("WITHVALUES");
    }
    let items = bulks(&h.run(&args));
    let want_len = if count < 0 {
        count.unsigned_abs() as usize
    } else {
        (count as usize).min(size)
    };
    let fields: Vec<&String> = if withvalues {
        assert_eq!(items.len(), want_len * 2, "{args:?}");
        for p in items.chunks(2) {
            assert_eq!(p[0][1..], p[1][1..], "value belongs to field: {args:?}");
        }
        items.iter().step_by(2).collect()
    } else {
        assert_eq!(items.len(), want_len, "{args:?}");
        items.iter().collect()
    };
    for f in &fields {
        let i: usize = f[1..].parse().unwrap();
        assert!(f.starts_with('f') && i < size, "{f}");
    }
    if count > 0 {
        let distinct: HashSet<&&String> = fields.iter().collect();
        assert_eq!(distinct.len(), fields.len(), "distinct: {args:?}");
    }
}

#[test]
fn hrandfield_with_count_both_encodings() {
    for size in [10usize, 600] {
        let mut h = Harness::new();
        for i in 0..size {
            h.run(&["HSET", "h", &format!("f{i}"), &format!("v{i}")]);
        }
        // Every case: negative, 1, few (case 4), most (case 3), all and more (case 2).
        for count in [
            -5i64,
            -1,
            1,
            2,
            3,
            7,
            size as i64 - 1,
            size as i64,
            size as i64 + 5,
        ] {
            for withvalues in [false, true] {
                check_hrandfield(&mut h, count, withvalues, size);
            }
        }
        // Negative counts repeat: more draws than fields.
        check_hrandfield(&mut h, -(3 * size as i64), false, size);
    }
}

#[test]
fn hrandfield_resp3_pairs_are_nested() {
    let mut h = Harness::new();
    h.run(&["HSET", "h", "a", "1"]);
    h.session.proto = Proto::Resp3;
    let pair = "*2\r\n$1\r\na\r\n$1\r\n1\r\n";
    assert_eq!(
        h.run(&["HRANDFIELD", "h", "2", "WITHVALUES"]),
        format!("*1\r\n{pair}")
    );
    assert_eq!(
        h.run(&["HRANDFIELD", "h", "-2", "WITHVALUES"]),
        format!("*2\r\n{pair}{pair}")
    );
    assert_eq!(
        h.run(&["HRANDFIELD", "h", "-2"]),
        "*2\r\n$1\r\na\r\n$1\r\na\r\n"
    );
}

#[test]
fn hscan_listpack_returns_everything_at_once() {
    let mut h = Harness::new();
    h.run(&["HSET", "h", "a", "1", "b", "2", "ab", "3"]);
    script(
        &mut h,
        &[
            (
                &["HSCAN", "h", "0"],
                "*2\r\n$1\r\n0\r\n*6\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n$2\r\nab\r\n$1\r\n3\r\n",
            ),
            (
                &["HSCAN", "h", "0", "MATCH", "a*", "COUNT", "1"],
                "*2\r\n$1\r\n0\r\n*4\r\n$1\r\na\r\n$1\r\n1\r\n$2\r\nab\r\n$1\r\n3\r\n",
            ),
            // MATCH looks at fields only, never at values.
            (
                &["HSCAN", "h", "0", "MATCH", "1"],
                "*2\r\n$1\r\n0\r\n*0\r\n",
            ),
            (&["HSCAN", "h", "0", "COUNT", "0"], SYNTAX),
            (&["HSCAN", "h", "0", "TYPE", "hash"], SYNTAX),
            (&["HSCAN", "h", "0", "MATCH"], SYNTAX),
            (&["HSCAN", "h", "x"], "-ERR invalid cursor\r\n"),
            (&["HSCAN", "nokey", "x"], "-ERR invalid cursor\r\n"),
            // Options are not parsed for a missing key.
            (
                &["HSCAN", "nokey", "0", "COUNT", "0"],
                "*2\r\n$1\r\n0\r\n*0\r\n",
            ),
        ],
    );
    // Integer fields match by their text.
    h.run(&["HSET", "n", "123", "x", "45", "y"]);
    assert_eq!(
        h.run(&["HSCAN", "n", "0", "MATCH", "1*"]),
        "*2\r\n$1\r\n0\r\n*2\r\n$3\r\n123\r\n$1\r\nx\r\n"
    );
}

#[test]
fn hscan_hashtable_visits_every_field() {
    let mut h = Harness::new();
    for i in 0..1000 {
        h.run(&["HSET", "h", &format!("f{i}"), &format!("v{i}")]);
    }
    let (calls, items) = hscan_all(&mut h, "h", &[]);
    assert!(calls > 1, "a table is scanned in steps");
    let fields: HashSet<String> = items.chunks(2).map(|p| p[0].clone()).collect();
    assert_eq!(fields.len(), 1000);
    for p in items.chunks(2) {
        assert_eq!(p[0][1..], p[1][1..]);
    }
    let (_, items) = hscan_all(&mut h, "h", &["MATCH", "f99*", "COUNT", "50"]);
    let fields: HashSet<String> = items.chunks(2).map(|p| p[0].clone()).collect();
    let want: HashSet<String> = ["f99".to_owned()]
        .into_iter()
        .chain((0..10).map(|i| format!("f99{i}")))
        .collect();
    assert_eq!(fields, want);
    // A huge COUNT returns everything in one call.
    let (calls, items) = hscan_all(&mut h, "h", &["COUNT", "100000"]);
    assert_eq!((calls, items.len()), (1, 2000));
}

#[test]
fn dirty_counts_like_redis() {
    let mut h = Harness::new();
    let cases: &[(&[&str], u64)] = &[
        (&["HSET", "h", "a", "1", "b", "2", "a", "3"], 3),
        (&["HMSET", "h", "c", "1"], 1),
        (&["HSETNX", "h", "a", "1"], 0),
        (&["HSETNX", "h", "d", "1"], 1),
        (&["HINCRBY", "h", "a", "1"], 1),
        (&["HINCRBYFLOAT", "h", "a", "1"], 1),
        (&["HDEL", "h", "a", "b", "zz"], 2),
        (&["HDEL", "h", "zz"], 0),
        (&["HGET", "h", "c"], 0),
    ];
    for (args, d) in cases {
        let before = h.engine.dirty;
        h.run(args);
        assert_eq!(h.engine.dirty - before, *d, "{args:?}");
    }
}

#[test]
fn generic_key_commands_on_hashes() {
    for entries in [512, 1] {
        let mut h = Harness::new();
        h.engine.config.hash_limits.max_listpack_entries = entries;
        h.run(&["HSET", "h", "a", "1", "b", "2"]);
        let enc = encoding(&mut h, "h");
        script(
            &mut h,
            &[
                (&["TYPE", "h"], "+hash\r\n"),
                (&["COPY", "h", "c"], ":1\r\n"),
                (&["HSET", "h", "a", "changed"], ":0\r\n"),
                (&["HGET", "c", "a"], "$1\r\n1\r\n"),
                (&["RENAME", "c", "r"], OK),
                (&["HLEN", "r"], ":2\r\n"),
                (&["MOVE", "r", "1"], ":1\r\n"),
                (&["EXISTS", "r"], ":0\r\n"),
                (
                    &["SCAN", "0", "TYPE", "hash"],
                    "*2\r\n$1\r\n0\r\n*1\r\n$1\r\nh\r\n",
                ),
                (&["SCAN", "0", "TYPE", "string"], "*2\r\n$1\r\n0\r\n*0\r\n"),
            ],
        );
        assert_eq!(encoding(&mut h, "h"), enc);
        h.run(&["SELECT", "1"]);
        assert_eq!(encoding(&mut h, "r"), enc, "COPY keeps the encoding");
        assert_eq!(h.run(&["HGET", "r", "b"]), "$1\r\n2\r\n");
    }
}

#[test]
fn keyspace_events_like_redis() {
    let mut h = Harness::new();
    h.engine.config.notify_keyspace_events = crate::notify::parse_flags(b"KEA").unwrap();
    // Events as Redis 7.0.15 publishes them for the same commands (none for a no-op).
    let cases: &[(&[&str], &[&str])] = &[
        (&["HSET", "h", "a", "1", "b", "2"], &["hset"]),
        (&["HMSET", "h", "c", "1"], &["hset"]),
        (&["HSETNX", "h", "a", "1"], &[]),
        (&["HSETNX", "h", "d", "1"], &["hset"]),
        (&["HINCRBY", "h", "n", "1"], &["hincrby"]),
        (&["HINCRBYFLOAT", "h", "n", "1.5"], &["hincrbyfloat"]),
        (&["HINCRBY", "h", "n", "x"], &[]),
        (&["HDEL", "h", "zz"], &[]),
        (&["HDEL", "h", "a", "b"], &["hdel"]),
        (&["HGET", "h", "c"], &[]),
        (&["HDEL", "h", "c", "d", "n"], &["hdel", "del"]),
    ];
    for (args, want) in cases {
        h.engine.notifications.clear();
        h.run(args);
        let q = &h.engine.notifications;
        let got: Vec<&str> = (0..q.len())
            .map(|i| {
                let (e, key) = q.get(i);
                assert_eq!((e.db, key), (0, &b"h"[..]), "{args:?}");
                e.event
            })
            .collect();
        assert_eq!(got, *want, "{args:?}");
    }
}
