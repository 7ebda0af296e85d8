//! What the runner propagates, for every family and every execution path (a client's
//! command, EXEC, a blocked client served, lazy and active expiry), checked with the
//! engine's recording sink on an in-process server (no sockets). The expected streams were
//! captured from Redis 7.0.15's AOF (`appendonly yes`) for the same commands; only the
//! absolute times differ, as ours come from the test's clock.

use crate::inproc::InProcess;

const T0: i64 = 1_767_225_600_000;

fn at(ms: i64) -> String {
    (T0 + ms).to_string()
}

#[test]
fn strings_and_keys_propagate_in_deterministic_form() {
    let mut t = InProcess::new(T0);
    let c = t.client();
    for cmd in [
        &["set", "s", "1", "EX", "100"][..],
        &["set", "s2", "v", "KEEPTTL"],
        &["incr", "s"],
        &["incrbyfloat", "f", "2.5"],
        &["getex", "s", "PERSIST"],
        &["getex", "s", "EX", "50"],
        &["getdel", "s2"],
        &["setex", "sx", "10", "v"],
        &["psetex", "sp", "1000", "v"],
        &["setnx", "s", "zz"],
        &["append", "s", "x"],
        &["expire", "s", "100", "GT"],
        &["expireat", "s", "4000000000"],
        &["pexpire", "f", "5000"],
        &["persist", "f"],
        &["del", "nokey"],
        &["mset", "a", "1", "b", "2"],
        &["msetnx", "a", "1", "c", "3"],
        &["copy", "a", "a2"],
        &["rename", "a2", "a3"],
        &["move", "a3", "1"],
        &["swapdb", "0", "1"],
        &["flushdb"],
    ] {
        t.run(c, cmd);
    }
    let expected = [
        "SELECT 0".to_string(),
        format!("SET s 1 PXAT {}", at(100_000)),
        "set s2 v KEEPTTL".into(),
        "incr s".into(),
        "SET f 2.5 KEEPTTL".into(),
        "PERSIST s".into(),
        format!("PEXPIREAT s {}", at(50_000)),
        "DEL s2".into(),
        format!("SET sx v PXAT {}", at(10_000)),
        format!("SET sp v PXAT {}", at(1_000)),
        "append s x".into(),
        format!("PEXPIREAT s {} GT", at(100_000)),
        "PEXPIREAT s 4000000000000".into(),
        format!("PEXPIREAT f {}", at(5_000)),
        "persist f".into(),
        "mset a 1 b 2".into(),
        "copy a a2".into(),
        "rename a2 a3".into(),
        "move a3 1".into(),
        "swapdb 0 1".into(),
        "flushdb".into(),
    ];
    assert_eq!(t.propagated(), expected);
}

#[test]
fn collections_propagate_rewrites_and_nothing_for_no_ops() {
    let mut t = InProcess::new(T0);
    let c = t.client();
    for cmd in [
        &["rpush", "l", "a", "b", "c", "d"][..],
        &["lpop", "l"],
        &["rpop", "l", "2"],
        &["lmove", "l", "l2", "LEFT", "RIGHT"],
        &["rpoplpush", "l2", "l"],
        &["lrem", "l", "0", "zz"],
        &["ltrim", "l", "0", "-1"],
        &["hset", "h", "f", "1"],
        &["hincrbyfloat", "h", "f", "1.5"],
        &["hincrby", "h", "f", "1"],
        &["hdel", "h", "nof"],
        &["hsetnx", "h", "f", "2"],
        &["sadd", "st", "a", "b", "c"],
        &["srem", "st", "nope"],
        &["smove", "st", "st2", "a"],
        &["sinterstore", "d", "st", "st2"],
        &["zadd", "z", "1", "a", "2", "b", "3", "c"],
        &["zincrby", "z", "1", "a"],
        &["zpopmin", "z"],
        // The *MPOP forms propagate the count actually popped.
        &["zmpop", "1", "z", "MAX", "COUNT", "5"],
        &["zadd", "z", "1", "x"],
        &["zrangestore", "zd", "z", "0", "-1"],
        &["zremrangebyscore", "z", "0", "0"],
    ] {
        t.run(c, cmd);
    }
    assert_eq!(
        t.propagated(),
        [
            "SELECT 0",
            "rpush l a b c d",
            "lpop l",
            "rpop l 2",
            "lmove l l2 LEFT RIGHT",
            "rpoplpush l2 l",
            "hset h f 1",
            "HSET h f 2.5",
            "sadd st a b c",
            "smove st st2 a",
            "zadd z 1 a 2 b 3 c",
            "zincrby z 1 a",
            "zpopmin z",
            "ZPOPMAX z 2",
            "zadd z 1 x",
            "zrangestore zd z 0 -1",
        ]
    );
    // SPOP: one member is an SREM; several are one SREM each, wrapped as one unit.
    t.run(
        c,
        &[
            "sadd", "p", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10",
        ],
    );
    let one = t.run(c, &["spop", "p"]);
    let member = one.lines().nth(1).unwrap().to_string();
    t.run(c, &["spop", "p", "3"]);
    let lines = t.propagated();
    assert_eq!(
        lines[..2],
        [
            "sadd p 1 2 3 4 5 6 7 8 9 10".to_string(),
            format!("SREM p {member}")
        ]
    );
    assert_eq!(lines[2], "MULTI");
    assert!(lines[3..6].iter().all(|l| l.starts_with("SREM p ")));
    assert_eq!(lines[6..], ["EXEC"]);
    // The whole set goes: DEL.
    t.run(c, &["spop", "p", "100"]);
    assert_eq!(t.propagated(), ["DEL p"]);
}

#[test]
fn select_is_written_when_the_db_changes() {
    let mut t = InProcess::new(T0);
    let c = t.client();
    t.run(c, &["set", "a", "1"]);
    t.run(c, &["select", "3"]);
    t.run(c, &["get", "a"]);
    t.run(c, &["set", "d3", "1"]);
    t.run(c, &["select", "0"]);
    t.run(c, &["flushall"]);
    assert_eq!(
        t.propagated(),
        [
            "SELECT 0", "set a 1", "SELECT 3", "set d3 1", "SELECT 0", "flushall"
        ]
    );
}

#[test]
fn exec_wraps_more_than_one_write_and_never_propagates_itself() {
    let mut t = InProcess::new(T0);
    let c = t.client();
    // Captured from Redis 7.0.15: SELECT before MULTI, SELECTs inside as the db changes.
    for cmd in [
        &["select", "5"][..],
        &["multi"],
        &["set", "a", "1"],
        &["select", "3"],
        &["set", "b", "2"],
        &["select", "5"],
        &["set", "c", "3"],
    ] {
        t.run(c, cmd);
    }
    assert_eq!(
        t.run(c, &["exec"]),
        "*5\r\n+OK\r\n+OK\r\n+OK\r\n+OK\r\n+OK\r\n"
    );
    assert_eq!(
        t.propagated(),
        [
            "SELECT 5", "MULTI", "set a 1", "SELECT 3", "set b 2", "SELECT 5", "set c 3", "EXEC"
        ]
    );
    // One write among reads: unwrapped. Only reads: nothing.
    for cmd in [
        &["multi"][..],
        &["get", "a"],
        &["set", "m3", "3"],
        &["exec"],
    ] {
        t.run(c, cmd);
    }
    for cmd in [&["multi"][..], &["get", "a"], &["exec"]] {
        t.run(c, cmd);
    }
    assert_eq!(t.propagated(), ["set m3 3"]);
}

#[test]
fn lazily_expired_keys_become_dels_inside_the_unit() {
    let mut t = InProcess::new(T0);
    let c = t.client();
    for k in ["e", "t", "x4", "x5", "l7", "m1", "m2"] {
        t.run(c, &["set", k, "v", "PX", "1"]);
    }
    t.propagated();
    t.advance_ms(2);
    // In a write: MULTI, DEL, the write, EXEC. In a read: the DEL alone.
    t.run(c, &["incr", "e"]);
    t.run(c, &["get", "t"]);
    // Two keys expired by one read: one unit of two DELs.
    t.run(c, &["mget", "x4", "x5"]);
    // Inside EXEC: the DEL joins EXEC's unit.
    for cmd in [
        &["multi"][..],
        &["get", "m1"],
        &["set", "y", "1"],
        &["exec"],
    ] {
        t.run(c, cmd);
    }
    for cmd in [&["multi"][..], &["get", "m2"], &["exec"]] {
        t.run(c, cmd);
    }
    assert_eq!(
        t.propagated(),
        [
            "MULTI", "DEL e", "incr e", "EXEC", "DEL t", "MULTI", "DEL x4", "DEL x5", "EXEC",
            "MULTI", "DEL m1", "set y 1", "EXEC", "DEL m2",
        ]
    );
}

#[test]
fn the_active_expiry_cycle_propagates_each_key_alone() {
    let mut t = InProcess::new(T0);
    let c = t.client();
    for k in ["ax1", "ax2", "ax3"] {
        t.run(c, &["set", k, "v", "PX", "20"]);
    }
    t.propagated();
    t.advance_ms(50);
    t.cron();
    let mut lines = t.propagated();
    lines.sort();
    assert_eq!(lines, ["DEL ax1", "DEL ax2", "DEL ax3"]);
}

#[test]
fn served_blocked_clients_propagate_the_non_blocking_form() {
    let mut t = InProcess::new(T0);
    let (a, b, w) = (t.client(), t.client(), t.client());
    assert_eq!(t.run(a, &["blpop", "bl1", "0"]), "");
    assert_eq!(t.run(b, &["blpop", "bl1", "0"]), "");
    t.run(w, &["rpush", "bl1", "x", "y", "z"]);
    assert_eq!(
        t.run(a, &["ping"]),
        "*2\r\n$3\r\nbl1\r\n$1\r\nx\r\n+PONG\r\n"
    );
    assert_eq!(
        t.run(b, &["ping"]),
        "*2\r\n$3\r\nbl1\r\n$1\r\ny\r\n+PONG\r\n"
    );
    t.run(a, &["blmove", "src", "dst", "left", "right", "0"]);
    t.run(w, &["rpush", "src", "1"]);
    t.run(b, &["bzpopmin", "zz", "0"]);
    t.run(w, &["zadd", "zz", "1", "a", "2", "b"]);
    // Captured from Redis 7.0.15: each served client is its own unit, after the write.
    assert_eq!(
        t.propagated(),
        [
            "SELECT 0",
            "rpush bl1 x y z",
            "LPOP bl1",
            "LPOP bl1",
            "rpush src 1",
            "LMOVE src dst left right",
            "zadd zz 1 a 2 b",
            "ZPOPMIN zz",
        ]
    );
    // Serving counts time, not another call (Redis's updateStatsOnUnblock).
    let row = t.server.table.lookup(b"blpop").unwrap();
    assert_eq!(row.handler.stats.get().calls, 2);
}

#[test]
fn nothing_is_recorded_without_a_sink() {
    let mut t = InProcess::new(T0);
    t.server.engine.set_sink(None);
    let c = t.client();
    t.run(c, &["set", "k", "v", "EX", "10"]);
    t.run(c, &["multi"]);
    t.run(c, &["set", "a", "1"]);
    t.run(c, &["set", "b", "1"]);
    t.run(c, &["exec"]);
    assert!(t.server.engine.propagation.pending().is_empty());
}
