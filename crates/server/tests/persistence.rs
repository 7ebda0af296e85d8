//! RDB persistence over real sockets and real files: what ringkv writes, `redis-check-rdb`
//! accepts and a real Redis 7.0 loads with the same contents (and the reverse); BGSAVE is
//! point-in-time while writes keep coming; save points, SHUTDOWN, MISCONF.

mod common;

use common::{Client, Kind, Server, redis_or_skip};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// A scratch directory that outlives the servers started on it (each test removes its own).
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let p = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("persist-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
    fn path(&self) -> &Path {
        &self.0
    }
    fn s(&self) -> String {
        self.0.to_string_lossy().into_owned()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn text(r: &common::Reply) -> String {
    String::from_utf8_lossy(&r.raw).into_owned()
}

fn ok(c: &mut Client, args: &[&str]) {
    let r = c.cmd(args);
    assert!(!r.is_error(), "{args:?}: {}", text(&r));
}

/// Every kind of value in every encoding Redis 7.0 writes, over three dbs, with TTLs.
fn fill_every_encoding(c: &mut Client) {
    ok(c, &["SET", "str:int", "12345"]);
    ok(c, &["SET", "str:int64", "9999999999999"]);
    ok(c, &["SET", "str:neg", "-7"]);
    ok(c, &["SET", "str:emb", "hello world"]);
    ok(c, &["SET", "str:raw", &"x".repeat(100)]);
    ok(
        c,
        &[
            "SET",
            "str:raw-noise",
            &(0..200)
                .map(|i| char::from(b'a' + (i * 7 % 26) as u8))
                .collect::<String>(),
        ],
    );
    ok(c, &["SET", "str:empty", ""]);
    ok(c, &["APPEND", "str:appended", "abc"]);
    ok(c, &["SET", "str:ttl", "v", "PX", "1000000"]);
    ok(
        c,
        &["RPUSH", "list:small", "a", "b", "1", "-2", "300000", "c"],
    );
    let mut cmd = vec!["RPUSH".to_string(), "list:big".into()];
    cmd.extend((0..5000).map(|i| format!("element-{i}-{}", "y".repeat(i % 50))));
    let refs: Vec<&str> = cmd.iter().map(String::as_str).collect();
    ok(c, &refs);
    ok(
        c,
        &[
            "SADD",
            "set:int",
            "1",
            "2",
            "3",
            "-100",
            "70000",
            "5000000000",
        ],
    );
    ok(c, &["SADD", "set:str", "a", "b", "c", "12"]);
    let mut cmd = vec!["SADD".to_string(), "set:bigint".into()];
    cmd.extend((0..1000).map(|i| (i * 3).to_string()));
    let refs: Vec<&str> = cmd.iter().map(String::as_str).collect();
    ok(c, &refs);
    ok(c, &["HSET", "hash:lp", "f1", "v1", "f2", "2", "n", "-3"]);
    let mut cmd = vec!["HSET".to_string(), "hash:table".into()];
    for i in 0..300 {
        cmd.push(format!("field{i}"));
        cmd.push(format!("value{i}"));
    }
    let refs: Vec<&str> = cmd.iter().map(String::as_str).collect();
    ok(c, &refs);
    ok(c, &["HSET", "hash:longval", "f", &"z".repeat(100)]);
    ok(
        c,
        &[
            "ZADD", "zset:lp", "1", "a", "2.5", "b", "-inf", "c", "inf", "d",
        ],
    );
    let mut cmd = vec!["ZADD".to_string(), "zset:skip".into()];
    for i in 0..500 {
        cmd.push(format!("{}", i as f64 / 3.0));
        cmd.push(format!("member{i}"));
    }
    let refs: Vec<&str> = cmd.iter().map(String::as_str).collect();
    ok(c, &refs);
    ok(c, &["EXPIRE", "zset:skip", "100000"]);
    ok(c, &["CONFIG", "SET", "stream-node-max-entries", "3"]);
    for i in 1..=10 {
        let f = if i % 3 == 0 { "other" } else { "f" };
        ok(
            c,
            &[
                "XADD",
                "stream:groups",
                &format!("{i}-1"),
                f,
                &i.to_string(),
            ],
        );
    }
    ok(c, &["XDEL", "stream:groups", "2-1"]);
    ok(c, &["XGROUP", "CREATE", "stream:groups", "g", "0"]);
    ok(
        c,
        &[
            "XREADGROUP",
            "GROUP",
            "g",
            "alice",
            "COUNT",
            "3",
            "STREAMS",
            "stream:groups",
            ">",
        ],
    );
    ok(
        c,
        &["XGROUP", "CREATECONSUMER", "stream:groups", "g", "bob"],
    );
    ok(c, &["XADD", "stream:empty", "MAXLEN", "0", "5-5", "x", "y"]);
    ok(c, &["CONFIG", "SET", "stream-node-max-entries", "100"]);
    ok(
        c,
        &[
            "FUNCTION",
            "LOAD",
            "REPLACE",
            "#!lua name=persisted\nredis.register_function('pf', function(keys, args) return 7 end)",
        ],
    );
    ok(c, &["SELECT", "3"]);
    ok(c, &["SET", "db3:key", "in db 3"]);
    ok(c, &["RPUSH", "db3:list", "x"]);
    ok(c, &["SELECT", "15"]);
    ok(c, &["SET", "db15:key", "in db 15"]);
    ok(c, &["SELECT", "0"]);
}

/// Waits until a server has loaded its data (Redis answers `-LOADING` meanwhile).
fn wait_loaded(c: &mut Client) {
    wait_for("the dataset to load", || {
        !text(&c.cmd(&["PING"])).starts_with("-LOADING")
    });
}

/// A canonical description of a server's whole keyspace: per db, per key (sorted), its
/// type, encoding, whether it has a TTL, and its value (unordered collections sorted).
fn describe(c: &mut Client) -> String {
    wait_loaded(c);
    let mut out = String::new();
    for db in 0..16 {
        ok(c, &["SELECT", &db.to_string()]);
        let keys = c.cmd(&["KEYS", "*"]);
        let mut keys: Vec<Vec<u8>> = keys.items.iter().map(|k| k.data.clone()).collect();
        keys.sort();
        for k in keys {
            let k: &[u8] = &k;
            let ty = c.cmd(&[b"TYPE".as_slice(), k]).data;
            let enc = c.cmd(&[b"OBJECT".as_slice(), b"ENCODING", k]).data;
            let ttl = c.cmd(&[b"PTTL".as_slice(), k]).as_int().unwrap() > 0;
            let mut items: Vec<String> = match ty.as_slice() {
                b"string" => vec![text(&c.cmd(&[b"GET".as_slice(), k]))],
                b"list" => c
                    .cmd(&[b"LRANGE".as_slice(), k, b"0", b"-1"])
                    .items
                    .iter()
                    .map(text)
                    .collect(),
                b"set" => c
                    .cmd(&[b"SMEMBERS".as_slice(), k])
                    .items
                    .iter()
                    .map(text)
                    .collect(),
                b"hash" => c
                    .cmd(&[b"HGETALL".as_slice(), k])
                    .items
                    .chunks(2)
                    .map(|p| format!("{}={}", text(&p[0]), text(&p[1])))
                    .collect(),
                b"zset" => c
                    .cmd(&[b"ZRANGE".as_slice(), k, b"0", b"-1", b"WITHSCORES"])
                    .items
                    .chunks(2)
                    .map(|p| format!("{}={}", text(&p[0]), text(&p[1])))
                    .collect(),
                // Entries, then each group's summary (XINFO GROUPS: consumers, pending,
                // last delivered ID, entries read, lag).
                b"stream" => {
                    let mut v: Vec<String> = c
                        .cmd(&[b"XRANGE".as_slice(), k, b"-", b"+"])
                        .items
                        .iter()
                        .map(|e| {
                            let fv: Vec<String> = e.items[1].items.iter().map(text).collect();
                            format!("{}:{}", text(&e.items[0]), fv.join("="))
                        })
                        .collect();
                    for g in c.cmd(&[b"XINFO".as_slice(), b"GROUPS", k]).items {
                        let f: Vec<String> = g
                            .items
                            .iter()
                            .map(|x| {
                                if x.kind == b':' {
                                    String::from_utf8_lossy(&x.data).into_owned()
                                } else {
                                    text(x)
                                }
                            })
                            .collect();
                        v.push(format!("group {}", f.join(" ")));
                    }
                    v
                }
                other => panic!("unexpected type {}", String::from_utf8_lossy(other)),
            };
            if matches!(ty.as_slice(), b"set" | b"hash") {
                items.sort();
            }
            out.push_str(&format!(
                "{db} {} {} {} ttl={ttl} [{}]\n",
                String::from_utf8_lossy(k),
                String::from_utf8_lossy(&ty),
                String::from_utf8_lossy(&enc),
                items.join(",")
            ));
        }
    }
    ok(c, &["SELECT", "0"]);
    let libs = c.cmd(&["FUNCTION", "LIST", "WITHCODE"]);
    out.push_str(&format!("functions {}\n", libs));
    out
}

fn check_rdb(path: &Path) {
    let out = Command::new("redis-check-rdb")
        .arg(path)
        .output()
        .expect("redis-check-rdb runs");
    let log = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && log.contains("RDB looks OK"),
        "redis-check-rdb {}: {}\n{log}",
        path.display(),
        out.status
    );
}

fn info_field(c: &mut Client, name: &str) -> String {
    let info = String::from_utf8_lossy(&c.cmd(&["INFO", "persistence"]).data).into_owned();
    info.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}:")))
        .unwrap_or_else(|| panic!("no {name} in INFO:\n{info}"))
        .to_string()
}

fn wait_for(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn wait_bgsave_done(c: &mut Client) {
    wait_for("the background save", || {
        info_field(c, "rdb_bgsave_in_progress") == "0"
    });
}

#[test]
fn our_rdb_passes_redis_check_rdb_and_loads_in_redis_with_the_same_data() {
    if !redis_or_skip("our_rdb_loads_in_redis") {
        return;
    }
    let dir = TempDir::new("ours-in-redis");
    let ours = Server::ringkv_with(&["--dir", &dir.s()]);
    let mut c = ours.connect();
    fill_every_encoding(&mut c);
    let want = describe(&mut c);
    for (compression, cmd) in [("yes", "SAVE"), ("no", "SAVE"), ("yes", "BGSAVE")] {
        ok(&mut c, &["CONFIG", "SET", "rdbcompression", compression]);
        ok(&mut c, &[cmd]);
        wait_bgsave_done(&mut c);
        check_rdb(&dir.path().join("dump.rdb"));
        let redis = Server::start(
            Kind::Redis,
            &["--dir", &dir.s(), "--dbfilename", "dump.rdb"],
        );
        let got = describe(&mut redis.connect());
        assert_eq!(
            got, want,
            "Redis loaded our {cmd} (rdbcompression {compression}) differently"
        );
        // And back: Redis saves what it loaded (over our file), and a fresh ringkv serves
        // the same data.
        ok(&mut redis.connect(), &["SAVE"]);
        let back = Server::ringkv_with(&["--dir", &dir.s(), "--save", ""]);
        assert_eq!(
            describe(&mut back.connect()),
            want,
            "ours -> Redis -> ours changed the data"
        );
    }
}

#[test]
fn dump_payloads_are_byte_identical_to_redis() {
    if !redis_or_skip("dump_payloads_are_byte_identical_to_redis") {
        return;
    }
    let ours = Server::ringkv();
    let redis = Server::redis();
    let (mut a, mut b) = (ours.connect(), redis.connect());
    for c in [&mut a, &mut b] {
        // Compression aside: Redis's LZF reuses an uninitialised hash table, so its output
        // for the same input varies with what it compressed before.
        ok(c, &["CONFIG", "SET", "rdbcompression", "no"]);
        fill_every_encoding(c);
    }
    // Hashtable-encoded sets and hashes are written in dict order, which differs.
    for key in [
        "str:int",
        "str:int64",
        "str:neg",
        "str:emb",
        "str:raw",
        "str:empty",
        "str:appended",
        "list:small",
        "list:big",
        "set:int",
        "hash:lp",
        "hash:longval",
        "zset:lp",
        "zset:skip",
        "nosuchkey",
    ] {
        assert_eq!(
            text(&a.cmd(&["DUMP", key])),
            text(&b.cmd(&["DUMP", key])),
            "DUMP {key}"
        );
    }
}

/// The snapshot holds the keyspace as it was when BGSAVE started, though a pipeline of
/// writes (overwrites, deletes, big-value edits, FLUSHDB, SWAPDB) runs while it is written.
#[test]
fn bgsave_is_point_in_time_under_concurrent_writes() {
    if !redis_or_skip("bgsave_is_point_in_time") {
        return;
    }
    let dir = TempDir::new("pit");
    let ours = Server::ringkv_with(&["--dir", &dir.s()]);
    let mut c = ours.connect();
    const N: usize = 100_000;
    let mut load = Vec::new();
    for i in 0..N {
        load.extend(common::encode_command(&[
            "SET",
            &format!("key:{i}"),
            &format!("old-{i}"),
        ]));
    }
    let mut big = vec!["RPUSH".to_string(), "big:list".into()];
    big.extend((0..20_000).map(|i| format!("old-{i}")));
    load.extend(common::encode_command(&big));
    let mut zs = vec!["ZADD".to_string(), "big:zset".into()];
    for i in 0..20_000 {
        zs.push(i.to_string());
        zs.push(format!("m{i}"));
    }
    load.extend(common::encode_command(&zs));
    let mut hs = vec!["HSET".to_string(), "big:hash".into()];
    for i in 0..20_000 {
        hs.push(format!("f{i}"));
        hs.push("old".into());
    }
    load.extend(common::encode_command(&hs));
    for db in ["1", "2"] {
        load.extend(common::encode_command(&["SELECT", db]));
        for i in 0..2000 {
            load.extend(common::encode_command(&[
                "SET",
                &format!("db{db}:{i}"),
                "old",
            ]));
        }
    }
    load.extend(common::encode_command(&["SELECT", "0"]));
    c.send_raw(&load).unwrap();
    for _ in 0..(N + 3 + 2 * 2001 + 1) {
        let r = c.read_reply().unwrap();
        assert!(!r.is_error(), "{}", text(&r));
    }
    let want = describe(&mut c);

    // BGSAVE and the writes in one pipeline: they run while the walk is under way.
    let mut writes = common::encode_command(&["BGSAVE"]);
    let mut n = 1;
    for i in (0..N).rev() {
        let cmd = match i % 3 {
            0 => common::encode_command(&["SET", &format!("key:{i}"), "new"]),
            1 => common::encode_command(&["DEL", &format!("key:{i}")]),
            _ => common::encode_command(&["APPEND", &format!("key:{i}"), "-new"]),
        };
        writes.extend(cmd);
        n += 1;
        if i % 10_000 == 0 {
            for cmd in [
                vec!["LSET", "big:list", "100", "new"],
                vec!["RPUSH", "big:list", "new"],
                vec!["ZADD", "big:zset", "-1", "new"],
                vec!["ZREM", "big:zset", "m5"],
                vec!["HSET", "big:hash", "f7", "new"],
                vec!["SET", &format!("created:{i}"), "new"],
            ] {
                writes.extend(common::encode_command(&cmd));
                n += 1;
            }
        }
    }
    for cmd in [
        vec!["DEL", "big:zset"],
        vec!["SELECT", "1"],
        vec!["FLUSHDB"],
        vec!["SET", "db1:after-flush", "new"],
        vec!["SWAPDB", "2", "3"],
        vec!["SELECT", "3"],
        vec!["SET", "db2:0", "new"],
        vec!["SELECT", "0"],
    ] {
        writes.extend(common::encode_command(&cmd));
        n += 1;
    }
    c.send_raw(&writes).unwrap();
    let first = c.read_reply().unwrap();
    assert_eq!(text(&first), "+Background saving started\r\n");
    for _ in 1..n {
        let r = c.read_reply().unwrap();
        assert!(!r.is_error(), "{}", text(&r));
    }
    wait_bgsave_done(&mut c);
    assert_eq!(info_field(&mut c, "rdb_last_bgsave_status"), "ok");
    check_rdb(&dir.path().join("dump.rdb"));
    let redis = Server::start(
        Kind::Redis,
        &["--dir", &dir.s(), "--dbfilename", "dump.rdb"],
    );
    let got = describe(&mut redis.connect());
    if got != want {
        let (w, g): (Vec<&str>, Vec<&str>) = (want.lines().collect(), got.lines().collect());
        let missing: Vec<&&str> = w.iter().filter(|l| !g.contains(l)).take(5).collect();
        let extra: Vec<&&str> = g.iter().filter(|l| !w.contains(l)).take(5).collect();
        let check = Command::new("redis-check-rdb")
            .arg(dir.path().join("dump.rdb"))
            .output()
            .unwrap();
        panic!(
            "the snapshot is not the keyspace at BGSAVE time: {} vs {} lines\nmissing: {missing:#?}\nextra: {extra:#?}\n{}\n{}\n{}",
            w.len(),
            g.len(),
            String::from_utf8_lossy(&check.stdout),
            ours.log(),
            redis.log()
        );
    }
}

#[test]
fn save_points_trigger_a_background_save() {
    let dir = TempDir::new("savepoints");
    let ours = Server::ringkv_with(&["--dir", &dir.s(), "--save", "1 2"]);
    let mut c = ours.connect();
    let before = c.cmd(&["LASTSAVE"]).as_int().unwrap();
    ok(&mut c, &["SET", "a", "1"]);
    assert_eq!(info_field(&mut c, "rdb_changes_since_last_save"), "1");
    ok(&mut c, &["SET", "b", "2"]);
    wait_for("a save point to fire", || {
        info_field(&mut c, "rdb_saves") == "1"
    });
    wait_bgsave_done(&mut c);
    assert!(c.cmd(&["LASTSAVE"]).as_int().unwrap() >= before);
    assert_eq!(info_field(&mut c, "rdb_changes_since_last_save"), "0");
    assert!(dir.path().join("dump.rdb").exists());
    assert!(
        ours.log().contains("2 changes in 1 seconds. Saving..."),
        "{}",
        ours.log()
    );
}

/// A BGSAVE that cannot write its file is reported as Redis does, and with save points and
/// `stop-writes-on-bgsave-error yes` writes (and PING) get `-MISCONF` until a save succeeds.
#[test]
fn failed_bgsave_is_reported_and_stops_writes() {
    let dir = TempDir::new("misconf");
    let ours = Server::ringkv_with(&["--dir", &dir.s()]);
    let mut c = ours.connect();
    ok(&mut c, &["SET", "k", "v"]);
    // Make the directory unusable: replace it with a file of the same name.
    std::fs::remove_dir_all(dir.path()).unwrap();
    std::fs::write(dir.path(), b"not a dir").unwrap();
    // Redis forks, and its child fails: the reply says the save started.
    let r = c.cmd(&["BGSAVE"]);
    assert_eq!(text(&r), "+Background saving started\r\n");
    assert_eq!(info_field(&mut c, "rdb_last_bgsave_status"), "err");
    let misconf = c.cmd(&["SET", "k", "v2"]);
    assert!(
        text(&misconf).starts_with("-MISCONF Redis is configured to save RDB snapshots"),
        "{}",
        text(&misconf)
    );
    assert!(text(&c.cmd(&["PING"])).starts_with("-MISCONF"));
    assert_eq!(text(&c.cmd(&["GET", "k"])), "$1\r\nv\r\n");
    ok(&mut c, &["MULTI"]);
    assert!(text(&c.cmd(&["SET", "k", "v3"])).starts_with("-MISCONF"));
    assert!(text(&c.cmd(&["EXEC"])).starts_with("-EXECABORT"));
    // Fixed: the next save succeeds and writes flow again.
    std::fs::remove_file(dir.path()).unwrap();
    std::fs::create_dir_all(dir.path()).unwrap();
    assert_eq!(text(&c.cmd(&["BGSAVE"])), "+Background saving started\r\n");
    wait_bgsave_done(&mut c);
    assert_eq!(info_field(&mut c, "rdb_last_bgsave_status"), "ok");
    ok(&mut c, &["SET", "k", "v2"]);
}

#[test]
fn bgsave_replies_as_redis_does() {
    let dir = TempDir::new("bgsave-replies");
    let ours = Server::ringkv_with(&["--dir", &dir.s()]);
    let mut c = ours.connect();
    assert_eq!(text(&c.cmd(&["BGSAVE", "now"])), "-ERR syntax error\r\n");
    ok(&mut c, &["MULTI"]);
    ok(&mut c, &["BGSAVE"]);
    let exec = c.cmd(&["EXEC"]);
    assert_eq!(text(&exec), "*1\r\n+Background saving scheduled\r\n");
    wait_for("the scheduled save", || {
        info_field(&mut c, "rdb_saves") == "1"
    });
    let lastsave = c.cmd(&["LASTSAVE"]);
    assert!(lastsave.as_int().unwrap() > 1_700_000_000);
}

#[test]
fn redis_rdb_loads_in_ringkv_with_the_same_data() {
    if !redis_or_skip("redis_rdb_loads_in_ringkv") {
        return;
    }
    let dir = TempDir::new("redis-in-ours");
    for compression in ["yes", "no"] {
        let redis = Server::start(
            Kind::Redis,
            &["--dir", &dir.s(), "--rdbcompression", compression],
        );
        let mut c = redis.connect();
        ok(&mut c, &["FLUSHALL"]);
        fill_every_encoding(&mut c);
        ok(&mut c, &["SAVE"]);
        let want = describe(&mut c);
        let ours = Server::ringkv_with(&["--dir", &dir.s(), "--save", ""]);
        let mut o = ours.connect();
        assert_eq!(describe(&mut o), want, "rdbcompression {compression}");
        let loaded = info_field(&mut o, "rdb_last_load_keys_loaded");
        assert_eq!(loaded, "24", "{}", ours.log());
        assert!(
            ours.log()
                .contains("Done loading RDB, keys loaded: 24, keys expired: 0.")
        );
    }
}

/// SHUTDOWN saves (default save points) and a restart on the same directory serves the
/// same keyspace; keys that expired meanwhile are dropped at load.
#[test]
fn shutdown_saves_and_a_restart_loads_it_back() {
    let dir = TempDir::new("restart");
    let mut ours = Server::ringkv_with(&["--dir", &dir.s()]);
    let mut c = ours.connect();
    fill_every_encoding(&mut c);
    ok(&mut c, &["SET", "short-lived", "v", "PX", "1"]);
    std::thread::sleep(Duration::from_millis(5));
    let want = describe(&mut c);
    c.send(&["SHUTDOWN"]).unwrap();
    let status = ours.wait_exit(Duration::from_secs(20)).expect("exits");
    assert!(status.success(), "{}", ours.log());
    assert!(
        ours.log()
            .contains("Saving the final RDB snapshot before exiting.")
    );
    let again = Server::ringkv_with(&["--dir", &dir.s()]);
    let mut c = again.connect();
    assert_eq!(describe(&mut c), want);
    assert_eq!(info_field(&mut c, "rdb_changes_since_last_save"), "0");
}

#[test]
fn a_corrupt_or_truncated_rdb_refuses_to_start_naming_the_offset() {
    let dir = TempDir::new("corrupt");
    {
        let ours = Server::ringkv_with(&["--dir", &dir.s()]);
        let mut c = ours.connect();
        fill_every_encoding(&mut c);
        ok(&mut c, &["SAVE"]);
    }
    let path = dir.path().join("dump.rdb");
    let good = std::fs::read(&path).unwrap();
    // Truncated in the middle.
    std::fs::write(&path, &good[..good.len() / 2]).unwrap();
    let err = Server::try_start(Kind::Ringkv, &["--dir", &dir.s()])
        .err()
        .expect("a truncated file must not load");
    assert!(
        err.contains("Fatal error loading the DB") && err.contains("at offset"),
        "{err}"
    );
    // A flipped byte: the checksum catches it.
    let mut bad = good.clone();
    let mid = bad.len() / 3;
    bad[mid] ^= 0x55;
    std::fs::write(&path, &bad).unwrap();
    let err = Server::try_start(Kind::Ringkv, &["--dir", &dir.s()])
        .err()
        .expect("a corrupt file must not load");
    assert!(err.contains("Fatal error loading the DB"), "{err}");
    // Not an RDB at all.
    std::fs::write(&path, b"hello world").unwrap();
    let err = Server::try_start(Kind::Ringkv, &["--dir", &dir.s()])
        .err()
        .expect("garbage must not load");
    assert!(err.contains("Fatal error loading the DB"), "{err}");
}

/// DEBUG RELOAD saves, empties and loads back (Redis's own tests lean on it); NOSAVE loads
/// the file as it was; MERGE NOFLUSH keeps keys the file does not have.
#[test]
fn debug_reload_round_trips_the_keyspace() {
    let dir = TempDir::new("reload");
    let ours = Server::ringkv_with(&["--dir", &dir.s(), "--enable-debug-command", "yes"]);
    let mut c = ours.connect();
    fill_every_encoding(&mut c);
    let want = describe(&mut c);
    assert_eq!(text(&c.cmd(&["DEBUG", "RELOAD"])), "+OK\r\n");
    assert_eq!(describe(&mut c), want);
    ok(&mut c, &["SET", "after", "1"]);
    ok(&mut c, &["DEL", "list:big"]);
    assert_eq!(text(&c.cmd(&["DEBUG", "RELOAD", "NOSAVE"])), "+OK\r\n");
    assert_eq!(describe(&mut c), want);
    ok(&mut c, &["SET", "extra", "1"]);
    ok(&mut c, &["SET", "str:emb", "changed"]);
    assert_eq!(
        text(&c.cmd(&["DEBUG", "RELOAD", "NOSAVE", "NOFLUSH", "MERGE"])),
        "+OK\r\n"
    );
    assert_eq!(text(&c.cmd(&["GET", "extra"])), "$1\r\n1\r\n");
    assert_eq!(text(&c.cmd(&["GET", "str:emb"])), "$11\r\nhello world\r\n");
    assert_eq!(
        text(&c.cmd(&["DEBUG", "RELOAD", "FAST"])),
        "-ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.\r\n"
    );
}

/// FLUSHALL abandons a running BGSAVE (not a failure: Redis kills its child with SIGUSR1)
/// and, with save points, saves the empty dataset so a restart does not resurrect the keys;
/// without save points it counts one change more than the keys it removed, as 7.0.
#[test]
fn flushall_aborts_bgsave_and_saves_the_empty_dataset() {
    let dir = TempDir::new("flushall");
    let ours = Server::ringkv_with(&["--dir", &dir.s()]);
    let mut c = ours.connect();
    let mut load = Vec::new();
    for i in 0..50_000 {
        load.extend(common::encode_command(&["SET", &format!("k{i}"), "v"]));
    }
    c.send_raw(&load).unwrap();
    for _ in 0..50_000 {
        c.read_reply().unwrap();
    }
    ok(&mut c, &["SAVE"]);
    let mut both = common::encode_command(&["BGSAVE"]);
    both.extend(common::encode_command(&["FLUSHALL"]));
    c.send_raw(&both).unwrap();
    assert_eq!(
        text(&c.read_reply().unwrap()),
        "+Background saving started\r\n"
    );
    assert_eq!(text(&c.read_reply().unwrap()), "+OK\r\n");
    assert_eq!(info_field(&mut c, "rdb_bgsave_in_progress"), "0");
    assert_eq!(info_field(&mut c, "rdb_last_bgsave_status"), "ok");
    assert_eq!(info_field(&mut c, "rdb_changes_since_last_save"), "0");
    ok(&mut c, &["SET", "k", "v"]);
    drop(ours);
    let again = Server::ringkv_with(&["--dir", &dir.s(), "--save", ""]);
    let mut c = again.connect();
    assert_eq!(text(&c.cmd(&["DBSIZE"])), ":0\r\n", "{}", again.log());
    for i in 0..3 {
        ok(&mut c, &["SET", &format!("n{i}"), "v"]);
    }
    ok(&mut c, &["FLUSHALL"]);
    assert_eq!(info_field(&mut c, "rdb_changes_since_last_save"), "7");
}

/// Redis's own "FLUSHALL aborts bgsave" test: `rdb-key-save-delay` (per key) makes a
/// background save slow without blocking the loop, and FLUSHALL abandons it.
#[test]
fn rdb_key_save_delay_slows_bgsave_and_flushall_aborts_it() {
    let dir = TempDir::new("keydelay");
    let ours = Server::ringkv_with(&["--dir", &dir.s(), "--save", ""]);
    let mut c = ours.connect();
    let mut load = Vec::new();
    for i in 0..1000 {
        load.extend(common::encode_command(&["SET", &format!("k{i}"), "v"]));
    }
    c.send_raw(&load).unwrap();
    for _ in 0..1000 {
        c.read_reply().unwrap();
    }
    ok(&mut c, &["CONFIG", "SET", "rdb-key-save-delay", "1000"]);
    assert_eq!(text(&c.cmd(&["BGSAVE"])), "+Background saving started\r\n");
    assert_eq!(info_field(&mut c, "rdb_bgsave_in_progress"), "1");
    let t = Instant::now();
    assert_eq!(text(&c.cmd(&["PING"])), "+PONG\r\n");
    assert!(
        t.elapsed() < Duration::from_millis(500),
        "the loop is blocked"
    );
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(info_field(&mut c, "rdb_bgsave_in_progress"), "1");
    ok(&mut c, &["FLUSHALL"]);
    wait_bgsave_done(&mut c);
    let changes: u64 = info_field(&mut c, "rdb_changes_since_last_save")
        .parse()
        .unwrap();
    assert!(changes > 999, "{changes}");
    ok(&mut c, &["SET", "x", "xx"]);
    assert!(!dir.path().join("dump.rdb").exists());
}

/// One snapshot at a time, as Redis has one child: a BGSAVE during a background AOF rewrite
/// is refused unless SCHEDULEd, and then runs when the rewrite is done; BGREWRITEAOF during
/// a BGSAVE is scheduled likewise.
#[test]
fn bgsave_and_bgrewriteaof_take_turns() {
    let dir = TempDir::new("turns");
    let ours = Server::ringkv_with(&["--dir", &dir.s(), "--save", "", "--appendonly", "yes"]);
    let mut c = ours.connect();
    let mut load = Vec::new();
    for i in 0..300 {
        load.extend(common::encode_command(&["SET", &format!("k{i}"), "v"]));
    }
    c.send_raw(&load).unwrap();
    for _ in 0..300 {
        c.read_reply().unwrap();
    }
    // 1 ms per key: each snapshot takes about 0.3 s.
    ok(&mut c, &["CONFIG", "SET", "rdb-key-save-delay", "1000"]);
    assert_eq!(
        text(&c.cmd(&["BGREWRITEAOF"])),
        "+Background append only file rewriting started\r\n"
    );
    assert_eq!(
        text(&c.cmd(&["BGREWRITEAOF"])),
        "-ERR Background append only file rewriting already in progress\r\n"
    );
    assert_eq!(
        text(&c.cmd(&["BGSAVE"])),
        "-ERR Another child process is active (AOF?): can't BGSAVE right now. Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible.\r\n"
    );
    assert_eq!(
        text(&c.cmd(&["BGSAVE", "SCHEDULE"])),
        "+Background saving scheduled\r\n"
    );
    wait_for("the scheduled BGSAVE", || {
        info_field(&mut c, "rdb_saves") == "1"
    });
    assert_eq!(info_field(&mut c, "aof_rewrites"), "1");
    assert_eq!(info_field(&mut c, "aof_last_bgrewrite_status"), "ok");
    assert_eq!(text(&c.cmd(&["BGSAVE"])), "+Background saving started\r\n");
    assert_eq!(
        text(&c.cmd(&["BGREWRITEAOF"])),
        "+Background append only file rewriting scheduled\r\n"
    );
    wait_for("the scheduled rewrite", || {
        info_field(&mut c, "aof_rewrites") == "2"
    });
    assert!(dir.path().join("dump.rdb").exists());
}

/// A write to a big value the running snapshot has not written waits (that client alone)
/// while the snapshot writes the value ahead of its walk in bounded steps, instead of the
/// write hook serializing it in one go inside the command; the file keeps the old value.
#[test]
fn a_write_to_a_big_unwritten_value_waits_for_it_alone() {
    let dir = TempDir::new("bigwait");
    let ours = Server::ringkv_with(&["--dir", &dir.s(), "--save", ""]);
    let mut c = ours.connect();
    let mut load = Vec::new();
    for i in 0..1000 {
        load.extend(common::encode_command(&["SET", &format!("k{i}"), "v"]));
    }
    let mut z = vec!["ZADD".to_string(), "big".into()];
    for i in 0..2000 {
        z.push(i.to_string());
        z.push(format!("m{i}"));
    }
    load.extend(common::encode_command(&z));
    c.send_raw(&load).unwrap();
    for _ in 0..1001 {
        c.read_reply().unwrap();
    }
    // 1 ms per key: the walk takes about a second.
    ok(&mut c, &["CONFIG", "SET", "rdb-key-save-delay", "1000"]);
    assert_eq!(text(&c.cmd(&["BGSAVE"])), "+Background saving started\r\n");
    let mut other = ours.connect();
    assert_eq!(text(&c.cmd(&["ZADD", "big", "-1", "new"])), ":1\r\n");
    assert_eq!(text(&other.cmd(&["PING"])), "+PONG\r\n");
    // Served long before the walk is done.
    assert_eq!(info_field(&mut other, "rdb_bgsave_in_progress"), "1");
    assert_eq!(text(&c.cmd(&["ZCARD", "big"])), ":2001\r\n");
    ok(&mut c, &["CONFIG", "SET", "rdb-key-save-delay", "0"]);
    wait_bgsave_done(&mut c);
    drop(ours);
    let again = Server::ringkv_with(&["--dir", &dir.s(), "--save", ""]);
    let mut c = again.connect();
    assert_eq!(text(&c.cmd(&["ZCARD", "big"])), ":2000\r\n");
    assert_eq!(text(&c.cmd(&["ZSCORE", "big", "new"])), "$-1\r\n");
}
