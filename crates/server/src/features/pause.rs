//! CLIENT PAUSE / UNPAUSE (Redis 7.0's `pauseClients`): for a while, the commands of
//! every client (ALL), or only those that write or may replicate (WRITE: `write` or
//! `may_replicate` commands, and EXEC of a transaction that queued one), are held — not
//! refused: the request stays unconsumed in the client's input and runs when the pause
//! ends (its timeout, or CLIENT UNPAUSE). Monitors (Redis's replicas) are never held.
//! Requests the gate refuses (unknown command, wrong arity) are answered at once. A later
//! PAUSE never shortens the pause nor turns ALL into WRITE. While paused, no key is
//! deleted by expiry (and no DEL propagated): the active cycle does not run, and a lookup
//! of an expired key reads it as missing but leaves it (Redis 7.0's `expireIfNeeded`).
//!
//! The input loop asks [`must_wait`] before running a request (one branch when no pause
//! is on) and parks the client on `waiters`; the loop releases them ([`released`]) once the
//! pause ended.

use crate::dispatch::gate::reply;
use crate::server::Server;
use engine::commands::args::is_kw;
use engine::commands::table::flags;
use engine::{CmdError, CmdResult};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    #[default]
    None,
    Write,
    All,
}

#[derive(Default)]
pub struct Pause {
    pub kind: Kind,
    /// Unix ms when the pause ends.
    pub end_ms: i64,
    /// Clients holding a request until the pause ends (slab key, generation).
    pub waiters: Vec<(usize, u32)>,
    /// The engine's lookups were told not to delete expired keys.
    expiry_off: bool,
    /// A coordinated FAILOVER holds writes until it ends (Redis's
    /// `PAUSE_DURING_FAILOVER`), independently of CLIENT PAUSE.
    pub failover: bool,
}

impl Pause {
    /// Whether a pause is in force at `now` (an expired one is cleared here).
    #[inline]
    pub fn active(&mut self, now: i64) -> bool {
        self.timed_active(now) || self.failover
    }

    /// Whether CLIENT PAUSE's own pause is in force.
    fn timed_active(&mut self, now: i64) -> bool {
        if self.kind == Kind::None {
            return false;
        }
        if now >= self.end_ms {
            self.kind = Kind::None;
            return false;
        }
        true
    }

    /// The pause in force: CLIENT PAUSE's, at least WRITE during a failover.
    fn effective(&mut self, now: i64) -> Kind {
        let timed = if self.timed_active(now) {
            self.kind
        } else {
            Kind::None
        };
        if self.failover {
            timed.max(Kind::Write)
        } else {
            timed
        }
    }

    /// Milliseconds until the pause ends, when one is on (the loop's wait).
    pub fn ends_in(&self, now: i64) -> Option<u64> {
        (self.kind != Kind::None).then(|| (self.end_ms - now).max(0) as u64)
    }
}

/// Whether the request `args` of client `key` must wait for the pause to end.
#[inline]
pub fn must_wait(server: &mut Server, key: usize, args: &[&[u8]]) -> bool {
    if server.pause.kind == Kind::None && !server.pause.failover {
        return false;
    }
    must_wait_slow(server, key, args)
}

#[cold]
fn must_wait_slow(server: &mut Server, key: usize, args: &[&[u8]]) -> bool {
    let now = server.now_ms();
    let kind = server.pause.effective(now);
    // Monitors and replicas are never held (their feed and ACKs go on).
    if kind == Kind::None
        || crate::features::monitor::is_monitor(server, key)
        || server.clients[key].is_replica()
        || server.clients[key].is_master()
    {
        return false;
    }
    let table = server.table;
    let Some(mut row) = table.lookup(args[0]) else {
        return false;
    };
    if !row.meta.subcommands.is_empty() && args.len() >= 2 {
        match crate::dispatch::gate::lookup_sub(table, row.meta.name, args[1]) {
            Some(sub) => row = sub,
            None => return false,
        }
    }
    if !row.meta.arity_ok(args.len()) {
        return false;
    }
    let writes = |f: u64| f & (flags::WRITE | flags::MAY_REPLICATE) != 0;
    let held = kind == Kind::All
        || writes(row.meta.flags)
        || (row.meta.name == "exec"
            && server.clients[key]
                .multi
                .cmds
                .iter()
                .any(|q| writes(table.rows()[q.row].meta.flags)));
    if held {
        // CLIENT LIST's `cmd=` names the held command, as Redis's (looked up before).
        server.clients[key].last_cmd = row.meta.name;
    }
    held
}

/// Clients holding a request now (INFO `blocked_clients`, CLIENT LIST's `b` flag).
pub fn held(server: &Server) -> usize {
    server
        .pause
        .waiters
        .iter()
        .filter(|&&(k, g)| {
            server
                .clients
                .get(k)
                .is_some_and(|c| c.generation == g && !c.is_closing())
        })
        .count()
}

/// Parks client `key` (slab generation `generation`) until the pause ends, once.
pub fn hold(server: &mut Server, key: usize, generation: u32) {
    if !server.pause.waiters.contains(&(key, generation)) {
        server.pause.waiters.push((key, generation));
    }
}

/// Whether the active expiry cycle must not run: a pause of either kind is on, or this is
/// a replica (its master expires keys and sends DELs).
pub fn expiry_paused(server: &mut Server) -> bool {
    let now = server.now_ms();
    server.pause.active(now) || server.master.is_some()
}

/// Once per loop turn: when the pause has ended, lazy expiry resumes and the clients it
/// held are returned, to run again (empty while it lasts).
pub fn released(server: &mut Server) -> Vec<(usize, u32)> {
    let now = server.now_ms();
    if server.pause.active(now) {
        return Vec::new();
    }
    if server.pause.expiry_off {
        server.pause.expiry_off = false;
        server.engine.set_expire_paused(false);
    }
    if server.pause.waiters.is_empty() {
        return Vec::new();
    }
    std::mem::take(&mut server.pause.waiters)
}

/// CLIENT PAUSE timeout [WRITE|ALL]
pub fn client_pause(server: &mut Server, key: usize, args: &[&[u8]]) -> CmdResult {
    let mut kind = Kind::All;
    if args.len() == 4 {
        if is_kw(args[3], "write") {
            kind = Kind::Write;
        } else if !is_kw(args[3], "all") {
            return Err(CmdError::Static(
                "ERR CLIENT PAUSE mode must be WRITE or ALL",
            ));
        }
    }
    let now = server.now_ms();
    let end = engine::blocking::parse_timeout_ms(args[2], now)?;
    let p = &mut server.pause;
    if !p.active(now) {
        p.kind = Kind::None;
        p.end_ms = 0;
    }
    p.kind = p.kind.max(kind);
    p.end_ms = p.end_ms.max(end);
    if p.active(now) && !p.expiry_off {
        p.expiry_off = true;
        server.engine.set_expire_paused(true);
    }
    reply(server, key).ok();
    Ok(())
}

/// CLIENT UNPAUSE
pub fn client_unpause(server: &mut Server, key: usize, _args: &[&[u8]]) -> CmdResult {
    server.pause.kind = Kind::None;
    server.pause.end_ms = 0;
    // A failover's own pause stays (Redis unpauses only PAUSE_BY_CLIENT_COMMAND).
    if !server.pause.failover && std::mem::take(&mut server.pause.expiry_off) {
        server.engine.set_expire_paused(false);
    }
    reply(server, key).ok();
    Ok(())
}

/// A coordinated FAILOVER starts: writes are held and nothing expires (no DEL may move
/// the offset the target must reach) until [`end_failover_pause`].
pub fn start_failover_pause(server: &mut Server) {
    server.pause.failover = true;
    if !server.pause.expiry_off {
        server.pause.expiry_off = true;
        server.engine.set_expire_paused(true);
    }
}

/// The failover ended (done or aborted); held clients are released by the loop.
pub fn end_failover_pause(server: &mut Server) {
    server.pause.failover = false;
}
