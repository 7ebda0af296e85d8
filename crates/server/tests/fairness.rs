//! Fairness and backpressure of the event loop, over real sockets against the
//! `ringkv-server` binary: a client that pipelines big replies and never reads must neither
//! starve the other clients (each connection runs at most one read's worth of input per loop
//! turn) nor make the server buffer without bound (a connection whose output is not drained
//! stops being read, so the kernel's TCP window closes and the client blocks). When it
//! finally reads, it gets every reply, in order.

mod common;

use common::{Server, encode_command};
use std::io::{ErrorKind, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Resident set size of a process, in bytes.
fn rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .expect("VmRSS in /proc/PID/status");
    let kb: u64 = line
        .split_whitespace()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .expect("VmRSS value");
    kb * 1024
}

#[test]
fn non_reading_flooder_neither_starves_others_nor_grows_the_server() {
    flood(&[]);
}

#[test]
fn non_reading_flooder_on_the_single_shot_recv_path() {
    // Without provided buffers reading pauses by not re-arming the one-shot recv.
    flood(&["--no-buf-ring"]);
}

fn flood(server_args: &[&str]) {
    const VALUE_LEN: usize = 100 * 1024;
    const FLOOD: Duration = Duration::from_millis(1500);
    let srv = Server::ringkv_with(server_args);
    let mut setup = srv.connect();
    let value = vec![b'v'; VALUE_LEN];
    assert_eq!(setup.cmd_raw(&[&b"SET"[..], b"v", &value]), b"+OK\r\n");
    let rss_before = rss(srv.pid());

    // The flooder: `GET v` (100 KB reply) then `INCR n` (numbers the pairs), up to PAIRS
    // times (400 MB of replies: enough to show the server does not buffer them, little
    // enough to read back quickly), during FLOOD; it reads nothing meanwhile. A write
    // timeout lets it notice the end while the server is (rightly) not taking its bytes.
    const PAIRS: usize = 4096;
    let mut flooder = srv.connect();
    let flooder_id = flooder.cmd(&["CLIENT", "ID"]).as_int().unwrap();
    let unit: Vec<u8> = [
        encode_command(&["GET", "v"]),
        encode_command(&["INCR", "n"]),
    ]
    .concat();
    let chunk = unit.repeat(PAIRS);
    let mut w = flooder.stream().try_clone().unwrap();
    w.set_write_timeout(Some(Duration::from_millis(20)))
        .unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let stop_w = stop.clone();
    let writer = std::thread::spawn(move || {
        let mut written = 0usize;
        while !stop_w.load(Ordering::Relaxed) && written < chunk.len() {
            match w.write(&chunk[written..]) {
                Ok(n) => written += n,
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
                Err(e) => panic!("flooder write failed: {e}"),
            }
        }
        (written, w)
    });

    // The prober: one PING every 20 ms (pacing, not waiting), each timed.
    let mut probe = srv.connect();
    probe.set_timeout(Duration::from_secs(10));
    let start = Instant::now();
    let mut slowest = Duration::ZERO;
    let mut pings = 0;
    let mut rss_peak = rss_before;
    while start.elapsed() < FLOOD {
        let t = Instant::now();
        probe.send(&["PING"]).unwrap();
        let r = probe
            .read_reply()
            .unwrap_or_else(|e| panic!("PING unanswered for {:?}: {e}", t.elapsed()));
        assert_eq!(r.raw, b"+PONG\r\n");
        slowest = slowest.max(t.elapsed());
        pings += 1;
        rss_peak = rss_peak.max(rss(srv.pid()));
        std::thread::sleep(Duration::from_millis(20));
    }
    stop.store(true, Ordering::Relaxed);
    let (written, mut w) = writer.join().unwrap();
    rss_peak = rss_peak.max(rss(srv.pid()));
    let growth = rss_peak.saturating_sub(rss_before);
    eprintln!(
        "{pings} PINGs, slowest {slowest:?}; flooder wrote {written} bytes; RSS growth {} KB",
        growth / 1024
    );
    // Before the fix no PING was answered for over 10 s and the server grew by gigabytes.
    assert!(slowest < Duration::from_secs(1), "slowest PING {slowest:?}");
    assert!(
        growth < 128 << 20,
        "server RSS grew by {} MB while the flooder did not read",
        growth >> 20
    );

    // CLIENT LIST shows the held input and output of the flooder, both bounded.
    let list = setup.cmd(&["CLIENT", "LIST"]).text();
    let line = list
        .lines()
        .find(|l| l.starts_with(&format!("id={flooder_id} ")))
        .unwrap_or_else(|| panic!("flooder not in CLIENT LIST:\n{list}"));
    let field = |name: &str| -> usize {
        let f = line
            .split(' ')
            .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))
            .unwrap_or_else(|| panic!("no {name} in {line}"));
        f.parse().unwrap()
    };
    eprintln!("flooder: {line}");
    assert!(field("qbuf") < 1 << 20, "{line}");
    let out = field("obl") + field("omem");
    assert!(out > 0 && out < 8 << 20, "{line}");

    // Complete a command cut by the end of the flood, so the stream is whole units; then
    // every reply must arrive, in order, and nothing after the last.
    let tail = written % unit.len();
    let pairs = written.div_ceil(unit.len());
    if tail > 0 {
        w.set_write_timeout(None).unwrap();
        // Written from a thread: the server may not take it before we read.
        let rest = unit[tail..].to_vec();
        std::thread::spawn(move || w.write_all(&rest).unwrap());
    }
    flooder.set_timeout(Duration::from_secs(20));
    for i in 1..=pairs as i64 {
        let r = flooder.read_reply().unwrap();
        assert_eq!(r.data.len(), VALUE_LEN, "GET reply of pair {i}");
        let r = flooder.read_reply().unwrap();
        assert_eq!(r.as_int(), Some(i), "INCR reply of pair {i}");
    }
    assert_eq!(flooder.cmd_raw(&["PING"]), b"+PONG\r\n");
    assert_eq!(
        setup.cmd_raw(&["GET", "n"]),
        format!("${}\r\n{pairs}\r\n", pairs.to_string().len()).as_bytes()
    );
}

/// The budget and backpressure must not lose or reorder anything for clients that do read:
/// thousands of connections pipelining at once, one long pipeline, one huge value.
#[test]
fn many_pipelining_clients_a_long_pipeline_and_a_huge_value_are_all_served() {
    let srv = Server::ringkv();
    // As many as 3,000 connections (fewer if the descriptor limit is lower), each with a
    // pipeline of 3 INCRs of its own counter written before anyone reads.
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit fills the struct.
    unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) };
    let conns = 3000.min((lim.rlim_cur as usize).saturating_sub(100) / 2);
    let mut clients: Vec<_> = (0..conns).map(|_| srv.connect()).collect();
    for (i, c) in clients.iter_mut().enumerate() {
        let req = encode_command(&["INCR", &format!("c{i}")]).repeat(3);
        c.send_raw(&req).unwrap();
    }
    for c in clients.iter_mut() {
        for n in 1..=3 {
            assert_eq!(c.read_reply().unwrap().as_int(), Some(n));
        }
    }
    drop(clients);

    // 50,000 commands in one pipeline (1.7 MB), answered while still being written.
    let mut c = srv.connect();
    let mut req = Vec::new();
    for i in 0..50_000 {
        req.extend_from_slice(&encode_command(&["RPUSH", "l", &i.to_string()]));
    }
    let mut w = c.stream().try_clone().unwrap();
    let writer = std::thread::spawn(move || w.write_all(&req).unwrap());
    for i in 1..=50_000 {
        assert_eq!(c.read_reply().unwrap().as_int(), Some(i));
    }
    writer.join().unwrap();

    // A 32 MB value in and out (2,048 reads' worth of one command).
    let mut v = vec![b'x'; 32 << 20];
    v[..5].copy_from_slice(b"first");
    let at = v.len() - 4;
    v[at..].copy_from_slice(b"last");
    let mut w = c.stream().try_clone().unwrap();
    let req = encode_command(&[&b"SET"[..], b"big", &v]);
    let writer = std::thread::spawn(move || w.write_all(&req).unwrap());
    c.set_timeout(Duration::from_secs(60));
    assert_eq!(c.read_reply().unwrap().raw, b"+OK\r\n");
    writer.join().unwrap();
    assert!(c.cmd(&["GET", "big"]).data == v, "GET big differs");
}

/// Input held back by the per-turn budget keeps its order around a blocking command and a
/// transaction: what follows BLPOP in the same pipeline runs after it is served.
#[test]
fn long_pipeline_around_blpop_and_multi_keeps_order() {
    let srv = Server::ringkv();
    let mut c = srv.connect();
    let mut req = encode_command(&["BLPOP", "q", "0"]);
    for _ in 0..2000 {
        req.extend_from_slice(&encode_command(&["INCR", "n"]));
    }
    req.extend_from_slice(&encode_command(&["MULTI"]));
    for _ in 0..1000 {
        req.extend_from_slice(&encode_command(&["INCR", "n"]));
    }
    req.extend_from_slice(&encode_command(&["EXEC"]));
    c.send_raw(&req).unwrap();
    // Once the client is parked, nothing after the BLPOP may have run.
    let mut other = srv.connect();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let list = other.cmd(&["CLIENT", "LIST"]).text();
        if list.contains("cmd=blpop") {
            break;
        }
        assert!(Instant::now() < deadline, "BLPOP never blocked: {list}");
    }
    assert_eq!(other.cmd_raw(&["GET", "n"]), b"$-1\r\n");
    assert_eq!(other.cmd_raw(&["RPUSH", "q", "x"]), b":1\r\n");
    assert_eq!(c.read_reply().unwrap().raw, b"*2\r\n$1\r\nq\r\n$1\r\nx\r\n");
    for i in 1..=2000 {
        assert_eq!(c.read_reply().unwrap().as_int(), Some(i));
    }
    assert_eq!(c.read_reply().unwrap().raw, b"+OK\r\n");
    for _ in 0..1000 {
        assert_eq!(c.read_reply().unwrap().raw, b"+QUEUED\r\n");
    }
    let exec = c.read_reply().unwrap();
    assert_eq!(exec.raw[..7], *b"*1000\r\n");
    assert!(
        exec.raw.ends_with(b":3000\r\n"),
        "EXEC reply of {} bytes",
        exec.raw.len()
    );
}

/// A client that sends a long pipeline and half-closes still gets every reply (its held
/// input runs after the EOF is seen), and a command cut by the end of its input never runs.
#[test]
fn half_close_after_a_long_pipeline_runs_the_complete_commands_only() {
    let srv = Server::ringkv();
    let mut c = srv.connect();
    let mut req = Vec::new();
    for i in 0..4000 {
        req.extend_from_slice(&encode_command(&["SET", &format!("k{i}"), "v"]));
    }
    req.extend_from_slice(b"*3\r\n$3\r\nSET\r\n$3\r\ncut\r\n$1\r\n");
    c.send_raw(&req).unwrap();
    c.shutdown_write().unwrap();
    c.set_timeout(Duration::from_secs(20));
    let (replies, end) = c.read_until_close();
    assert!(end.is_closed(), "{end}");
    assert_eq!(replies.len(), 4000);
    assert!(replies.iter().all(|r| r.raw == b"+OK\r\n"));
    let mut other = srv.connect();
    assert_eq!(other.cmd_raw(&["GET", "k3999"]), b"$1\r\nv\r\n");
    assert_eq!(other.cmd_raw(&["EXISTS", "cut"]), b":0\r\n");
}
