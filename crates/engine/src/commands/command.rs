//! The COMMAND command: introspection of the command table.
//!
//! Everything here is a view of the generated metadata ([`super::table`]); nothing is
//! hand-written per command, so COMMAND INFO/DOCS/COUNT/LIST always describe exactly the
//! commands this server has. Replies are written straight from static trees: no
//! allocation except COMMAND GETKEYS's key list.
//!
//! # Format
//! `COMMAND` | `COMMAND COUNT` | `COMMAND INFO [name ...]` | `COMMAND DOCS [name ...]` |
//! `COMMAND LIST [FILTERBY MODULE m|ACLCAT c|PATTERN p]` | `COMMAND GETKEYS cmd arg ...` |
//! `COMMAND GETKEYSANDFLAGS cmd arg ...` | `COMMAND HELP`

use super::args::{Args, is_kw};
use super::table::{self, CommandMeta, KeyRef, acl, flags};
use super::{CmdFn, Ctx};
use crate::error::{CmdError, CmdResult};
use crate::glob::glob_match;
use crate::util::reply_help;

pub const COMMANDS: &[(&str, CmdFn)] = &[("command", command)];

/// COMMAND HELP's lines, as Redis 7.0.15 prints them.
const HELP: &[&str] = &[
    "(no subcommand)",
    "    Return details about all Redis commands.",
    "COUNT",
    "    Return the total number of commands in this Redis server.",
    "LIST",
    "    Return a list of all commands in this Redis server.",
    "INFO [<command-name> ...]",
    "    Return details about multiple Redis commands.",
    "    If no command names are given, documentation details for all",
    "    commands are returned.",
    "DOCS [<command-name> ...]",
    "    Return documentation details about multiple Redis commands.",
    "    If no command names are given, documentation details for all",
    "    commands are returned.",
    "GETKEYS <full-command>",
    "    Return the keys from a full Redis command.",
    "GETKEYSANDFLAGS <full-command>",
    "    Return the keys and the access flags from a full Redis command.",
];

/// `COMMAND [subcommand ...]`.
fn command(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let Some(&sub_name) = args.get(1) else {
        info_all(ctx);
        return Ok(());
    };
    // The gate has already resolved the subcommand and checked its arity; resolving again
    // is cheap and keeps this handler safe when called directly (tests, MULTI replay).
    let sub = table::meta_ci(b"command")
        .and_then(|c| table::meta_sub(c, sub_name))
        .ok_or_else(|| CmdError::unknown_subcommand("command", sub_name))?;
    if !sub.arity_ok(args.len()) {
        return Err(CmdError::WrongArity(sub.name.to_owned()));
    }
    match sub.name {
        "command|count" => ctx.out.int(table::all().len() as i64),
        "command|info" if args.len() == 2 => info_all(ctx),
        "command|info" => {
            ctx.out.array(args.len() - 2);
            for name in &args[2..] {
                match table::lookup_full_name(name) {
                    Some(m) => m.info.write(&mut ctx.out),
                    None => ctx.out.null(),
                }
            }
        }
        "command|docs" if args.len() == 2 => {
            ctx.out.map(table::all().len());
            for m in table::all() {
                write_docs(ctx, m);
            }
        }
        "command|docs" => {
            // Unknown names are skipped, so count first (the reply length leads).
            let found = || args[2..].iter().filter_map(|n| table::lookup_full_name(n));
            ctx.out.map(found().count());
            for m in found() {
                write_docs(ctx, m);
            }
        }
        "command|list" => list(ctx, args)?,
        "command|getkeys" => getkeys(ctx, &args[2..], false)?,
        "command|getkeysandflags" => getkeys(ctx, &args[2..], true)?,
        "command|help" => reply_help(&mut ctx.out, args[0], HELP),
        _ => return Err(CmdError::unknown_subcommand("command", sub_name)),
    }
    Ok(())
}

fn info_all(ctx: &mut Ctx<'_>) {
    ctx.out.array(table::all().len());
    for m in table::all() {
        m.info.write(&mut ctx.out);
    }
}

fn write_docs(ctx: &mut Ctx<'_>, m: &CommandMeta) {
    ctx.out.bulk(m.name.as_bytes());
    m.docs.write(&mut ctx.out);
}

/// COMMAND LIST's filter.
enum Filter<'a> {
    None,
    /// We load no modules, so this matches nothing.
    Module,
    /// `None` for an unknown category, which matches nothing.
    AclCat(Option<u64>),
    Pattern(&'a [u8]),
}

impl Filter<'_> {
    fn keeps(&self, m: &CommandMeta) -> bool {
        match *self {
            Filter::None => true,
            Filter::Module => false,
            Filter::AclCat(cat) => cat.is_some_and(|c| m.acl_categories & c != 0),
            Filter::Pattern(p) => glob_match(p, m.name.as_bytes(), true),
        }
    }
}

/// `COMMAND LIST [FILTERBY MODULE m|ACLCAT c|PATTERN p]`: every full name (subcommands
/// included) that passes the filter.
fn list(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let mut filter = Filter::None;
    let mut opts = Args::new(args, 2);
    while !opts.is_empty() {
        // Redis accepts FILTERBY only with exactly two arguments after it.
        if !(opts.remaining() == 3 && opts.eat("filterby")) {
            return Err(CmdError::Syntax);
        }
        let (kind, arg) = (opts.value()?, opts.value()?);
        filter = if is_kw(kind, "module") {
            Filter::Module
        } else if is_kw(kind, "aclcat") {
            Filter::AclCat(acl::by_name(arg))
        } else if is_kw(kind, "pattern") {
            Filter::Pattern(arg)
        } else {
            return Err(CmdError::Syntax);
        };
    }
    let all = || {
        table::all()
            .iter()
            .flat_map(|m| std::iter::once(m).chain(m.subcommands))
    };
    ctx.out.array(all().filter(|m| filter.keeps(m)).count());
    for m in all().filter(|m| filter.keeps(m)) {
        ctx.out.bulk(m.name.as_bytes());
    }
    Ok(())
}

/// `COMMAND GETKEYS|GETKEYSANDFLAGS cmd arg ...`, checked in Redis's order.
fn getkeys(ctx: &mut Ctx<'_>, target: &[&[u8]], with_flags: bool) -> CmdResult {
    let cmd =
        table::lookup_argv(target).ok_or(CmdError::Static("ERR Invalid command specified"))?;
    if !cmd.has_keys() {
        return Err(CmdError::Static("ERR The command has no key arguments"));
    }
    if !cmd.arity_ok(target.len()) {
        return Err(CmdError::Static(
            "ERR Invalid number of arguments specified for command",
        ));
    }
    let mut keys: Vec<KeyRef> = Vec::new();
    if cmd.keys(target, &mut keys) == 0 {
        if cmd.flags & flags::NO_MANDATORY_KEYS != 0 {
            ctx.out.array(0);
            return Ok(());
        }
        return Err(CmdError::Static(
            "ERR Invalid arguments specified for command",
        ));
    }
    ctx.out.array(keys.len());
    for k in &keys {
        if with_flags {
            ctx.out.array(2);
            ctx.out.bulk(target[k.pos]);
            ctx.out.set(k.flags.len());
            for f in k.flags {
                ctx.out.simple(f.as_bytes());
            }
        } else {
            ctx.out.bulk(target[k.pos]);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::testkit::Harness;
    use super::*;
    use resp::Proto;

    fn run(h: &mut Harness, args: &[&str]) -> Vec<u8> {
        let a: Vec<&[u8]> = args.iter().map(|s| s.as_bytes()).collect();
        h.run_bytes(&a)
    }

    /// Captured from redis-server 7.0.15: `COMMAND INFO get`.
    const INFO_GET_RESP2: &[u8] = b"*1\r\n*10\r\n$3\r\nget\r\n:2\r\n*2\r\n+readonly\r\n+fast\r\n:1\r\n:1\r\n:1\r\n*3\r\n+@read\r\n+@string\r\n+@fast\r\n*0\r\n*1\r\n*6\r\n$5\r\nflags\r\n*2\r\n+RO\r\n+access\r\n$12\r\nbegin_search\r\n*4\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n*2\r\n$5\r\nindex\r\n:1\r\n$9\r\nfind_keys\r\n*4\r\n$4\r\ntype\r\n$5\r\nrange\r\n$4\r\nspec\r\n*6\r\n$7\r\nlastkey\r\n:0\r\n$7\r\nkeystep\r\n:1\r\n$5\r\nlimit\r\n:0\r\n*0\r\n";
    const INFO_GET_RESP3: &[u8] = b"*1\r\n*10\r\n$3\r\nget\r\n:2\r\n~2\r\n+readonly\r\n+fast\r\n:1\r\n:1\r\n:1\r\n~3\r\n+@read\r\n+@string\r\n+@fast\r\n~0\r\n~1\r\n%3\r\n$5\r\nflags\r\n~2\r\n+RO\r\n+access\r\n$12\r\nbegin_search\r\n%2\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n%1\r\n$5\r\nindex\r\n:1\r\n$9\r\nfind_keys\r\n%2\r\n$4\r\ntype\r\n$5\r\nrange\r\n$4\r\nspec\r\n%3\r\n$7\r\nlastkey\r\n:0\r\n$7\r\nkeystep\r\n:1\r\n$5\r\nlimit\r\n:0\r\n~0\r\n";
    /// `COMMAND DOCS get`.
    const DOCS_GET_RESP2: &[u8] = b"*2\r\n$3\r\nget\r\n*10\r\n$7\r\nsummary\r\n$22\r\nGet the value of a key\r\n$5\r\nsince\r\n$5\r\n1.0.0\r\n$5\r\ngroup\r\n$6\r\nstring\r\n$10\r\ncomplexity\r\n$4\r\nO(1)\r\n$9\r\narguments\r\n*1\r\n*6\r\n$4\r\nname\r\n$3\r\nkey\r\n$4\r\ntype\r\n$3\r\nkey\r\n$14\r\nkey_spec_index\r\n:0\r\n";
    const DOCS_GET_RESP3: &[u8] = b"%1\r\n$3\r\nget\r\n%5\r\n$7\r\nsummary\r\n$22\r\nGet the value of a key\r\n$5\r\nsince\r\n$5\r\n1.0.0\r\n$5\r\ngroup\r\n$6\r\nstring\r\n$10\r\ncomplexity\r\n$4\r\nO(1)\r\n$9\r\narguments\r\n*1\r\n%3\r\n$4\r\nname\r\n$3\r\nkey\r\n$4\r\ntype\r\n$3\r\nkey\r\n$14\r\nkey_spec_index\r\n:0\r\n";
    /// `COMMAND GETKEYSANDFLAGS lcs a b`.
    const KEYFLAGS_LCS_RESP2: &[u8] =
        b"*2\r\n*2\r\n$1\r\na\r\n*2\r\n+RO\r\n+access\r\n*2\r\n$1\r\nb\r\n*2\r\n+RO\r\n+access\r\n";
    const KEYFLAGS_LCS_RESP3: &[u8] =
        b"*2\r\n*2\r\n$1\r\na\r\n~2\r\n+RO\r\n+access\r\n*2\r\n$1\r\nb\r\n~2\r\n+RO\r\n+access\r\n";

    #[test]
    fn info_and_docs_match_redis_bytes_in_both_protocols() {
        let mut h = Harness::new();
        assert_eq!(run(&mut h, &["COMMAND", "INFO", "get"]), INFO_GET_RESP2);
        assert_eq!(run(&mut h, &["command", "docs", "GET"]), DOCS_GET_RESP2);
        assert_eq!(
            run(&mut h, &["command", "getkeysandflags", "lcs", "a", "b"]),
            KEYFLAGS_LCS_RESP2
        );
        h.session.proto = Proto::Resp3;
        assert_eq!(run(&mut h, &["COMMAND", "INFO", "get"]), INFO_GET_RESP3);
        assert_eq!(run(&mut h, &["command", "docs", "GET"]), DOCS_GET_RESP3);
        assert_eq!(
            run(&mut h, &["command", "getkeysandflags", "lcs", "a", "b"]),
            KEYFLAGS_LCS_RESP3
        );
    }

    #[test]
    fn info_unknown_is_null_and_subcommands_resolve() {
        let mut h = Harness::new();
        let r = h.run(&[
            "COMMAND",
            "INFO",
            "nosuch",
            "OBJECT|Encoding",
            "object|nosuch",
            "get|x",
        ]);
        assert!(
            r.starts_with("*4\r\n$-1\r\n*10\r\n$15\r\nobject|encoding\r\n:3\r\n"),
            "{r}"
        );
        assert!(r.ends_with("$-1\r\n$-1\r\n"), "{r}");
        h.session.proto = Proto::Resp3;
        assert!(
            h.run(&["COMMAND", "INFO", "nosuch"])
                .starts_with("*1\r\n_\r\n")
        );
        // Three levels is never a command.
        assert_eq!(
            h.run(&["COMMAND", "INFO", "object|encoding|x"]),
            "*1\r\n_\r\n"
        );
    }

    #[test]
    fn container_info_lists_only_our_subcommands() {
        let mut h = Harness::new();
        let r = h.run(&["COMMAND", "INFO", "object"]);
        for sub in ["encoding", "freq", "idletime", "refcount", "help"] {
            assert!(
                r.contains(&format!("object|{sub}\r\n")),
                "{sub} missing: {r}"
            );
        }
        let r = h.run(&["COMMAND", "INFO", "client"]);
        assert!(
            !r.contains("client|tracking\r\n"),
            "we do not implement CLIENT TRACKING: {r}"
        );
    }

    #[test]
    fn count_and_all_agree() {
        let mut h = Harness::new();
        let n = table::all().len();
        assert_eq!(h.run(&["COMMAND", "COUNT"]), format!(":{n}\r\n"));
        assert!(h.run(&["COMMAND"]).starts_with(&format!("*{n}\r\n*10\r\n")));
        assert!(
            h.run(&["COMMAND", "INFO"])
                .starts_with(&format!("*{n}\r\n*10\r\n"))
        );
        assert!(
            h.run(&["COMMAND", "DOCS"])
                .starts_with(&format!("*{}\r\n$3\r\nget\r\n", 2 * n))
        );
        h.session.proto = Proto::Resp3;
        assert!(
            h.run(&["COMMAND", "DOCS"])
                .starts_with(&format!("%{n}\r\n"))
        );
    }

    #[test]
    fn docs_skip_unknown_names() {
        let mut h = Harness::new();
        let r = h.run(&["COMMAND", "DOCS", "nosuch", "object|encoding", "get|x"]);
        assert!(
            r.starts_with("*2\r\n$15\r\nobject|encoding\r\n*10\r\n$7\r\nsummary\r\n"),
            "{r}"
        );
        assert_eq!(h.run(&["COMMAND", "DOCS", "nosuch"]), "*0\r\n");
    }

    #[test]
    fn list_and_filters() {
        let mut h = Harness::new();
        let all = h.run(&["COMMAND", "LIST"]);
        let total: usize = table::all().iter().map(|m| 1 + m.subcommands.len()).sum();
        assert!(all.starts_with(&format!("*{total}\r\n")), "{all}");
        assert!(all.contains("$15\r\nobject|encoding\r\n") && all.contains("$3\r\nget\r\n"));
        assert_eq!(
            h.run(&["COMMAND", "LIST", "FILTERBY", "MODULE", "x"]),
            "*0\r\n"
        );
        assert_eq!(
            h.run(&["COMMAND", "LIST", "FILTERBY", "aclcat", "nope"]),
            "*0\r\n"
        );
        let conn = h.run(&["COMMAND", "LIST", "filterby", "ACLCAT", "connection"]);
        assert!(conn.contains("$4\r\nping\r\n") && conn.contains("$13\r\ncommand|count\r\n"));
        assert!(!conn.contains("$3\r\nget\r\n"));
        for bad in [
            &["COMMAND", "LIST", "foo"][..],
            &["COMMAND", "LIST", "FILTERBY"],
            &["COMMAND", "LIST", "FILTERBY", "foo", "x"],
            &["COMMAND", "LIST", "FILTERBY", "aclcat", "x", "y"],
        ] {
            assert_eq!(h.run(bad), "-ERR syntax error\r\n", "{bad:?}");
        }
    }

    #[test]
    fn list_pattern_uses_glob() {
        let mut h = Harness::new();
        assert_eq!(
            h.run(&["COMMAND", "LIST", "FILTERBY", "PATTERN", "OBJECT|ENC*"]),
            "*1\r\n$15\r\nobject|encoding\r\n"
        );
    }

    #[test]
    fn getkeys() {
        let mut h = Harness::new();
        let cases: &[(&[&str], &str)] = &[
            (&["set", "a", "b"], "*1\r\n$1\r\na\r\n"),
            (
                &["MSET", "a", "b", "c", "d"],
                "*2\r\n$1\r\na\r\n$1\r\nc\r\n",
            ),
            // MSET's range ignores a missing last value, as Redis.
            (&["mset", "a", "b", "c"], "*2\r\n$1\r\na\r\n$1\r\nc\r\n"),
            (&["object", "encoding", "k"], "*1\r\n$1\r\nk\r\n"),
            (&["lcs", "a", "b"], "*2\r\n$1\r\na\r\n$1\r\nb\r\n"),
            (
                &["del", "a", "b", "c"],
                "*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n",
            ),
            (&["foo", "a"], "-ERR Invalid command specified\r\n"),
            (
                &["object", "foo", "k"],
                "-ERR Invalid command specified\r\n",
            ),
            (
                &["get", "a", "b"],
                "-ERR Invalid number of arguments specified for command\r\n",
            ),
            (
                &["object", "help"],
                "-ERR The command has no key arguments\r\n",
            ),
            (
                &["config", "get", "x"],
                "-ERR The command has no key arguments\r\n",
            ),
            (
                &["command", "info", "get"],
                "-ERR The command has no key arguments\r\n",
            ),
        ];
        for (target, want) in cases {
            let mut args = vec!["COMMAND", "GETKEYS"];
            args.extend_from_slice(target);
            assert_eq!(h.run(&args), *want, "{target:?}");
        }
        assert_eq!(
            h.run(&["COMMAND", "GETKEYS", "get"]),
            "-ERR wrong number of arguments for 'command|getkeys' command\r\n"
        );
    }

    #[test]
    fn subcommand_errors_and_help() {
        let mut h = Harness::new();
        assert_eq!(
            h.run(&["COMMAND", "foo"]),
            "-ERR unknown subcommand 'foo'. Try COMMAND HELP.\r\n"
        );
        assert_eq!(
            h.run(&["COMMAND", "COUNT", "x"]),
            "-ERR wrong number of arguments for 'command|count' command\r\n"
        );
        let help = h.run(&["command", "help"]);
        assert!(help.starts_with(
            "*21\r\n+COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n+(no subcommand)\r\n"
        ));
        assert!(
            help.ends_with("+HELP\r\n+    Prints this help.\r\n"),
            "{help}"
        );
    }

    /// Every row in the metadata is served by someone, and every handler has a row: a
    /// command added to one side only is caught here rather than by a client.
    #[test]
    fn every_row_has_a_handler_and_every_handler_a_row() {
        // Implemented in the server crate (they need the connection or other subsystems).
        const SERVER_IMPLEMENTED: &[&str] = &[
            "slowlog",
            "eval",
            "evalsha",
            "eval_ro",
            "evalsha_ro",
            "script",
            "fcall",
            "fcall_ro",
            "function",
            "latency",
            "monitor",
            "lolwut",
            "module",
            "quit",
            "acl",
            "auth",
            "reset",
            "hello",
            "client",
            "config",
            "info",
            "shutdown",
            "multi",
            "exec",
            "discard",
            "watch",
            "unwatch",
            "subscribe",
            "unsubscribe",
            "psubscribe",
            "punsubscribe",
            "ssubscribe",
            "sunsubscribe",
            "publish",
            "spublish",
            "pubsub",
            "save",
            "bgsave",
            "lastsave",
            "dump",
            "restore",
            "bgrewriteaof",
            "debug",
            "memory",
            "sync",
            "psync",
            "replconf",
            "role",
            "replicaof",
            "slaveof",
            "wait",
            "failover",
        ];
        let handlers: Vec<&str> = super::super::engine_handlers().map(|(n, _)| n).collect();
        let mut problems = Vec::new();
        for m in table::all() {
            let engine = handlers.contains(&m.name);
            let server = SERVER_IMPLEMENTED.contains(&m.name);
            if !engine && !server {
                problems.push(format!(
                    "`{}` has metadata but no handler: register it in a family's COMMANDS \
                     (or list it as server-implemented here)",
                    m.name
                ));
            }
            if engine && server {
                problems.push(format!(
                    "`{}` is both an engine and a server command",
                    m.name
                ));
            }
        }
        for name in handlers.iter().chain(SERVER_IMPLEMENTED) {
            if table::meta(name).is_none() {
                problems.push(format!(
                    "`{name}` has a handler but no metadata: add it to the COMMANDS list in \
                     scripts/gen_commands.py and rerun the script"
                ));
            }
        }
        let mut seen = std::collections::HashSet::new();
        for name in &handlers {
            if !seen.insert(name) {
                problems.push(format!("`{name}` is registered twice"));
            }
        }
        assert!(
            problems.is_empty(),
            "command table mismatch:\n{}",
            problems.join("\n")
        );
    }
}
