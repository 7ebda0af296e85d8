//! The CONFIG command: GET (patterns), SET (atomic, with rollback and apply hooks),
//! RESETSTAT, REWRITE, HELP.

use engine::CmdError;
use resp::Reply;

use super::*;
use flags::{HIDDEN, IMMUTABLE, PROTECTED};

/// `CONFIG GET pattern [pattern ...]`: `patterns` are the arguments after GET. Replies a map
/// (flat array in RESP2) of name → value without duplicates; a pattern without glob
/// characters is looked up exactly (hidden configs too) and answered under the name as
/// given, as Redis does.
pub fn config_get(cfg: &Config, patterns: &[&[u8]], out: &mut Reply<'_>) -> Result<(), CmdError> {
    // (reply name, row); names compared ignoring case for de-duplication.
    let mut matches: Vec<(&[u8], &'static Directive)> = Vec::new();
    let seen = |m: &[(&[u8], &'static Directive)], n: &[u8]| {
        m.iter().any(|(k, _)| k.eq_ignore_ascii_case(n))
    };
    for &pat in patterns {
        if !pat.iter().any(|b| matches!(b, b'[' | b'*' | b'?')) {
            if seen(&matches, pat) {
                continue;
            }
            if let Some(f) = lookup(pat) {
                matches.push((pat, f.row));
            }
            continue;
        }
        for row in TABLE.iter().filter(|r| !r.has(HIDDEN)) {
            for name in std::iter::once(row.name).chain(row.alias) {
                let n = name.as_bytes();
                if !seen(&matches, n) && engine::glob::glob_match(pat, n, true) {
                    matches.push((n, row));
                }
            }
        }
    }
    out.map(matches.len());
    let mut val = Vec::new();
    for (name, row) in matches {
        out.bulk(name);
        val.clear();
        row.get_into(cfg, &mut val);
        out.bulk(&val);
    }
    Ok(())
}

/// `CONFIG SET name value [name value ...]`: `pairs` are the arguments after SET. All or
/// nothing: names are checked first (unknown, immutable, protected, duplicate), then every
/// value is set; if one is invalid, or `apply` fails for a changed directive, every value
/// is restored (and re-applied) and the error is returned. `apply` is called once per
/// distinct [`Apply`] code of the directives whose value changed, after all were set.
/// On success replies `+OK` and returns what was applied.
pub fn config_set(
    cfg: &mut Config,
    pairs: &[&[u8]],
    client_is_local: bool,
    out: &mut Reply<'_>,
    apply: &mut ApplyFn<'_>,
) -> Result<Applied, CmdError> {
    if pairs.is_empty() || !pairs.len().is_multiple_of(2) {
        return Err(CmdError::Syntax);
    }
    let n = pairs.len() / 2;
    let mut rows: Vec<Found> = Vec::with_capacity(n);
    // Redis reports the first unknown name over any other problem, else the first other.
    let mut unknown: Option<&[u8]> = None;
    let mut other: Option<(&[u8], &'static str)> = None;
    for i in 0..n {
        let name = pairs[2 * i];
        let Some(f) = lookup(name) else {
            unknown.get_or_insert(name);
            continue;
        };
        if unknown.is_some() || other.is_some() {
            continue;
        }
        if f.row.has(IMMUTABLE) {
            other = Some((name, "can't set immutable config"));
        } else if f.row.has(PROTECTED) && !cfg.protected_allowed(client_is_local) {
            other = Some((name, "can't set protected config"));
        } else if rows.iter().any(|r| r.name == f.name) {
            // An alias and its primary are distinct entries to Redis, so only the same
            // registered name counts as a duplicate.
            other = Some((name, "duplicate parameter"));
        }
        rows.push(f);
    }
    if let Some(name) = unknown {
        return Err(CmdError::Owned(format!(
            "ERR Unknown option or number of arguments for CONFIG SET - '{}'",
            engine::util::lossy_c_str(name)
        )));
    }
    if let Some((name, msg)) = other {
        return Err(set_failed(&String::from_utf8_lossy(name), Some(msg)));
    }

    let old: Vec<Vec<u8>> = rows.iter().map(|f| f.row.get(cfg)).collect();
    let restore = |cfg: &mut Config, upto: usize| {
        for (f, v) in rows[..upto].iter().zip(&old) {
            let args = split_for_set(f.row, v);
            let _ = f.row.set(cfg, &args, SetMode::Replace);
        }
    };
    let mut applied = Applied::default();
    let mut order: Vec<(Apply, &'static str)> = Vec::new();
    for (i, f) in rows.iter().enumerate() {
        let v = pairs[2 * i + 1];
        let args = split_for_set(f.row, v);
        if let Err(e) = f.row.set(cfg, &args, SetMode::Replace) {
            restore(cfg, i + 1);
            return Err(set_failed(f.name, Some(&e)));
        }
        let changed = matches!(f.row.kind, Kind::Special { .. }) || f.row.get(cfg) != old[i];
        if changed
            && let Some(a) = f.row.apply
            && applied.insert(a)
        {
            order.push((a, f.name));
        }
    }
    for &(a, name) in &order {
        if let Err(e) = apply(cfg, a) {
            restore(cfg, rows.len());
            for &(a2, _) in &order {
                let _ = apply(cfg, a2);
            }
            return Err(set_failed(name, Some(&e)));
        }
    }
    out.ok();
    Ok(applied)
}

fn set_failed(name: &str, msg: Option<&str>) -> CmdError {
    CmdError::Owned(match msg {
        Some(m) => format!("ERR CONFIG SET failed (possibly related to argument '{name}') - {m}"),
        None => format!("ERR CONFIG SET failed (possibly related to argument '{name}')"),
    })
}

/// `CONFIG HELP`, Redis's text.
pub fn config_help(out: &mut Reply<'_>) {
    const LINES: &[&str] = &[
        "CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "GET <pattern>",
        "    Return parameters matching the glob-like <pattern> and their values.",
        "SET <directive> <value>",
        "    Set the configuration <directive> to <value>.",
        "RESETSTAT",
        "    Reset statistics reported by the INFO command.",
        "REWRITE",
        "    Rewrite the configuration file.",
        "HELP",
        "    Prints this help.",
    ];
    out.array(LINES.len());
    for l in LINES {
        out.simple(l.as_bytes());
    }
}

/// `CONFIG REWRITE`: see [`super::rewrite`].
pub fn config_rewrite(
    cfg: &Config,
    users: &[Vec<u8>],
    out: &mut Reply<'_>,
) -> Result<(), CmdError> {
    match super::rewrite::rewrite_file(cfg, users) {
        Ok(()) => {
            log::info!("CONFIG REWRITE executed with success.");
            out.ok();
            Ok(())
        }
        Err(e) => {
            log::warn!("CONFIG REWRITE failed: {e}");
            Err(CmdError::Owned(e))
        }
    }
}

/// What a CONFIG command asks of the caller beyond its reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConfigEffect {
    None,
    /// CONFIG SET changed these (already applied through the callback).
    Set(Applied),
    /// CONFIG RESETSTAT: the caller resets its INFO counters and replies `+OK` itself.
    ResetStat,
}

/// The whole CONFIG command (`argv[0]` is "config"): dispatches GET, SET, HELP, REWRITE and
/// RESETSTAT, with Redis's arity errors for each subcommand. `users` are the ACL's `user`
/// lines, which CONFIG REWRITE writes.
pub fn config_command(
    cfg: &mut Config,
    users: &[Vec<u8>],
    argv: &[&[u8]],
    client_is_local: bool,
    out: &mut Reply<'_>,
    apply: &mut ApplyFn<'_>,
) -> Result<ConfigEffect, CmdError> {
    let Some(&sub) = argv.get(1) else {
        return Err(CmdError::WrongArity("config".into()));
    };
    let arity = |name: &str| CmdError::WrongArity(format!("config|{name}"));
    let lower = sub.to_ascii_lowercase();
    match lower.as_slice() {
        b"get" => {
            if argv.len() < 3 {
                return Err(arity("get"));
            }
            config_get(cfg, &argv[2..], out)?;
            Ok(ConfigEffect::None)
        }
        b"set" => {
            if argv.len() < 4 {
                return Err(arity("set"));
            }
            config_set(cfg, &argv[2..], client_is_local, out, apply).map(ConfigEffect::Set)
        }
        b"help" if argv.len() == 2 => {
            config_help(out);
            Ok(ConfigEffect::None)
        }
        b"resetstat" if argv.len() == 2 => Ok(ConfigEffect::ResetStat),
        b"rewrite" if argv.len() == 2 => {
            config_rewrite(cfg, users, out)?;
            Ok(ConfigEffect::None)
        }
        b"help" | b"resetstat" | b"rewrite" => {
            Err(arity(std::str::from_utf8(&lower).unwrap_or_default()))
        }
        _ => Err(CmdError::unknown_subcommand("config", sub)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use resp::Proto;

    fn no_apply() -> impl FnMut(&Config, Apply) -> Result<(), SetErr> {
        |_, _| Ok(())
    }

    /// Runs CONFIG SET with `args` (space-separated, shell-like) and returns the reply bytes
    /// or the error text.
    fn set(cfg: &mut Config, args: &[&str]) -> Result<String, String> {
        let args: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
        let mut buf = Vec::new();
        let mut out = Reply::new(&mut buf, Proto::Resp2);
        match config_set(cfg, &args, false, &mut out, &mut no_apply()) {
            Ok(_) => Ok(String::from_utf8(buf).unwrap()),
            Err(e) => {
                assert!(buf.is_empty(), "an error reply must not write");
                Err(e.text().into_owned())
            }
        }
    }

    fn get(cfg: &Config, pats: &[&str], proto: Proto) -> Vec<u8> {
        let pats: Vec<&[u8]> = pats.iter().map(|a| a.as_bytes()).collect();
        let mut buf = Vec::new();
        config_get(cfg, &pats, &mut Reply::new(&mut buf, proto)).unwrap();
        buf
    }

    /// Directives that would do nothing yet are refused, never silently accepted.
    #[test]
    fn directives_without_effect_yet_are_refused() {
        let mut c = Config::new();
        // requirepass acts (features::acl), so it is accepted.
        assert!(set(&mut c, &["requirepass", "secret"]).is_ok());
        let err = set(&mut c, &["activedefrag", "yes"]).unwrap_err();
        assert!(err.contains("'activedefrag'"), "{err}");
        assert!(set(&mut c, &["requirepass", ""]).is_ok());
        assert!(set(&mut c, &["activedefrag", "no"]).is_ok());
    }

    #[test]
    fn config_set_error_texts() {
        let mut c = Config::new();
        let failed = |n: &str, m: &str| {
            Err(format!(
                "ERR CONFIG SET failed (possibly related to argument '{n}') - {m}"
            ))
        };
        assert_eq!(
            set(&mut c, &["maxmemory", "-1"]),
            failed("maxmemory", "argument must be a memory value")
        );
        assert_eq!(
            set(&mut c, &["maxmemory", "1.5mb"]),
            failed("maxmemory", "argument must be a memory value")
        );
        assert_eq!(
            set(&mut c, &["proto-max-bulk-len", "100"]),
            failed(
                "proto-max-bulk-len",
                "argument must be between 1048576 and 9223372036854775807 inclusive"
            )
        );
        assert_eq!(
            set(&mut c, &["proto-max-bulk-len", "99999999999999999999"]),
            failed(
                "proto-max-bulk-len",
                "argument must be between 1048576 and 9223372036854775807 inclusive"
            )
        );
        assert_eq!(
            set(&mut c, &["hz", "-1"]),
            failed("hz", "argument must be between 0 and 2147483647 inclusive")
        );
        assert_eq!(
            set(&mut c, &["hz", "abc"]),
            failed("hz", "argument couldn't be parsed into an integer")
        );
        for bad in ["1.5", "+5", "05", " 5"] {
            assert_eq!(
                set(&mut c, &["timeout", bad]),
                failed("timeout", "argument couldn't be parsed into an integer")
            );
        }
        assert_eq!(
            set(&mut c, &["maxclients", "0"]),
            failed(
                "maxclients",
                "argument must be between 1 and 4294967295 inclusive"
            )
        );
        assert_eq!(
            set(&mut c, &["maxclients", "-1"]),
            failed(
                "maxclients",
                "argument must be between 1 and 4294967295 inclusive"
            )
        );
        assert_eq!(
            set(&mut c, &["port", "70000"]),
            failed("port", "argument must be between 0 and 65535 inclusive")
        );
        assert_eq!(
            set(&mut c, &["protected-mode", "maybe"]),
            failed("protected-mode", "argument must be 'yes' or 'no'")
        );
        assert_eq!(
            set(&mut c, &["loglevel", "foo"]),
            failed(
                "loglevel",
                "argument(s) must be one of the following: debug, verbose, notice, warning"
            )
        );
        assert_eq!(
            set(&mut c, &["maxmemory-policy", "x"]),
            failed(
                "maxmemory-policy",
                "argument(s) must be one of the following: volatile-lru, volatile-lfu, volatile-random, volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, noeviction"
            )
        );
        assert_eq!(
            set(&mut c, &["databases", "3"]),
            failed("databases", "can't set immutable config")
        );
        assert_eq!(
            set(&mut c, &["DATABASES", "3"]),
            failed("DATABASES", "can't set immutable config")
        );
        assert_eq!(
            set(&mut c, &["dir", "/tmp"]),
            failed("dir", "can't set protected config")
        );
        assert_eq!(
            set(&mut c, &["foo", "bar"]),
            Err("ERR Unknown option or number of arguments for CONFIG SET - 'foo'".into())
        );
        assert_eq!(
            set(&mut c, &["maxmemory", "100", "foo", "1"]),
            Err("ERR Unknown option or number of arguments for CONFIG SET - 'foo'".into())
        );
        assert_eq!(
            set(&mut c, &["save", "900"]),
            failed("save", "Invalid save parameters")
        );
        assert_eq!(
            set(&mut c, &["save", "900  1"]),
            failed("save", "Invalid save parameters")
        );
        assert_eq!(
            set(&mut c, &["notify-keyspace-events", "Q"]),
            failed(
                "notify-keyspace-events",
                "Invalid event class character. Use 'Ag$lshzxeKEtmdn'."
            )
        );
        assert_eq!(
            set(&mut c, &["maxmemory", "100", "maxmemory", "200"]),
            failed("maxmemory", "duplicate parameter")
        );
        assert_eq!(
            set(&mut c, &["maxmemory-clients", "101%"]),
            failed(
                "maxmemory-clients",
                "percentage argument must be less or equal to 100"
            )
        );
        assert_eq!(
            set(&mut c, &["HASH-MAX-ZIPLIST-ENTRIES", "x"]),
            failed(
                "hash-max-ziplist-entries",
                "argument couldn't be parsed into an integer"
            )
        );
        assert_eq!(
            set(&mut c, &["client-output-buffer-limit", "normal 1 2"]),
            failed(
                "client-output-buffer-limit",
                "Wrong number of arguments in buffer limit configuration."
            )
        );
        assert_eq!(
            set(&mut c, &["oom-score-adj-values", "1 2"]),
            failed("oom-score-adj-values", "wrong number of arguments")
        );
        assert_eq!(
            set(&mut c, &["replicaof", "no one"]),
            failed("replicaof", "can't set immutable config")
        );
        assert_eq!(
            set(&mut c, &["maxmemory", "1", "hz"]),
            Err("ERR syntax error".into())
        );
        // Nothing above changed anything.
        assert_eq!(c.maxmemory, 0);
        assert_eq!(c.hz, 10);
    }

    #[test]
    fn config_set_values() {
        let mut c = Config::new();
        assert_eq!(set(&mut c, &["maxmemory", "10gB"]), Ok("+OK\r\n".into()));
        assert_eq!(c.maxmemory, 10 << 30);
        set(&mut c, &["maxmemory", "99999999999999999999"]).unwrap();
        assert_eq!(c.get("maxmemory").unwrap(), b"18446744073709551615");
        set(&mut c, &["hz", "1000"]).unwrap();
        assert_eq!(c.hz, 500);
        set(&mut c, &["hz", "0"]).unwrap();
        assert_eq!(c.get("hz").unwrap(), b"1");
        set(&mut c, &["shutdown-on-sigint", "save now"]).unwrap();
        assert_eq!(c.get("shutdown-on-sigint").unwrap(), b"save now");
        set(&mut c, &["shutdown-on-sigint", "default save"]).unwrap();
        assert_eq!(c.get("shutdown-on-sigint").unwrap(), b"save");
        set(&mut c, &["notify-keyspace-events", "AKEm"]).unwrap();
        assert_eq!(c.get("notify-keyspace-events").unwrap(), b"AKEm");
        set(&mut c, &["notify-keyspace-events", "gn$lshzxetd"]).unwrap();
        assert_eq!(c.get("notify-keyspace-events").unwrap(), b"A");
        set(&mut c, &["notify-keyspace-events", "Kx"]).unwrap();
        assert_eq!(c.get("notify-keyspace-events").unwrap(), b"xK");
        set(&mut c, &["save", ""]).unwrap();
        assert!(c.save.is_empty());
        set(&mut c, &["save", "1 2 3 4"]).unwrap();
        assert_eq!(c.save, [(1, 2), (3, 4)]);
        set(&mut c, &["bind", ""]).unwrap();
        assert_eq!(c.get("bind").unwrap(), b"");
        set(&mut c, &["client-output-buffer-limit", "normal 1 2 3"]).unwrap();
        assert_eq!(
            c.get("client-output-buffer-limit").unwrap(),
            b"normal 1 2 3 slave 268435456 67108864 60 pubsub 33554432 8388608 60"
        );
        set(&mut c, &["maxmemory-clients", "50%"]).unwrap();
        assert_eq!(c.get("maxmemory-clients").unwrap(), b"50%");
        set(
            &mut c,
            &["latency-tracking-info-percentiles", "50 99.9 1.5"],
        )
        .unwrap();
        assert_eq!(
            c.get("latency-tracking-info-percentiles").unwrap(),
            b"50 99.9 1.5"
        );
        set(
            &mut c,
            &["loglevel", "WARNING", "maxmemory-policy", "allkeys-lru"],
        )
        .unwrap();
        assert_eq!(c.loglevel, LogLevel::Warning);
        assert_eq!(c.maxmemory_policy, MaxmemoryPolicy::AllkeysLru);
        set(&mut c, &["masterauth", "s\u{e9}cret"]).unwrap();
        assert_eq!(c.compat.masterauth, "s\u{e9}cret".as_bytes());
        // An alias and its primary are different names to Redis: both are set, in order.
        set(
            &mut c,
            &[
                "Hash-Max-Ziplist-Entries",
                "1",
                "hash-max-listpack-entries",
                "2",
            ],
        )
        .unwrap();
        assert_eq!(c.compat.hash_max_listpack_entries, 2);
    }

    #[test]
    fn config_set_is_atomic() {
        let mut c = Config::new();
        assert!(set(&mut c, &["hz", "5", "timeout", "7", "maxmemory", "x"]).is_err());
        assert_eq!((c.hz, c.timeout, c.maxmemory), (10, 0, 0));
        // A failing apply restores every value and re-applies the old ones.
        let mut calls = Vec::new();
        let mut apply = |cfg: &Config, a: Apply| {
            calls.push((a, cfg.port, cfg.timeout));
            if a == Apply::Port && cfg.port == 7000 {
                Err(Cow::Borrowed(
                    "Unable to listen on this port. Check server logs.",
                ))
            } else {
                Ok(())
            }
        };
        let mut buf = Vec::new();
        let args: [&[u8]; 4] = [b"timeout", b"9", b"port", b"7000"];
        let err = config_set(
            &mut c,
            &args,
            false,
            &mut Reply::new(&mut buf, Proto::Resp2),
            &mut apply,
        )
        .unwrap_err();
        assert_eq!(
            err.text(),
            "ERR CONFIG SET failed (possibly related to argument 'port') - Unable to listen on this port. Check server logs."
        );
        assert!(buf.is_empty());
        assert_eq!((c.port, c.timeout), (6379, 0));
        assert_eq!(
            calls,
            [
                (Apply::Timeout, 7000, 9),
                (Apply::Port, 7000, 9),
                (Apply::Timeout, 6379, 0),
                (Apply::Port, 6379, 0),
            ]
        );
    }

    #[test]
    fn config_set_reports_changes_once() {
        let mut c = Config::new();
        let mut seen = Vec::new();
        let mut buf = Vec::new();
        let args: [&[u8]; 6] = [
            b"maxmemory",
            b"1mb",
            b"maxmemory-policy",
            b"allkeys-lru",
            b"hz",
            b"10",
        ];
        let applied = config_set(
            &mut c,
            &args,
            false,
            &mut Reply::new(&mut buf, Proto::Resp2),
            &mut |_, a| {
                seen.push(a);
                Ok(())
            },
        )
        .unwrap();
        // hz did not change; maxmemory and the policy share one apply.
        assert_eq!(seen, [Apply::Maxmemory]);
        assert!(applied.contains(Apply::Maxmemory));
        assert!(!applied.contains(Apply::Hz));
        assert_eq!(applied.iter().collect::<Vec<_>>(), [Apply::Maxmemory]);
        assert_eq!(buf, b"+OK\r\n");
    }

    #[test]
    fn protected_configs_follow_enable_protected_configs() {
        let mut c = Config::new();
        c.set("enable-protected-configs", "local").unwrap();
        let mut buf = Vec::new();
        let args: [&[u8]; 2] = [b"dbfilename", b"x.rdb"];
        let mut out = Reply::new(&mut buf, Proto::Resp2);
        assert!(config_set(&mut c, &args, false, &mut out, &mut no_apply()).is_err());
        assert!(config_set(&mut c, &args, true, &mut out, &mut no_apply()).is_ok());
        assert_eq!(c.compat.dbfilename, b"x.rdb");
        assert_eq!(
            set(&mut c, &["dbfilename", "a/b"]).unwrap_err(),
            "ERR CONFIG SET failed (possibly related to argument 'dbfilename') - can't set protected config"
        );
        c.set("enable-protected-configs", "yes").unwrap();
        assert_eq!(
            set(&mut c, &["dbfilename", "a/b"]).unwrap_err(),
            "ERR CONFIG SET failed (possibly related to argument 'dbfilename') - dbfilename can't be a path, just a filename"
        );
        assert_eq!(
            set(&mut c, &["dir", "/nonexistent-ringkv"]).unwrap_err(),
            "ERR CONFIG SET failed (possibly related to argument 'dir') - No such file or directory"
        );
        assert_eq!(
            set(&mut c, &["dir", "/etc/passwd"]).unwrap_err(),
            "ERR CONFIG SET failed (possibly related to argument 'dir') - Not a directory"
        );
        set(&mut c, &["dir", "/"]).unwrap();
        assert_eq!(c.get("dir").unwrap(), b"/");
    }

    #[test]
    fn config_get_replies() {
        let c = Config::new();
        assert_eq!(
            get(&c, &["port"], Proto::Resp2),
            b"*2\r\n$4\r\nport\r\n$4\r\n6379\r\n"
        );
        assert_eq!(
            get(&c, &["port"], Proto::Resp3),
            b"%1\r\n$4\r\nport\r\n$4\r\n6379\r\n"
        );
        // An exact name answers under the name as given; a later duplicate is dropped.
        assert_eq!(
            get(&c, &["HZ", "hz"], Proto::Resp2),
            b"*2\r\n$2\r\nHZ\r\n$2\r\n10\r\n"
        );
        assert_eq!(get(&c, &["nosuch"], Proto::Resp2), b"*0\r\n");
        assert_eq!(
            get(&c, &["proto-max-bulk-len"], Proto::Resp2),
            b"*2\r\n$18\r\nproto-max-bulk-len\r\n$9\r\n536870912\r\n"
        );
        // Hidden configs answer an exact name but no pattern.
        assert_eq!(
            get(&c, &["use-exit-on-panic"], Proto::Resp2),
            b"*2\r\n$17\r\nuse-exit-on-panic\r\n$2\r\nno\r\n"
        );
        assert_eq!(get(&c, &["use-exit*"], Proto::Resp2), b"*0\r\n");
        // Patterns list primary names and aliases, once each, case-insensitively.
        let r = get(&c, &["MAXMEMORY-P*", "maxmemory-policy"], Proto::Resp2);
        assert_eq!(r, b"*2\r\n$16\r\nmaxmemory-policy\r\n$10\r\nnoeviction\r\n");
        let r = String::from_utf8(get(&c, &["*-ziplist-size"], Proto::Resp2)).unwrap();
        assert_eq!(r, "*2\r\n$21\r\nlist-max-ziplist-size\r\n$2\r\n-2\r\n");
        let r = String::from_utf8(get(&c, &["list-max-*-size"], Proto::Resp3)).unwrap();
        assert!(r.starts_with("%2\r\n"), "{r}");
        let all = get(&c, &["*"], Proto::Resp3);
        let n: usize = TABLE
            .iter()
            .filter(|r| !r.has(HIDDEN))
            .map(|r| 1 + r.alias.is_some() as usize)
            .sum();
        assert!(all.starts_with(format!("%{n}\r\n").as_bytes()));
    }

    #[test]
    fn config_command_dispatch() {
        let mut c = Config::new();
        let run = |c: &mut Config, argv: &[&str]| {
            let argv: Vec<&[u8]> = argv.iter().map(|a| a.as_bytes()).collect();
            let mut buf = Vec::new();
            let r = config_command(
                c,
                &[],
                &argv,
                false,
                &mut Reply::new(&mut buf, Proto::Resp2),
                &mut no_apply(),
            );
            (
                r.map_err(|e| e.text().into_owned()),
                String::from_utf8(buf).unwrap(),
            )
        };
        let (r, out) = run(&mut c, &["CONFIG", "help"]);
        assert_eq!(r, Ok(ConfigEffect::None));
        assert_eq!(
            out,
            "*11\r\n+CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n\
             +GET <pattern>\r\n\
             +    Return parameters matching the glob-like <pattern> and their values.\r\n\
             +SET <directive> <value>\r\n+    Set the configuration <directive> to <value>.\r\n\
             +RESETSTAT\r\n+    Reset statistics reported by the INFO command.\r\n\
             +REWRITE\r\n+    Rewrite the configuration file.\r\n+HELP\r\n+    Prints this help.\r\n"
        );
        assert_eq!(
            run(&mut c, &["config", "resetstat"]).0,
            Ok(ConfigEffect::ResetStat)
        );
        assert_eq!(
            run(&mut c, &["config", "get"]).0,
            Err("ERR wrong number of arguments for 'config|get' command".into())
        );
        assert_eq!(
            run(&mut c, &["config", "set", "maxmemory"]).0,
            Err("ERR wrong number of arguments for 'config|set' command".into())
        );
        assert_eq!(
            run(&mut c, &["config", "foo"]).0,
            Err("ERR unknown subcommand 'foo'. Try CONFIG HELP.".into())
        );
        assert_eq!(
            run(&mut c, &["config", "rewrite"]).0,
            Err("ERR The server is running without a config file".into())
        );
        let (r, out) = run(&mut c, &["config", "set", "timeout", "5"]);
        assert!(matches!(r, Ok(ConfigEffect::Set(a)) if a.contains(Apply::Timeout)));
        assert_eq!(out, "+OK\r\n");
    }

    /// Every row, odd values: no panic; a refused value changes nothing; an accepted value
    /// prints a form that sets back to itself (CONFIG SET's rollback relies on this).
    #[test]
    fn every_row_survives_odd_values_and_round_trips() {
        let odd: &[&[u8]] = &[
            b"",
            b" ",
            b"-",
            b"%",
            b"-1",
            b"0",
            b"1",
            b"yes",
            b"NO",
            b"1%",
            b"100%",
            b"-0",
            b"9223372036854775808",
            b"18446744073709551616",
            b"1gb",
            b"99999999999gb",
            b"0777",
            b"1 2",
            b"1 2 3 4",
            b"a\x00b",
            b"\xff\xfe",
            b"\"",
            b"normal 1 2 3",
            b"save now",
            b"AKE",
            b"no one",
            b"127.0.0.1 ::1",
            b"/",
            b"x y z w v u",
        ];
        for row in TABLE {
            let mut c = Config::new();
            c.compat.enable_protected_configs = 1;
            let before = row.get(&c);
            if row.has(IMMUTABLE) {
                // Never set (or rolled back) at runtime: only check the setter cannot panic.
                for &v in odd {
                    let _ = row.set(&mut c.clone(), &split_for_set(row, v), SetMode::Replace);
                }
                continue;
            }
            // The default prints a form that sets back to itself.
            let mut again = c.clone();
            row.set(&mut again, &split_for_set(row, &before), SetMode::Replace)
                .unwrap_or_else(|e| panic!("{}: default {:?} does not set: {e}", row.name, before));
            assert_eq!(row.get(&again), before, "{}", row.name);
            for &v in odd {
                let mut c2 = c.clone();
                let pairs = [row.name.as_bytes(), v];
                let mut buf = Vec::new();
                let r = config_set(
                    &mut c2,
                    &pairs,
                    true,
                    &mut Reply::new(&mut buf, Proto::Resp2),
                    &mut no_apply(),
                );
                if r.is_err() {
                    assert_eq!(
                        row.get(&c2),
                        before,
                        "{} refused {:?} but changed",
                        row.name,
                        v
                    );
                    continue;
                }
                let printed = row.get(&c2);
                let mut c3 = c2.clone();
                row.set(&mut c3, &split_for_set(row, &printed), SetMode::Replace)
                    .unwrap_or_else(|e| panic!("{}: {:?} printed {:?}: {e}", row.name, v, printed));
                assert_eq!(row.get(&c3), printed, "{} after {:?}", row.name, v);
            }
        }
    }
}
