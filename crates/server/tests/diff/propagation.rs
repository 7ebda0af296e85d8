//! Differential propagation: each script in `tests/propagation/*.txt` (the harness's script
//! format; `@replies 0` sends a blocking command without reading, `@wait-blocked`, `@sleep`,
//! `@client` as usual) runs against a real Redis 7.0.15 with `appendonly yes` and against
//! an in-process ringkv (`server::inproc`) whose engine records what it propagates. The
//! stream ringkv's sink receives must equal what Redis wrote to its AOF, command for
//! command: rewrites, lazily expired keys' DELs, MULTI/EXEC around units, SELECTs, served
//! blocked clients. Absolute times (integers of 13 digits or more) are compared as `<ms>`:
//! the two clocks differ. Redis's active expiry is switched off (`DEBUG SET-ACTIVE-EXPIRE
//! 0`), so only the commands decide; the active cycle has its own in-process tests.

use super::script::{Action, Step, parse_script};
use crate::common::resp::Client;
use crate::common::server::{Server, redis_or_skip};
use server::inproc::InProcess;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

fn aof_incr(dir: &Path) -> Vec<u8> {
    let d = dir.join("appendonlydir");
    for e in std::fs::read_dir(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display())) {
        let p = e.unwrap().path();
        if p.to_string_lossy().ends_with(".incr.aof") {
            return std::fs::read(&p).unwrap();
        }
    }
    panic!("no incr AOF in {}", d.display());
}

/// Runs `steps` on Redis (AOF on) and on an in-process ringkv; returns both streams.
fn run_both(steps: &[Step]) -> (Vec<String>, Vec<String>) {
    let redis = Server::redis_with(crate::common::aof::REDIS_AOF_ALWAYS);
    let mut clients: Vec<Client> = vec![redis.connect()];
    let r = clients[0].cmd(&["DEBUG", "SET-ACTIVE-EXPIRE", "0"]);
    assert!(!r.is_error(), "DEBUG SET-ACTIVE-EXPIRE: {}", r.text());
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    let mut ours = InProcess::new(now.as_millis() as i64);
    let mut our_clients = vec![ours.client()];
    let mut slot = 0usize;
    for step in steps {
        match &step.action {
            Action::Client(n) => {
                slot = *n;
                while clients.len() <= slot {
                    clients.push(redis.connect());
                    our_clients.push(ours.client());
                }
            }
            Action::Sleep(ms) => {
                std::thread::sleep(Duration::from_millis(*ms));
                ours.advance_ms(*ms as i64);
            }
            Action::WaitBlocked(n) => {
                if let Err(e) = clients[slot].wait_blocked(*n) {
                    panic!("redis, line {}: {e}", step.line);
                }
                assert_eq!(ours.server.blocked.len(), *n, "ringkv, line {}", step.line);
            }
            Action::Cmd(args) => {
                let c = &mut clients[slot];
                c.send(args).unwrap();
                for _ in 0..step.replies {
                    c.read_reply().unwrap();
                }
                let a: Vec<&[u8]> = args.iter().map(Vec::as_slice).collect();
                ours.run_bytes(our_clients[slot], &a);
            }
            Action::Reset | Action::Raw(..) => {
                panic!("line {}: not supported in propagation scripts", step.line)
            }
        }
    }
    // Let every connection's last command reach the AOF (appendfsync always writes before
    // replying; a PING on each connection orders after its earlier commands).
    for c in &mut clients {
        c.cmd(&["PING"]);
    }
    let theirs = crate::common::aof::commands(&aof_incr(redis.dir()));
    let mine: Vec<String> = ours
        .take_propagated()
        .iter()
        .map(|a| crate::common::aof::normalize(a))
        .collect();
    (theirs, mine)
}

#[test]
fn propagation_matches_redis_aof() {
    if !redis_or_skip("diff::propagation::propagation_matches_redis_aof") {
        return;
    }
    let mut failures = Vec::new();
    for path in crate::common::aof::propagation_scripts() {
        let src = std::fs::read_to_string(&path).unwrap();
        let steps =
            parse_script(src.as_bytes()).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let (theirs, mine) = run_both(&steps);
        let title = format!("{}: streams differ (Redis AOF | ringkv)", path.display());
        failures.extend(crate::common::aof::side_by_side(&title, &theirs, &mine));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
