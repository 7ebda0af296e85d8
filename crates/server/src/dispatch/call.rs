//! The command runner (Redis's `call()`): every execution of a command passes here — a
//! request admitted by the gate, each queued command of EXEC, a blocked client served when
//! its key gets data, a script's `redis.call` (`Origin::Script`) — and AOF loading and a
//! replica applying its master's stream. Nothing else runs a handler.
//!
//! It owns what happens around a handler: command statistics (calls, usec, failed;
//! errorstats), dirty counting and propagation (through `Engine::after_command`: the
//! command itself, as rewritten, after the DELs of keys its lookups expired), block
//! requests, CLIENT REPLY OFF/SKIP, keyspace notifications, and the end of the execution
//! unit (what the unit propagated goes to the engine's sink, wrapped in MULTI/EXEC when it
//! is several commands), and what is reported after it (slow log, latency, MONITOR:
//! [`crate::features::monitor::after_call`]).
//!
//! Invariant: a handler either wrote exactly one reply or returned an error having written
//! nothing; the runner writes that error.

use crate::dispatch::gate::{Cmd, Handler};
use crate::server::Server;
use engine::Ctx;
use engine::commands::table::Row;
use resp::Reply;
use std::time::Instant;

/// How a command came to run; decides what the runner counts and when the execution unit
/// ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// A client's request, admitted by the gate: a whole execution unit.
    Client,
    /// A queued command run by EXEC: part of EXEC's unit.
    Exec,
    /// A parked blocking command re-run because a key it waits on got data: its own unit;
    /// counted as Redis's `updateStatsOnUnblock` does (time and failure, not another call).
    Unblocked,
    /// A command a script runs (`redis.call`): part of the script's unit; its reply is
    /// the script's to convert, whatever the caller's CLIENT REPLY mode.
    Script,
}

/// Runs `row`'s handler for client `key` with `args`.
pub fn call(
    server: &mut Server,
    key: usize,
    row: &'static Row<Cmd>,
    args: &[&[u8]],
    origin: Origin,
) {
    let start = Instant::now();
    let dirty_before = server.engine.dirty;
    let c = &mut server.clients[key];
    c.last_cmd = row.meta.name;
    c.session.pubsub_resp2 = c.in_resp2_pubsub();
    let mark = c.pending.len();
    let result = match row.handler.handler {
        Handler::Engine(f) => {
            let proto = c.session.proto;
            let mut ctx = Ctx {
                engine: &mut server.engine,
                session: &mut c.session,
                out: Reply::new(&mut c.pending, proto),
            };
            f(&mut ctx, args)
        }
        Handler::Server(f) => {
            let was = std::mem::replace(&mut server.in_exec, origin == Origin::Exec);
            let r = f(server, key, args);
            server.in_exec = was;
            r
        }
    };
    if std::mem::take(&mut server.engine.flushed_all) {
        crate::features::persistence::after_flushall(server);
    }
    let usec = start.elapsed().as_micros() as u64;
    // A blocking command that found nothing asked to be parked (see crate::dispatch::blocking).
    // (Taken whatever happened, so a failed handler's request cannot leak to the next.)
    if let Some(req) = server.engine.block.take()
        && result.is_ok()
    {
        crate::dispatch::blocking::block(server, key, row, args, req);
    }
    // Keys the command's lookups expired (events, WATCH touches, DELs), then the command
    // itself into the unit's propagation if it wrote.
    let db = server.clients[key].session.db;
    server.engine.after_command(db, args, dirty_before);
    let failed = result.is_err() || std::mem::take(&mut server.failed_uncounted);
    if origin != Origin::Unblocked {
        server.stats.total_commands_processed += 1;
    }
    row.handler.bump(|s| {
        s.calls += u64::from(origin != Origin::Unblocked);
        s.usec += usec;
        s.failed_calls += failed as u64;
    });
    if let Err(e) = result {
        let text = e.text();
        server.stats.count_error(&text);
        let c = &mut server.clients[key];
        debug_assert_eq!(c.pending.len(), mark, "{} wrote and failed", row.meta.name);
        c.pending.truncate(mark);
        Reply::new(&mut c.pending, c.session.proto).error(&text);
    }
    // CLIENT REPLY OFF/SKIP: drop what this command wrote. The CLIENT REPLY command
    // itself sets the mode after writing nothing, so its own reply is also dropped.
    // Pub/sub confirmations are pushes, which Redis 7.0 delivers regardless.
    let c = &mut server.clients[key];
    if !c.replies_enabled() && !row.handler.replies_are_pushes() && origin != Origin::Script {
        c.pending.truncate(mark);
    }
    // The slow log, the latency monitor and histograms, MONITOR.
    crate::features::monitor::after_call(server, key, row, args, usec, origin);
    // Keyspace events the command raised (pushes too, so after the truncation); the
    // caller's own go before its reply, where Redis (publishing while the command runs)
    // puts them.
    if !server.engine.notifications.is_empty() {
        crate::features::pubsub::drain_notifications(
            server,
            Some(crate::features::pubsub::Splice { key, mark }),
        );
    }
    if origin != Origin::Exec && origin != Origin::Script {
        server.engine.end_unit();
        // Redis's `c->woff`: the stream offset right after the client's top-level command
        // (what WAIT waits for). Only while there is a stream.
        if server.repl.backlog.is_some() {
            let off = crate::features::replication::pending_offset(server);
            server.clients[key].woff = off;
        }
    }
}
