//! Server configuration: every directive as one row of [`TABLE`], the redis.conf / command-line
//! loader, and the CONFIG command.
//!
//! Redis 7.0.15 describes its configuration as data (`static_configs[]` in config.c): a name,
//! an optional alias, flags, a typed value (bool, number with bounds and units, enum, string or
//! a "special" with its own parser) and an apply hook. We do the same so a new directive is
//! one more row, and the loader, CONFIG GET, CONFIG SET (with rollback) and the defaults all
//! follow from it.
//!
//! The parts:
//! - this file: the values ([`Config`], [`Compat`]) and the one mapping from them to the
//!   engine's settings ([`Config::engine_config`]);
//! - `directive.rs`: what a row is ([`Directive`], [`Kind`], [`Apply`]) and the parsing and
//!   printing rows share;
//! - `table.rs`: the rows ([`TABLE`], [`lookup`]) and the special rows' setters and getters;
//! - `loader.rs`: redis.conf and the command line ([`Loader`], [`split_args`], [`from_args`]);
//! - `command.rs`: CONFIG GET / SET / RESETSTAT / REWRITE / HELP ([`config_command`]).
//!
//! Invariants:
//! - Defaults live only in the table: [`Config::new`] runs every row's setter with its
//!   default, so the struct and CONFIG GET cannot disagree.
//! - Values are validated by the row before being stored; a failed CONFIG SET leaves the
//!   config exactly as it was (earlier pairs are restored from their printed form, as Redis
//!   does).
//! - Texts (errors, the fatal load banner) are Redis 7.0.15's byte for byte.
//! - Nothing here does I/O on the live server: effects (rebinding, chdir, resizing limits)
//!   are the caller's, reached through [`Apply`] codes.
//!
//! Directives Redis has that ringkv does not act on are accepted and stored in [`Compat`]
//! so stock redis.conf files load and CONFIG GET answers; docs/CONFIG.md lists which
//! directives have an effect.

use std::borrow::Cow;
use std::path::PathBuf;

mod command;
mod directive;
mod loader;
mod rewrite;
mod table;

// The parts are re-exported so callers keep naming `crate::features::config::X`.
pub use command::*;
pub use directive::*;
pub use loader::*;
pub use table::*;

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

/// `maxmemory-policy`: the engine's, which evicts by it (variants in the order of the
/// config enum, so the row stores the index).
pub use engine::evict::Policy as MaxmemoryPolicy;

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
    pub maxmemory_eviction_tenacity: i64,
    pub lfu_log_factor: i64,
    pub lfu_decay_time: i64,

    // --- persistence and security
    /// `save`: (seconds, changes) pairs.
    pub save: Vec<(i64, i64)>,
    pub appendonly: bool,
    /// `requirepass` (binary-safe; empty = no password): the default user's password
    /// (`features::acl` applies it at start and after CONFIG SET).
    pub requirepass: Vec<u8>,

    /// `user name rule...` directives, in order: the name, then the rules (selectors
    /// already merged into one word), checked when read; `features::acl` creates the users.
    pub users: Vec<Vec<Vec<u8>>>,

    /// `rename-command old new` lines, in order, for the command table to apply.
    pub rename_commands: Vec<(Vec<u8>, Vec<u8>)>,

    /// Accepted for compatibility; mostly without effect (the listpack and intset
    /// thresholds among them do reach the engine, see [`Config::engine_config`]).
    pub compat: Compat,
}

/// Directives Redis has that ringkv accepts and reports; most have no effect (the encoding
/// thresholds the engine reads are the exception).
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
    pub replica_priority: i64,
    pub repl_diskless_sync_delay: i64,
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
        f.row.set(
            self,
            &split_for_set(f.row, value.as_bytes()),
            SetMode::Replace,
        )
    }

    /// The value of one directive as CONFIG GET prints it.
    pub fn get(&self, name: &str) -> Option<Vec<u8>> {
        lookup(name.as_bytes()).map(|f| f.row.get(self))
    }

    /// The engine's settings: the only place that maps directives to
    /// [`engine::EngineConfig`], used at start ([`engine::Engine::new`]) and after every
    /// CONFIG SET ([`Config::apply_to_engine`]).
    pub fn engine_config(&self) -> engine::EngineConfig {
        engine::EngineConfig {
            databases: self.databases as usize,
            active_expire_effort: self.compat.active_expire_effort.clamp(1, 10) as u32,
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
            // New lists take the fill; existing ones keep their nodes (as Redis).
            list_max_listpack_size: self.compat.list_max_listpack_size,
            hll_sparse_max_bytes: self.compat.hll_sparse_max_bytes.max(0) as usize,
            stream_node_limits: engine::types::stream::NodeLimits {
                max_bytes: self.compat.stream_node_max_bytes.max(0) as usize,
                max_entries: self.compat.stream_node_max_entries.max(0),
            },
            evict: engine::evict::EvictConfig {
                maxmemory: self.maxmemory,
                policy: self.maxmemory_policy,
                samples: self.maxmemory_samples.max(1) as usize,
                tenacity: self.maxmemory_eviction_tenacity.clamp(0, 100) as u32,
                lfu_log_factor: self.lfu_log_factor.clamp(0, u32::MAX as i64) as u32,
                lfu_decay_time: self.lfu_decay_time.clamp(0, u32::MAX as i64) as u32,
            },
        }
    }

    /// Hands a running engine the changed settings (after CONFIG SET). `databases` is
    /// immutable, so the engine's count of databases stays what it was built with.
    pub fn apply_to_engine(&self, engine: &mut engine::Engine) {
        engine.config = self.engine_config();
        engine.active_rehashing = self.compat.activerehashing;
        // `expired` events need keys deleted by expiry logged (or no longer).
        engine.refresh_expire_logging();
        // Reads bump LFU counters under an LFU policy, stamp the LRU clock otherwise.
        engine.refresh_policy();
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

/// A CPU list as Redis's `setcpuaffinity` reads it (`taskset -c`'s syntax): comma-separated
/// CPUs and ranges `a-b`, a range optionally strided `a-b:s`. None when malformed.
pub fn parse_cpulist(v: &[u8]) -> Option<Vec<usize>> {
    let text = std::str::from_utf8(v).ok()?;
    let mut cpus = Vec::new();
    for part in text.split(',') {
        let (range, stride) = match part.split_once(':') {
            Some((r, s)) => (r, s.parse::<usize>().ok().filter(|s| *s > 0)?),
            None => (part, 1),
        };
        let (a, b) = match range.split_once('-') {
            Some((a, b)) => (a.parse::<usize>().ok()?, b.parse::<usize>().ok()?),
            None => {
                let a = range.parse::<usize>().ok()?;
                (a, a)
            }
        };
        if a > b || b >= libc::CPU_SETSIZE as usize {
            return None;
        }
        cpus.extend((a..=b).step_by(stride));
    }
    Some(cpus)
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(c.maxmemory_policy, MaxmemoryPolicy::NoEviction);
        assert!(c.dir.is_absolute());
        let e = c.engine_config();
        assert_eq!(
            (e.databases, e.hz, e.proto_max_bulk_len),
            (16, 10, 512 << 20)
        );
    }

    #[test]
    fn engine_follows_config_set() {
        let mut c = Config::new();
        let mut e = engine::Engine::new(c.engine_config(), engine::Clock::System);
        for (k, v) in [
            ("hz", "50"),
            ("proto-max-bulk-len", "2mb"),
            ("set-max-intset-entries", "3"),
            ("zset-max-listpack-entries", "4"),
            ("hash-max-listpack-value", "5"),
            ("list-max-listpack-size", "7"),
            ("hll-sparse-max-bytes", "8"),
            ("notify-keyspace-events", "Ex"),
        ] {
            c.set(k, v).unwrap();
        }
        c.apply_to_engine(&mut e);
        let e = &e.config;
        assert_eq!(
            (
                e.hz,
                e.proto_max_bulk_len,
                e.set_max_intset_entries,
                e.zset_limits.max_entries,
                e.hash_limits.max_listpack_value,
                e.list_max_listpack_size,
                e.databases,
            ),
            (50, 2 << 20, 3, 4, 5, 7, 16)
        );
        assert_eq!(e.hll_sparse_max_bytes, 8);
        assert_eq!(e.notify_keyspace_events, c.notify_keyspace_events);
        assert_ne!(e.notify_keyspace_events, 0);
    }
}
