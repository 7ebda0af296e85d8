//! MONITOR and what the runner reports after each execution ([`after_call`]): the slow log,
//! the latency monitor's "command"/"fast-command" events, the per-command latency
//! histogram and the MONITOR stream, as Redis 7.0's `call()` does after the handler.
//!
//! MONITOR: a monitoring client gets, for every command executed by anyone (itself
//! included), `+<unix s>.<µs> [<db> <addr>] "arg" ...` — the arguments as the client sent
//! them (secrets `(redacted)`), the db after the command ran. Commands flagged `admin` or
//! `skip_monitor` are not shown; a blocked command shows when it first runs, not when it is
//! served; a transaction shows its commands as EXEC runs them, then EXEC. Monitors are
//! normal clients for `client-output-buffer-limit` (as Redis's `getClientType`) and may
//! run only commands that touch no keys ("Replica can't interact with the keyspace").
//!
//! Cost when nobody monitors and nothing is slow: three comparisons and the histogram's
//! increment (no allocation after a row's first call).

use crate::dispatch::call::Origin;
use crate::dispatch::gate::{Cmd, reply};
use crate::server::Server;
use engine::commands::table::{Row, flags};
use engine::{CmdError, CmdResult};
use std::fmt::Write;

/// The introspection commands' handlers.
pub const COMMANDS: &[(&str, crate::dispatch::gate::SrvFn)] = &[
    ("monitor", monitor),
    ("slowlog", crate::features::slowlog::slowlog),
    ("latency", crate::features::latency::latency),
    ("module", crate::features::module::module),
    ("lolwut", crate::features::lolwut::lolwut),
];

/// Reports one execution of `row` by client `key` that took `usec` µs.
#[inline]
pub fn after_call(
    server: &mut Server,
    key: usize,
    row: &Row<Cmd>,
    args: &[&[u8]],
    usec: u64,
    origin: Origin,
) {
    // Commands replayed from the AOF at start-up are not reported (Redis runs them
    // outside call()).
    if server.clients[key].id() == crate::features::aof::load::LOADING_CLIENT_ID {
        return;
    }
    let event = if row.meta.flags & flags::FAST != 0 {
        "fast-command"
    } else {
        "command"
    };
    crate::features::latency::add_sample_if_needed(server, event, usec / 1000);
    // A command that blocked is logged and timed when it is served (Redis's
    // updateStatsOnUnblock), not now.
    if origin == Origin::Unblocked || !server.blocked.is_blocked(key) {
        crate::features::slowlog::SlowLog::offer(
            server,
            key,
            row,
            args,
            usec,
            origin == Origin::Script,
        );
        crate::features::latency::track(server, row, usec);
    }
    if !server.monitors.is_empty()
        && origin != Origin::Unblocked
        && row.meta.flags & (flags::ADMIN | flags::SKIP_MONITOR) == 0
    {
        feed(server, key, row, args, origin == Origin::Script);
    }
}

/// sdscatrepr: `"..."` with `\\`, `\"`, `\n`, `\r`, `\t`, `\a`, `\b` escaped and other
/// unprintable bytes as `\xhh`.
fn repr(a: &[u8], s: &mut String) {
    s.push('"');
    for &b in a {
        match b {
            b'\\' => s.push_str("\\\\"),
            b'"' => s.push_str("\\\""),
            b'\n' => s.push_str("\\n"),
            b'\r' => s.push_str("\\r"),
            b'\t' => s.push_str("\\t"),
            7 => s.push_str("\\a"),
            8 => s.push_str("\\b"),
            0x20..=0x7e => s.push(b as char),
            _ => {
                let _ = write!(s, "\\x{b:02x}");
            }
        }
    }
    s.push('"');
}

/// Appends the command's line to every monitor (Redis's `replicationFeedMonitors`); a
/// script's commands show the address `lua`.
pub(crate) fn feed_now(server: &mut Server, key: usize, row: &Row<Cmd>, args: &[&[u8]], lua: bool) {
    feed(server, key, row, args, lua)
}

#[cold]
fn feed(server: &mut Server, key: usize, row: &Row<Cmd>, args: &[&[u8]], lua: bool) {
    let now_us = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64);
    let c = &mut server.clients[key];
    let db = c.session.db;
    let addr = if c.fd < 0 || lua {
        // A socket-less client (AOF loading) shows as Redis's Lua/AOF clients do.
        "lua".to_string()
    } else {
        crate::client::fmt_addr(c.peer_addr())
    };
    let mut line = format!(
        "+{}.{:06} [{} {}]",
        now_us.div_euclid(1_000_000),
        now_us.rem_euclid(1_000_000),
        db,
        addr
    );
    for (i, a) in args.iter().enumerate() {
        line.push(' ');
        if crate::features::slowlog::redacted(row, args, i) {
            repr(crate::features::slowlog::REDACTED, &mut line);
        } else {
            repr(a, &mut line);
        }
    }
    line.push_str("\r\n");
    let limits = server.settings.client_obuf_limits;
    let now_s = server.now_ms() / 1000;
    let mut over = Vec::new();
    let mut i = 0;
    while i < server.monitors.len() {
        let (k, id) = server.monitors[i];
        match server.clients.get_mut(k) {
            Some(m) if m.id() == id && !m.is_closing() => {
                m.pending.extend_from_slice(line.as_bytes());
                if k != key {
                    server.wake.push(k);
                }
                if crate::client::obuf::over_output_limit(m, &limits, now_s) {
                    over.push(k);
                }
                i += 1;
            }
            _ => {
                server.monitors.swap_remove(i);
            }
        }
    }
    for k in over {
        server.close_for_output_limit(k);
    }
}

/// Client `key` stops monitoring (RESET).
pub fn forget(server: &mut Server, key: usize) {
    let id = server.clients[key].id();
    server.monitors.retain(|&(k, i)| !(k == key && i == id));
}

/// Whether client `key` is a monitor.
pub fn is_monitor(server: &Server, key: usize) -> bool {
    let id = server.clients[key].id();
    server.monitors.iter().any(|&(k, i)| k == key && i == id)
}

/// The gate's check for monitors (Redis's check on `CLIENT_SLAVE`): a monitor cannot run
/// commands that read, write or may replicate. Returns the refusal text.
pub fn refused(server: &Server, key: usize, row: &Row<Cmd>) -> Option<&'static str> {
    if server.monitors.is_empty() || !is_monitor(server, key) {
        return None;
    }
    (row.meta.flags & (flags::READONLY | flags::WRITE | flags::MAY_REPLICATE) != 0)
        .then_some("ERR Replica can't interact with the keyspace")
}

/// MONITOR
pub fn monitor(server: &mut Server, key: usize, _args: &[&[u8]]) -> CmdResult {
    if server.in_exec {
        // EXEC expects a reply per command (Redis's CLIENT_DENY_BLOCKING).
        return Err(CmdError::Static(
            "ERR MONITOR isn't allowed for DENY BLOCKING client",
        ));
    }
    if is_monitor(server, key) {
        // Already monitoring: ignored without a reply, as Redis.
        return Ok(());
    }
    let id = server.clients[key].id();
    server.monitors.push((key, id));
    reply(server, key).ok();
    Ok(())
}
