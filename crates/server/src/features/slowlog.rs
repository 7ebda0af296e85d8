//! The slow log (Redis's `slowlog.c`): commands that ran for at least
//! `slowlog-log-slower-than` microseconds, newest first, at most `slowlog-max-len` of them,
//! and the SLOWLOG command.
//!
//! The runner ([`crate::dispatch::call`]) offers every execution to [`SlowLog::offer`];
//! below the threshold that is one comparison, and nothing is allocated. An entry keeps the
//! arguments as Redis does: at most 32 (the last one then says how many more there were),
//! each cut at 128 bytes with the count of bytes left out; secrets (AUTH's password, HELLO's
//! AUTH pair, a sensitive CONFIG SET value) as `(redacted)`, see [`redacted`].

use crate::dispatch::gate::{Cmd, reply};
use crate::server::Server;
use engine::commands::args::is_kw;
use engine::commands::table::{Row, flags};
use engine::{CmdError, CmdResult};
use std::collections::VecDeque;

/// Redis's SLOWLOG_ENTRY_MAX_ARGC / SLOWLOG_ENTRY_MAX_STRING.
const MAX_ARGC: usize = 32;
const MAX_STRING: usize = 128;

pub struct Entry {
    pub id: u64,
    pub time: i64,
    pub usec: u64,
    pub args: Vec<Box<[u8]>>,
    pub peer: String,
    pub name: Box<[u8]>,
}

#[derive(Default)]
pub struct SlowLog {
    /// Newest at the front.
    pub entries: VecDeque<Entry>,
    pub next_id: u64,
}

/// The text Redis puts in place of a secret argument (`shared.redacted`).
pub const REDACTED: &[u8] = b"(redacted)";

/// Whether argument `i` of a command is a secret that the slow log and MONITOR show as
/// `(redacted)`: where Redis's handlers call `redactClientCommandArgument` (AUTH's
/// arguments, HELLO's AUTH username and password, the value of a sensitive config in
/// CONFIG SET, MIGRATE's AUTH/AUTH2).
pub fn redacted(row: &Row<Cmd>, args: &[&[u8]], i: usize) -> bool {
    if i == 0 {
        return false;
    }
    match row.meta.name {
        "auth" => true,
        "hello" => (2..i)
            .rev()
            .take(2)
            .any(|j| is_kw(args[j], "auth") && hello_auth_at(args, j)),
        "config|set" => {
            i >= 3
                && (i - 2) % 2 == 1
                && crate::features::config::lookup(args[i - 1])
                    .is_some_and(|f| f.row.flags & crate::features::config::flags::SENSITIVE != 0)
        }
        _ => false,
    }
}

/// Whether `args[j]` is HELLO's AUTH keyword (not a value of an earlier option): walks the
/// options as HELLO parses them.
fn hello_auth_at(args: &[&[u8]], j: usize) -> bool {
    let mut k = 2;
    while k < args.len() {
        if is_kw(args[k], "auth") && k + 2 < args.len() {
            if k == j {
                return true;
            }
            k += 3;
        } else if is_kw(args[k], "setname") && k + 1 < args.len() {
            k += 2;
        } else {
            return false;
        }
    }
    false
}

impl SlowLog {
    /// Records the command if it ran at least `threshold` µs (a negative threshold turns the
    /// log off) and is not flagged `skip_slowlog`; keeps at most `max_len` entries.
    #[inline]
    /// `lua`: a command a script ran, logged as Redis logs its Lua client (`?:0`, no name).
    pub fn offer(
        server: &mut Server,
        key: usize,
        row: &Row<Cmd>,
        args: &[&[u8]],
        usec: u64,
        lua: bool,
    ) {
        let threshold = server.config.compat.slowlog_log_slower_than;
        if threshold < 0 || usec < threshold as u64 || row.meta.flags & flags::SKIP_SLOWLOG != 0 {
            return;
        }
        Self::push(server, key, row, args, usec, lua);
    }

    #[cold]
    fn push(server: &mut Server, key: usize, row: &Row<Cmd>, args: &[&[u8]], usec: u64, lua: bool) {
        let argc = args.len().min(MAX_ARGC);
        let mut v = Vec::with_capacity(argc);
        for (j, a) in args[..argc].iter().enumerate() {
            let arg: Box<[u8]> = if argc != args.len() && j == argc - 1 {
                format!("... ({} more arguments)", args.len() - argc + 1)
                    .into_bytes()
                    .into()
            } else if redacted(row, args, j) {
                REDACTED.into()
            } else if a.len() > MAX_STRING {
                let mut s = a[..MAX_STRING].to_vec();
                s.extend_from_slice(
                    format!("... ({} more bytes)", a.len() - MAX_STRING).as_bytes(),
                );
                s.into()
            } else {
                (*a).into()
            };
            v.push(arg);
        }
        let time = server.now_ms().div_euclid(1000);
        let c = &mut server.clients[key];
        let entry = Entry {
            id: server.slowlog.next_id,
            time,
            usec,
            args: v,
            peer: if lua {
                "?:0".to_string()
            } else {
                crate::client::fmt_addr(c.peer_addr())
            },
            name: if lua {
                Default::default()
            } else {
                c.name.clone().unwrap_or_default()
            },
        };
        let log = &mut server.slowlog;
        log.next_id += 1;
        log.entries.push_front(entry);
        log.entries
            .truncate(server.config.compat.slowlog_max_len.max(0) as usize);
    }
}

const HELP: &[&str] = &[
    "GET [<count>]",
    "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
    "    Entries are made of:",
    "    id, timestamp, time in microseconds, arguments array, client IP and port,",
    "    client name",
    "LEN",
    "    Return the length of the slowlog.",
    "RESET",
    "    Reset the slowlog.",
];

/// SLOWLOG GET [count] | LEN | RESET | HELP
pub fn slowlog(server: &mut Server, key: usize, args: &[&[u8]]) -> CmdResult {
    let sub = args[1];
    if is_kw(sub, "help") {
        crate::features::client_cmds::reply_help(
            server,
            key,
            "SLOWLOG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            HELP,
        );
    } else if is_kw(sub, "reset") {
        server.slowlog.entries.clear();
        reply(server, key).ok();
    } else if is_kw(sub, "len") {
        let n = server.slowlog.entries.len() as i64;
        reply(server, key).int(n);
    } else if is_kw(sub, "get") {
        if args.len() > 3 {
            return Err(CmdError::Owned(format!(
                "ERR unknown subcommand or wrong number of arguments for '{}'. Try SLOWLOG HELP.",
                engine::util::lossy_c_str(sub)
            )));
        }
        let mut count = 10usize;
        if args.len() == 3 {
            let n = resp::num::parse_i64(args[2])
                .filter(|&n| n >= -1)
                .ok_or(CmdError::Static(
                    "ERR count should be greater than or equal to -1",
                ))?;
            count = if n == -1 { usize::MAX } else { n as usize };
        }
        let Server {
            slowlog, clients, ..
        } = server;
        let c = &mut clients[key];
        let mut r = resp::Reply::new(&mut c.pending, c.session.proto);
        let count = count.min(slowlog.entries.len());
        r.array(count);
        for e in slowlog.entries.iter().take(count) {
            r.array(6);
            r.int(e.id as i64);
            r.int(e.time);
            r.int(e.usec as i64);
            r.array(e.args.len());
            for a in &e.args {
                r.bulk(a);
            }
            r.bulk(e.peer.as_bytes());
            r.bulk(&e.name);
        }
    }
    Ok(())
}
