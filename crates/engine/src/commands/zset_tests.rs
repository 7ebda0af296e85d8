//! In-process tests of the sorted-set commands: replies (RESP2 and RESP3), errors in Redis's
//! order, encodings and their conversion, dirty counts and propagation.

use super::super::testkit::Harness;
use crate::engine::EngineConfig;
use crate::object::zset::ZLimits;
use resp::Proto;

fn h() -> Harness {
    Harness::new()
}

/// Runs and returns the reply.
fn r(h: &mut Harness, args: &[&str]) -> String {
    h.run(args)
}

fn enc(h: &mut Harness, key: &str) -> String {
    h.run(&["OBJECT", "ENCODING", key])
}

/// Both encodings: listpack by default, skiplist with the thresholds at 0/1.
fn both() -> Vec<Harness> {
    let small = EngineConfig {
        zset_limits: ZLimits {
            max_entries: 0,
            max_value: 0,
        },
        ..Default::default()
    };
    vec![Harness::new(), Harness::with_config(small)]
}

#[test]
fn zadd_basic_and_options() {
    for mut h in both() {
        assert_eq!(r(&mut h, &["ZADD", "z", "1", "a", "2", "b"]), ":2\r\n");
        assert_eq!(r(&mut h, &["ZADD", "z", "1", "a", "3", "c"]), ":1\r\n");
        assert_eq!(
            r(&mut h, &["ZADD", "z", "CH", "5", "a", "3", "c"]),
            ":1\r\n"
        );
        assert_eq!(
            r(&mut h, &["ZADD", "z", "NX", "9", "a", "4", "d"]),
            ":1\r\n"
        );
        assert_eq!(r(&mut h, &["ZSCORE", "z", "a"]), "$1\r\n5\r\n");
        assert_eq!(
            r(&mut h, &["ZADD", "z", "XX", "CH", "6", "a", "7", "e"]),
            ":1\r\n"
        );
        assert_eq!(r(&mut h, &["ZSCORE", "z", "e"]), "$-1\r\n");
        assert_eq!(r(&mut h, &["ZADD", "z", "GT", "CH", "1", "a"]), ":0\r\n");
        assert_eq!(r(&mut h, &["ZADD", "z", "LT", "CH", "1", "a"]), ":1\r\n");
        assert_eq!(
            r(&mut h, &["ZADD", "z", "INCR", "2.5", "a"]),
            "$3\r\n3.5\r\n"
        );
        assert_eq!(
            r(&mut h, &["ZADD", "z", "NX", "INCR", "2.5", "a"]),
            "$-1\r\n"
        );
        assert_eq!(r(&mut h, &["ZADD", "nokey", "XX", "1", "a"]), ":0\r\n");
        assert_eq!(r(&mut h, &["EXISTS", "nokey"]), ":0\r\n");
        assert_eq!(r(&mut h, &["ZCARD", "z"]), ":4\r\n");
    }
}

#[test]
fn zadd_errors_in_redis_order() {
    let mut h = h();
    assert_eq!(
        r(&mut h, &["ZADD", "z", "1", "a", "2"]),
        "-ERR syntax error\r\n"
    );
    assert_eq!(
        r(&mut h, &["ZADD", "z", "NX", "XX", "1", "a"]),
        "-ERR XX and NX options at the same time are not compatible\r\n"
    );
    assert_eq!(
        r(&mut h, &["ZADD", "z", "NX", "GT", "1", "a"]),
        "-ERR GT, LT, and/or NX options at the same time are not compatible\r\n"
    );
    assert_eq!(
        r(&mut h, &["ZADD", "z", "GT", "LT", "1", "a"]),
        "-ERR GT, LT, and/or NX options at the same time are not compatible\r\n"
    );
    assert_eq!(
        r(&mut h, &["ZADD", "z", "INCR", "1", "a", "2", "b"]),
        "-ERR INCR option supports a single increment-element pair\r\n"
    );
    assert_eq!(
        r(&mut h, &["ZADD", "z", "1", "a", "x", "b"]),
        "-ERR value is not a valid float\r\n"
    );
    assert_eq!(
        r(&mut h, &["ZADD", "z", "nan", "a"]),
        "-ERR value is not a valid float\r\n"
    );
    assert_eq!(r(&mut h, &["EXISTS", "z"]), ":0\r\n");
    r(&mut h, &["ZADD", "z", "inf", "a"]);
    assert_eq!(
        r(&mut h, &["ZINCRBY", "z", "-inf", "a"]),
        "-ERR resulting score is not a number (NaN)\r\n"
    );
    assert_eq!(r(&mut h, &["ZSCORE", "z", "a"]), "$3\r\ninf\r\n");
    r(&mut h, &["SET", "s", "x"]);
    assert_eq!(
        r(&mut h, &["ZADD", "s", "1", "a"]),
        "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
    );
}

#[test]
fn encoding_converts_at_thresholds() {
    let mut h = h();
    for i in 0..128 {
        r(&mut h, &["ZADD", "z", &i.to_string(), &format!("m{i}")]);
    }
    assert_eq!(enc(&mut h, "z"), "$8\r\nlistpack\r\n");
    r(&mut h, &["ZADD", "z", "1000", "last"]);
    assert_eq!(enc(&mut h, "z"), "$8\r\nskiplist\r\n");
    assert_eq!(r(&mut h, &["ZRANK", "z", "last"]), ":128\r\n");
    assert_eq!(r(&mut h, &["ZRANK", "z", "m5"]), ":5\r\n");
    let long = "x".repeat(65);
    r(&mut h, &["ZADD", "y", "1", "a"]);
    r(&mut h, &["ZADD", "y", "1", &long]);
    assert_eq!(enc(&mut h, "y"), "$8\r\nskiplist\r\n");
    // A store result small enough goes back to listpack.
    assert_eq!(r(&mut h, &["ZRANGESTORE", "d", "z", "0", "2"]), ":3\r\n");
    assert_eq!(enc(&mut h, "d"), "$8\r\nlistpack\r\n");
    assert_eq!(r(&mut h, &["ZUNIONSTORE", "u", "1", "z"]), ":129\r\n");
    assert_eq!(enc(&mut h, "u"), "$8\r\nskiplist\r\n");
    assert_eq!(r(&mut h, &["ZINTERSTORE", "i", "2", "z", "d"]), ":3\r\n");
    assert_eq!(enc(&mut h, "i"), "$8\r\nlistpack\r\n");
}

#[test]
fn listpack_order_by_score_then_member() {
    let mut h = h();
    r(
        &mut h,
        &[
            "ZADD", "z", "2", "b", "1", "c", "2", "a", "-1.5", "d", "1e20", "e",
        ],
    );
    assert_eq!(
        r(&mut h, &["ZRANGE", "z", "0", "-1", "WITHSCORES"]),
        "*10\r\n$1\r\nd\r\n$4\r\n-1.5\r\n$1\r\nc\r\n$1\r\n1\r\n$1\r\na\r\n$1\r\n2\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\ne\r\n$5\r\n1e+20\r\n"
    );
}

#[test]
fn ranges_by_rank_score_lex() {
    for mut h in both() {
        r(
            &mut h,
            &[
                "ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e",
            ],
        );
        assert_eq!(
            r(&mut h, &["ZRANGE", "z", "1", "2"]),
            "*2\r\n$1\r\nb\r\n$1\r\nc\r\n"
        );
        assert_eq!(
            r(&mut h, &["ZRANGE", "z", "-2", "100"]),
            "*2\r\n$1\r\nd\r\n$1\r\ne\r\n"
        );
        assert_eq!(r(&mut h, &["ZRANGE", "z", "3", "1"]), "*0\r\n");
        assert_eq!(
            r(&mut h, &["ZREVRANGE", "z", "0", "1"]),
            "*2\r\n$1\r\ne\r\n$1\r\nd\r\n"
        );
        assert_eq!(
            r(&mut h, &["ZRANGE", "z", "0", "0", "REV"]),
            "*1\r\n$1\r\ne\r\n"
        );
        assert_eq!(
            r(&mut h, &["ZRANGEBYSCORE", "z", "(1", "3"]),
            "*2\r\n$1\r\nb\r\n$1\r\nc\r\n"
        );
        assert_eq!(
            r(
                &mut h,
                &["ZRANGEBYSCORE", "z", "-inf", "+inf", "LIMIT", "1", "2"]
            ),
            "*2\r\n$1\r\nb\r\n$1\r\nc\r\n"
        );
        assert_eq!(
            r(
                &mut h,
                &["ZRANGEBYSCORE", "z", "-inf", "+inf", "LIMIT", "-1", "2"]
            ),
            "*0\r\n"
        );
        assert_eq!(
            r(
                &mut h,
                &["ZRANGEBYSCORE", "z", "-inf", "+inf", "LIMIT", "3", "-1"]
            ),
            "*2\r\n$1\r\nd\r\n$1\r\ne\r\n"
        );
        assert_eq!(
            r(&mut h, &["ZREVRANGEBYSCORE", "z", "4", "(2", "WITHSCORES"]),
            "*4\r\n$1\r\nd\r\n$1\r\n4\r\n$1\r\nc\r\n$1\r\n3\r\n"
        );
        assert_eq!(
            r(&mut h, &["ZRANGE", "z", "(4", "+inf", "BYSCORE", "REV"]),
            "*0\r\n"
        );
        assert_eq!(
            r(&mut h, &["ZRANGE", "z", "+inf", "(4", "BYSCORE", "REV"]),
            "*1\r\n$1\r\ne\r\n"
        );
        assert_eq!(r(&mut h, &["ZCOUNT", "z", "(1", "(5"]), ":3\r\n");
        r(
            &mut h,
            &["ZADD", "l", "0", "a", "0", "b", "0", "c", "0", "d"],
        );
        assert_eq!(
            r(&mut h, &["ZRANGEBYLEX", "l", "[b", "(d"]),
            "*2\r\n$1\r\nb\r\n$1\r\nc\r\n"
        );
        assert_eq!(
            r(
                &mut h,
                &["ZREVRANGEBYLEX", "l", "+", "-", "LIMIT", "1", "2"]
            ),
            "*2\r\n$1\r\nc\r\n$1\r\nb\r\n"
        );
        assert_eq!(r(&mut h, &["ZLEXCOUNT", "l", "-", "(c"]), ":2\r\n");
        assert_eq!(
            r(&mut h, &["ZRANGE", "l", "[a", "[b", "BYLEX"]),
            "*2\r\n$1\r\na\r\n$1\r\nb\r\n"
        );
    }
}

#[test]
fn range_errors() {
    let mut h = h();
    r(&mut h, &["ZADD", "z", "1", "a"]);
    assert_eq!(
        r(&mut h, &["ZRANGE", "z", "0", "1", "LIMIT", "0", "1"]),
        "-ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX\r\n"
    );
    assert_eq!(
        r(&mut h, &["ZRANGE", "z", "-", "+", "BYLEX", "WITHSCORES"]),
        "-ERR syntax error, WITHSCORES not supported in combination with BYLEX\r\n"
    );
    assert_eq!(
        r(&mut h, &["ZRANGE", "z", "x", "1", "BYSCORE"]),
        "-ERR min or max is not a float\r\n"
    );
    assert_eq!(
        r(&mut h, &["ZRANGE", "z", "a", "1", "BYLEX"]),
        "-ERR min or max not valid string range item\r\n"
    );
    assert_eq!(
        r(&mut h, &["ZRANGE", "z", "a", "1"]),
        "-ERR value is not an integer or out of range\r\n"
    );
    assert_eq!(
        r(&mut h, &["ZRANGE", "z", "0", "1", "BYSCORE", "BYLEX"]),
        "-ERR syntax error\r\n"
    );
    assert_eq!(
        r(&mut h, &["ZRANGEBYSCORE", "z", "0", "1", "REV"]),
        "-ERR syntax error\r\n"
    );
    assert_eq!(
        r(&mut h, &["ZCOUNT", "z", "(nan", "1"]),
        "-ERR min or max is not a float\r\n"
    );
    assert_eq!(
        r(&mut h, &["ZRANGESTORE", "d", "z", "0", "1", "WITHSCORES"]),
        "-ERR syntax error\r\n"
    );
}

#[test]
fn resp3_withscores_pairs_and_doubles() {
    let mut h = h();
    h.session.proto = Proto::Resp3;
    r(&mut h, &["ZADD", "z", "1.5", "a", "2", "b"]);
    assert_eq!(
        r(&mut h, &["ZRANGE", "z", "0", "-1", "WITHSCORES"]),
        "*2\r\n*2\r\n$1\r\na\r\n,1.5\r\n*2\r\n$1\r\nb\r\n,2\r\n"
    );
    assert_eq!(r(&mut h, &["ZSCORE", "z", "a"]), ",1.5\r\n");
    assert_eq!(r(&mut h, &["ZPOPMIN", "z"]), "*2\r\n$1\r\na\r\n,1.5\r\n");
    assert_eq!(
        r(&mut h, &["ZPOPMIN", "z", "1"]),
        "*1\r\n*2\r\n$1\r\nb\r\n,2\r\n"
    );
    assert_eq!(r(&mut h, &["ZSCORE", "z", "a"]), "_\r\n");
}

#[test]
fn zrem_and_remrange_delete_empty_keys() {
    for mut h in both() {
        r(
            &mut h,
            &["ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d"],
        );
        assert_eq!(r(&mut h, &["ZREM", "z", "a", "x"]), ":1\r\n");
        assert_eq!(r(&mut h, &["ZREMRANGEBYRANK", "z", "-1", "-1"]), ":1\r\n");
        assert_eq!(r(&mut h, &["ZREMRANGEBYSCORE", "z", "(2", "inf"]), ":1\r\n");
        assert_eq!(r(&mut h, &["ZRANGE", "z", "0", "-1"]), "*1\r\n$1\r\nb\r\n");
        assert_eq!(r(&mut h, &["ZREMRANGEBYLEX", "z", "-", "+"]), ":1\r\n");
        assert_eq!(r(&mut h, &["EXISTS", "z"]), ":0\r\n");
        assert_eq!(r(&mut h, &["ZREM", "z", "a"]), ":0\r\n");
    }
}

#[test]
fn pops_and_zmpop_propagation() {
    for mut h in both() {
        r(&mut h, &["ZADD", "z", "1", "a", "2", "b", "3", "c"]);
        assert_eq!(r(&mut h, &["ZPOPMAX", "z"]), "*2\r\n$1\r\nc\r\n$1\r\n3\r\n");
        assert_eq!(
            r(&mut h, &["ZPOPMIN", "z", "-1"]),
            "-ERR value is out of range, must be positive\r\n"
        );
        assert_eq!(r(&mut h, &["ZPOPMIN", "z", "0"]), "*0\r\n");
        assert_eq!(r(&mut h, &["ZPOPMIN", "nokey"]), "*0\r\n");
        h.take_propagated();
        assert_eq!(
            r(&mut h, &["ZMPOP", "2", "nokey", "z", "MIN", "COUNT", "10"]),
            "*2\r\n$1\r\nz\r\n*2\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n"
        );
        // The count actually popped, as Redis 7.0.15's AOF shows.
        let p = h.last_propagated().unwrap();
        assert_eq!(p, vec![b"ZPOPMIN".to_vec(), b"z".to_vec(), b"2".to_vec()]);
        assert_eq!(r(&mut h, &["EXISTS", "z"]), ":0\r\n");
        assert_eq!(r(&mut h, &["ZMPOP", "1", "z", "MIN"]), "*-1\r\n");
        assert_eq!(
            r(&mut h, &["ZMPOP", "0", "z", "MIN"]),
            "-ERR numkeys should be greater than 0\r\n"
        );
        assert_eq!(
            r(&mut h, &["ZMPOP", "1", "z", "MIN", "COUNT", "0"]),
            "-ERR count should be greater than 0\r\n"
        );
        assert_eq!(
            r(&mut h, &["ZMPOP", "1", "z", "MED"]),
            "-ERR syntax error\r\n"
        );
        assert_eq!(
            r(&mut h, &["ZMPOP", "5", "z", "MIN"]),
            "-ERR syntax error\r\n"
        );
    }
}

#[test]
fn set_algebra() {
    for mut h in both() {
        r(&mut h, &["ZADD", "a", "1", "x", "2", "y", "inf", "z"]);
        r(&mut h, &["ZADD", "b", "10", "y", "-inf", "z", "5", "w"]);
        assert_eq!(
            r(&mut h, &["ZUNION", "2", "a", "b", "WITHSCORES"]),
            "*8\r\n$1\r\nz\r\n$1\r\n0\r\n$1\r\nx\r\n$1\r\n1\r\n$1\r\nw\r\n$1\r\n5\r\n$1\r\ny\r\n$2\r\n12\r\n"
        );
        assert_eq!(
            r(
                &mut h,
                &[
                    "ZINTER",
                    "2",
                    "a",
                    "b",
                    "WEIGHTS",
                    "2",
                    "1",
                    "AGGREGATE",
                    "MAX",
                    "WITHSCORES"
                ]
            ),
            "*4\r\n$1\r\ny\r\n$2\r\n10\r\n$1\r\nz\r\n$3\r\ninf\r\n"
        );
        assert_eq!(r(&mut h, &["ZDIFF", "2", "a", "b"]), "*1\r\n$1\r\nx\r\n");
        assert_eq!(
            r(&mut h, &["ZINTERCARD", "2", "a", "b", "LIMIT", "1"]),
            ":1\r\n"
        );
        assert_eq!(r(&mut h, &["ZINTERCARD", "2", "a", "b"]), ":2\r\n");
        assert_eq!(
            r(&mut h, &["ZINTERCARD", "2", "a", "b", "LIMIT", "-1"]),
            "-ERR LIMIT can't be negative\r\n"
        );
        assert_eq!(
            r(&mut h, &["ZUNION", "2", "a", "b", "WEIGHTS", "1", "x"]),
            "-ERR weight value is not a float\r\n"
        );
        assert_eq!(
            r(&mut h, &["ZUNION", "0", "a"]),
            "-ERR at least 1 input key is needed for 'zunion' command\r\n"
        );
        assert_eq!(
            r(&mut h, &["ZUNION", "3", "a", "b"]),
            "-ERR syntax error\r\n"
        );
        assert_eq!(
            r(&mut h, &["ZDIFF", "2", "a", "b", "WEIGHTS", "1", "1"]),
            "-ERR syntax error\r\n"
        );
        assert_eq!(
            r(&mut h, &["ZUNIONSTORE", "d", "2", "a", "b", "WITHSCORES"]),
            "-ERR syntax error\r\n"
        );
        assert_eq!(r(&mut h, &["ZDIFFSTORE", "d", "2", "a", "a"]), ":0\r\n");
        assert_eq!(r(&mut h, &["ZDIFFSTORE", "d", "1", "a"]), ":3\r\n");
        assert_eq!(r(&mut h, &["ZDIFFSTORE", "d", "2", "a", "a"]), ":0\r\n");
        assert_eq!(r(&mut h, &["EXISTS", "d"]), ":0\r\n");
        r(&mut h, &["SET", "s", "1"]);
        assert_eq!(
            r(&mut h, &["ZUNION", "2", "a", "s", "BAD"]),
            "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
        );
    }
}

#[test]
fn lookups_and_ranks() {
    for mut h in both() {
        r(&mut h, &["ZADD", "z", "1", "a", "2", "b"]);
        assert_eq!(r(&mut h, &["ZRANK", "z", "b"]), ":1\r\n");
        assert_eq!(r(&mut h, &["ZREVRANK", "z", "b"]), ":0\r\n");
        assert_eq!(r(&mut h, &["ZRANK", "z", "x"]), "$-1\r\n");
        assert_eq!(
            r(&mut h, &["ZMSCORE", "z", "a", "x", "b"]),
            "*3\r\n$1\r\n1\r\n$-1\r\n$1\r\n2\r\n"
        );
        assert_eq!(r(&mut h, &["ZMSCORE", "nokey", "a"]), "*1\r\n$-1\r\n");
        assert_eq!(r(&mut h, &["ZCARD", "nokey"]), ":0\r\n");
    }
}

#[test]
fn zrandmember_counts() {
    for mut h in both() {
        r(&mut h, &["ZADD", "z", "1", "a", "2", "b", "3", "c"]);
        let one = r(&mut h, &["ZRANDMEMBER", "z"]);
        assert!(["$1\r\na\r\n", "$1\r\nb\r\n", "$1\r\nc\r\n"].contains(&one.as_str()));
        assert_eq!(
            r(&mut h, &["ZRANDMEMBER", "z", "5"]),
            "*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n"
        );
        assert!(r(&mut h, &["ZRANDMEMBER", "z", "-5", "WITHSCORES"]).starts_with("*10\r\n"));
        let two = r(&mut h, &["ZRANDMEMBER", "z", "2"]);
        assert!(two.starts_with("*2\r\n"));
        let parts: Vec<&str> = two.split("\r\n").collect();
        assert_ne!(parts[2], parts[4], "distinct members");
        assert_eq!(
            r(&mut h, &["ZRANDMEMBER", "z", "1", "X"]),
            "-ERR syntax error\r\n"
        );
        assert_eq!(r(&mut h, &["ZRANDMEMBER", "nokey"]), "$-1\r\n");
        assert_eq!(r(&mut h, &["ZRANDMEMBER", "nokey", "3"]), "*0\r\n");
    }
}

#[test]
fn zscan_returns_everything() {
    for mut h in both() {
        r(&mut h, &["ZADD", "z", "1", "a", "2.5", "b", "3", "c"]);
        let mut cursor = "0".to_string();
        let mut seen = Vec::new();
        loop {
            let rep = r(&mut h, &["ZSCAN", "z", &cursor, "MATCH", "[ab]"]);
            let parts: Vec<&str> = rep.split("\r\n").collect();
            cursor = parts[2].to_string();
            let n: usize = parts[3][1..].parse().unwrap();
            for i in 0..n / 2 {
                seen.push((parts[5 + 4 * i].to_string(), parts[7 + 4 * i].to_string()));
            }
            if cursor == "0" {
                break;
            }
        }
        seen.sort();
        assert_eq!(
            seen,
            vec![("a".into(), "1".into()), ("b".into(), "2.5".into())]
        );
    }
}

#[test]
fn dirty_counts() {
    let mut h = h();
    let cases: &[(&[&str], u64)] = &[
        (&["ZADD", "z", "1", "a", "2", "b"], 2),
        (&["ZADD", "z", "1", "a"], 0),
        (&["ZINCRBY", "z", "1", "a"], 1),
        (&["ZREM", "z", "a", "b", "c"], 2),
        (&["ZADD", "z", "1", "a", "2", "b", "3", "c"], 3),
        (&["ZPOPMIN", "z", "2"], 2),
        (&["ZUNIONSTORE", "d", "1", "z"], 1),
        (&["ZREMRANGEBYRANK", "d", "0", "-1"], 1),
    ];
    for (args, d) in cases {
        let before = h.engine.dirty;
        h.run(args);
        assert_eq!(h.engine.dirty - before, *d, "{args:?}");
    }
}

#[test]
fn blocking_pops_serve_block_or_answer_null() {
    use crate::blocking::BlockKind;
    let mut h = h();
    r(&mut h, &["ZADD", "z", "1", "a", "2", "b", "3", "c"]);
    h.take_propagated();
    assert_eq!(
        r(&mut h, &["BZPOPMIN", "nokey", "z", "0"]),
        "*3\r\n$1\r\nz\r\n$1\r\na\r\n$1\r\n1\r\n"
    );
    assert_eq!(
        h.last_propagated().unwrap(),
        vec![b"ZPOPMIN".to_vec(), b"z".to_vec()]
    );
    assert_eq!(
        r(&mut h, &["BZPOPMAX", "z", "0"]),
        "*3\r\n$1\r\nz\r\n$1\r\nc\r\n$1\r\n3\r\n"
    );
    assert_eq!(
        r(&mut h, &["BZMPOP", "0", "1", "z", "MIN", "COUNT", "5"]),
        "*2\r\n$1\r\nz\r\n*1\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n"
    );
    assert_eq!(
        h.last_propagated().unwrap(),
        vec![b"ZPOPMIN".to_vec(), b"z".to_vec(), b"1".to_vec()]
    );
    // Nothing to serve: a block request, no reply.
    assert_eq!(r(&mut h, &["BZPOPMIN", "z", "y", "1.5"]), "");
    let req = h.engine.block.take().expect("block request");
    assert_eq!(req.keys, vec![b"z".to_vec(), b"y".to_vec()]);
    assert_eq!(req.kind, BlockKind::ZSet);
    assert_eq!(req.timeout_at_ms, h.engine.now_ms() + 1500);
    h.session.no_block = true;
    assert_eq!(r(&mut h, &["BZMPOP", "0", "1", "z", "MAX"]), "*-1\r\n");
    assert!(h.engine.block.is_none());
    h.session.no_block = false;
    assert_eq!(
        r(&mut h, &["BZPOPMIN", "z", "x"]),
        "-ERR timeout is not a float or out of range\r\n"
    );
    assert_eq!(
        r(&mut h, &["BZMPOP", "0", "0", "z", "MAX"]),
        "-ERR numkeys should be greater than 0\r\n"
    );
    r(&mut h, &["SET", "s", "v"]);
    assert_eq!(
        r(&mut h, &["BZPOPMIN", "s", "0"]),
        "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
    );
    // A new zset signals waiters.
    h.engine.blocking.add(0, b"w", 7);
    r(&mut h, &["ZADD", "w", "1", "a"]);
    assert_eq!(h.engine.blocking.ready, vec![(0, b"w".to_vec())]);
}
