//! The append-only file, on real servers: ringkv's AOF against Redis 7.0.15's file for file
//! (the propagation scripts), each server loading the other's directory, kill -9 under
//! `appendfsync always`, a truncated tail and a corrupt middle at start-up, rewrites and
//! restarts. Tests needing `redis-server` skip loudly without it (and fail with
//! `RINGKV_REQUIRE_REDIS=1`).

mod common;
#[path = "diff/script.rs"]
#[allow(dead_code)]
mod script;

use common::server::{Kind, redis_or_skip};
use common::{Client, Server};
use script::{Action, parse_script};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

const AOF_ON: &[&str] = &["--appendonly", "yes"];

fn aof_dir(dir: &Path) -> PathBuf {
    dir.join("appendonlydir")
}

/// The files of the AOF directory whose name ends with `suffix`, sorted.
fn files_ending(dir: &Path, suffix: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(aof_dir(dir))
        .unwrap_or_else(|e| panic!("{}: {e}", aof_dir(dir).display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(suffix))
        .collect();
    v.sort();
    v
}

fn incr_file(dir: &Path) -> PathBuf {
    let v = files_ending(dir, ".incr.aof");
    assert_eq!(v.len(), 1, "one incr file in {}: {v:?}", dir.display());
    v[0].clone()
}

/// Waits until no AOF rewrite runs; returns INFO persistence.
fn wait_rewrite_done(c: &mut Client) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let info = c.cmd(&["INFO", "persistence"]).text();
        if info.contains("aof_rewrite_in_progress:0") && info.contains("aof_rewrite_scheduled:0") {
            return info;
        }
        assert!(Instant::now() < deadline, "the rewrite did not end: {info}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// `redis-check-aof <manifest>` accepts the directory.
fn check_aof(dir: &Path) {
    let manifest = aof_dir(dir).join("appendonly.aof.manifest");
    let out = Command::new("redis-check-aof")
        .arg(&manifest)
        .output()
        .expect("running redis-check-aof");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && text.contains("All AOF files and manifest are valid"),
        "redis-check-aof refused {}:\n{text}",
        manifest.display()
    );
}

/// Runs a propagation script on a real server; returns its incr AOF's commands.
fn run_script(srv: &Server, steps: &[script::Step]) -> Vec<String> {
    let mut clients: Vec<Client> = vec![srv.connect()];
    let mut slot = 0;
    for step in steps {
        match &step.action {
            Action::Client(n) => {
                slot = *n;
                while clients.len() <= slot {
                    clients.push(srv.connect());
                }
            }
            Action::Sleep(ms) => std::thread::sleep(Duration::from_millis(*ms)),
            Action::WaitBlocked(n) => {
                if let Err(e) = clients[slot].wait_blocked(*n) {
                    panic!("{}, line {}: {e}", srv.name(), step.line);
                }
            }
            Action::Cmd(args) => {
                let c = &mut clients[slot];
                c.send(args).unwrap();
                for _ in 0..step.replies {
                    c.read_reply().unwrap();
                }
            }
            Action::Reset | Action::Raw(..) => panic!("line {}: not supported", step.line),
        }
    }
    // appendfsync always: a reply means its turn's bytes are in the file.
    for c in &mut clients {
        c.cmd(&["PING"]);
    }
    common::aof::commands(&std::fs::read(incr_file(srv.dir())).unwrap())
}

/// ringkv's incremental AOF equals Redis's for every propagation script, and
/// redis-check-aof accepts ringkv's directory.
#[test]
fn incr_files_match_redis() {
    if !redis_or_skip("aof::incr_files_match_redis") {
        return;
    }
    let mut failures = Vec::new();
    for path in common::aof::propagation_scripts() {
        let steps = parse_script(&std::fs::read(&path).unwrap()).unwrap();
        let redis = Server::redis_with(common::aof::REDIS_AOF_ALWAYS);
        let r = redis.connect().cmd(&["DEBUG", "SET-ACTIVE-EXPIRE", "0"]);
        assert!(!r.is_error(), "{}", r.text());
        let ours = Server::ringkv_with(&[
            "--appendonly",
            "yes",
            "--appendfsync",
            "always",
            "--enable-debug-command",
            "yes",
        ]);
        let r = ours.connect().cmd(&["DEBUG", "SET-ACTIVE-EXPIRE", "0"]);
        assert_eq!(r.text(), "OK");
        let theirs = run_script(&redis, &steps);
        let mine = run_script(&ours, &steps);
        check_aof(ours.dir());
        let title = format!("{}: incr AOFs differ (Redis | ringkv)", path.display());
        failures.extend(common::aof::side_by_side(&title, &theirs, &mine));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Every key of every db, as commands show it: type, value (sorted where unordered) and
/// absolute expiry.
fn dump(c: &mut Client) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for db in 0..16 {
        c.cmd(&["SELECT", &db.to_string()]);
        let keys = c.cmd(&["KEYS", "*"]);
        for k in &keys.items {
            let k = String::from_utf8_lossy(k.as_bytes().unwrap()).into_owned();
            let ty = c.cmd(&["TYPE", &k]).text();
            let mut val = match ty.as_str() {
                "string" => c.cmd(&["GET", &k]).text(),
                "list" => joined(c.cmd(&["LRANGE", &k, "0", "-1"])),
                "zset" => joined(c.cmd(&["ZRANGE", &k, "0", "-1", "WITHSCORES"])),
                "set" => sorted(c.cmd(&["SMEMBERS", &k])),
                "hash" => sorted(c.cmd(&["HGETALL", &k])),
                "stream" => stream_state(c, &k),
                other => panic!("type {other}"),
            };
            val.push_str(&format!(" exp={}", c.cmd(&["PEXPIRETIME", &k]).text()));
            out.insert(format!("{db}:{k}:{ty}"), val);
        }
    }
    out
}

/// A stream as commands show it, times left out: entries, the XINFO STREAM counters, each
/// group's counters and its pending entries (ID, owner, deliveries), each consumer's name
/// and pending count.
fn stream_state(c: &mut Client, k: &str) -> String {
    let mut out = format!("{}", c.cmd(&["XRANGE", k, "-", "+"]));
    let info = c.cmd(&["XINFO", "STREAM", k]);
    for pair in info.items.chunks(2) {
        let name = pair[0].text();
        if !name.starts_with("radix") {
            out.push_str(&format!(" {name}={}", pair[1]));
        }
    }
    for g in &c.cmd(&["XINFO", "GROUPS", k]).items {
        let name = g.items[1].text();
        out.push_str(&format!(" group={g}"));
        for p in &c.cmd(&["XPENDING", k, &name, "-", "+", "1000"]).items {
            out.push_str(&format!(
                " pel={},{},{}",
                p.items[0], p.items[1], p.items[3]
            ));
        }
        for cons in &c.cmd(&["XINFO", "CONSUMERS", k, &name]).items {
            out.push_str(&format!(" consumer={},{}", cons.items[1], cons.items[3]));
        }
    }
    out
}

/// Streams move through the AOF both ways (command form: no RDB preamble): Redis's
/// incremental and rewritten files load here, ours load in Redis.
#[test]
fn streams_cross_load_through_the_aof() {
    if !redis_or_skip("aof::streams_cross_load_through_the_aof") {
        return;
    }
    // appendfsync always: Redis postpones an everysec write while an fsync is in flight,
    // which kill -9 would lose.
    let args = &[
        "--appendonly",
        "yes",
        "--aof-use-rdb-preamble",
        "no",
        "--appendfsync",
        "always",
    ];
    let write = |c: &mut Client, tag: &str| {
        let ok = |r: common::resp::Reply| assert!(!r.is_error(), "{}", r.text());
        let s = format!("{tag}s");
        for i in 1..=120 {
            ok(c.cmd(&["XADD", &s, &format!("{i}-1"), "f", &i.to_string()]));
        }
        ok(c.cmd(&["XADD", &s, "MAXLEN", "~", "50", "500-*", "other", "x"]));
        ok(c.cmd(&["XDEL", &s, "110-1", "500-0"]));
        ok(c.cmd(&["XGROUP", "CREATE", &s, "g", "0"]));
        ok(c.cmd(&["XGROUP", "CREATE", &s, "g2", "$", "ENTRIESREAD", "3"]));
        ok(c.cmd(&[
            "XREADGROUP",
            "GROUP",
            "g",
            "a",
            "COUNT",
            "3",
            "STREAMS",
            &s,
            ">",
        ]));
        ok(c.cmd(&[
            "XREADGROUP",
            "GROUP",
            "g",
            "b",
            "NOACK",
            "COUNT",
            "2",
            "STREAMS",
            &s,
            ">",
        ]));
        ok(c.cmd(&["XGROUP", "CREATECONSUMER", &s, "g", "idle"]));
        ok(c.cmd(&["XCLAIM", &s, "g", "b", "0", "102-1", "RETRYCOUNT", "7"]));
        ok(c.cmd(&["XACK", &s, "g", "101-1"]));
        let e = format!("{tag}empty");
        ok(c.cmd(&["XADD", &e, "9-9", "a", "1"]));
        ok(c.cmd(&["XDEL", &e, "9-9"]));
        ok(c.cmd(&[
            "XSETID",
            &e,
            "10-0",
            "ENTRIESADDED",
            "5",
            "MAXDELETEDID",
            "9-9",
        ]));
        ok(c.cmd(&["XGROUP", "CREATE", &e, "g", "$"]));
    };
    for rewrite in [false, true] {
        // Redis writes, ringkv loads.
        let redis = Server::redis_with(args);
        let mut c = redis.connect();
        write(&mut c, "a_");
        if rewrite {
            c.cmd(&["BGREWRITEAOF"]);
            let deadline = Instant::now() + Duration::from_secs(20);
            while !c
                .cmd(&["INFO", "persistence"])
                .text()
                .contains("aof_rewrite_in_progress:0")
                || files_ending(redis.dir(), ".1.incr.aof").len() == 1
            {
                assert!(Instant::now() < deadline, "Redis's rewrite did not finish");
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        write(&mut c, "b_");
        let want = dump(&mut c);
        assert!(
            want.values()
                .any(|v| v.contains(" pel=") && v.contains(" consumer=")),
            "{want:?}"
        );
        let dir = redis.kill9();
        let ours = Server::start_in(Kind::Ringkv, args, &dir);
        let got = dump(&mut ours.connect());
        let what = format!("ringkv on Redis's AOF (rewrite {rewrite})\n{}", ours.log());
        assert_same(&got, &want, &what);
        // ringkv writes, Redis loads.
        let ours = Server::ringkv_with(args);
        let mut c = ours.connect();
        write(&mut c, "a_");
        if rewrite {
            c.cmd(&["BGREWRITEAOF"]);
            let deadline = Instant::now() + Duration::from_secs(20);
            while !c
                .cmd(&["INFO", "persistence"])
                .text()
                .contains("aof_rewrite_in_progress:0")
            {
                assert!(Instant::now() < deadline, "our rewrite did not finish");
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        write(&mut c, "b_");
        let want = dump(&mut c);
        let dir = ours.kill9();
        let redis = Server::start_in(Kind::Redis, args, &dir);
        let got = dump(&mut redis.connect());
        let what = format!("Redis on ringkv's AOF (rewrite {rewrite})\n{}", redis.log());
        assert_same(&got, &want, &what);
    }
}

/// Equal dumps, or a panic naming only the keys that differ.
fn assert_same(got: &BTreeMap<String, String>, want: &BTreeMap<String, String>, what: &str) {
    let mut diffs = Vec::new();
    for k in got.keys().chain(want.keys()) {
        if got.get(k) != want.get(k) {
            diffs.push(format!(
                "{k}:\n  got  {:?}\n  want {:?}",
                got.get(k),
                want.get(k)
            ));
        }
    }
    diffs.dedup();
    assert!(diffs.is_empty(), "{what}\n{}", diffs.join("\n"));
}

fn texts(r: common::resp::Reply) -> Vec<String> {
    assert!(r.is_aggregate(), "{r}");
    r.items.iter().map(|i| i.text()).collect()
}

fn joined(r: common::resp::Reply) -> String {
    texts(r).join(",")
}

fn sorted(r: common::resp::Reply) -> String {
    let mut v = texts(r);
    v.sort();
    v.join(",")
}

/// A dataset of every type, several dbs, TTLs, a transaction; `big` adds collections past
/// the 64-item rewrite batches and the listpack thresholds.
fn write_dataset(c: &mut Client, tag: &str) {
    let ok = |r: common::resp::Reply| assert!(!r.is_error(), "{}", r.text());
    ok(c.cmd(&["SET", &format!("{tag}s"), "v a l"]));
    ok(c.cmd(&["SET", &format!("{tag}n"), "12345"]));
    ok(c.cmd(&["SET", &format!("{tag}ttl"), "x", "EX", "1000"]));
    ok(c.cmd(&["RPUSH", &format!("{tag}l"), "a", "b", "c"]));
    ok(c.cmd(&["HSET", &format!("{tag}h"), "f", "1", "g", "two"]));
    ok(c.cmd(&["SADD", &format!("{tag}si"), "1", "2", "3"]));
    ok(c.cmd(&["SADD", &format!("{tag}ss"), "x", "y"]));
    ok(c.cmd(&[
        "ZADD",
        &format!("{tag}z"),
        "1.5",
        "a",
        "-2",
        "b",
        "3e10",
        "c",
    ]));
    ok(c.cmd(&["SELECT", "5"]));
    ok(c.cmd(&["MULTI"]));
    c.cmd(&["INCR", &format!("{tag}ctr")]);
    c.cmd(&["LPUSH", &format!("{tag}l5"), "x"]);
    ok(c.cmd(&["EXEC"]));
    for i in 0..150 {
        c.cmd(&["RPUSH", &format!("{tag}big_l"), &format!("e{i}")]);
        c.cmd(&["SADD", &format!("{tag}big_s"), &format!("m{i}")]);
        c.cmd(&[
            "ZADD",
            &format!("{tag}big_z"),
            &i.to_string(),
            &format!("m{i}"),
        ]);
        c.cmd(&[
            "HSET",
            &format!("{tag}big_h"),
            &format!("f{i}"),
            &"v".repeat(i),
        ]);
    }
    ok(c.cmd(&["SELECT", "0"]));
}

/// Redis 7.0 started on ringkv's directory (a base after BGREWRITEAOF, RDB or commands,
/// plus an incremental) serves ringkv's data.
#[test]
fn redis_loads_our_aof() {
    if !redis_or_skip("aof::redis_loads_our_aof") {
        return;
    }
    for preamble in ["yes", "no"] {
        let ours =
            Server::ringkv_with(&["--appendonly", "yes", "--aof-use-rdb-preamble", preamble]);
        let mut c = ours.connect();
        write_dataset(&mut c, "a_");
        assert_eq!(
            c.cmd(&["BGREWRITEAOF"]).text(),
            "Background append only file rewriting started"
        );
        write_dataset(&mut c, "b_");
        c.cmd(&["DEL", "a_s"]);
        let want = dump(&mut c);
        // Files are checked once the rewrite is over: while it ends, the new base and the
        // old one may both be in the directory for a moment.
        wait_rewrite_done(&mut c);
        check_aof(ours.dir());
        let suffix = if preamble == "yes" {
            ".base.rdb"
        } else {
            ".base.aof"
        };
        assert_eq!(
            files_ending(ours.dir(), suffix).len(),
            1,
            "preamble {preamble}"
        );
        let dir = ours.kill9();
        let redis = Server::start_in(Kind::Redis, AOF_ON, &dir);
        let got = dump(&mut redis.connect());
        assert_eq!(
            got,
            want,
            "Redis on ringkv's AOF (preamble {preamble})\n{}",
            redis.log()
        );
    }
}

/// ringkv started on Redis 7.0's directory (the empty RDB base Redis writes at start, or
/// the base of a rewrite, RDB or commands, then incrementals) serves Redis's data.
#[test]
fn we_load_redis_aof() {
    if !redis_or_skip("aof::we_load_redis_aof") {
        return;
    }
    for (rewrite, preamble) in [(false, "yes"), (true, "no"), (true, "yes")] {
        let redis =
            Server::redis_with(&["--appendonly", "yes", "--aof-use-rdb-preamble", preamble]);
        let mut c = redis.connect();
        write_dataset(&mut c, "a_");
        if rewrite {
            c.cmd(&["BGREWRITEAOF"]);
            let deadline = Instant::now() + Duration::from_secs(20);
            while !c
                .cmd(&["INFO", "persistence"])
                .text()
                .contains("aof_rewrite_in_progress:0")
                || files_ending(redis.dir(), ".incr.aof")
                    .iter()
                    .all(|p| !p.to_string_lossy().ends_with(".2.incr.aof"))
                || files_ending(redis.dir(), ".1.incr.aof").len() == 1
            {
                assert!(Instant::now() < deadline, "Redis's rewrite did not finish");
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        write_dataset(&mut c, "b_");
        let want = dump(&mut c);
        let dir = redis.kill9();
        let ours = Server::start_in(Kind::Ringkv, AOF_ON, &dir);
        let got = dump(&mut ours.connect());
        assert_eq!(
            got,
            want,
            "ringkv on Redis's AOF (rewrite {rewrite}, preamble {preamble})\n{}",
            ours.log()
        );
    }
}

/// kill -9 under a write load with appendfsync always: every acknowledged write is there
/// after the restart.
#[test]
fn kill9_under_always_keeps_every_acknowledged_write() {
    let ours = Server::ringkv_with(&["--appendonly", "yes", "--appendfsync", "always"]);
    let stop = Arc::new(AtomicBool::new(false));
    let mut workers = Vec::new();
    for w in 0..4 {
        let mut c = ours.connect();
        let stop = stop.clone();
        workers.push(std::thread::spawn(move || {
            let mut acked = Vec::new();
            let mut i = 0u64;
            while !stop.load(Ordering::Relaxed) {
                // Pipelines of 8: replies come back together (one group commit).
                for j in 0..8 {
                    c.send(&["SET", &format!("w{w}:{}", i + j), "v"]).unwrap();
                }
                for j in 0..8 {
                    match c.read_reply() {
                        Ok(r) if r.text() == "OK" => acked.push(i + j),
                        _ => return acked,
                    }
                }
                i += 8;
            }
            acked
        }));
    }
    std::thread::sleep(Duration::from_millis(700));
    let dir = ours.kill9();
    stop.store(true, Ordering::Relaxed);
    let acked: Vec<Vec<u64>> = workers.into_iter().map(|t| t.join().unwrap()).collect();
    assert!(acked.iter().all(|a| !a.is_empty()), "the load ran");
    let again = Server::start_in(Kind::Ringkv, AOF_ON, &dir);
    let mut c = again.connect();
    for (w, keys) in acked.iter().enumerate() {
        for i in keys {
            let k = format!("w{w}:{i}");
            assert_eq!(
                c.cmd(&["EXISTS", &k]).as_int(),
                Some(1),
                "acknowledged {k} lost"
            );
        }
    }
}

fn append_bytes(path: &Path, bytes: &[u8]) {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new().append(true).open(path).unwrap();
    f.write_all(bytes).unwrap();
}

/// A command cut at the end: loaded up to the last whole command, the file truncated there,
/// logged as Redis; with aof-load-truncated no the server refuses to start.
#[test]
fn truncated_tail_loads_and_is_cut() {
    let ours = Server::ringkv_with(AOF_ON);
    let mut c = ours.connect();
    c.cmd(&["SET", "a", "1"]);
    c.cmd(&["SET", "b", "2"]);
    c.cmd(&["PING"]);
    let dir = ours.kill9();
    let incr = incr_file(&dir);
    let good = std::fs::metadata(&incr).unwrap().len();
    append_bytes(&incr, b"*3\r\n$3\r\nSET\r\n$1\r\nc\r\n$5\r\nhel");
    let refused = Server::try_start_in(
        Kind::Ringkv,
        &["--appendonly", "yes", "--aof-load-truncated", "no"],
        &dir,
    );
    let err = refused
        .err()
        .expect("aof-load-truncated no refuses a cut file");
    assert!(
        err.contains("Unexpected end of file reading the append only file"),
        "{err}"
    );
    let again = Server::start_in(Kind::Ringkv, AOF_ON, &dir);
    let mut c = again.connect();
    assert_eq!(c.cmd(&["GET", "b"]).text(), "2");
    assert_eq!(c.cmd(&["EXISTS", "c"]).as_int(), Some(0));
    let log = again.log();
    assert!(
        log.contains("!!! Warning: short read while loading the AOF file"),
        "{log}"
    );
    assert!(log.contains(&format!("at offset {good} !!!")), "{log}");
    assert!(
        log.contains("loaded anyway because aof-load-truncated is enabled"),
        "{log}"
    );
    // New writes follow the cut.
    c.cmd(&["SET", "d", "4"]);
    c.cmd(&["PING"]);
    let dir = again.kill9();
    assert!(std::fs::metadata(incr_file(&dir)).unwrap().len() > good);
    let third = Server::start_in(Kind::Ringkv, AOF_ON, &dir);
    assert_eq!(third.connect().cmd(&["GET", "d"]).text(), "4");
}

/// Garbage between commands: the server refuses to start, with Redis's message.
#[test]
fn corrupt_middle_refuses_to_start() {
    let ours = Server::ringkv_with(AOF_ON);
    let mut c = ours.connect();
    c.cmd(&["SET", "a", "1"]);
    let dir = ours.kill9();
    let incr = incr_file(&dir);
    append_bytes(
        &incr,
        b"garbage\r\n*3\r\n$3\r\nSET\r\n$1\r\nb\r\n$1\r\n2\r\n",
    );
    let err = Server::try_start_in(Kind::Ringkv, AOF_ON, &dir)
        .err()
        .expect("a corrupt AOF refuses to start");
    assert!(
        err.contains("Bad file format reading the append only file appendonly.aof.1.incr.aof: make a backup of your AOF file, then use ./redis-check-aof --fix <filename.manifest>"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// BGREWRITEAOF, more writes, restart: the same data; the manifest names the new base and
/// incremental only, the old files are gone; INFO counts the rewrite.
#[test]
fn rewrite_then_restart_keeps_the_data() {
    let ours = Server::ringkv_with(AOF_ON);
    let mut c = ours.connect();
    write_dataset(&mut c, "a_");
    c.cmd(&["BGREWRITEAOF"]);
    write_dataset(&mut c, "b_");
    c.cmd(&["DEL", "a_l"]);
    // The base is written in the background: wait for the switch.
    let info = wait_rewrite_done(&mut c);
    assert!(
        info.contains("aof_enabled:1") && info.contains("aof_rewrites:1"),
        "{info}"
    );
    let want = dump(&mut c);
    let manifest =
        std::fs::read_to_string(aof_dir(ours.dir()).join("appendonly.aof.manifest")).unwrap();
    assert_eq!(
        manifest,
        "file appendonly.aof.2.base.rdb seq 2 type b\nfile appendonly.aof.2.incr.aof seq 2 type i\n"
    );
    assert!(files_ending(ours.dir(), ".1.incr.aof").is_empty());
    let dir = ours.kill9();
    let again = Server::start_in(Kind::Ringkv, AOF_ON, &dir);
    assert_eq!(dump(&mut again.connect()), want);
}

/// CONFIG SET appendonly yes at runtime writes the existing data as a base (as Redis,
/// which rewrites); a restart with appendonly yes serves it.
#[test]
fn config_set_appendonly_rewrites_then_restart() {
    let ours = Server::ringkv();
    let mut c = ours.connect();
    write_dataset(&mut c, "a_");
    assert_eq!(c.cmd(&["CONFIG", "SET", "appendonly", "yes"]).text(), "OK");
    c.cmd(&["SET", "after", "1"]);
    let info = c.cmd(&["INFO", "persistence"]).text();
    assert!(info.contains("aof_enabled:1"), "{info}");
    // The first base is written in the background (Redis's AOF_WAIT_REWRITE): wait for it,
    // as Redis's tests do, before turning the AOF off again.
    wait_rewrite_done(&mut c);
    let manifest =
        std::fs::read_to_string(aof_dir(ours.dir()).join("appendonly.aof.manifest")).unwrap();
    assert_eq!(
        manifest,
        "file appendonly.aof.1.base.rdb seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n"
    );
    assert!(
        files_ending(ours.dir(), ".incr").is_empty(),
        "the temp incr file is renamed"
    );
    let want = dump(&mut c);
    assert_eq!(c.cmd(&["CONFIG", "SET", "appendonly", "no"]).text(), "OK");
    c.cmd(&["SET", "not-logged", "1"]);
    let dir = ours.kill9();
    let again = Server::start_in(Kind::Ringkv, AOF_ON, &dir);
    assert_eq!(dump(&mut again.connect()), want);
}

/// Turning the AOF on at runtime does not block: the first base is a background snapshot
/// (scheduled after a running BGSAVE, as Redis), writes meanwhile go to a temp incremental
/// file that joins the manifest with the base; a restart from the AOF has everything.
#[test]
fn turning_the_aof_on_at_runtime_writes_the_first_base_in_the_background() {
    let ours = Server::ringkv_with(&["--save", ""]);
    let mut c = ours.connect();
    write_dataset(&mut c, "a_");
    // A slow BGSAVE first (1 ms per key), so the AOF's first base has to wait for it.
    c.cmd(&["CONFIG", "SET", "rdb-key-save-delay", "1000"]);
    assert_eq!(c.cmd(&["BGSAVE"]).text(), "Background saving started");
    assert_eq!(c.cmd(&["CONFIG", "SET", "appendonly", "yes"]).text(), "OK");
    let info = c.cmd(&["INFO", "persistence"]).text();
    assert!(
        info.contains("aof_enabled:1") && info.contains("aof_rewrite_scheduled:1"),
        "{info}"
    );
    c.cmd(&["SET", "during-wait", "1"]);
    c.cmd(&["CONFIG", "SET", "rdb-key-save-delay", "0"]);
    wait_rewrite_done(&mut c);
    c.cmd(&["SET", "after", "1"]);
    let want = dump(&mut c);
    assert!(want.contains_key("0:during-wait:string"));
    let dir = ours.kill9();
    let again = Server::start_in(Kind::Ringkv, AOF_ON, &dir);
    assert_eq!(dump(&mut again.connect()), want);
}

/// DEBUG LOADAOF replays the AOF into an emptied keyspace (writes acknowledged just before
/// are flushed first), without appending the replay to the AOF again; DEBUG DIGEST is the
/// same after as before.
#[test]
fn debug_loadaof_reloads_without_appending() {
    let ours = Server::ringkv_with(&["--appendonly", "yes", "--enable-debug-command", "yes"]);
    let mut c = ours.connect();
    write_dataset(&mut c, "a_");
    let want = dump(&mut c);
    let digest = c.cmd(&["DEBUG", "DIGEST"]).text();
    let incr = incr_file(ours.dir());
    let size = std::fs::metadata(&incr).unwrap().len();
    // A key set in memory only (DEBUG POPULATE is not propagated) must be gone after.
    assert_eq!(c.cmd(&["DEBUG", "POPULATE", "5"]).text(), "OK");
    assert_eq!(c.cmd(&["DEBUG", "LOADAOF"]).text(), "OK");
    assert_eq!(c.cmd(&["EXISTS", "key:1"]).as_int(), Some(0));
    assert_eq!(dump(&mut c), want);
    assert_eq!(c.cmd(&["DEBUG", "DIGEST"]).text(), digest);
    assert_eq!(std::fs::metadata(&incr).unwrap().len(), size);
    // Writing goes on into the same file (`dump` left the client in another db).
    c.cmd(&["SELECT", "0"]);
    c.cmd(&["SET", "after", "1"]);
    let dir = ours.kill9();
    let again = Server::start_in(Kind::Ringkv, AOF_ON, &dir);
    assert_eq!(again.connect().cmd(&["GET", "after"]).text(), "1");
}

/// `aof-timestamp-enabled yes`: the incremental file carries `#TS:<second>` before the
/// first command of each new second (and a command base starts with one);
/// `redis-check-aof` accepts it, `--truncate-to-timestamp` cuts it where Redis would, and
/// a real Redis and ringkv both load it.
#[test]
fn timestamp_annotations_as_redis_writes_them() {
    if !redis_or_skip("aof::timestamp_annotations_as_redis_writes_them") {
        return;
    }
    let ours = Server::ringkv_with(&["--appendonly", "yes", "--aof-timestamp-enabled", "yes"]);
    let mut c = ours.connect();
    let second = |c: &mut Client| -> i64 {
        let t = c.cmd(&["TIME"]);
        String::from_utf8_lossy(t.items[0].as_bytes().unwrap())
            .parse()
            .unwrap()
    };
    c.cmd(&["SET", "a", "1"]);
    let first = second(&mut c);
    // The next second, awaited on the server's clock.
    let deadline = Instant::now() + Duration::from_secs(5);
    while second(&mut c) == first {
        assert!(Instant::now() < deadline);
        std::thread::sleep(Duration::from_millis(10));
    }
    c.cmd(&["SET", "b", "2"]);
    c.cmd(&["SET", "c", "3"]);
    let text = String::from_utf8_lossy(&std::fs::read(incr_file(ours.dir())).unwrap()).into_owned();
    let stamps: Vec<i64> = text
        .lines()
        .filter_map(|l| l.strip_prefix("#TS:"))
        .map(|t| t.parse().unwrap())
        .collect();
    assert_eq!(stamps.len(), 2, "{text:?}");
    assert!(stamps[0] < stamps[1], "{stamps:?}");
    assert!(text.starts_with("#TS:"), "{text:?}");
    check_aof(ours.dir());
    // Cut at the second stamp: only `a` remains.
    let out = Command::new("redis-check-aof")
        .arg("--truncate-to-timestamp")
        .arg((stamps[1] - 1).to_string())
        .arg(incr_file(ours.dir()))
        .output()
        .expect("running redis-check-aof");
    let msg = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{msg}");
    let dir = ours.kill9();
    let redis = Server::start_in(Kind::Redis, AOF_ON, &dir);
    let mut r = redis.connect();
    assert_eq!(r.cmd(&["DBSIZE"]).as_int(), Some(1), "{}", redis.log());
    assert_eq!(r.cmd(&["GET", "a"]).text(), "1");
    drop(r);
    let dir = redis.kill9();
    let again = Server::start_in(Kind::Ringkv, AOF_ON, &dir);
    let mut c = again.connect();
    assert_eq!(c.cmd(&["DBSIZE"]).as_int(), Some(1));
    assert_eq!(c.cmd(&["GET", "a"]).text(), "1");
}
