//! The one gate: every parsed request passes here before any handler runs.
//!
//! Order, as Redis's `processCommand`: lookup (case-insensitive) → unknown command /
//! unknown subcommand → arity → authentication and ACL ([`crate::features::acl::admit`])
//! → `maxmemory` (eviction, then the OOM refusal of `denyoom` commands:
//! `features::memory::denied_by_oom`) → disk errors → RESP2 pub/sub mode → MULTI
//! (`no-multi` refused, the rest queued) → the runner ([`crate::dispatch::call`]).
//! Handlers never re-check what the gate decided.
//!
//! Invariants: no heap allocation on the success path (lookup lowercases into a stack
//! buffer; the row is `&'static`); per-command statistics live in the row (`Cell`s), so the
//! table can stay shared while the handler gets `&mut Server`; which commands behave
//! specially is a bit on the row ([`behaviour`]), not a list of names at the point of use.

use crate::client::ReplyMode;
use crate::dispatch::call::Origin;
use crate::features::client_cmds;
use crate::server::Server;
use engine::commands::table::{Row, Table, meta};
use engine::util::{eq_ic, lossy_trunc};
use engine::{CmdError, CmdFn, CmdResult};
use resp::Reply;
use std::cell::Cell;

/// A server-side handler: gets the whole server and the calling client's slab key. It
/// writes its reply into `server.clients[key].pending` (see [`reply`]).
pub type SrvFn = fn(&mut Server, usize, &[&[u8]]) -> CmdResult;

#[derive(Clone, Copy)]
pub enum Handler {
    Engine(CmdFn),
    Server(SrvFn),
}

/// Per-command statistics (INFO commandstats).
#[derive(Clone, Copy, Debug, Default)]
pub struct CmdStats {
    pub calls: u64,
    pub usec: u64,
    pub rejected_calls: u64,
    pub failed_calls: u64,
}

pub struct Cmd {
    pub handler: Handler,
    pub stats: Cell<CmdStats>,
    /// Latency histogram (`latency-tracking`), created on the first call.
    pub latency: Cell<Option<Box<crate::features::latency::Hist>>>,
    /// ringkv's behaviour bits ([`behaviour`]) beside Redis's flags in the metadata.
    pub behaviour: u8,
    /// The command's ACL id (its bit in a user's command bitmap).
    pub acl_id: u16,
}

/// What a few commands do differently in the gate and the runner. Redis decides these by
/// comparing `cmd->proc` against lists in `processCommand`; here each is a bit on the row,
/// set in one place ([`BEHAVIOUR`]), and nothing else names commands.
pub mod behaviour {
    /// Runs even inside MULTI instead of being queued: it drives the transaction or the
    /// connection (EXEC, DISCARD, MULTI, WATCH, QUIT, RESET).
    pub const DRIVES_MULTI: u8 = 1 << 0;
    /// Allowed in RESP2 pub/sub mode ((P|S)SUBSCRIBE, (P|S)UNSUBSCRIBE, PING, QUIT, RESET).
    pub const IN_SUBSCRIBED: u8 = 1 << 1;
    /// Replies are pushes, which CLIENT REPLY OFF/SKIP does not silence (Redis 7.0's
    /// `CLIENT_PUSHING`): the subscription confirmations.
    pub const PUSH_REPLY: u8 = 1 << 2;
    /// Not refused for memory inside MULTI, where everything else is (its queue would
    /// grow): EXEC (refused only for a queued `denyoom` command), DISCARD, QUIT, RESET.
    pub const OOM_OK_IN_MULTI: u8 = 1 << 3;
    /// Runs a script whose declared flags replace the command's (EVAL*, FCALL*: Redis's
    /// `getCommandFlags`, see `features::script::command_flags`).
    pub const SCRIPT_FLAGS: u8 = 1 << 4;
}

/// The rows with behaviour bits. Matches Redis 7.0.15's `processCommand` lists.
const BEHAVIOUR: &[(&str, u8)] = {
    use behaviour::*;
    &[
        ("exec", DRIVES_MULTI | OOM_OK_IN_MULTI),
        ("discard", DRIVES_MULTI | OOM_OK_IN_MULTI),
        ("multi", DRIVES_MULTI),
        ("watch", DRIVES_MULTI),
        ("quit", DRIVES_MULTI | IN_SUBSCRIBED | OOM_OK_IN_MULTI),
        ("reset", DRIVES_MULTI | IN_SUBSCRIBED | OOM_OK_IN_MULTI),
        ("ping", IN_SUBSCRIBED),
        ("subscribe", IN_SUBSCRIBED | PUSH_REPLY),
        ("ssubscribe", IN_SUBSCRIBED | PUSH_REPLY),
        ("psubscribe", IN_SUBSCRIBED | PUSH_REPLY),
        ("unsubscribe", IN_SUBSCRIBED | PUSH_REPLY),
        ("sunsubscribe", IN_SUBSCRIBED | PUSH_REPLY),
        ("punsubscribe", IN_SUBSCRIBED | PUSH_REPLY),
        ("eval", SCRIPT_FLAGS),
        ("eval_ro", SCRIPT_FLAGS),
        ("evalsha", SCRIPT_FLAGS),
        ("evalsha_ro", SCRIPT_FLAGS),
        ("fcall", SCRIPT_FLAGS),
        ("fcall_ro", SCRIPT_FLAGS),
    ]
};

pub type CmdTable = Table<Cmd>;

impl Cmd {
    fn new(name: &str, handler: Handler) -> Cmd {
        let top = name.split('|').next().unwrap_or_default();
        let behaviour = BEHAVIOUR
            .iter()
            .find(|(n, _)| *n == top)
            .map_or(0, |&(_, b)| b);
        Cmd {
            handler,
            stats: Cell::new(CmdStats::default()),
            latency: Cell::new(None),
            behaviour,
            acl_id: crate::features::acl::command_id(name.as_bytes())
                .map_or(crate::features::acl::NO_ID, |i| i as u16),
        }
    }

    #[inline]
    pub fn has(&self, bit: u8) -> bool {
        self.behaviour & bit != 0
    }

    #[inline]
    pub fn replies_are_pushes(&self) -> bool {
        self.has(behaviour::PUSH_REPLY)
    }

    #[inline]
    pub(crate) fn bump(&self, f: impl FnOnce(&mut CmdStats)) {
        let mut s = self.stats.get();
        f(&mut s);
        self.stats.set(s);
    }
}

/// Joins the engine's handlers and the server's with the metadata into one table. A
/// container command's subcommands get rows of their own (sharing the container's handler)
/// so arity and statistics are per subcommand, as in Redis.
pub fn build_table() -> CmdTable {
    let (t, problems) = build_table_checked();
    for p in problems {
        log::warn!("{p}");
    }
    t
}

/// [`build_table`], also returning what is wrong with the registrations: a handler
/// registered twice, a handler without metadata (unreachable), a behaviour bit naming no
/// command. A test requires none.
pub fn build_table_checked() -> (CmdTable, Vec<String>) {
    let mut problems = Vec::new();
    let mut t = Table::default();
    let engine = engine::commands::engine_handlers().map(|(n, f)| (n, Handler::Engine(f)));
    let server = client_cmds::COMMANDS
        .iter()
        .chain(crate::features::pubsub::COMMANDS)
        .chain(crate::dispatch::multi::COMMANDS)
        .chain(crate::features::persistence::commands::COMMANDS)
        .chain(crate::features::replication::commands::COMMANDS)
        .chain(crate::features::monitor::COMMANDS)
        .chain(crate::features::acl::command::COMMANDS)
        .chain(crate::features::memory::COMMANDS)
        .chain(crate::features::script::COMMANDS)
        .map(|&(n, f)| (n, Handler::Server(f)));
    for (name, handler) in engine.chain(server) {
        if t.lookup(name.as_bytes()).is_some() {
            problems.push(format!(
                "command {name} registered twice; keeping the first"
            ));
            continue;
        }
        let Some(m) = meta(name) else {
            // Metadata is generated from Redis's command descriptions; a handler without
            // it is a gap in that list, to be fixed there. Without arity the handler could
            // index past its arguments, so it stays unreachable.
            problems.push(format!("no command metadata for {name}: command disabled"));
            continue;
        };
        t.insert(m, Cmd::new(m.name, handler));
        for sub in m.subcommands {
            t.insert(sub, Cmd::new(sub.name, handler));
        }
    }
    for (name, _) in BEHAVIOUR {
        if t.lookup(name.as_bytes()).is_none() {
            problems.push(format!("behaviour bits for {name}, which has no handler"));
        }
    }
    (t, problems)
}

/// A reply writer over a client's output buffer.
#[inline]
pub fn reply(server: &mut Server, key: usize) -> Reply<'_> {
    let c = &mut server.clients[key];
    Reply::new(&mut c.pending, c.session.proto)
}

/// Writes an error reply to a client and counts it (INFO errorstats). Honors CLIENT REPLY.
/// This is the gate's rejection (Redis's `rejectCommand`): in MULTI it also dooms the
/// transaction (EXECABORT).
pub fn reply_error(server: &mut Server, key: usize, text: &str) {
    crate::dispatch::multi::flag_transaction(server, key);
    server.stats.count_error(text);
    let c = &mut server.clients[key];
    if c.replies_enabled() {
        Reply::new(&mut c.pending, c.session.proto).error(text);
    }
}

/// Rejects an identified command (Redis's `rejectCommand`): EXEC rejected this way aborts
/// the transaction with the reason (`execCommandAbort`), others get the error as is.
pub(crate) fn reject(server: &mut Server, key: usize, row: &Row<Cmd>, text: &str) {
    if row.meta.name == "exec" {
        crate::dispatch::multi::discard_transaction(server, key);
        let reason = text.strip_prefix("ERR ").unwrap_or(text);
        let text = format!("EXECABORT Transaction discarded because of: {reason}");
        reply_error(server, key, &text);
    } else {
        reply_error(server, key, text);
    }
}

/// Looks up `container|sub` (case-insensitive) without allocating.
pub fn lookup_sub<'t>(table: &'t CmdTable, container: &str, sub: &[u8]) -> Option<&'t Row<Cmd>> {
    let mut buf = [0u8; 64];
    let n = container.len() + 1 + sub.len();
    if n > buf.len() {
        return None;
    }
    buf[..container.len()].copy_from_slice(container.as_bytes());
    buf[container.len()] = b'|';
    buf[container.len() + 1..n].copy_from_slice(sub);
    table.lookup(&buf[..n])
}

/// `ERR unknown command 'foo', with args beginning with: 'a' 'b' ` exactly as Redis 7.0
/// builds it: the name cut at 128 bytes, then quoted args while the list is under 128 bytes,
/// each cut to what is left of 128.
pub fn unknown_command_text(args: &[&[u8]]) -> String {
    let mut list = String::new();
    for a in &args[1..] {
        if list.len() >= 128 {
            break;
        }
        // Redis counts bytes; cut the raw bytes, then render.
        let room = 128 - list.len();
        list.push('\'');
        list.push_str(&lossy_trunc(a, room));
        list.push_str("' ");
    }
    format!(
        "ERR unknown command '{}', with args beginning with: {}",
        lossy_trunc(args[0], 128),
        list
    )
}

/// Runs one request through the gate and its handler. `args[0]` is the command name.
pub fn execute(server: &mut Server, key: usize, args: &[&[u8]]) {
    // CLIENT REPLY SKIP silences the next request, whatever becomes of it (Redis's
    // resetClient moves SKIP_NEXT to SKIP for exactly one command).
    let c = &mut server.clients[key];
    let skip_this = c.reply_mode == ReplyMode::Skip;
    if skip_this {
        c.reply_mode = ReplyMode::SkipThis;
    }
    admit_and_call(server, key, args);
    // Redis's processCommand: clients blocked on keys this command filled are served now,
    // before any other client's command runs.
    if !server.engine.blocking.ready.is_empty() {
        crate::dispatch::blocking::handle_ready(server);
    }
    let c = &mut server.clients[key];
    if skip_this && c.reply_mode == ReplyMode::SkipThis {
        c.reply_mode = ReplyMode::On;
    }
}

fn admit_and_call(server: &mut Server, key: usize, args: &[&[u8]]) {
    // Cross-protocol scripting: an HTTP request replayed at Redis. Drop the client without
    // a reply (Redis's securityWarningCommand), logging at most once a minute.
    let name = args[0];
    if (name.len() == 4 || name.len() == 5) && (eq_ic(name, "post") || eq_ic(name, "host:")) {
        let now = server.now_ms();
        if now - server.last_security_warning_ms > 60_000 {
            server.last_security_warning_ms = now;
            log::warn!(
                "Possible SECURITY ATTACK detected. It looks like somebody is sending POST or Host: commands to Redis. This is likely due to an attacker attempting to use Cross Protocol Scripting to compromise your Redis instance. Connection aborted."
            );
        }
        server.close_client(key);
        return;
    }
    let table = server.table;
    let Some(mut row) = table.lookup(args[0]) else {
        server.stats.unknown_commands += 1;
        reply_error(server, key, &unknown_command_text(args));
        return;
    };
    if !row.meta.subcommands.is_empty() && args.len() >= 2 {
        match lookup_sub(table, row.meta.name, args[1]) {
            Some(sub) => row = sub,
            None => {
                // `%.128s` in Redis: the name ends at a NUL byte.
                let sub = args[1];
                let sub = &sub[..memchr::memchr(0, sub).unwrap_or(sub.len())];
                let text = CmdError::unknown_subcommand(row.meta.name, sub).text();
                reply_error(server, key, &text);
                return;
            }
        }
    }
    if !row.meta.arity_ok(args.len()) {
        row.handler.bump(|s| s.rejected_calls += 1);
        let text = CmdError::WrongArity(row.meta.name.to_string()).text();
        reject(server, key, row, &text);
        return;
    }
    // Authentication and ACL (one branch for a client nothing can deny).
    if !crate::features::acl::admit(server, key, row, args) {
        return;
    }
    // The flags the checks below go by: a script's declared ones replace its command's.
    let flags = if row.handler.has(behaviour::SCRIPT_FLAGS) {
        crate::features::script::command_flags(server, row.meta.name, args, row.meta.flags)
    } else {
        row.meta.flags
    };
    // Out of memory: evict, then refuse what would grow memory (Redis's processCommand,
    // after the ACL, before the disk-error check).
    if crate::features::memory::denied_by_oom(server, key, row, flags) {
        row.handler.bump(|s| s.rejected_calls += 1);
        reject(server, key, row, crate::features::memory::OOM_TEXT);
        return;
    }
    // Writes (and PING) while the disk cannot be written (Redis's
    // `writeCommandsDeniedByDiskError`), before MULTI queues them.
    // The RDB's refusal first, then the AOF's (a failed write or fsync), as Redis.
    let obey = server.master.is_some() && server.clients[key].is_master();
    let denied = crate::features::persistence::writes_denied(server)
        .map(std::borrow::Cow::Borrowed)
        .or_else(|| crate::features::aof::write_denied_text(server).map(std::borrow::Cow::Owned));
    if let Some(text) = denied
        && !obey
        && (row.meta.name == "ping" || is_write(server, key, row, flags))
    {
        row.handler.bump(|s| s.rejected_calls += 1);
        reject(server, key, row, &text);
        return;
    }
    // `min-replicas-to-write` (Redis's checkGoodReplicasStatus).
    if crate::features::replication::too_few_replicas(server) && is_write(server, key, row, flags) {
        row.handler.bump(|s| s.rejected_calls += 1);
        reject(
            server,
            key,
            row,
            "NOREPLICAS Not enough good replicas to write.",
        );
        return;
    }
    // A replica: clients may not write (`replica-read-only`), and while the link is down
    // only `stale` commands run unless `replica-serve-stale-data` (Redis's order).
    if server.master.is_some() && !obey {
        if server.config.compat.replica_read_only && is_write(server, key, row, flags) {
            row.handler.bump(|s| s.rejected_calls += 1);
            reject(
                server,
                key,
                row,
                "READONLY You can't write against a read only replica.",
            );
            return;
        }
        use engine::commands::table::flags::STALE;
        // EXEC is refused when a queued command is not `stale`-safe (Redis's
        // `cmd_inv_flags`).
        let deny_stale = flags & STALE == 0
            || (row.meta.name == "exec"
                && server.clients[key]
                    .multi
                    .cmds
                    .iter()
                    .any(|q| server.table.rows()[q.row].meta.flags & STALE == 0));
        if !server.config.compat.replica_serve_stale_data
            && !crate::features::replication::replica::streaming(server)
            && deny_stale
        {
            row.handler.bump(|s| s.rejected_calls += 1);
            reject(
                server,
                key,
                row,
                "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.",
            );
            return;
        }
    }
    // A full sync's payload loading (in steps between which clients are served): only
    // `loading` commands run, as Redis's `-LOADING` while it loads.
    if server.loading && crate::features::replication::replica::loading(server) && !obey {
        use engine::commands::table::flags::LOADING;
        let deny = flags & LOADING == 0
            || (row.meta.name == "exec"
                && server.clients[key]
                    .multi
                    .cmds
                    .iter()
                    .any(|q| server.table.rows()[q.row].meta.flags & LOADING == 0));
        if deny {
            row.handler.bump(|s| s.rejected_calls += 1);
            reject(
                server,
                key,
                row,
                "LOADING Redis is loading the dataset in memory",
            );
            return;
        }
    }
    // RESP2 pub/sub mode: only (un)subscribing, PING, QUIT and RESET (RESP3 has no limit).
    let c = &server.clients[key];
    if c.in_resp2_pubsub() && !row.handler.has(behaviour::IN_SUBSCRIBED) {
        row.handler.bump(|s| s.rejected_calls += 1);
        let text = crate::features::pubsub::not_allowed_text(row.meta.name);
        reject(server, key, row, &text);
        return;
    }
    // A monitor may not touch the keyspace.
    if let Some(text) = crate::features::monitor::refused(server, key, row) {
        row.handler.bump(|s| s.rejected_calls += 1);
        reject(server, key, row, text);
        return;
    }
    // MULTI: `no-multi` commands are refused, the rest queued, except the commands that
    // drive the transaction itself.
    if server.clients[key].multi.active {
        if row.meta.flags & engine::commands::table::flags::NO_MULTI != 0 {
            row.handler.bump(|s| s.rejected_calls += 1);
            reply_error(server, key, "ERR Command not allowed inside a transaction");
            return;
        }
        if !row.handler.has(behaviour::DRIVES_MULTI) {
            crate::dispatch::multi::queue(server, key, row, args);
            return;
        }
    }
    // Later gates (auth, OOM) slot in here.
    crate::dispatch::call::call(server, key, row, args, Origin::Client);
}

/// Whether a request writes: a `write` command, or EXEC of a transaction that queued one.
fn is_write(server: &Server, key: usize, row: &Row<Cmd>, flags: u64) -> bool {
    use engine::commands::table::flags::WRITE;
    if flags & WRITE != 0 {
        return true;
    }
    row.meta.name == "exec"
        && server.clients[key]
            .multi
            .cmds
            .iter()
            .any(|q| server.table.rows()[q.row].meta.flags & WRITE != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    // Expected texts captured from Redis 7.0.15.
    #[test]
    fn unknown_command_text_matches_redis_truncation() {
        assert_eq!(
            unknown_command_text(&[b"foo", b"a", b"b"]),
            "ERR unknown command 'foo', with args beginning with: 'a' 'b' "
        );
        let long = vec![b'x'; 200];
        assert_eq!(
            unknown_command_text(&[&long]),
            format!(
                "ERR unknown command '{}', with args beginning with: ",
                "x".repeat(128)
            )
        );
        // Args stop once the list reaches 128 bytes; the last one is cut to what is left.
        let abc: Vec<&[u8]> = std::iter::once(&b"foo"[..])
            .chain(std::iter::repeat_n(&b"abc"[..], 60))
            .collect();
        assert_eq!(
            unknown_command_text(&abc),
            format!(
                "ERR unknown command 'foo', with args beginning with: {}'ab' ",
                "'abc' ".repeat(21)
            )
        );
        let a126 = vec![b'a'; 126];
        assert_eq!(
            unknown_command_text(&[b"foo", &a126, b"bbbbb"]),
            format!(
                "ERR unknown command 'foo', with args beginning with: '{}' ",
                "a".repeat(126)
            )
        );
        // C strings: a NUL ends the name and each argument.
        assert_eq!(
            unknown_command_text(&[b"fo\0o", b"a\0b", b"c"]),
            "ERR unknown command 'fo', with args beginning with: 'a' 'c' "
        );
    }

    /// Every handler has its metadata row, none is registered twice, and every behaviour
    /// bit names a command: a gap fails here, not as a warning at start-up.
    #[test]
    fn every_handler_has_exactly_one_row() {
        let (_, problems) = build_table_checked();
        assert!(problems.is_empty(), "{problems:#?}");
    }

    #[test]
    fn table_has_server_commands_and_subcommand_rows() {
        let t = build_table();
        for name in [
            "client",
            "client|list",
            "hello",
            "quit",
            "reset",
            "config|get",
            "info",
        ] {
            assert!(t.lookup(name.as_bytes()).is_some(), "{name} missing");
        }
        let client = t.lookup(b"CLIENT").unwrap();
        assert!(lookup_sub(&t, client.meta.name, b"LiSt").is_some());
        assert!(lookup_sub(&t, client.meta.name, b"nope").is_none());
        assert!(lookup_sub(&t, client.meta.name, &[b'x'; 100]).is_none());
    }
}

#[cfg(test)]
mod subcommand_tests {
    use crate::inproc::InProcess;

    /// Every subcommand row the table admits is one its handler knows: run with the least
    /// arguments its arity allows, none answers "unknown subcommand" (a metadata row whose
    /// handler lacks the subcommand would pass the gate and then fail there).
    #[test]
    fn every_subcommand_row_reaches_its_handler() {
        let mut s = InProcess::new(1_767_225_600_000);
        let names: Vec<(&'static str, i32)> = s
            .server
            .table
            .rows()
            .iter()
            .filter(|r| r.meta.name.contains('|'))
            .map(|r| (r.meta.name, r.meta.arity))
            .collect();
        let mut unknown = Vec::new();
        assert!(names.len() > 20, "subcommand rows: {names:?}");
        for (name, arity) in names {
            let (container, sub) = name.split_once('|').unwrap();
            // Never stop the test process.
            if container == "shutdown" || name == "client|kill" {
                continue;
            }
            let argc = arity.unsigned_abs() as usize;
            let mut args: Vec<&str> = vec![container, sub];
            while args.len() < argc {
                args.push("x");
            }
            let c = s.client();
            let reply = s.run(c, &args);
            if reply.contains("unknown subcommand") {
                unknown.push(format!("{name}: {}", reply.trim_end()));
            }
        }
        assert!(unknown.is_empty(), "{unknown:#?}");
    }
}
