//! Real-socket tests of the event loop and the connection layer: each test starts its own
//! `ringkv-server` (see `common::server`: free port, polled start, killed on drop) and talks
//! to it over TCP. They check what only a real socket shows: pipelining and batching,
//! requests split across writes, protocol errors closing exactly the offending
//! connection, connection limits, idle timeout, the query buffer limit, QUIT, HELLO 3,
//! clients that stop reading or vanish mid-pipeline, and a stock client library.
//!
//! Expected texts are Redis 7.0.15's (checked against the real server by hand and by the
//! differential harness).

mod common;

use common::{Client, ReadError, Server, encode_command};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// Reads until the server closes the connection; returns everything received.
fn read_to_close(c: &mut Client) -> Vec<u8> {
    let (replies, end) = c.read_until_close();
    let mut out: Vec<u8> = replies.into_iter().flat_map(|r| r.raw).collect();
    match end {
        ReadError::Closed { partial, .. } => out.extend_from_slice(&partial),
        other => panic!("expected the server to close the connection, got {other}"),
    }
    out
}

fn assert_alive(srv: &Server) {
    let mut c = srv.connect();
    assert_eq!(
        c.cmd_raw(&["PING"]),
        b"+PONG\r\n",
        "server log:\n{}",
        srv.log()
    );
}

#[test]
fn pipeline_of_1000_commands_in_one_write_gets_every_reply_in_order() {
    let srv = Server::ringkv();
    let mut c = srv.connect();
    let mut req = Vec::new();
    for _ in 0..1000 {
        req.extend_from_slice(&encode_command(&["INCR", "counter"]));
    }
    c.send_raw(&req).unwrap();
    for i in 1..=1000 {
        let r = c.read_reply().unwrap();
        assert_eq!(r.raw, format!(":{i}\r\n").as_bytes());
    }
    assert_eq!(c.cmd_raw(&["GET", "counter"]), b"$4\r\n1000\r\n");
}

#[test]
fn pipeline_larger_than_one_read_buffer_is_fully_answered() {
    // ~1.3 MB of requests: spans many provided buffers and partial commands at their
    // edges, and a reply stream big enough for partial sends.
    let srv = Server::ringkv();
    let mut c = srv.connect();
    let value = "v".repeat(100);
    let mut req = Vec::new();
    for i in 0..10_000 {
        req.extend_from_slice(&encode_command(&["SET", &format!("key:{i}"), &value]));
    }
    for i in 0..10_000 {
        req.extend_from_slice(&encode_command(&["GET", &format!("key:{i}")]));
    }
    // Write from another thread: the server answers while we are still sending.
    let mut w = c.stream().try_clone().unwrap();
    let writer = std::thread::spawn(move || w.write_all(&req).unwrap());
    for _ in 0..10_000 {
        assert_eq!(c.read_reply().unwrap().raw, b"+OK\r\n");
    }
    let expect = format!("$100\r\n{value}\r\n");
    for _ in 0..10_000 {
        assert_eq!(c.read_reply().unwrap().raw, expect.as_bytes());
    }
    writer.join().unwrap();
}

#[test]
fn request_split_byte_by_byte_across_writes() {
    let srv = Server::ringkv();
    let mut c = srv.connect();
    let req = encode_command(&["SET", "split", "hello world"]);
    for b in &req {
        c.send_raw(std::slice::from_ref(b)).unwrap();
        c.stream().flush().unwrap();
    }
    assert_eq!(c.read_reply().unwrap().raw, b"+OK\r\n");
    // Inline commands too, split mid-word.
    for chunk in [&b"GE"[..], b"T spl", b"it\r", b"\n"] {
        c.send_raw(chunk).unwrap();
    }
    assert_eq!(c.read_reply().unwrap().raw, b"$11\r\nhello world\r\n");
}

#[test]
fn protocol_errors_reply_redis_text_and_close_only_that_connection() {
    let srv = Server::ringkv();
    let mut bystander = srv.connect();
    assert_eq!(bystander.cmd_raw(&["SET", "k", "v"]), b"+OK\r\n");
    let long_inline = vec![b'a'; 70_000];
    let mut long_mbulk = b"*".to_vec();
    long_mbulk.extend(std::iter::repeat_n(b'1', 70_000));
    let mut long_bulk = b"*1\r\n$".to_vec();
    long_bulk.extend(std::iter::repeat_n(b'1', 70_000));
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (b"*x\r\n".to_vec(), "invalid multibulk length"),
        (b"*1\r\n$x\r\n".to_vec(), "invalid bulk length"),
        (b"*1\r\n$-1\r\n".to_vec(), "invalid bulk length"),
        (b"*1\r\n$600000000\r\n".to_vec(), "invalid bulk length"),
        (b"*1\r\nfoo\r\n".to_vec(), "expected '$', got 'f'"),
        (b"\"unbalanced\r\n".to_vec(), "unbalanced quotes in request"),
        (long_inline, "too big inline request"),
        (long_mbulk, "too big mbulk count string"),
        (long_bulk, "too big bulk count string"),
    ];
    for (input, msg) in cases {
        let mut c = srv.connect();
        // A valid command before the bad bytes in the same write is answered first.
        let mut bytes = encode_command(&["PING"]);
        bytes.extend_from_slice(&input);
        // More commands after the error must not run. (Not after the over-long headers:
        // there Redis only errors while no line end has arrived yet.)
        if !msg.starts_with("too big") {
            bytes.extend_from_slice(&encode_command(&["SET", "after", "1"]));
        }
        c.send_raw(&bytes).unwrap();
        let got = read_to_close(&mut c);
        let want = format!("+PONG\r\n-ERR Protocol error: {msg}\r\n");
        assert_eq!(String::from_utf8_lossy(&got), want);
        assert_eq!(bystander.cmd_raw(&["GET", "k"]), b"$1\r\nv\r\n");
    }
    assert_eq!(bystander.cmd_raw(&["EXISTS", "after"]), b":0\r\n");
}

#[test]
fn maxclients_rejects_the_extra_connection_with_redis_text() {
    // The harness's readiness probe connects and leaves; wait for the count to settle by
    // holding exactly two clients that both answer.
    let srv = Server::ringkv_with(&["--maxclients", "2"]);
    let mut a = srv.connect();
    assert_eq!(a.cmd_raw(&["PING"]), b"+PONG\r\n");
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut b = loop {
        let mut b = srv.connect();
        b.send(&["PING"]).unwrap();
        match b.read_reply() {
            Ok(r) if r.raw == b"+PONG\r\n" => break b,
            _ if Instant::now() < deadline => continue,
            other => panic!("second client refused: {other:?}"),
        }
    };
    let mut extra = srv.connect();
    let got = read_to_close(&mut extra);
    assert_eq!(got, b"-ERR max number of clients reached\r\n");
    assert_eq!(a.cmd_raw(&["PING"]), b"+PONG\r\n");
    assert_eq!(b.cmd_raw(&["PING"]), b"+PONG\r\n");
    drop(b);
    // The slot frees once the server has seen the close.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let mut c = srv.connect();
        c.send(&["PING"]).unwrap();
        if let Ok(r) = c.read_reply()
            && r.raw == b"+PONG\r\n"
        {
            break;
        }
        assert!(Instant::now() < deadline, "slot never freed");
    }
}

#[test]
fn idle_clients_are_closed_after_timeout() {
    let srv = Server::ringkv_with(&["--timeout", "1"]);
    let mut idle = srv.connect();
    assert_eq!(idle.cmd_raw(&["PING"]), b"+PONG\r\n");
    let start = Instant::now();
    idle.set_timeout(Duration::from_secs(10));
    let got = read_to_close(&mut idle);
    assert!(got.is_empty());
    let waited = start.elapsed();
    // Redis closes when idle time in whole seconds exceeds the timeout: after 2 s, within
    // a cron period or so more.
    assert!(
        waited >= Duration::from_millis(1500),
        "closed too early: {waited:?}"
    );
    assert!(
        waited < Duration::from_secs(5),
        "closed too late: {waited:?}"
    );
    assert_alive(&srv);
}

#[test]
fn timeout_zero_never_closes() {
    let srv = Server::ringkv_with(&["--timeout", "0", "--hz", "100"]);
    let mut c = srv.connect();
    c.set_timeout(Duration::from_millis(1500));
    match c.read_reply() {
        Err(ReadError::Timeout { .. }) => {}
        other => panic!("expected no activity, got {other:?}"),
    }
    assert_eq!(c.cmd_raw(&["PING"]), b"+PONG\r\n");
}

#[test]
fn query_buffer_limit_closes_the_client() {
    let srv = Server::ringkv_with(&["--client-query-buffer-limit", "1mb"]);
    let mut c = srv.connect();
    // A bulk argument announced as 2 MB: the unparsed bytes pass 1 MB before it completes.
    let mut req = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2000000\r\n".to_vec();
    req.extend(std::iter::repeat_n(b'x', 1_200_000));
    // The server may close while we are still writing; a write error is expected then.
    let _ = c.send_raw(&req);
    let got = read_to_close(&mut c);
    assert!(
        got.is_empty(),
        "unexpected reply {:?}",
        String::from_utf8_lossy(&got)
    );
    assert!(
        srv.log()
            .contains("Closing client that reached max query buffer length"),
        "log:\n{}",
        srv.log()
    );
    assert_alive(&srv);
}

#[test]
fn big_values_under_the_limit_are_fine() {
    let srv = Server::ringkv();
    let mut c = srv.connect();
    let v = vec![b'z'; 3_000_000];
    assert_eq!(c.cmd_raw(&[&b"SET"[..], b"big", &v]), b"+OK\r\n");
    let r = c.cmd(&["GET", "big"]);
    assert_eq!(r.data, v);
}

#[test]
fn quit_replies_ok_then_closes_and_ignores_the_rest() {
    let srv = Server::ringkv();
    let mut c = srv.connect();
    let mut req = encode_command(&["QUIT"]);
    req.extend_from_slice(&encode_command(&["SET", "afterquit", "1"]));
    c.send_raw(&req).unwrap();
    assert_eq!(read_to_close(&mut c), b"+OK\r\n");
    let mut d = srv.connect();
    assert_eq!(d.cmd_raw(&["EXISTS", "afterquit"]), b":0\r\n");
}

#[test]
fn hello_3_switches_to_resp3_with_redis_map() {
    let srv = Server::ringkv();
    let mut c = srv.connect();
    let id = c.cmd(&["CLIENT", "ID"]).as_int().unwrap();
    let r = c.cmd(&["HELLO", "3"]);
    let want = format!(
        "%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$6\r\n7.0.15\r\n\
         $5\r\nproto\r\n:3\r\n$2\r\nid\r\n:{id}\r\n$4\r\nmode\r\n$10\r\nstandalone\r\n\
         $4\r\nrole\r\n$6\r\nmaster\r\n$7\r\nmodules\r\n*0\r\n"
    );
    assert_eq!(String::from_utf8_lossy(&r.raw), want);
    // RESP3 nulls from now on.
    assert_eq!(c.cmd_raw(&["GET", "missing"]), b"_\r\n");
    assert_eq!(
        c.cmd_raw(&["HELLO", "4"]),
        b"-NOPROTO unsupported protocol version\r\n"
    );
    assert_eq!(c.cmd(&["HELLO", "2"]).raw[..3], b"*14"[..]);
    assert_eq!(c.cmd_raw(&["GET", "missing"]), b"$-1\r\n");
}

#[test]
fn unknown_commands_and_arity_errors_keep_the_connection() {
    let srv = Server::ringkv();
    let mut c = srv.connect();
    assert_eq!(
        c.cmd_raw(&["FOO", "a", "b"]),
        b"-ERR unknown command 'FOO', with args beginning with: 'a' 'b' \r\n"
    );
    assert_eq!(
        c.cmd_raw(&["GET"]),
        b"-ERR wrong number of arguments for 'get' command\r\n"
    );
    assert_eq!(
        c.cmd_raw(&["OBJECT", "nope"]),
        b"-ERR unknown subcommand 'nope'. Try OBJECT HELP.\r\n"
    );
    assert_eq!(
        c.cmd_raw(&["CLIENT", "ID", "extra"]),
        b"-ERR wrong number of arguments for 'client|id' command\r\n"
    );
    assert_eq!(c.cmd_raw(&["ping"]), b"+PONG\r\n");
}

#[test]
fn client_that_stops_reading_gets_all_output_later() {
    let srv = Server::ringkv();
    let mut c = srv.connect();
    let v = vec![b'q'; 1 << 20];
    assert_eq!(c.cmd_raw(&[&b"SET"[..], b"v", &v]), b"+OK\r\n");
    // 32 MB of replies requested before we read any: the server buffers what the socket
    // does not take and keeps sending as we drain.
    let mut req = Vec::new();
    for _ in 0..32 {
        req.extend_from_slice(&encode_command(&["GET", "v"]));
    }
    c.send_raw(&req).unwrap();
    // Meanwhile another client is served.
    assert_alive(&srv);
    c.set_timeout(Duration::from_secs(20));
    for _ in 0..32 {
        let r = c.read_reply().unwrap();
        assert_eq!(r.data.len(), 1 << 20);
    }
}

#[test]
fn client_vanishing_mid_pipeline_is_dropped_cleanly() {
    let srv = Server::ringkv();
    for _ in 0..20 {
        let mut s = TcpStream::connect(srv.addr()).unwrap();
        let mut req = Vec::new();
        for i in 0..2000 {
            req.extend_from_slice(&encode_command(&["SET", &format!("k{i}"), "v"]));
        }
        // Half a command at the end, then gone without reading anything.
        req.extend_from_slice(b"*3\r\n$3\r\nSET\r\n");
        s.write_all(&req).unwrap();
        drop(s);
    }
    assert_alive(&srv);
    let mut c = srv.connect();
    let list = c.cmd(&["CLIENT", "LIST"]);
    // Only us (and perhaps a peer still being torn down) remain.
    let lines = String::from_utf8_lossy(&list.data).lines().count();
    assert!(
        lines <= 2,
        "clients left: {}",
        String::from_utf8_lossy(&list.data)
    );
}

#[test]
fn client_kill_closes_the_target_and_reports_the_count() {
    let srv = Server::ringkv();
    let mut victim = srv.connect();
    let id = victim.cmd(&["CLIENT", "ID"]).as_int().unwrap();
    let mut killer = srv.connect();
    assert_eq!(
        killer.cmd_raw(&["CLIENT", "KILL", "ID", &id.to_string()]),
        b":1\r\n"
    );
    assert!(read_to_close(&mut victim).is_empty());
    assert_eq!(
        killer.cmd_raw(&["CLIENT", "KILL", "ID", &id.to_string()]),
        b":0\r\n"
    );
    assert_eq!(
        killer.cmd_raw(&["CLIENT", "KILL", "1.2.3.4:5"]),
        b"-ERR No such client\r\n"
    );
    // Old form on ourselves: OK, then closed.
    let me = killer.cmd(&["CLIENT", "INFO"]);
    let info = String::from_utf8_lossy(&me.data).into_owned();
    let addr = info
        .split(' ')
        .find_map(|f| f.strip_prefix("addr="))
        .unwrap()
        .to_string();
    killer.send(&["CLIENT", "KILL", &addr]).unwrap();
    assert_eq!(read_to_close(&mut killer), b"+OK\r\n");
}

#[test]
fn client_list_has_redis_7_fields_in_order() {
    let srv = Server::ringkv();
    let mut c = srv.connect();
    assert_eq!(c.cmd_raw(&["CLIENT", "SETNAME", "tester"]), b"+OK\r\n");
    let r = c.cmd(&["CLIENT", "LIST"]);
    let text = String::from_utf8_lossy(&r.data).into_owned();
    let line = text.lines().find(|l| l.contains("name=tester")).unwrap();
    let keys: Vec<&str> = line
        .split(' ')
        .map(|f| f.split('=').next().unwrap())
        .collect();
    assert_eq!(
        keys,
        [
            "id",
            "addr",
            "laddr",
            "fd",
            "name",
            "age",
            "idle",
            "flags",
            "db",
            "sub",
            "psub",
            "ssub",
            "multi",
            "qbuf",
            "qbuf-free",
            "argv-mem",
            "multi-mem",
            "rbs",
            "rbp",
            "obl",
            "oll",
            "omem",
            "tot-mem",
            "events",
            "cmd",
            "user",
            "redir",
            "resp"
        ]
    );
    assert!(line.contains(" flags=N db=0 sub=0 psub=0 ssub=0 multi=-1 qbuf=26 "));
    assert!(line.contains(" argv-mem=10 "));
    assert!(line.ends_with(" events=r cmd=client|list user=default redir=-1 resp=2"));
    assert!(text.ends_with('\n'));
}

/// A SHUTDOWN whose save fails keeps the server up, as Redis does (`/proc` refuses new files
/// even to root); NOSAVE then exits.
#[test]
fn shutdown_exits_cleanly_and_a_failed_save_keeps_the_server_up() {
    let mut srv = Server::ringkv_with(&["--dir", "/proc"]);
    let mut c = srv.connect();
    assert_eq!(
        c.cmd_raw(&["SHUTDOWN", "SAVE"]),
        b"-ERR Errors trying to SHUTDOWN. Check logs.\r\n"
    );
    // The default config has save points, so a plain SHUTDOWN saves too, and fails.
    assert_eq!(
        c.cmd_raw(&["SHUTDOWN"]),
        b"-ERR Errors trying to SHUTDOWN. Check logs.\r\n"
    );
    assert_eq!(
        c.cmd_raw(&["SHUTDOWN", "ABORT"]),
        b"-ERR No shutdown in progress.\r\n"
    );
    assert_eq!(
        c.cmd_raw(&["SHUTDOWN", "NOSAVE", "SAVE"]),
        b"-ERR syntax error\r\n"
    );
    c.send(&["SHUTDOWN", "NOSAVE"]).unwrap();
    assert!(read_to_close(&mut c).is_empty());
    let status = srv
        .wait_exit(Duration::from_secs(10))
        .expect("server did not exit");
    assert!(status.success(), "{status}");
}

#[test]
fn sigterm_exits_with_status_0() {
    let mut srv = Server::ringkv();
    assert_alive(&srv);
    // SAFETY: kill(2) on our own child.
    unsafe {
        libc::kill(srv.pid() as i32, libc::SIGTERM);
    }
    let status = srv
        .wait_exit(Duration::from_secs(10))
        .expect("server did not exit");
    assert!(status.success(), "{status}");
    assert!(srv.log().contains("Received SIGTERM scheduling shutdown"));
}

#[test]
fn redis_crate_basic_use() {
    let srv = Server::ringkv();
    let client = redis::Client::open(format!("redis://127.0.0.1:{}/", srv.port())).unwrap();
    let mut con = client.get_connection().unwrap();
    let _: () = redis::cmd("SET")
        .arg("lib")
        .arg(42)
        .query(&mut con)
        .unwrap();
    let v: i64 = redis::cmd("GET").arg("lib").query(&mut con).unwrap();
    assert_eq!(v, 42);
    let (a, b): (i64, Option<String>) = redis::pipe()
        .cmd("INCR")
        .arg("lib")
        .cmd("GET")
        .arg("nope")
        .query(&mut con)
        .unwrap();
    assert_eq!((a, b), (43, None));
    let err = redis::cmd("NOSUCH").query::<()>(&mut con).unwrap_err();
    assert!(err.to_string().contains("unknown command"), "{err}");
}

#[test]
fn reads_are_independent_per_connection() {
    // Two clients interleave partial commands; neither sees the other's bytes.
    let srv = Server::ringkv();
    let mut a = srv.connect();
    let mut b = srv.connect();
    a.send_raw(b"*3\r\n$3\r\nSET\r\n$1\r\na\r\n").unwrap();
    b.send_raw(b"*3\r\n$3\r\nSET\r\n$1\r\nb\r\n").unwrap();
    a.send_raw(b"$2\r\nAA\r\n").unwrap();
    b.send_raw(b"$2\r\nBB\r\n").unwrap();
    assert_eq!(a.read_reply().unwrap().raw, b"+OK\r\n");
    assert_eq!(b.read_reply().unwrap().raw, b"+OK\r\n");
    assert_eq!(a.cmd_raw(&["GET", "b"]), b"$2\r\nBB\r\n");
    assert_eq!(b.cmd_raw(&["GET", "a"]), b"$2\r\nAA\r\n");
    // Half-close: the server still answers what it got, then closes.
    let mut s = TcpStream::connect(srv.addr()).unwrap();
    s.write_all(&encode_command(&["PING"])).unwrap();
    s.shutdown(std::net::Shutdown::Write).unwrap();
    let mut out = Vec::new();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let _ = s.read_to_end(&mut out);
    assert_eq!(out, b"+PONG\r\n");
}

#[test]
fn single_shot_recv_fallback_serves_the_same() {
    // The path used when the kernel has no provided-buffer rings.
    let srv = Server::ringkv_with(&["--no-buf-ring"]);
    let mut c = srv.connect();
    assert_eq!(c.cmd_raw(&["PING"]), b"+PONG\r\n");
    // Logged before the loop served anything.
    assert!(
        srv.log().contains("single-shot recv"),
        "log:\n{}",
        srv.log()
    );
    let mut req = Vec::new();
    for _ in 0..1000 {
        req.extend_from_slice(&encode_command(&["INCR", "n"]));
    }
    c.send_raw(&req).unwrap();
    for i in 1..=1000 {
        assert_eq!(c.read_reply().unwrap().raw, format!(":{i}\r\n").as_bytes());
    }
    for b in encode_command(&["SET", "s", "split"]) {
        c.send_raw(&[b]).unwrap();
    }
    assert_eq!(c.read_reply().unwrap().raw, b"+OK\r\n");
    let v = vec![b'y'; 1_000_000];
    assert_eq!(c.cmd_raw(&[&b"SET"[..], b"big", &v]), b"+OK\r\n");
    assert_eq!(c.cmd(&["GET", "big"]).data, v);
    let mut bad = srv.connect();
    bad.send_raw(b"*1\r\n$x\r\n").unwrap();
    assert_eq!(
        read_to_close(&mut bad),
        b"-ERR Protocol error: invalid bulk length\r\n"
    );
    assert_eq!(c.cmd_raw(&["GET", "s"]), b"$5\r\nsplit\r\n");
}

#[test]
fn rename_command_moves_the_name_and_empty_disables() {
    let srv = Server::ringkv_with(&[
        "--rename-command",
        "get",
        "fetch",
        "--rename-command",
        "flushall",
        "",
    ]);
    let mut c = srv.connect();
    assert_eq!(c.cmd_raw(&["SET", "k", "v"]), b"+OK\r\n");
    assert_eq!(c.cmd_raw(&["FETCH", "k"]), b"$1\r\nv\r\n");
    assert_eq!(
        c.cmd_raw(&["GET", "k"]),
        b"-ERR unknown command 'GET', with args beginning with: 'k' \r\n"
    );
    // Errors keep Redis's own name.
    assert_eq!(
        c.cmd_raw(&["fetch"]),
        b"-ERR wrong number of arguments for 'get' command\r\n"
    );
    assert!(c.cmd(&["FLUSHALL"]).is_error());
}

#[test]
fn rename_command_of_an_unknown_command_is_fatal() {
    // Fails before binding anything, so run it directly: no port, no readiness probe.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ringkv-server"))
        .args(["--port", "0", "--rename-command", "nosuch", "x"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(
            "*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\nNo such command in rename-command"
        ),
        "{err}"
    );
}

#[test]
fn huge_multibulk_in_small_writes_is_parsed_correctly() {
    // Exercises the parser's resume state across many reads, with writes that cut headers,
    // lengths and payloads at arbitrary points.
    let srv = Server::ringkv();
    let mut c = srv.connect();
    let mut args = vec!["MSET".to_string()];
    for i in 0..20_000 {
        args.push(format!("key:{i}"));
        args.push(format!("value:{i}"));
    }
    let req = encode_command(&args);
    let mut w = c.stream().try_clone().unwrap();
    let writer = std::thread::spawn(move || {
        for chunk in req.chunks(777) {
            w.write_all(chunk).unwrap();
        }
    });
    assert_eq!(c.read_reply().unwrap().raw, b"+OK\r\n");
    writer.join().unwrap();
    assert_eq!(
        c.cmd_raw(&["MGET", "key:0", "key:19999", "key:12345"]),
        b"*3\r\n$7\r\nvalue:0\r\n$11\r\nvalue:19999\r\n$11\r\nvalue:12345\r\n"
    );
}

/// `daemonize yes`, as Debian's stock redis.conf has it: the command returns at once, the
/// server runs on in the background, its pidfile holds the daemon's pid, CONFIG GET shows
/// the setting, and SHUTDOWN ends it and removes the pidfile.
#[test]
fn daemonize_yes_forks_into_the_background() {
    let dir = Server::new_dir(common::Kind::Ringkv);
    std::fs::create_dir_all(&dir).unwrap();
    let port = common::server::free_port();
    let pidfile = dir.join("ringkv.pid");
    let logfile = dir.join("ringkv.log");
    let started = Instant::now();
    let status = std::process::Command::new(common::server::ringkv_bin())
        .args([
            "--port",
            &port.to_string(),
            "--daemonize",
            "yes",
            "--save",
            "",
        ])
        .arg("--pidfile")
        .arg(&pidfile)
        .arg("--logfile")
        .arg(&logfile)
        .current_dir(&dir)
        .status()
        .expect("running ringkv-server");
    assert!(status.success(), "{status}");
    assert!(started.elapsed() < Duration::from_secs(10));
    let deadline = Instant::now() + Duration::from_secs(10);
    let addr = format!("127.0.0.1:{port}").parse().unwrap();
    let mut c = loop {
        if std::fs::read_to_string(&pidfile).is_ok_and(|p| p.ends_with('\n'))
            && let Ok(c) = Client::connect(addr)
        {
            break c;
        }
        assert!(Instant::now() < deadline, "the daemon did not start");
        std::thread::sleep(Duration::from_millis(10));
    };
    let pid: i32 = std::fs::read_to_string(&pidfile)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert_eq!(c.cmd(&["PING"]).text(), "PONG");
    let info = c.cmd(&["INFO", "server"]).text();
    assert!(info.contains(&format!("process_id:{pid}\r\n")), "{info}");
    assert_eq!(
        c.cmd(&["CONFIG", "GET", "daemonize"]).to_string(),
        "*2\\r\\n$9\\r\\ndaemonize\\r\\n$3\\r\\nyes\\r\\n"
    );
    c.send(&["SHUTDOWN", "NOSAVE"]).unwrap();
    let (_, end) = c.read_until_close();
    assert!(end.is_closed(), "{end:?}");
    let deadline = Instant::now() + Duration::from_secs(10);
    // SAFETY: signal 0 only checks that the process exists.
    while unsafe { libc::kill(pid, 0) } == 0 || pidfile.exists() {
        assert!(Instant::now() < deadline, "the daemon did not exit");
        std::thread::sleep(Duration::from_millis(10));
    }
    let log = std::fs::read_to_string(&logfile).unwrap();
    assert!(log.contains("Ready to accept connections"), "{log}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// `supervised systemd` with `NOTIFY_SOCKET` (Debian's `Type=notify` unit): the server
/// stays in the foreground whatever `daemonize` says, tells systemd `READY=1` with Redis's
/// status line once it accepts connections, and `STOPPING=1` when it shuts down.
#[test]
fn supervised_systemd_notifies_ready_and_stopping() {
    use std::os::unix::net::UnixDatagram;
    let dir = Server::new_dir(common::Kind::Ringkv);
    std::fs::create_dir_all(&dir).unwrap();
    let sock_path = dir.join("notify.sock");
    let sock = UnixDatagram::bind(&sock_path).unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let port = common::server::free_port();
    let mut child = std::process::Command::new(common::server::ringkv_bin())
        .args(["--port", &port.to_string(), "--save", ""])
        .args(["--supervised", "systemd", "--daemonize", "yes"])
        .env("NOTIFY_SOCKET", &sock_path)
        .current_dir(&dir)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("running ringkv-server");
    let recv = || {
        let mut buf = [0u8; 512];
        let n = sock.recv(&mut buf).expect("a notification");
        String::from_utf8_lossy(&buf[..n]).into_owned()
    };
    assert_eq!(recv(), "STATUS=Ready to accept connections\n");
    assert_eq!(recv(), "READY=1\n");
    // Still our child: it did not fork away.
    assert!(child.try_wait().unwrap().is_none());
    let addr = format!("127.0.0.1:{port}").parse().unwrap();
    let mut c = Client::connect(addr).unwrap();
    assert_eq!(c.cmd(&["PING"]).text(), "PONG");
    c.send(&["SHUTDOWN", "NOSAVE"]).unwrap();
    assert_eq!(recv(), "STOPPING=1\n");
    let status = child.wait().unwrap();
    assert!(status.success(), "{status}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// `unixsocket` / `unixsocketperm`: clients connect through the socket file (with the
/// permissions asked), are local to protected mode, show the path as their addresses with
/// flag `U`; the socket keeps serving after CONFIG SET port moves the TCP listener, and the
/// file is removed at shutdown.
#[test]
fn unixsocket_serves_clients_and_is_removed_at_exit() {
    use std::os::unix::fs::PermissionsExt;
    use std::os::unix::net::UnixStream;
    let dir = Server::new_dir(common::Kind::Ringkv);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("ringkv.sock");
    let p = path.to_str().unwrap().to_string();
    let srv = Server::start_in(
        common::Kind::Ringkv,
        &["--unixsocket", &p, "--unixsocketperm", "700"],
        &dir,
    );
    let mode = std::fs::metadata(&path).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o700, "{mode:o}");
    let mut u = UnixStream::connect(&path).unwrap();
    u.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let ask = |u: &mut UnixStream, cmd: &[&str]| -> String {
        u.write_all(&encode_command(cmd)).unwrap();
        let mut buf = vec![0u8; 4096];
        let n = u.read(&mut buf).unwrap();
        String::from_utf8_lossy(&buf[..n]).into_owned()
    };
    assert_eq!(ask(&mut u, &["PING"]), "+PONG\r\n");
    let info = ask(&mut u, &["CLIENT", "INFO"]);
    assert!(
        info.contains(&format!(" addr={p}:0 laddr={p}:0 ")) && info.contains(" flags=U "),
        "{info}"
    );
    // The TCP listener moves; the socket stays.
    let mut c = srv.connect();
    let port = common::server::free_port().to_string();
    assert_eq!(c.cmd(&["CONFIG", "SET", "port", &port]).text(), "OK");
    assert_eq!(ask(&mut u, &["PING"]), "+PONG\r\n");
    let mut again = UnixStream::connect(&path).unwrap();
    again
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    assert_eq!(ask(&mut again, &["PING"]), "+PONG\r\n");
    assert_eq!(ask(&mut again, &["SHUTDOWN", "NOSAVE"]), "");
    let deadline = Instant::now() + Duration::from_secs(10);
    while path.exists() {
        assert!(Instant::now() < deadline, "the socket file stayed");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// `oom-score-adj` / `oom-score-adj-values`: the process's `/proc/self/oom_score_adj`
/// follows its role (master, then replica) as Redis's setOOMScoreAdj sets it, relative to
/// the score it started with or absolute, and goes back to that score when turned off.
#[test]
fn oom_score_adj_follows_the_role() {
    let srv = Server::ringkv();
    let mut c = srv.connect();
    let path = format!("/proc/{}/oom_score_adj", srv.pid());
    let score = || -> i64 {
        std::fs::read_to_string(&path)
            .unwrap()
            .trim()
            .parse()
            .unwrap()
    };
    let base = score();
    let set = |c: &mut Client, name: &str, v: &str| {
        assert_eq!(
            c.cmd(&["CONFIG", "SET", name, v]).text(),
            "OK",
            "{name} {v}"
        );
    };
    set(&mut c, "oom-score-adj-values", "0 200 800");
    set(&mut c, "oom-score-adj", "absolute");
    assert_eq!(score(), 0);
    assert_eq!(c.cmd(&["REPLICAOF", "127.0.0.1", "1"]).text(), "OK");
    assert_eq!(score(), 200);
    set(&mut c, "oom-score-adj-values", "10 300 800");
    assert_eq!(score(), 300);
    assert_eq!(c.cmd(&["REPLICAOF", "NO", "ONE"]).text(), "OK");
    assert_eq!(score(), 10);
    set(&mut c, "oom-score-adj", "relative");
    assert_eq!(score(), (base + 10).clamp(-1000, 1000));
    set(&mut c, "oom-score-adj", "no");
    assert_eq!(score(), base);
}

/// `server_cpulist`: the process keeps to those CPUs (taskset's syntax); a malformed list
/// stops the start.
#[test]
fn server_cpulist_sets_the_cpu_affinity() {
    let srv = Server::ringkv_with(&["--server_cpulist", "0"]);
    let status = std::fs::read_to_string(format!("/proc/{}/status", srv.pid())).unwrap();
    let allowed = status
        .lines()
        .find_map(|l| l.strip_prefix("Cpus_allowed_list:"))
        .unwrap()
        .trim()
        .to_string();
    assert_eq!(allowed, "0", "{status}");
    assert_eq!(srv.connect().cmd(&["PING"]).text(), "PONG");
    let err = Server::try_start(common::Kind::Ringkv, &["--server_cpulist", "2-1"])
        .err()
        .expect("a malformed list must not start");
    assert!(err.contains("Invalid cpulist"), "{err}");
}

/// `syslog-enabled yes`: log lines also go to syslog, under `syslog-ident` and
/// `syslog-facility` with Redis's priorities. Checked by standing in for the syslog daemon
/// at /dev/log, on machines that have none (CI's); skipped loudly elsewhere.
#[test]
fn syslog_enabled_sends_the_log_to_syslog() {
    use std::os::unix::net::UnixDatagram;
    let path = std::path::Path::new("/dev/log");
    if path.exists() {
        eprintln!(
            "SKIPPED syslog_enabled_sends_the_log_to_syslog: /dev/log belongs to a syslog daemon here"
        );
        return;
    }
    let Ok(sock) = UnixDatagram::bind(path) else {
        eprintln!("SKIPPED syslog_enabled_sends_the_log_to_syslog: cannot bind /dev/log");
        return;
    };
    struct Unbind;
    impl Drop for Unbind {
        fn drop(&mut self) {
            let _ = std::fs::remove_file("/dev/log");
        }
    }
    let _unbind = Unbind;
    sock.set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let srv = Server::ringkv_with(&[
        "--syslog-enabled",
        "yes",
        "--syslog-ident",
        "ringkv-test",
        "--syslog-facility",
        "local3",
    ]);
    let mut buf = vec![0u8; 4096];
    let line = loop {
        let n = sock.recv(&mut buf).expect("a syslog line");
        let text = String::from_utf8_lossy(&buf[..n]).into_owned();
        if text.contains("Ready to accept connections") {
            break text;
        }
    };
    // local3 (19) * 8 + LOG_WARNING (4), as Redis logs its LL_WARNING lines.
    assert!(line.starts_with("<156>"), "{line}");
    assert!(
        line.contains(&format!("ringkv-test[{}]: ", srv.pid())),
        "{line}"
    );
}

/// CONFIG SET loglevel makes the log more verbose as well as quieter: a server started at
/// `warning` writes notice lines once set to `notice`.
#[test]
fn config_set_loglevel_raises_verbosity() {
    let dir = Server::new_dir(common::Kind::Ringkv);
    std::fs::create_dir_all(&dir).unwrap();
    let log = dir.join("ringkv.log");
    let l = log.to_str().unwrap().to_string();
    let srv = Server::start_in(
        common::Kind::Ringkv,
        &["--loglevel", "warning", "--logfile", &l],
        &dir,
    );
    let mut c = srv.connect();
    assert_eq!(c.cmd(&["SAVE"]).text(), "OK");
    let saved = || {
        std::fs::read_to_string(&log)
            .unwrap_or_default()
            .matches("DB saved on disk")
            .count()
    };
    assert_eq!(saved(), 0, "a notice line at loglevel warning");
    assert_eq!(c.cmd(&["CONFIG", "SET", "loglevel", "notice"]).text(), "OK");
    assert_eq!(c.cmd(&["SAVE"]).text(), "OK");
    assert_eq!(saved(), 1);
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "loglevel", "warning"]).text(),
        "OK"
    );
    assert_eq!(c.cmd(&["SAVE"]).text(), "OK");
    assert_eq!(saved(), 1);
}
