//! Replication against real Redis 7.0: a real `redis-server --replicaof` following a ringkv
//! master gets a full sync of every type, then the stream of writes, and after a dropped
//! link a partial resync from the backlog; the keyspaces stay identical (DEBUG DIGEST).

mod common;

use common::{Client, Server, redis_or_skip};
use std::time::{Duration, Instant};

const WAIT_ON_REPLICA: &str = "-ERR WAIT cannot be used with replica instances. Please also note that since Redis 4.0 if a replica is configured to be writable (which is not the default) writes to replicas are just local and are not propagated.\r\n";

fn info_field(c: &mut Client, name: &str) -> String {
    let info = c.cmd(&["INFO", "everything"]).text();
    info.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}:")))
        .unwrap_or_default()
        .to_string()
}

fn wait_until(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn raw(r: &common::Reply) -> String {
    String::from_utf8_lossy(&r.raw).into_owned()
}

fn digest(c: &mut Client) -> String {
    c.cmd(&["DEBUG", "DIGEST"]).text()
}

/// Every type, a TTL, several dbs.
fn fill(m: &mut Client, tag: &str) {
    for cmd in [
        vec!["SET", "s", "v"],
        vec!["SET", "n", "12345"],
        vec!["SET", "ttl", "x", "PX", "100000"],
        vec!["RPUSH", "l", "a", "b", "1", "2"],
        vec!["SADD", "si", "1", "2", "3"],
        vec!["SADD", "ss", "a", "b"],
        vec!["HSET", "h", "f", "v", "g", "2"],
        vec!["ZADD", "z", "1", "a", "2.5", "b"],
        vec!["PFADD", "hll", "a", "b", "c"],
        vec!["SETBIT", "bits", "100", "1"],
        vec!["XADD", "st", "1-1", "f", "v"],
        vec!["XGROUP", "CREATE", "st", "g", "0"],
        vec!["XREADGROUP", "GROUP", "g", "c", "STREAMS", "st", ">"],
        vec!["SELECT", "3"],
        vec!["SET", "in3", "x"],
        vec!["INCRBYFLOAT", "f", "1.5"],
        vec!["SELECT", "0"],
    ] {
        let mut cmd = cmd;
        let key;
        // The key is the first argument, or the second for XGROUP, the last for XREADGROUP.
        let at = match cmd[0] {
            "SELECT" => 0,
            "XGROUP" => 2,
            "XREADGROUP" => cmd.len() - 2,
            _ => 1,
        };
        if at > 0 {
            key = format!("{}{tag}", cmd[at]);
            cmd[at] = &key;
        }
        let r = m.cmd(&cmd);
        assert!(!r.is_error(), "{cmd:?}: {}", r.text());
    }
}

fn in_sync(m: &mut Client, r: &mut Client) -> bool {
    info_field(r, "master_link_status") == "up"
        && info_field(r, "master_repl_offset") == info_field(m, "master_repl_offset")
}

#[test]
fn a_real_redis_replica_follows_ringkv_diskless() {
    follow_and_resume(&["--repl-diskless-sync-delay", "0"], false);
}

#[test]
fn a_real_redis_replica_follows_ringkv_from_the_rdb_file() {
    follow_and_resume(&["--repl-diskless-sync", "no"], true);
}

/// A real replica's full sync, the stream, and a partial resync after a dropped link.
fn follow_and_resume(master_args: &[&str], file_expected: bool) {
    if !redis_or_skip("a_real_redis_replica_follows_ringkv") {
        return;
    }
    let mut args = vec!["--enable-debug-command", "yes"];
    args.extend_from_slice(master_args);
    let master = Server::ringkv_with(&args);
    let mut m = master.connect();
    fill(&mut m, "-before");
    let lib = "#!lua name=replicated\nredis.register_function{function_name='rf', \
         callback=function(keys, args) return 1 end, flags={'no-writes'}}";
    assert!(!m.cmd(&["FUNCTION", "LOAD", lib]).is_error());
    // Enough keys that the snapshot takes many loop turns, so writes land during it.
    assert_eq!(
        raw(&m.cmd(&["DEBUG", "POPULATE", "20000", "pop"])),
        "+OK\r\n"
    );
    // Incompressible values make a file of several MB, sent to the replica a chunk at a
    // time as its socket drains.
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for k in 0..4 {
        let blob: Vec<u8> = (0..1 << 20)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect();
        assert_eq!(
            raw(&m.cmd(&[&b"SET"[..], format!("blob{k}").as_bytes(), &blob])),
            "+OK\r\n"
        );
    }
    let port = master.port().to_string();
    let replica = Server::redis_with(&[
        "--enable-debug-command",
        "yes",
        "--replicaof",
        "127.0.0.1",
        &port,
    ]);
    let mut r = replica.connect();
    // Writes while the replica syncs: they reach it after its RDB, in order.
    for i in 0..3000 {
        m.cmd(&["INCR", "during-sync"]);
        if i % 3 == 0 {
            m.cmd(&["SET", &format!("pop:{i}"), "changed"]);
        }
    }
    wait_until("the full sync", || in_sync(&mut m, &mut r));
    assert_eq!(digest(&mut m), digest(&mut r));
    // The library came with the RDB.
    assert_eq!(raw(&r.cmd(&["FCALL_RO", "rf", "0"])), ":1\r\n");
    assert_eq!(info_field(&mut m, "sync_full"), "1");
    assert_eq!(
        master.dir().join("dump.rdb").exists(),
        file_expected,
        "a diskless sync writes no file; a disk one writes dump.rdb"
    );
    assert_eq!(info_field(&mut m, "connected_slaves"), "1");
    let slave0 = info_field(&mut m, "slave0");
    assert!(slave0.contains("state=online"), "{slave0}");
    // min-replicas-to-write counts the replica once it acknowledged (every second).
    m.cmd(&["CONFIG", "SET", "min-replicas-to-write", "1"]);
    wait_until("a good replica", || {
        !m.cmd(&["SET", "guarded", "1"]).is_error()
    });
    m.cmd(&["CONFIG", "SET", "min-replicas-to-write", "2"]);
    assert_eq!(
        raw(&m.cmd(&["SET", "guarded", "2"])),
        "-NOREPLICAS Not enough good replicas to write.\r\n"
    );
    m.cmd(&["CONFIG", "SET", "min-replicas-to-write", "0"]);
    let role = raw(&m.cmd(&["ROLE"]));
    assert!(role.starts_with("*3\r\n$6\r\nmaster\r\n:"), "{role}");
    assert!(role.contains("$9\r\n127.0.0.1\r\n"), "{role}");

    // The stream: writes in several dbs, a transaction, non-deterministic commands.
    fill(&mut m, "-after");
    m.cmd(&["MULTI"]);
    m.cmd(&["INCR", "counter"]);
    m.cmd(&["SPOP", "si-after"]);
    m.cmd(&["EXEC"]);
    m.cmd(&["EXPIRE", "s-after", "1000"]);
    m.cmd(&["DEL", "l-before"]);
    wait_until("the stream", || in_sync(&mut m, &mut r));
    let offset: u64 = info_field(&mut m, "master_repl_offset").parse().unwrap();
    assert!(offset > 0, "the stream went through the backlog");
    let d = digest(&mut m);
    assert_eq!(d, digest(&mut r));
    assert_ne!(d, "0".repeat(40));

    // The link drops; writes go on; the replica comes back with PSYNC and gets only what
    // it missed.
    let killed = m.cmd(&["CLIENT", "KILL", "TYPE", "replica"]);
    assert_eq!(killed.as_int(), Some(1), "{}", killed.text());
    fill(&mut m, "-during");
    wait_until("the partial resync", || {
        info_field(&mut m, "sync_partial_ok") == "1" && in_sync(&mut m, &mut r)
    });
    assert_eq!(info_field(&mut m, "sync_full"), "1", "no second full sync");
    assert_eq!(digest(&mut m), digest(&mut r));
}

#[test]
fn replconf_and_sync_errors_match_redis() {
    let master = Server::ringkv();
    let mut c = master.connect();
    assert_eq!(
        raw(&c.cmd(&["REPLCONF", "listening-port"])),
        "-ERR syntax error\r\n"
    );
    assert_eq!(
        raw(&c.cmd(&["REPLCONF", "nope", "1"])),
        "-ERR Unrecognized REPLCONF option: nope\r\n"
    );
    assert_eq!(
        raw(&c.cmd(&["REPLCONF", "listening-port", "7000"])),
        "+OK\r\n"
    );
    assert_eq!(
        raw(&c.cmd(&["REPLICAOF", "127.0.0.1", "99999"])),
        "-ERR Invalid master port\r\n"
    );
    assert_eq!(raw(&c.cmd(&["REPLICAOF", "no", "one"])), "+OK\r\n");
    assert_eq!(
        raw(&c.cmd(&["REPLCONF", "rdb-only", "2"])),
        "-ERR value is out of range, value must between 0 and 1\r\n"
    );
    assert_eq!(
        raw(&c.cmd(&["REPLCONF", "rdb-filter-only", "functions x"])),
        "-ERR Unsupported rdb-filter-only option: x\r\n"
    );
    assert_eq!(
        raw(&c.cmd(&["REPLCONF", "rdb-filter-only", "\"open"])),
        "-ERR Missing rdb-filter-only values\r\n"
    );
    {
        // A filtered RDB is always sent as a diskless payload: EOF capability required.
        let mut f = master.connect();
        assert_eq!(
            raw(&f.cmd(&["REPLCONF", "rdb-filter-only", "functions"])),
            "+OK\r\n"
        );
        assert_eq!(
            raw(&f.cmd(&["SYNC"])),
            "-ERR Filtered replica requires EOF capability\r\n"
        );
    }
    // A replica whose own link is down serves no replicas (no cycles, no following itself).
    let own = master.port().to_string();
    assert_eq!(raw(&c.cmd(&["REPLICAOF", "127.0.0.1", "1"])), "+OK\r\n");
    let mut d = master.connect();
    assert_eq!(
        raw(&d.cmd(&["PSYNC", "?", "-1"])),
        "-NOMASTERLINK Can't SYNC while not connected with my master\r\n"
    );
    assert_eq!(raw(&c.cmd(&["REPLICAOF", "127.0.0.1", &own])), "+OK\r\n");
    assert_eq!(raw(&c.cmd(&["REPLICAOF", "no", "one"])), "+OK\r\n");
    // No replica yet: ROLE lists none and the backlog does not exist.
    assert_eq!(raw(&c.cmd(&["ROLE"])), "*3\r\n$6\r\nmaster\r\n:0\r\n*0\r\n");
    assert_eq!(info_field(&mut c, "repl_backlog_active"), "0");
}

/// ringkv follows a real Redis master: full sync of every type, the stream (expiry driven
/// by the master), read-only to clients, and a partial resync after the link drops.
#[test]
fn ringkv_follows_a_real_redis_master() {
    if !redis_or_skip("ringkv_follows_a_real_redis_master") {
        return;
    }
    let master = Server::redis_with(&[
        "--enable-debug-command",
        "yes",
        "--repl-diskless-sync-delay",
        "0",
    ]);
    let mut m = master.connect();
    fill(&mut m, "-before");
    let port = master.port().to_string();
    let replica = Server::ringkv_with(&[
        "--enable-debug-command",
        "yes",
        "--replicaof",
        "127.0.0.1",
        &port,
        "--replica-announce-ip",
        "10.1.2.3",
    ]);
    let mut r = replica.connect();
    wait_until("the full sync", || in_sync(&mut m, &mut r));
    assert_eq!(digest(&mut m), digest(&mut r));
    // `repl-diskless-load disabled` (the default): the payload went through a temporary
    // file that became the replica's dump.rdb, as on a Redis replica.
    let names: Vec<String> = std::fs::read_dir(replica.dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().any(|n| n == "dump.rdb"), "{names:?}");
    assert!(!names.iter().any(|n| n.starts_with("temp-")), "{names:?}");
    let check = std::process::Command::new("redis-check-rdb")
        .arg(replica.dir().join("dump.rdb"))
        .output()
        .expect("running redis-check-rdb");
    assert!(check.status.success(), "{check:?}");
    assert_eq!(info_field(&mut r, "role"), "slave");
    let slave0 = info_field(&mut m, "slave0");
    assert!(slave0.starts_with("ip=10.1.2.3,port="), "{slave0}");
    let role = raw(&r.cmd(&["ROLE"]));
    assert!(
        role.starts_with(&format!(
            "*5\r\n$5\r\nslave\r\n$9\r\n127.0.0.1\r\n:{port}\r\n$9\r\nconnected\r\n:"
        )),
        "{role}"
    );
    assert_eq!(
        raw(&r.cmd(&["SET", "x", "1"])),
        "-READONLY You can't write against a read only replica.\r\n"
    );
    assert_eq!(raw(&r.cmd(&["WAIT", "1", "0"])), WAIT_ON_REPLICA);
    // A function that may write is refused by its declared flags before it runs (Redis's
    // getCommandFlags), one declared `no-writes` runs; a flag-less EVAL runs until it writes.
    let lib = "#!lua name=rw\nredis.register_function('w', function() return redis.call('set', 'x', 1) end)\n\
               redis.register_function{function_name='r', callback=function() return 2 end, flags={'no-writes'}}";
    assert!(!m.cmd(&["FUNCTION", "LOAD", lib]).is_error());
    wait_until("the library", || in_sync(&mut m, &mut r));
    assert_eq!(
        raw(&r.cmd(&["FCALL", "w", "0"])),
        "-READONLY You can't write against a read only replica.\r\n"
    );
    assert_eq!(raw(&r.cmd(&["FCALL", "r", "0"])), ":2\r\n");
    let e = raw(&r.cmd(&["EVAL", "return redis.call('set', 'x', 1)", "0"]));
    assert!(
        e.starts_with("-READONLY You can't write against a read only replica."),
        "{e}"
    );

    // The stream, with keys that expire: the replica waits for the master's DEL.
    fill(&mut m, "-after");
    m.cmd(&["MULTI"]);
    m.cmd(&["INCR", "counter"]);
    m.cmd(&["SPOP", "si-after"]);
    m.cmd(&["EXEC"]);
    m.cmd(&["SET", "short", "v", "PX", "50"]);
    m.cmd(&["SELECT", "5"]);
    m.cmd(&["SET", "in5", "v"]);
    m.cmd(&["SELECT", "0"]);
    wait_until("the stream", || in_sync(&mut m, &mut r));
    assert_eq!(digest(&mut m), digest(&mut r));
    wait_until("the master's expiry", || {
        m.cmd(&["GET", "short"]);
        in_sync(&mut m, &mut r) && r.cmd(&["DBSIZE"]).as_int() == m.cmd(&["DBSIZE"]).as_int()
    });

    // The link drops; the replica continues with PSYNC from its offset, in the db the
    // stream had selected (the master sends no SELECT again).
    m.cmd(&["SELECT", "5"]);
    m.cmd(&["SET", "before-drop", "1"]);
    wait_until("db 5", || in_sync(&mut m, &mut r));
    let killed = m.cmd(&["CLIENT", "KILL", "TYPE", "replica"]);
    assert_eq!(killed.as_int(), Some(1), "{}", killed.text());
    m.cmd(&["SET", "after-drop", "2"]);
    m.cmd(&["SELECT", "0"]);
    fill(&mut m, "-during");
    wait_until("the partial resync", || {
        info_field(&mut m, "sync_partial_ok") == "1" && in_sync(&mut m, &mut r)
    });
    assert_eq!(info_field(&mut m, "sync_full"), "1", "no second full sync");
    assert_eq!(digest(&mut m), digest(&mut r));
    r.cmd(&["SELECT", "5"]);
    assert_eq!(raw(&r.cmd(&["GET", "after-drop"])), "$1\r\n2\r\n");
    r.cmd(&["SELECT", "0"]);

    // Promoted, it takes writes.
    assert_eq!(raw(&r.cmd(&["REPLICAOF", "NO", "ONE"])), "+OK\r\n");
    assert_eq!(raw(&r.cmd(&["SET", "x", "1"])), "+OK\r\n");
    assert_eq!(info_field(&mut r, "role"), "master");
}

/// ringkv → ringkv → ringkv: a chained replica gets the same stream; when the middle one is
/// promoted, the last continues with it by a partial resync (psync2).
#[test]
fn a_ringkv_chain_and_a_promotion_without_full_sync() {
    let master = Server::ringkv_with(&["--enable-debug-command", "yes"]);
    let mut m = master.connect();
    fill(&mut m, "-a");
    let mport = master.port().to_string();
    let mid = Server::ringkv_with(&[
        "--enable-debug-command",
        "yes",
        "--replicaof",
        "127.0.0.1",
        &mport,
        "--repl-diskless-sync-delay",
        "0",
    ]);
    let mut a = mid.connect();
    let aport = mid.port().to_string();
    // The last one loads its payload from memory (the first from a file).
    let last = Server::ringkv_with(&[
        "--enable-debug-command",
        "yes",
        "--replicaof",
        "127.0.0.1",
        &aport,
        "--repl-diskless-load",
        "swapdb",
    ]);
    let mut b = last.connect();
    wait_until("the chain", || {
        in_sync(&mut m, &mut a) && in_sync(&mut a, &mut b)
    });
    fill(&mut m, "-b");
    wait_until("the chain's stream", || {
        in_sync(&mut m, &mut a) && in_sync(&mut a, &mut b)
    });
    let d = digest(&mut m);
    assert_eq!(d, digest(&mut a));
    assert_eq!(d, digest(&mut b));
    let full_before = info_field(&mut a, "sync_full");

    drop(m);
    drop(master);
    assert_eq!(raw(&a.cmd(&["REPLICAOF", "NO", "ONE"])), "+OK\r\n");
    a.cmd(&["SET", "after-promotion", "1"]);
    wait_until("the last replica back", || in_sync(&mut a, &mut b));
    assert_eq!(digest(&mut a), digest(&mut b));
    assert_eq!(info_field(&mut a, "sync_full"), full_before, "no full sync");
    assert_eq!(info_field(&mut a, "sync_partial_ok"), "1");
}

/// WAIT counts the replicas that acknowledged the caller's writes: at once when enough
/// did, after the timeout otherwise; its errors are Redis's.
#[test]
fn wait_counts_acknowledging_replicas() {
    if !redis_or_skip("wait_counts_acknowledging_replicas") {
        return;
    }
    let master = Server::ringkv_with(&["--repl-diskless-sync-delay", "0"]);
    let mut m = master.connect();
    assert_eq!(raw(&m.cmd(&["WAIT", "0", "0"])), ":0\r\n");
    assert_eq!(
        raw(&m.cmd(&["WAIT", "x", "0"])),
        "-ERR value is not an integer or out of range\r\n"
    );
    assert_eq!(
        raw(&m.cmd(&["WAIT", "1", "-1"])),
        "-ERR timeout is negative\r\n"
    );
    let t = Instant::now();
    assert_eq!(raw(&m.cmd(&["WAIT", "1", "200"])), ":0\r\n");
    assert!(
        t.elapsed() >= Duration::from_millis(190),
        "{:?}",
        t.elapsed()
    );
    let port = master.port().to_string();
    let replica = Server::redis_with(&["--replicaof", "127.0.0.1", &port]);
    let mut r = replica.connect();
    wait_until("the sync", || in_sync(&mut m, &mut r));
    m.cmd(&["SET", "k", "v"]);
    // The replica answers the GETACK at once: no need to wait for its next ACK.
    let t = Instant::now();
    assert_eq!(raw(&m.cmd(&["WAIT", "1", "5000"])), ":1\r\n");
    assert!(
        t.elapsed() < Duration::from_millis(900),
        "{:?}",
        t.elapsed()
    );
    assert_eq!(raw(&r.cmd(&["GET", "k"])), "$1\r\nv\r\n");
    // Asking for more replicas than exist: the timeout, then the count.
    assert_eq!(raw(&m.cmd(&["WAIT", "2", "100"])), ":1\r\n");
    assert_eq!(raw(&r.cmd(&["WAIT", "1", "0"])), WAIT_ON_REPLICA);
    // A function that may write is refused by its declared flags before it runs (Redis's
    // getCommandFlags), one declared `no-writes` runs; a flag-less EVAL runs until it writes.
    let lib = "#!lua name=rw\nredis.register_function('w', function() return redis.call('set', 'x', 1) end)\n\
               redis.register_function{function_name='r', callback=function() return 2 end, flags={'no-writes'}}";
    assert!(!m.cmd(&["FUNCTION", "LOAD", lib]).is_error());
    wait_until("the library", || in_sync(&mut m, &mut r));
    assert_eq!(
        raw(&r.cmd(&["FCALL", "w", "0"])),
        "-READONLY You can't write against a read only replica.\r\n"
    );
    assert_eq!(raw(&r.cmd(&["FCALL", "r", "0"])), ":2\r\n");
    let e = raw(&r.cmd(&["EVAL", "return redis.call('set', 'x', 1)", "0"]));
    assert!(
        e.starts_with("-READONLY You can't write against a read only replica."),
        "{e}"
    );
}

/// FAILOVER TO a real Redis replica: the ringkv master holds writes until the target has
/// everything, demotes itself and hands over with `PSYNC … FAILOVER`; its other replica
/// stays attached to it and follows the new master through it (chained).
#[test]
fn coordinated_failover_to_a_real_redis_replica() {
    if !redis_or_skip("coordinated_failover_to_a_real_redis_replica") {
        return;
    }
    let master = Server::ringkv_with(&["--repl-diskless-sync-delay", "0"]);
    let mut m = master.connect();
    let mport = master.port().to_string();
    assert_eq!(
        raw(&m.cmd(&["FAILOVER"])),
        "-ERR FAILOVER requires connected replicas.\r\n"
    );
    assert_eq!(
        raw(&m.cmd(&["FAILOVER", "TIMEOUT", "-1"])),
        "-ERR FAILOVER timeout must be greater than 0\r\n"
    );
    assert_eq!(
        raw(&m.cmd(&["FAILOVER", "ABORT"])),
        "-ERR No failover in progress.\r\n"
    );
    let target = Server::redis_with(&["--replicaof", "127.0.0.1", &mport]);
    let other = Server::ringkv_with(&["--replicaof", "127.0.0.1", &mport]);
    let mut t = target.connect();
    let mut o = other.connect();
    wait_until("both replicas", || {
        in_sync(&mut m, &mut t)
            && in_sync(&mut m, &mut o)
            && info_field(&mut m, "slave1").contains("online")
    });
    fill(&mut m, "-x");
    assert_eq!(
        raw(&m.cmd(&["FAILOVER", "TO", "127.0.0.1", "1", "FORCE"])),
        "-ERR FAILOVER with force option requires both a timeout and target HOST and IP.\r\n"
    );
    assert_eq!(
        raw(&m.cmd(&["FAILOVER", "TO", "127.0.0.1", "1"])),
        "-ERR FAILOVER target HOST and PORT is not a replica.\r\n"
    );
    let tport = target.port().to_string();
    assert_eq!(
        raw(&m.cmd(&["FAILOVER", "TO", "127.0.0.1", &tport, "TIMEOUT", "10000"])),
        "+OK\r\n"
    );
    wait_until("the handover", || {
        info_field(&mut t, "role") == "master"
            && info_field(&mut m, "role") == "slave"
            && info_field(&mut m, "master_link_status") == "up"
    });
    assert_eq!(info_field(&mut m, "master_failover_state"), "no-failover");
    assert_eq!(info_field(&mut m, "master_port"), tport);
    assert_eq!(
        raw(&m.cmd(&["SET", "k", "v"])),
        "-READONLY You can't write against a read only replica.\r\n"
    );
    t.cmd(&["SET", "on-new-master", "1"]);
    wait_until("the chain to the other replica", || {
        o.cmd(&["GET", "on-new-master"]).text() == "1"
    });
    assert_eq!(o.cmd(&["GET", "s-x"]).text(), "v");
}

/// A full sync's payload loads in steps: meanwhile the replica answers clients — `-LOADING`
/// for what needs the keyspace, INFO with `loading:1` — then serves the master's data.
#[test]
fn a_replica_keeps_answering_while_its_full_sync_loads() {
    if !redis_or_skip("a_replica_keeps_answering_while_its_full_sync_loads") {
        return;
    }
    let master = Server::redis_with(&[
        "--enable-debug-command",
        "yes",
        "--repl-diskless-sync-delay",
        "0",
    ]);
    let mut m = master.connect();
    assert_eq!(
        raw(&m.cmd(&["DEBUG", "POPULATE", "400000", "big"])),
        "+OK\r\n"
    );
    let port = master.port().to_string();
    let replica = Server::ringkv_with(&["--enable-debug-command", "yes"]);
    let mut r = replica.connect();
    r.cmd(&["REPLICAOF", "127.0.0.1", &port]);
    let mut saw_loading = false;
    wait_until("the sync", || {
        let info = r.cmd(&["INFO", "persistence"]).text();
        if info.contains("loading:1") {
            let g = raw(&r.cmd(&["GET", "big:1"]));
            if g.starts_with("-LOADING") {
                assert_eq!(g, "-LOADING Redis is loading the dataset in memory\r\n");
                saw_loading = true;
            }
        }
        in_sync(&mut m, &mut r)
    });
    assert!(saw_loading, "the load never showed (too fast to observe?)");
    assert_eq!(r.cmd(&["DBSIZE"]).as_int(), Some(400000));
    for k in ["big:0", "big:1", "big:399999"] {
        assert_eq!(raw(&r.cmd(&["GET", k])), raw(&m.cmd(&["GET", k])), "{k}");
    }
    // The stream goes on after the load.
    m.cmd(&["SET", "after-load", "1"]);
    wait_until("the stream", || in_sync(&mut m, &mut r));
    assert_eq!(raw(&r.cmd(&["GET", "after-load"])), "$1\r\n1\r\n");
}

/// A ringkv replica of a real Redis master saves, dies and restarts on its file: the RDB's
/// replication fields (`repl-id`, `repl-offset`, `repl-stream-db`) let it continue with a
/// partial resync, in the db the master's stream had selected.
#[test]
fn a_restarted_ringkv_replica_continues_from_its_rdb() {
    if !redis_or_skip("a_restarted_ringkv_replica_continues_from_its_rdb") {
        return;
    }
    let master = Server::redis_with(&[
        "--enable-debug-command",
        "yes",
        "--repl-diskless-sync-delay",
        "0",
    ]);
    let mut m = master.connect();
    fill(&mut m, "-a");
    let port = master.port().to_string();
    let args = [
        "--enable-debug-command",
        "yes",
        "--replicaof",
        "127.0.0.1",
        &port,
    ];
    let dir = Server::new_dir(common::Kind::Ringkv);
    let replica = Server::start_in(common::Kind::Ringkv, &args, &dir);
    let mut r = replica.connect();
    wait_until("the full sync", || in_sync(&mut m, &mut r));
    assert_eq!(raw(&r.cmd(&["SAVE"])), "+OK\r\n");
    let dir = replica.kill9();
    // The master's stream last selected db 3: its next write there carries no SELECT.
    m.cmd(&["SELECT", "3"]);
    m.cmd(&["SET", "while-down-in-3", "1"]);
    m.cmd(&["SELECT", "0"]);
    fill(&mut m, "-b");
    let replica = Server::start_in(common::Kind::Ringkv, &args, &dir);
    let mut r = replica.connect();
    wait_until("the partial resync", || in_sync(&mut m, &mut r));
    assert_eq!(info_field(&mut m, "sync_full"), "1", "no second full sync");
    assert_eq!(info_field(&mut m, "sync_partial_ok"), "1");
    assert_eq!(digest(&mut m), digest(&mut r));
    r.cmd(&["SELECT", "3"]);
    assert_eq!(raw(&r.cmd(&["GET", "while-down-in-3"])), "$1\r\n1\r\n");
}

/// A ringkv master saves, dies and restarts on its file: it keeps the old history as
/// `master_replid2`, so a real Redis replica continues with a partial resync (as with a
/// restarted Redis 7.0 master).
#[test]
fn a_restarted_ringkv_master_keeps_its_replicas_history() {
    if !redis_or_skip("a_restarted_ringkv_master_keeps_its_replicas_history") {
        return;
    }
    let args = [
        "--enable-debug-command",
        "yes",
        "--repl-diskless-sync-delay",
        "0",
        "--repl-ping-replica-period",
        "3600",
    ];
    let dir = Server::new_dir(common::Kind::Ringkv);
    let master = Server::start_in(common::Kind::Ringkv, &args, &dir);
    let mut m = master.connect();
    fill(&mut m, "-a");
    let port = master.port().to_string();
    let replica = Server::redis_with(&[
        "--enable-debug-command",
        "yes",
        "--replicaof",
        "127.0.0.1",
        &port,
    ]);
    let mut r = replica.connect();
    wait_until("the full sync", || in_sync(&mut m, &mut r));
    let old_id = info_field(&mut m, "master_replid");
    let offset: u64 = info_field(&mut m, "master_repl_offset").parse().unwrap();
    assert_eq!(raw(&m.cmd(&["SAVE"])), "+OK\r\n");
    let dir = master.kill9();
    let master = Server::start_in(common::Kind::Ringkv, &args, &dir);
    let mut m = master.connect();
    assert_eq!(info_field(&mut m, "master_replid2"), old_id);
    assert_eq!(
        info_field(&mut m, "second_repl_offset"),
        (offset + 1).to_string()
    );
    assert_eq!(info_field(&mut m, "master_repl_offset"), offset.to_string());
    let port = master.port().to_string();
    assert_eq!(raw(&r.cmd(&["REPLICAOF", "127.0.0.1", &port])), "+OK\r\n");
    fill(&mut m, "-b");
    wait_until("the partial resync", || in_sync(&mut m, &mut r));
    assert_eq!(info_field(&mut m, "sync_partial_ok"), "1");
    assert_eq!(info_field(&mut m, "sync_full"), "0");
    assert_eq!(digest(&mut m), digest(&mut r));
}

/// `redis-cli --functions-rdb` (REPLCONF rdb-only and rdb-filter-only functions): the file
/// holds the function libraries and no keys, passes redis-check-rdb and loads into a real
/// Redis; `--rdb` still gets the keys.
#[test]
fn redis_cli_functions_rdb_gets_the_libraries_only() {
    if !redis_or_skip("redis_cli_functions_rdb_gets_the_libraries_only") {
        return;
    }
    let master = Server::ringkv();
    let mut m = master.connect();
    let lib = "#!lua name=onlylib\nredis.register_function('of', function() return 7 end)";
    assert_eq!(m.cmd(&["FUNCTION", "LOAD", lib]).text(), "onlylib");
    fill(&mut m, "-x");
    let port = master.port().to_string();
    let dir = Server::new_dir(common::Kind::Redis);
    std::fs::create_dir_all(&dir).unwrap();
    let get = |flag: &str, name: &str| {
        let path = dir.join(name);
        let out = std::process::Command::new("redis-cli")
            .args(["-p", &port, flag])
            .arg(&path)
            .output()
            .expect("running redis-cli");
        let text = String::from_utf8_lossy(&out.stderr).into_owned()
            + &String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success() && text.contains("success"), "{text}");
        let check = std::process::Command::new("redis-check-rdb")
            .arg(&path)
            .output()
            .expect("running redis-check-rdb");
        let report = String::from_utf8_lossy(&check.stdout).into_owned();
        assert!(check.status.success(), "{report}");
        report
    };
    let report = get("--functions-rdb", "dump.rdb");
    assert!(report.contains("[info] 0 keys read"), "{report}");
    let report = get("--rdb", "all.rdb");
    assert!(!report.contains("[info] 0 keys read"), "{report}");
    let redis = Server::start_in(common::Kind::Redis, &[], &dir);
    let mut r = redis.connect();
    assert_eq!(r.cmd(&["DBSIZE"]).as_int(), Some(0));
    assert_eq!(raw(&r.cmd(&["FCALL", "of", "0"])), ":7\r\n");
}
