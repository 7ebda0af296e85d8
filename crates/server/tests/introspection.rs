//! Real-socket tests of the introspection commands whose replies carry times, durations or
//! ports (so the differential script `scripts/introspection.txt` compares only their
//! shape): slow log entries, the MONITOR stream, CLIENT PAUSE holding clients, LATENCY
//! events and INFO latencystats' field names against Redis 7.0.

mod common;

use common::{Client, Server, redis_or_skip};
use std::time::{Duration, Instant};

fn texts(r: &common::Reply) -> Vec<String> {
    r.items.iter().map(|i| i.text()).collect()
}

fn addr_of(c: &Client) -> String {
    let a = c.stream().local_addr().unwrap();
    format!("{}:{}", a.ip(), a.port())
}

/// Entries as Redis 7.0.15 writes them: id, time, µs, args (cut at 32 with a count, each
/// cut at 128 bytes with a count, secrets redacted), client address, client name.
#[test]
fn slowlog_entries() {
    let srv = Server::ringkv();
    let mut c = srv.connect();
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "slowlog-log-slower-than", "0"])
            .text(),
        "OK"
    );
    c.cmd(&["SLOWLOG", "RESET"]);
    c.cmd(&["CLIENT", "SETNAME", "me"]);
    let long = "x".repeat(200);
    c.cmd(&["SET", "k", &long]);
    let many: Vec<String> = std::iter::once("RPUSH".to_string())
        .chain(std::iter::once("l".to_string()))
        .chain((0..40).map(|i| i.to_string()))
        .collect();
    c.cmd(&many);
    c.cmd(&["AUTH", "secret"]);
    c.cmd(&["HELLO", "2", "AUTH", "default", "pw", "SETNAME", "me"]);
    c.cmd(&["CONFIG", "SET", "masterauth", "hidden"]);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let log = c.cmd(&["SLOWLOG", "GET", "-1"]);
    let entries: Vec<&common::Reply> = log.items.iter().collect();
    // Newest first: CONFIG SET, HELLO, AUTH, RPUSH, SET, CLIENT SETNAME, SLOWLOG RESET.
    assert_eq!(entries.len(), 7, "{}", String::from_utf8_lossy(&log.raw));
    let ids: Vec<i64> = entries
        .iter()
        .map(|e| e.items[0].as_int().unwrap())
        .collect();
    // Ids go on across SLOWLOG RESET (the first CONFIG SET was 0).
    assert_eq!(ids, vec![7, 6, 5, 4, 3, 2, 1]);
    for e in &entries {
        assert_eq!(e.items.len(), 6);
        assert!((e.items[1].as_int().unwrap() - now).abs() <= 2);
        assert!(e.items[2].as_int().unwrap() >= 0);
        assert_eq!(e.items[4].text(), addr_of(&c));
    }
    assert_eq!(
        texts(&entries[0].items[3]),
        ["CONFIG", "SET", "masterauth", "(redacted)"]
    );
    assert_eq!(
        texts(&entries[1].items[3]),
        [
            "HELLO",
            "2",
            "AUTH",
            "(redacted)",
            "(redacted)",
            "SETNAME",
            "me"
        ]
    );
    assert_eq!(texts(&entries[2].items[3]), ["AUTH", "(redacted)"]);
    let rpush = texts(&entries[3].items[3]);
    assert_eq!(rpush.len(), 32);
    assert_eq!(rpush[30], "28");
    assert_eq!(rpush[31], "... (11 more arguments)");
    assert_eq!(
        texts(&entries[4].items[3]),
        [
            "SET".to_string(),
            "k".to_string(),
            format!("{}... (72 more bytes)", "x".repeat(128))
        ]
    );
    // The name at the time of the command.
    assert_eq!(entries[4].items[5].text(), "me");
    assert_eq!(entries[6].items[5].text(), "");
    assert_eq!(c.cmd(&["SLOWLOG", "GET", "1"]).items.len(), 1);
    // The two SLOWLOG GETs are logged too.
    assert_eq!(c.cmd(&["SLOWLOG", "LEN"]).as_int(), Some(9));
}

/// The stream format, the exclusions (admin commands, a gate refusal), redaction, EXEC's
/// commands before EXEC, a blocking command when it first runs, the db after SELECT, and
/// what a monitor may still run.
#[test]
fn monitor_stream() {
    let srv = Server::ringkv();
    let mut m = srv.connect();
    let mut c = srv.connect();
    assert_eq!(m.cmd(&["MONITOR"]).text(), "OK");
    let a = addr_of(&c);
    c.cmd(&["SET", "k", "a b\"\n\u{1}"]);
    c.cmd(&["CONFIG", "GET", "port"]);
    c.cmd(&["GET"]);
    c.cmd(&["AUTH", "pw"]);
    c.cmd(&["MULTI"]);
    c.cmd(&["INCR", "n"]);
    c.cmd(&["EXEC"]);
    c.cmd(&["SELECT", "2"]);
    c.cmd(&["BLPOP", "q", "0.01"]);
    let want = [
        format!("[0 {a}] \"SET\" \"k\" \"a b\\\"\\n\\x01\""),
        format!("[0 {a}] \"AUTH\" \"(redacted)\""),
        format!("[0 {a}] \"MULTI\""),
        format!("[0 {a}] \"INCR\" \"n\""),
        format!("[0 {a}] \"EXEC\""),
        format!("[2 {a}] \"SELECT\" \"2\""),
        format!("[2 {a}] \"BLPOP\" \"q\" \"0.01\""),
    ];
    for w in want {
        let line = m.read_reply().unwrap();
        assert_eq!(line.kind, b'+');
        let t = line.text();
        let (ts, rest) = t.split_once(' ').unwrap();
        let (s, us) = ts.split_once('.').unwrap();
        assert!(s.parse::<u64>().is_ok() && us.len() == 6, "{t}");
        assert_eq!(rest, w);
    }
    // A monitor may not touch keys; PING is shown to itself after its reply.
    assert_eq!(
        m.cmd(&["GET", "k"]).text(),
        "ERR Replica can't interact with the keyspace"
    );
    assert_eq!(m.cmd(&["PING"]).text(), "PONG");
    let own = m.read_reply().unwrap().text();
    assert!(
        own.ends_with(&format!("[0 {}] \"PING\"", addr_of(&m))),
        "{own}"
    );
    let list = c.cmd(&["CLIENT", "LIST"]).text();
    assert!(list.contains("flags=O "), "{list}");
    // RESET ends monitoring: the next command is neither refused nor echoed.
    assert_eq!(m.cmd(&["RESET"]).text(), "RESET");
    assert!(!m.cmd(&["GET", "k"]).is_error());
    c.cmd(&["PING"]);
    assert_eq!(m.cmd(&["PING"]).text(), "PONG");
    let list = c.cmd(&["CLIENT", "LIST"]).text();
    assert!(!list.contains("flags=O "), "{list}");
}

/// CLIENT PAUSE WRITE holds writes (not reads) until the timeout, and UNPAUSE ends it at
/// once; CLIENT PAUSE ALL holds every command (CLIENT PAUSE and UNPAUSE included) until the
/// timeout; requests the gate refuses are answered at once.
#[test]
fn client_pause_holds_and_releases() {
    let srv = Server::ringkv();
    let mut admin = srv.connect();
    let mut c = srv.connect();
    c.cmd(&["SET", "k", "1"]);
    // Times are taken before the PAUSE is sent, so the pause surely ends after t0 + its
    // timeout; upper bounds are loose (a loaded machine).
    let t0 = Instant::now();
    assert_eq!(
        admin.cmd(&["CLIENT", "PAUSE", "1000", "WRITE"]).text(),
        "OK"
    );
    assert_eq!(c.cmd(&["GET", "k"]).text(), "1");
    assert!(t0.elapsed() < Duration::from_millis(900));
    assert_eq!(c.cmd(&["INCR", "k"]).as_int(), Some(2));
    let held = t0.elapsed();
    assert!(held >= Duration::from_millis(990), "{held:?}");
    assert!(held < Duration::from_secs(5), "{held:?}");

    // UNPAUSE releases a held client at once.
    admin.cmd(&["CLIENT", "PAUSE", "10000", "WRITE"]);
    c.send(&["INCR", "k"]).unwrap();
    // The held client shows as blocked in CLIENT LIST.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let list = admin.cmd(&["CLIENT", "LIST"]).text();
        if list
            .lines()
            .any(|l| l.contains("flags=b") && l.contains("cmd=incr"))
        {
            break;
        }
        assert!(Instant::now() < deadline, "{list}");
    }
    let info = admin.cmd(&["INFO", "clients"]).text();
    assert!(info.contains("blocked_clients:1\r\n"), "{info}");
    let t = Instant::now();
    assert_eq!(admin.cmd(&["CLIENT", "UNPAUSE"]).text(), "OK");
    assert_eq!(c.read_reply().unwrap().as_int(), Some(3));
    assert!(t.elapsed() < Duration::from_secs(2));

    // ALL holds reads too, and the pausing client's own next command.
    let t0 = Instant::now();
    admin.cmd(&["CLIENT", "PAUSE", "300", "ALL"]);
    assert_eq!(c.cmd(&["GET", "k"]).text(), "3");
    assert!(t0.elapsed() >= Duration::from_millis(290));
    // Under ALL the pausing client's own next command (CLIENT PAUSE included) waits too.
    let t0 = Instant::now();
    admin.cmd(&["CLIENT", "PAUSE", "300", "ALL"]);
    assert_eq!(admin.cmd(&["CLIENT", "PAUSE", "10", "WRITE"]).text(), "OK");
    assert!(t0.elapsed() >= Duration::from_millis(290));
    assert_eq!(c.cmd(&["GET", "k"]).text(), "3");
    // Refused requests are answered at once.
    admin.cmd(&["CLIENT", "PAUSE", "2000", "ALL"]);
    let t = Instant::now();
    assert!(c.cmd(&["NOSUCH"]).is_error());
    assert!(c.cmd(&["GET"]).is_error());
    assert!(t.elapsed() < Duration::from_millis(1500));
}

/// A monitor is never paused (Redis's replicas are exempt).
#[test]
fn monitor_is_not_paused() {
    let srv = Server::ringkv();
    let mut admin = srv.connect();
    let mut m = srv.connect();
    m.cmd(&["MONITOR"]);
    admin.cmd(&["CLIENT", "PAUSE", "2000", "ALL"]);
    let t = Instant::now();
    assert_eq!(m.cmd(&["PING"]).text(), "PONG");
    assert!(t.elapsed() < Duration::from_millis(1500));
}

/// LATENCY events: a command slower than the threshold shows in LATEST, HISTORY, GRAPH and
/// DOCTOR; RESET forgets it.
#[test]
fn latency_events() {
    let srv = Server::ringkv();
    let mut c = srv.connect();
    // Enough keys that KEYS * takes well over 1 ms.
    let mut args = vec!["MSET".to_string()];
    for i in 0..100_000 {
        args.push(format!("key:{i}"));
        args.push("v".into());
    }
    c.cmd(&args);
    // A threshold only KEYS reaches (a loaded machine can stretch a trivial command past
    // 1 ms): a third of what KEYS takes in the server (its slow log entry says).
    c.cmd(&["CONFIG", "SET", "slowlog-log-slower-than", "0"]);
    c.cmd(&["KEYS", "*"]);
    let entry = c.cmd(&["SLOWLOG", "GET", "1"]);
    let keys_us = entry.items[0].items[2].as_int().unwrap();
    let threshold = (keys_us / 3000).max(1);
    c.cmd(&[
        "CONFIG",
        "SET",
        "latency-monitor-threshold",
        &threshold.to_string(),
    ]);
    c.cmd(&["KEYS", "*"]);
    let latest = c.cmd(&["LATENCY", "LATEST"]);
    let ev = latest
        .items
        .iter()
        .find(|e| e.items[0].text() == "command")
        .unwrap_or_else(|| panic!("{}", String::from_utf8_lossy(&latest.raw)));
    let last = ev.items[2].as_int().unwrap();
    let max = ev.items[3].as_int().unwrap();
    assert!(last >= threshold && max >= last, "{last} {max} {threshold}");
    // HISTORY: (time, ms) pairs, oldest first, one per second at most.
    let hist = c.cmd(&["LATENCY", "HISTORY", "command"]);
    let samples: Vec<i64> = hist
        .items
        .iter()
        .map(|p| p.items[1].as_int().unwrap())
        .collect();
    assert!(!samples.is_empty() && samples.len() <= 3, "{samples:?}");
    assert_eq!(*samples.last().unwrap(), last);
    assert_eq!(*samples.iter().max().unwrap(), max);
    let (hi, lo) = (max, *samples.iter().min().unwrap());
    let graph = c.cmd(&["LATENCY", "GRAPH", "command"]).text();
    assert!(
        graph.starts_with(&format!(
            "command - high {hi} ms, low {lo} ms (all time high {max} ms)\n{}\n",
            "-".repeat(80)
        )) && graph.ends_with("s\n"),
        "{graph:?}"
    );
    if samples.len() == 1 {
        // One sample: the bottom row's `_`, a spacing line, then the age label down the
        // column.
        assert!(graph.contains("\n \n \n \n_\n \n"), "{graph:?}");
    }
    let doctor = c.cmd(&["LATENCY", "DOCTOR"]).text();
    assert!(
        doctor.starts_with("Dave, I have observed latency spikes"),
        "{doctor}"
    );
    assert!(
        doctor.contains(&format!(
            "1. command: {} latency spikes (average ",
            samples.len()
        )),
        "{doctor}"
    );
    assert!(doctor.contains("- Check your Slow Log"));
    assert_eq!(c.cmd(&["LATENCY", "RESET"]).as_int(), Some(1));
    assert_eq!(c.cmd(&["LATENCY", "LATEST"]).items.len(), 0);
}

/// LATENCY HISTOGRAM's shape (calls, cumulative power-of-two buckets) and INFO
/// latencystats' field names, against Redis after the same commands.
#[test]
fn latency_histogram_and_latencystats_match_redis() {
    if !redis_or_skip("latency_histogram_and_latencystats_match_redis") {
        return;
    }
    let names = |srv: &Server| {
        let mut c = srv.connect();
        for i in 0..5 {
            c.cmd(&["SET", &format!("k{i}"), "v"]);
        }
        c.cmd(&["GET", "k1"]);
        c.cmd(&["CONFIG", "GET", "port"]);
        let h = c.cmd(&["LATENCY", "HISTOGRAM", "set", "config"]);
        // map: set → {calls, histogram_usec}, config|get → ...
        let keys: Vec<String> = h.items.iter().step_by(2).map(|r| r.text()).collect();
        let set = &h.items[1];
        assert_eq!(texts(set)[0], "calls");
        assert_eq!(set.items[1].as_int(), Some(5));
        assert_eq!(set.items[2].text(), "histogram_usec");
        let buckets: Vec<i64> = set.items[3]
            .items
            .iter()
            .map(|r| r.as_int().unwrap())
            .collect();
        // (µs, cumulative) pairs; µs is the highest value HDR's bucket of 1024 ns · 2^k
        // stands for; the last count is every call.
        let edges: Vec<i64> = (0..20)
            .map(|k| ((1i64 << (10 + k)) + (1i64 << (3 + k)) - 1) / 1000)
            .collect();
        assert_eq!(&edges[..8], [1, 2, 4, 8, 16, 33, 66, 132]);
        for pair in buckets.chunks(2) {
            assert!(edges.contains(&pair[0]), "{}", pair[0]);
        }
        assert_eq!(*buckets.last().unwrap(), 5);
        let info = c.cmd(&["INFO", "latencystats"]).text();
        let mut fields: Vec<String> = info
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
            .map(|l| {
                let (name, v) = l.split_once(':').unwrap();
                let ps: Vec<&str> = v.split(',').map(|p| p.split('=').next().unwrap()).collect();
                format!("{name}:{}", ps.join(","))
            })
            .collect();
        fields.sort();
        (keys, fields)
    };
    let redis = Server::redis();
    let ringkv = Server::ringkv();
    let (rk, rf) = names(&redis);
    let (ok, of) = names(&ringkv);
    let mut rk = rk;
    let mut ok = ok;
    rk.sort();
    ok.sort();
    assert_eq!(ok, rk);
    assert_eq!(of, rf);
}

/// CONFIG REWRITE against Redis 7.0's rewrite of the same file after the same CONFIG SETs
/// and ACL changes: the user's lines, comments and blank lines identical (a deleted user's
/// `user` line replaced by a live user's, passwords as digests); the appended lines the same
/// set (Redis orders them by its hash table).
#[test]
fn config_rewrite_matches_redis() {
    if !redis_or_skip("config_rewrite_matches_redis") {
        return;
    }
    let input = "# top comment\nport 0\n   \n# memory\nmaxmemory 0\nhash-max-ziplist-entries 100\nsave 900 1\nsave 300 10\nsave 60 100\nrename-command FLUSHDB \"\"\nlogfile \"\"\n\n\ntimeout 5\nuser bob on >bobpass ~* +@all\n";
    let run = |kind: common::Kind| -> String {
        let dir = Server::new_dir(kind);
        std::fs::create_dir_all(&dir).unwrap();
        let conf = dir.join("r.conf");
        std::fs::write(&conf, input).unwrap();
        let port = common::server::free_port();
        let prog = match kind {
            common::Kind::Ringkv => common::server::ringkv_bin().to_string(),
            common::Kind::Redis => common::server::redis_bin(),
        };
        let mut child = std::process::Command::new(prog)
            .arg(&conf)
            .args(["--port", &port.to_string(), "--dir", dir.to_str().unwrap()])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let addr: std::net::SocketAddr = ([127, 0, 0, 1], port).into();
        let deadline = Instant::now() + Duration::from_secs(15);
        let mut c = loop {
            if let Ok(c) = Client::connect(addr) {
                break c;
            }
            assert!(Instant::now() < deadline, "{kind:?} did not start");
            std::thread::sleep(Duration::from_millis(20));
        };
        for (k, v) in [
            ("timeout", "0"),
            ("maxmemory-policy", "allkeys-lru"),
            ("notify-keyspace-events", "Ex"),
            ("hash-max-listpack-entries", "512"),
            ("client-output-buffer-limit", "pubsub 1mb 0 0"),
            ("save", "900 1 300 10"),
            ("hz", "20"),
        ] {
            assert_eq!(c.cmd(&["CONFIG", "SET", k, v]).text(), "OK", "{k}");
        }
        assert_eq!(c.cmd(&["ACL", "DELUSER", "bob"]).as_int(), Some(1));
        assert_eq!(
            c.cmd(&["ACL", "SETUSER", "carol", "on", ">c", "~*", "+@all"])
                .text(),
            "OK"
        );
        assert_eq!(c.cmd(&["CONFIG", "REWRITE"]).text(), "OK");
        let _ = child.kill();
        let _ = child.wait();
        let text = std::fs::read_to_string(&conf).unwrap();
        // The port (given on the command line, different per server) and the directory.
        text.lines()
            .filter(|l| !l.starts_with("dir "))
            .map(|l| {
                if l.starts_with("port ") {
                    "port N".to_string()
                } else {
                    l.to_string()
                }
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    let split = |t: &str| -> (String, Vec<String>) {
        let at = t.find("# Generated by CONFIG REWRITE").unwrap();
        let mut added: Vec<String> = t[at..].lines().map(String::from).collect();
        added.sort();
        (t[..at].to_string(), added)
    };
    let redis = run(common::Kind::Redis);
    let ringkv = run(common::Kind::Ringkv);
    assert_eq!(
        split(&ringkv),
        split(&redis),
        "\nredis:\n{redis}\nringkv:\n{ringkv}"
    );
}

/// A monitor that does not read is closed at the normal class's output-buffer limit (a
/// monitor is a normal client for the limits, as in Redis); the others keep working.
#[test]
fn slow_monitor_is_closed_at_the_output_limit() {
    let srv = Server::ringkv();
    let mut admin = srv.connect();
    assert_eq!(
        admin
            .cmd(&[
                "CONFIG",
                "SET",
                "client-output-buffer-limit",
                "normal 1mb 0 0"
            ])
            .text(),
        "OK"
    );
    let mut m = srv.connect();
    assert_eq!(m.cmd(&["MONITOR"]).text(), "OK");
    let id = admin.cmd(&["CLIENT", "LIST"]).text();
    assert!(id.contains("flags=O"), "{id}");
    // Each SET echoes ~64 KB to the monitor, which never reads.
    let payload = "x".repeat(64 * 1024);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        assert_eq!(admin.cmd(&["SET", "k", &payload]).text(), "OK");
        let list = admin.cmd(&["CLIENT", "LIST"]).text();
        if !list.contains("flags=O") {
            break;
        }
        assert!(Instant::now() < deadline, "monitor never closed");
    }
    assert!(
        srv.log()
            .contains("scheduled to be closed ASAP for overcoming of output buffer limits."),
        "log:\n{}",
        srv.log()
    );
    assert_eq!(admin.cmd(&["PING"]).text(), "PONG");
}

/// CLIENT LIST and CLIENT INFO: the same fields in the same order as Redis 7.0, and the
/// same values where they do not depend on timing or buffer sizes (flags, db, sub counts,
/// multi, cmd, user, resp) for the same kinds of clients.
#[test]
fn client_list_fields_match_redis() {
    if !redis_or_skip("client_list_fields_match_redis") {
        return;
    }
    let fields = |srv: &Server| -> Vec<Vec<(String, String)>> {
        let mut idle = srv.connect();
        idle.cmd(&["CLIENT", "SETNAME", "idle"]);
        let mut sub = srv.connect();
        sub.send(&["SUBSCRIBE", "a", "b"]).unwrap();
        sub.read_reply().unwrap();
        sub.read_reply().unwrap();
        let mut tx = srv.connect();
        tx.cmd(&["SELECT", "3"]);
        tx.cmd(&["MULTI"]);
        tx.cmd(&["SET", "k", "v"]);
        let mut r3 = srv.connect();
        r3.cmd(&["HELLO", "3"]);
        let mut me = srv.connect();
        let list = me.cmd(&["CLIENT", "LIST"]).text();
        let info = me.cmd(&["CLIENT", "INFO"]).text();
        list.lines()
            .chain(info.lines())
            .map(|l| {
                l.split(' ')
                    .map(|kv| {
                        let (k, v) = kv.split_once('=').unwrap();
                        let v = match k {
                            "id" | "addr" | "laddr" | "fd" | "age" | "idle" | "qbuf"
                            | "qbuf-free" | "argv-mem" | "rbs" | "rbp" | "obl" | "oll" | "omem"
                            | "tot-mem" | "multi-mem" => "*".to_string(),
                            _ => v.to_string(),
                        };
                        (k.to_string(), v)
                    })
                    .collect()
            })
            .collect()
    };
    let redis = Server::redis();
    let ringkv = Server::ringkv();
    assert_eq!(fields(&ringkv), fields(&redis));
}

/// While clients are paused no key is deleted by expiry: a read of an expired key answers
/// nil but leaves it (DBSIZE still counts it, no expired_keys), as Redis 7.0; after
/// UNPAUSE the next read deletes it. Same sequence against Redis.
#[test]
fn pause_stops_expiry() {
    let run = |srv: &Server| -> Vec<String> {
        let mut c = srv.connect();
        let mut out = Vec::new();
        c.cmd(&["SET", "k", "v", "PX", "100"]);
        out.push(c.cmd(&["CLIENT", "PAUSE", "20000", "WRITE"]).text());
        let deadline = Instant::now() + Duration::from_secs(5);
        // Wait (in real time: the key's TTL) until the key has expired.
        while c.cmd(&["PTTL", "k"]).as_int() != Some(-2) {
            assert!(Instant::now() < deadline);
            std::thread::sleep(Duration::from_millis(10));
        }
        out.push(format!("{:?}", c.cmd(&["GET", "k"]).null));
        out.push(c.cmd(&["DBSIZE"]).text());
        out.push(c.cmd(&["EXISTS", "k"]).text());
        let keys = c.cmd(&["SCAN", "0"]);
        out.push(format!("{}", keys.items[1].items.len()));
        out.push(c.cmd(&["DBSIZE"]).text());
        let stats = c.cmd(&["INFO", "stats"]).text();
        out.push(
            stats
                .lines()
                .find(|l| l.starts_with("expired_keys:"))
                .unwrap()
                .into(),
        );
        out.push(c.cmd(&["CLIENT", "UNPAUSE"]).text());
        out.push(format!("{:?}", c.cmd(&["GET", "k"]).null));
        out.push(c.cmd(&["DBSIZE"]).text());
        let stats = c.cmd(&["INFO", "stats"]).text();
        out.push(
            stats
                .lines()
                .find(|l| l.starts_with("expired_keys:"))
                .unwrap()
                .into(),
        );
        out
    };
    let ringkv = run(&Server::ringkv());
    assert_eq!(
        ringkv,
        [
            "OK",
            "true",
            "1",
            "0",
            "0",
            "1",
            "expired_keys:0",
            "OK",
            "true",
            "0",
            "expired_keys:1"
        ]
    );
    if redis_or_skip("pause_stops_expiry (against Redis)") {
        assert_eq!(ringkv, run(&Server::redis()));
    }
}

/// `dynamic-hz yes`: with more than 200 clients per cron tick `hz` doubles (INFO `hz`),
/// `configured_hz` stays; with `dynamic-hz no` it stays. Against Redis too.
#[test]
fn dynamic_hz_follows_the_clients() {
    let run = |srv: &Server| {
        let mut c = srv.connect();
        c.cmd(&["CONFIG", "SET", "hz", "1"]);
        let info = |c: &mut Client, f: &str| -> String {
            let text = c.cmd(&["INFO", "server"]).text();
            text.lines()
                .find_map(|l| l.strip_prefix(&format!("{f}:")).map(String::from))
                .unwrap()
        };
        let others: Vec<Client> = (0..250).map(|_| srv.connect()).collect();
        let wait_for = |c: &mut Client, want: &str| {
            let deadline = Instant::now() + Duration::from_secs(10);
            while info(c, "hz") != want {
                assert!(Instant::now() < deadline, "hz never {want}");
                std::thread::sleep(Duration::from_millis(50));
            }
        };
        wait_for(&mut c, "2");
        assert_eq!(info(&mut c, "configured_hz"), "1");
        c.cmd(&["CONFIG", "SET", "dynamic-hz", "no"]);
        wait_for(&mut c, "1");
        drop(others);
    };
    run(&Server::ringkv());
    if redis_or_skip("dynamic_hz_follows_the_clients (against Redis)") {
        run(&Server::redis());
    }
}
