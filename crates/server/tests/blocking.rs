//! Real-socket tests of blocking list commands with several clients: FIFO wake-up order, a
//! push handed to the blocked client before the pusher's next command, sub-second timeouts,
//! the first waiter disconnecting, commands pipelined behind a blocked one, BLMOVE chains,
//! CLIENT UNBLOCK, MULTI (no blocking), introspection (INFO, CLIENT LIST), stream readers
//! (XREAD `$`, XREADGROUP FIFO and timeouts, errors when the group or key goes) and the
//! `--no-buf-ring` read path.
//!
//! No sleeps to "wait until blocked": tests poll INFO `blocked_clients`.

mod common;

use common::{Client, Server};
use std::time::{Duration, Instant};

fn raw(c: &mut Client) -> String {
    String::from_utf8_lossy(&c.read_reply().expect("a reply").raw).into_owned()
}

fn cmd(c: &mut Client, args: &[&str]) -> String {
    String::from_utf8_lossy(&c.cmd(args).raw).into_owned()
}

/// Polls INFO until `n` clients are blocked.
fn wait_blocked(ctl: &mut Client, n: usize) {
    let want = format!("blocked_clients:{n}\r\n");
    let start = Instant::now();
    loop {
        let info = ctl.cmd(&["INFO", "clients"]).text();
        if info.contains(&want) {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "never reached {want:?}: {info}"
        );
        std::thread::yield_now();
    }
}

fn kv(key: &str, val: &str) -> String {
    format!(
        "*2\r\n${}\r\n{key}\r\n${}\r\n{val}\r\n",
        key.len(),
        val.len()
    )
}

#[test]
fn waiters_are_served_in_arrival_order() {
    let srv = Server::ringkv();
    let mut ctl = srv.connect();
    let mut c1 = srv.connect();
    let mut c2 = srv.connect();
    let mut c3 = srv.connect();
    c1.send(&["BLPOP", "k", "0"]).unwrap();
    wait_blocked(&mut ctl, 1);
    c2.send(&["BRPOP", "other", "k", "0"]).unwrap();
    wait_blocked(&mut ctl, 2);
    c3.send(&["BLPOP", "k", "0"]).unwrap();
    wait_blocked(&mut ctl, 3);
    assert_eq!(cmd(&mut ctl, &["RPUSH", "k", "a", "b"]), ":2\r\n");
    assert_eq!(raw(&mut c1), kv("k", "a"));
    assert_eq!(raw(&mut c2), kv("k", "b"));
    wait_blocked(&mut ctl, 1);
    assert_eq!(cmd(&mut ctl, &["LPUSH", "k", "c"]), ":1\r\n");
    assert_eq!(raw(&mut c3), kv("k", "c"));
    assert_eq!(cmd(&mut ctl, &["EXISTS", "k"]), ":0\r\n");
}

#[test]
fn pushed_element_goes_to_the_waiter_before_the_next_command() {
    let srv = Server::ringkv();
    let mut ctl = srv.connect();
    let mut waiter = srv.connect();
    waiter.send(&["BLPOP", "k", "0"]).unwrap();
    wait_blocked(&mut ctl, 1);
    // One read holding both commands: LLEN runs after the handover.
    let mut pipe = common::encode_command(&["RPUSH", "k", "x"]);
    pipe.extend(common::encode_command(&["LLEN", "k"]));
    ctl.send_raw(&pipe).unwrap();
    assert_eq!(raw(&mut ctl), ":1\r\n");
    assert_eq!(raw(&mut ctl), ":0\r\n");
    assert_eq!(raw(&mut waiter), kv("k", "x"));
}

#[test]
fn sub_second_timeouts_answer_null_arrays() {
    let srv = Server::ringkv();
    let mut c = srv.connect();
    for (args, want) in [
        (&["BLPOP", "k", "0.1"][..], "*-1\r\n"),
        (&["BLMOVE", "k", "d", "LEFT", "LEFT", "0.1"][..], "*-1\r\n"),
        (&["BLMPOP", "0.1", "1", "k", "LEFT"][..], "*-1\r\n"),
    ] {
        let start = Instant::now();
        assert_eq!(cmd(&mut c, args), want, "{args:?}");
        let took = start.elapsed();
        assert!(
            took >= Duration::from_millis(100),
            "{args:?} after {took:?}"
        );
        assert!(took < Duration::from_secs(3), "{args:?} after {took:?}");
    }
    let mut ctl = srv.connect();
    assert!(cmd(&mut ctl, &["INFO", "clients"]).contains("blocked_clients:0\r\n"));
}

#[test]
fn a_disconnected_waiter_leaves_the_queue() {
    let srv = Server::ringkv();
    let mut ctl = srv.connect();
    let mut first = srv.connect();
    let mut second = srv.connect();
    first.send(&["BLPOP", "k", "0"]).unwrap();
    wait_blocked(&mut ctl, 1);
    second.send(&["BLPOP", "k", "0"]).unwrap();
    wait_blocked(&mut ctl, 2);
    drop(first);
    wait_blocked(&mut ctl, 1);
    assert_eq!(cmd(&mut ctl, &["RPUSH", "k", "x"]), ":1\r\n");
    assert_eq!(raw(&mut second), kv("k", "x"));
    assert_eq!(cmd(&mut ctl, &["LLEN", "k"]), ":0\r\n");
}

#[test]
fn commands_pipelined_behind_a_blocked_one_run_after_it() {
    let srv = Server::ringkv();
    let mut ctl = srv.connect();
    let mut c = srv.connect();
    let mut pipe = common::encode_command(&["BLPOP", "k", "0"]);
    pipe.extend(common::encode_command(&["PING"]));
    pipe.extend(common::encode_command(&["LLEN", "k"]));
    c.send_raw(&pipe).unwrap();
    wait_blocked(&mut ctl, 1);
    c.set_timeout(Duration::from_millis(50));
    assert!(c.read_reply().is_err(), "no reply while blocked");
    c.set_timeout(Duration::from_secs(5));
    assert_eq!(cmd(&mut ctl, &["RPUSH", "k", "a", "b"]), ":2\r\n");
    assert_eq!(raw(&mut c), kv("k", "a"));
    assert_eq!(raw(&mut c), "+PONG\r\n");
    assert_eq!(raw(&mut c), ":1\r\n");
}

#[test]
fn blmove_feeds_the_next_waiter() {
    let srv = Server::ringkv();
    let mut ctl = srv.connect();
    let mut mover = srv.connect();
    let mut popper = srv.connect();
    mover
        .send(&["BLMOVE", "src", "dst", "RIGHT", "LEFT", "0"])
        .unwrap();
    wait_blocked(&mut ctl, 1);
    popper.send(&["BLPOP", "dst", "0"]).unwrap();
    wait_blocked(&mut ctl, 2);
    assert_eq!(cmd(&mut ctl, &["RPUSH", "src", "v"]), ":1\r\n");
    assert_eq!(raw(&mut mover), "$1\r\nv\r\n");
    assert_eq!(raw(&mut popper), kv("dst", "v"));
    assert_eq!(cmd(&mut ctl, &["EXISTS", "src", "dst"]), ":0\r\n");
}

#[test]
fn client_unblock_with_timeout_or_error() {
    let srv = Server::ringkv();
    let mut ctl = srv.connect();
    let mut c = srv.connect();
    let id = c.cmd(&["CLIENT", "ID"]).as_int().unwrap().to_string();
    assert_eq!(cmd(&mut ctl, &["CLIENT", "UNBLOCK", &id]), ":0\r\n");
    c.send(&["BRPOPLPUSH", "k", "d", "0"]).unwrap();
    wait_blocked(&mut ctl, 1);
    let list = ctl.cmd(&["CLIENT", "LIST"]).text();
    assert!(
        list.lines()
            .any(|l| l.contains(&format!("id={id} ")) && l.contains("flags=b ")),
        "{list}"
    );
    assert_eq!(
        cmd(&mut ctl, &["CLIENT", "UNBLOCK", &id, "TIMEOUT"]),
        ":1\r\n"
    );
    assert_eq!(raw(&mut c), "*-1\r\n");
    c.send(&["BLPOP", "k", "0"]).unwrap();
    wait_blocked(&mut ctl, 1);
    assert_eq!(
        cmd(&mut ctl, &["CLIENT", "UNBLOCK", &id, "ERROR"]),
        ":1\r\n"
    );
    assert_eq!(
        raw(&mut c),
        "-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n"
    );
    assert_eq!(cmd(&mut c, &["PING"]), "+PONG\r\n");
}

#[test]
fn a_waiter_is_served_only_by_a_list() {
    let srv = Server::ringkv();
    let mut ctl = srv.connect();
    let mut c = srv.connect();
    c.send(&["BLPOP", "k", "0"]).unwrap();
    wait_blocked(&mut ctl, 1);
    // Created and replaced in one transaction: when the waiter is looked at, `k` is a
    // string, so it keeps waiting (Redis 7.0 behaves the same).
    let mut pipe = common::encode_command(&["MULTI"]);
    for args in [&["RPUSH", "k", "x"][..], &["SET", "k", "s"], &["EXEC"]] {
        pipe.extend(common::encode_command(args));
    }
    ctl.send_raw(&pipe).unwrap();
    for _ in 0..4 {
        ctl.read_reply().unwrap();
    }
    wait_blocked(&mut ctl, 1);
    assert_eq!(cmd(&mut ctl, &["DEL", "k"]), ":1\r\n");
    assert_eq!(cmd(&mut ctl, &["RPUSH", "k", "y"]), ":1\r\n");
    assert_eq!(raw(&mut c), kv("k", "y"));
}

#[test]
fn blocking_commands_do_not_block_inside_multi() {
    let srv = Server::ringkv();
    let mut c = srv.connect();
    assert_eq!(cmd(&mut c, &["MULTI"]), "+OK\r\n");
    assert_eq!(cmd(&mut c, &["BLPOP", "k", "0"]), "+QUEUED\r\n");
    assert_eq!(
        cmd(&mut c, &["BLMOVE", "k", "d", "LEFT", "LEFT", "0"]),
        "+QUEUED\r\n"
    );
    assert_eq!(cmd(&mut c, &["EXEC"]), "*2\r\n*-1\r\n$-1\r\n");
}

#[test]
fn single_shot_recv_path_resumes_buffered_commands() {
    let srv = Server::ringkv_with(&["--no-buf-ring"]);
    let mut ctl = srv.connect();
    let mut c = srv.connect();
    let mut pipe = common::encode_command(&["BLPOP", "k", "0"]);
    pipe.extend(common::encode_command(&["PING"]));
    c.send_raw(&pipe).unwrap();
    wait_blocked(&mut ctl, 1);
    assert_eq!(cmd(&mut ctl, &["RPUSH", "k", "a"]), ":1\r\n");
    assert_eq!(raw(&mut c), kv("k", "a"));
    assert_eq!(raw(&mut c), "+PONG\r\n");
    assert_eq!(cmd(&mut c, &["BLPOP", "k", "0.05"]), "*-1\r\n");
    assert_eq!(cmd(&mut c, &["PING"]), "+PONG\r\n");
}

#[test]
fn a_blocked_client_is_not_closed_as_idle() {
    // `timeout 1` closes clients idle for 2 s; the blocked one must get its own timeout.
    let srv = Server::ringkv_with(&["--timeout", "1"]);
    let mut c = srv.connect();
    let start = Instant::now();
    assert_eq!(cmd(&mut c, &["BLPOP", "k", "3.2"]), "*-1\r\n");
    assert!(start.elapsed() >= Duration::from_millis(3200));
    assert_eq!(cmd(&mut c, &["PING"]), "+PONG\r\n");
}

#[test]
fn rename_move_and_copy_onto_a_waited_key_serve_it() {
    let srv = Server::ringkv();
    let mut ctl = srv.connect();
    let mut c = srv.connect();
    c.send(&["BLPOP", "dst", "0"]).unwrap();
    wait_blocked(&mut ctl, 1);
    assert_eq!(cmd(&mut ctl, &["SET", "str", "x"]), "+OK\r\n");
    assert_eq!(cmd(&mut ctl, &["RENAME", "str", "dst"]), "+OK\r\n");
    wait_blocked(&mut ctl, 1);
    assert_eq!(cmd(&mut ctl, &["DEL", "dst"]), ":1\r\n");
    assert_eq!(cmd(&mut ctl, &["RPUSH", "src", "a", "b", "c"]), ":3\r\n");
    assert_eq!(cmd(&mut ctl, &["COPY", "src", "dst"]), ":1\r\n");
    assert_eq!(raw(&mut c), kv("dst", "a"));
    c.send(&["BLPOP", "w", "0"]).unwrap();
    wait_blocked(&mut ctl, 1);
    assert_eq!(cmd(&mut ctl, &["RENAME", "dst", "w"]), "+OK\r\n");
    assert_eq!(raw(&mut c), kv("w", "b"));
    assert_eq!(cmd(&mut c, &["SELECT", "1"]), "+OK\r\n");
    c.send(&["BLPOP", "src", "0"]).unwrap();
    wait_blocked(&mut ctl, 1);
    assert_eq!(cmd(&mut ctl, &["MOVE", "src", "1"]), ":1\r\n");
    assert_eq!(raw(&mut c), kv("src", "a"));
}

#[test]
fn swapdb_serves_waiters_of_a_db_that_gained_the_key() {
    let srv = Server::ringkv();
    let mut ctl = srv.connect();
    let mut c = srv.connect();
    c.send(&["BLPOP", "k", "0"]).unwrap();
    wait_blocked(&mut ctl, 1);
    assert_eq!(cmd(&mut ctl, &["SELECT", "3"]), "+OK\r\n");
    assert_eq!(cmd(&mut ctl, &["RPUSH", "k", "v"]), ":1\r\n");
    assert_eq!(cmd(&mut ctl, &["SWAPDB", "0", "3"]), "+OK\r\n");
    assert_eq!(raw(&mut c), kv("k", "v"));
}

#[test]
fn single_shot_recv_path_blocks_again_with_commands_buffered() {
    let srv = Server::ringkv_with(&["--no-buf-ring"]);
    let mut ctl = srv.connect();
    let mut c = srv.connect();
    let mut pipe = common::encode_command(&["BLPOP", "k", "0"]);
    pipe.extend(common::encode_command(&["BLPOP", "k", "0"]));
    pipe.extend(common::encode_command(&["PING"]));
    c.send_raw(&pipe).unwrap();
    wait_blocked(&mut ctl, 1);
    assert_eq!(cmd(&mut ctl, &["RPUSH", "k", "a"]), ":1\r\n");
    assert_eq!(raw(&mut c), kv("k", "a"));
    wait_blocked(&mut ctl, 1);
    assert_eq!(cmd(&mut ctl, &["RPUSH", "k", "b"]), ":1\r\n");
    assert_eq!(raw(&mut c), kv("k", "b"));
    assert_eq!(raw(&mut c), "+PONG\r\n");
}

#[test]
fn single_shot_recv_path_notices_a_blocked_client_leaving() {
    let srv = Server::ringkv_with(&["--no-buf-ring"]);
    let mut ctl = srv.connect();
    let mut first = srv.connect();
    let mut second = srv.connect();
    first.send(&["BLPOP", "k", "0"]).unwrap();
    wait_blocked(&mut ctl, 1);
    second.send(&["BLPOP", "k", "0"]).unwrap();
    wait_blocked(&mut ctl, 2);
    drop(first);
    wait_blocked(&mut ctl, 1);
    assert_eq!(cmd(&mut ctl, &["RPUSH", "k", "x"]), ":1\r\n");
    assert_eq!(raw(&mut second), kv("k", "x"));
}

/// `[[key, [[id, [f, v]]]]]` as RESP2.
fn one_entry(key: &str, id: &str, f: &str, v: &str) -> String {
    format!(
        "*1\r\n*2\r\n${}\r\n{key}\r\n*1\r\n*2\r\n${}\r\n{id}\r\n*2\r\n${}\r\n{f}\r\n${}\r\n{v}\r\n",
        key.len(),
        id.len(),
        f.len(),
        v.len()
    )
}

#[test]
fn stream_readers_in_a_group_are_served_in_order_and_time_out() {
    let srv = Server::ringkv();
    let mut ctl = srv.connect();
    let mut c1 = srv.connect();
    let mut c2 = srv.connect();
    let mut c3 = srv.connect();
    assert_eq!(
        cmd(&mut ctl, &["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"]),
        "+OK\r\n"
    );
    let read = |name: &'static str, block: &'static str| {
        [
            "XREADGROUP",
            "GROUP",
            "g",
            name,
            "COUNT",
            "1",
            "BLOCK",
            block,
            "STREAMS",
            "s",
            ">",
        ]
    };
    c1.send(&read("a", "0")).unwrap();
    wait_blocked(&mut ctl, 1);
    c2.send(&read("b", "0")).unwrap();
    wait_blocked(&mut ctl, 2);
    let start = Instant::now();
    c3.send(&read("c", "200")).unwrap();
    wait_blocked(&mut ctl, 3);
    assert_eq!(
        cmd(&mut ctl, &["XADD", "s", "1-1", "f", "1"]),
        "$3\r\n1-1\r\n"
    );
    assert_eq!(raw(&mut c1), one_entry("s", "1-1", "f", "1"));
    assert_eq!(
        cmd(&mut ctl, &["XADD", "s", "1-2", "f", "2"]),
        "$3\r\n1-2\r\n"
    );
    assert_eq!(raw(&mut c2), one_entry("s", "1-2", "f", "2"));
    // The third times out with a null array, about when asked.
    assert_eq!(raw(&mut c3), "*-1\r\n");
    let took = start.elapsed();
    assert!(took >= Duration::from_millis(200), "after {took:?}");
    assert!(took < Duration::from_secs(3), "after {took:?}");
    assert!(cmd(&mut ctl, &["XPENDING", "s", "g"]).starts_with("*4\r\n:2\r\n"));
}

#[test]
fn xread_dollar_and_unblock_and_disconnect() {
    let srv = Server::ringkv();
    let mut ctl = srv.connect();
    let mut c1 = srv.connect();
    let mut c2 = srv.connect();
    cmd(&mut ctl, &["XADD", "s", "1-1", "old", "x"]);
    // A waiter that disconnects leaves the queue; `$` is the last ID at block time.
    c1.send(&["XREAD", "BLOCK", "0", "STREAMS", "s", "$"])
        .unwrap();
    wait_blocked(&mut ctl, 1);
    c2.send(&["XREAD", "BLOCK", "0", "STREAMS", "s", "$"])
        .unwrap();
    wait_blocked(&mut ctl, 2);
    drop(c1);
    wait_blocked(&mut ctl, 1);
    cmd(&mut ctl, &["XADD", "s", "2-1", "new", "y"]);
    assert_eq!(raw(&mut c2), one_entry("s", "2-1", "new", "y"));
    // CLIENT UNBLOCK: the timeout reply, or the error.
    let id = c2.cmd(&["CLIENT", "ID"]).as_int().unwrap().to_string();
    c2.send(&["XREAD", "BLOCK", "0", "STREAMS", "s", "$"])
        .unwrap();
    wait_blocked(&mut ctl, 1);
    assert_eq!(cmd(&mut ctl, &["CLIENT", "UNBLOCK", &id]), ":1\r\n");
    assert_eq!(raw(&mut c2), "*-1\r\n");
    c2.send(&["XREAD", "BLOCK", "0", "STREAMS", "s", "$"])
        .unwrap();
    wait_blocked(&mut ctl, 1);
    assert_eq!(
        cmd(&mut ctl, &["CLIENT", "UNBLOCK", &id, "ERROR"]),
        ":1\r\n"
    );
    assert_eq!(
        raw(&mut c2),
        "-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n"
    );
    // Inside MULTI it does not block.
    cmd(&mut c2, &["MULTI"]);
    cmd(&mut c2, &["XREAD", "BLOCK", "0", "STREAMS", "s", "$"]);
    assert_eq!(cmd(&mut c2, &["EXEC"]), "*1\r\n*-1\r\n");
}

#[test]
fn xreadgroup_waiter_gets_an_error_when_its_group_or_key_goes() {
    let srv = Server::ringkv();
    let mut ctl = srv.connect();
    let mut c = srv.connect();
    let read = [
        "XREADGROUP",
        "GROUP",
        "g",
        "c",
        "BLOCK",
        "0",
        "STREAMS",
        "s",
        ">",
    ];
    cmd(&mut ctl, &["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"]);
    c.send(&read).unwrap();
    wait_blocked(&mut ctl, 1);
    assert_eq!(cmd(&mut ctl, &["XGROUP", "DESTROY", "s", "g"]), ":1\r\n");
    assert_eq!(
        raw(&mut c),
        "-NOGROUP the consumer group this client was blocked on no longer exists\r\n"
    );
    cmd(&mut ctl, &["XGROUP", "CREATE", "s", "g", "$"]);
    c.send(&read).unwrap();
    wait_blocked(&mut ctl, 1);
    assert_eq!(cmd(&mut ctl, &["UNLINK", "s"]), ":1\r\n");
    assert_eq!(
        raw(&mut c),
        "-UNBLOCKED the stream key no longer exists\r\n"
    );
    assert_eq!(cmd(&mut c, &["PING"]), "+PONG\r\n");
}
