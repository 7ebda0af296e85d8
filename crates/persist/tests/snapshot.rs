//! The fork-free snapshot against its definition: whatever writes run between its steps
//! (overwrites, deletes, edits of half-written big values, FLUSHDB, FLUSHALL, SWAPDB, new
//! keys), the file it produces loads to exactly the keyspace as it was when it started.
//! Randomized over seeds, with budgets from one byte (every step writes a sliver) up.

mod common;

use engine::commands::testkit::Harness;
use persist::rdb::load::{Item, LoadOptions, load};
use persist::rdb::write::{SaveOptions, write_all};
use persist::snapshot::{Purpose, Snapshot};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

/// A small deterministic generator (xorshift), so a failing seed replays.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

type Keyspace = BTreeMap<(usize, Vec<u8>), (String, String, bool)>;

/// Every key of an RDB image: (db, key) → (type, rendered value, has TTL).
fn keyspace_of(image: &[u8], h: &Harness) -> Keyspace {
    let opts = LoadOptions {
        config: &h.engine.config,
        deep_sanitize: true,
    };
    let mut out = Keyspace::new();
    load(image, &opts, &mut |item| {
        if let Item::Entry {
            db,
            key,
            value,
            expire_ms,
            ..
        } = item
        {
            let (ty, v) = common::render(&value);
            let dup = out.insert((db, key.clone()), (ty, v.to_string(), expire_ms.is_some()));
            assert!(
                dup.is_none(),
                "key {:?} written twice",
                String::from_utf8_lossy(&key)
            );
        }
        Ok(())
    })
    .expect("the snapshot loads");
    out
}

fn fill(h: &mut Harness, rng: &mut Rng) {
    for db in 0..3 {
        h.run(&["SELECT", &db.to_string()]);
        for i in 0..200 {
            let k = format!("s{i}");
            h.run(&["SET", &k, &format!("v{}", rng.below(1000))]);
        }
        // Big aggregates, written in steps.
        for i in 0..3 {
            for j in 0..700 {
                let m = format!("m{j}");
                h.run(&["RPUSH", &format!("list{i}"), &m]);
                h.run(&["SADD", &format!("set{i}"), &m]);
                h.run(&["HSET", &format!("hash{i}"), &m, "x"]);
                h.run(&["ZADD", &format!("zset{i}"), &j.to_string(), &m]);
            }
        }
        h.run(&["SET", "ttl", "v", "EX", "1000"]);
    }
    h.run(&["SELECT", "0"]);
    // Big values that expire while the snapshot runs (see `EXPIRING`).
    for k in EXPIRING {
        h.run(&["PEXPIRE", k, "50000"]);
    }
}

/// Big values of db 0 given a TTL before the snapshot; `random_write` moves the clock past
/// it and reads them, so lazy expiry deletes them, possibly while one is half-written.
/// The snapshot may leave them out; it must stay well-formed.
const EXPIRING: [&str; 3] = ["list1", "hash1", "zset2"];

/// One random write among those that exercise the hook's cases.
fn random_write(h: &mut Harness, rng: &mut Rng) {
    let db = rng.below(3).to_string();
    h.run(&["SELECT", &db]);
    let i = rng.below(3).to_string();
    let j = rng.below(900).to_string();
    let s = format!("s{}", rng.below(250));
    if rng.below(60) == 0 {
        h.advance_ms(60_000);
        h.run(&["SELECT", "0"]);
        h.run(&["LLEN", "list1"]);
        h.run(&["HLEN", "hash1"]);
        h.run(&["EXISTS", "zset2"]);
        return;
    }
    match rng.below(20) {
        0..=3 => {
            h.run(&["SET", &s, "new"]);
        }
        4 | 5 => {
            h.run(&["DEL", &s]);
        }
        6 => {
            h.run(&["APPEND", &s, "-more"]);
        }
        7 => {
            h.run(&["RPUSH", &format!("list{i}"), "new"]);
        }
        8 => {
            h.run(&["LPOP", &format!("list{i}")]);
        }
        9 => {
            h.run(&["SREM", &format!("set{i}"), &format!("m{j}")]);
        }
        10 => {
            h.run(&["HSET", &format!("hash{i}"), &format!("m{j}"), "new"]);
        }
        11 => {
            h.run(&["ZINCRBY", &format!("zset{i}"), "1", &format!("m{j}")]);
        }
        12 => {
            h.run(&["DEL", &format!("zset{i}")]);
        }
        13 => {
            h.run(&["RENAME", &s, &format!("renamed{j}")]);
        }
        14 => {
            h.run(&["EXPIRE", &s, "100"]);
        }
        15 => {
            h.run(&["PERSIST", "ttl"]);
        }
        16 if rng.below(10) == 0 => {
            h.run(&["FLUSHDB"]);
        }
        17 if rng.below(10) == 0 => {
            let other = rng.below(3).to_string();
            h.run(&["SWAPDB", &db, &other]);
        }
        18 if rng.below(30) == 0 => {
            h.run(&["FLUSHALL"]);
        }
        _ => {
            h.run(&["SET", &format!("created{j}"), "new"]);
        }
    }
    h.run(&["SELECT", "0"]);
}

fn run_seed(seed: u64, budget: usize, writes_per_step: u64) {
    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let mut h = Harness::new();
    fill(&mut h, &mut rng);
    let opts = SaveOptions::default();
    let want = keyspace_of(&write_all(&h.engine, &[], opts, 0, 0, false), &h);
    let snap = Rc::new(RefCell::new(Snapshot::new(
        h.engine.dbs.len(),
        opts,
        Purpose::Rdb,
        0,
        0,
        &[],
        &[],
    )));
    let epoch = h.engine.begin_snapshot(snap.clone());
    snap.borrow_mut().set_epoch(epoch);
    let mut file = Vec::new();
    let mut steps = 0;
    loop {
        let done = snap.borrow_mut().step(&mut h.engine, budget);
        file.extend(snap.borrow_mut().take_output());
        if done {
            h.engine.end_snapshot();
            break;
        }
        for _ in 0..rng.below(writes_per_step + 1) {
            random_write(&mut h, &mut rng);
            file.extend(snap.borrow_mut().take_output());
        }
        steps += 1;
        assert!(steps < 1_000_000, "the walk does not end");
    }
    let mut got = keyspace_of(&file, &h);
    let mut want = want;
    for k in EXPIRING {
        want.remove(&(0, k.as_bytes().to_vec()));
        got.remove(&(0, k.as_bytes().to_vec()));
    }
    if got != want {
        let missing: Vec<_> = want
            .keys()
            .filter(|k| !got.contains_key(*k))
            .take(5)
            .collect();
        let extra: Vec<_> = got
            .keys()
            .filter(|k| !want.contains_key(*k))
            .take(5)
            .collect();
        let changed: Vec<_> = want
            .iter()
            .filter(|(k, v)| got.get(*k).is_some_and(|g| g != *v))
            .map(|(k, _)| k)
            .take(5)
            .collect();
        panic!(
            "seed {seed} budget {budget}: {} keys wanted, {} written\nmissing {missing:?}\nextra {extra:?}\nchanged {changed:?}",
            want.len(),
            got.len()
        );
    }
}

#[test]
fn the_snapshot_is_the_keyspace_at_its_start_whatever_writes_run_meanwhile() {
    for seed in 1..=12 {
        let budget = [1, 7, 64, 500, 4096, 65536][seed as usize % 6];
        run_seed(seed, budget, 8);
    }
}

#[test]
fn without_writes_the_snapshot_equals_a_save() {
    let mut rng = Rng(42);
    let mut h = Harness::new();
    fill(&mut h, &mut rng);
    let opts = SaveOptions::default();
    let want = keyspace_of(&write_all(&h.engine, &[], opts, 0, 0, false), &h);
    let snap = Rc::new(RefCell::new(Snapshot::new(
        16,
        opts,
        Purpose::Rdb,
        0,
        0,
        &[],
        &[],
    )));
    let epoch = h.engine.begin_snapshot(snap.clone());
    snap.borrow_mut().set_epoch(epoch);
    let mut file = Vec::new();
    while !snap.borrow_mut().step(&mut h.engine, 100) {
        file.extend(snap.borrow_mut().take_output());
    }
    file.extend(snap.borrow_mut().take_output());
    h.engine.end_snapshot();
    assert_eq!(keyspace_of(&file, &h), want);
    // A second snapshot after the first sees everything again (epochs move on).
    let snap = Rc::new(RefCell::new(Snapshot::new(
        16,
        opts,
        Purpose::AofBase,
        0,
        0,
        &[],
        &[],
    )));
    let epoch = h.engine.begin_snapshot(snap.clone());
    snap.borrow_mut().set_epoch(epoch);
    while !snap.borrow_mut().step(&mut h.engine, usize::MAX) {}
    let file = snap.borrow_mut().take_output();
    h.engine.end_snapshot();
    assert_eq!(keyspace_of(&file, &h), want);
}

/// A big value half-written when it expires and a read deletes it: the expiry finishes it
/// first, so the stream stays well-formed (and a new key of that name is not continued).
#[test]
fn a_half_written_value_that_expires_is_finished_first() {
    let mut h = Harness::new();
    for j in 0..700 {
        h.run(&["HSET", "big", &format!("f{j}"), "v"]);
    }
    h.run(&["PEXPIRE", "big", "1000"]);
    h.run(&["SET", "small", "v"]);
    let opts = SaveOptions::default();
    let snap = Rc::new(RefCell::new(Snapshot::new(
        16,
        opts,
        Purpose::Rdb,
        0,
        0,
        &[],
        &[],
    )));
    let epoch = h.engine.begin_snapshot(snap.clone());
    snap.borrow_mut().set_epoch(epoch);
    let mut file = Vec::new();
    // Tiny steps until the big hash is half-written (some bytes of it out, not all).
    let mut steps = 0;
    while file.len() < 200 {
        assert!(!snap.borrow_mut().step(&mut h.engine, 1));
        file.extend(snap.borrow_mut().take_output());
        steps += 1;
        assert!(steps < 10_000);
    }
    h.advance_ms(2000);
    assert_eq!(h.run(&["HLEN", "big"]), ":0\r\n");
    // A new value under the same name must not be taken for the old one.
    h.run(&["SET", "big", "new"]);
    while !snap.borrow_mut().step(&mut h.engine, 1) {
        file.extend(snap.borrow_mut().take_output());
    }
    file.extend(snap.borrow_mut().take_output());
    h.engine.end_snapshot();
    let got = keyspace_of(&file, &h);
    let big = got
        .get(&(0, b"big".to_vec()))
        .expect("the half-written hash is finished");
    assert_eq!(big.0, "hash");
    assert!(got.contains_key(&(0, b"small".to_vec())));
}
