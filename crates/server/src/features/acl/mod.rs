//! Authentication and ACL (Redis 7.0.15's acl.c and the auth half of `processCommand`):
//! the users, who each client is, the one check in the gate ([`admit`]), AUTH / HELLO AUTH
//! ([`authenticate`]), `requirepass`, `protected-mode`, the ACL LOG, `user` directives and
//! `aclfile` (ACL LOAD / SAVE). The ACL command itself is in `command.rs`; rules, checks
//! and descriptions of one user in `user.rs`.
//!
//! Invariants:
//! - The default user always exists, at [`Acl::DEFAULT`] (its slot never changes: ACL LOAD
//!   copies the new default's rules into it, as Redis copies into `DefaultUser`).
//! - A client's `user` is a key of `users` (or [`NO_USER`] for the AOF loader, which Redis
//!   runs with no user: everything allowed). A client whose user is deleted is closed.
//! - `Conn::acl_pass` is true only when nothing can deny that client (authenticated or no
//!   authentication required, and a user whose root selector allows every command, key and
//!   channel). It is recomputed ([`refresh_all`]) after every change to users, their rules,
//!   `requirepass` or a client's authentication; the per-request cost for such a client is
//!   that one branch. Everyone else takes [`admit_slow`], which needs no such cache.

pub mod command;
mod universe;
mod universe_data;
pub mod user;

use crate::dispatch::gate::{self, Cmd};
use crate::server::Server;
use engine::commands::table::{KeyRef, Row, flags};
use slab::Slab;
use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use user::{Deny, User, uflag};

pub use universe::lookup as command_id;

/// A client with no user: the AOF loader (Redis's fake client has `user == NULL`).
pub const NO_USER: usize = usize::MAX;

/// The id [`Cmd::acl_id`] holds for a row that Redis's command list lacks (never matched
/// by a command rule: such a row runs only for users allowed all commands).
pub const NO_ID: u16 = u16::MAX;

pub const NOAUTH: &str = "NOAUTH Authentication required.";
pub const WRONGPASS: &str = "WRONGPASS invalid username-password pair or user is disabled.";

/// ACL LOG's context field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Context {
    Toplevel,
    Multi,
    /// A command a script ran (Redis's `ACL_LOG_CTX_LUA`).
    Lua,
}

/// One ACL LOG entry (Redis 7.0's fields).
#[derive(Clone, Debug)]
pub struct LogEntry {
    pub count: u64,
    pub reason: Deny,
    pub context: Context,
    pub object: Vec<u8>,
    pub username: Vec<u8>,
    pub ctime_ms: i64,
    pub cinfo: String,
}

/// Redis's ACL_LOG_GROUPING_MAX_TIME_DELTA.
const LOG_GROUPING_MS: i64 = 60_000;

pub struct Acl {
    pub users: Slab<User>,
    /// Users by name, in byte order (ACL LIST, USERS and SAVE list them in this order).
    pub by_name: BTreeMap<Vec<u8>, usize>,
    /// Newest first.
    pub log: VecDeque<LogEntry>,
    /// Scratch for the keys of the command being checked (no allocation per check).
    keys: Vec<KeyRef>,
}

impl Acl {
    pub const DEFAULT: usize = 0;

    /// The default user only (`+@all ~* &* on nopass`).
    pub fn new(pubsub_all: bool) -> Acl {
        let mut users = Slab::new();
        let id = users.insert(User::new_default(pubsub_all));
        debug_assert_eq!(id, Acl::DEFAULT);
        let mut by_name = BTreeMap::new();
        by_name.insert(b"default".to_vec(), id);
        Acl {
            users,
            by_name,
            log: VecDeque::new(),
            keys: Vec::new(),
        }
    }

    pub fn default_user(&self) -> &User {
        &self.users[Acl::DEFAULT]
    }

    /// No authentication needed: the default user is `nopass` and enabled.
    #[inline]
    pub fn default_open(&self) -> bool {
        let d = self.default_user();
        d.has(uflag::NOPASS) && !d.has(uflag::DISABLED)
    }

    pub fn get(&self, name: &[u8]) -> Option<usize> {
        self.by_name.get(name).copied()
    }

    /// `ACLUpdateDefaultUserPassword`: `requirepass` as the default user's one password.
    pub fn set_requirepass(&mut self, pass: &[u8], pubsub_all: bool) {
        let d = &mut self.users[Acl::DEFAULT];
        let _ = d.apply(b"resetpass", pubsub_all);
        if pass.is_empty() {
            let _ = d.apply(b"nopass", pubsub_all);
        } else {
            let mut op = Vec::with_capacity(pass.len() + 1);
            op.push(b'>');
            op.extend_from_slice(pass);
            let _ = d.apply(&op, pubsub_all);
        }
    }
}

fn pubsub_all(server: &Server) -> bool {
    server.config.compat.acl_pubsub_default == 1
}

/// Whether client `key` may run anything without a check (see the module invariants).
fn computes_pass(server: &Server, key: usize) -> bool {
    let c = &server.clients[key];
    if c.user == NO_USER {
        return true;
    }
    let authed = c.authenticated || server.acl.default_open();
    authed
        && server
            .acl
            .users
            .get(c.user)
            .is_some_and(|u| u.unrestricted())
}

/// Recomputes every client's `acl_pass` (after any change to users or `requirepass`).
pub fn refresh_all(server: &mut Server) {
    let keys: Vec<usize> = server.clients.iter().map(|(k, _)| k).collect();
    for k in keys {
        refresh(server, k);
    }
}

/// Recomputes one client's `acl_pass`.
pub fn refresh(server: &mut Server, key: usize) {
    let pass = computes_pass(server, key);
    let c = &mut server.clients[key];
    c.acl_pass = pass;
    if pass {
        // Only the slow path sets it; a client leaving it must not keep a stale refusal.
        c.session.restricted_keys = false;
    }
}

/// `clientSetDefaultAuth`: the default user, authenticated when it needs no password (a new
/// connection, RESET).
pub fn set_default_auth(server: &mut Server, key: usize) {
    let open = server.acl.default_open();
    let c = &mut server.clients[key];
    c.user = Acl::DEFAULT;
    c.authenticated = open;
    refresh(server, key);
}

/// The gate's check, after arity (Redis's `processCommand`: authentication, then ACL).
/// False when the command was refused (the reply and the ACL LOG entry are written).
#[inline]
pub fn admit(server: &mut Server, key: usize, row: &'static Row<Cmd>, args: &[&[u8]]) -> bool {
    server.clients[key].acl_pass || admit_slow(server, key, row, args)
}

#[inline(never)]
fn admit_slow(server: &mut Server, key: usize, row: &'static Row<Cmd>, args: &[&[u8]]) -> bool {
    let c = &server.clients[key];
    if c.user == NO_USER {
        return true;
    }
    if !c.authenticated && !server.acl.default_open() && row.meta.flags & flags::NO_AUTH == 0 {
        row.handler.bump(|s| s.rejected_calls += 1);
        gate::reject(server, key, row, NOAUTH);
        return false;
    }
    // `no-multi` inside MULTI is refused next by the gate, before the ACL (as Redis).
    if c.multi.active && row.meta.flags & flags::NO_MULTI != 0 {
        return true;
    }
    let Err((deny, pos)) = check(server, key, row, args) else {
        set_restricted_keys(server, key, row, args);
        return true;
    };
    let c = &mut server.clients[key];
    // Redis sets `lastcmd` at lookup: the log's client info (and CLIENT LIST) name the
    // refused command.
    c.last_cmd = row.meta.name;
    let context = if c.multi.active {
        Context::Multi
    } else {
        Context::Toplevel
    };
    add_log(
        server,
        key,
        deny,
        context,
        object(row, args, deny, pos),
        None,
    );
    let text = match deny {
        Deny::Cmd => format!(
            "NOPERM this user has no permissions to run the '{}' command",
            row.meta.name
        ),
        Deny::Key => {
            "NOPERM this user has no permissions to access one of the keys used as arguments"
                .to_owned()
        }
        Deny::Channel => {
            "NOPERM this user has no permissions to access one of the channels used as arguments"
                .to_owned()
        }
        Deny::Auth => "no permission".to_owned(),
    };
    row.handler.bump(|s| s.rejected_calls += 1);
    gate::reject(server, key, row, &text);
    false
}

/// Redis's `scriptVerifyACL`: a command a script runs, checked against the caller's user;
/// a denial is logged (context `lua`) and answered with the script's text.
pub fn script_denied(
    server: &mut Server,
    key: usize,
    row: &'static Row<Cmd>,
    args: &[&[u8]],
) -> Option<&'static str> {
    if server.clients[key].acl_pass {
        return None;
    }
    let Err((deny, pos)) = check(server, key, row, args) else {
        set_restricted_keys(server, key, row, args);
        return None;
    };
    add_log(
        server,
        key,
        deny,
        Context::Lua,
        object(row, args, deny, pos),
        None,
    );
    Some(match deny {
        Deny::Cmd => "The user executing the script can't run this command or subcommand",
        Deny::Key => {
            "The user executing the script can't access at least one of the keys mentioned in the command arguments"
        }
        Deny::Channel => {
            "The user executing the script can't publish to the channel mentioned in the command"
        }
        Deny::Auth => "The user executing the script is lacking the permissions for the command",
    })
}

/// Whether client `key`'s user may run the command (`redis.acl_check_cmd`); nothing logged.
pub fn permitted(server: &mut Server, key: usize, row: &Row<Cmd>, args: &[&[u8]]) -> bool {
    server.clients[key].acl_pass || check(server, key, row, args).is_ok()
}

/// The user of client `key` checked against a command.
fn check(
    server: &mut Server,
    key: usize,
    row: &Row<Cmd>,
    args: &[&[u8]],
) -> Result<(), (Deny, usize)> {
    let uid = server.clients[key].user;
    if uid == NO_USER {
        return Ok(());
    }
    let Acl { users, keys, .. } = &mut server.acl;
    // A client whose user is gone (it is being closed) may run nothing.
    let Some(u) = users.get(uid) else {
        return Err((Deny::Cmd, 0));
    };
    check_user(u, row, args, keys)
}

fn check_user(
    u: &User,
    row: &Row<Cmd>,
    args: &[&[u8]],
    keys: &mut Vec<KeyRef>,
) -> Result<(), (Deny, usize)> {
    let id = row.handler.acl_id;
    if id == NO_ID {
        // Not a Redis command: only a user allowed everything may run it.
        return if u.root().flags & user::sflag::ALLCOMMANDS != 0 {
            Ok(())
        } else {
            Err((Deny::Cmd, 0))
        };
    }
    u.check(
        &user::Cmd {
            meta: row.meta,
            id: id as usize,
            args,
        },
        keys,
    )
}

/// SORT's BY and GET read keys no key spec names: the handler refuses them unless the
/// user may read every key (see `Session::restricted_keys`).
fn set_restricted_keys(server: &mut Server, key: usize, row: &Row<Cmd>, args: &[&[u8]]) {
    let sort = matches!(row.meta.name, "sort" | "sort_ro");
    let uid = server.clients[key].user;
    let Acl { users, keys, .. } = &mut server.acl;
    let restricted = sort
        && row.handler.acl_id != NO_ID
        && users.get(uid).is_some_and(|u| {
            !u.reads_all_keys(
                &user::Cmd {
                    meta: row.meta,
                    id: row.handler.acl_id as usize,
                    args,
                },
                keys,
            )
        });
    server.clients[key].session.restricted_keys = restricted;
}

fn object(row: &Row<Cmd>, args: &[&[u8]], deny: Deny, pos: usize) -> Vec<u8> {
    match deny {
        Deny::Cmd => row.meta.name.as_bytes().to_vec(),
        Deny::Key | Deny::Channel => args.get(pos).map(|a| a.to_vec()).unwrap_or_default(),
        Deny::Auth => args[0].to_vec(),
    }
}

/// EXEC's re-check of a queued command (rules may have changed since it was queued): the
/// error text when it is now denied (Redis's texts), with its ACL LOG entry.
pub fn exec_denied(
    server: &mut Server,
    key: usize,
    row: &'static Row<Cmd>,
    args: &[&[u8]],
) -> Option<String> {
    if server.clients[key].acl_pass {
        return None;
    }
    let Err((deny, pos)) = check(server, key, row, args) else {
        set_restricted_keys(server, key, row, args);
        return None;
    };
    let reason = match deny {
        Deny::Cmd => "no permission to execute the command or subcommand",
        Deny::Key => "no permission to touch the specified keys",
        Deny::Channel => "no permission to access one of the channels used as arguments",
        Deny::Auth => "no permission",
    };
    add_log(
        server,
        key,
        deny,
        Context::Multi,
        object(row, args, deny, pos),
        None,
    );
    Some(format!(
        "NOPERM ACLs rules changed between the moment the transaction was accumulated and the EXEC call. This command is no longer allowed for the following reason: {reason}"
    ))
}

/// `addACLLogEntry`: a new entry, or the bump of a similar recent one (same reason,
/// context, object and user within a minute, among the 10 newest), moved to the front.
pub fn add_log(
    server: &mut Server,
    key: usize,
    reason: Deny,
    context: Context,
    object: Vec<u8>,
    username: Option<&[u8]>,
) {
    let username = match username {
        Some(u) => u.to_vec(),
        None => user_name(server, key).to_vec(),
    };
    let mut cinfo = String::new();
    crate::features::client_cmds::client_info_line(server, key, key, &[], &mut cinfo);
    let now = server.now_ms();
    let log = &mut server.acl.log;
    let found = log.iter().take(10).position(|e| {
        e.reason == reason
            && e.context == context
            && (now - e.ctime_ms).abs() <= LOG_GROUPING_MS
            && e.object == object
            && e.username == username
    });
    if let Some(i) = found {
        let mut e = log.remove(i).expect("found");
        e.count += 1;
        e.ctime_ms = now;
        e.cinfo = cinfo;
        log.push_front(e);
        return;
    }
    log.push_front(LogEntry {
        count: 1,
        reason,
        context,
        object,
        username,
        ctime_ms: now,
        cinfo,
    });
    let max = server.config.compat.acllog_max_len.max(0) as usize;
    server.acl.log.truncate(max);
}

/// The name of client `key`'s user (CLIENT LIST `user=`, ACL WHOAMI).
pub fn user_name(server: &Server, key: usize) -> &[u8] {
    let c = &server.clients[key];
    server
        .acl
        .users
        .get(c.user)
        .map_or(b"default".as_slice(), |u| u.name.as_slice())
}

/// `ACLAuthenticateUser`: on success client `key` is authenticated as `user`; on failure
/// an ACL LOG entry (`auth`, object = the command name as typed) is added.
pub fn authenticate(server: &mut Server, key: usize, user: &[u8], pass: &[u8], cmd: &[u8]) -> bool {
    let ok = server
        .acl
        .get(user)
        .filter(|&id| server.acl.users[id].password_ok(pass));
    match ok {
        Some(id) => {
            let c = &mut server.clients[key];
            c.user = id;
            c.authenticated = true;
            refresh(server, key);
            true
        }
        None => {
            let context = if server.clients[key].multi.active {
                Context::Multi
            } else {
                Context::Toplevel
            };
            add_log(server, key, Deny::Auth, context, cmd.to_vec(), Some(user));
            false
        }
    }
}

/// Closes every client authenticated as `id` and moves them to the default user,
/// unauthenticated (`ACLFreeUserAndKillClients`); the calling client is closed after its
/// reply.
pub fn kill_user_clients(server: &mut Server, id: usize, caller: usize) {
    let keys: Vec<usize> = server
        .clients
        .iter()
        .filter(|(_, c)| c.user == id && !c.is_closing())
        .map(|(k, _)| k)
        .collect();
    for k in keys {
        let c = &mut server.clients[k];
        c.user = Acl::DEFAULT;
        c.authenticated = false;
        c.acl_pass = false;
        if k == caller {
            c.state = crate::client::ConnState::CloseAfterReply;
        } else {
            server.close_client(k);
        }
    }
}

/// `ACLKillPubsubClientsIfNeeded`: after `new` replaces `old`'s rules, subscribers of that
/// user holding a channel or pattern the new rules no longer allow are closed.
pub fn kill_pubsub_clients_if_needed(server: &mut Server, id: usize, new: &User, old: &User) {
    use user::sflag::ALLCHANNELS;
    if new.selectors.iter().any(|s| s.flags & ALLCHANNELS != 0) {
        return;
    }
    let upcoming: Vec<&Vec<u8>> = new.selectors.iter().flat_map(|s| &s.channels).collect();
    // An old `allchannels` selector is never a subset of explicit patterns (Redis 7.0.15's
    // ACLShouldKillPubsubClient): its subscribers must be checked.
    let all_kept = !old.selectors.iter().any(|s| s.flags & ALLCHANNELS != 0)
        && old
            .selectors
            .iter()
            .flat_map(|s| &s.channels)
            .all(|c| upcoming.contains(&c));
    if all_kept {
        return;
    }
    let allowed = |ch: &[u8], literal: bool| {
        upcoming.iter().any(|p| {
            if literal {
                p.as_slice() == ch
            } else {
                engine::glob::glob_match(p, ch, false)
            }
        })
    };
    let mut kill = Vec::new();
    for (k, c) in server.clients.iter() {
        if c.user != id || !c.subs.active() || c.is_closing() {
            continue;
        }
        let bad = c.subs.patterns.iter().any(|p| !allowed(p, true))
            || c.subs.channels.iter().any(|ch| !allowed(ch, false))
            || c.subs.shard.iter().any(|ch| !allowed(ch, false));
        if bad {
            kill.push(k);
        }
    }
    for k in kill {
        server.close_client(k);
    }
}

/// `protected-mode`: refuse a connection from outside the loopback interface while the
/// default user has no password (Redis's `clientAcceptHandler`; local means 127.0.0.0/8 or
/// ::1).
pub fn protected_mode_denies(
    protected: bool,
    default_nopass: bool,
    peer: Option<SocketAddr>,
) -> bool {
    if !protected || !default_nopass {
        return false;
    }
    match peer {
        Some(SocketAddr::V4(a)) => !a.ip().is_loopback(),
        Some(SocketAddr::V6(a)) => !a.ip().is_loopback(),
        None => true,
    }
}

/// What a refused connection is sent (Redis 7.0.15's text).
pub const PROTECTED_MODE_TEXT: &str = "-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user. In this mode connections are only accepted from the loopback interface. If you want to connect from external computers to Redis you may adopt one of the following solutions: 1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from the same host the server is running, however MAKE SURE Redis is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable the protected mode by editing the Redis configuration file, and setting the protected mode option to 'no', and then restarting the server. 3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. 4) Setup a an authentication password for the default user. NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside.\r\n";

/// `ACLMergeSelectorArguments`: a selector split over several arguments (`(~a`, `+get)`)
/// joined with spaces. Err(index of the unmatched opening argument).
pub fn merge_selector_args(args: &[&[u8]]) -> Result<Vec<Vec<u8>>, usize> {
    let mut out = Vec::new();
    let mut open: Option<(usize, Vec<u8>)> = None;
    for (j, op) in args.iter().enumerate() {
        if let Some((_, sel)) = &mut open {
            sel.push(b' ');
            sel.extend_from_slice(op);
            if op.last() == Some(&b')') {
                out.push(open.take().expect("open").1);
            }
            continue;
        }
        if op.first() == Some(&b'(') && op.last() != Some(&b')') {
            open = Some((j, op.to_vec()));
            continue;
        }
        out.push(op.to_vec());
    }
    match open {
        Some((j, _)) => Err(j),
        None => Ok(out),
    }
}

/// `requirepass` changed (CONFIG SET): the default user's password follows it.
pub fn requirepass_changed(server: &mut Server) {
    let pass = server.config.requirepass.clone();
    let all = pubsub_all(server);
    server.acl.set_requirepass(&pass, all);
    refresh_all(server);
}

/// Start-up, as Redis's `initServer` + `ACLLoadUsersAtStartup`: `requirepass`, then the
/// `user` directives, then `aclfile` (never both of the latter).
pub fn load_at_startup(server: &mut Server) -> Result<(), String> {
    let all = pubsub_all(server);
    let pass = server.config.requirepass.clone();
    server.acl.set_requirepass(&pass, all);
    let users = std::mem::take(&mut server.config.users);
    if !server.config.compat.aclfile.is_empty() && !users.is_empty() {
        return Err("Configuring Redis with users defined in redis.conf and at the same setting an ACL file path is invalid. This setup is very likely to lead to configuration errors and security holes, please define either an ACL file or declare users directly in your redis.conf, but not both.".into());
    }
    for def in &users {
        let name = &def[0];
        if user::has_spaces(name) {
            return Err("Spaces not allowed in ACL usernames".into());
        }
        let id = match server.acl.get(name) {
            Some(id) => {
                let _ = server.acl.users[id].apply(b"reset", all);
                id
            }
            None => {
                let id = server.acl.users.insert(User::new(name, all));
                server.acl.by_name.insert(name.clone(), id);
                id
            }
        };
        for rule in &def[1..] {
            if let Err(e) = server.acl.users[id].apply(rule, all) {
                log::warn!(
                    "Error loading ACL rule '{}' for the user named '{}': {}",
                    String::from_utf8_lossy(rule),
                    String::from_utf8_lossy(name),
                    e.text()
                );
                return Err("Critical error while loading ACLs. Exiting.".into());
            }
        }
        if server.acl.users[id].has(uflag::DISABLED) {
            log::info!(
                "The user '{}' is disabled (there is no 'on' modifier in the user description). Make sure this is not a configuration error.",
                String::from_utf8_lossy(name)
            );
        }
    }
    server.config.users = users;
    if !server.config.compat.aclfile.is_empty() {
        let path = server.config.compat.aclfile.clone();
        if let Err(errors) = load_file(server, &path, usize::MAX) {
            return Err(format!(
                "Aborting Redis startup because of ACL errors: {errors}"
            ));
        }
    }
    refresh_all(server);
    Ok(())
}

/// `user` lines of redis.conf, checked as Redis's `ACLAppendUserForLoading` does at load
/// time: Err((index of the offending word in `argv`, message)).
pub fn check_user_directive(
    argv: &[Vec<u8>],
    seen: &[Vec<Vec<u8>>],
) -> Result<Vec<Vec<u8>>, String> {
    if seen.iter().any(|d| d[0] == argv[1]) {
        return Err(format!(
            "Error in user declaration '{}': Duplicate user found. A user can only be defined once in config files",
            String::from_utf8_lossy(&argv[1])
        ));
    }
    // Redis names `argv[j]` for the rule at index j of the rules (so usually the user's
    // name or the word before the culprit), and reports an unmatched parenthesis with a
    // stale errno (ENOENT's text in 7.0.15): both kept, byte for byte.
    let word = |j: usize| String::from_utf8_lossy(&argv[j.min(argv.len() - 1)]).into_owned();
    let refs: Vec<&[u8]> = argv[2..].iter().map(|a| a.as_slice()).collect();
    let merged = merge_selector_args(&refs).map_err(|j| {
        format!(
            "Error in user declaration '{}': {}",
            word(j),
            user::RuleError::UnknownName.text()
        )
    })?;
    let mut fake = User::new(b"__fakeuser:0__", false);
    for (j, op) in merged.iter().enumerate() {
        // An unknown command may come from a module loaded later: Redis checks it at load.
        if let Err(e) = fake.apply(op, false)
            && e != user::RuleError::UnknownName
        {
            return Err(format!(
                "Error in user declaration '{}': {}",
                word(j),
                e.text()
            ));
        }
    }
    let mut def = vec![argv[1].clone()];
    def.extend(merged);
    Ok(def)
}

/// `ACLLoadFromFile`: the whole file is validated into a new set of users; on any error
/// nothing changes and the errors are returned as one line. On success the default user's
/// rules are replaced in place and every other user is replaced (their clients closed).
pub fn load_file(server: &mut Server, path: &[u8], caller: usize) -> Result<(), String> {
    use std::os::unix::ffi::OsStrExt;
    let fname = String::from_utf8_lossy(path).into_owned();
    let text = std::fs::read(std::ffi::OsStr::from_bytes(path)).map_err(|e| {
        format!(
            "Error loading ACLs, opening file '{fname}': {}",
            crate::features::config::strerror(&e)
        )
    })?;
    let all = pubsub_all(server);
    let mut errors = String::new();
    let mut new: BTreeMap<Vec<u8>, User> = BTreeMap::new();
    for (i, line) in text.split(|&b| b == b'\n').enumerate() {
        let linenum = i + 1;
        let line = trim_set(line, b" \t\r\n");
        if line.is_empty() {
            continue;
        }
        // sdssplitlen on single spaces: empty words between double spaces are kept.
        let argv: Vec<&[u8]> = line.split(|&b| b == b' ').collect();
        if argv[0] != b"user" || argv.len() < 2 {
            errors.push_str(&format!(
                "{fname}:{linenum} should start with user keyword followed by the username. "
            ));
            continue;
        }
        if user::has_spaces(argv[1]) {
            errors.push_str(&format!(
                "'{fname}:{linenum}: username '{}' contains invalid characters. ",
                String::from_utf8_lossy(argv[1])
            ));
            continue;
        }
        if new.contains_key(argv[1]) {
            errors.push_str(&format!(
                "WARNING: Duplicate user '{}' found on line {linenum}. ",
                String::from_utf8_lossy(argv[1])
            ));
            continue;
        }
        let mut u = User::new(argv[1], all);
        match merge_selector_args(&argv[2..]) {
            Err(_) => errors.push_str(&format!(
                "{fname}:{linenum}: Unmatched parenthesis in selector definition."
            )),
            Ok(ops) => {
                for op in ops {
                    let op = trim_set(&op, b"\t\r\n");
                    if let Err(e) = u.apply(op, all) {
                        errors.push_str(&format!("{fname}:{linenum}: {}. ", e.text()));
                    }
                }
            }
        }
        new.insert(argv[1].to_vec(), u);
    }
    if !errors.is_empty() {
        errors.push_str(
            "WARNING: ACL errors detected, no change to the previously active ACL rules was performed",
        );
        return Err(errors);
    }
    let new_default = new
        .remove(b"default".as_slice())
        .unwrap_or_else(|| User::new_default(all));
    let d = &mut server.acl.users[Acl::DEFAULT];
    d.flags = new_default.flags;
    d.passwords = new_default.passwords;
    d.selectors = new_default.selectors;
    let old: Vec<(Vec<u8>, usize)> = server
        .acl
        .by_name
        .iter()
        .filter(|(n, _)| n.as_slice() != b"default")
        .map(|(n, &i)| (n.clone(), i))
        .collect();
    for (name, id) in old {
        kill_user_clients(server, id, caller);
        server.acl.users.remove(id);
        server.acl.by_name.remove(&name);
    }
    for (name, u) in new {
        let id = server.acl.users.insert(u);
        server.acl.by_name.insert(name, id);
    }
    refresh_all(server);
    Ok(())
}

fn trim_set<'a>(s: &'a [u8], set: &[u8]) -> &'a [u8] {
    let start = s.iter().position(|b| !set.contains(b)).unwrap_or(s.len());
    let end = s
        .iter()
        .rposition(|b| !set.contains(b))
        .map_or(start, |e| e + 1);
    &s[start..end.max(start)]
}

/// Every user as a `user <name> <rules>` line, in name order (ACL LIST, ACL SAVE; CONFIG
/// REWRITE writes these into redis.conf when there is no `aclfile`, as Redis's
/// `rewriteConfigUserOption`).
pub fn user_lines(server: &Server) -> Vec<Vec<u8>> {
    server
        .acl
        .by_name
        .values()
        .map(|&id| {
            let u = &server.acl.users[id];
            let mut l = b"user ".to_vec();
            l.extend_from_slice(&u.name);
            l.push(b' ');
            l.extend_from_slice(&u.describe());
            l
        })
        .collect()
}

/// `ACLSaveToFile`: every user as a `user` line, written to a temporary file renamed over
/// the ACL file.
pub fn save_file(server: &Server, path: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::ffi::OsStrExt;
    let mut text = Vec::new();
    for line in user_lines(server) {
        text.extend_from_slice(&line);
        text.push(b'\n');
    }
    let target = std::path::Path::new(std::ffi::OsStr::from_bytes(path));
    let mut tmp = path.to_vec();
    tmp.extend_from_slice(
        format!(".tmp-{}-{}", std::process::id(), server.now_ms() as i32).as_bytes(),
    );
    let tmp = std::path::PathBuf::from(std::ffi::OsStr::from_bytes(&tmp));
    let res = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(&text)?;
        drop(f);
        std::fs::rename(&tmp, target)
    })();
    if let Err(e) = &res {
        log::warn!("Writing ACL file for ACL SAVE: {e}");
        let _ = std::fs::remove_file(&tmp);
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

    #[test]
    fn protected_mode_decision() {
        let at = |ip: IpAddr| Some(SocketAddr::new(ip, 5000));
        let outside = at(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 2)));
        assert!(protected_mode_denies(true, true, outside));
        assert!(!protected_mode_denies(false, true, outside));
        assert!(!protected_mode_denies(true, false, outside));
        assert!(!protected_mode_denies(
            true,
            true,
            at(IpAddr::V4(Ipv4Addr::new(127, 3, 4, 5)))
        ));
        assert!(!protected_mode_denies(
            true,
            true,
            at(IpAddr::V6(Ipv6Addr::LOCALHOST))
        ));
        assert!(protected_mode_denies(
            true,
            true,
            at(IpAddr::V6("2001:db8::1".parse().unwrap()))
        ));
    }

    #[test]
    fn selector_arguments_merge() {
        let m = merge_selector_args(&[b"on", b"(~a", b"+get)", b"(+set)"]).unwrap();
        assert_eq!(
            m,
            [b"on".to_vec(), b"(~a +get)".to_vec(), b"(+set)".to_vec()]
        );
        assert_eq!(merge_selector_args(&[b"on", b"(~a", b"+get"]), Err(1));
    }
}
