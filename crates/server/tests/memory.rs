//! Memory accounting and `maxmemory` over real sockets against the `ringkv-server` binary:
//! `used_memory` follows the process's RSS as data grows; writing ten times `maxmemory`
//! keeps `used_memory` under the limit plus a small slack; evicted keys raise `evicted`
//! events and reach the AOF as DELs, one per key, after the SET that created them.

mod common;

use common::{Client, Server, encode_command};
use std::collections::HashSet;

/// A field of `INFO <section>` as an integer.
fn info_field(c: &mut Client, section: &str, field: &str) -> i64 {
    let text = c.cmd(&["INFO", section]).text();
    let prefix = format!("{field}:");
    text.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .unwrap_or_else(|| panic!("no {field} in INFO {section}:\n{text}"))
        .trim()
        .parse()
        .unwrap_or_else(|e| panic!("{field}: {e}"))
}

/// Sends `SET key value` for keys `prefix0..prefixN` in pipelined batches of `batch`,
/// calling `after_batch` after each batch's replies were read.
fn fill(
    c: &mut Client,
    prefix: &str,
    n: usize,
    value: &[u8],
    batch: usize,
    mut after_batch: impl FnMut(&mut Client),
) {
    let mut i = 0;
    while i < n {
        let end = (i + batch).min(n);
        let mut buf = Vec::new();
        for j in i..end {
            let k = format!("{prefix}{j}");
            buf.extend(encode_command(&[b"SET".as_slice(), k.as_bytes(), value]));
        }
        c.send_raw(&buf).unwrap();
        for _ in i..end {
            let r = c.read_reply().unwrap();
            assert_eq!(r.raw, b"+OK\r\n", "SET failed: {}", r.text());
        }
        i = end;
        after_batch(c);
    }
}

#[test]
fn used_memory_follows_rss() {
    let srv = Server::ringkv();
    let mut c = srv.connect();
    // Warm up the receive buffer ring first (512 × 16 KiB mmap'd outside the allocator,
    // resident once each buffer has carried data), so the baseline RSS includes it.
    let big = vec![b'e'; 100 << 10];
    for _ in 0..100 {
        assert_eq!(c.cmd(&[&b"ECHO"[..], &big]).data.len(), big.len());
    }
    let used0 = info_field(&mut c, "memory", "used_memory");
    let rss0 = info_field(&mut c, "memory", "used_memory_rss");
    // 150k keys with 129-byte values (jemalloc's 160-byte class: counting the requested
    // size would miss a fifth of each value): ~35 MB, far above the process's baseline.
    fill(&mut c, "key:", 150_000, &[b'x'; 129], 1000, |_| {});
    let used1 = info_field(&mut c, "memory", "used_memory");
    let rss1 = info_field(&mut c, "memory", "used_memory_rss");
    let (du, dr) = ((used1 - used0) as f64, (rss1 - rss0) as f64);
    let ratio = du / dr;
    // What jemalloc hands out is what becomes resident (plus its page-level slack); the
    // old count of requested bytes read well below.
    assert!(
        (0.9..=1.1).contains(&ratio),
        "used_memory grew {du} bytes while RSS grew {dr}: ratio {ratio:.3}"
    );
    let allocated = info_field(&mut c, "memory", "allocator_allocated");
    let used = info_field(&mut c, "memory", "used_memory");
    // jemalloc's own count of live bytes includes its internal metadata and what the
    // binary allocates outside Rust's allocator; ours must not exceed it by much nor trail
    // it by more than a few percent.
    let r = used as f64 / allocated as f64;
    eprintln!("used/rss growth {ratio:.3}, used/allocator_allocated {r:.3}");
    assert!(
        (0.97..=1.02).contains(&r),
        "used_memory {used} vs allocator_allocated {allocated}"
    );
}

#[test]
fn writing_ten_times_maxmemory_stays_under_the_limit() {
    for policy in ["allkeys-lru", "allkeys-random", "allkeys-lfu"] {
        let srv = Server::ringkv();
        let mut c = srv.connect();
        let base = info_field(&mut c, "memory", "used_memory");
        let max = base + (4 << 20);
        assert_eq!(
            c.cmd(&[
                "CONFIG",
                "SET",
                "maxmemory",
                &max.to_string(),
                "maxmemory-policy",
                policy
            ])
            .raw,
            b"+OK\r\n"
        );
        // 40 MB of 1 KB values: ten times the room above the baseline.
        let mut worst = 0;
        fill(&mut c, "k", 40_000, &[b'v'; 1024], 100, |c| {
            worst = worst.max(info_field(c, "memory", "used_memory"));
        });
        let evicted = info_field(&mut c, "stats", "evicted_keys");
        let keys = c.cmd(&["DBSIZE"]).as_int().unwrap();
        assert!(evicted > 30_000, "{policy}: evicted {evicted}");
        assert_eq!(keys + evicted, 40_000, "{policy}");
        // Eviction runs before each command, so at most the last key and the batch still
        // in the query buffer are over.
        assert!(
            worst <= max + (256 << 10),
            "{policy}: used_memory reached {worst}, limit {max} (+{} bytes)",
            worst - max
        );
    }
}

#[test]
fn evictions_raise_events_and_reach_the_aof_as_dels() {
    let srv = Server::ringkv_with(&[
        "--appendonly",
        "yes",
        "--appendfsync",
        "always",
        "--notify-keyspace-events",
        "Ee",
    ]);
    let mut sub = srv.connect();
    sub.cmd(&["SUBSCRIBE", "__keyevent@0__:evicted"]);
    let mut c = srv.connect();
    let base = info_field(&mut c, "memory", "used_memory");
    let max = base + (1 << 20);
    c.cmd(&[
        "CONFIG",
        "SET",
        "maxmemory",
        &max.to_string(),
        "maxmemory-policy",
        "allkeys-random",
    ]);
    fill(&mut c, "key:", 4000, &[b'v'; 1024], 50, |_| {});
    let evicted = info_field(&mut c, "stats", "evicted_keys") as usize;
    assert!(evicted > 2000, "evicted {evicted}");
    let mut from_events = HashSet::new();
    for _ in 0..evicted {
        let m = sub.read_reply().unwrap();
        assert_eq!(m.items[0].data, b"message");
        from_events.insert(String::from_utf8(m.items[2].data.clone()).unwrap());
    }
    assert_eq!(from_events.len(), evicted);
    let aof = srv
        .dir()
        .join("appendonlydir")
        .join("appendonly.aof.1.incr.aof");
    let lines = common::aof::commands(&std::fs::read(&aof).unwrap());
    let mut set_seen = HashSet::new();
    let mut from_aof = HashSet::new();
    for l in &lines {
        if let Some(k) = l.strip_prefix("SET ") {
            set_seen.insert(k.split(' ').next().unwrap().to_string());
        } else if let Some(k) = l.strip_prefix("DEL ") {
            assert!(set_seen.contains(k), "DEL {k} before its SET");
            assert!(from_aof.insert(k.to_string()), "DEL {k} twice");
        } else {
            assert!(
                ["SELECT 0", "CONFIG"].iter().any(|p| l.starts_with(p)),
                "unexpected AOF line {l:?}"
            );
        }
    }
    assert_eq!(from_aof, from_events);
}

/// MEMORY USAGE reports real bytes: over many keys of each shape, the sum of the keys'
/// figures plus the keyspace tables (MEMORY STATS) accounts for what `used_memory` grew by.
#[test]
fn memory_usage_sums_to_the_growth_of_used_memory() {
    let srv = Server::ringkv();
    let mut c = srv.connect();
    type Fill = fn(&mut Client, usize);
    let shapes: [(&str, Fill); 4] = [
        ("small strings", |c, i| {
            c.cmd(&["SET", &format!("s:{i}"), "0123456789"]);
        }),
        ("200-byte strings under long names", |c, i| {
            let v = "x".repeat(200);
            c.cmd(&["SET", &format!("a-rather-long-key-name:{i}"), &v]);
        }),
        ("hashtable hashes", |c, i| {
            let k = format!("h:{i}");
            let mut args: Vec<String> = vec!["HSET".into(), k];
            for f in 0..600 {
                args.push(format!("field:{f}"));
                args.push(format!("value:{f}"));
            }
            c.cmd(&args);
        }),
        ("quicklists", |c, i| {
            let k = format!("l:{i}");
            let mut args: Vec<String> = vec!["RPUSH".into(), k];
            args.extend((0..300).map(|e| format!("element-{e}")));
            c.cmd(&args);
        }),
    ];
    for (name, fill) in shapes {
        c.cmd(&["FLUSHALL"]);
        let n = if name == "hashtable hashes" || name == "quicklists" {
            200
        } else {
            20_000
        };
        let before = info_field(&mut c, "memory", "used_memory");
        let mut keys = Vec::new();
        for i in 0..n {
            fill(&mut c, i);
        }
        let after = info_field(&mut c, "memory", "used_memory");
        let mut cursor = "0".to_string();
        loop {
            let r = c.cmd(&["SCAN", &cursor, "COUNT", "1000"]);
            cursor = String::from_utf8(r.items[0].data.clone()).unwrap();
            keys.extend(r.items[1].items.iter().map(|k| k.data.clone()));
            if cursor == "0" {
                break;
            }
        }
        assert_eq!(keys.len(), n, "{name}");
        let mut sum = 0;
        for k in &keys {
            let r = c.cmd(&[&b"MEMORY"[..], b"USAGE", k, b"SAMPLES", b"0"]);
            sum += r.as_int().unwrap();
        }
        // The main table's bucket array (MEMORY STATS' overhead.hashtable.main counts the
        // nodes too, which MEMORY USAGE already includes).
        let stats = c.cmd(&["MEMORY", "STATS"]);
        let db0 = stats
            .items
            .chunks(2)
            .find(|kv| kv[0].data == b"db.0")
            .map(|kv| kv[1].clone())
            .expect("db.0 in MEMORY STATS");
        let main = db0.items[1].as_int().unwrap();
        let node_bytes = 80 * n as i64;
        let accounted = sum + (main - node_bytes).max(0);
        let grew = after - before;
        let r = accounted as f64 / grew as f64;
        eprintln!("{name}: MEMORY USAGE + table / used_memory growth = {r:.3}");
        assert!(
            (0.97..=1.03).contains(&r),
            "{name}: MEMORY USAGE sums to {sum} (+{} table) while used_memory grew {grew}: {r:.3}",
            main - node_bytes
        );
    }
}

/// No eviction while clients are paused (Redis's isPerformEvictions): lowering maxmemory
/// under CLIENT PAUSE leaves the keys alone until the pause ends.
#[test]
fn no_eviction_while_clients_are_paused() {
    let srv = Server::ringkv();
    let mut c = srv.connect();
    fill(&mut c, "k", 5000, &[b'v'; 1024], 100, |_| {});
    let used = info_field(&mut c, "memory", "used_memory");
    assert_eq!(
        c.cmd(&["CLIENT", "PAUSE", "100000", "WRITE"]).raw,
        b"+OK\r\n"
    );
    let half = (used / 2).to_string();
    let r = c.cmd(&[
        "CONFIG",
        "SET",
        "maxmemory",
        &half,
        "maxmemory-policy",
        "allkeys-random",
    ]);
    assert_eq!(r.raw, b"+OK\r\n");
    // Reads run (and would evict, were it not paused); the loop does not evict either.
    for _ in 0..20 {
        c.cmd(&["GET", "k1"]);
        c.cmd(&["PING"]);
    }
    assert_eq!(info_field(&mut c, "stats", "evicted_keys"), 0);
    assert_eq!(c.cmd(&["DBSIZE"]).as_int(), Some(5000));
    assert_eq!(c.cmd(&["CLIENT", "UNPAUSE"]).raw, b"+OK\r\n");
    // Eviction resumes: rounds of at most the tenacity's time limit, before commands and
    // from the loop, until memory is under the new limit.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while info_field(&mut c, "memory", "used_memory") > used / 2 {
        assert!(
            std::time::Instant::now() < deadline,
            "eviction did not resume"
        );
    }
    assert!(info_field(&mut c, "stats", "evicted_keys") > 1000);
}

/// `maxmemory-clients`: a client whose query buffer takes the clients past the limit is
/// disconnected and counted in `evicted_clients`; a small client stays; output a client
/// does not read counts as well; a client marked CLIENT NO-EVICT is never the one evicted,
/// even holding most of the memory (the others go, as in Redis).
#[test]
fn maxmemory_clients_evicts_the_biggest_clients() {
    let srv = Server::ringkv_with(&["--maxmemory-clients", "1mb"]);
    let mut small = srv.connect();
    let mut admin = srv.connect();
    assert_eq!(admin.cmd(&["CLIENT", "NO-EVICT", "on"]).text(), "OK");
    let evicted = |c: &mut Client| info_field(c, "stats", "evicted_clients");
    let wait_evicted = |c: &mut Client, n: i64| {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while evicted(c) < n {
            assert!(std::time::Instant::now() < deadline, "no eviction");
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        assert_eq!(evicted(c), n);
    };
    // A 10 MB argument announced: its buffer is reserved as it starts to arrive.
    let mut big = srv.connect();
    big.send_raw(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$10000000\r\n")
        .unwrap();
    big.send_raw(&vec![b'x'; 64 * 1024]).unwrap();
    wait_evicted(&mut admin, 1);
    let (_, end) = big.read_until_close();
    assert!(end.is_closed(), "{end:?}");
    assert_eq!(small.cmd(&["PING"]).text(), "PONG");

    // Replies left unread: 40 pipelined GETs of a 256 KB value.
    admin.cmd(&["SET", "v", &"y".repeat(256 * 1024)]);
    let mut reader = srv.connect();
    let mut batch = Vec::new();
    for _ in 0..40 {
        batch.extend_from_slice(&encode_command(&["GET", "v"]));
    }
    reader.send_raw(&batch).unwrap();
    wait_evicted(&mut admin, 2);
    let (_, end) = reader.read_until_close();
    assert!(end.is_closed(), "{end:?}");
    assert_eq!(small.cmd(&["PING"]).text(), "PONG");

    // The NO-EVICT client over the limit by itself: the others go, it stays.
    admin
        .send_raw(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$10000000\r\n")
        .unwrap();
    admin.send_raw(&vec![b'x'; 64 * 1024]).unwrap();
    let (_, end) = small.read_until_close();
    assert!(end.is_closed(), "{end:?}");
    admin.send_raw(&vec![b'x'; 10_000_000 - 64 * 1024]).unwrap();
    admin.send_raw(b"\r\n").unwrap();
    assert_eq!(admin.read_reply().unwrap().text(), "OK");
    assert_eq!(evicted(&mut admin), 3);
    // Off: nothing is evicted any more.
    assert_eq!(
        admin
            .cmd(&["CONFIG", "SET", "maxmemory-clients", "0"])
            .text(),
        "OK"
    );
    let mut again = srv.connect();
    again
        .send_raw(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$10000000\r\n")
        .unwrap();
    again.send_raw(&vec![b'x'; 256 * 1024]).unwrap();
    assert_eq!(admin.cmd(&["PING"]).text(), "PONG");
    assert_eq!(evicted(&mut admin), 3);
}
