//! In-process tests of the string commands: replies byte for byte as Redis 7.0.15
//! (expected replies were taken from it running the same commands), encodings, expiry,
//! dirty counts and propagation.

use super::super::testkit::Harness;
use crate::engine::EngineConfig;
use resp::Proto;

use super::super::testkit::reply::{NIL, NOT_FLOAT, NOT_INT, OK, SYNTAX};
use super::super::testkit::script;

fn now(h: &Harness) -> i64 {
    h.engine.now_ms()
}

fn encoding(h: &mut Harness, key: &str) -> &'static str {
    let now = now(h);
    h.engine.dbs[0]
        .lookup_read(key.as_bytes(), now)
        .map(|e| e.value.encoding_name())
        .unwrap_or("missing")
}

fn expire_at(h: &mut Harness, key: &str) -> Option<i64> {
    let now = now(h);
    h.engine.dbs[0]
        .lookup_read(key.as_bytes(), now)
        .expect("key exists")
        .expire_at()
}

/// The propagated form of the last command, if it propagated (and resets it).
fn rewritten(h: &mut Harness) -> Option<Vec<String>> {
    let r = h.last_propagated().map(|argv| {
        argv.iter()
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect()
    });
    h.take_propagated();
    r
}

fn strs(v: &[&str]) -> Option<Vec<String>> {
    Some(v.iter().map(|s| s.to_string()).collect())
}

#[test]
fn get_and_set_round_trip() {
    let mut h = Harness::new();
    script(
        &mut h,
        &[
            (&["GET", "k"], NIL),
            (&["SET", "k", "v"], OK),
            (&["GET", "k"], "$1\r\nv\r\n"),
            (&["SET", "k", "-42"], OK),
            (&["GET", "k"], "$3\r\n-42\r\n"),
            (&["SET", "e", ""], OK),
            (&["GET", "e"], "$0\r\n\r\n"),
        ],
    );
}

#[test]
fn get_null_is_resp3_null() {
    let mut h = Harness::new();
    h.session.proto = Proto::Resp3;
    assert_eq!(h.run(&["GET", "k"]), "_\r\n");
    assert_eq!(h.run(&["MGET", "k"]), "*1\r\n_\r\n");
}

#[test]
fn set_chooses_redis_encodings() {
    let mut h = Harness::new();
    let long = "x".repeat(45);
    for (val, enc) in [
        ("123", "int"),
        ("-9223372036854775808", "int"),
        ("9223372036854775808", "embstr"),
        ("0123", "embstr"),
        ("-0", "embstr"),
        ("abc", "embstr"),
        (&"y".repeat(44), "embstr"),
        (&long, "raw"),
    ] {
        h.run(&["SET", "k", val]);
        assert_eq!(encoding(&mut h, "k"), enc, "SET k {val}");
        assert_eq!(h.run(&["GET", "k"]), format!("${}\r\n{val}\r\n", val.len()));
    }
}

#[test]
fn set_nx_xx() {
    let mut h = Harness::new();
    script(
        &mut h,
        &[
            (&["SET", "k", "v", "NX"], OK),
            (&["SET", "k", "w", "nx"], NIL),
            (&["SET", "k2", "v", "XX"], NIL),
            (&["SET", "k", "v2", "xx"], OK),
            (&["GET", "k"], "$2\r\nv2\r\n"),
            (&["GET", "k2"], NIL),
        ],
    );
}

#[test]
fn set_get_replies_old_value_even_when_aborted() {
    let mut h = Harness::new();
    script(
        &mut h,
        &[
            (&["SET", "n", "123", "GET"], NIL),
            (&["SET", "n", "124", "GET"], "$3\r\n123\r\n"),
            // NX with GET is allowed in 7.0: the old value, and no write.
            (&["SET", "n", "125", "NX", "GET"], "$3\r\n124\r\n"),
            (&["GET", "n"], "$3\r\n124\r\n"),
            (&["SET", "nn", "1", "XX", "GET"], NIL),
            (&["GET", "nn"], NIL),
            (&["SET", "n", "v", "GET", "GET"], "$3\r\n124\r\n"),
        ],
    );
}

#[test]
fn set_option_conflicts_are_syntax_errors() {
    let mut h = Harness::new();
    for opts in [
        &["EX", "10", "PX", "10"][..],
        &["EX", "10", "EXAT", "10"],
        &["PX", "10", "PXAT", "10"],
        &["EXAT", "10", "PXAT", "10"],
        &["KEEPTTL", "EX", "10"],
        &["EX", "10", "KEEPTTL"],
        &["NX", "XX"],
        &["XX", "NX"],
        &["GET", "NX", "XX"],
        &["EX"],
        &["PX"],
        &["PERSIST"],
        &["foo"],
    ] {
        let mut args = vec!["SET", "k", "v"];
        args.extend_from_slice(opts);
        assert_eq!(h.run(&args), SYNTAX, "{args:?}");
    }
    assert_eq!(h.run(&["GET", "k"]), NIL);
    // Repeating one option is accepted.
    script(
        &mut h,
        &[
            (&["SET", "k", "v", "EX", "10", "EX", "20"], OK),
            (&["SET", "k", "v", "KEEPTTL", "KEEPTTL"], OK),
            // An option is read up to its first NUL byte, as Redis's C code does.
            (&["SET", "k", "v", "NX\0junk"], NIL),
        ],
    );
}

#[test]
fn set_invalid_expire_times() {
    let mut h = Harness::new();
    let invalid = "-ERR invalid expire time in 'set' command\r\n";
    for (opt, val) in [
        ("EX", "0"),
        ("EX", "-1"),
        ("PX", "0"),
        ("EXAT", "0"),
        ("PXAT", "-5"),
        // Seconds overflowing on the conversion to ms…
        ("EX", "9223372036854775807"),
        // …or on adding the current time.
        ("EX", "9223372036854775"),
        ("PX", "9223372036854775807"),
    ] {
        assert_eq!(h.run(&["SET", "k", "v", opt, val]), invalid, "{opt} {val}");
    }
    assert_eq!(h.run(&["SET", "k", "v", "EX", "abc"]), NOT_INT);
    assert_eq!(h.run(&["SET", "k", "v", "EX", "1.5"]), NOT_INT);
    assert_eq!(h.run(&["GET", "k"]), NIL);
    // The largest absolute times are fine: no addition happens.
    assert_eq!(h.run(&["SET", "k", "v", "EXAT", "9223372036854775"]), OK);
    assert_eq!(expire_at(&mut h, "k"), Some(9_223_372_036_854_775_000));
    assert_eq!(h.run(&["SET", "k", "v", "PXAT", "9223372036854775807"]), OK);
    assert_eq!(expire_at(&mut h, "k"), Some(i64::MAX));
}

#[test]
fn set_expire_forms_set_the_deadline() {
    let mut h = Harness::new();
    let t = now(&h);
    h.run(&["SET", "a", "v", "EX", "100"]);
    assert_eq!(expire_at(&mut h, "a"), Some(t + 100_000));
    h.run(&["SET", "b", "v", "PX", "1500"]);
    assert_eq!(expire_at(&mut h, "b"), Some(t + 1500));
    h.run(&["SET", "c", "v", "EXAT", &(t / 1000 + 50).to_string()]);
    assert_eq!(expire_at(&mut h, "c"), Some((t / 1000 + 50) * 1000));
    h.run(&["SET", "d", "v", "PXAT", &(t + 777).to_string()]);
    assert_eq!(expire_at(&mut h, "d"), Some(t + 777));
    // As Redis's keyIsExpired, a key lives through its deadline millisecond.
    h.advance_ms(1500);
    assert_eq!(h.run(&["GET", "b"]), "$1\r\nv\r\n");
    h.advance_ms(1);
    assert_eq!(h.run(&["GET", "b"]), NIL);
    assert_eq!(h.run(&["GET", "d"]), NIL);
    // A deadline already past is accepted, and the key is then gone.
    assert_eq!(h.run(&["SET", "e", "v", "PXAT", "1"]), OK);
    assert_eq!(h.run(&["GET", "e"]), NIL);
}

#[test]
fn set_drops_ttl_unless_keepttl() {
    let mut h = Harness::new();
    let t = now(&h);
    h.run(&["SET", "k", "v", "EX", "100"]);
    assert_eq!(h.run(&["SET", "k", "w", "KEEPTTL"]), OK);
    assert_eq!(expire_at(&mut h, "k"), Some(t + 100_000));
    assert_eq!(h.run(&["SET", "k", "x", "GET"]), "$1\r\nw\r\n");
    assert_eq!(expire_at(&mut h, "k"), None);
    assert_eq!(h.engine.dbs[0].expires_len(), 0);
    // Overwriting a TTL with another one.
    h.run(&["SET", "k", "v", "EX", "100"]);
    h.run(&["SET", "k", "v", "PX", "5"]);
    assert_eq!(expire_at(&mut h, "k"), Some(t + 5));
    // KEEPTTL on a key that expired keeps nothing.
    h.advance_ms(6);
    h.run(&["SET", "k", "v", "KEEPTTL"]);
    assert_eq!(expire_at(&mut h, "k"), None);
}

#[test]
fn set_propagates_absolute_deadline_and_drops_get() {
    let mut h = Harness::new();
    let t = now(&h);
    h.run(&["SET", "k", "v"]);
    assert_eq!(rewritten(&mut h), strs(&["SET", "k", "v"]));
    h.run(&["set", "k", "v", "ex", "10", "get"]);
    let pxat = (t + 10_000).to_string();
    assert_eq!(rewritten(&mut h), strs(&["SET", "k", "v", "PXAT", &pxat]));
    h.run(&["SET", "k", "v", "EXAT", "2000000000"]);
    assert_eq!(
        rewritten(&mut h),
        strs(&["SET", "k", "v", "PXAT", "2000000000000"])
    );
    h.run(&["SET", "k", "w", "get", "KEEPTTL", "GET"]);
    assert_eq!(rewritten(&mut h), strs(&["SET", "k", "w", "KEEPTTL"]));
    // The value argument is never taken for a GET token.
    h.run(&["SET", "k", "get", "GET"]);
    assert_eq!(rewritten(&mut h), strs(&["SET", "k", "get"]));
    h.run(&["SETEX", "k", "5", "v"]);
    let pxat = (t + 5000).to_string();
    assert_eq!(rewritten(&mut h), strs(&["SET", "k", "v", "PXAT", &pxat]));
    h.run(&["PSETEX", "k", "5", "v"]);
    let pxat = (t + 5).to_string();
    assert_eq!(rewritten(&mut h), strs(&["SET", "k", "v", "PXAT", &pxat]));
}

#[test]
fn writes_count_dirty_like_redis() {
    let mut h = Harness::new();
    let expect = |h: &mut Harness, args: &[&str], d: u64| {
        let before = h.engine.dirty;
        h.run(args);
        assert_eq!(h.engine.dirty - before, d, "{args:?}");
    };
    expect(&mut h, &["SET", "k", "v"], 1);
    expect(&mut h, &["SET", "k", "v", "NX"], 0);
    expect(&mut h, &["SET", "k", "v", "EX", "0"], 0);
    expect(&mut h, &["SETNX", "k", "v"], 0);
    expect(&mut h, &["MSET", "a", "1", "b", "2", "c", "3"], 3);
    expect(&mut h, &["MSETNX", "a", "1", "z", "2"], 0);
    expect(&mut h, &["MSETNX", "y", "1", "z", "2"], 2);
    expect(&mut h, &["GET", "k"], 0);
    expect(&mut h, &["APPEND", "k", ""], 1);
    expect(&mut h, &["SETRANGE", "k", "0", ""], 0);
    expect(&mut h, &["SETRANGE", "k", "0", "x"], 1);
    expect(&mut h, &["INCR", "a"], 1);
    expect(&mut h, &["INCR", "k"], 0);
    expect(&mut h, &["INCRBYFLOAT", "a", "1.5"], 1);
    expect(&mut h, &["GETDEL", "nothing"], 0);
    expect(&mut h, &["GETDEL", "a"], 1);
    expect(&mut h, &["GETEX", "b"], 0);
    expect(&mut h, &["GETEX", "b", "PERSIST"], 0);
    expect(&mut h, &["GETEX", "b", "EX", "10"], 1);
    expect(&mut h, &["GETEX", "b", "PERSIST"], 1);
    expect(&mut h, &["GETSET", "b", "3"], 1);
}

#[test]
fn setnx_setex_psetex() {
    let mut h = Harness::new();
    let t = now(&h);
    script(
        &mut h,
        &[
            (&["SETNX", "sn", "1"], ":1\r\n"),
            (&["SETNX", "sn", "2"], ":0\r\n"),
            (&["GET", "sn"], "$1\r\n1\r\n"),
            (
                &["SETEX", "se", "0", "v"],
                "-ERR invalid expire time in 'setex' command\r\n",
            ),
            (&["SETEX", "se", "abc", "v"], NOT_INT),
            (
                &["PSETEX", "se", "-1", "v"],
                "-ERR invalid expire time in 'psetex' command\r\n",
            ),
            (&["GET", "se"], NIL),
            (&["SETEX", "se", "100", "v"], OK),
        ],
    );
    assert_eq!(expire_at(&mut h, "se"), Some(t + 100_000));
    assert_eq!(h.run(&["PSETEX", "se", "100", "w"]), OK);
    assert_eq!(expire_at(&mut h, "se"), Some(t + 100));
    assert_eq!(h.run(&["GET", "se"]), "$1\r\nw\r\n");
}

#[test]
fn mget_mset_msetnx() {
    let mut h = Harness::new();
    script(
        &mut h,
        &[
            (
                &["MSET", "a", "1", "b", "2", "c"],
                "-ERR wrong number of arguments for 'mset' command\r\n",
            ),
            (
                &["MSETNX", "a", "1", "b"],
                "-ERR wrong number of arguments for 'msetnx' command\r\n",
            ),
            (&["MSET", "a", "1", "b", "2", "a", "3"], OK),
            (&["MSETNX", "a", "3", "z", "4"], ":0\r\n"),
            (&["GET", "z"], NIL),
            (&["MSETNX", "y", "3", "z", "4"], ":1\r\n"),
            (
                &["MGET", "a", "b", "nothing", "y", "z"],
                "*5\r\n$1\r\n3\r\n$1\r\n2\r\n$-1\r\n$1\r\n3\r\n$1\r\n4\r\n",
            ),
        ],
    );
    // MSET drops TTLs.
    h.run(&["SET", "t", "v", "EX", "100"]);
    h.run(&["MSET", "t", "w"]);
    assert_eq!(expire_at(&mut h, "t"), None);
}

#[test]
fn getset_replaces_value_and_ttl() {
    let mut h = Harness::new();
    h.run(&["SET", "a", "1", "EX", "100"]);
    assert_eq!(h.run(&["GETSET", "a", "10"]), "$1\r\n1\r\n");
    assert_eq!(expire_at(&mut h, "a"), None);
    assert_eq!(encoding(&mut h, "a"), "int");
    assert_eq!(rewritten(&mut h), strs(&["SET", "a", "10"]));
    assert_eq!(h.run(&["GETSET", "new", "5"]), NIL);
    assert_eq!(h.run(&["GET", "new"]), "$1\r\n5\r\n");
}

#[test]
fn getdel_deletes_and_propagates_del() {
    let mut h = Harness::new();
    h.run(&["SET", "a", "10"]);
    script(
        &mut h,
        &[
            (&["GETDEL", "nothing"], NIL),
            (&["GETDEL", "a"], "$2\r\n10\r\n"),
            (&["GETDEL", "a"], NIL),
        ],
    );
    h.run(&["SET", "a", "10"]);
    h.take_propagated();
    h.run(&["GETDEL", "a"]);
    assert_eq!(rewritten(&mut h), strs(&["DEL", "a"]));
}

#[test]
fn getex_options_and_errors() {
    let mut h = Harness::new();
    h.run(&["SET", "b", "2"]);
    let invalid = "-ERR invalid expire time in 'getex' command\r\n";
    script(
        &mut h,
        &[
            (&["GETEX", "b"], "$1\r\n2\r\n"),
            // The key is looked up before the time is validated.
            (&["GETEX", "nothing", "EX", "0"], NIL),
            (&["GETEX", "nothing", "EX", "abc"], NIL),
            (&["GETEX", "nothing", "foo"], SYNTAX),
            (&["GETEX", "b", "EX", "0"], invalid),
            (&["GETEX", "b", "EX", "-1"], invalid),
            (&["GETEX", "b", "EXAT", "0"], invalid),
            (&["GETEX", "b", "EX", "9223372036854775807"], invalid),
            (&["GETEX", "b", "PX", "abc"], NOT_INT),
            (&["GETEX", "b", "KEEPTTL"], SYNTAX),
            (&["GETEX", "b", "NX"], SYNTAX),
            (&["GETEX", "b", "GET"], SYNTAX),
            (&["GETEX", "b", "EX", "10", "PX", "10"], SYNTAX),
            (&["GETEX", "b", "PERSIST", "EX", "10"], SYNTAX),
            (&["GETEX", "b", "EX", "10", "PERSIST"], SYNTAX),
            (&["GETEX", "b", "EX"], SYNTAX),
            (&["GETEX", "b", "PERSIST", "PERSIST"], "$1\r\n2\r\n"),
            (&["GETEX", "b", "EX", "10", "EX", "10"], "$1\r\n2\r\n"),
        ],
    );
}

#[test]
fn getex_sets_and_removes_ttl_with_propagation() {
    let mut h = Harness::new();
    let t = now(&h);
    h.run(&["SET", "k", "v"]);
    h.take_propagated();
    assert_eq!(h.run(&["GETEX", "k", "EX", "100"]), "$1\r\nv\r\n");
    assert_eq!(expire_at(&mut h, "k"), Some(t + 100_000));
    let at = (t + 100_000).to_string();
    assert_eq!(rewritten(&mut h), strs(&["PEXPIREAT", "k", &at]));
    h.run(&["GETEX", "k", "PXAT", "2000000000000"]);
    assert_eq!(expire_at(&mut h, "k"), Some(2_000_000_000_000));
    assert_eq!(
        rewritten(&mut h),
        strs(&["PEXPIREAT", "k", "2000000000000"])
    );
    h.run(&["GETEX", "k", "PERSIST"]);
    assert_eq!(expire_at(&mut h, "k"), None);
    assert_eq!(rewritten(&mut h), strs(&["PERSIST", "k"]));
    // PERSIST without a TTL changes nothing and propagates nothing.
    h.run(&["GETEX", "k", "PERSIST"]);
    assert_eq!(rewritten(&mut h), None);
    // A past absolute time still answers the value, then deletes the key.
    assert_eq!(h.run(&["GETEX", "k", "EXAT", "1"]), "$1\r\nv\r\n");
    assert_eq!(rewritten(&mut h), strs(&["DEL", "k"]));
    assert_eq!(h.run(&["GET", "k"]), NIL);
    assert!(h.engine.dbs[0].is_empty());
    // A relative time moves with the clock.
    h.run(&["SET", "k", "v"]);
    h.run(&["GETEX", "k", "PX", "10"]);
    h.advance_ms(11);
    assert_eq!(h.run(&["GETEX", "k"]), NIL);
}

#[test]
fn append_creates_then_goes_raw() {
    let mut h = Harness::new();
    script(
        &mut h,
        &[
            (&["APPEND", "ap", "123"], ":3\r\n"),
            (&["APPEND", "ap", "45"], ":5\r\n"),
            (&["GET", "ap"], "$5\r\n12345\r\n"),
            (&["APPEND", "ap", ""], ":5\r\n"),
            (&["APPEND", "e", ""], ":0\r\n"),
            (&["GET", "e"], "$0\r\n\r\n"),
        ],
    );
    h.run(&["APPEND", "n", "123"]);
    assert_eq!(encoding(&mut h, "n"), "int");
    assert_eq!(encoding(&mut h, "ap"), "raw");
    // APPEND keeps the TTL.
    let t = now(&h);
    h.run(&["SET", "t", "a", "PX", "100"]);
    h.run(&["APPEND", "t", "b"]);
    assert_eq!(expire_at(&mut h, "t"), Some(t + 100));
}

#[test]
fn append_and_setrange_respect_proto_max_bulk_len() {
    let mut h = Harness::with_config(EngineConfig {
        proto_max_bulk_len: 10,
        ..EngineConfig::default()
    });
    let too_long = "-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n";
    script(
        &mut h,
        &[
            (&["SET", "k", "12345"], OK),
            (&["APPEND", "k", "67890"], ":10\r\n"),
            (&["APPEND", "k", "x"], too_long),
            (&["SETRANGE", "k", "9", "ab"], too_long),
            (&["SETRANGE", "k", "8", "ab"], ":10\r\n"),
            (&["SETRANGE", "new", "10", "a"], too_long),
            (&["SETRANGE", "new", "9", "a"], ":10\r\n"),
            (&["GET", "k"], "$10\r\n12345678ab\r\n"),
        ],
    );
}

#[test]
fn impossible_allocations_are_errors_not_aborts() {
    let mut h = Harness::with_config(EngineConfig {
        proto_max_bulk_len: u64::MAX,
        ..EngineConfig::default()
    });
    let too_long = "-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n";
    h.run(&["SET", "k", "v"]);
    assert_eq!(
        h.run(&["SETRANGE", "k", "9223372036854775000", "a"]),
        too_long
    );
    assert_eq!(
        h.run(&["SETRANGE", "new", "9223372036854775000", "a"]),
        too_long
    );
    assert_eq!(h.run(&["GET", "k"]), "$1\r\nv\r\n");
    assert_eq!(h.run(&["GET", "new"]), NIL);
}

#[test]
fn strlen_counts_bytes_of_any_encoding() {
    let mut h = Harness::new();
    script(
        &mut h,
        &[
            (&["STRLEN", "nothing"], ":0\r\n"),
            (&["SET", "ns", "-12345"], OK),
            (&["STRLEN", "ns"], ":6\r\n"),
            (&["SET", "s", "héllo"], OK),
            (&["STRLEN", "s"], ":6\r\n"),
        ],
    );
}

#[test]
fn getrange_index_arithmetic() {
    let mut h = Harness::new();
    h.run(&["SET", "h", "hello"]);
    h.run(&["SET", "n", "12345"]);
    h.run(&["SET", "e", ""]);
    for (start, end, want) in [
        ("0", "-1", "hello"),
        ("1", "3", "ell"),
        ("-3", "-1", "llo"),
        ("-1", "-5", ""),
        ("-10", "-20", ""),
        ("0", "-100", "h"),
        ("10", "20", ""),
        ("3", "1", ""),
        ("-100", "100", "hello"),
        ("-9223372036854775808", "9223372036854775807", "hello"),
    ] {
        let got = h.run(&["GETRANGE", "h", start, end]);
        assert_eq!(
            got,
            format!("${}\r\n{want}\r\n", want.len()),
            "{start} {end}"
        );
    }
    script(
        &mut h,
        &[
            (&["GETRANGE", "nothing", "0", "1"], "$0\r\n\r\n"),
            (&["GETRANGE", "e", "0", "-1"], "$0\r\n\r\n"),
            (&["GETRANGE", "h", "a", "1"], NOT_INT),
            (&["GETRANGE", "h", "0", "b"], NOT_INT),
            (&["SUBSTR", "h", "1", "2"], "$2\r\nel\r\n"),
            (&["GETRANGE", "n", "1", "2"], "$2\r\n23\r\n"),
        ],
    );
}

#[test]
fn setrange_pads_and_goes_raw() {
    let mut h = Harness::new();
    script(
        &mut h,
        &[
            (&["SETRANGE", "nothing", "5", ""], ":0\r\n"),
            (&["GET", "nothing"], NIL),
            (&["SETRANGE", "sr", "3", "ab"], ":5\r\n"),
            (&["GET", "sr"], "$5\r\n\0\0\0ab\r\n"),
            (&["SETRANGE", "sr", "1", "X"], ":5\r\n"),
            (&["GET", "sr"], "$5\r\n\0X\0ab\r\n"),
            (&["SETRANGE", "sr", "0", ""], ":5\r\n"),
            (
                &["SETRANGE", "sr", "-1", "X"],
                "-ERR offset is out of range\r\n",
            ),
            (&["SETRANGE", "sr", "a", "X"], NOT_INT),
            (&["SET", "n", "12345"], OK),
            (&["SETRANGE", "n", "0", ""], ":5\r\n"),
        ],
    );
    assert_eq!(encoding(&mut h, "sr"), "raw");
    // An empty patch leaves an int alone; a real one makes it raw.
    assert_eq!(encoding(&mut h, "n"), "int");
    assert_eq!(h.run(&["SETRANGE", "n", "0", "9"]), ":5\r\n");
    assert_eq!(h.run(&["GET", "n"]), "$5\r\n92345\r\n");
    assert_eq!(encoding(&mut h, "n"), "raw");
    assert_eq!(
        h.run(&["SETRANGE", "sr", "9223372036854775807", "ab"]),
        "-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n"
    );
}

#[test]
fn incr_family() {
    let mut h = Harness::new();
    let overflow = "-ERR increment or decrement would overflow\r\n";
    script(
        &mut h,
        &[
            (&["INCR", "i"], ":1\r\n"),
            (&["INCR", "i"], ":2\r\n"),
            (&["DECR", "i"], ":1\r\n"),
            (&["INCRBY", "i", "10"], ":11\r\n"),
            (&["DECRBY", "i", "20"], ":-9\r\n"),
            (&["DECR", "new"], ":-1\r\n"),
            (&["INCRBY", "i", "abc"], NOT_INT),
            (&["DECRBY", "i", "1.5"], NOT_INT),
            (
                &["DECRBY", "i", "-9223372036854775808"],
                "-ERR decrement would overflow\r\n",
            ),
            (&["SET", "mx", "9223372036854775807"], OK),
            (&["INCR", "mx"], overflow),
            (&["SET", "mn", "-9223372036854775808"], OK),
            (&["DECR", "mn"], overflow),
            (&["INCRBY", "mn", "-1"], overflow),
            (&["INCRBY", "mn", "9223372036854775807"], ":-1\r\n"),
        ],
    );
    for bad in ["hello", "1.5", " 1", "01", "1 ", ""] {
        h.run(&["SET", "b", bad]);
        assert_eq!(h.run(&["INCR", "b"]), NOT_INT, "{bad:?}");
    }
    // A raw string holding digits counts too, and becomes an int.
    h.run(&["SET", "r", "1"]);
    h.run(&["APPEND", "r", "2"]);
    assert_eq!(encoding(&mut h, "r"), "raw");
    assert_eq!(h.run(&["INCR", "r"]), ":13\r\n");
    assert_eq!(encoding(&mut h, "r"), "int");
}

#[test]
fn incr_keeps_ttl() {
    let mut h = Harness::new();
    let t = now(&h);
    h.run(&["SET", "i", "1", "PX", "100"]);
    h.run(&["INCRBY", "i", "5"]);
    h.run(&["INCRBYFLOAT", "i", "0.5"]);
    assert_eq!(expire_at(&mut h, "i"), Some(t + 100));
}

#[test]
fn incrbyfloat_matches_long_double_output() {
    let mut h = Harness::new();
    let nan_inf = "-ERR increment would produce NaN or Infinity\r\n";
    script(
        &mut h,
        &[
            (&["SET", "x", "10.50"], OK),
            (&["INCRBYFLOAT", "x", "0.1"], "$4\r\n10.6\r\n"),
            (
                &["INCRBYFLOAT", "x", "5.0e3"],
                "$22\r\n5010.60000000000000009\r\n",
            ),
            (&["INCRBYFLOAT", "x", "abc"], NOT_FLOAT),
            (&["INCRBYFLOAT", "x", "inf"], nan_inf),
            (&["INCRBYFLOAT", "x", "nan"], NOT_FLOAT),
            (&["INCRBYFLOAT", "x", " 1"], NOT_FLOAT),
            (&["SET", "h", "hello"], OK),
            (&["INCRBYFLOAT", "h", "1"], NOT_FLOAT),
            (&["INCRBYFLOAT", "newf", "3"], "$1\r\n3\r\n"),
            (&["INCRBYFLOAT", "newf", "-3"], "$1\r\n0\r\n"),
            (&["INCRBYFLOAT", "z", "0x10"], "$2\r\n16\r\n"),
            (&["INCRBYFLOAT", "w", "1e-5000"], NOT_FLOAT),
            (&["GET", "w"], NIL),
            (&["SET", "ii", "5"], OK),
            (&["INCRBYFLOAT", "ii", "1.25"], "$4\r\n6.25\r\n"),
            (&["SET", "y", "1.7976931348623157e308"], OK),
            (&["INCRBYFLOAT", "y", "1.7976931348623157e308"], {
                "$309\r\n359538626972463139991842093548208868096772893888658356970628841530353257046248792709403737216774171128857586838851041378617416726902272110715794556052955234146997955372576789671236326588091188869859074894581254961338834769297758245552436667197907705664206565009503223382416235440319971852753604933726679072768\r\n"
            }),
        ],
    );
    // The text is stored as a string, never as an int.
    assert_eq!(encoding(&mut h, "newf"), "embstr");
    assert_eq!(encoding(&mut h, "y"), "raw");
}

#[test]
fn incrbyfloat_propagates_as_set_keepttl() {
    let mut h = Harness::new();
    h.run(&["INCRBYFLOAT", "f", "2.5"]);
    assert_eq!(rewritten(&mut h), strs(&["SET", "f", "2.5", "KEEPTTL"]));
    h.run(&["INCRBYFLOAT", "f", "abc"]);
    assert_eq!(rewritten(&mut h), None);
}

#[test]
fn lcs_outputs() {
    let mut h = Harness::new();
    h.run(&["MSET", "x", "ohmytext", "y", "mynewtext"]);
    let idx = "*4\r\n$7\r\nmatches\r\n*2\r\n*2\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n\
               *2\r\n*2\r\n:2\r\n:3\r\n*2\r\n:0\r\n:1\r\n$3\r\nlen\r\n:6\r\n";
    script(
        &mut h,
        &[
            (&["LCS", "x", "y"], "$6\r\nmytext\r\n"),
            (&["LCS", "x", "y", "LEN"], ":6\r\n"),
            (&["LCS", "x", "y", "IDX"], idx),
            (&["LCS", "x", "y", "MINMATCHLEN", "-5", "IDX"], idx),
            (
                &["LCS", "x", "y", "IDX", "MINMATCHLEN", "4", "WITHMATCHLEN"],
                "*4\r\n$7\r\nmatches\r\n*1\r\n*3\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n:4\r\n\
                 $3\r\nlen\r\n:6\r\n",
            ),
            (&["LCS", "nx", "ny"], "$0\r\n\r\n"),
            (&["LCS", "nx", "ny", "LEN"], ":0\r\n"),
            (
                &["LCS", "nx", "ny", "IDX"],
                "*4\r\n$7\r\nmatches\r\n*0\r\n$3\r\nlen\r\n:0\r\n",
            ),
            (
                &["LCS", "x", "y", "LEN", "IDX"],
                "-ERR If you want both the length and indexes, please just use IDX.\r\n",
            ),
            (&["LCS", "x", "y", "MINMATCHLEN"], SYNTAX),
            (&["LCS", "x", "y", "MINMATCHLEN", "x"], NOT_INT),
            (&["LCS", "x", "y", "foo"], SYNTAX),
        ],
    );
}

#[test]
fn lcs_idx_is_a_map_in_resp3() {
    let mut h = Harness::new();
    h.session.proto = Proto::Resp3;
    h.run(&["MSET", "a", "abc", "b", "xbc"]);
    assert_eq!(
        h.run(&["LCS", "a", "b", "IDX", "WITHMATCHLEN"]),
        "%2\r\n$7\r\nmatches\r\n*1\r\n*3\r\n*2\r\n:1\r\n:2\r\n*2\r\n:1\r\n:2\r\n:2\r\n\
         $3\r\nlen\r\n:2\r\n"
    );
}

#[test]
fn lcs_refuses_tables_beyond_proto_max_bulk_len() {
    let mut h = Harness::with_config(EngineConfig {
        proto_max_bulk_len: 1 << 20,
        ..EngineConfig::default()
    });
    // 512 * 512 cells * 4 bytes = 1 MiB: the limit itself is allowed.
    let a = "a".repeat(511);
    h.run(&["MSET", "a", &a, "b", &a]);
    assert_eq!(h.run(&["LCS", "a", "b", "LEN"]), ":511\r\n");
    h.run(&["APPEND", "a", "a"]);
    assert_eq!(
        h.run(&["LCS", "a", "b", "LEN"]),
        "-ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len\r\n"
    );
}

#[test]
fn arity_errors_come_from_the_table() {
    let mut h = Harness::new();
    for (args, name) in [
        (&["GET"][..], "get"),
        (&["SET", "k"], "set"),
        (&["MGET"], "mget"),
        (&["MSET", "a"], "mset"),
        (&["GETRANGE", "k", "0"], "getrange"),
        (&["LCS", "a"], "lcs"),
        (&["INCRBYFLOAT", "k"], "incrbyfloat"),
    ] {
        assert_eq!(
            h.run(args),
            format!("-ERR wrong number of arguments for '{name}' command\r\n")
        );
    }
}

#[test]
fn read_lookups_count_hits_and_misses() {
    let mut h = Harness::new();
    h.run(&["SET", "k", "v"]);
    h.run(&["GET", "k"]);
    h.run(&["MGET", "k", "nothing"]);
    h.run(&["INCR", "counter"]); // a write lookup: not counted
    h.run(&["GETEX", "nothing"]); // a write command, but a read lookup in Redis
    assert_eq!(h.engine.keyspace_hits(), 2);
    assert_eq!(h.engine.keyspace_misses(), 2);
}
