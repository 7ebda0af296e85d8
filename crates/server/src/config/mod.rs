//! Server configuration: every directive as one row of [`TABLE`], the redis.conf / command-line
//! loader, and CONFIG GET / SET / HELP.
//!
//! Redis 7.0.15 describes its configuration as data (`static_configs[]` in config.c): a name,
//! an optional alias, flags, a typed value (bool, number with bounds and units, enum, string or
//! a "special" with its own parser) and an apply hook. We do the same so a later issue adds a
//! directive by adding one row, and the loader, CONFIG GET, CONFIG SET (with rollback) and the
//! defaults all follow from it.
//!
//! Invariants:
//! - Defaults live only in the table: [`Config::default`] runs every row's setter with its
//!   default, so the struct and CONFIG GET cannot disagree.
//! - Values are validated by the row before being stored; a failed CONFIG SET leaves the
//!   config exactly as it was (earlier pairs are restored from their printed form, as Redis
//!   does).
//! - Texts (errors, the fatal load banner) are Redis 7.0.15's byte for byte.
//! - Nothing here does I/O on the live server: effects (rebinding, chdir, resizing limits)
//!   are the caller's, reached through [`Apply`] codes.
//!
//! Directives Redis has but ringkv does not act on yet are accepted and stored in
//! [`Compat`] so stock redis.conf files load and CONFIG GET answers; docs/CONFIG.md lists
//! which directives have an effect.

use std::borrow::Cow;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use engine::CmdError;
use resp::Reply;

/// The version Redis prints in the fatal config banner (and clients gate features on).
pub const REDIS_VERSION: &str = "7.0.15";

/// Redis's CONFIG_MIN_HZ / CONFIG_MAX_HZ: `hz` is a hint, clamped rather than refused.
pub const MIN_HZ: i64 = 1;
pub const MAX_HZ: i64 = 500;

/// Redis's CONFIG_BINDADDR_MAX.
const BINDADDR_MAX: usize = 16;

// ---------------------------------------------------------------------------------------
// The configuration values
// ---------------------------------------------------------------------------------------

/// `loglevel`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogLevel {
    Debug,
    Verbose,
    #[default]
    Notice,
    Warning,
}

/// `maxmemory-policy`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum MaxmemoryPolicy {
    VolatileLru,
    VolatileLfu,
    VolatileRandom,
    VolatileTtl,
    AllkeysLru,
    AllkeysLfu,
    AllkeysRandom,
    #[default]
    Noeviction,
}

/// Bits of `notify-keyspace-events` (Redis's `NOTIFY_*`): the engine's, which raises them.
pub use engine::notify;

/// One `client-output-buffer-limit` class.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ObufLimit {
    pub hard_bytes: u64,
    pub soft_bytes: u64,
    pub soft_seconds: i64,
}

/// Client classes of `client-output-buffer-limit`, in Redis's order.
pub const OBUF_CLASSES: [&str; 3] = ["normal", "slave", "pubsub"];

/// The whole configuration. Fields ringkv acts on are here; the rest are in [`Compat`].
#[derive(Clone, Debug, Default)]
pub struct Config {
    /// Absolute path of the config file given on the command line (INFO `config_file`,
    /// CONFIG REWRITE); not a directive.
    pub config_file: Option<PathBuf>,

    // --- network
    pub port: u16,
    /// `bind`: addresses to listen on; a leading `-` marks an optional one (Redis: skip it
    /// if the address is unavailable).
    pub bind: Vec<String>,
    pub tcp_backlog: i32,
    pub tcp_keepalive: i32,
    pub protected_mode: bool,
    /// `timeout`: close idle clients after this many seconds (0 = never).
    pub timeout: i32,
    pub maxclients: u32,

    // --- limits
    pub proto_max_bulk_len: i64,
    pub client_query_buffer_limit: u64,
    pub client_obuf_limits: [ObufLimit; 3],

    // --- general
    pub daemonize: bool,
    pub databases: i32,
    /// Effective `hz`, already clamped to [MIN_HZ, MAX_HZ].
    pub hz: i32,
    pub loglevel: LogLevel,
    /// `logfile`: empty = stdout.
    pub logfile: Vec<u8>,
    /// `dir`: absolute, canonical working directory (RDB/AOF files go here). The caller
    /// `chdir`s to it after loading and on [`Apply::Dir`].
    pub dir: PathBuf,
    pub pidfile: Vec<u8>,

    // --- keyspace
    /// `notify-keyspace-events` as [`notify`] bits.
    pub notify_keyspace_events: u32,
    pub maxmemory: u64,
    pub maxmemory_policy: MaxmemoryPolicy,
    pub maxmemory_samples: i32,

    // --- stored for later issues (persistence, auth)
    /// `save`: (seconds, changes) pairs.
    pub save: Vec<(i64, i64)>,
    pub appendonly: bool,
    /// `requirepass` (binary-safe; empty = no password). AUTH is a later issue.
    pub requirepass: Vec<u8>,

    /// `rename-command old new` lines, in order, for the command table to apply.
    pub rename_commands: Vec<(Vec<u8>, Vec<u8>)>,

    /// Accepted for compatibility, no effect yet.
    pub compat: Compat,
}

/// Directives Redis has that ringkv accepts and reports but does not act on (yet).
#[derive(Clone, Debug, Default)]
pub struct Compat {
    // bools
    pub rdbchecksum: bool,
    pub io_threads_do_reads: bool,
    pub always_show_logo: bool,
    pub rdbcompression: bool,
    pub rdb_del_sync_files: bool,
    pub activerehashing: bool,
    pub stop_writes_on_bgsave_error: bool,
    pub set_proc_title: bool,
    pub dynamic_hz: bool,
    pub lazyfree_lazy_eviction: bool,
    pub lazyfree_lazy_expire: bool,
    pub lazyfree_lazy_server_del: bool,
    pub lazyfree_lazy_user_del: bool,
    pub lazyfree_lazy_user_flush: bool,
    pub repl_disable_tcp_nodelay: bool,
    pub repl_diskless_sync: bool,
    pub aof_rewrite_incremental_fsync: bool,
    pub no_appendfsync_on_rewrite: bool,
    pub cluster_require_full_coverage: bool,
    pub rdb_save_incremental_fsync: bool,
    pub aof_load_truncated: bool,
    pub aof_use_rdb_preamble: bool,
    pub aof_timestamp_enabled: bool,
    pub cluster_replica_no_failover: bool,
    pub replica_lazy_flush: bool,
    pub replica_serve_stale_data: bool,
    pub replica_read_only: bool,
    pub replica_ignore_maxmemory: bool,
    pub jemalloc_bg_thread: bool,
    pub activedefrag: bool,
    pub syslog_enabled: bool,
    pub cluster_enabled: bool,
    pub cluster_allow_reads_when_down: bool,
    pub cluster_allow_pubsubshard_when_down: bool,
    pub crash_log_enabled: bool,
    pub crash_memcheck_enabled: bool,
    pub use_exit_on_panic: bool,
    pub disable_thp: bool,
    pub cluster_allow_replica_migration: bool,
    pub replica_announced: bool,
    pub latency_tracking: bool,
    pub aof_disable_auto_gc: bool,
    pub replica_ignore_disk_write_errors: bool,
    // strings
    pub aclfile: Vec<u8>,
    pub unixsocket: Vec<u8>,
    pub replica_announce_ip: Vec<u8>,
    pub masteruser: Vec<u8>,
    pub cluster_announce_ip: Vec<u8>,
    pub cluster_config_file: Vec<u8>,
    pub cluster_announce_hostname: Vec<u8>,
    pub syslog_ident: Vec<u8>,
    pub dbfilename: Vec<u8>,
    pub appendfilename: Vec<u8>,
    pub appenddirname: Vec<u8>,
    pub server_cpulist: Vec<u8>,
    pub bio_cpulist: Vec<u8>,
    pub aof_rewrite_cpulist: Vec<u8>,
    pub bgsave_cpulist: Vec<u8>,
    pub ignore_warnings: Vec<u8>,
    pub proc_title_template: Vec<u8>,
    pub bind_source_addr: Vec<u8>,
    pub masterauth: Vec<u8>,
    // enums (index values of the row's table)
    pub supervised: u8,
    pub syslog_facility: u8,
    pub repl_diskless_load: u8,
    pub appendfsync: u8,
    pub oom_score_adj: u8,
    pub acl_pubsub_default: u8,
    pub sanitize_dump_payload: u8,
    pub enable_protected_configs: u8,
    pub enable_debug_command: u8,
    pub enable_module_command: u8,
    pub cluster_preferred_endpoint_type: u8,
    pub propagation_error_behavior: u8,
    pub shutdown_on_sigint: u8,
    pub shutdown_on_sigterm: u8,
    // numbers
    pub io_threads: i64,
    pub auto_aof_rewrite_percentage: i64,
    pub cluster_replica_validity_factor: i64,
    pub list_max_listpack_size: i64,
    pub cluster_migration_barrier: i64,
    pub active_defrag_cycle_min: i64,
    pub active_defrag_cycle_max: i64,
    pub active_defrag_threshold_lower: i64,
    pub active_defrag_threshold_upper: i64,
    pub lfu_log_factor: i64,
    pub lfu_decay_time: i64,
    pub replica_priority: i64,
    pub repl_diskless_sync_delay: i64,
    pub maxmemory_eviction_tenacity: i64,
    pub replica_announce_port: i64,
    pub cluster_port: i64,
    pub cluster_announce_bus_port: i64,
    pub cluster_announce_port: i64,
    pub cluster_announce_tls_port: i64,
    pub repl_timeout: i64,
    pub repl_ping_replica_period: i64,
    pub list_compress_depth: i64,
    pub rdb_key_save_delay: i64,
    pub key_load_delay: i64,
    pub active_expire_effort: i64,
    pub min_replicas_to_write: i64,
    pub min_replicas_max_lag: i64,
    pub watchdog_period: i64,
    pub shutdown_timeout: i64,
    pub repl_diskless_sync_max_replicas: i64,
    pub unixsocketperm: i64,
    pub socket_mark_id: i64,
    pub active_defrag_max_scan_fields: i64,
    pub slowlog_max_len: i64,
    pub acllog_max_len: i64,
    pub busy_reply_threshold: i64,
    pub cluster_node_timeout: i64,
    pub slowlog_log_slower_than: i64,
    pub latency_monitor_threshold: i64,
    pub stream_node_max_entries: i64,
    pub repl_backlog_size: i64,
    pub cluster_link_sendbuf_limit: i64,
    pub hash_max_listpack_entries: i64,
    pub set_max_intset_entries: i64,
    pub zset_max_listpack_entries: i64,
    pub active_defrag_ignore_bytes: i64,
    pub hash_max_listpack_value: i64,
    pub stream_node_max_bytes: i64,
    pub zset_max_listpack_value: i64,
    pub hll_sparse_max_bytes: i64,
    pub tracking_table_max_keys: i64,
    pub maxmemory_clients: i64,
    pub repl_backlog_ttl: i64,
    pub auto_aof_rewrite_min_size: i64,
    pub loading_process_events_interval_bytes: i64,
    // specials
    pub replicaof: Option<(Vec<u8>, i64)>,
    pub oom_score_adj_values: [i64; 3],
    /// Stored as given: `%f` then trailing zeros trimmed when printed.
    pub latency_tracking_info_percentiles: Vec<f64>,
}

// ---------------------------------------------------------------------------------------
// The table
// ---------------------------------------------------------------------------------------

/// Row flags (Redis's `*_CONFIG` flags that matter here).
pub mod flags {
    /// Only settable at startup (`can't set immutable config`).
    pub const IMMUTABLE: u8 = 1 << 0;
    /// The value is a secret (redacted from logs/slowlog by the caller).
    pub const SENSITIVE: u8 = 1 << 1;
    /// The value is several words (`save 900 1`, `bind a b`).
    pub const MULTI_ARG: u8 = 1 << 2;
    /// Not listed by patterns in CONFIG GET; an exact name still works.
    pub const HIDDEN: u8 = 1 << 3;
    /// Settable at runtime only if `enable-protected-configs` allows it.
    pub const PROTECTED: u8 = 1 << 4;
}

/// Effects on the live server a changed directive needs (Redis's apply functions). Each
/// distinct code is applied once per CONFIG SET, after all values are set; if applying
/// fails, every value is restored and the codes are applied again with the old values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Apply {
    /// Listen on the new `port`.
    Port,
    /// Rebind to `bind`.
    Bind,
    /// Resize for `maxclients` (fail with Redis's text if the fd limit cannot follow).
    Maxclients,
    /// `hz` changed (already clamped): active expiry / cron frequency.
    Hz,
    /// `proto-max-bulk-len`: copy into the parser limits and `EngineConfig`.
    ProtoMaxBulkLen,
    /// `client-query-buffer-limit`.
    ClientQueryBufferLimit,
    /// `maxmemory` / `maxmemory-policy`.
    Maxmemory,
    /// `timeout`: idle client timeout.
    Timeout,
    /// `loglevel`.
    Loglevel,
    /// `dir`: chdir.
    Dir,
    /// `requirepass`.
    Requirepass,
    /// `appendonly`.
    Appendonly,
    /// `save` parameters.
    Save,
    /// `notify-keyspace-events`.
    NotifyKeyspaceEvents,
    /// `tcp-keepalive` (for newly accepted sockets).
    TcpKeepalive,
    /// `client-output-buffer-limit`.
    ClientOutputBufferLimit,
}

/// A set of [`Apply`] codes: what a CONFIG SET changed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Applied(u32);

#[allow(
    dead_code,
    reason = "API for the loop; not every caller needs every query"
)]
impl Applied {
    #[inline]
    pub fn contains(self, a: Apply) -> bool {
        self.0 & (1 << a as u8) != 0
    }
    #[inline]
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
    #[inline]
    fn insert(&mut self, a: Apply) -> bool {
        let had = self.contains(a);
        self.0 |= 1 << a as u8;
        !had
    }
    /// The codes in declaration order.
    pub fn iter(self) -> impl Iterator<Item = Apply> {
        ALL_APPLY.iter().copied().filter(move |a| self.contains(*a))
    }
}

const ALL_APPLY: [Apply; 16] = [
    Apply::Port,
    Apply::Bind,
    Apply::Maxclients,
    Apply::Hz,
    Apply::ProtoMaxBulkLen,
    Apply::ClientQueryBufferLimit,
    Apply::Maxmemory,
    Apply::Timeout,
    Apply::Loglevel,
    Apply::Dir,
    Apply::Requirepass,
    Apply::Appendonly,
    Apply::Save,
    Apply::NotifyKeyspaceEvents,
    Apply::TcpKeepalive,
    Apply::ClientOutputBufferLimit,
];

/// An error text from a setter (Redis's `const char **err`), without any prefix.
pub type SetErr = Cow<'static, str>;

/// A row's extra validation of a parsed value (Redis's `is_valid_fn`).
pub type Validator<T> = Option<fn(T) -> Result<(), &'static str>>;

/// [`Validator`] for string values (any lifetime).
pub type StrValidator = Option<fn(&[u8]) -> Result<(), &'static str>>;

/// A special row's setter: the words of the value, and how a file's repeated lines combine.
pub type SpecialSet = fn(&mut Config, &[&[u8]], SetMode) -> Result<(), SetErr>;

/// A CONFIG SET apply hook: performs one [`Apply`] on the live server with the new config.
pub type ApplyFn<'a> = dyn FnMut(&Config, Apply) -> Result<(), SetErr> + 'a;

/// How a number is written and read (Redis's numeric config flags).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NumFmt {
    /// Plain integer (`string2ll`).
    Int,
    /// Memory value with units (`1gb`), printed as plain bytes.
    Memory,
    /// Memory or `N%` (stored negative), printed back as `N%`.
    MemoryPercent,
    /// Octal (`unixsocketperm`).
    Octal,
}

/// How a `save`-style special applies several lines of a config file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SetMode {
    /// CONFIG SET, or the first such line of a file: replace the value.
    Replace,
    /// A later line of the same file: add to it (`save` lines accumulate).
    Append,
}

/// The typed part of a row.
pub enum Kind {
    Bool {
        default: bool,
        get: fn(&Config) -> bool,
        set: fn(&mut Config, bool),
        valid: Validator<bool>,
    },
    Num {
        default: i64,
        /// Bounds as Redis's `long long`; for `unsigned` rows compared as `u64` (so
        /// `max: -1` is ULLONG_MAX).
        min: i64,
        max: i64,
        unsigned: bool,
        fmt: NumFmt,
        get: fn(&Config) -> i64,
        set: fn(&mut Config, i64),
    },
    Enum {
        default: u8,
        /// Name → value; several names may share a value (the first is printed).
        values: &'static [(&'static str, u8)],
        /// Values are bit flags and several names may be given (`save now`).
        multi: bool,
        get: fn(&Config) -> u8,
        set: fn(&mut Config, u8),
    },
    Str {
        default: &'static str,
        get: fn(&Config) -> &[u8],
        set: fn(&mut Config, &[u8]),
        valid: StrValidator,
    },
    Special {
        /// Default as it would be written in a config file (split on spaces).
        default: &'static str,
        set: SpecialSet,
        get: fn(&Config, &mut Vec<u8>),
    },
}

/// One directive.
pub struct Directive {
    pub name: &'static str,
    pub alias: Option<&'static str>,
    /// Bitset of [`flags`].
    pub flags: u8,
    pub kind: Kind,
    pub apply: Option<Apply>,
}

impl Directive {
    #[inline]
    pub fn has(&self, f: u8) -> bool {
        self.flags & f != 0
    }

    /// Appends the value as CONFIG GET prints it.
    pub fn get_into(&self, cfg: &Config, out: &mut Vec<u8>) {
        match &self.kind {
            Kind::Bool { get, .. } => out.extend_from_slice(if get(cfg) { b"yes" } else { b"no" }),
            Kind::Num { get, fmt, .. } => fmt_num(get(cfg), *fmt, out),
            Kind::Enum {
                get, values, multi, ..
            } => fmt_enum(get(cfg), values, *multi, out),
            Kind::Str { get, .. } => out.extend_from_slice(get(cfg)),
            Kind::Special { get, .. } => get(cfg, out),
        }
    }

    /// The value as CONFIG GET prints it.
    pub fn get(&self, cfg: &Config) -> Vec<u8> {
        let mut v = Vec::new();
        self.get_into(cfg, &mut v);
        v
    }

    /// Sets from already split arguments (one for single-value rows).
    pub fn set(&self, cfg: &mut Config, argv: &[&[u8]], mode: SetMode) -> Result<(), SetErr> {
        let one = || -> Result<&[u8], SetErr> {
            match argv {
                [v] => Ok(v),
                _ => Err(Cow::Borrowed("wrong number of arguments")),
            }
        };
        match &self.kind {
            Kind::Bool { set, valid, .. } => {
                let v = one()?;
                let b = if v.eq_ignore_ascii_case(b"yes") {
                    true
                } else if v.eq_ignore_ascii_case(b"no") {
                    false
                } else {
                    return Err(Cow::Borrowed("argument must be 'yes' or 'no'"));
                };
                if let Some(valid) = valid {
                    valid(b)?;
                }
                set(cfg, b);
                Ok(())
            }
            Kind::Num {
                min,
                max,
                unsigned,
                fmt,
                set,
                ..
            } => {
                let v = parse_num(one()?, *fmt)?;
                check_bounds(v, *min, *max, *unsigned, *fmt)?;
                set(cfg, v);
                Ok(())
            }
            Kind::Enum {
                values, multi, set, ..
            } => {
                let v = parse_enum(argv, values, *multi)?;
                set(cfg, v);
                Ok(())
            }
            Kind::Str { set, valid, .. } => {
                let v = one()?;
                if let Some(valid) = valid {
                    valid(v)?;
                }
                set(cfg, v);
                Ok(())
            }
            Kind::Special { set, .. } => set(cfg, argv, mode),
        }
    }

    fn set_default(&self, cfg: &mut Config) {
        let r = match &self.kind {
            Kind::Bool { default, set, .. } => {
                set(cfg, *default);
                Ok(())
            }
            Kind::Num { default, set, .. } => {
                set(cfg, *default);
                Ok(())
            }
            Kind::Enum { default, set, .. } => {
                set(cfg, *default);
                Ok(())
            }
            Kind::Str { default, set, .. } => {
                set(cfg, default.as_bytes());
                Ok(())
            }
            Kind::Special { default, set, .. } => {
                let args = split_for_set(self, default.as_bytes());
                set(cfg, &args, SetMode::Replace)
            }
        };
        debug_assert!(r.is_ok(), "default of {} must be valid", self.name);
    }
}

fn fmt_num(v: i64, fmt: NumFmt, out: &mut Vec<u8>) {
    use std::io::Write;
    let _ = match fmt {
        NumFmt::MemoryPercent if v < 0 => write!(out, "{}%", v.unsigned_abs()),
        // Redis prints memory values with ull2string.
        NumFmt::Memory | NumFmt::MemoryPercent => write!(out, "{}", v as u64),
        NumFmt::Octal => write!(out, "{:o}", v),
        NumFmt::Int => write!(out, "{}", v),
    };
}

fn fmt_enum(v: u8, values: &[(&str, u8)], multi: bool, out: &mut Vec<u8>) {
    if multi && v != 0 {
        let mut first = true;
        for &(name, bit) in values {
            if bit != 0 && v & bit == bit {
                if !first {
                    out.push(b' ');
                }
                first = false;
                out.extend_from_slice(name.as_bytes());
            }
        }
        return;
    }
    let name = values
        .iter()
        .find(|&&(_, x)| x == v)
        .map_or("unknown", |&(n, _)| n);
    out.extend_from_slice(name.as_bytes());
}

fn parse_enum(argv: &[&[u8]], values: &[(&str, u8)], multi: bool) -> Result<u8, SetErr> {
    let lookup = |a: &[u8]| {
        values
            .iter()
            .find(|(n, _)| a.eq_ignore_ascii_case(n.as_bytes()))
            .map(|&(_, v)| v)
    };
    let bad = || {
        let mut s = String::from("argument(s) must be one of the following: ");
        for (i, (n, _)) in values.iter().enumerate() {
            if i > 0 {
                s.push_str(", ");
            }
            s.push_str(n);
        }
        Cow::Owned(s)
    };
    if !multi && argv.len() != 1 {
        return Err(Cow::Borrowed("wrong number of arguments"));
    }
    if argv.is_empty() {
        return Err(bad());
    }
    let mut v = 0u8;
    for a in argv {
        v |= lookup(a).ok_or_else(bad)?;
    }
    Ok(v)
}

/// Redis's `memtoull`: digits with an optional unit (b, k, kb, m, mb, g, gb; any case).
/// `None` on a sign, a bad unit or overflow. Like Redis, no digits at all reads as 0 and a
/// too-large digit string saturates (strtoull) before the unit is applied.
pub fn parse_memory(s: &[u8]) -> Option<u64> {
    if s.first() == Some(&b'-') {
        return None;
    }
    let digits = s.iter().take_while(|b| b.is_ascii_digit()).count();
    let unit = &s[digits..];
    let mul: u64 = match unit.to_ascii_lowercase().as_slice() {
        b"" | b"b" => 1,
        b"k" => 1000,
        b"kb" => 1024,
        b"m" => 1000 * 1000,
        b"mb" => 1024 * 1024,
        b"g" => 1000 * 1000 * 1000,
        b"gb" => 1024 * 1024 * 1024,
        _ => return None,
    };
    if digits >= 128 {
        return None;
    }
    let mut val: u64 = 0;
    for &d in &s[..digits] {
        val = val
            .checked_mul(10)
            .and_then(|v| v.checked_add((d - b'0') as u64))
            .unwrap_or(u64::MAX);
        if val == u64::MAX {
            break;
        }
    }
    val.checked_mul(mul)
}

fn parse_num(s: &[u8], fmt: NumFmt) -> Result<i64, SetErr> {
    if matches!(fmt, NumFmt::Memory | NumFmt::MemoryPercent)
        && let Some(v) = parse_memory(s)
    {
        // Redis stores memtoull's result in a long long.
        return Ok(v as i64);
    }
    if fmt == NumFmt::MemoryPercent
        && let Some(digits) = s.strip_suffix(b"%")
        && let Some(v) = resp::num::parse_i64(digits)
        && v >= 0
    {
        // Percentages are stored negative.
        return Ok(-v);
    }
    if fmt == NumFmt::Octal
        && let Some(v) = parse_octal(s)
    {
        return Ok(v);
    }
    if fmt == NumFmt::Int
        && let Some(v) = resp::num::parse_i64(s)
    {
        return Ok(v);
    }
    Err(Cow::Borrowed(match fmt {
        NumFmt::MemoryPercent => "argument must be a memory or percent value",
        NumFmt::Memory => "argument must be a memory value",
        NumFmt::Octal => "argument couldn't be parsed as an octal number",
        NumFmt::Int => "argument couldn't be parsed into an integer",
    }))
}

/// `strtoll(s, &end, 8)` over the whole string: optional leading space and sign.
fn parse_octal(s: &[u8]) -> Option<i64> {
    let s = std::str::from_utf8(s).ok()?;
    let t = s.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let (neg, d) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    if d.is_empty() || !d.bytes().all(|b| (b'0'..=b'7').contains(&b)) {
        return None;
    }
    let v = i64::from_str_radix(d, 8).ok()?;
    Some(if neg { -v } else { v })
}

fn check_bounds(v: i64, min: i64, max: i64, unsigned: bool, fmt: NumFmt) -> Result<(), SetErr> {
    if unsigned {
        let (u, lo, hi) = (v as u64, min as u64, max as u64);
        if u > hi || u < lo {
            return Err(Cow::Owned(if fmt == NumFmt::Octal {
                format!("argument must be between {lo:o} and {hi:o} inclusive")
            } else {
                format!("argument must be between {lo} and {hi} inclusive")
            }));
        }
    } else if fmt == NumFmt::MemoryPercent && v < 0 {
        if v < min {
            return Err(Cow::Owned(format!(
                "percentage argument must be less or equal to {}",
                -(min as i128)
            )));
        }
    } else if v > max || v < min {
        return Err(Cow::Owned(format!(
            "argument must be between {min} and {max} inclusive"
        )));
    }
    Ok(())
}

/// Splits on single spaces as Redis's `sdssplitlen(value, " ")` for CONFIG SET of a
/// multi-word directive; an empty value is zero words.
fn split_spaces(v: &[u8]) -> Vec<&[u8]> {
    if v.is_empty() {
        return Vec::new();
    }
    v.split(|&b| b == b' ').collect()
}

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
            },
        }
    };
}

macro_rules! int {
    ($name:literal, $alias:expr, $flags:expr, $min:expr, $max:expr, $($f:ident).+, $def:expr, $apply:expr) => {
        num!($name, $alias, $flags, $min as i64, $max as i64, false, NumFmt::Int, $($f).+, $def, $apply)
    };
}

macro_rules! uint {
    ($name:literal, $alias:expr, $flags:expr, $min:expr, $max:expr, $fmt:expr, $($f:ident).+, $def:expr, $apply:expr) => {
        num!($name, $alias, $flags, $min as i64, $max as i64, true, $fmt, $($f).+, $def, $apply)
    };
}

macro_rules! enumeration {
    ($name:literal, $alias:expr, $flags:expr, $values:expr, $($f:ident).+, $def:expr, $apply:expr) => {
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
        _ => Noeviction,
    }
}

fn no_cluster(v: bool) -> Result<(), &'static str> {
    if v {
        Err("ringkv does not support cluster mode")
    } else {
        Ok(())
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
    boolean!("aof-timestamp-enabled", None, MODIFIABLE, compat.aof_timestamp_enabled, false, None),
    boolean!("cluster-replica-no-failover", Some("cluster-slave-no-failover"), MODIFIABLE, compat.cluster_replica_no_failover, false, None),
    boolean!("replica-lazy-flush", Some("slave-lazy-flush"), MODIFIABLE, compat.replica_lazy_flush, false, None),
    boolean!("replica-serve-stale-data", Some("slave-serve-stale-data"), MODIFIABLE, compat.replica_serve_stale_data, true, None),
    boolean!("replica-read-only", Some("slave-read-only"), MODIFIABLE, compat.replica_read_only, true, None),
    boolean!("replica-ignore-maxmemory", Some("slave-ignore-maxmemory"), MODIFIABLE, compat.replica_ignore_maxmemory, true, None),
    boolean!("jemalloc-bg-thread", None, MODIFIABLE, compat.jemalloc_bg_thread, true, None),
    boolean!("activedefrag", None, MODIFIABLE, compat.activedefrag, false, None, Some(no_defrag)),
    boolean!("syslog-enabled", None, IMMUTABLE, compat.syslog_enabled, false, None),
    boolean!("cluster-enabled", None, IMMUTABLE, compat.cluster_enabled, false, None, Some(no_cluster)),
    boolean!("appendonly", None, MODIFIABLE, appendonly, false, Some(Apply::Appendonly)),
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
    string!("unixsocket", None, IMMUTABLE, compat.unixsocket, "", None),
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
    string!("server_cpulist", None, IMMUTABLE, compat.server_cpulist, "", None),
    string!("bio_cpulist", None, IMMUTABLE, compat.bio_cpulist, "", None),
    string!("aof_rewrite_cpulist", None, IMMUTABLE, compat.aof_rewrite_cpulist, "", None),
    string!("bgsave_cpulist", None, IMMUTABLE, compat.bgsave_cpulist, "", None),
    string!("ignore-warnings", None, MODIFIABLE, compat.ignore_warnings, "", None),
    string!("proc-title-template", None, MODIFIABLE, compat.proc_title_template, "{title} {listen-addr} {server-mode}", None),
    string!("bind-source-addr", None, MODIFIABLE, compat.bind_source_addr, "", None),
    string!("logfile", None, IMMUTABLE, logfile, "", None),
    // SDS configs
    string!("masterauth", None, SENSITIVE, compat.masterauth, "", None),
    string!("requirepass", None, SENSITIVE, requirepass, "", Some(Apply::Requirepass)),
    // Enum configs
    enumeration!("supervised", None, IMMUTABLE, SUPERVISED_ENUM, compat.supervised, 0, None),
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
        },
    },
    enumeration!("appendfsync", None, MODIFIABLE, AOF_FSYNC_ENUM, compat.appendfsync, 0, None),
    enumeration!("oom-score-adj", None, MODIFIABLE, OOM_SCORE_ADJ_ENUM, compat.oom_score_adj, 0, None),
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
        },
    },
    // Integer configs
    int!("databases", None, IMMUTABLE, 1, INT_MAX, databases, 16, None),
    int!("port", None, MODIFIABLE, 0, 65535, port, 6379, Some(Apply::Port)),
    int!("io-threads", None, IMMUTABLE, 1, 128, compat.io_threads, 1, None),
    int!("auto-aof-rewrite-percentage", None, MODIFIABLE, 0, INT_MAX, compat.auto_aof_rewrite_percentage, 100, None),
    int!("cluster-replica-validity-factor", Some("cluster-slave-validity-factor"), MODIFIABLE, 0, INT_MAX, compat.cluster_replica_validity_factor, 10, None),
    int!("list-max-listpack-size", Some("list-max-ziplist-size"), MODIFIABLE, INT_MIN, INT_MAX, compat.list_max_listpack_size, -2, None),
    int!("tcp-keepalive", None, MODIFIABLE, 0, INT_MAX, tcp_keepalive, 300, Some(Apply::TcpKeepalive)),
    int!("cluster-migration-barrier", None, MODIFIABLE, 0, INT_MAX, compat.cluster_migration_barrier, 1, None),
    int!("active-defrag-cycle-min", None, MODIFIABLE, 1, 99, compat.active_defrag_cycle_min, 1, None),
    int!("active-defrag-cycle-max", None, MODIFIABLE, 1, 99, compat.active_defrag_cycle_max, 25, None),
    int!("active-defrag-threshold-lower", None, MODIFIABLE, 0, 1000, compat.active_defrag_threshold_lower, 10, None),
    int!("active-defrag-threshold-upper", None, MODIFIABLE, 0, 1000, compat.active_defrag_threshold_upper, 100, None),
    int!("lfu-log-factor", None, MODIFIABLE, 0, INT_MAX, compat.lfu_log_factor, 10, None),
    int!("lfu-decay-time", None, MODIFIABLE, 0, INT_MAX, compat.lfu_decay_time, 1, None),
    int!("replica-priority", Some("slave-priority"), MODIFIABLE, 0, INT_MAX, compat.replica_priority, 100, None),
    int!("repl-diskless-sync-delay", None, MODIFIABLE, 0, INT_MAX, compat.repl_diskless_sync_delay, 5, None),
    int!("maxmemory-samples", None, MODIFIABLE, 1, INT_MAX, maxmemory_samples, 5, None),
    int!("maxmemory-eviction-tenacity", None, MODIFIABLE, 0, 100, compat.maxmemory_eviction_tenacity, 10, None),
    int!("timeout", None, MODIFIABLE, 0, INT_MAX, timeout, 0, Some(Apply::Timeout)),
    int!("replica-announce-port", Some("slave-announce-port"), MODIFIABLE, 0, 65535, compat.replica_announce_port, 0, None),
    int!("tcp-backlog", None, IMMUTABLE, 0, INT_MAX, tcp_backlog, 511, None),
    int!("cluster-port", None, IMMUTABLE, 0, 65535, compat.cluster_port, 0, None),
    int!("cluster-announce-bus-port", None, MODIFIABLE, 0, 65535, compat.cluster_announce_bus_port, 0, None),
    int!("cluster-announce-port", None, MODIFIABLE, 0, 65535, compat.cluster_announce_port, 0, None),
    int!("cluster-announce-tls-port", None, MODIFIABLE, 0, 65535, compat.cluster_announce_tls_port, 0, None),
    int!("repl-timeout", None, MODIFIABLE, 1, INT_MAX, compat.repl_timeout, 60, None),
    int!("repl-ping-replica-period", Some("repl-ping-slave-period"), MODIFIABLE, 1, INT_MAX, compat.repl_ping_replica_period, 10, None),
    int!("list-compress-depth", None, MODIFIABLE, 0, INT_MAX, compat.list_compress_depth, 0, None),
    int!("rdb-key-save-delay", None, HIDDEN, INT_MIN, INT_MAX, compat.rdb_key_save_delay, 0, None),
    int!("key-load-delay", None, HIDDEN, INT_MIN, INT_MAX, compat.key_load_delay, 0, None),
    int!("active-expire-effort", None, MODIFIABLE, 1, 10, compat.active_expire_effort, 1, None),
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
        },
    },
    int!("min-replicas-to-write", Some("min-slaves-to-write"), MODIFIABLE, 0, INT_MAX, compat.min_replicas_to_write, 0, None),
    int!("min-replicas-max-lag", Some("min-slaves-max-lag"), MODIFIABLE, 0, INT_MAX, compat.min_replicas_max_lag, 10, None),
    int!("watchdog-period", None, HIDDEN, 0, INT_MAX, compat.watchdog_period, 0, None),
    int!("shutdown-timeout", None, MODIFIABLE, 0, INT_MAX, compat.shutdown_timeout, 10, None),
    int!("repl-diskless-sync-max-replicas", None, MODIFIABLE, 0, INT_MAX, compat.repl_diskless_sync_max_replicas, 0, None),
    // Unsigned int configs
    uint!("maxclients", None, MODIFIABLE, 1, UINT_MAX, NumFmt::Int, maxclients, 10000, Some(Apply::Maxclients)),
    uint!("unixsocketperm", None, IMMUTABLE, 0, 0o777, NumFmt::Octal, compat.unixsocketperm, 0, None),
    uint!("socket-mark-id", None, IMMUTABLE, 0, UINT_MAX, NumFmt::Int, compat.socket_mark_id, 0, None),
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
    num!("maxmemory-clients", None, MODIFIABLE, -100, SSIZE_MAX, false, NumFmt::MemoryPercent, compat.maxmemory_clients, 0, None),
    // Other configs
    int!("repl-backlog-ttl", None, MODIFIABLE, 0, LONG_MAX, compat.repl_backlog_ttl, 60 * 60, None),
    num!("auto-aof-rewrite-min-size", None, MODIFIABLE, 0, LLONG_MAX, false, NumFmt::Memory, compat.auto_aof_rewrite_min_size, 64 * 1024 * 1024, None),
    int!("loading-process-events-interval-bytes", None, HIDDEN, 1024, INT_MAX, compat.loading_process_events_interval_bytes, 1024 * 1024 * 2, None),
    // Special configs
    special!("dir", None, PROTECTED, ".", set_dir, get_dir, Some(Apply::Dir)),
    special!("save", None, MULTI_ARG, "3600 1 300 100 60 10000", set_save, get_save, Some(Apply::Save)),
    special!("client-output-buffer-limit", None, MULTI_ARG, "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60", set_obuf, get_obuf, Some(Apply::ClientOutputBufferLimit)),
    special!("oom-score-adj-values", None, MULTI_ARG, "0 200 800", set_oom_values, get_oom_values, None),
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

impl Config {
    /// Redis's defaults (except `bind`, see docs/CONFIG.md).
    pub fn new() -> Config {
        let mut c = Config::default();
        for row in TABLE {
            row.set_default(&mut c);
        }
        c
    }

    #[allow(dead_code, reason = "for programmatic startup settings and tests")]
    /// Sets one directive by name as CONFIG SET would (without the immutable/protected
    /// checks: for startup and tests). Multi-word values are split on spaces.
    pub fn set(&mut self, name: &str, value: &str) -> Result<(), SetErr> {
        let f = lookup(name.as_bytes()).ok_or(Cow::Borrowed("Config name not found"))?;
        let args = if f.row.has(MULTI_ARG) {
            split_spaces(value.as_bytes())
        } else {
            vec![value.as_bytes()]
        };
        f.row.set(self, &args, SetMode::Replace)
    }

    /// The value of one directive as CONFIG GET prints it.
    pub fn get(&self, name: &str) -> Option<Vec<u8>> {
        lookup(name.as_bytes()).map(|f| f.row.get(self))
    }

    /// The fields the engine consults.
    pub fn engine_config(&self) -> engine::EngineConfig {
        engine::EngineConfig {
            databases: self.databases as usize,
            hz: self.hz as u32,
            proto_max_bulk_len: self.proto_max_bulk_len as u64,
            set_max_intset_entries: self.compat.set_max_intset_entries.max(0) as usize,
            notify_keyspace_events: self.notify_keyspace_events,
            zset_limits: engine::object::zset::ZLimits {
                max_entries: self.compat.zset_max_listpack_entries.max(0) as usize,
                max_value: self.compat.zset_max_listpack_value.max(0) as usize,
            },
            hash_limits: engine::object::hash::HashLimits {
                max_listpack_entries: self.compat.hash_max_listpack_entries.max(0) as usize,
                max_listpack_value: self.compat.hash_max_listpack_value.max(0) as usize,
            },
            list_max_listpack_size: self.compat.list_max_listpack_size,
        }
    }

    /// Whether runtime changes to protected configs (`dir`, `dbfilename`) are allowed for a
    /// client (`enable-protected-configs yes|local`).
    pub fn protected_allowed(&self, client_is_local: bool) -> bool {
        match self.compat.enable_protected_configs {
            1 => true,
            2 => client_is_local,
            _ => false,
        }
    }
}

// ---------------------------------------------------------------------------------------
// redis.conf and command line
// ---------------------------------------------------------------------------------------

/// Splits a line as Redis's `sdssplitargs`: blanks separate words, `"..."` with `\n \r \t
/// \b \a \xHH \<c>` escapes, `'...'` with `\'`; a closing quote must be followed by a blank
/// or the end. `None` on unbalanced quotes. A NUL byte ends the line (C string).
pub fn split_args(line: &[u8]) -> Option<Vec<Vec<u8>>> {
    let end = line.iter().position(|&b| b == 0).unwrap_or(line.len());
    let line = &line[..end];
    let at = |i: usize| line.get(i).copied().unwrap_or(0);
    let is_space = |c: u8| matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c);
    let mut out = Vec::new();
    let mut p = 0;
    loop {
        while p < line.len() && is_space(line[p]) {
            p += 1;
        }
        if p >= line.len() {
            return Some(out);
        }
        let mut cur = Vec::new();
        let (mut inq, mut insq) = (false, false);
        loop {
            let c = at(p);
            if inq {
                if c == b'\\'
                    && at(p + 1) == b'x'
                    && at(p + 2).is_ascii_hexdigit()
                    && at(p + 3).is_ascii_hexdigit()
                {
                    cur.push(hex(at(p + 2)) * 16 + hex(at(p + 3)));
                    p += 3;
                } else if c == b'\\' && at(p + 1) != 0 {
                    p += 1;
                    cur.push(match at(p) {
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'b' => 8,
                        b'a' => 7,
                        o => o,
                    });
                } else if c == b'"' {
                    if at(p + 1) != 0 && !is_space(at(p + 1)) {
                        return None;
                    }
                    p += 1;
                    break;
                } else if c == 0 {
                    return None;
                } else {
                    cur.push(c);
                }
            } else if insq {
                if c == b'\\' && at(p + 1) == b'\'' {
                    p += 1;
                    cur.push(b'\'');
                } else if c == b'\'' {
                    if at(p + 1) != 0 && !is_space(at(p + 1)) {
                        return None;
                    }
                    p += 1;
                    break;
                } else if c == 0 {
                    return None;
                } else {
                    cur.push(c);
                }
            } else {
                match c {
                    b' ' | b'\n' | b'\r' | b'\t' | 0 => {
                        if c != 0 {
                            p += 1;
                        }
                        break;
                    }
                    b'"' => inq = true,
                    b'\'' => insq = true,
                    _ => cur.push(c),
                }
            }
            if c != 0 {
                p += 1;
            }
        }
        out.push(cur);
    }
}

fn hex(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        _ => c - b'A' + 10,
    }
}

/// Quotes `s` as Redis's `sdscatrepr` (how command-line values are appended to the config).
pub fn repr(s: &[u8], out: &mut Vec<u8>) {
    out.push(b'"');
    for &c in s {
        match c {
            b'\\' | b'"' => {
                out.push(b'\\');
                out.push(c);
            }
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            7 => out.extend_from_slice(b"\\a"),
            8 => out.extend_from_slice(b"\\b"),
            0x20..=0x7e => out.push(c),
            _ => out.extend_from_slice(format!("\\x{c:02x}").as_bytes()),
        }
    }
    out.push(b'"');
}

/// Why the configuration could not be loaded. `Display` is the text Redis prints to stderr
/// before exiting with status 1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigError {
    /// A bad line: Redis's "FATAL CONFIG FILE ERROR" banner.
    Line {
        /// 1-based line in the text being loaded (the file, or the file plus options).
        linenum: usize,
        /// The line after trimming, as printed between quotes.
        line: String,
        msg: String,
    },
    /// An error not tied to a line (e.g. the log file cannot be opened).
    General(String),
    /// A config file (or include) cannot be read: Redis logs this and exits.
    Open { path: String, reason: String },
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConfigError::Line { linenum, line, msg } => write!(
                f,
                "\n*** FATAL CONFIG FILE ERROR (Redis {REDIS_VERSION}) ***\n\
                 Reading the configuration file, at line {linenum}\n>>> '{line}'\n{msg}\n"
            ),
            ConfigError::General(msg) => write!(
                f,
                "\n*** FATAL CONFIG FILE ERROR (Redis {REDIS_VERSION}) ***\n{msg}\n"
            ),
            ConfigError::Open { path, reason } => {
                write!(f, "Fatal error, can't open config file '{path}': {reason}")
            }
        }
    }
}

impl std::error::Error for ConfigError {}

/// Directives Redis 7.0 still accepts (with this many words including the name) and ignores.
const DEPRECATED: &[(&str, usize, usize)] = &[
    ("list-max-ziplist-entries", 2, 2),
    ("list-max-ziplist-value", 2, 2),
    ("lua-replicate-commands", 2, 2),
];

/// Loads config text (Redis's `loadServerConfigFromString`) into `cfg`.
pub struct Loader<'a> {
    cfg: &'a mut Config,
    /// `save` lines of one load accumulate; the first one replaces the default.
    save_seen: bool,
    depth: usize,
}

impl<'a> Loader<'a> {
    pub fn new(cfg: &'a mut Config) -> Self {
        Loader {
            cfg,
            save_seen: false,
            depth: 0,
        }
    }

    #[allow(
        dead_code,
        reason = "from_args reads files itself; kept for embedding and tests"
    )]
    /// Reads a file (or every file matching a glob, as `include` allows) and loads it.
    pub fn load_file(&mut self, path: &[u8]) -> Result<(), ConfigError> {
        let text = read_config_files(path)?;
        self.load_str(&text)
    }

    /// Loads config text; lines are split on `\n` and trimmed of blanks and CR.
    pub fn load_str(&mut self, text: &[u8]) -> Result<(), ConfigError> {
        for (i, raw) in text.split(|&b| b == b'\n').enumerate() {
            let line = trim(raw);
            if line.is_empty() || line[0] == b'#' {
                continue;
            }
            let fail = |msg: Cow<'_, str>| ConfigError::Line {
                linenum: i + 1,
                line: String::from_utf8_lossy(line).into_owned(),
                msg: msg.into_owned(),
            };
            let Some(mut argv) = split_args(line) else {
                return Err(fail(Cow::Borrowed(
                    "Unbalanced quotes in configuration line",
                )));
            };
            if argv.is_empty() {
                continue;
            }
            argv[0].make_ascii_lowercase();
            if argv[0] == b"include" && argv.len() == 2 {
                // Errors inside the included text (or opening it) are reported as they are,
                // with the included file's own line numbers, as Redis's recursive load does.
                if self.depth >= 32 {
                    return Err(fail(Cow::Borrowed("Too many nested includes")));
                }
                let text = read_config_files(&argv[1])?;
                self.depth += 1;
                let r = self.load_str(&text);
                self.depth -= 1;
                r?;
                continue;
            }
            self.line(&argv).map_err(fail)?;
        }
        if self.depth > 0 {
            return Ok(());
        }
        // Checked on the final value, so a stock redis.conf with `daemonize yes` can still be
        // used as `ringkv-server redis.conf --daemonize no`.
        if self.cfg.daemonize {
            return Err(ConfigError::General(
                "ringkv does not daemonize: run it in the foreground under a process \
                 supervisor (or pass --daemonize no)"
                    .into(),
            ));
        }
        // Redis clamps hz after loading for backward compatibility; our setter already
        // clamps, so only the log file remains to check.
        if !self.cfg.logfile.is_empty() {
            use std::os::unix::ffi::OsStrExt;
            let p = Path::new(std::ffi::OsStr::from_bytes(&self.cfg.logfile));
            if let Err(e) = std::fs::OpenOptions::new()
                .append(true)
                .create(true)
                .open(p)
            {
                return Err(ConfigError::General(format!(
                    "Can't open the log file: {}",
                    strerror(&e)
                )));
            }
        }
        Ok(())
    }

    fn line(&mut self, argv: &[Vec<u8>]) -> Result<(), Cow<'static, str>> {
        let name = &argv[0];
        if let Some(found) = lookup(name) {
            let row = found.row;
            let multi = row.has(MULTI_ARG);
            if !multi && argv.len() != 2 {
                return Err(Cow::Borrowed("wrong number of arguments"));
            }
            let mode = if row.name == "save" {
                let m = if self.save_seen {
                    SetMode::Append
                } else {
                    SetMode::Replace
                };
                self.save_seen = true;
                m
            } else {
                SetMode::Replace
            };
            // A multi-word directive given as one quoted word (`save "900 1"`, which is what
            // `--save "900 1"` becomes) is split again, as Redis 7.0 does.
            if multi && argv.len() == 2 && !argv[1].is_empty() {
                let words = split_args(&argv[1])
                    .ok_or(Cow::Borrowed("Unbalanced quotes in configuration line"))?;
                let refs: Vec<&[u8]> = words.iter().map(|w| w.as_slice()).collect();
                return row.set(self.cfg, &refs, mode);
            }
            let refs: Vec<&[u8]> = argv[1..].iter().map(|w| w.as_slice()).collect();
            return row.set(self.cfg, &refs, mode);
        }
        if DEPRECATED
            .iter()
            .any(|&(n, lo, hi)| name == n.as_bytes() && (lo..=hi).contains(&argv.len()))
        {
            return Ok(());
        }
        match (name.as_slice(), argv.len()) {
            (b"rename-command", 3) => {
                self.cfg
                    .rename_commands
                    .push((argv[1].clone(), argv[2].clone()));
                Ok(())
            }
            _ => Err(Cow::Borrowed("Bad directive or wrong number of arguments")),
        }
    }
}

fn trim(s: &[u8]) -> &[u8] {
    let is_t = |b: &u8| matches!(b, b' ' | b'\t' | b'\r' | b'\n');
    let start = s.iter().position(|b| !is_t(b)).unwrap_or(s.len());
    let end = s.iter().rposition(|b| !is_t(b)).map_or(start, |e| e + 1);
    &s[start..end]
}

/// Reads one config file, or all files matching a glob pattern (`*?[`), concatenated; a
/// pattern matching nothing yields no text, as Redis's `include` with wildcards.
fn read_config_files(path: &[u8]) -> Result<Vec<u8>, ConfigError> {
    use std::os::unix::ffi::OsStrExt;
    let open_err = |p: &Path, e: std::io::Error| ConfigError::Open {
        path: p.display().to_string(),
        reason: strerror(&e),
    };
    if !path.iter().any(|b| matches!(b, b'*' | b'?' | b'[')) {
        let p = Path::new(std::ffi::OsStr::from_bytes(path));
        return std::fs::read(p).map_err(|e| open_err(p, e));
    }
    // Glob only the file name part: enough for `include /etc/redis/conf.d/*.conf`.
    let p = Path::new(std::ffi::OsStr::from_bytes(path));
    let dir = p.parent().filter(|d| !d.as_os_str().is_empty());
    let pattern = p.file_name().map(|f| f.as_bytes()).unwrap_or(b"");
    let rd = match std::fs::read_dir(dir.unwrap_or(Path::new("."))) {
        Ok(rd) => rd,
        Err(_) => return Ok(Vec::new()),
    };
    let mut names: Vec<PathBuf> = rd
        .filter_map(|e| e.ok())
        .filter(|e| {
            let n = e.file_name();
            let n = n.as_bytes();
            !n.starts_with(b".") && engine::glob::glob_match(pattern, n, false)
        })
        .map(|e| match dir {
            Some(d) => d.join(e.file_name()),
            None => PathBuf::from(e.file_name()),
        })
        .collect();
    names.sort();
    let mut text = Vec::new();
    for n in names {
        text.extend(std::fs::read(&n).map_err(|e| open_err(&n, e))?);
    }
    Ok(text)
}

/// C's `strerror` text for an I/O error (Rust appends " (os error N)").
pub fn strerror(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

/// What the command line asks for.
#[derive(Debug)]
pub enum CliAction {
    /// Run with this configuration.
    Run(Box<Config>),
    /// `-v` / `--version`.
    Version,
    /// `-h` / `--help`.
    Help,
}

/// Builds the config from `ringkv-server [configfile] [--directive value ...]` (`args`
/// without the program name), as Redis's `main`: the options are appended to the file's
/// text as lines (`--port 7000` → `port "7000"`), a value may be several words (`--bind
/// 127.0.0.1 ::1`), and `-` as the first or last argument reads config from stdin.
pub fn from_args(args: &[OsString]) -> Result<CliAction, ConfigError> {
    use std::os::unix::ffi::OsStrExt;
    let mut cfg = Config::new();
    let args: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
    if let Some(&first) = args.first() {
        match first {
            b"-v" | b"--version" => return Ok(CliAction::Version),
            b"-h" | b"--help" => return Ok(CliAction::Help),
            _ => {}
        }
    }
    let mut j = 0;
    if let Some(&first) = args.first()
        && !first.starts_with(b"-")
    {
        let p = Path::new(std::ffi::OsStr::from_bytes(first));
        let abs = std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
        cfg.config_file = Some(abs);
        j = 1;
    }
    let (options, from_stdin) = options_from_args(&args[j..], j == 0);

    let mut text = Vec::new();
    if let Some(f) = &cfg.config_file {
        text = read_config_files(f.as_os_str().as_bytes())?;
    }
    if from_stdin {
        use std::io::Read;
        let _ = std::io::stdin().read_to_end(&mut text);
    }
    if !options.is_empty() {
        text.push(b'\n');
        text.extend_from_slice(&options);
    }
    Loader::new(&mut cfg).load_str(&text)?;
    Ok(CliAction::Run(Box::new(cfg)))
}

/// Turns `--name value...` arguments into config lines. `first_is_arg1` tells whether
/// `args[0]` is argv[1] (no config file), where a lone `-` means stdin.
fn options_from_args(args: &[&[u8]], first_is_arg1: bool) -> (Vec<u8>, bool) {
    let mut options = Vec::new();
    let mut from_stdin = false;
    let mut handled_last = true;
    for (i, &a) in args.iter().enumerate() {
        let last = i + 1 == args.len();
        if a == b"-" && ((i == 0 && first_is_arg1) || last) {
            from_stdin = true;
        } else if handled_last && a.starts_with(b"--") {
            if !options.is_empty() {
                options.push(b'\n');
            }
            options.extend_from_slice(&a[2..]);
            options.push(b' ');
            let words = split_args(a).map_or(0, |w| w.len());
            if words == 1 {
                // Only a name (`--port`): its value follows.
                handled_last = false;
                let is_save = a.eq_ignore_ascii_case(b"--save");
                if is_save && !last && args[i + 1].starts_with(b"--") {
                    // `--save --port 1`: an empty save, as before Redis 7.0.1.
                    options.extend_from_slice(b"\"\"");
                    handled_last = true;
                } else if is_save && last {
                    options.extend_from_slice(b"\"\"");
                }
            } else {
                // `"--port 6380"` in one argument carries its value.
                handled_last = true;
            }
        } else {
            repr(a, &mut options);
            options.push(b' ');
            handled_last = true;
        }
    }
    (options, from_stdin)
}

// ---------------------------------------------------------------------------------------
// CONFIG GET / SET / HELP
// ---------------------------------------------------------------------------------------

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
            String::from_utf8_lossy(name)
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

fn split_for_set<'v>(row: &Directive, v: &'v [u8]) -> Vec<&'v [u8]> {
    if row.has(MULTI_ARG) {
        split_spaces(v)
    } else {
        vec![v]
    }
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

/// `CONFIG REWRITE` is not implemented yet: Redis's text when there is no file, else ours.
pub fn config_rewrite(cfg: &Config, _out: &mut Reply<'_>) -> Result<(), CmdError> {
    if cfg.config_file.is_none() {
        return Err(CmdError::Static(
            "ERR The server is running without a config file",
        ));
    }
    Err(CmdError::Static("ERR CONFIG REWRITE is not supported yet"))
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
/// RESETSTAT, with Redis's arity errors for each subcommand.
pub fn config_command(
    cfg: &mut Config,
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
            config_rewrite(cfg, out)?;
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

    fn words(line: &str) -> Option<Vec<String>> {
        split_args(line.as_bytes()).map(|v| {
            v.into_iter()
                .map(|w| String::from_utf8_lossy(&w).into_owned())
                .collect()
        })
    }

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

    fn load(text: &str) -> Result<Config, ConfigError> {
        let mut c = Config::new();
        Loader::new(&mut c).load_str(text.as_bytes())?;
        Ok(c)
    }

    fn load_err(text: &str) -> String {
        load(text).unwrap_err().to_string()
    }

    fn banner(line: usize, text: &str, msg: &str) -> String {
        format!(
            "\n*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\n\
             Reading the configuration file, at line {line}\n>>> '{text}'\n{msg}\n"
        )
    }

    #[test]
    fn sdssplitargs_rules() {
        assert_eq!(words("  a  b\tc  ").unwrap(), ["a", "b", "c"]);
        assert_eq!(words("").unwrap(), Vec::<String>::new());
        assert_eq!(words("\"a b\" 'c d'").unwrap(), ["a b", "c d"]);
        assert_eq!(words(r#""\x41\n\t\"\\z""#).unwrap(), ["A\n\t\"\\z"]);
        assert_eq!(words(r"'it\'s'").unwrap(), ["it's"]);
        // A quote inside a bare word opens a quoted part of the same word.
        assert_eq!(
            words(r#"ab"c d"e"#),
            None,
            "closing quote must be followed by space"
        );
        assert_eq!(words(r#"ab"c d""#).unwrap(), ["abc d"]);
        assert_eq!(words("\"unterminated"), None);
        assert_eq!(words("'unterminated"), None);
        assert_eq!(words("\"a\"b"), None);
        assert_eq!(words("\"\"").unwrap(), [""]);
        // \x with non-hex digits is an ordinary escape of 'x'.
        assert_eq!(words(r#""\xZZ""#).unwrap(), ["xZZ"]);
    }

    #[test]
    fn memory_units() {
        assert_eq!(parse_memory(b"0"), Some(0));
        assert_eq!(parse_memory(b"1k"), Some(1000));
        assert_eq!(parse_memory(b"1KB"), Some(1024));
        assert_eq!(parse_memory(b"1kB"), Some(1024));
        assert_eq!(parse_memory(b"2m"), Some(2_000_000));
        assert_eq!(parse_memory(b"2mb"), Some(2 << 20));
        assert_eq!(parse_memory(b"3g"), Some(3_000_000_000));
        assert_eq!(parse_memory(b"3Gb"), Some(3 << 30));
        assert_eq!(parse_memory(b"7b"), Some(7));
        assert_eq!(parse_memory(b"7B"), Some(7));
        // As Redis: no digits reads 0, a huge number saturates, then the unit may overflow.
        assert_eq!(parse_memory(b"kb"), Some(0));
        assert_eq!(parse_memory(b"99999999999999999999"), Some(u64::MAX));
        assert_eq!(parse_memory(b"99999999999999999999kb"), None);
        assert_eq!(parse_memory(b"-1"), None);
        assert_eq!(parse_memory(b"+1"), None);
        assert_eq!(parse_memory(b" 1"), None);
        assert_eq!(parse_memory(b"1.5mb"), None);
        assert_eq!(parse_memory(b"0x10"), None);
        assert_eq!(parse_memory(b"1t"), None);
    }

    #[test]
    fn defaults_match_redis() {
        let c = Config::new();
        for (name, want) in [
            ("port", "6379"),
            ("bind", "127.0.0.1 -::1"),
            ("databases", "16"),
            ("maxclients", "10000"),
            ("timeout", "0"),
            ("tcp-backlog", "511"),
            ("loglevel", "notice"),
            ("logfile", ""),
            ("proto-max-bulk-len", "536870912"),
            ("client-query-buffer-limit", "1073741824"),
            ("hz", "10"),
            ("daemonize", "no"),
            ("save", "3600 1 300 100 60 10000"),
            ("appendonly", "no"),
            ("protected-mode", "yes"),
            ("tcp-keepalive", "300"),
            ("notify-keyspace-events", ""),
            ("maxmemory", "0"),
            ("maxmemory-policy", "noeviction"),
            ("requirepass", ""),
            ("list-max-ziplist-size", "-2"),
            ("unixsocketperm", "0"),
            ("maxmemory-clients", "0"),
            ("shutdown-on-sigint", "default"),
            ("latency-tracking-info-percentiles", "50 99 99.9"),
            ("oom-score-adj-values", "0 200 800"),
            ("replicaof", ""),
            (
                "client-output-buffer-limit",
                "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60",
            ),
            ("acl-pubsub-default", "resetchannels"),
            ("syslog-facility", "local0"),
        ] {
            assert_eq!(
                String::from_utf8(c.get(name).unwrap()).unwrap(),
                want,
                "default of {name}"
            );
        }
        assert_eq!(c.port, 6379);
        assert_eq!(c.loglevel, LogLevel::Notice);
        assert_eq!(c.maxmemory_policy, MaxmemoryPolicy::Noeviction);
        assert!(c.dir.is_absolute());
        let e = c.engine_config();
        assert_eq!(
            (e.databases, e.hz, e.proto_max_bulk_len),
            (16, 10, 512 << 20)
        );
    }

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
        set(&mut c, &["requirepass", "s\u{e9}cret"]).unwrap();
        assert_eq!(c.requirepass, "s\u{e9}cret".as_bytes());
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

    #[test]
    fn load_file_syntax() {
        let c = load(
            "# comment\n\n   port 7000  \r\nBIND 10.0.0.1 \"::1\"\nmaxmemory 1GB\n\
             save 900 1\nsave \"60 5\"\nloglevel 'warning'\nhz 0\n\
             list-max-ziplist-entries 5\nrename-command FLUSHALL \"\"\n",
        )
        .unwrap();
        assert_eq!(c.port, 7000);
        assert_eq!(c.bind, ["10.0.0.1", "::1"]);
        assert_eq!(c.maxmemory, 1 << 30);
        assert_eq!(c.save, [(900, 1), (60, 5)], "save lines accumulate");
        assert_eq!(c.loglevel, LogLevel::Warning);
        assert_eq!(c.hz, 1, "hz is clamped");
        assert_eq!(c.rename_commands, [(b"FLUSHALL".to_vec(), b"".to_vec())]);
        // `save ""` clears, and a quoted multi-word value is split.
        assert!(load("save \"\"\n").unwrap().save.is_empty());
        assert_eq!(
            load("bind \"127.0.0.1 ::1\"\n").unwrap().bind,
            ["127.0.0.1", "::1"]
        );
    }

    #[test]
    fn load_errors_match_redis() {
        assert_eq!(
            load_err("port 7108\n  # comment\nfoo bar\n"),
            banner(3, "foo bar", "Bad directive or wrong number of arguments")
        );
        assert_eq!(
            load_err("port 7108 # c\n"),
            banner(1, "port 7108 # c", "wrong number of arguments")
        );
        assert_eq!(
            load_err("port \"7108\n"),
            banner(1, "port \"7108", "Unbalanced quotes in configuration line")
        );
        assert_eq!(
            load_err("\nport\n"),
            banner(2, "port", "wrong number of arguments")
        );
        assert_eq!(
            load_err("maxmemory 1 2\n"),
            banner(1, "maxmemory 1 2", "wrong number of arguments")
        );
        assert_eq!(
            load_err("daemonize maybe\n"),
            banner(1, "daemonize maybe", "argument must be 'yes' or 'no'")
        );
        assert_eq!(
            load_err("loglevel foo\n"),
            banner(
                1,
                "loglevel foo",
                "argument(s) must be one of the following: debug, verbose, notice, warning"
            )
        );
        assert_eq!(
            load_err("hz \"abc\"\n"),
            banner(
                1,
                "hz \"abc\"",
                "argument couldn't be parsed into an integer"
            )
        );
        assert_eq!(
            load_err("daemonize yes\n"),
            "\n*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\nringkv does not daemonize: run \
             it in the foreground under a process supervisor (or pass --daemonize no)\n"
        );
        assert!(load("daemonize yes\ndaemonize no\n").is_ok());
    }

    fn tmp(name: &str, text: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("ringkv-config-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn include_files() {
        let inc = tmp("inc.conf", "maxclients 77\nhz 20\n");
        let main = tmp(
            "main.conf",
            &format!("hz 5\ninclude {}\ntimeout 3\n", inc.display()),
        );
        let mut c = Config::new();
        Loader::new(&mut c)
            .load_file(main.to_str().unwrap().as_bytes())
            .unwrap();
        assert_eq!((c.maxclients, c.hz, c.timeout), (77, 20, 3));

        let bad = tmp("bad.conf", "maxclients 1\nnope 1\n");
        let e = load(&format!("# x\n# y\n# z\ninclude {}\n", bad.display()))
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            banner(2, "nope 1", "Bad directive or wrong number of arguments")
        );

        let e = load("include /nonexistent/ringkv.conf\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("Fatal error, can't open config file '/nonexistent/ringkv.conf': No such file or directory"),
            "{e}"
        );
        // A wildcard matching nothing is fine.
        assert!(load("include /nonexistent-dir-ringkv/*.conf\n").is_ok());
        let dir = inc.parent().unwrap();
        let c = load(&format!("include {}/inc.c?nf\n", dir.display())).unwrap();
        assert_eq!(c.maxclients, 77);
    }

    fn os(args: &[&str]) -> Vec<OsString> {
        args.iter().map(OsString::from).collect()
    }

    fn run_cli(args: &[&str]) -> Result<Config, String> {
        match from_args(&os(args)) {
            Ok(CliAction::Run(c)) => Ok(*c),
            Ok(other) => Err(format!("{other:?}")),
            Err(e) => Err(e.to_string()),
        }
    }

    #[test]
    fn command_line_options() {
        let (opts, stdin) = options_from_args(
            &[
                b"--port",
                b"7000",
                b"--save",
                b"900 1",
                b"--bind",
                b"127.0.0.1",
                b"::1",
            ],
            true,
        );
        assert!(!stdin);
        assert_eq!(
            String::from_utf8(opts).unwrap(),
            "port \"7000\" \nsave \"900 1\" \nbind \"127.0.0.1\" \"::1\" "
        );
        let c = run_cli(&[
            "--port",
            "7000",
            "--save",
            "900 1",
            "--bind",
            "127.0.0.1",
            "::1",
        ])
        .unwrap();
        assert_eq!(c.port, 7000);
        assert_eq!(c.save, [(900, 1)]);
        assert_eq!(c.bind, ["127.0.0.1", "::1"]);
        assert!(c.config_file.is_none());
        // `--save` with no value, last or followed by another option, means no saving.
        assert!(run_cli(&["--save"]).unwrap().save.is_empty());
        assert!(run_cli(&["--save", "--port", "1"]).unwrap().save.is_empty());
        // Name and value in one argument.
        assert_eq!(run_cli(&["--port 6390"]).unwrap().port, 6390);
        // Values are quoted, so spaces and quotes survive.
        assert_eq!(
            run_cli(&["--requirepass", "a \"b\""]).unwrap().requirepass,
            b"a \"b\""
        );
        // Errors are numbered after the (empty) file text and the joining newline.
        assert_eq!(
            run_cli(&["--port", "7108", "--foo", "x"]).unwrap_err(),
            banner(3, "foo \"x\"", "Bad directive or wrong number of arguments")
        );
        assert_eq!(
            run_cli(&["--port"]).unwrap_err(),
            banner(2, "port", "wrong number of arguments")
        );
        assert!(matches!(from_args(&os(&["-v"])), Ok(CliAction::Version)));
        assert!(matches!(from_args(&os(&["--help"])), Ok(CliAction::Help)));
    }

    #[test]
    fn command_line_with_file() {
        let f = tmp("cli.conf", "port 7001\nfoo bar\n");
        let e = run_cli(&[f.to_str().unwrap(), "--port", "1"]).unwrap_err();
        assert_eq!(
            e,
            banner(2, "foo bar", "Bad directive or wrong number of arguments")
        );
        let f = tmp("cli2.conf", "port 7001\nhz 20\n");
        let c = run_cli(&[f.to_str().unwrap(), "--port", "7002"]).unwrap();
        assert_eq!((c.port, c.hz), (7002, 20), "options come after the file");
        assert_eq!(c.config_file.as_deref(), Some(f.as_path()));
        let e = run_cli(&["/nonexistent/x.conf"]).unwrap_err();
        assert_eq!(
            e,
            "Fatal error, can't open config file '/nonexistent/x.conf': No such file or directory"
        );
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

    #[test]
    fn repr_quotes_like_sdscatrepr() {
        let mut v = Vec::new();
        repr(b"a\"b\\c\n\x01 ", &mut v);
        assert_eq!(v, b"\"a\\\"b\\\\c\\n\\x01 \"");
        assert_eq!(split_args(&v).unwrap(), [b"a\"b\\c\n\x01 ".to_vec()]);
    }
}
