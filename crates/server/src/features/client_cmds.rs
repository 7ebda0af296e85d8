//! Server-side commands: those that need the client list, the connection or the process
//! rather than only the keyspace — CLIENT, HELLO, AUTH, QUIT, RESET, SHUTDOWN, CONFIG and
//! INFO (whose texts the config and info modules write).
//!
//! Each handler writes its reply into the calling client's output (through
//! [`gate::reply`]) or returns a `CmdError`, writing nothing, as every handler does. Texts
//! are Redis 7.0.15's (`networking.c`, `server.c`, `acl.c`).

use crate::client::{Conn, ConnState, ReplyMode, fmt_addr};
use crate::dispatch::gate::{SrvFn, reply};
use crate::features::acl;
use crate::features::config::{self, Apply, Config, ConfigEffect, SetErr};
use crate::listener;
use crate::server::{Server, Shutdown};
use engine::commands::args::{Args, is_kw};
use engine::util::lossy_c_str;
use engine::{CmdError, CmdResult};
use resp::Proto;

/// Server handlers by lowercase command name; the gate joins them with the metadata.
pub const COMMANDS: &[(&str, SrvFn)] = &[
    ("client", client),
    ("hello", hello),
    ("auth", auth),
    ("quit", quit),
    ("reset", reset),
    ("shutdown", shutdown),
    ("config", config),
    ("info", info),
    ("bgrewriteaof", crate::features::aof::bgrewriteaof),
    ("debug", crate::features::debug::debug),
];

/// Redis's client types (`getClientTypeByName`).
#[derive(Clone, Copy, PartialEq, Eq)]
enum ClientType {
    Normal,
    Replica,
    PubSub,
    Master,
}

fn client_type_by_name(name: &[u8]) -> Option<ClientType> {
    if is_kw(name, "normal") {
        Some(ClientType::Normal)
    } else if is_kw(name, "slave") || is_kw(name, "replica") {
        Some(ClientType::Replica)
    } else if is_kw(name, "pubsub") {
        Some(ClientType::PubSub)
    } else if is_kw(name, "master") {
        Some(ClientType::Master)
    } else {
        None
    }
}

fn client_type(c: &Conn) -> ClientType {
    if c.is_master() {
        ClientType::Master
    } else if c.is_replica() {
        ClientType::Replica
    } else if c.subs.active() {
        ClientType::PubSub
    } else {
        ClientType::Normal
    }
}

fn unknown_type(name: &[u8]) -> CmdError {
    CmdError::Owned(format!("ERR Unknown client type '{}'", lossy_c_str(name)))
}

/// `addReplyHelp`: a status line per entry after a title.
pub(crate) fn reply_help(server: &mut Server, key: usize, title: &str, lines: &[&str]) {
    let mut r = reply(server, key);
    r.array(lines.len() + 3);
    r.simple(title.as_bytes());
    for l in lines {
        r.simple(l.as_bytes());
    }
    r.simple(b"HELP");
    r.simple(b"    Prints this help.");
}

const CLIENT_HELP: &[&str] = &[
    "CACHING (YES|NO)",
    "    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
    "GETREDIR",
    "    Return the client ID we are redirecting to when tracking is enabled.",
    "GETNAME",
    "    Return the name of the current connection.",
    "ID",
    "    Return the ID of the current connection.",
    "INFO",
    "    Return information about the current client connection.",
    "KILL <ip:port>",
    "    Kill connection made from <ip:port>.",
    "KILL <option> <value> [<option> <value> [...]]",
    "    Kill connections. Options are:",
    "    * ADDR (<ip:port>|<unixsocket>:0)",
    "      Kill connections made from the specified address",
    "    * LADDR (<ip:port>|<unixsocket>:0)",
    "      Kill connections made to specified local address",
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    "      Kill connections by type.",
    "    * USER <username>",
    "      Kill connections authenticated by <username>.",
    "    * SKIPME (YES|NO)",
    "      Skip killing current connection (default: yes).",
    "LIST [options ...]",
    "    Return information about client connections. Options:",
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    "      Return clients of specified type.",
    "UNPAUSE",
    "    Stop the current client pause, resuming traffic.",
    "PAUSE <timeout> [WRITE|ALL]",
    "    Suspend all, or just write, clients for <timeout> milliseconds.",
    "REPLY (ON|OFF|SKIP)",
    "    Control the replies sent to the current connection.",
    "SETNAME <name>",
    "    Assign the name <name> to the current connection.",
    "UNBLOCK <clientid> [TIMEOUT|ERROR]",
    "    Unblock the specified blocked client.",
    "TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
    "         [OPTIN] [OPTOUT] [NOLOOP]",
    "    Control server assisted client side caching.",
    "TRACKINGINFO",
    "    Report tracking status for the current connection.",
    "NO-EVICT (ON|OFF)",
    "    Protect current client connection from eviction.",
];

/// CLIENT <subcommand>. The gate has checked the subcommand exists and its arity.
fn client(server: &mut Server, key: usize, args: &[&[u8]]) -> CmdResult {
    let sub = args[1];
    if is_kw(sub, "id") {
        let id = server.clients[key].id() as i64;
        reply(server, key).int(id);
    } else if is_kw(sub, "getname") {
        let c = &mut server.clients[key];
        let mut r = resp::Reply::new(&mut c.pending, c.session.proto);
        match &c.name {
            Some(n) => r.bulk(n),
            None => r.null(),
        }
    } else if is_kw(sub, "setname") {
        set_name(&mut server.clients[key], args[2])?;
        reply(server, key).ok();
    } else if is_kw(sub, "info") {
        let mut s = String::new();
        client_info_line(server, key, key, args, &mut s);
        s.push('\n');
        reply(server, key).verbatim(b"txt", s.as_bytes());
    } else if is_kw(sub, "list") {
        client_list(server, key, args)?;
    } else if is_kw(sub, "kill") {
        client_kill(server, key, args)?;
    } else if is_kw(sub, "reply") {
        let mode = if is_kw(args[2], "on") {
            ReplyMode::On
        } else if is_kw(args[2], "off") {
            ReplyMode::Off
        } else if is_kw(args[2], "skip") {
            ReplyMode::Skip
        } else {
            return Err(CmdError::Syntax);
        };
        let c = &mut server.clients[key];
        // SKIP while OFF keeps OFF, as Redis (SKIP_NEXT is ignored under REPLY_OFF).
        if !(mode == ReplyMode::Skip && c.reply_mode == ReplyMode::Off) {
            c.reply_mode = mode;
        }
        if mode == ReplyMode::On {
            reply(server, key).ok();
        }
    } else if is_kw(sub, "no-evict") {
        let on = if is_kw(args[2], "on") {
            true
        } else if is_kw(args[2], "off") {
            false
        } else {
            return Err(CmdError::Syntax);
        };
        server.clients[key].no_evict = on;
        reply(server, key).ok();
    } else if is_kw(sub, "getredir") {
        // No tracking yet: -1 means "not redirecting".
        reply(server, key).int(-1);
    } else if is_kw(sub, "help") {
        reply_help(
            server,
            key,
            "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            CLIENT_HELP,
        );
    } else if is_kw(sub, "unblock") {
        // Redis checks the reason before the id.
        let error = args.len() == 4 && is_kw(args[3], "error");
        if args.len() == 4 && !error && !is_kw(args[3], "timeout") {
            return Err(CmdError::Static(
                "ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR",
            ));
        }
        let id = engine::util::parse_i64(args[2])?;
        let target = server
            .clients
            .iter()
            .find(|(_, c)| c.id() as i64 == id && !c.is_closing())
            .map(|(k, _)| k);
        let done =
            target.is_some_and(|t| crate::dispatch::blocking::client_unblock(server, t, error));
        reply(server, key).int(done as i64);
    } else if is_kw(sub, "trackinginfo") {
        let mut r = reply(server, key);
        r.map(3);
        r.bulk(b"flags");
        r.set(1);
        r.bulk(b"off");
        r.bulk(b"redirect");
        r.int(-1);
        r.bulk(b"prefixes");
        r.array(0);
    } else if is_kw(sub, "pause") {
        crate::features::pause::client_pause(server, key, args)?;
    } else if is_kw(sub, "unpause") {
        crate::features::pause::client_unpause(server, key, args)?;
    } else if is_kw(sub, "caching") {
        return Err(CmdError::Static(
            "ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled",
        ));
    } else {
        // PAUSE, UNPAUSE, TRACKING: later issues.
        return Err(CmdError::Owned(format!(
            "ERR CLIENT {} is not implemented yet",
            String::from_utf8_lossy(sub).to_ascii_uppercase()
        )));
    }
    Ok(())
}

/// `clientSetName`: an empty name clears it; bytes outside `!`..`~` are refused.
fn set_name(c: &mut Conn, name: &[u8]) -> CmdResult {
    if name.is_empty() {
        c.name = None;
        return Ok(());
    }
    if name.iter().any(|&b| !(b'!'..=b'~').contains(&b)) {
        return Err(CmdError::Static(
            "ERR Client names cannot contain spaces, newlines or special characters.",
        ));
    }
    c.name = Some(name.into());
    Ok(())
}

/// Appends the CLIENT LIST line of client `who` (without the newline). `caller` is the
/// client running the command; its current request counts in `qbuf`/`argv-mem` as in
/// Redis, where the request is still in the query buffer while it executes.
pub(crate) fn client_info_line(
    server: &mut Server,
    who: usize,
    caller: usize,
    args: &[&[u8]],
    out: &mut String,
) {
    use std::fmt::Write;
    let now = server.now_ms();
    let listener_addr = server.tcp_port;
    let dirty_cas = server.engine.watches.is_dirty(server.clients[who].id());
    // Held by CLIENT PAUSE counts as blocked, as Redis's postponed clients.
    let generation = server.clients[who].generation;
    let blocked = server.blocked.is_blocked(who)
        || server
            .pause
            .waiters
            .iter()
            .any(|&(k, g)| k == who && g == generation);
    let monitor = crate::features::monitor::is_monitor(server, who);
    let user = String::from_utf8_lossy(crate::features::acl::user_name(server, who)).into_owned();
    let c = &mut server.clients[who];
    let (addr, laddr) = if c.unix {
        // Redis shows the socket's path for both ends.
        let path = String::from_utf8_lossy(&server.config.compat.unixsocket).into_owned();
        (format!("{path}:0"), format!("{path}:0"))
    } else {
        let addr = fmt_addr(c.peer_addr());
        let laddr = match c.local_addr() {
            Some(a) => fmt_addr(Some(a)),
            None => format!("?:{listener_addr}"),
        };
        (addr, laddr)
    };
    let is_caller = who == caller;
    let (qbuf, argv_mem) = if is_caller {
        (
            c.qbuf_len() + c.qbuf_current,
            args.iter().map(|a| a.len()).sum::<usize>(),
        )
    } else {
        (c.qbuf_len(), 0)
    };
    let rbs = c.rbuf.capacity().max(16 * 1024);
    let qbuf_free = rbs.saturating_sub(qbuf);
    let obl = c.pending.len();
    // Redis: obl = bytes in the fixed reply buffer, omem = the overflow reply list. Ours:
    // replies not yet handed to the kernel, and the unsent rest of the send in flight.
    let omem = c.output_len() - c.pending.len();
    let tot_mem = c.memory() + argv_mem + c.multi.memory();
    let mut flags = String::new();
    if c.is_replica() {
        flags.push('S');
    }
    if c.is_master() {
        flags.push('M');
    }
    if monitor {
        flags.push('O');
    }
    if c.subs.active() {
        flags.push('P');
    }
    if c.multi.active {
        flags.push('x');
    }
    if blocked {
        flags.push('b');
    }
    if dirty_cas {
        flags.push('d');
    }
    if c.state == ConnState::CloseAfterReply {
        flags.push('c');
    }
    if c.unix {
        flags.push('U');
    }
    if c.no_evict {
        flags.push('e');
    }
    if flags.is_empty() {
        flags.push('N');
    }
    let events = if c.output_len() > 0 { "rw" } else { "r" };
    let name = c
        .name
        .as_deref()
        .map(|n| String::from_utf8_lossy(n).into_owned())
        .unwrap_or_default();
    let resp = match c.session.proto {
        Proto::Resp2 => 2,
        Proto::Resp3 => 3,
    };
    let _ = write!(
        out,
        "id={} addr={} laddr={} fd={} name={} age={} idle={} flags={} db={} sub={} psub={} ssub={} multi={} qbuf={} qbuf-free={} argv-mem={} multi-mem={} rbs={} rbp={} obl={} oll=0 omem={} tot-mem={} events={} cmd={} user={} redir=-1 resp={}",
        c.id(),
        addr,
        laddr,
        c.fd,
        name,
        (now - c.ctime_ms).max(0) / 1000,
        (now - c.last_interaction_ms).max(0) / 1000,
        flags,
        c.session.db,
        c.subs.counts().0,
        c.subs.counts().1,
        c.subs.counts().2,
        c.multi.count(),
        qbuf,
        qbuf_free,
        argv_mem,
        c.multi.memory(),
        rbs,
        c.rbuf_peak.max(qbuf),
        obl,
        omem,
        tot_mem,
        events,
        c.last_cmd,
        user,
        resp
    );
}

/// CLIENT LIST [TYPE type | ID id ...]
fn client_list(server: &mut Server, key: usize, args: &[&[u8]]) -> CmdResult {
    let mut ty = None;
    let mut ids: Option<Vec<i64>> = None;
    if args.len() == 4 && is_kw(args[2], "type") {
        ty = Some(client_type_by_name(args[3]).ok_or_else(|| unknown_type(args[3]))?);
    } else if args.len() > 3 && is_kw(args[2], "id") {
        let mut v = Vec::with_capacity(args.len() - 3);
        for a in &args[3..] {
            v.push(resp::num::parse_i64(a).ok_or(CmdError::Static("ERR Invalid client ID"))?);
        }
        ids = Some(v);
    } else if args.len() != 2 {
        return Err(CmdError::Syntax);
    }
    let mut out = String::new();
    let keys: Vec<usize> = match &ids {
        // In the order the ids were given, as Redis (lookupClientByID per argument).
        Some(ids) => ids
            .iter()
            .filter_map(|&id| {
                server
                    .clients
                    .iter()
                    .find(|(_, c)| c.id() as i64 == id && !c.is_closing())
                    .map(|(k, _)| k)
            })
            .collect(),
        None => {
            let mut ks: Vec<(u64, usize)> = server
                .clients
                .iter()
                .filter(|(_, c)| !c.is_closing() && ty.is_none_or(|t| client_type(c) == t))
                .map(|(k, c)| (c.id(), k))
                .collect();
            // Redis lists clients in connection order.
            ks.sort_unstable();
            ks.into_iter().map(|(_, k)| k).collect()
        }
    };
    for k in keys {
        client_info_line(server, k, key, args, &mut out);
        out.push('\n');
    }
    reply(server, key).verbatim(b"txt", out.as_bytes());
    Ok(())
}

/// CLIENT KILL addr:port | CLIENT KILL <filter> <value> ...
fn client_kill(server: &mut Server, key: usize, args: &[&[u8]]) -> CmdResult {
    let mut addr: Option<&[u8]> = None;
    let mut laddr: Option<&[u8]> = None;
    let mut ty = None;
    let mut id: Option<u64> = None;
    let mut skipme = true;
    let mut user: Option<usize> = None;
    let old_form = args.len() == 3;
    if old_form {
        addr = Some(args[2]);
        skipme = false; // the old form may kill the caller
    } else {
        // Every filter takes one value; one without it is a syntax error.
        let mut opts = Args::new(args, 2);
        while !opts.is_empty() {
            if opts.eat_with("id", 1) {
                let v = opts.int_in(1, i64::MAX, Some("ERR client-id should be greater than 0"))?;
                id = Some(v as u64);
            } else if opts.eat_with("type", 1) {
                let val = opts.value()?;
                ty = Some(client_type_by_name(val).ok_or_else(|| unknown_type(val))?);
            } else if opts.eat_with("addr", 1) {
                addr = Some(opts.value()?);
            } else if opts.eat_with("laddr", 1) {
                laddr = Some(opts.value()?);
            } else if opts.eat_with("user", 1) {
                let val = opts.value()?;
                let Some(id) = server.acl.get(val) else {
                    return Err(CmdError::Owned(format!(
                        "ERR No such user '{}'",
                        lossy_c_str(val)
                    )));
                };
                user = Some(id);
            } else if opts.eat_with("skipme", 1) {
                let val = opts.value()?;
                if is_kw(val, "yes") {
                    skipme = true;
                } else if is_kw(val, "no") {
                    skipme = false;
                } else {
                    return Err(CmdError::Syntax);
                }
            } else {
                return Err(CmdError::Syntax);
            }
        }
    }
    let keys: Vec<usize> = server
        .clients
        .iter()
        .filter(|(_, c)| !c.is_closing())
        .map(|(k, _)| k)
        .collect();
    let mut killed = 0i64;
    let mut close_me = false;
    let unix_addr = [server.config.compat.unixsocket.as_slice(), b":0"].concat();
    for k in keys {
        let c = &mut server.clients[k];
        if let Some(a) = addr
            && (if c.unix {
                unix_addr != a
            } else {
                fmt_addr(c.peer_addr()).as_bytes() != a
            })
        {
            continue;
        }
        if let Some(a) = laddr
            && (if c.unix {
                unix_addr != a
            } else {
                fmt_addr(c.local_addr()).as_bytes() != a
            })
        {
            continue;
        }
        if ty.is_some_and(|t| client_type(c) != t) {
            continue;
        }
        if id.is_some_and(|id| c.id() != id) {
            continue;
        }
        if user.is_some_and(|u| c.user != u) {
            continue;
        }
        if k == key {
            if skipme {
                continue;
            }
            close_me = true;
        } else {
            server.close_client(k);
        }
        killed += 1;
    }
    if old_form {
        if killed == 0 {
            return Err(CmdError::Static("ERR No such client"));
        }
        reply(server, key).ok();
    } else {
        reply(server, key).int(killed);
    }
    if close_me {
        // After the reply is queued, like CLIENT_CLOSE_AFTER_REPLY.
        server.clients[key].state = ConnState::CloseAfterReply;
    }
    Ok(())
}

/// HELLO [protover [AUTH username password] [SETNAME clientname]]
fn hello(server: &mut Server, key: usize, args: &[&[u8]]) -> CmdResult {
    let mut ver = 0i64;
    let mut next = 1;
    if args.len() >= 2 {
        ver = resp::num::parse_i64(args[1]).ok_or(CmdError::Static(
            "ERR Protocol version is not an integer or out of range",
        ))?;
        next = 2;
        if !(2..=3).contains(&ver) {
            return Err(CmdError::Static("NOPROTO unsupported protocol version"));
        }
    }
    let mut creds = None;
    let mut name = None;
    let mut opts = Args::new(args, next);
    while let Some(opt) = opts.peek() {
        if opts.eat_with("auth", 2) {
            creds = Some((opts.value()?, opts.value()?));
        } else if opts.eat_with("setname", 1) {
            name = Some(opts.value()?);
        } else {
            return Err(CmdError::Owned(format!(
                "ERR Syntax error in HELLO option '{}'",
                lossy_c_str(opt)
            )));
        }
    }
    if let Some((u, p)) = creds
        && !acl::authenticate(server, key, u, p, args[0])
    {
        return Err(CmdError::Static(acl::WRONGPASS));
    }
    // Redis's hello checks `c->authenticated` alone (not `authRequired`): a client that
    // connected while a password was needed still needs AUTH here after it is removed.
    if !server.clients[key].authenticated {
        return Err(CmdError::Static(
            "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time",
        ));
    }
    let c = &mut server.clients[key];
    if let Some(n) = name {
        set_name(c, n)?;
    }
    match ver {
        2 => c.session.proto = Proto::Resp2,
        3 => c.session.proto = Proto::Resp3,
        _ => {}
    }
    let proto = match c.session.proto {
        Proto::Resp2 => 2,
        Proto::Resp3 => 3,
    };
    let id = c.id() as i64;
    let mut r = reply(server, key);
    r.map(7);
    r.bulk(b"server");
    r.bulk(b"redis");
    r.bulk(b"version");
    r.bulk(b"7.0.15");
    r.bulk(b"proto");
    r.int(proto);
    r.bulk(b"id");
    r.int(id);
    r.bulk(b"mode");
    r.bulk(b"standalone");
    r.bulk(b"role");
    r.bulk(b"master");
    r.bulk(b"modules");
    r.array(0);
    Ok(())
}

/// AUTH [username] password
fn auth(server: &mut Server, key: usize, args: &[&[u8]]) -> CmdResult {
    if args.len() > 3 {
        return Err(CmdError::Syntax);
    }
    let (user, pass) = if args.len() == 2 {
        if server.acl.default_user().has(acl::user::uflag::NOPASS) {
            return Err(CmdError::Static(
                "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?",
            ));
        }
        (&b"default"[..], args[1])
    } else {
        (args[1], args[2])
    };
    if !acl::authenticate(server, key, user, pass, args[0]) {
        return Err(CmdError::Static(acl::WRONGPASS));
    }
    reply(server, key).ok();
    Ok(())
}

/// QUIT: +OK, then close once the reply is out; later requests are not read.
fn quit(server: &mut Server, key: usize, _args: &[&[u8]]) -> CmdResult {
    reply(server, key).ok();
    server.clients[key].state = ConnState::CloseAfterReply;
    Ok(())
}

/// RESET: back to a fresh connection's state (db 0, RESP2, no name, replies on, ...).
fn reset(server: &mut Server, key: usize, _args: &[&[u8]]) -> CmdResult {
    crate::features::pubsub::forget_client(server, key);
    crate::dispatch::multi::discard_transaction(server, key);
    crate::features::monitor::forget(server, key);
    let c = &mut server.clients[key];
    c.session.db = 0;
    c.session.proto = Proto::Resp2;
    c.name = None;
    c.reply_mode = ReplyMode::On;
    c.no_evict = false;
    acl::set_default_auth(server, key);
    reply(server, key).simple(b"RESET");
    Ok(())
}

/// SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT]
///
/// Saves the RDB first when asked (SAVE) or when `save` points exist (unless NOSAVE); a
/// failed save keeps the server up unless FORCE. No replicas to wait for, so NOW changes
/// nothing and the shutdown is immediate.
fn shutdown(server: &mut Server, key: usize, args: &[&[u8]]) -> CmdResult {
    let (mut nosave, mut save, mut force, mut abort, mut any) = (false, false, false, false, false);
    for a in &args[1..] {
        if is_kw(a, "nosave") {
            nosave = true;
        } else if is_kw(a, "save") {
            save = true;
        } else if is_kw(a, "now") {
        } else if is_kw(a, "force") {
            force = true;
        } else if is_kw(a, "abort") {
            abort = true;
            continue;
        } else {
            return Err(CmdError::Syntax);
        }
        any = true;
    }
    if (abort && any) || (nosave && save) {
        return Err(CmdError::Syntax);
    }
    if abort {
        // Shutdown is immediate here, so one is never in progress.
        return Err(CmdError::Static("ERR No shutdown in progress."));
    }
    log::warn!("User requested shutdown...");
    let _ = key;
    let save = if nosave {
        Some(false)
    } else if save {
        Some(true)
    } else {
        None
    };
    if crate::features::persistence::prepare_shutdown(server, save, force).is_err() {
        return Err(CmdError::Static(
            "ERR Errors trying to SHUTDOWN. Check logs.",
        ));
    }
    server.shutdown = Shutdown::Exit;
    Ok(())
}

/// CONFIG GET|SET|RESETSTAT|REWRITE|HELP, through the config module; live effects of a SET
/// are applied here (rebinding, fd limit, chdir, log level) and the hot-path settings are
/// refreshed afterwards.
fn config(server: &mut Server, key: usize, args: &[&[u8]]) -> CmdResult {
    let local = server.clients[key]
        .peer_addr()
        .is_none_or(|a| a.ip().is_loopback());
    // CONFIG REWRITE writes the ACL's users (only then are the lines needed).
    let users = if args.get(1).is_some_and(|a| is_kw(a, "rewrite")) {
        acl::user_lines(server)
    } else {
        Vec::new()
    };
    let is_replica = server.master.is_some();
    let Server {
        config,
        clients,
        listeners,
        listener_epoch,
        listeners_changed,
        ..
    } = server;
    let c = &mut clients[key];
    let mut out = resp::Reply::new(&mut c.pending, c.session.proto);
    let mut apply = |cfg: &Config, a: Apply| -> Result<(), SetErr> {
        match a {
            Apply::Port | Apply::Bind => {
                listener::rebind(listeners, &cfg.bind, cfg.port, cfg.tcp_backlog).map_err(
                    |_| -> SetErr {
                        if a == Apply::Port {
                            "Unable to listen on this port".into()
                        } else {
                            "Failed to bind to specified addresses.".into()
                        }
                    },
                )?;
                *listener_epoch = listener_epoch.wrapping_add(1);
                *listeners_changed = true;
                Ok(())
            }
            Apply::Maxclients => crate::sys::adjust_open_files_limit(cfg.maxclients as u64)
                .map_err(|max| -> SetErr {
                    format!(
                        "The operating system is not able to handle the specified number of clients, try with {}",
                        max.saturating_sub(32)
                    )
                    .into()
                }),
            Apply::Dir => std::env::set_current_dir(&cfg.dir)
                .map_err(|e| -> SetErr { config::strerror(&e).into() }),
            Apply::Loglevel => {
                log::set_max_level(crate::sys::log_filter(cfg.loglevel));
                Ok(())
            }
            // Turning the AOF on needs the whole server (it rewrites); what can fail
            // before that is checked here so CONFIG SET still fails as Redis's does.
            Apply::Appendonly if cfg.appendonly => {
                crate::features::aof::can_start(cfg).map_err(|e| -> SetErr {
                    log::warn!("{e}");
                    "Unable to turn on AOF. Check server logs.".into()
                })
            }
            Apply::OomScoreAdj => crate::sys::set_oom_score_adj(
                cfg.compat.oom_score_adj,
                cfg.compat.oom_score_adj_values,
                is_replica,
            )
            .map_err(|_| "Failed to set current oom_score_adj. Check server logs.".into()),
            Apply::JemallocBgThread => {
                // As Redis, a jemalloc that cannot start the thread is not an error.
                crate::alloc::set_background_thread(cfg.compat.jemalloc_bg_thread);
                Ok(())
            }
            _ => Ok(()),
        }
    };
    match config::config_command(config, &users, args, local, &mut out, &mut apply)? {
        ConfigEffect::None => {}
        ConfigEffect::Set(applied) => {
            server.apply_settings();
            if applied.contains(Apply::Requirepass) {
                acl::requirepass_changed(server);
            }
            if applied.contains(Apply::Maxmemory) {
                crate::features::memory::maxmemory_changed(server);
            }
            if applied.contains(Apply::Appendonly) {
                let now = server.now_ms();
                let _ = crate::features::aof::config_changed(server, now);
            }
        }
        ConfigEffect::ResetStat => {
            server.reset_stats();
            reply(server, key).ok();
        }
    }
    Ok(())
}

/// INFO [section ...]: the info module writes the sections asked for.
fn info(server: &mut Server, key: usize, args: &[&[u8]]) -> CmdResult {
    let text = crate::features::info::info_string(server, &args[1..]);
    let c = &mut server.clients[key];
    crate::features::info::reply(
        &text,
        &mut resp::Reply::new(&mut c.pending, c.session.proto),
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::inproc::InProcess;

    /// A memory limit reaches the engine; a client-memory limit (no client eviction) is
    /// refused, not stored and ignored; 0 (none) is accepted.
    #[test]
    fn config_set_memory_limits() {
        let mut s = InProcess::new(1_767_225_600_000);
        let c = s.client();
        assert_eq!(
            s.run(
                c,
                &[
                    "CONFIG",
                    "SET",
                    "maxmemory",
                    "16mb",
                    "maxmemory-policy",
                    "allkeys-lfu"
                ]
            ),
            "+OK\r\n"
        );
        assert_eq!(s.server.engine.config.evict.maxmemory, 16 << 20);
        assert_eq!(
            s.run(c, &["CONFIG", "SET", "active-expire-effort", "7"]),
            "+OK\r\n"
        );
        assert_eq!(s.server.engine.config.active_expire_effort, 7);
        assert!(s.server.engine.config.evict.policy.is_lfu());
        assert_eq!(
            s.run(c, &["CONFIG", "SET", "maxmemory-clients", "10%"]),
            "+OK\r\n"
        );
        assert_eq!(
            s.run(c, &["CONFIG", "GET", "maxmemory-clients"]),
            "*2\r\n$17\r\nmaxmemory-clients\r\n$3\r\n10%\r\n"
        );
        // 10% of 16 MB.
        assert_eq!(
            crate::features::memory::client_eviction_limit(&s.server),
            (16 << 20) / 10
        );
        assert_eq!(
            s.run(c, &["CONFIG", "SET", "maxmemory-clients", "0"]),
            "+OK\r\n"
        );
    }
}
