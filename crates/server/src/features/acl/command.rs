//! The ACL command (Redis 7.0.15's `aclCommand`): SETUSER, GETUSER, DELUSER, LIST, USERS,
//! WHOAMI, CAT, LOG, GENPASS, DRYRUN, LOAD, SAVE, HELP. Replies and error texts as Redis's.

use super::user::{self, Deny, User, uflag};
use super::{Context, universe};
use crate::dispatch::gate::{SrvFn, reply};
use crate::server::Server;
use engine::commands::args::is_kw;
use engine::commands::table::acl as cat;
use engine::util::lossy_c_str;
use engine::{CmdError, CmdResult};

pub const COMMANDS: &[(&str, SrvFn)] = &[("acl", acl)];

const HELP: &[&str] = &[
    "CAT [<category>]",
    "    List all commands that belong to <category>, or all command categories",
    "    when no category is specified.",
    "DELUSER <username> [<username> ...]",
    "    Delete a list of users.",
    "DRYRUN <username> <command> [<arg> ...]",
    "    Returns whether the user can execute the given command without executing the command.",
    "GETUSER <username>",
    "    Get the user's details.",
    "GENPASS [<bits>]",
    "    Generate a secure 256-bit user password. The optional `bits` argument can",
    "    be used to specify a different size.",
    "LIST",
    "    Show users details in config file format.",
    "LOAD",
    "    Reload users from the ACL file.",
    "LOG [<count> | RESET]",
    "    Show the ACL log entries.",
    "SAVE",
    "    Save the current config to the ACL file.",
    "SETUSER <username> <attribute> [<attribute> ...]",
    "    Create or modify a user with the specified attributes.",
    "USERS",
    "    List all the registered usernames.",
    "WHOAMI",
    "    Return the current connection username.",
];

fn acl(server: &mut Server, key: usize, args: &[&[u8]]) -> CmdResult {
    let sub = args[1];
    let argc = args.len();
    if is_kw(sub, "setuser") && argc >= 3 {
        setuser(server, key, args)
    } else if is_kw(sub, "deluser") && argc >= 3 {
        deluser(server, key, args)
    } else if is_kw(sub, "getuser") && argc == 3 {
        getuser(server, key, args[2]);
        Ok(())
    } else if (is_kw(sub, "list") || is_kw(sub, "users")) && argc == 2 {
        let lines: Vec<Vec<u8>> = if is_kw(sub, "users") {
            server.acl.by_name.keys().cloned().collect()
        } else {
            super::user_lines(server)
        };
        let mut r = reply(server, key);
        r.array(lines.len());
        lines.iter().for_each(|l| r.bulk(l));
        Ok(())
    } else if is_kw(sub, "whoami") && argc == 2 {
        let name = super::user_name(server, key).to_vec();
        reply(server, key).bulk(&name);
        Ok(())
    } else if server.config.compat.aclfile.is_empty() && (is_kw(sub, "load") || is_kw(sub, "save"))
    {
        Err(CmdError::Static(
            "ERR This Redis instance is not configured to use an ACL file. You may want to specify users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis configuration file set) in order to store users in the Redis configuration.",
        ))
    } else if is_kw(sub, "load") && argc == 2 {
        let path = server.config.compat.aclfile.clone();
        super::load_file(server, &path, key).map_err(|e| CmdError::Owned(format!("ERR {e}")))?;
        reply(server, key).ok();
        Ok(())
    } else if is_kw(sub, "save") && argc == 2 {
        let path = server.config.compat.aclfile.clone();
        super::save_file(server, &path).map_err(|_| {
            CmdError::Static(
                "ERR There was an error trying to save the ACLs. Please check the server logs for more information",
            )
        })?;
        reply(server, key).ok();
        Ok(())
    } else if is_kw(sub, "cat") && argc == 2 {
        let mut r = reply(server, key);
        r.array(cat::NAMES.len());
        cat::NAMES.iter().for_each(|(n, _)| r.bulk(n.as_bytes()));
        Ok(())
    } else if is_kw(sub, "cat") && argc == 3 {
        let Some(flag) = cat::by_name(c_str(args[2])) else {
            return Err(CmdError::Owned(format!(
                "ERR Unknown category '{}'",
                lossy_trunc_c(args[2], 128)
            )));
        };
        // Redis walks each container's subcommands right after it.
        let mut names = Vec::new();
        for id in universe::top_level() {
            let c = &universe::COMMANDS[id];
            if c.categories & flag != 0 {
                names.push(c.name);
            }
            for &s in c.subs {
                let s = &universe::COMMANDS[s as usize];
                if s.categories & flag != 0 {
                    names.push(s.name);
                }
            }
        }
        let mut r = reply(server, key);
        r.array(names.len());
        names.iter().for_each(|n| r.bulk(n.as_bytes()));
        Ok(())
    } else if is_kw(sub, "genpass") && (argc == 2 || argc == 3) {
        let bits = if argc == 3 {
            resp::num::parse_i64(args[2]).ok_or(CmdError::NotInteger)?
        } else {
            256
        };
        if bits <= 0 || bits > 4096 {
            return Err(CmdError::Static(
                "ERR ACL GENPASS argument must be the number of bits for the output password, a positive number up to 4096",
            ));
        }
        let chars = ((bits + 3) / 4) as usize;
        let pass =
            random_hex(chars).map_err(|_| CmdError::Static("ERR cannot read /dev/urandom"))?;
        reply(server, key).bulk(&pass);
        Ok(())
    } else if is_kw(sub, "log") && (argc == 2 || argc == 3) {
        log(server, key, args)
    } else if is_kw(sub, "dryrun") && argc >= 4 {
        dryrun(server, key, args)
    } else if is_kw(sub, "help") && argc == 2 {
        crate::features::client_cmds::reply_help(
            server,
            key,
            "ACL <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            HELP,
        );
        Ok(())
    } else {
        Err(CmdError::unknown_subcommand("acl", sub))
    }
}

fn c_str(s: &[u8]) -> &[u8] {
    &s[..memchr::memchr(0, s).unwrap_or(s.len())]
}

fn lossy_trunc_c(s: &[u8], n: usize) -> String {
    let s = c_str(s);
    String::from_utf8_lossy(&s[..s.len().min(n)]).into_owned()
}

/// `getRandomHexChars` from the kernel's CSPRNG.
fn random_hex(chars: usize) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut raw = vec![0u8; chars];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut raw)?;
    const HEX: &[u8; 16] = b"0123456789abcdef";
    Ok(raw.iter().map(|b| HEX[(b & 15) as usize]).collect())
}

/// ACL SETUSER username rule...: all rules are applied to a copy first; on any error
/// nothing changes.
fn setuser(server: &mut Server, key: usize, args: &[&[u8]]) -> CmdResult {
    let name = args[2];
    if user::has_spaces(name) {
        return Err(CmdError::Static(
            "ERR Usernames can't contain spaces or null characters",
        ));
    }
    let ops = super::merge_selector_args(&args[3..]).map_err(|j| {
        CmdError::Owned(format!(
            "ERR Unmatched parenthesis in acl selector starting at '{}'.",
            lossy_c_str(args[3 + j])
        ))
    })?;
    let all = server.config.compat.acl_pubsub_default == 1;
    let existing = server.acl.get(name);
    let mut temp = match existing {
        Some(id) => server.acl.users[id].clone(),
        None => User::new(name, all),
    };
    for op in &ops {
        if let Err(e) = temp.apply(op, all) {
            return Err(CmdError::Owned(format!(
                "ERR Error in ACL SETUSER modifier '{}': {}",
                lossy_c_str(op),
                e.text()
            )));
        }
    }
    match existing {
        Some(id) => {
            let old = std::mem::replace(&mut server.acl.users[id], temp);
            let new = server.acl.users[id].clone();
            super::kill_pubsub_clients_if_needed(server, id, &new, &old);
        }
        None => {
            let id = server.acl.users.insert(temp);
            server.acl.by_name.insert(name.to_vec(), id);
        }
    }
    super::refresh_all(server);
    reply(server, key).ok();
    Ok(())
}

fn deluser(server: &mut Server, key: usize, args: &[&[u8]]) -> CmdResult {
    if args[2..].iter().any(|n| c_str(n) == b"default") {
        return Err(CmdError::Static("ERR The 'default' user cannot be removed"));
    }
    let mut deleted = 0;
    for name in &args[2..] {
        if let Some(id) = server.acl.by_name.remove(*name) {
            super::kill_user_clients(server, id, key);
            server.acl.users.remove(id);
            deleted += 1;
        }
    }
    super::refresh_all(server);
    reply(server, key).int(deleted);
    Ok(())
}

/// GETUSER: flags, passwords, the root selector's commands/keys/channels, then the other
/// selectors; a null reply for an unknown user.
fn getuser(server: &mut Server, key: usize, name: &[u8]) {
    let Some(id) = server.acl.get(name) else {
        reply(server, key).null();
        return;
    };
    let u = server.acl.users[id].clone();
    let mut r = reply(server, key);
    r.map(6);
    r.bulk(b"flags");
    let flags: Vec<&str> = uflag::NAMES
        .iter()
        .filter(|(_, f)| u.has(*f))
        .map(|(n, _)| *n)
        .collect();
    r.set(flags.len());
    flags.iter().for_each(|f| r.bulk(f.as_bytes()));
    r.bulk(b"passwords");
    r.array(u.passwords.len());
    u.passwords.iter().for_each(|p| r.bulk(p));
    selector_fields(&mut r, u.root());
    r.bulk(b"selectors");
    r.array(u.selectors.len() - 1);
    for s in &u.selectors[1..] {
        r.map(3);
        selector_fields(&mut r, s);
    }
}

fn selector_fields(r: &mut resp::Reply<'_>, s: &user::Selector) {
    r.bulk(b"commands");
    r.bulk(&user::describe_commands(s));
    r.bulk(b"keys");
    r.bulk(&user::keys_field(s));
    r.bulk(b"channels");
    r.bulk(&user::channels_field(s));
}

/// ACL LOG [count | RESET]
fn log(server: &mut Server, key: usize, args: &[&[u8]]) -> CmdResult {
    let mut count = 10i64;
    if args.len() == 3 {
        if is_kw(args[2], "reset") {
            server.acl.log.clear();
            reply(server, key).ok();
            return Ok(());
        }
        count = resp::num::parse_i64(args[2]).ok_or(CmdError::NotInteger)?;
        count = count.max(0);
    }
    let now = server.now_ms();
    let n = (count as usize).min(server.acl.log.len());
    let entries: Vec<super::LogEntry> = server.acl.log.iter().take(n).cloned().collect();
    let mut r = reply(server, key);
    r.array(n);
    for e in entries {
        r.map(7);
        r.bulk(b"count");
        r.int(e.count as i64);
        r.bulk(b"reason");
        r.bulk(match e.reason {
            Deny::Cmd => b"command".as_slice(),
            Deny::Key => b"key",
            Deny::Channel => b"channel",
            Deny::Auth => b"auth",
        });
        r.bulk(b"context");
        r.bulk(match e.context {
            Context::Toplevel => b"toplevel".as_slice(),
            Context::Multi => b"multi",
            Context::Lua => b"lua",
        });
        r.bulk(b"object");
        r.bulk(&e.object);
        r.bulk(b"username");
        r.bulk(&e.username);
        r.bulk(b"age-seconds");
        r.double((now - e.ctime_ms) as f64 / 1000.0);
        r.bulk(b"client-info");
        r.bulk(e.cinfo.as_bytes());
    }
    Ok(())
}

/// ACL DRYRUN username command [arg ...]: OK, or a bulk string saying why not.
fn dryrun(server: &mut Server, key: usize, args: &[&[u8]]) -> CmdResult {
    let Some(id) = server.acl.get(args[2]) else {
        return Err(CmdError::Owned(format!(
            "ERR User '{}' not found",
            lossy_c_str(args[2])
        )));
    };
    let cmd_args = &args[3..];
    let table = server.table;
    let row = table.lookup(cmd_args[0]).and_then(|row| {
        if row.meta.subcommands.is_empty() || cmd_args.len() < 2 {
            Some(row)
        } else {
            crate::dispatch::gate::lookup_sub(table, row.meta.name, cmd_args[1])
        }
    });
    let Some(row) = row else {
        return Err(CmdError::Owned(format!(
            "ERR Command '{}' not found",
            lossy_c_str(cmd_args[0])
        )));
    };
    if !row.meta.arity_ok(cmd_args.len()) {
        return Err(CmdError::WrongArity(row.meta.name.to_string()));
    }
    let super::Acl { users, keys, .. } = &mut server.acl;
    match super::check_user(&users[id], row, cmd_args, keys) {
        Ok(()) => reply(server, key).ok(),
        Err((deny, pos)) => {
            let text = match deny {
                Deny::Cmd => format!(
                    "This user has no permissions to run the '{}' command",
                    row.meta.name
                ),
                Deny::Key => format!(
                    "This user has no permissions to access the '{}' key",
                    String::from_utf8_lossy(cmd_args[pos])
                ),
                _ => format!(
                    "This user has no permissions to access the '{}' channel",
                    String::from_utf8_lossy(cmd_args[pos])
                ),
            };
            reply(server, key).bulk(text.as_bytes());
        }
    }
    Ok(())
}
