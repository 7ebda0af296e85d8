//! Transactions: MULTI, EXEC, DISCARD, WATCH, UNWATCH (Redis 7.0.15's multi.c, the client
//! half; the WATCH registry itself is the engine's, `engine::watch`).
//!
//! While a client is in MULTI, the gate queues every admitted command here instead of
//! running it (all but those whose row has `behaviour::DRIVES_MULTI`: EXEC, DISCARD, MULTI,
//! WATCH, QUIT, RESET) and answers `+QUEUED`; a
//! command the gate rejects (unknown, wrong arity, `no-multi`) marks the transaction
//! aborted (`CLIENT_DIRTY_EXEC`), so EXEC answers EXECABORT.
//!
//! Invariants:
//! - The queue is the client's (`crate::client::multi::MultiState`: rows by table index,
//!   arguments in one arena). Once the transaction is doomed nothing more is stored (Redis
//!   skips it too).
//! - EXEC runs the queued commands back to back through the runner (`crate::dispatch::call`), with no other
//!   client's command in between (one thread), at one frozen time (`engine.fixed_now_ms`,
//!   Redis's `fixed_time_expire`) and with blocking denied (`Session::no_block`).
//! - Watches and the dirty-CAS flag live in the engine, keyed by CLIENT ID; EXEC, DISCARD,
//!   UNWATCH, RESET and disconnect drop them.
//!
//! Propagation: each queued command runs with `Origin::Exec`, so what it propagates joins
//! EXEC's execution unit; the runner ends the unit after EXEC, wrapping it in MULTI … EXEC
//! when it is more than one command (lazily expired keys' DELs included) and emitting a
//! single command unwrapped, as Redis 7.0. EXEC itself is never propagated.

use crate::dispatch::call::{Origin, call};
use crate::dispatch::gate::{self, Cmd, reply};
use crate::server::Server;
use engine::commands::table::Row;
use engine::{CmdError, CmdResult};

const EXECABORT: &str = "EXECABORT Transaction discarded because of previous errors.";

/// Redis's `flagTransaction`: a command was rejected while queueing.
pub fn flag_transaction(server: &mut Server, key: usize) {
    let m = &mut server.clients[key].multi;
    if m.active {
        m.aborted = true;
    }
}

/// Queues an admitted command and answers `+QUEUED` (Redis's `queueMultiCommand`).
pub fn queue(server: &mut Server, key: usize, row: &'static Row<Cmd>, args: &[&[u8]]) {
    let c = &mut server.clients[key];
    // CLIENT LIST `cmd=` shows the last command queued, as in Redis.
    c.last_cmd = row.meta.name;
    let id = c.id();
    // No sense storing a transaction that is already doomed (Redis skips it too).
    if !c.multi.aborted && !server.engine.watches.is_dirty(id) {
        let index = server.table.index_of(row);
        server.clients[key].multi.push(index, args);
    }
    let c = &mut server.clients[key];
    if c.replies_enabled() {
        reply(server, key).simple(b"QUEUED");
    }
}

/// Drops a client's transaction and watches (DISCARD, RESET, the end of EXEC).
pub fn discard_transaction(server: &mut Server, key: usize) {
    let c = &mut server.clients[key];
    c.multi.clear();
    let id = c.id();
    server.engine.unwatch_all(id);
}

pub const COMMANDS: &[(&str, gate::SrvFn)] = &[
    ("multi", multi),
    ("exec", exec),
    ("discard", discard),
    ("watch", watch),
    ("unwatch", unwatch),
];

/// # Format
/// `MULTI`
fn multi(server: &mut Server, key: usize, _args: &[&[u8]]) -> CmdResult {
    let m = &mut server.clients[key].multi;
    if m.active {
        return Err(CmdError::Static("ERR MULTI calls can not be nested"));
    }
    m.active = true;
    reply(server, key).ok();
    Ok(())
}

/// # Format
/// `DISCARD`
fn discard(server: &mut Server, key: usize, _args: &[&[u8]]) -> CmdResult {
    if !server.clients[key].multi.active {
        return Err(CmdError::Static("ERR DISCARD without MULTI"));
    }
    discard_transaction(server, key);
    reply(server, key).ok();
    Ok(())
}

/// # Format
/// `WATCH key [key ...]`
fn watch(server: &mut Server, key: usize, args: &[&[u8]]) -> CmdResult {
    let c = &server.clients[key];
    if c.multi.active {
        return Err(CmdError::Static("ERR WATCH inside MULTI is not allowed"));
    }
    let (id, db) = (c.id(), c.session.db);
    // No point in watching more once the transaction is doomed (Redis 7.0 returns early).
    if !server.engine.watches.is_dirty(id) {
        for k in &args[1..] {
            server.engine.watch_key(id, db, k);
        }
    }
    reply(server, key).ok();
    Ok(())
}

/// # Format
/// `UNWATCH`
fn unwatch(server: &mut Server, key: usize, _args: &[&[u8]]) -> CmdResult {
    let id = server.clients[key].id();
    server.engine.unwatch_all(id);
    reply(server, key).ok();
    Ok(())
}

/// # Format
/// `EXEC`
/// # Returns
/// An array with each queued command's reply; a null array when a watched key was touched
/// (or expired); EXECABORT when a command was rejected while queueing.
fn exec(server: &mut Server, key: usize, _args: &[&[u8]]) -> CmdResult {
    let c = &server.clients[key];
    if !c.multi.active {
        return Err(CmdError::Static("ERR EXEC without MULTI"));
    }
    let id = c.id();
    let aborted = c.multi.aborted;
    // Run first: it also flags a watched key that expired without being deleted.
    let watch_failed = server.engine.exec_watch_failed(id);
    if aborted || watch_failed {
        discard_transaction(server, key);
        if aborted {
            return Err(CmdError::Static(EXECABORT));
        }
        reply(server, key).null_array();
        return Ok(());
    }
    // Unwatch before running: the transaction's own writes must not touch its watches.
    server.engine.unwatch_all(id);
    let mut state = std::mem::take(&mut server.clients[key].multi);
    let saved_time = server.engine.fixed_now_ms;
    if saved_time.is_none() {
        server.engine.fixed_now_ms = Some(server.engine.clock.now_ms());
    }
    let saved_no_block = std::mem::replace(&mut server.clients[key].session.no_block, true);
    reply(server, key).array(state.cmds.len());
    let mut argv: Vec<&[u8]> = Vec::new();
    let table = server.table;
    for q in &state.cmds {
        state.argv(q, &mut argv);
        let row = &table.rows()[q.row];
        // ACL rules may have changed since the command was queued (Redis re-checks).
        if let Some(text) = crate::features::acl::exec_denied(server, key, row, &argv) {
            server.stats.count_error(&text);
            reply(server, key).error(&text);
            continue;
        }
        call(server, key, row, &argv, Origin::Exec);
    }
    drop(argv);
    // EXEC itself is never propagated: its commands' effects are, as one unit that the
    // runner wraps in MULTI/EXEC when it is more than one command.
    server.engine.propagation.prevent();
    server.engine.fixed_now_ms = saved_time;
    let c = &mut server.clients[key];
    c.session.no_block = saved_no_block;
    // CLIENT LIST `cmd=` names EXEC, not its last queued command.
    c.last_cmd = "exec";
    state.clear();
    c.multi = state;
    Ok(())
}
