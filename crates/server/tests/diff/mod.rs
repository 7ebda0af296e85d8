//! The differential harness: every script in `tests/scripts/*.txt` is replayed against the
//! real Redis 7.0.15 and against `ringkv-server`, and every reply must be byte-equal
//! (modulo the per-line relaxations of `script.rs`). One test per script, each with its
//! own pair of servers started once; a failing test lists every differing line with both
//! raw replies, the connection state and the keyspace each server had.
//!
//! `scripts_agree_between_two_redis` replays every script against two Redis instances: it
//! proves the harness and the scripts are deterministic (a line that needs `@ignore` or
//! `@unordered` fails there, whatever ringkv does), and it exercises the harness before
//! ringkv can answer at all.
//!
//! Without `redis-server` the tests print SKIPPED and pass, unless `RINGKV_REQUIRE_REDIS=1`.

mod compare;
mod propagation;
mod random;
#[cfg(test)]
mod resp_selftest;
mod runner;
mod script;
#[cfg(test)]
mod selftest;

use crate::common::server::{Kind, Server, redis_or_skip};
use std::path::{Path, PathBuf};

fn scripts_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scripts")
}

/// All `*.txt` scripts, sorted by name.
fn all_scripts() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(scripts_dir())
        .map(|rd| {
            rd.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "txt"))
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

fn display(path: &Path) -> String {
    path.strip_prefix(env!("CARGO_MANIFEST_DIR"))
        .unwrap_or(path)
        .display()
        .to_string()
}

/// Replays one script against a fresh Redis and a fresh `peer`; `Err` holds the report.
fn diff_file(path: &Path, peer: Kind) -> Result<(), String> {
    let name = display(path);
    let src = std::fs::read(path).map_err(|e| format!("{name}: {e}"))?;
    let steps = script::parse_script(&src).map_err(|e| format!("{name}: {e}"))?;
    let args = script::server_args(&src);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut reference = Server::try_start(Kind::Redis, &args)?;
    let mut other = Server::try_start(peer, &args)?;
    let peer_label = match peer {
        Kind::Redis => "redis#2",
        Kind::Ringkv => "ringkv",
    };
    let report = runner::run(
        &name,
        &steps,
        ("redis", &mut reference),
        (peer_label, &mut other),
    );
    if report.ok() {
        return Ok(());
    }
    let mut s = format!(
        "{name}: {} differing line(s) out of {} run (redis vs {peer_label})\n",
        report.mismatches.len(),
        report.steps_run,
    );
    for m in &report.mismatches {
        s.push_str(m);
    }
    if let Some(why) = &report.aborted {
        s.push_str(&format!("*** aborted: {why}\n"));
    }
    Err(s)
}

/// Runs scripts concurrently (each with its own servers) and fails listing all reports.
fn diff_all(paths: &[PathBuf], peer: Kind) {
    let results: Vec<Result<(), String>> = std::thread::scope(|s| {
        let handles: Vec<_> = paths
            .iter()
            .map(|p| s.spawn(move || diff_file(p, peer)))
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err("script runner panicked".into()))
            })
            .collect()
    });
    let failures: Vec<String> = results.into_iter().filter_map(Result::err).collect();
    if !failures.is_empty() {
        panic!("\n{}", failures.join("\n"));
    }
}

/// One test per script we know of; `unlisted_scripts` catches files added later.
macro_rules! script_tests {
    ($($name:ident),* $(,)?) => {
        const LISTED: &[&str] = &[$(stringify!($name)),*];
        mod scripts {
            $(
                #[test]
                fn $name() {
                    super::run_listed(stringify!($name));
                }
            )*
        }
    };
}

script_tests!(
    protocol,
    connection,
    strings,
    strings_wrongtype,
    keys,
    expire,
    list,
    hash,
    set,
    zset,
    sort,
    multi,
    pubsub,
    blocking,
    dump,
    debug,
    bitmap,
    hll,
    geo,
    acl_limits,
    introspection,
    acl,
    memory,
    stream,
    stream_groups,
    stream_blocking,
    scripting,
    replica_stale,
    functions,
);

fn run_listed(name: &str) {
    if !redis_or_skip(&format!("diff::scripts::{name}")) {
        return;
    }
    let path = scripts_dir().join(format!("{name}.txt"));
    assert!(path.exists(), "missing script {}", path.display());
    if let Err(report) = diff_file(&path, Kind::Ringkv) {
        panic!("\n{report}");
    }
}

#[test]
fn unlisted_scripts() {
    if !redis_or_skip("diff::unlisted_scripts") {
        return;
    }
    let extra: Vec<PathBuf> = all_scripts()
        .into_iter()
        .filter(|p| {
            let stem = p.file_stem().and_then(|s| s.to_str()).unwrap_or("");
            !LISTED.contains(&stem)
        })
        .collect();
    diff_all(&extra, Kind::Ringkv);
}

#[test]
fn scripts_agree_between_two_redis() {
    if !redis_or_skip("diff::scripts_agree_between_two_redis") {
        return;
    }
    diff_all(&all_scripts(), Kind::Redis);
}

#[test]
fn every_script_parses() {
    // Independent of Redis: a typo in a directive fails even where Redis is missing.
    for path in all_scripts() {
        let src = std::fs::read(&path).unwrap();
        if let Err(e) = script::parse_script(&src) {
            panic!("{}: {e}", display(&path));
        }
    }
}
