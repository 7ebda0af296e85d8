//! Real-socket tests of transactions with several clients: WATCH invalidated by another
//! client, by expiry (awaited by polling, never by sleeping a fixed time), by FLUSHALL;
//! EXEC's frozen time; CLIENT LIST's `multi=` and `x`/`d` flags; RESET and disconnects.
//!
//! Expected bytes are Redis 7.0.15's (the differential script `scripts/multi.txt` compares
//! the deterministic parts against the real server directly).

mod common;

use common::{Client, Server};
use std::time::{Duration, Instant};

fn s(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn cmd(c: &mut Client, args: &[&str]) -> String {
    s(&c.cmd_raw(args))
}

/// CLIENT LIST's line for client `id`, asked by `c` (a client in MULTI would only queue
/// the question).
fn info_of(c: &mut Client, id: i64) -> String {
    let r = c.cmd(&["CLIENT", "LIST", "ID", &id.to_string()]);
    s(r.as_bytes().expect("a bulk reply"))
        .trim_end()
        .to_string()
}

fn field<'a>(info: &'a str, name: &str) -> &'a str {
    info.split(' ')
        .find_map(|kv| kv.strip_prefix(name).and_then(|v| v.strip_prefix('=')))
        .unwrap_or_else(|| panic!("no {name} in {info}"))
}

/// Polls `EXISTS key` on `c` until it answers 0 (the key's deadline has passed), for at
/// most a few seconds.
fn await_gone(c: &mut Client, key: &str) {
    let start = Instant::now();
    while cmd(c, &["EXISTS", key]) != ":0\r\n" {
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "{key} never expired"
        );
        std::thread::yield_now();
    }
}

#[test]
fn watch_is_invalidated_by_another_client() {
    let srv = Server::ringkv();
    let mut a = srv.connect();
    let mut b = srv.connect();
    let id = a.cmd(&["CLIENT", "ID"]).as_int().unwrap();
    assert_eq!(cmd(&mut a, &["SET", "k", "1"]), "+OK\r\n");
    assert_eq!(cmd(&mut a, &["WATCH", "k", "k", "other"]), "+OK\r\n");
    assert_eq!(field(&info_of(&mut b, id), "flags"), "N");
    assert_eq!(cmd(&mut b, &["INCR", "k"]), ":2\r\n");
    assert_eq!(field(&info_of(&mut b, id), "flags"), "d");
    assert_eq!(cmd(&mut a, &["MULTI"]), "+OK\r\n");
    assert_eq!(cmd(&mut a, &["SET", "k", "mine"]), "+QUEUED\r\n");
    let info = info_of(&mut b, id);
    assert_eq!(field(&info, "flags"), "xd");
    // A doomed transaction stores nothing more (Redis does not queue either).
    assert_eq!(field(&info, "multi"), "0");
    assert_eq!(cmd(&mut a, &["EXEC"]), "*-1\r\n");
    assert_eq!(cmd(&mut b, &["GET", "k"]), "$1\r\n2\r\n");
    let info = info_of(&mut b, id);
    assert_eq!((field(&info, "flags"), field(&info, "multi")), ("N", "-1"));

    // Untouched: the transaction runs, and its own writes do not doom it.
    assert_eq!(cmd(&mut a, &["WATCH", "k"]), "+OK\r\n");
    assert_eq!(cmd(&mut a, &["MULTI"]), "+OK\r\n");
    assert_eq!(cmd(&mut a, &["INCR", "k"]), "+QUEUED\r\n");
    assert_eq!(cmd(&mut a, &["INCR", "k"]), "+QUEUED\r\n");
    let info = info_of(&mut b, id);
    assert_eq!(field(&info, "multi"), "2");
    // Redis 7.0's multi-mem: argument bytes plus a pointer each ("INCR" "k" twice).
    assert_eq!(field(&info, "multi-mem"), "42");
    assert_eq!(field(&info, "cmd"), "incr");
    assert_eq!(field(&info_of(&mut b, id), "flags"), "x");
    assert_eq!(cmd(&mut a, &["EXEC"]), "*2\r\n:3\r\n:4\r\n");
    // EXEC unwatched: a later write by b changes nothing for a's next transaction.
    assert_eq!(cmd(&mut b, &["INCR", "k"]), ":5\r\n");
    assert_eq!(cmd(&mut a, &["MULTI"]), "+OK\r\n");
    assert_eq!(cmd(&mut a, &["GET", "k"]), "+QUEUED\r\n");
    assert_eq!(cmd(&mut a, &["EXEC"]), "*1\r\n$1\r\n5\r\n");
}

#[test]
fn watched_key_expiring_before_exec_fails_the_transaction() {
    let srv = Server::ringkv();
    let mut a = srv.connect();
    let mut b = srv.connect();
    // Same deadline for both keys: EXEC runs at one instant.
    assert_eq!(cmd(&mut a, &["MULTI"]), "+OK\r\n");
    cmd(&mut a, &["SET", "k", "v", "PX", "30"]);
    cmd(&mut a, &["SET", "probe", "v", "PX", "30"]);
    assert_eq!(cmd(&mut a, &["EXEC"]), "*2\r\n+OK\r\n+OK\r\n");
    assert_eq!(cmd(&mut a, &["WATCH", "k"]), "+OK\r\n");
    // Wait on the probe only: touching `k` would delete it, which also fails the watch
    // but would not exercise EXEC's own expiry check.
    await_gone(&mut b, "probe");
    assert_eq!(cmd(&mut a, &["MULTI"]), "+OK\r\n");
    assert_eq!(cmd(&mut a, &["PING"]), "+QUEUED\r\n");
    assert_eq!(cmd(&mut a, &["EXEC"]), "*-1\r\n");
}

#[test]
fn watched_key_deleted_by_expiry_fails_the_transaction() {
    let srv = Server::ringkv();
    let mut a = srv.connect();
    let mut b = srv.connect();
    assert_eq!(cmd(&mut a, &["SET", "k", "v"]), "+OK\r\n");
    assert_eq!(cmd(&mut a, &["WATCH", "k"]), "+OK\r\n");
    // PEXPIRE itself is a change; watch again after the TTL is in place.
    assert_eq!(cmd(&mut b, &["PEXPIRE", "k", "1"]), ":1\r\n");
    assert_eq!(cmd(&mut a, &["UNWATCH"]), "+OK\r\n");
    assert_eq!(cmd(&mut a, &["WATCH", "k"]), "+OK\r\n");
    await_gone(&mut b, "k");
    assert_eq!(cmd(&mut a, &["MULTI"]), "+OK\r\n");
    assert_eq!(cmd(&mut a, &["PING"]), "+QUEUED\r\n");
    let r = cmd(&mut a, &["EXEC"]);
    // Either the key was already expired at WATCH time (then its deletion is no change,
    // as in Redis 7.0.15) or it expired after: both outcomes are Redis's.
    assert!(r == "*-1\r\n" || r == "*1\r\n+PONG\r\n", "{r}");
}

#[test]
fn flushall_touches_existing_watched_keys_only() {
    let srv = Server::ringkv();
    let mut a = srv.connect();
    let mut b = srv.connect();
    assert_eq!(cmd(&mut a, &["WATCH", "missing"]), "+OK\r\n");
    cmd(&mut b, &["SET", "x", "1"]);
    assert_eq!(cmd(&mut b, &["FLUSHALL"]), "+OK\r\n");
    assert_eq!(cmd(&mut a, &["MULTI"]), "+OK\r\n");
    assert_eq!(cmd(&mut a, &["EXEC"]), "*0\r\n");
    cmd(&mut b, &["SET", "x", "1"]);
    assert_eq!(cmd(&mut a, &["WATCH", "x"]), "+OK\r\n");
    assert_eq!(cmd(&mut b, &["FLUSHDB"]), "+OK\r\n");
    assert_eq!(cmd(&mut a, &["MULTI"]), "+OK\r\n");
    assert_eq!(cmd(&mut a, &["EXEC"]), "*-1\r\n");
}

#[test]
fn exec_runs_at_one_instant() {
    let srv = Server::ringkv();
    let mut a = srv.connect();
    assert_eq!(cmd(&mut a, &["MULTI"]), "+OK\r\n");
    cmd(&mut a, &["SET", "k", "v", "PX", "100000"]);
    for _ in 0..200 {
        cmd(&mut a, &["SET", "filler", "x"]);
    }
    cmd(&mut a, &["PTTL", "k"]);
    let r = a.cmd(&["EXEC"]);
    let raw = s(&r.raw);
    assert!(
        raw.ends_with(":100000\r\n"),
        "time moved inside EXEC: {raw}"
    );
}

#[test]
fn reset_and_disconnect_drop_transactions_and_watches() {
    let srv = Server::ringkv();
    let mut a = srv.connect();
    let mut b = srv.connect();
    cmd(&mut a, &["WATCH", "k"]);
    cmd(&mut a, &["MULTI"]);
    cmd(&mut a, &["SET", "r", "1"]);
    assert_eq!(cmd(&mut a, &["RESET"]), "+RESET\r\n");
    assert_eq!(cmd(&mut a, &["EXEC"]), "-ERR EXEC without MULTI\r\n");
    cmd(&mut b, &["SET", "k", "1"]);
    cmd(&mut a, &["MULTI"]);
    assert_eq!(cmd(&mut a, &["EXEC"]), "*0\r\n");
    assert_eq!(cmd(&mut b, &["EXISTS", "r"]), ":0\r\n");

    // A client that disconnects in MULTI leaves nothing queued or watched behind: many of
    // them come and go, and the server keeps serving the rest.
    for i in 0..50 {
        let mut c = srv.connect();
        cmd(&mut c, &["WATCH", "k", &format!("w{i}")]);
        cmd(&mut c, &["MULTI"]);
        cmd(&mut c, &["SET", "never", "1"]);
    }
    cmd(&mut b, &["SET", "k", "2"]);
    assert_eq!(cmd(&mut b, &["EXISTS", "never"]), ":0\r\n");
}

#[test]
fn blocking_free_commands_and_queue_errors_in_one_pipeline() {
    // The whole transaction sent at once: replies arrive in order, EXECABORT at the end.
    let srv = Server::ringkv();
    let mut a = srv.connect();
    let mut pipeline = Vec::new();
    for args in [
        &["MULTI"][..],
        &["SET", "p", "1"],
        &["NOPE"],
        &["GET"],
        &["SET", "q", "1"],
        &["EXEC"],
        &["EXISTS", "p", "q"],
    ] {
        pipeline.extend_from_slice(&common::resp::encode_command(args));
    }
    a.send_raw(&pipeline).unwrap();
    let replies: Vec<String> = (0..7)
        .map(|_| s(&a.read_reply().expect("a reply").raw))
        .collect();
    assert_eq!(
        replies,
        [
            "+OK\r\n",
            "+QUEUED\r\n",
            "-ERR unknown command 'NOPE', with args beginning with: \r\n",
            "-ERR wrong number of arguments for 'get' command\r\n",
            "+QUEUED\r\n",
            "-EXECABORT Transaction discarded because of previous errors.\r\n",
            ":0\r\n",
        ]
    );
}
