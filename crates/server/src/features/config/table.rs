//! The directive rows, in Redis's `static_configs[]` order, with the setters and getters of
//! the "special" rows and the validators some rows add.

use std::borrow::Cow;
use std::path::Path;

use super::*;

// --- row constructors (macros so a row names its field once)

macro_rules! boolean {
    ($name:literal, $alias:expr, $flags:expr, $($f:ident).+, $def:expr, $apply:expr) => {
        boolean!($name, $alias, $flags, $($f).+, $def, $apply, None)
    };
    ($name:literal, $alias:expr, $flags:expr, $($f:ident).+, $def:expr, $apply:expr, $valid:expr) => {
        Directive {
            name: $name,
            alias: $alias,
            flags: $flags,
            apply: $apply,
            kind: Kind::Bool {
                default: $def,
                get: |c| c.$($f).+,
                set: |c, v| c.$($f).+ = v,
                valid: $valid,
            },
        }
    };
}

macro_rules! num {
    ($name:literal, $alias:expr, $flags:expr, $min:expr, $max:expr, $unsigned:expr, $fmt:expr,
     $($f:ident).+, $def:expr, $apply:expr) => {
        num!($name, $alias, $flags, $min, $max, $unsigned, $fmt, $($f).+, $def, $apply, None)
    };
    ($name:literal, $alias:expr, $flags:expr, $min:expr, $max:expr, $unsigned:expr, $fmt:expr,
     $($f:ident).+, $def:expr, $apply:expr, $valid:expr) => {
        Directive {
            name: $name,
            alias: $alias,
            flags: $flags,
            apply: $apply,
            kind: Kind::Num {
                default: $def,
                min: $min,
                max: $max,
                unsigned: $unsigned,
                fmt: $fmt,
                get: |c| c.$($f).+ as i64,
                set: |c, v| c.$($f).+ = v as _,
                valid: $valid,
            },
        }
    };
}

macro_rules! int {
    ($name:literal, $alias:expr, $flags:expr, $min:expr, $max:expr, $($f:ident).+, $def:expr, $apply:expr) => {
        num!($name, $alias, $flags, $min as i64, $max as i64, false, NumFmt::Int, $($f).+, $def, $apply)
    };
    ($name:literal, $alias:expr, $flags:expr, $min:expr, $max:expr, $($f:ident).+, $def:expr, $apply:expr, $valid:expr) => {
        num!($name, $alias, $flags, $min as i64, $max as i64, false, NumFmt::Int, $($f).+, $def, $apply, $valid)
    };
}

macro_rules! uint {
    ($name:literal, $alias:expr, $flags:expr, $min:expr, $max:expr, $fmt:expr, $($f:ident).+, $def:expr, $apply:expr) => {
        num!($name, $alias, $flags, $min as i64, $max as i64, true, $fmt, $($f).+, $def, $apply)
    };
}

macro_rules! enumeration {
    ($name:literal, $alias:expr, $flags:expr, $values:expr, $($f:ident).+, $def:expr, $apply:expr) => {
        enumeration!($name, $alias, $flags, $values, $($f).+, $def, $apply, None)
    };
    ($name:literal, $alias:expr, $flags:expr, $values:expr, $($f:ident).+, $def:expr, $apply:expr, $valid:expr) => {
        Directive {
            name: $name,
            alias: $alias,
            flags: $flags,
            apply: $apply,
            kind: Kind::Enum {
                default: $def,
                values: $values,
                multi: false,
                get: |c| c.$($f).+,
                set: |c, v| c.$($f).+ = v,
                valid: $valid,
            },
        }
    };
}

macro_rules! string {
    ($name:literal, $alias:expr, $flags:expr, $($f:ident).+, $def:expr, $apply:expr) => {
        string!($name, $alias, $flags, $($f).+, $def, $apply, None)
    };
    ($name:literal, $alias:expr, $flags:expr, $($f:ident).+, $def:expr, $apply:expr, $valid:expr) => {
        Directive {
            name: $name,
            alias: $alias,
            flags: $flags,
            apply: $apply,
            kind: Kind::Str {
                default: $def,
                get: |c| &c.$($f).+,
                set: |c, v| {
                    c.$($f).+.clear();
                    c.$($f).+.extend_from_slice(v)
                },
                valid: $valid,
            },
        }
    };
}

macro_rules! special {
    ($name:literal, $alias:expr, $flags:expr, $def:expr, $set:expr, $get:expr, $apply:expr) => {
        Directive {
            name: $name,
            alias: $alias,
            flags: $flags,
            apply: $apply,
            kind: Kind::Special {
                default: $def,
                set: $set,
                get: $get,
            },
        }
    };
}

use flags::{HIDDEN, IMMUTABLE, MULTI_ARG, PROTECTED, SENSITIVE};
const MODIFIABLE: u8 = 0;
const INT_MAX: i64 = i32::MAX as i64;
const INT_MIN: i64 = i32::MIN as i64;
const UINT_MAX: i64 = u32::MAX as i64;
const LONG_MAX: i64 = i64::MAX;
const LLONG_MAX: i64 = i64::MAX;
const ULLONG_MAX: i64 = -1; // u64::MAX as a bit pattern
const SSIZE_MAX: i64 = i64::MAX;

const LOGLEVEL_ENUM: &[(&str, u8)] = &[("debug", 0), ("verbose", 1), ("notice", 2), ("warning", 3)];
const MAXMEMORY_POLICY_ENUM: &[(&str, u8)] = &[
    ("volatile-lru", 0),
    ("volatile-lfu", 1),
    ("volatile-random", 2),
    ("volatile-ttl", 3),
    ("allkeys-lru", 4),
    ("allkeys-lfu", 5),
    ("allkeys-random", 6),
    ("noeviction", 7),
];
const SUPERVISED_ENUM: &[(&str, u8)] = &[("upstart", 1), ("systemd", 2), ("auto", 3), ("no", 0)];
const SYSLOG_FACILITY_ENUM: &[(&str, u8)] = &[
    ("user", 0),
    ("local0", 1),
    ("local1", 2),
    ("local2", 3),
    ("local3", 4),
    ("local4", 5),
    ("local5", 6),
    ("local6", 7),
    ("local7", 8),
];
const REPL_DISKLESS_LOAD_ENUM: &[(&str, u8)] =
    &[("disabled", 0), ("on-empty-db", 1), ("swapdb", 2)];
const AOF_FSYNC_ENUM: &[(&str, u8)] = &[("everysec", 0), ("always", 1), ("no", 2)];
const OOM_SCORE_ADJ_ENUM: &[(&str, u8)] =
    &[("no", 0), ("yes", 1), ("relative", 1), ("absolute", 2)];
const ACL_PUBSUB_DEFAULT_ENUM: &[(&str, u8)] = &[("allchannels", 1), ("resetchannels", 0)];
const SANITIZE_DUMP_PAYLOAD_ENUM: &[(&str, u8)] = &[("no", 0), ("yes", 1), ("clients", 2)];
/// `enable-protected-configs` & co. Value 1 = yes, 2 = local.
const PROTECTED_ACTION_ENUM: &[(&str, u8)] = &[("no", 0), ("yes", 1), ("local", 2)];
const CLUSTER_ENDPOINT_ENUM: &[(&str, u8)] = &[("ip", 0), ("hostname", 1), ("unknown-endpoint", 2)];
const PROPAGATION_ERROR_ENUM: &[(&str, u8)] =
    &[("ignore", 0), ("panic", 1), ("panic-on-replicas", 2)];
const SHUTDOWN_ON_SIG_ENUM: &[(&str, u8)] = &[
    ("default", 0),
    ("save", 1),
    ("nosave", 2),
    ("now", 4),
    ("force", 8),
];

fn loglevel_from(v: u8) -> LogLevel {
    match v {
        0 => LogLevel::Debug,
        1 => LogLevel::Verbose,
        3 => LogLevel::Warning,
        _ => LogLevel::Notice,
    }
}

fn policy_from(v: u8) -> MaxmemoryPolicy {
    use MaxmemoryPolicy::*;
    match v {
        0 => VolatileLru,
        1 => VolatileLfu,
        2 => VolatileRandom,
        3 => VolatileTtl,
        4 => AllkeysLru,
        5 => AllkeysLfu,
        6 => AllkeysRandom,
        _ => NoEviction,
    }
}

fn no_cluster(v: bool) -> Result<(), &'static str> {
    if v {
        Err("ringkv does not support cluster mode")
    } else {
        Ok(())
    }
}

// The directive audit: what ringkv cannot do is refused (at start-up and by CONFIG SET)
// when asked for, rather than stored and ignored; the default, which matches what ringkv
// does, stays accepted so stock redis.conf files load. See docs/CONFIG.md.

fn one_thread(v: i64) -> Result<(), &'static str> {
    if v == 1 {
        Ok(())
    } else {
        Err("ringkv runs one thread: io-threads must be 1")
    }
}

fn no_cpulist(v: &[u8]) -> Result<(), &'static str> {
    if v.is_empty() {
        Ok(())
    } else {
        Err(
            "ringkv has no background threads or child processes: bio_cpulist, \
             aof_rewrite_cpulist and bgsave_cpulist must be empty",
        )
    }
}

/// `server_cpulist` acts (the process's CPU affinity at start): a valid list only.
fn valid_cpulist(v: &[u8]) -> Result<(), &'static str> {
    if v.is_empty() || super::parse_cpulist(v).is_some() {
        Ok(())
    } else {
        Err("Invalid cpulist")
    }
}

fn no_watchdog(v: i64) -> Result<(), &'static str> {
    if v == 0 {
        Ok(())
    } else {
        Err("ringkv has no software watchdog: watchdog-period must be 0")
    }
}

fn no_list_compression(v: i64) -> Result<(), &'static str> {
    if v == 0 {
        Ok(())
    } else {
        Err("ringkv does not compress list nodes: list-compress-depth must be 0")
    }
}

fn no_socket_mark(v: i64) -> Result<(), &'static str> {
    if v == 0 {
        Ok(())
    } else {
        Err("ringkv does not mark its sockets: socket-mark-id must be 0")
    }
}

fn no_defrag(v: bool) -> Result<(), &'static str> {
    // Redis built without its modified jemalloc refuses the same way.
    if v {
        Err(
            "Active defragmentation cannot be enabled: it requires a Redis server compiled \
             with a modified Jemalloc like the one shipped by default with the Redis source \
             distribution",
        )
    } else {
        Ok(())
    }
}

fn is_base_name(v: &[u8]) -> bool {
    !v.contains(&b'/')
}

fn valid_dbfilename(v: &[u8]) -> Result<(), &'static str> {
    if is_base_name(v) {
        Ok(())
    } else {
        Err("dbfilename can't be a path, just a filename")
    }
}

fn valid_aof_filename(v: &[u8]) -> Result<(), &'static str> {
    if v.is_empty() {
        Err("appendfilename can't be empty")
    } else if !is_base_name(v) {
        Err("appendfilename can't be a path, just a filename")
    } else {
        Ok(())
    }
}

fn valid_aof_dirname(v: &[u8]) -> Result<(), &'static str> {
    if v.is_empty() {
        Err("appenddirname can't be empty")
    } else if !is_base_name(v) {
        Err("appenddirname can't be a path, just a dirname")
    } else {
        Ok(())
    }
}

fn valid_hostname(v: &[u8]) -> Result<(), &'static str> {
    if v.len() >= 256 {
        return Err("Hostnames must be less than 256 characters");
    }
    if v.iter()
        .all(|&c| c.is_ascii_alphanumeric() || c == b'-' || c == b'.')
    {
        Ok(())
    } else {
        Err("Hostnames may only contain alphanumeric characters, hyphens or dots")
    }
}

// --- specials

fn set_save(c: &mut Config, argv: &[&[u8]], mode: SetMode) -> Result<(), SetErr> {
    let argv: &[&[u8]] = if argv.len() == 1 && argv[0].is_empty() {
        &[]
    } else {
        argv
    };
    const BAD: &str = "Invalid save parameters";
    if !argv.len().is_multiple_of(2) {
        return Err(Cow::Borrowed(BAD));
    }
    let mut pairs = Vec::with_capacity(argv.len() / 2);
    for p in argv.chunks(2) {
        let secs = strtol_whole(p[0]).ok_or(BAD)?;
        let changes = strtol_whole(p[1]).ok_or(BAD)?;
        if secs < 1 || changes < 0 {
            return Err(Cow::Borrowed(BAD));
        }
        pairs.push((secs, changes));
    }
    if mode == SetMode::Replace {
        c.save.clear();
    }
    c.save.extend(pairs);
    Ok(())
}

fn get_save(c: &Config, out: &mut Vec<u8>) {
    use std::io::Write;
    for (i, (s, n)) in c.save.iter().enumerate() {
        if i > 0 {
            out.push(b' ');
        }
        let _ = write!(out, "{s} {n}");
    }
}

/// `strtoll(s, &end, 10)` requiring the whole string to be consumed (leading blanks and a
/// sign allowed, saturating), as Redis's save / obuf parsers use it.
fn strtol_whole(s: &[u8]) -> Option<i64> {
    let t = std::str::from_utf8(s).ok()?;
    let t = t.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let (neg, d) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    if !d.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if d.is_empty() {
        // strtoll consumed nothing: end points at the start, which is "" only for "".
        return if s.is_empty() { Some(0) } else { None };
    }
    let mut v: i64 = 0;
    for b in d.bytes() {
        v = v.saturating_mul(10).saturating_add((b - b'0') as i64);
    }
    Some(if neg { -v } else { v })
}

fn set_bind(c: &mut Config, argv: &[&[u8]], _: SetMode) -> Result<(), SetErr> {
    if argv.len() > BINDADDR_MAX {
        return Err(Cow::Borrowed("Too many bind addresses specified."));
    }
    let argv: &[&[u8]] = if argv.len() == 1 && argv[0].is_empty() {
        &[]
    } else {
        argv
    };
    c.bind = argv
        .iter()
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect();
    Ok(())
}

fn get_bind(c: &Config, out: &mut Vec<u8>) {
    out.extend_from_slice(c.bind.join(" ").as_bytes());
}

fn set_dir(c: &mut Config, argv: &[&[u8]], _: SetMode) -> Result<(), SetErr> {
    use std::os::unix::ffi::OsStrExt;
    let [arg] = argv else {
        return Err(Cow::Borrowed("wrong number of arguments"));
    };
    // chdir() semantics without changing the process's directory here: resolve against the
    // current `dir` (the process cwd once the caller has applied it).
    let p = Path::new(std::ffi::OsStr::from_bytes(arg));
    let base = if c.dir.as_os_str().is_empty() {
        std::env::current_dir().unwrap_or_default()
    } else {
        c.dir.clone()
    };
    let target = base.join(p);
    let canon = std::fs::canonicalize(&target).map_err(|e| Cow::Owned(strerror(&e)))?;
    if !canon.is_dir() {
        return Err(Cow::Borrowed("Not a directory"));
    }
    c.dir = canon;
    Ok(())
}

fn get_dir(c: &Config, out: &mut Vec<u8>) {
    use std::os::unix::ffi::OsStrExt;
    out.extend_from_slice(c.dir.as_os_str().as_bytes());
}

fn set_obuf(c: &mut Config, argv: &[&[u8]], _: SetMode) -> Result<(), SetErr> {
    if !argv.len().is_multiple_of(4) {
        return Err(Cow::Borrowed(
            "Wrong number of arguments in buffer limit configuration.",
        ));
    }
    let mut limits = c.client_obuf_limits;
    for q in argv.chunks(4) {
        let class = match q[0].to_ascii_lowercase().as_slice() {
            b"normal" => 0,
            b"slave" | b"replica" => 1,
            b"pubsub" => 2,
            _ => {
                return Err(Cow::Borrowed(
                    "Invalid client class specified in buffer limit configuration.",
                ));
            }
        };
        let hard = parse_memory(q[1]);
        let soft = parse_memory(q[2]);
        let secs = strtol_whole(q[3]);
        match (hard, soft, secs) {
            (Some(h), Some(s), Some(t)) if t >= 0 => {
                limits[class] = ObufLimit {
                    hard_bytes: h,
                    soft_bytes: s,
                    soft_seconds: t,
                }
            }
            _ => {
                return Err(Cow::Borrowed(
                    "Error in hard, soft or soft_seconds setting in buffer limit configuration.",
                ));
            }
        }
    }
    c.client_obuf_limits = limits;
    Ok(())
}

fn get_obuf(c: &Config, out: &mut Vec<u8>) {
    use std::io::Write;
    for (i, l) in c.client_obuf_limits.iter().enumerate() {
        if i > 0 {
            out.push(b' ');
        }
        let _ = write!(
            out,
            "{} {} {} {}",
            OBUF_CLASSES[i], l.hard_bytes, l.soft_bytes, l.soft_seconds
        );
    }
}

fn set_oom_values(c: &mut Config, argv: &[&[u8]], _: SetMode) -> Result<(), SetErr> {
    if argv.len() != 3 {
        return Err(Cow::Borrowed("wrong number of arguments"));
    }
    let mut v = [0i64; 3];
    for (i, a) in argv.iter().enumerate() {
        match strtol_whole(a) {
            Some(x) if (-2000..=2000).contains(&x) => v[i] = x,
            _ => {
                return Err(Cow::Borrowed(
                    "Invalid oom-score-adj-values, elements must be between -2000 and 2000.",
                ));
            }
        }
    }
    c.compat.oom_score_adj_values = v;
    Ok(())
}

fn get_oom_values(c: &Config, out: &mut Vec<u8>) {
    let s: Vec<String> = c
        .compat
        .oom_score_adj_values
        .iter()
        .map(|v| v.to_string())
        .collect();
    out.extend_from_slice(s.join(" ").as_bytes());
}

/// Parses `notify-keyspace-events` classes into [`notify`] bits.
pub fn keyspace_events_from_str(s: &[u8]) -> Option<u32> {
    notify::parse_flags(s)
}

/// Prints [`notify`] bits as Redis's `keyspaceEventsFlagsToString` (note: `A` swallows `n`).
pub fn keyspace_events_to_str(f: u32, out: &mut Vec<u8>) {
    use notify::*;
    if f & ALL == ALL {
        out.push(b'A');
    } else {
        for (bit, c) in [
            (GENERIC, b'g'),
            (STRING, b'$'),
            (LIST, b'l'),
            (SET, b's'),
            (HASH, b'h'),
            (ZSET, b'z'),
            (EXPIRED, b'x'),
            (EVICTED, b'e'),
            (STREAM, b't'),
            (MODULE, b'd'),
            (NEW, b'n'),
        ] {
            if f & bit != 0 {
                out.push(c);
            }
        }
    }
    for (bit, c) in [(KEYSPACE, b'K'), (KEYEVENT, b'E'), (KEY_MISS, b'm')] {
        if f & bit != 0 {
            out.push(c);
        }
    }
}

fn set_notify(c: &mut Config, argv: &[&[u8]], _: SetMode) -> Result<(), SetErr> {
    let [arg] = argv else {
        return Err(Cow::Borrowed("wrong number of arguments"));
    };
    c.notify_keyspace_events = keyspace_events_from_str(arg).ok_or(Cow::Borrowed(
        "Invalid event class character. Use 'Ag$lshzxeKEtmdn'.",
    ))?;
    Ok(())
}

fn get_notify(c: &Config, out: &mut Vec<u8>) {
    keyspace_events_to_str(c.notify_keyspace_events, out);
}

fn set_replicaof(c: &mut Config, argv: &[&[u8]], _: SetMode) -> Result<(), SetErr> {
    let [host, port] = argv else {
        return Err(Cow::Borrowed("wrong number of arguments"));
    };
    if host.eq_ignore_ascii_case(b"no") && port.eq_ignore_ascii_case(b"one") {
        c.compat.replicaof = None;
        return Ok(());
    }
    match strtol_whole(port) {
        Some(p) if (0..=65535).contains(&p) => {
            c.compat.replicaof = Some((host.to_vec(), p));
            Ok(())
        }
        _ => {
            c.compat.replicaof = None;
            Err(Cow::Borrowed("Invalid master port"))
        }
    }
}

fn get_replicaof(c: &Config, out: &mut Vec<u8>) {
    if let Some((h, p)) = &c.compat.replicaof {
        out.extend_from_slice(h);
        out.extend_from_slice(format!(" {p}").as_bytes());
    }
}

fn set_percentiles(c: &mut Config, argv: &[&[u8]], _: SetMode) -> Result<(), SetErr> {
    let argv: &[&[u8]] = if argv.len() == 1 && argv[0].is_empty() {
        &[]
    } else {
        argv
    };
    let mut v = Vec::with_capacity(argv.len());
    for a in argv {
        let p = engine::util::parse_f64_opt(a).ok_or(Cow::Borrowed(
            "Invalid latency-tracking-info-percentiles parameters",
        ))?;
        if !(0.0..=100.0).contains(&p) {
            c.compat.latency_tracking_info_percentiles.clear();
            return Err(Cow::Borrowed(
                "latency-tracking-info-percentiles parameters should sit between [0.0,100.0]",
            ));
        }
        v.push(p);
    }
    c.compat.latency_tracking_info_percentiles = v;
    Ok(())
}

fn get_percentiles(c: &Config, out: &mut Vec<u8>) {
    for (i, p) in c
        .compat
        .latency_tracking_info_percentiles
        .iter()
        .enumerate()
    {
        if i > 0 {
            out.push(b' ');
        }
        // `%f` then trailing zeros (and a bare '.') removed, as Redis's trimDoubleString.
        let s = format!("{p:.6}");
        let s = s.trim_end_matches('0').trim_end_matches('.');
        out.extend_from_slice(s.as_bytes());
    }
}

/// Every directive, in Redis's `static_configs[]` order (TLS ones left out: ringkv, like a
/// Redis built without TLS, does not know them).
#[rustfmt::skip]
pub static TABLE: &[Directive] = &[
    // Bool configs
    boolean!("rdbchecksum", None, IMMUTABLE, compat.rdbchecksum, true, None),
    boolean!("daemonize", None, IMMUTABLE, daemonize, false, None),
    boolean!("io-threads-do-reads", None, IMMUTABLE, compat.io_threads_do_reads, false, None),
    boolean!("always-show-logo", None, IMMUTABLE, compat.always_show_logo, false, None),
    boolean!("protected-mode", None, MODIFIABLE, protected_mode, true, None),
    boolean!("rdbcompression", None, MODIFIABLE, compat.rdbcompression, true, None),
    boolean!("rdb-del-sync-files", None, MODIFIABLE, compat.rdb_del_sync_files, false, None),
    boolean!("activerehashing", None, MODIFIABLE, compat.activerehashing, true, None),
    boolean!("stop-writes-on-bgsave-error", None, MODIFIABLE, compat.stop_writes_on_bgsave_error, true, None),
    boolean!("set-proc-title", None, IMMUTABLE, compat.set_proc_title, true, None),
    boolean!("dynamic-hz", None, MODIFIABLE, compat.dynamic_hz, true, None),
    boolean!("lazyfree-lazy-eviction", None, MODIFIABLE, compat.lazyfree_lazy_eviction, false, None),
    boolean!("lazyfree-lazy-expire", None, MODIFIABLE, compat.lazyfree_lazy_expire, false, None),
    boolean!("lazyfree-lazy-server-del", None, MODIFIABLE, compat.lazyfree_lazy_server_del, false, None),
    boolean!("lazyfree-lazy-user-del", None, MODIFIABLE, compat.lazyfree_lazy_user_del, false, None),
    boolean!("lazyfree-lazy-user-flush", None, MODIFIABLE, compat.lazyfree_lazy_user_flush, false, None),
    boolean!("repl-disable-tcp-nodelay", None, MODIFIABLE, compat.repl_disable_tcp_nodelay, false, None),
    boolean!("repl-diskless-sync", None, MODIFIABLE, compat.repl_diskless_sync, true, None),
    boolean!("aof-rewrite-incremental-fsync", None, MODIFIABLE, compat.aof_rewrite_incremental_fsync, true, None),
    boolean!("no-appendfsync-on-rewrite", None, MODIFIABLE, compat.no_appendfsync_on_rewrite, false, None),
    boolean!("cluster-require-full-coverage", None, MODIFIABLE, compat.cluster_require_full_coverage, true, None),
    boolean!("rdb-save-incremental-fsync", None, MODIFIABLE, compat.rdb_save_incremental_fsync, true, None),
    boolean!("aof-load-truncated", None, MODIFIABLE, compat.aof_load_truncated, true, None),
    boolean!("aof-use-rdb-preamble", None, MODIFIABLE, compat.aof_use_rdb_preamble, true, None),
    boolean!("aof-timestamp-enabled", None, MODIFIABLE, compat.aof_timestamp_enabled, false, None, None),
    boolean!("cluster-replica-no-failover", Some("cluster-slave-no-failover"), MODIFIABLE, compat.cluster_replica_no_failover, false, None),
    boolean!("replica-lazy-flush", Some("slave-lazy-flush"), MODIFIABLE, compat.replica_lazy_flush, false, None),
    boolean!("replica-serve-stale-data", Some("slave-serve-stale-data"), MODIFIABLE, compat.replica_serve_stale_data, true, None),
    boolean!("replica-read-only", Some("slave-read-only"), MODIFIABLE, compat.replica_read_only, true, None),
    boolean!("replica-ignore-maxmemory", Some("slave-ignore-maxmemory"), MODIFIABLE, compat.replica_ignore_maxmemory, true, None),
    boolean!("jemalloc-bg-thread", None, MODIFIABLE, compat.jemalloc_bg_thread, true, Some(Apply::JemallocBgThread)),
    boolean!("activedefrag", None, MODIFIABLE, compat.activedefrag, false, None, Some(no_defrag)),
    boolean!("syslog-enabled", None, IMMUTABLE, compat.syslog_enabled, false, None, None),
    boolean!("cluster-enabled", None, IMMUTABLE, compat.cluster_enabled, false, None, Some(no_cluster)),
    boolean!("appendonly", None, MODIFIABLE, appendonly, false, Some(Apply::Appendonly), None),
    boolean!("cluster-allow-reads-when-down", None, MODIFIABLE, compat.cluster_allow_reads_when_down, false, None),
    boolean!("cluster-allow-pubsubshard-when-down", None, MODIFIABLE, compat.cluster_allow_pubsubshard_when_down, true, None),
    boolean!("crash-log-enabled", None, MODIFIABLE, compat.crash_log_enabled, true, None),
    boolean!("crash-memcheck-enabled", None, MODIFIABLE, compat.crash_memcheck_enabled, true, None),
    boolean!("use-exit-on-panic", None, HIDDEN, compat.use_exit_on_panic, false, None),
    boolean!("disable-thp", None, IMMUTABLE, compat.disable_thp, true, None),
    boolean!("cluster-allow-replica-migration", None, MODIFIABLE, compat.cluster_allow_replica_migration, true, None),
    boolean!("replica-announced", None, MODIFIABLE, compat.replica_announced, true, None),
    boolean!("latency-tracking", None, MODIFIABLE, compat.latency_tracking, true, None),
    boolean!("aof-disable-auto-gc", None, MODIFIABLE, compat.aof_disable_auto_gc, false, None),
    boolean!("replica-ignore-disk-write-errors", None, MODIFIABLE, compat.replica_ignore_disk_write_errors, false, None),
    // String configs
    string!("aclfile", None, IMMUTABLE, compat.aclfile, "", None),
    string!("unixsocket", None, IMMUTABLE, compat.unixsocket, "", None, None),
    string!("pidfile", None, IMMUTABLE, pidfile, "", None),
    string!("replica-announce-ip", Some("slave-announce-ip"), MODIFIABLE, compat.replica_announce_ip, "", None),
    string!("masteruser", None, SENSITIVE, compat.masteruser, "", None),
    string!("cluster-announce-ip", None, MODIFIABLE, compat.cluster_announce_ip, "", None),
    string!("cluster-config-file", None, IMMUTABLE, compat.cluster_config_file, "nodes.conf", None),
    string!("cluster-announce-hostname", None, MODIFIABLE, compat.cluster_announce_hostname, "", None, Some(valid_hostname)),
    string!("syslog-ident", None, IMMUTABLE, compat.syslog_ident, "redis", None),
    string!("dbfilename", None, PROTECTED, compat.dbfilename, "dump.rdb", None, Some(valid_dbfilename)),
    string!("appendfilename", None, IMMUTABLE, compat.appendfilename, "appendonly.aof", None, Some(valid_aof_filename)),
    string!("appenddirname", None, IMMUTABLE, compat.appenddirname, "appendonlydir", None, Some(valid_aof_dirname)),
    string!("server_cpulist", None, IMMUTABLE, compat.server_cpulist, "", None, Some(valid_cpulist)),
    string!("bio_cpulist", None, IMMUTABLE, compat.bio_cpulist, "", None, Some(no_cpulist)),
    string!("aof_rewrite_cpulist", None, IMMUTABLE, compat.aof_rewrite_cpulist, "", None, Some(no_cpulist)),
    string!("bgsave_cpulist", None, IMMUTABLE, compat.bgsave_cpulist, "", None, Some(no_cpulist)),
    string!("ignore-warnings", None, MODIFIABLE, compat.ignore_warnings, "", None),
    string!("proc-title-template", None, MODIFIABLE, compat.proc_title_template, "{title} {listen-addr} {server-mode}", None),
    string!("bind-source-addr", None, MODIFIABLE, compat.bind_source_addr, "", None),
    string!("logfile", None, IMMUTABLE, logfile, "", None),
    // SDS configs
    string!("masterauth", None, SENSITIVE, compat.masterauth, "", None),
    string!("requirepass", None, SENSITIVE, requirepass, "", Some(Apply::Requirepass), None),
    // Enum configs
    enumeration!("supervised", None, IMMUTABLE, SUPERVISED_ENUM, compat.supervised, 0, None, None),
    enumeration!("syslog-facility", None, IMMUTABLE, SYSLOG_FACILITY_ENUM, compat.syslog_facility, 1, None),
    enumeration!("repl-diskless-load", None, MODIFIABLE, REPL_DISKLESS_LOAD_ENUM, compat.repl_diskless_load, 0, None),
    Directive {
        name: "loglevel",
        alias: None,
        flags: MODIFIABLE,
        apply: Some(Apply::Loglevel),
        kind: Kind::Enum {
            default: 2,
            values: LOGLEVEL_ENUM,
            multi: false,
            get: |c| c.loglevel as u8,
            set: |c, v| c.loglevel = loglevel_from(v),
            valid: None,
        },
    },
    Directive {
        name: "maxmemory-policy",
        alias: None,
        flags: MODIFIABLE,
        apply: Some(Apply::Maxmemory),
        kind: Kind::Enum {
            default: 7,
            values: MAXMEMORY_POLICY_ENUM,
            multi: false,
            get: |c| c.maxmemory_policy as u8,
            set: |c, v| c.maxmemory_policy = policy_from(v),
            valid: None,
        },
    },
    enumeration!("appendfsync", None, MODIFIABLE, AOF_FSYNC_ENUM, compat.appendfsync, 0, None),
    enumeration!("oom-score-adj", None, MODIFIABLE, OOM_SCORE_ADJ_ENUM, compat.oom_score_adj, 0, Some(Apply::OomScoreAdj), None),
    enumeration!("acl-pubsub-default", None, MODIFIABLE, ACL_PUBSUB_DEFAULT_ENUM, compat.acl_pubsub_default, 0, None),
    enumeration!("sanitize-dump-payload", None, MODIFIABLE, SANITIZE_DUMP_PAYLOAD_ENUM, compat.sanitize_dump_payload, 0, None),
    enumeration!("enable-protected-configs", None, IMMUTABLE, PROTECTED_ACTION_ENUM, compat.enable_protected_configs, 0, None),
    enumeration!("enable-debug-command", None, IMMUTABLE, PROTECTED_ACTION_ENUM, compat.enable_debug_command, 0, None),
    enumeration!("enable-module-command", None, IMMUTABLE, PROTECTED_ACTION_ENUM, compat.enable_module_command, 0, None),
    enumeration!("cluster-preferred-endpoint-type", None, MODIFIABLE, CLUSTER_ENDPOINT_ENUM, compat.cluster_preferred_endpoint_type, 0, None),
    enumeration!("propagation-error-behavior", None, MODIFIABLE, PROPAGATION_ERROR_ENUM, compat.propagation_error_behavior, 0, None),
    Directive {
        name: "shutdown-on-sigint",
        alias: None,
        flags: MULTI_ARG,
        apply: None,
        kind: Kind::Enum {
            default: 0,
            values: SHUTDOWN_ON_SIG_ENUM,
            multi: true,
            get: |c| c.compat.shutdown_on_sigint,
            set: |c, v| c.compat.shutdown_on_sigint = v,
            valid: None,
        },
    },
    Directive {
        name: "shutdown-on-sigterm",
        alias: None,
        flags: MULTI_ARG,
        apply: None,
        kind: Kind::Enum {
            default: 0,
            values: SHUTDOWN_ON_SIG_ENUM,
            multi: true,
            get: |c| c.compat.shutdown_on_sigterm,
            set: |c, v| c.compat.shutdown_on_sigterm = v,
            valid: None,
        },
    },
    // Integer configs
    int!("databases", None, IMMUTABLE, 1, INT_MAX, databases, 16, None),
    int!("port", None, MODIFIABLE, 0, 65535, port, 6379, Some(Apply::Port)),
    int!("io-threads", None, IMMUTABLE, 1, 128, compat.io_threads, 1, None, Some(one_thread)),
    int!("auto-aof-rewrite-percentage", None, MODIFIABLE, 0, INT_MAX, compat.auto_aof_rewrite_percentage, 100, None),
    int!("cluster-replica-validity-factor", Some("cluster-slave-validity-factor"), MODIFIABLE, 0, INT_MAX, compat.cluster_replica_validity_factor, 10, None),
    int!("list-max-listpack-size", Some("list-max-ziplist-size"), MODIFIABLE, INT_MIN, INT_MAX, compat.list_max_listpack_size, -2, None),
    int!("tcp-keepalive", None, MODIFIABLE, 0, INT_MAX, tcp_keepalive, 300, Some(Apply::TcpKeepalive)),
    int!("cluster-migration-barrier", None, MODIFIABLE, 0, INT_MAX, compat.cluster_migration_barrier, 1, None),
    int!("active-defrag-cycle-min", None, MODIFIABLE, 1, 99, compat.active_defrag_cycle_min, 1, None),
    int!("active-defrag-cycle-max", None, MODIFIABLE, 1, 99, compat.active_defrag_cycle_max, 25, None),
    int!("active-defrag-threshold-lower", None, MODIFIABLE, 0, 1000, compat.active_defrag_threshold_lower, 10, None),
    int!("active-defrag-threshold-upper", None, MODIFIABLE, 0, 1000, compat.active_defrag_threshold_upper, 100, None),
    int!("lfu-log-factor", None, MODIFIABLE, 0, INT_MAX, lfu_log_factor, 10, Some(Apply::Maxmemory)),
    int!("lfu-decay-time", None, MODIFIABLE, 0, INT_MAX, lfu_decay_time, 1, Some(Apply::Maxmemory)),
    int!("replica-priority", Some("slave-priority"), MODIFIABLE, 0, INT_MAX, compat.replica_priority, 100, None),
    int!("repl-diskless-sync-delay", None, MODIFIABLE, 0, INT_MAX, compat.repl_diskless_sync_delay, 5, None),
    int!("maxmemory-samples", None, MODIFIABLE, 1, INT_MAX, maxmemory_samples, 5, Some(Apply::Maxmemory)),
    int!("maxmemory-eviction-tenacity", None, MODIFIABLE, 0, 100, maxmemory_eviction_tenacity, 10, Some(Apply::Maxmemory)),
    int!("timeout", None, MODIFIABLE, 0, INT_MAX, timeout, 0, Some(Apply::Timeout)),
    int!("replica-announce-port", Some("slave-announce-port"), MODIFIABLE, 0, 65535, compat.replica_announce_port, 0, None),
    int!("tcp-backlog", None, IMMUTABLE, 0, INT_MAX, tcp_backlog, 511, None),
    int!("cluster-port", None, IMMUTABLE, 0, 65535, compat.cluster_port, 0, None),
    int!("cluster-announce-bus-port", None, MODIFIABLE, 0, 65535, compat.cluster_announce_bus_port, 0, None),
    int!("cluster-announce-port", None, MODIFIABLE, 0, 65535, compat.cluster_announce_port, 0, None),
    int!("cluster-announce-tls-port", None, MODIFIABLE, 0, 65535, compat.cluster_announce_tls_port, 0, None),
    int!("repl-timeout", None, MODIFIABLE, 1, INT_MAX, compat.repl_timeout, 60, None),
    int!("repl-ping-replica-period", Some("repl-ping-slave-period"), MODIFIABLE, 1, INT_MAX, compat.repl_ping_replica_period, 10, None),
    int!("list-compress-depth", None, MODIFIABLE, 0, INT_MAX, compat.list_compress_depth, 0, None, Some(no_list_compression)),
    int!("rdb-key-save-delay", None, HIDDEN, INT_MIN, INT_MAX, compat.rdb_key_save_delay, 0, None),
    int!("key-load-delay", None, HIDDEN, INT_MIN, INT_MAX, compat.key_load_delay, 0, None),
    int!("active-expire-effort", None, MODIFIABLE, 1, 10, compat.active_expire_effort, 1, None, None),
    Directive {
        name: "hz",
        alias: None,
        flags: MODIFIABLE,
        apply: Some(Apply::Hz),
        kind: Kind::Num {
            default: 10,
            min: 0,
            max: INT_MAX,
            unsigned: false,
            fmt: NumFmt::Int,
            get: |c| c.hz as i64,
            // Redis's updateHZ: a hint, clamped rather than refused.
            set: |c, v| c.hz = v.clamp(MIN_HZ, MAX_HZ) as i32,
            valid: None,
        },
    },
    int!("min-replicas-to-write", Some("min-slaves-to-write"), MODIFIABLE, 0, INT_MAX, compat.min_replicas_to_write, 0, None),
    int!("min-replicas-max-lag", Some("min-slaves-max-lag"), MODIFIABLE, 0, INT_MAX, compat.min_replicas_max_lag, 10, None),
    int!("watchdog-period", None, HIDDEN, 0, INT_MAX, compat.watchdog_period, 0, None, Some(no_watchdog)),
    int!("shutdown-timeout", None, MODIFIABLE, 0, INT_MAX, compat.shutdown_timeout, 10, None),
    int!("repl-diskless-sync-max-replicas", None, MODIFIABLE, 0, INT_MAX, compat.repl_diskless_sync_max_replicas, 0, None),
    // Unsigned int configs
    uint!("maxclients", None, MODIFIABLE, 1, UINT_MAX, NumFmt::Int, maxclients, 10000, Some(Apply::Maxclients)),
    uint!("unixsocketperm", None, IMMUTABLE, 0, 0o777, NumFmt::Octal, compat.unixsocketperm, 0, None),
    num!("socket-mark-id", None, IMMUTABLE, 0, UINT_MAX, true, NumFmt::Int, compat.socket_mark_id, 0, None, Some(no_socket_mark)),
    // Unsigned long configs
    uint!("active-defrag-max-scan-fields", None, MODIFIABLE, 1, LONG_MAX, NumFmt::Int, compat.active_defrag_max_scan_fields, 1000, None),
    uint!("slowlog-max-len", None, MODIFIABLE, 0, LONG_MAX, NumFmt::Int, compat.slowlog_max_len, 128, None),
    uint!("acllog-max-len", None, MODIFIABLE, 0, LONG_MAX, NumFmt::Int, compat.acllog_max_len, 128, None),
    // Long long configs
    int!("busy-reply-threshold", Some("lua-time-limit"), MODIFIABLE, 0, LONG_MAX, compat.busy_reply_threshold, 5000, None),
    int!("cluster-node-timeout", None, MODIFIABLE, 0, LLONG_MAX, compat.cluster_node_timeout, 15000, None),
    int!("slowlog-log-slower-than", None, MODIFIABLE, -1, LLONG_MAX, compat.slowlog_log_slower_than, 10000, None),
    int!("latency-monitor-threshold", None, MODIFIABLE, 0, LLONG_MAX, compat.latency_monitor_threshold, 0, None),
    num!("proto-max-bulk-len", None, MODIFIABLE, 1024 * 1024, LONG_MAX, false, NumFmt::Memory, proto_max_bulk_len, 512 * 1024 * 1024, Some(Apply::ProtoMaxBulkLen)),
    int!("stream-node-max-entries", None, MODIFIABLE, 0, LLONG_MAX, compat.stream_node_max_entries, 100, None),
    num!("repl-backlog-size", None, MODIFIABLE, 1, LLONG_MAX, false, NumFmt::Memory, compat.repl_backlog_size, 1024 * 1024, None),
    // Unsigned long long configs
    uint!("maxmemory", None, MODIFIABLE, 0, ULLONG_MAX, NumFmt::Memory, maxmemory, 0, Some(Apply::Maxmemory)),
    uint!("cluster-link-sendbuf-limit", None, MODIFIABLE, 0, ULLONG_MAX, NumFmt::Memory, compat.cluster_link_sendbuf_limit, 0, None),
    // Size_t configs
    uint!("hash-max-listpack-entries", Some("hash-max-ziplist-entries"), MODIFIABLE, 0, LONG_MAX, NumFmt::Int, compat.hash_max_listpack_entries, 512, None),
    uint!("set-max-intset-entries", None, MODIFIABLE, 0, LONG_MAX, NumFmt::Int, compat.set_max_intset_entries, 512, None),
    uint!("zset-max-listpack-entries", Some("zset-max-ziplist-entries"), MODIFIABLE, 0, LONG_MAX, NumFmt::Int, compat.zset_max_listpack_entries, 128, None),
    uint!("active-defrag-ignore-bytes", None, MODIFIABLE, 1, LLONG_MAX, NumFmt::Memory, compat.active_defrag_ignore_bytes, 100 << 20, None),
    uint!("hash-max-listpack-value", Some("hash-max-ziplist-value"), MODIFIABLE, 0, LONG_MAX, NumFmt::Memory, compat.hash_max_listpack_value, 64, None),
    uint!("stream-node-max-bytes", None, MODIFIABLE, 0, LONG_MAX, NumFmt::Memory, compat.stream_node_max_bytes, 4096, None),
    uint!("zset-max-listpack-value", Some("zset-max-ziplist-value"), MODIFIABLE, 0, LONG_MAX, NumFmt::Memory, compat.zset_max_listpack_value, 64, None),
    uint!("hll-sparse-max-bytes", None, MODIFIABLE, 0, LONG_MAX, NumFmt::Memory, compat.hll_sparse_max_bytes, 3000, None),
    uint!("tracking-table-max-keys", None, MODIFIABLE, 0, LONG_MAX, NumFmt::Int, compat.tracking_table_max_keys, 1000000, None),
    uint!("client-query-buffer-limit", None, MODIFIABLE, 1024 * 1024, LONG_MAX, NumFmt::Memory, client_query_buffer_limit, 1024 * 1024 * 1024, Some(Apply::ClientQueryBufferLimit)),
    num!("maxmemory-clients", None, MODIFIABLE, -100, SSIZE_MAX, false, NumFmt::MemoryPercent, compat.maxmemory_clients, 0, Some(Apply::MaxmemoryClients)),
    // Other configs
    int!("repl-backlog-ttl", None, MODIFIABLE, 0, LONG_MAX, compat.repl_backlog_ttl, 60 * 60, None),
    num!("auto-aof-rewrite-min-size", None, MODIFIABLE, 0, LLONG_MAX, false, NumFmt::Memory, compat.auto_aof_rewrite_min_size, 64 * 1024 * 1024, None),
    int!("loading-process-events-interval-bytes", None, HIDDEN, 1024, INT_MAX, compat.loading_process_events_interval_bytes, 1024 * 1024 * 2, None),
    // Special configs
    special!("dir", None, PROTECTED, ".", set_dir, get_dir, Some(Apply::Dir)),
    special!("save", None, MULTI_ARG, "3600 1 300 100 60 10000", set_save, get_save, Some(Apply::Save)),
    special!("client-output-buffer-limit", None, MULTI_ARG, "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60", set_obuf, get_obuf, Some(Apply::ClientOutputBufferLimit)),
    special!("oom-score-adj-values", None, MULTI_ARG, "0 200 800", set_oom_values, get_oom_values, Some(Apply::OomScoreAdj)),
    special!("notify-keyspace-events", None, MODIFIABLE, "", set_notify, get_notify, Some(Apply::NotifyKeyspaceEvents)),
    special!("bind", None, MULTI_ARG, "127.0.0.1 -::1", set_bind, get_bind, Some(Apply::Bind)),
    special!("replicaof", Some("slaveof"), IMMUTABLE | MULTI_ARG, "no one", set_replicaof, get_replicaof, None),
    special!("latency-tracking-info-percentiles", None, MULTI_ARG, "50 99 99.9", set_percentiles, get_percentiles, None),
];

/// A row found by name, with the name it was registered under (primary or alias).
#[derive(Clone, Copy)]
pub struct Found {
    pub row: &'static Directive,
    pub name: &'static str,
}

/// Looks a directive up by name or alias, ignoring ASCII case.
pub fn lookup(name: &[u8]) -> Option<Found> {
    TABLE.iter().find_map(|row| {
        if name.eq_ignore_ascii_case(row.name.as_bytes()) {
            Some(Found {
                row,
                name: row.name,
            })
        } else {
            row.alias
                .filter(|a| name.eq_ignore_ascii_case(a.as_bytes()))
                .map(|a| Found { row, name: a })
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_names_are_unique_lowercase() {
        let mut names: Vec<&str> = TABLE
            .iter()
            .flat_map(|r| std::iter::once(r.name).chain(r.alias))
            .collect();
        assert!(
            names
                .iter()
                .all(|n| n.bytes().all(|b| !b.is_ascii_uppercase()))
        );
        let n = names.len();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), n);
    }

    /// `replicaof host port` is a replica's start-up; a bad port is refused.
    #[test]
    fn replicaof_takes_a_master_and_refuses_a_bad_port() {
        let mut c = Config::new();
        assert!(c.set("replicaof", "127.0.0.1 6380").is_ok());
        assert_eq!(c.compat.replicaof, Some((b"127.0.0.1".to_vec(), 6380)));
        assert!(
            c.set("replicaof", "127.0.0.1 70000")
                .unwrap_err()
                .contains("port")
        );
        assert!(c.set("replicaof", "no one").is_ok());
        assert_eq!(c.compat.replicaof, None);
    }

    /// The directive audit: values ringkv cannot act on are refused, at start-up (the
    /// config file) and by CONFIG SET, with a text naming the directive; the defaults load.
    #[test]
    fn unsupported_values_are_refused_and_defaults_accepted() {
        for (name, bad, good) in [
            ("io-threads", "4", "1"),
            ("bgsave_cpulist", "1", ""),
            ("watchdog-period", "100", "0"),
            ("list-compress-depth", "1", "0"),
            ("socket-mark-id", "7", "0"),
        ] {
            let mut c = Config::new();
            let err = c.set(name, bad).unwrap_err();
            let word = name.split(['-', '_']).next().unwrap();
            assert!(
                err.contains(word) || err.contains("ringkv"),
                "{name}: {err}"
            );
            assert!(c.set(name, good).is_ok(), "{name} {good}");
            let mut c = Config::new();
            let text = format!("{name} {bad}\n");
            let e = super::super::Loader::new(&mut c)
                .load_str(text.as_bytes())
                .unwrap_err()
                .to_string();
            assert!(
                e.contains("FATAL CONFIG FILE ERROR") && e.contains(&*err),
                "{e}"
            );
            let text = format!("{name} \"{good}\"\n");
            assert!(
                super::super::Loader::new(&mut c)
                    .load_str(text.as_bytes())
                    .is_ok(),
                "{text}"
            );
        }
    }
}
