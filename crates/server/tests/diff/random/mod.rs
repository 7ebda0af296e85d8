//! The randomized differential test: seeded random command sequences (`cmdgen.rs`) rendered in
//! the harness's script format (`../script.rs`) and replayed by the harness's runner against
//! real Redis 7.0.15 and `ringkv-server`; after each sequence the whole keyspace of every
//! database used is compared (keys, TYPE, OBJECT ENCODING, content by type, TTL).
//!
//! On a divergence the sequence is shrunk (delta debugging: drop chunks, then single ops,
//! while the *same* op — or the same final check — still diverges first; each try replays
//! from `@reset` and the default encoding thresholds) and printed as a script that can be
//! pasted into `tests/scripts/*.txt`, with both servers' replies at the diverging line.
//!
//! - `random_sequences_agree` (part of `cargo test`): a few fixed seeds, short sequences.
//! - `random_long_run` (`#[ignore]`, run by `scripts/diff-random.sh`): seeds from
//!   `RINGKV_RANDOM_SEED` on, for `RINGKV_RANDOM_MINUTES` (0: that one seed only), sequences
//!   of `RINGKV_RANDOM_OPS` ops; every divergence is shrunk (within
//!   `RINGKV_RANDOM_SHRINK_SECS`) and printed.
//! - `RINGKV_RANDOM_DUMP=dir` writes each generated script to `dir/random-SEED.txt`.
//! - `shrinks_a_known_difference_to_a_replayable_script`: the shrinker's self-test, against
//!   a Redis with 2 databases.

mod cmdgen;

use super::runner;
use super::script::parse_script;
use crate::common::server::{Kind, Server, redis_or_skip};
use cmdgen::{CONFIG_DEFAULTS, Cmp, DBS, KEYS, Op};
use std::fmt::Write as _;
use std::time::{Duration, Instant};

/// The connection slot the final keyspace comparison uses (fresh, RESP2).
const CHECK_CLIENT: usize = 7;

/// Where a rendered script line came from.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Origin {
    /// `@reset`, the threshold defaults, `@client` switches.
    Setup,
    /// A generated op, by its id.
    Op(usize),
    /// A line of the final keyspace comparison: database and command.
    Check(usize, String),
}

/// One line of the final keyspace comparison.
#[derive(Clone, Debug)]
struct Check {
    db: usize,
    line: String,
}

/// The final keyspace comparison: per database, the keys and, per key of the tiny
/// keyspace, its type, encoding, content (a type's reader answers WRONGTYPE on the others,
/// which must agree too) and TTL.
fn all_checks() -> Vec<Check> {
    let mut v = Vec::new();
    for db in 0..DBS {
        v.push(Check {
            db,
            line: "@unordered KEYS *".into(),
        });
        for k in KEYS {
            for tmpl in [
                "TYPE {}",
                "OBJECT ENCODING {}",
                "GET {}",
                "LRANGE {} 0 -1",
                "@unordered-pairs HGETALL {}",
                "@unordered SMEMBERS {}",
                "ZRANGE {} 0 -1 WITHSCORES",
                "XRANGE {} - +",
                "XINFO STREAM {}",
                "XINFO GROUPS {}",
                "@approx 2 TTL {}",
            ] {
                v.push(Check {
                    db,
                    line: tmpl.replace("{}", k),
                });
            }
        }
    }
    v
}

/// A script's text and, per line number (1-based; index 0 unused), its origin.
struct Rendered {
    text: String,
    origins: Vec<Origin>,
}

impl Rendered {
    fn line(&mut self, s: &str, o: Origin) {
        self.text.push_str(s);
        self.text.push('\n');
        self.origins.push(o);
    }
}

/// An argument as the script parser (redis-cli's `sdssplitargs`) reads it back.
fn quote(arg: &[u8]) -> String {
    let plain = !arg.is_empty()
        && !matches!(arg[0], b'@' | b'#')
        && arg
            .iter()
            .all(|&c| c.is_ascii_graphic() && !matches!(c, b'"' | b'\'' | b'\\'));
    if plain {
        return String::from_utf8_lossy(arg).into_owned();
    }
    let mut s = String::from("\"");
    for &c in arg {
        match c {
            b'"' => s.push_str("\\\""),
            b'\\' => s.push_str("\\\\"),
            b'\n' => s.push_str("\\n"),
            b'\r' => s.push_str("\\r"),
            b'\t' => s.push_str("\\t"),
            c if c == b' ' || c.is_ascii_graphic() => s.push(c as char),
            c => {
                let _ = write!(s, "\\x{c:02x}");
            }
        }
    }
    s.push('"');
    s
}

/// Renders ops and checks as a script. Comparison modifiers that depend on the protocol
/// follow each connection's HELLO/RESET as the script goes (ops may have been dropped).
fn render(ops: &[Op], checks: &[Check]) -> Rendered {
    let mut r = Rendered {
        text: String::new(),
        origins: vec![Origin::Setup],
    };
    r.line("@reset", Origin::Setup);
    r.line(CONFIG_DEFAULTS, Origin::Setup);
    let mut slot = 0;
    let mut proto = [2u8; 2];
    let mut multi = [false; 2];
    for op in ops {
        if op.client != slot {
            slot = op.client;
            r.line(&format!("@client {slot}"), Origin::Setup);
        }
        let modifier = match op.cmp {
            Cmp::Exact => String::new(),
            Cmp::Set => "@unordered ".into(),
            Cmp::Pairs => "@unordered-pairs ".into(),
            Cmp::RandPairs if proto[slot] == 3 => "@unordered ".into(),
            Cmp::RandPairs => "@unordered-pairs ".into(),
            Cmp::Shape => "@shape ".into(),
            Cmp::Type => "@ignore ".into(),
            Cmp::Approx(n) => format!("@approx {n} "),
        };
        let args: Vec<String> = op.args.iter().map(|a| quote(a)).collect();
        r.line(&format!("{modifier}{}", args.join(" ")), Origin::Op(op.id));
        let name = op.args[0].to_ascii_uppercase();
        if multi[slot] {
            multi[slot] = !matches!(&name[..], b"EXEC" | b"DISCARD" | b"RESET");
            if name == b"RESET" {
                proto[slot] = 2;
            }
            continue;
        }
        match (&name[..], op.args.get(1).map(|a| &a[..]), op.args.len()) {
            (b"MULTI", _, 1) => multi[slot] = true,
            (b"HELLO", Some(b"2"), 2) => proto[slot] = 2,
            (b"HELLO", Some(b"3"), 2) => proto[slot] = 3,
            (b"RESET", _, 1) => proto[slot] = 2,
            _ => {}
        }
    }
    let mut db = None;
    if !checks.is_empty() {
        r.line(&format!("@client {CHECK_CLIENT}"), Origin::Setup);
    }
    for c in checks {
        if db != Some(c.db) {
            db = Some(c.db);
            r.line(
                &format!("SELECT {}", c.db),
                Origin::Check(c.db, "SELECT".into()),
            );
        }
        r.line(&c.line, Origin::Check(c.db, c.line.clone()));
    }
    r
}

/// The reference Redis and the server under test (ringkv; a differently configured Redis
/// in the self-test), each restarted if a replay killed it.
struct Pair {
    redis: Server,
    peer: Server,
    peer_kind: Kind,
    peer_args: &'static [&'static str],
}

impl Pair {
    fn start() -> Pair {
        Pair::with_peer(Kind::Ringkv, &[])
    }

    fn with_peer(peer_kind: Kind, peer_args: &'static [&'static str]) -> Pair {
        Pair {
            redis: Server::start(Kind::Redis, &[]),
            peer: Server::start(peer_kind, peer_args),
            peer_kind,
            peer_args,
        }
    }

    fn peer_label(&self) -> &'static str {
        match self.peer_kind {
            Kind::Ringkv => "ringkv",
            Kind::Redis => "redis#2",
        }
    }

    fn ensure_alive(&mut self) {
        if self.redis.exit_status().is_some() {
            self.redis = Server::start(Kind::Redis, &[]);
        }
        if self.peer.exit_status().is_some() {
            self.peer = Server::start(self.peer_kind, self.peer_args);
        }
    }
}

/// The result of one replay: the runner's report and the origin of the first failure.
struct Replay {
    report: runner::Report,
    first: Option<Origin>,
}

fn replay(pair: &mut Pair, r: &Rendered) -> Replay {
    pair.ensure_alive();
    let steps = parse_script(r.text.as_bytes())
        .unwrap_or_else(|e| panic!("generated script does not parse: {e}\n{}", r.text));
    let label = pair.peer_label();
    let report = runner::run(
        "random",
        &steps,
        ("redis", &mut pair.redis),
        (label, &mut pair.peer),
    );
    let first = report.failed_lines.first().map(|&l| r.origins[l].clone());
    Replay { report, first }
}

/// A divergence, shrunk.
struct Failure {
    seed: u64,
    /// What diverged first, e.g. `ZRANGESTORE` or `OBJECT ENCODING g`: for deduplication.
    what: String,
    /// Ops left after shrinking.
    shrunk_ops: usize,
    /// The shrunk script.
    reproducer: String,
    /// The whole report: seed, reproducer, replies.
    text: String,
}

/// Whether only exactly-compared ops are queued inside a MULTI (dropping an EXEC while
/// shrinking may queue a SRANDMEMBER, whose EXEC reply cannot be compared).
fn multi_ok(ops: &[Op]) -> bool {
    let mut multi = [false; 2];
    for op in ops {
        let name = op.args[0].to_ascii_uppercase();
        if multi[op.client] {
            if op.cmp != Cmp::Exact {
                return false;
            }
            multi[op.client] = !matches!(&name[..], b"EXEC" | b"DISCARD" | b"RESET");
        } else if name == b"MULTI" && op.args.len() == 1 {
            multi[op.client] = true;
        }
    }
    true
}

/// Shrinks `ops` while `target` stays the first line to diverge; stops at `deadline`.
fn shrink(
    pair: &mut Pair,
    ops: &[Op],
    target: &Origin,
    deadline: Instant,
) -> (Vec<Op>, Vec<Check>, usize) {
    let mut replays = 0;
    let mut still = |pair: &mut Pair, ops: &[Op], checks: &[Check]| {
        if !multi_ok(ops) {
            return false;
        }
        replays += 1;
        replay(pair, &render(ops, checks)).first.as_ref() == Some(target)
    };
    let is_target = |op: &Op| *target == Origin::Op(op.id);
    let (mut cur, checks): (Vec<Op>, Vec<Check>) = match target {
        // Nothing after the diverging op matters.
        Origin::Op(id) => (
            ops.iter().take_while(|o| o.id <= *id).cloned().collect(),
            Vec::new(),
        ),
        Origin::Check(db, line) => {
            let one = vec![Check {
                db: *db,
                line: line.clone(),
            }];
            if line != "SELECT" && still(pair, ops, &one) {
                (ops.to_vec(), one)
            } else {
                (ops.to_vec(), all_checks())
            }
        }
        Origin::Setup => return (ops.to_vec(), all_checks(), replays),
    };
    let mut chunk = cur.len().div_ceil(2).max(1);
    loop {
        let mut removed = false;
        let mut i = 0;
        while i < cur.len() {
            if Instant::now() > deadline {
                return (cur, checks, replays);
            }
            let end = (i + chunk).min(cur.len());
            let keeps_target = cur[i..end].iter().any(is_target);
            let cand: Vec<Op> = cur
                .iter()
                .enumerate()
                .filter(|(j, op)| *j < i || *j >= end || is_target(op))
                .map(|(_, op)| op.clone())
                .collect();
            if cand.len() < cur.len() && still(pair, &cand, &checks) {
                cur = cand;
                removed = true;
                if keeps_target {
                    i += 1;
                }
            } else {
                i = end;
            }
        }
        if chunk > 1 {
            chunk = chunk.div_ceil(2);
        } else if !removed {
            return (cur, checks, replays);
        }
    }
}

/// Generates and replays one sequence; on a divergence shrinks it within `shrink_budget`.
fn run_seed(
    pair: &mut Pair,
    seed: u64,
    len: usize,
    shrink_budget: Duration,
) -> Result<(), Failure> {
    let ops = cmdgen::generate(seed, len);
    let full = render(&ops, &all_checks());
    if let Ok(dir) = std::env::var("RINGKV_RANDOM_DUMP") {
        // For inspecting what the generator produces.
        let _ = std::fs::write(format!("{dir}/random-{seed}.txt"), &full.text);
    }
    let first = replay(pair, &full);
    let Some(target) = first.first else {
        return Ok(());
    };
    let started = Instant::now();
    let (small, checks, replays) = shrink(pair, &ops, &target, started + shrink_budget);
    let rendered = render(&small, &checks);
    let last = replay(pair, &rendered);
    let what = match &target {
        Origin::Op(id) => {
            let op = ops.iter().find(|o| o.id == *id).expect("target op exists");
            let mut w = String::from_utf8_lossy(&op.args[0]).to_ascii_uppercase();
            if matches!(&w[..], "OBJECT" | "CONFIG") && op.args.len() > 1 {
                w.push(' ');
                w.push_str(&String::from_utf8_lossy(&op.args[1]).to_ascii_uppercase());
            }
            w
        }
        Origin::Check(_, line) => line.clone(),
        Origin::Setup => "setup".into(),
    };
    let mut text = format!(
        "=== random differential test: seed {seed} ({} ops) diverges first at {target:?}\n\
         shrunk to {} ops in {replays} replays, {:.1}s{}\n\
         --- reproducer (script format, for crates/server/tests/scripts/*.txt) ---\n\
         # random seed {seed}\n{}--- replies at the divergence ---\n",
        ops.len(),
        small.len(),
        started.elapsed().as_secs_f64(),
        if last.first.as_ref() == Some(&target) {
            ""
        } else {
            " (NOTE: the shrunk script no longer diverges there; the full run's report follows)"
        },
        rendered.text,
    );
    let report = if last.first.as_ref() == Some(&target) {
        last.report
    } else {
        first.report
    };
    for m in report.mismatches.iter().take(3) {
        text.push_str(m);
    }
    if let Some(a) = &report.aborted {
        let _ = writeln!(text, "*** aborted: {a}");
    }
    Err(Failure {
        seed,
        what,
        shrunk_ops: small.len(),
        reproducer: rendered.text,
        text,
    })
}

fn env_num(name: &str) -> Option<u64> {
    let v = std::env::var(name).ok()?;
    Some(
        v.trim()
            .parse()
            .unwrap_or_else(|_| panic!("{name}={v:?} is not a number")),
    )
}

/// Fixed seeds and lengths for `cargo test`: a few seconds in a debug build.
const CI_SEEDS: std::ops::Range<u64> = 1..17;
const CI_OPS: usize = 400;

#[test]
fn random_sequences_agree() {
    if !redis_or_skip("diff::random::random_sequences_agree") {
        return;
    }
    let mut pair = Pair::start();
    let t = Instant::now();
    for seed in CI_SEEDS {
        if let Err(f) = run_seed(&mut pair, seed, CI_OPS, Duration::from_secs(120)) {
            panic!("\n{}", f.text);
        }
    }
    eprintln!(
        "random: {} seeds x {CI_OPS} ops agree ({:.1}s)",
        CI_SEEDS.count(),
        t.elapsed().as_secs_f64()
    );
}

/// The long run; see the module doc and `scripts/diff-random.sh`.
#[test]
#[ignore = "long; run by scripts/diff-random.sh"]
fn random_long_run() {
    if !redis_or_skip("diff::random::random_long_run") {
        return;
    }
    let minutes = env_num("RINGKV_RANDOM_MINUTES").unwrap_or(10);
    let len = env_num("RINGKV_RANDOM_OPS").unwrap_or(2000) as usize;
    let first_seed = env_num("RINGKV_RANDOM_SEED").unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() % 1_000_000 * 1000)
            .unwrap_or(0)
    });
    let shrink_secs = env_num("RINGKV_RANDOM_SHRINK_SECS").unwrap_or(300);
    let deadline = Instant::now() + Duration::from_secs(minutes * 60);
    let mut pair = Pair::start();
    let mut failures: Vec<Failure> = Vec::new();
    let mut seed = first_seed;
    let mut runs = 0u64;
    eprintln!("random: seeds from {first_seed}, {len} ops each, {minutes} min");
    loop {
        let t = Instant::now();
        match run_seed(&mut pair, seed, len, Duration::from_secs(shrink_secs)) {
            Ok(()) => eprintln!("random: seed {seed} ok ({:.1}s)", t.elapsed().as_secs_f64()),
            Err(f) => {
                eprintln!("random: seed {seed} DIVERGES at {}", f.what);
                if failures.iter().any(|g| g.what == f.what) {
                    eprintln!(
                        "random: same command diverged first in an earlier seed; reproducer:\n{}",
                        f.reproducer
                    );
                } else {
                    eprintln!("{}", f.text);
                }
                failures.push(f);
            }
        }
        runs += 1;
        seed += 1;
        if minutes == 0 || Instant::now() > deadline {
            break;
        }
    }
    eprintln!(
        "random: {runs} seeds from {first_seed} run, {} diverged",
        failures.len()
    );
    if !failures.is_empty() {
        let list: Vec<String> = failures
            .iter()
            .map(|f| format!("seed {}: {}", f.seed, f.what))
            .collect();
        panic!("divergent seeds:\n{}", list.join("\n"));
    }
}

/// The shrinker on a difference we know: the peer Redis has 2 databases, so the first op
/// that touches db 2 (SELECT, MOVE, SWAPDB, COPY … DB) diverges; the reproducer must be that
/// op alone (plus at most a connection switch or two ops it needs) and replay to the same
/// divergence from its text.
#[test]
fn shrinks_a_known_difference_to_a_replayable_script() {
    if !redis_or_skip("diff::random::shrinks_a_known_difference") {
        return;
    }
    let mut pair = Pair::with_peer(Kind::Redis, &["--databases", "2"]);
    let f = (1..30)
        .find_map(|seed| run_seed(&mut pair, seed, 200, Duration::from_secs(60)).err())
        .expect("some seed touches db 2");
    assert!(f.shrunk_ops <= 3, "not shrunk:\n{}", f.text);
    assert!(f.text.contains("DB index is out of range"), "{}", f.text);
    assert!(
        f.text.contains("redis#2 :"),
        "both replies shown:\n{}",
        f.text
    );
    let steps = parse_script(f.reproducer.as_bytes()).expect("reproducer parses");
    let report = runner::run(
        "reproducer",
        &steps,
        ("redis", &mut pair.redis),
        ("redis#2", &mut pair.peer),
    );
    assert_eq!(report.failed_lines.len(), 1, "{}", f.reproducer);
}
