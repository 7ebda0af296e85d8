//! INFO: the text of Redis 7.0.15's `genRedisInfoString`, section by section, from a plain
//! struct of values ([`InfoInput`]) the event loop fills.
//!
//! Invariants:
//! - Layout is Redis's byte for byte: `# Section\r\n` then `field:value\r\n` lines; sections
//!   after the first are preceded by an empty line (`\r\n`); no trailing empty line; field
//!   names and order as Redis 7.0.15 (clients parse them); numbers formatted as Redis formats
//!   them (`%.2f`, `%ld.%06ld`, `bytesToHuman`).
//! - `redis_version:7.0.15` (clients gate features on it); `ringkv_version` is added at the
//!   end of the Server section.
//! - Generation is a pure function of the config, the input and the requested sections, so
//!   tests pin the exact text; [`InfoInput::probe_process`] and
//!   [`InfoInput::fill_from_engine`] gather the live values.
//! - Fields ringkv cannot measure honestly (jemalloc's allocator stats, Lua memory, fork
//!   and replication figures…) are printed as 0 (`0.00` for ratios) rather than invented;
//!   docs/CONFIG.md lists them.

use std::fmt::Write as _;
use std::time::Duration;

use crate::config::{Config, REDIS_VERSION};
use resp::Reply;

/// One database line of the Keyspace section.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DbInfo {
    pub db: usize,
    pub keys: u64,
    pub expires: u64,
    pub avg_ttl: i64,
}

/// One line of Commandstats (`name` is Redis's full name: `get`, `config|set`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CommandStat {
    pub name: String,
    pub calls: u64,
    pub usec: u64,
    pub rejected_calls: u64,
    pub failed_calls: u64,
}

/// Process CPU time (Redis's `getrusage` figures).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CpuUsage {
    pub sys: Duration,
    pub user: Duration,
    pub sys_children: Duration,
    pub user_children: Duration,
    pub sys_main_thread: Duration,
    pub user_main_thread: Duration,
}

/// Everything INFO prints that is not in the [`Config`]. Zero/empty by default; the loop
/// fills what it tracks, then calls [`InfoInput::probe_process`] and
/// [`InfoInput::fill_from_engine`].
#[derive(Clone, Debug, Default)]
pub struct InfoInput {
    // --- Server
    /// 40 hex characters, random per process start (Redis's `run_id`).
    pub run_id: String,
    pub process_id: u32,
    /// `uname -srm` as Redis prints it: "Linux 6.1.0 x86_64".
    pub os: String,
    /// Absolute path of the running binary.
    pub executable: String,
    pub server_time_usec: i64,
    pub uptime_in_seconds: i64,

    // --- Clients
    pub connected_clients: u64,
    pub blocked_clients: u64,
    pub tracking_clients: u64,
    pub clients_in_timeout_table: u64,
    pub client_recent_max_input_buffer: u64,
    pub client_recent_max_output_buffer: u64,

    // --- Memory
    pub used_memory: u64,
    pub used_memory_peak: u64,
    /// `used_memory` right after startup (Redis's `used_memory_startup`).
    pub used_memory_startup: u64,
    pub used_memory_rss: u64,
    pub total_system_memory: u64,
    /// Memory of normal clients' buffers, if the loop tracks it.
    pub mem_clients_normal: u64,

    // --- Persistence
    /// Writes since the last save (`Engine::dirty`).
    pub rdb_changes_since_last_save: u64,
    /// Unix time of the last save (the start time until persistence exists).
    pub rdb_last_save_time: i64,

    // --- Stats
    pub total_connections_received: u64,
    pub total_commands_processed: u64,
    pub instantaneous_ops_per_sec: u64,
    pub total_net_input_bytes: u64,
    pub total_net_output_bytes: u64,
    pub instantaneous_input_kbps: f64,
    pub instantaneous_output_kbps: f64,
    pub rejected_connections: u64,
    pub expired_keys: u64,
    /// Percentage (0..100).
    pub expired_stale_perc: f64,
    pub expired_time_cap_reached_count: u64,
    pub expire_cycle_cpu_milliseconds: u64,
    pub evicted_keys: u64,
    pub evicted_clients: u64,
    pub keyspace_hits: u64,
    pub keyspace_misses: u64,
    pub pubsub_channels: u64,
    pub pubsub_patterns: u64,
    pub pubsubshard_channels: u64,
    pub unexpected_error_replies: u64,
    pub total_error_replies: u64,
    pub total_reads_processed: u64,
    pub total_writes_processed: u64,

    // --- Replication
    /// 40 hex characters, random per process start.
    pub master_replid: String,

    // --- CPU
    pub cpu: CpuUsage,

    // --- Commandstats / Errorstats / Keyspace
    pub commandstats: Vec<CommandStat>,
    /// (error prefix such as `ERR` or `WRONGTYPE`, count).
    pub errorstats: Vec<(String, u64)>,
    /// Only databases with keys are printed.
    pub keyspace: Vec<DbInfo>,
}

impl InfoInput {
    /// Reads the process-level figures: pid, OS, executable, allocator counters, RSS, total
    /// system memory, CPU times, server time. Cheap enough per INFO call (a few syscalls and
    /// two small /proc reads).
    pub fn probe_process(&mut self) {
        self.process_id = std::process::id();
        if self.run_id.is_empty() {
            self.run_id = process_run_id().to_string();
        }
        if self.master_replid.is_empty() {
            self.master_replid = process_replid().to_string();
        }
        if self.os.is_empty() {
            self.os = os_name();
        }
        if self.executable.is_empty() {
            self.executable = std::env::current_exe()
                .map(|p| p.display().to_string())
                .unwrap_or_default();
        }
        self.used_memory = crate::alloc::used_memory() as u64;
        self.used_memory_peak = (crate::alloc::peak_memory() as u64).max(self.used_memory);
        self.used_memory_rss = crate::alloc::rss_bytes() as u64;
        if self.total_system_memory == 0 {
            self.total_system_memory = total_system_memory();
        }
        self.cpu = cpu_usage();
        self.server_time_usec = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_micros() as i64);
    }

    /// Copies the keyspace and the engine's counters (hits, misses, expiry, dirty).
    pub fn fill_from_engine(&mut self, engine: &engine::Engine) {
        self.keyspace = engine
            .dbs
            .iter()
            .enumerate()
            .filter(|(_, d)| !d.is_empty() || d.expires_len() > 0)
            .map(|(i, d)| DbInfo {
                db: i,
                keys: d.len() as u64,
                expires: d.expires_len() as u64,
                avg_ttl: d.avg_ttl(),
            })
            .collect();
        self.keyspace_hits = engine.keyspace_hits();
        self.keyspace_misses = engine.keyspace_misses();
        self.expired_keys = engine.expired_keys();
        self.expired_stale_perc = engine.stats.expired_stale_perc * 100.0;
        self.expired_time_cap_reached_count = engine.stats.expired_time_cap_reached_count;
        self.expire_cycle_cpu_milliseconds = engine.stats.expire_cycle_time_used_us / 1000;
        self.rdb_changes_since_last_save = engine.dirty;
    }
}

/// This process's `run_id`: random, fixed for the life of the process.
pub fn process_run_id() -> &'static str {
    static ID: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    ID.get_or_init(random_hex_id)
}

/// This process's `master_replid` (a later replication issue may regenerate it).
pub fn process_replid() -> &'static str {
    static ID: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    ID.get_or_init(random_hex_id)
}

/// A random 40-hex-character id (for `run_id` and `master_replid`), from the OS's
/// randomness with a time/pid fallback.
pub fn random_hex_id() -> String {
    let mut bytes = [0u8; 20];
    let ok = std::fs::File::open("/dev/urandom")
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut bytes))
        .is_ok();
    if !ok {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64)
            ^ ((std::process::id() as u64) << 32);
        let mut x = seed | 1;
        for b in &mut bytes {
            // xorshift64*: only used if /dev/urandom is unreadable.
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            *b = (x.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 56) as u8;
        }
    }
    let mut s = String::with_capacity(40);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// `uname -s -r -m` without libc: the kernel's own files and the target architecture
/// (which is what `uname -m` reports for a native binary).
fn os_name() -> String {
    let read = |p: &str| {
        std::fs::read_to_string(p)
            .map(|s| s.trim().to_string())
            .unwrap_or_default()
    };
    format!(
        "{} {} {}",
        read("/proc/sys/kernel/ostype"),
        read("/proc/sys/kernel/osrelease"),
        std::env::consts::ARCH
    )
}

/// Total RAM in bytes from `/proc/meminfo` (`MemTotal`), 0 if unavailable.
fn total_system_memory() -> u64 {
    let Ok(s) = std::fs::read_to_string("/proc/meminfo") else {
        return 0;
    };
    s.lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

fn cpu_usage() -> CpuUsage {
    use nix::sys::resource::{UsageWho, getrusage};
    let get = |who| {
        getrusage(who).map_or((Duration::ZERO, Duration::ZERO), |u| {
            let tv = |t: nix::sys::time::TimeVal| {
                Duration::new(t.tv_sec().max(0) as u64, (t.tv_usec().max(0) as u32) * 1000)
            };
            (tv(u.system_time()), tv(u.user_time()))
        })
    };
    let (sys, user) = get(UsageWho::RUSAGE_SELF);
    let (sys_children, user_children) = get(UsageWho::RUSAGE_CHILDREN);
    // INFO runs on the loop thread, which is the main thread.
    let (sys_main_thread, user_main_thread) = get(UsageWho::RUSAGE_THREAD);
    CpuUsage {
        sys,
        user,
        sys_children,
        user_children,
        sys_main_thread,
        user_main_thread,
    }
}

// ---------------------------------------------------------------------------------------
// Sections
// ---------------------------------------------------------------------------------------

/// INFO sections in output order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Section {
    Server,
    Clients,
    Memory,
    Persistence,
    Stats,
    Replication,
    Cpu,
    Modules,
    Commandstats,
    Errorstats,
    Latencystats,
    Cluster,
    Keyspace,
}

const ORDER: [Section; 13] = [
    Section::Server,
    Section::Clients,
    Section::Memory,
    Section::Persistence,
    Section::Stats,
    Section::Replication,
    Section::Cpu,
    Section::Modules,
    Section::Commandstats,
    Section::Errorstats,
    Section::Latencystats,
    Section::Cluster,
    Section::Keyspace,
];

/// The sections `INFO` / `INFO default` prints.
const DEFAULT: u16 = bit(Section::Server)
    | bit(Section::Clients)
    | bit(Section::Memory)
    | bit(Section::Persistence)
    | bit(Section::Stats)
    | bit(Section::Replication)
    | bit(Section::Cpu)
    | bit(Section::Modules)
    | bit(Section::Errorstats)
    | bit(Section::Cluster)
    | bit(Section::Keyspace);

const fn bit(s: Section) -> u16 {
    1 << s as u16
}

/// The set of sections the arguments ask for (Redis's `genInfoSectionDict`): none means
/// default; `all` / `everything` mean every section; `default` adds the default ones; other
/// names add themselves, case-insensitively; unknown names add nothing.
fn select(args: &[&[u8]]) -> u16 {
    if args.is_empty() {
        return DEFAULT;
    }
    let mut set = 0u16;
    for a in args {
        let a = a.to_ascii_lowercase();
        set |= match a.as_slice() {
            b"all" | b"everything" => u16::MAX,
            b"default" => DEFAULT,
            b"server" => bit(Section::Server),
            b"clients" => bit(Section::Clients),
            b"memory" => bit(Section::Memory),
            b"persistence" => bit(Section::Persistence),
            b"stats" => bit(Section::Stats),
            b"replication" => bit(Section::Replication),
            b"cpu" => bit(Section::Cpu),
            b"modules" | b"module_list" => bit(Section::Modules),
            b"commandstats" => bit(Section::Commandstats),
            b"errorstats" => bit(Section::Errorstats),
            b"latencystats" => bit(Section::Latencystats),
            b"cluster" => bit(Section::Cluster),
            b"keyspace" => bit(Section::Keyspace),
            _ => 0,
        };
    }
    set
}

/// Redis's `bytesToHuman`.
pub fn bytes_to_human(n: u64) -> String {
    const K: u64 = 1024;
    let (div, unit) = match n {
        _ if n < K => return format!("{n}B"),
        _ if n < K * K => (K, 'K'),
        _ if n < K * K * K => (K * K, 'M'),
        _ if n < K * K * K * K => (K * K * K, 'G'),
        _ if n < K * K * K * K * K => (K * K * K * K, 'T'),
        _ if n < K * K * K * K * K * K => (K * K * K * K * K, 'P'),
        _ => return format!("{n}B"),
    };
    format!("{:.2}{unit}", n as f64 / div as f64)
}

/// `%ld.%06ld` of a CPU time.
fn secs(d: Duration) -> String {
    format!("{}.{:06}", d.as_secs(), d.subsec_micros())
}

/// The INFO text for `args` (the arguments after INFO).
pub fn info_string(cfg: &Config, input: &InfoInput, args: &[&[u8]]) -> String {
    let set = select(args);
    let mut s = String::with_capacity(4096);
    let mut first = true;
    for sec in ORDER {
        if set & bit(sec) == 0 {
            continue;
        }
        if !first {
            s.push_str("\r\n");
        }
        first = false;
        write_section(&mut s, sec, cfg, input);
    }
    s
}

/// `INFO [section ...]`: a bulk string in RESP2, a verbatim `txt` string in RESP3 (also for
/// an empty result, as Redis).
pub fn info_command(cfg: &Config, input: &InfoInput, args: &[&[u8]], out: &mut Reply<'_>) {
    let text = info_string(cfg, input, args);
    out.verbatim(b"txt", text.as_bytes());
}

macro_rules! lines {
    ($s:expr, $($name:literal => $val:expr),+ $(,)?) => {
        $( let _ = write!($s, concat!($name, ":{}\r\n"), $val); )+
    };
}

fn write_section(s: &mut String, sec: Section, cfg: &Config, i: &InfoInput) {
    match sec {
        Section::Server => {
            s.push_str("# Server\r\n");
            lines!(s,
                "redis_version" => REDIS_VERSION,
                "redis_git_sha1" => "00000000",
                "redis_git_dirty" => 0,
                "redis_build_id" => 0,
                "redis_mode" => "standalone",
                "os" => i.os,
                "arch_bits" => usize::BITS,
                "monotonic_clock" => "POSIX clock_gettime",
                "multiplexing_api" => "io_uring",
                "atomicvar_api" => "c11-builtin",
                "gcc_version" => "0.0.0",
                "process_id" => i.process_id,
                "process_supervised" => "no",
                "run_id" => i.run_id,
                "tcp_port" => cfg.port,
                "server_time_usec" => i.server_time_usec,
                "uptime_in_seconds" => i.uptime_in_seconds,
                "uptime_in_days" => i.uptime_in_seconds / (3600 * 24),
                "hz" => cfg.hz,
                "configured_hz" => cfg.hz,
                "lru_clock" => engine::db::lru_clock(i.server_time_usec / 1000),
                "executable" => i.executable,
                "config_file" => cfg.config_file.as_ref().map(|p| p.display().to_string()).unwrap_or_default(),
                "io_threads_active" => 0,
                "ringkv_version" => env!("CARGO_PKG_VERSION"),
            );
        }
        Section::Clients => {
            s.push_str("# Clients\r\n");
            lines!(s,
                "connected_clients" => i.connected_clients,
                "cluster_connections" => 0,
                "maxclients" => cfg.maxclients,
                "client_recent_max_input_buffer" => i.client_recent_max_input_buffer,
                "client_recent_max_output_buffer" => i.client_recent_max_output_buffer,
                "blocked_clients" => i.blocked_clients,
                "tracking_clients" => i.tracking_clients,
                "clients_in_timeout_table" => i.clients_in_timeout_table,
            );
        }
        Section::Memory => {
            let used = i.used_memory;
            let peak = i.used_memory_peak.max(used);
            let overhead = i.used_memory_startup + i.mem_clients_normal;
            let dataset = used.saturating_sub(overhead);
            // Redis: dataset as a share of what was allocated after startup.
            let net = used.saturating_sub(i.used_memory_startup).max(1);
            let peak_perc = if peak == 0 {
                0.0
            } else {
                used as f64 * 100.0 / peak as f64
            };
            let frag = if used == 0 {
                0.0
            } else {
                i.used_memory_rss as f64 / used as f64
            };
            let policy = cfg.get("maxmemory-policy").unwrap_or_default();
            s.push_str("# Memory\r\n");
            lines!(s,
                "used_memory" => used,
                "used_memory_human" => bytes_to_human(used),
                "used_memory_rss" => i.used_memory_rss,
                "used_memory_rss_human" => bytes_to_human(i.used_memory_rss),
                "used_memory_peak" => peak,
                "used_memory_peak_human" => bytes_to_human(peak),
                "used_memory_peak_perc" => format_args!("{peak_perc:.2}%"),
                "used_memory_overhead" => overhead,
                "used_memory_startup" => i.used_memory_startup,
                "used_memory_dataset" => dataset,
                "used_memory_dataset_perc" => format_args!("{:.2}%", dataset as f64 * 100.0 / net as f64),
                "allocator_allocated" => 0,
                "allocator_active" => 0,
                "allocator_resident" => 0,
                "total_system_memory" => i.total_system_memory,
                "total_system_memory_human" => bytes_to_human(i.total_system_memory),
                "used_memory_lua" => 0,
                "used_memory_vm_eval" => 0,
                "used_memory_lua_human" => "0B",
                "used_memory_scripts_eval" => 0,
                "number_of_cached_scripts" => 0,
                "number_of_functions" => 0,
                "number_of_libraries" => 0,
                "used_memory_vm_functions" => 0,
                "used_memory_vm_total" => 0,
                "used_memory_vm_total_human" => "0B",
                "used_memory_functions" => 0,
                "used_memory_scripts" => 0,
                "used_memory_scripts_human" => "0B",
                "maxmemory" => cfg.maxmemory,
                "maxmemory_human" => bytes_to_human(cfg.maxmemory),
                "maxmemory_policy" => String::from_utf8_lossy(&policy),
                "allocator_frag_ratio" => "0.00",
                "allocator_frag_bytes" => 0,
                "allocator_rss_ratio" => "0.00",
                "allocator_rss_bytes" => 0,
                "rss_overhead_ratio" => "0.00",
                "rss_overhead_bytes" => 0,
                "mem_fragmentation_ratio" => format_args!("{frag:.2}"),
                "mem_fragmentation_bytes" => i.used_memory_rss as i64 - used as i64,
                "mem_not_counted_for_evict" => 0,
                "mem_replication_backlog" => 0,
                "mem_total_replication_buffers" => 0,
                "mem_clients_slaves" => 0,
                "mem_clients_normal" => i.mem_clients_normal,
                "mem_cluster_links" => 0,
                "mem_aof_buffer" => 0,
                "mem_allocator" => "jemalloc-5.3.0",
                "active_defrag_running" => 0,
                "lazyfree_pending_objects" => 0,
                "lazyfreed_objects" => 0,
            );
        }
        Section::Persistence => {
            s.push_str("# Persistence\r\n");
            lines!(s,
                "loading" => 0,
                "async_loading" => 0,
                "current_cow_peak" => 0,
                "current_cow_size" => 0,
                "current_cow_size_age" => 0,
                "current_fork_perc" => "0.00",
                "current_save_keys_processed" => 0,
                "current_save_keys_total" => 0,
                "rdb_changes_since_last_save" => i.rdb_changes_since_last_save,
                "rdb_bgsave_in_progress" => 0,
                "rdb_last_save_time" => i.rdb_last_save_time,
                "rdb_last_bgsave_status" => "ok",
                "rdb_last_bgsave_time_sec" => -1,
                "rdb_current_bgsave_time_sec" => -1,
                "rdb_saves" => 0,
                "rdb_last_cow_size" => 0,
                "rdb_last_load_keys_expired" => 0,
                "rdb_last_load_keys_loaded" => 0,
                "aof_enabled" => 0,
                "aof_rewrite_in_progress" => 0,
                "aof_rewrite_scheduled" => 0,
                "aof_last_rewrite_time_sec" => -1,
                "aof_current_rewrite_time_sec" => -1,
                "aof_last_bgrewrite_status" => "ok",
                "aof_rewrites" => 0,
                "aof_rewrites_consecutive_failures" => 0,
                "aof_last_write_status" => "ok",
                "aof_last_cow_size" => 0,
                "module_fork_in_progress" => 0,
                "module_fork_last_cow_size" => 0,
            );
        }
        Section::Stats => {
            s.push_str("# Stats\r\n");
            lines!(s,
                "total_connections_received" => i.total_connections_received,
                "total_commands_processed" => i.total_commands_processed,
                "instantaneous_ops_per_sec" => i.instantaneous_ops_per_sec,
                "total_net_input_bytes" => i.total_net_input_bytes,
                "total_net_output_bytes" => i.total_net_output_bytes,
                "total_net_repl_input_bytes" => 0,
                "total_net_repl_output_bytes" => 0,
                "instantaneous_input_kbps" => format_args!("{:.2}", i.instantaneous_input_kbps),
                "instantaneous_output_kbps" => format_args!("{:.2}", i.instantaneous_output_kbps),
                "instantaneous_input_repl_kbps" => "0.00",
                "instantaneous_output_repl_kbps" => "0.00",
                "rejected_connections" => i.rejected_connections,
                "sync_full" => 0,
                "sync_partial_ok" => 0,
                "sync_partial_err" => 0,
                "expired_keys" => i.expired_keys,
                "expired_stale_perc" => format_args!("{:.2}", i.expired_stale_perc),
                "expired_time_cap_reached_count" => i.expired_time_cap_reached_count,
                "expire_cycle_cpu_milliseconds" => i.expire_cycle_cpu_milliseconds,
                "evicted_keys" => i.evicted_keys,
                "evicted_clients" => i.evicted_clients,
                "total_eviction_exceeded_time" => 0,
                "current_eviction_exceeded_time" => 0,
                "keyspace_hits" => i.keyspace_hits,
                "keyspace_misses" => i.keyspace_misses,
                "pubsub_channels" => i.pubsub_channels,
                "pubsub_patterns" => i.pubsub_patterns,
                "pubsubshard_channels" => i.pubsubshard_channels,
                "latest_fork_usec" => 0,
                "total_forks" => 0,
                "migrate_cached_sockets" => 0,
                "slave_expires_tracked_keys" => 0,
                "active_defrag_hits" => 0,
                "active_defrag_misses" => 0,
                "active_defrag_key_hits" => 0,
                "active_defrag_key_misses" => 0,
                "total_active_defrag_time" => 0,
                "current_active_defrag_time" => 0,
                "tracking_total_keys" => 0,
                "tracking_total_items" => 0,
                "tracking_total_prefixes" => 0,
                "unexpected_error_replies" => i.unexpected_error_replies,
                "total_error_replies" => i.total_error_replies,
                "dump_payload_sanitizations" => 0,
                "total_reads_processed" => i.total_reads_processed,
                "total_writes_processed" => i.total_writes_processed,
                "io_threaded_reads_processed" => 0,
                "io_threaded_writes_processed" => 0,
                "reply_buffer_shrinks" => 0,
                "reply_buffer_expands" => 0,
            );
        }
        Section::Replication => {
            s.push_str("# Replication\r\n");
            lines!(s,
                "role" => "master",
                "connected_slaves" => 0,
                "master_failover_state" => "no-failover",
                "master_replid" => i.master_replid,
                "master_replid2" => "0000000000000000000000000000000000000000",
                "master_repl_offset" => 0,
                "second_repl_offset" => -1,
                "repl_backlog_active" => 0,
                "repl_backlog_size" => cfg.compat.repl_backlog_size,
                "repl_backlog_first_byte_offset" => 0,
                "repl_backlog_histlen" => 0,
            );
        }
        Section::Cpu => {
            let c = &i.cpu;
            s.push_str("# CPU\r\n");
            lines!(s,
                "used_cpu_sys" => secs(c.sys),
                "used_cpu_user" => secs(c.user),
                "used_cpu_sys_children" => secs(c.sys_children),
                "used_cpu_user_children" => secs(c.user_children),
                "used_cpu_sys_main_thread" => secs(c.sys_main_thread),
                "used_cpu_user_main_thread" => secs(c.user_main_thread),
            );
        }
        Section::Modules => s.push_str("# Modules\r\n"),
        Section::Commandstats => {
            s.push_str("# Commandstats\r\n");
            for c in &i.commandstats {
                let per_call = if c.calls == 0 {
                    0.0
                } else {
                    c.usec as f64 / c.calls as f64
                };
                let _ = write!(
                    s,
                    "cmdstat_{}:calls={},usec={},usec_per_call={:.2},rejected_calls={},failed_calls={}\r\n",
                    c.name, c.calls, c.usec, per_call, c.rejected_calls, c.failed_calls
                );
            }
        }
        Section::Errorstats => {
            s.push_str("# Errorstats\r\n");
            // Redis keeps these in a radix tree: sorted by prefix.
            let mut errs: Vec<&(String, u64)> = i.errorstats.iter().collect();
            errs.sort_by(|a, b| a.0.cmp(&b.0));
            for (prefix, count) in errs {
                let _ = write!(s, "errorstat_{prefix}:count={count}\r\n");
            }
        }
        // Per-command latency histograms are not tracked (yet): the section is empty.
        Section::Latencystats => s.push_str("# Latencystats\r\n"),
        Section::Cluster => {
            s.push_str("# Cluster\r\n");
            lines!(s, "cluster_enabled" => 0);
        }
        Section::Keyspace => {
            s.push_str("# Keyspace\r\n");
            for d in &i.keyspace {
                if d.keys == 0 && d.expires == 0 {
                    continue;
                }
                let _ = write!(
                    s,
                    "db{}:keys={},expires={},avg_ttl={}\r\n",
                    d.db, d.keys, d.expires, d.avg_ttl
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use resp::Proto;

    fn input() -> InfoInput {
        InfoInput {
            run_id: "a".repeat(40),
            process_id: 42,
            os: "Linux 6.1.0 x86_64".into(),
            executable: "/usr/bin/ringkv-server".into(),
            server_time_usec: 1_700_000_000_123_456,
            uptime_in_seconds: 3 * 86400 + 5,
            connected_clients: 3,
            blocked_clients: 1,
            used_memory: 2 * 1024 * 1024,
            used_memory_peak: 4 * 1024 * 1024,
            used_memory_startup: 1024 * 1024,
            used_memory_rss: 8 * 1024 * 1024,
            total_system_memory: 16 << 30,
            total_commands_processed: 1000,
            keyspace_hits: 7,
            keyspace_misses: 2,
            master_replid: "b".repeat(40),
            cpu: CpuUsage {
                sys: Duration::from_micros(1_500_000),
                user: Duration::from_micros(20),
                ..Default::default()
            },
            commandstats: vec![CommandStat {
                name: "config|get".into(),
                calls: 3,
                usec: 10,
                rejected_calls: 1,
                failed_calls: 0,
            }],
            errorstats: vec![("WRONGTYPE".into(), 1), ("ERR".into(), 2)],
            keyspace: vec![
                DbInfo {
                    db: 0,
                    keys: 2,
                    expires: 1,
                    avg_ttl: 90646,
                },
                DbInfo {
                    db: 3,
                    keys: 0,
                    expires: 0,
                    avg_ttl: 0,
                },
                DbInfo {
                    db: 5,
                    keys: 1,
                    expires: 0,
                    avg_ttl: 0,
                },
            ],
            ..Default::default()
        }
    }

    fn headers(text: &str) -> Vec<&str> {
        text.split("\r\n").filter(|l| l.starts_with('#')).collect()
    }

    fn field<'a>(text: &'a str, name: &str) -> Option<&'a str> {
        text.split("\r\n")
            .find_map(|l| l.strip_prefix(name).and_then(|r| r.strip_prefix(':')))
    }

    #[test]
    fn section_selection() {
        let c = Config::new();
        let i = input();
        let default = [
            "# Server",
            "# Clients",
            "# Memory",
            "# Persistence",
            "# Stats",
            "# Replication",
            "# CPU",
            "# Modules",
            "# Errorstats",
            "# Cluster",
            "# Keyspace",
        ];
        assert_eq!(headers(&info_string(&c, &i, &[])), default);
        assert_eq!(headers(&info_string(&c, &i, &[b"DEFAULT"])), default);
        let all = [
            "# Server",
            "# Clients",
            "# Memory",
            "# Persistence",
            "# Stats",
            "# Replication",
            "# CPU",
            "# Modules",
            "# Commandstats",
            "# Errorstats",
            "# Latencystats",
            "# Cluster",
            "# Keyspace",
        ];
        assert_eq!(headers(&info_string(&c, &i, &[b"all"])), all);
        assert_eq!(headers(&info_string(&c, &i, &[b"everything", b"foo"])), all);
        assert_eq!(
            headers(&info_string(&c, &i, &[b"default", b"commandstats"])),
            [
                "# Server",
                "# Clients",
                "# Memory",
                "# Persistence",
                "# Stats",
                "# Replication",
                "# CPU",
                "# Modules",
                "# Commandstats",
                "# Errorstats",
                "# Cluster",
                "# Keyspace",
            ]
        );
        // Output order is Redis's, whatever the argument order.
        assert_eq!(
            headers(&info_string(&c, &i, &[b"cluster", b"CLIENTS"])),
            ["# Clients", "# Cluster"]
        );
        assert_eq!(info_string(&c, &i, &[b"foo"]), "");
    }

    #[test]
    fn layout_is_byte_exact() {
        let c = Config::new();
        let i = input();
        assert_eq!(
            info_string(&c, &i, &[b"clients", b"cluster"]),
            "# Clients\r\nconnected_clients:3\r\ncluster_connections:0\r\nmaxclients:10000\r\n\
             client_recent_max_input_buffer:0\r\nclient_recent_max_output_buffer:0\r\n\
             blocked_clients:1\r\ntracking_clients:0\r\nclients_in_timeout_table:0\r\n\
             \r\n# Cluster\r\ncluster_enabled:0\r\n"
        );
        assert_eq!(
            info_string(&c, &i, &[b"keyspace"]),
            "# Keyspace\r\ndb0:keys=2,expires=1,avg_ttl=90646\r\ndb5:keys=1,expires=0,avg_ttl=0\r\n"
        );
        assert_eq!(
            info_string(&c, &i, &[b"errorstats", b"modules", b"commandstats"]),
            "# Modules\r\n\r\n# Commandstats\r\n\
             cmdstat_config|get:calls=3,usec=10,usec_per_call=3.33,rejected_calls=1,failed_calls=0\r\n\
             \r\n# Errorstats\r\nerrorstat_ERR:count=2\r\nerrorstat_WRONGTYPE:count=1\r\n"
        );
        assert_eq!(
            info_string(&c, &i, &[b"cpu"]),
            "# CPU\r\nused_cpu_sys:1.500000\r\nused_cpu_user:0.000020\r\n\
             used_cpu_sys_children:0.000000\r\nused_cpu_user_children:0.000000\r\n\
             used_cpu_sys_main_thread:0.000000\r\nused_cpu_user_main_thread:0.000000\r\n"
        );
    }

    #[test]
    fn server_fields_in_redis_order() {
        let mut c = Config::new();
        c.port = 7000;
        c.config_file = Some("/etc/redis.conf".into());
        let s = info_string(&c, &input(), &[b"server"]);
        let names: Vec<&str> = s
            .split("\r\n")
            .skip(1)
            .filter(|l| !l.is_empty())
            .map(|l| l.split(':').next().unwrap())
            .collect();
        assert_eq!(
            names,
            [
                "redis_version",
                "redis_git_sha1",
                "redis_git_dirty",
                "redis_build_id",
                "redis_mode",
                "os",
                "arch_bits",
                "monotonic_clock",
                "multiplexing_api",
                "atomicvar_api",
                "gcc_version",
                "process_id",
                "process_supervised",
                "run_id",
                "tcp_port",
                "server_time_usec",
                "uptime_in_seconds",
                "uptime_in_days",
                "hz",
                "configured_hz",
                "lru_clock",
                "executable",
                "config_file",
                "io_threads_active",
                "ringkv_version",
            ]
        );
        assert!(s.starts_with("# Server\r\nredis_version:7.0.15\r\n"));
        assert_eq!(field(&s, "redis_mode"), Some("standalone"));
        assert_eq!(field(&s, "tcp_port"), Some("7000"));
        assert_eq!(field(&s, "uptime_in_days"), Some("3"));
        assert_eq!(field(&s, "config_file"), Some("/etc/redis.conf"));
        assert_eq!(field(&s, "arch_bits"), Some("64"));
        assert_eq!(
            field(&s, "lru_clock"),
            Some(&*((1_700_000_000u64) & 0xff_ffff).to_string())
        );
        assert_eq!(field(&s, "ringkv_version"), Some(env!("CARGO_PKG_VERSION")));
    }

    #[test]
    fn memory_fields() {
        let mut c = Config::new();
        c.set("maxmemory", "100mb").unwrap();
        c.set("maxmemory-policy", "allkeys-lru").unwrap();
        let s = info_string(&c, &input(), &[b"memory"]);
        assert_eq!(field(&s, "used_memory"), Some("2097152"));
        assert_eq!(field(&s, "used_memory_human"), Some("2.00M"));
        assert_eq!(field(&s, "used_memory_peak_perc"), Some("50.00%"));
        assert_eq!(field(&s, "used_memory_dataset"), Some("1048576"));
        assert_eq!(field(&s, "used_memory_dataset_perc"), Some("100.00%"));
        assert_eq!(field(&s, "maxmemory"), Some("104857600"));
        assert_eq!(field(&s, "maxmemory_human"), Some("100.00M"));
        assert_eq!(field(&s, "maxmemory_policy"), Some("allkeys-lru"));
        assert_eq!(field(&s, "mem_fragmentation_ratio"), Some("4.00"));
        assert_eq!(field(&s, "mem_fragmentation_bytes"), Some("6291456"));
        assert_eq!(field(&s, "total_system_memory_human"), Some("16.00G"));
        assert_eq!(field(&s, "mem_allocator"), Some("jemalloc-5.3.0"));
        assert!(s.ends_with("lazyfreed_objects:0\r\n"));
        // Zero inputs never divide by zero.
        let s = info_string(&c, &InfoInput::default(), &[b"memory"]);
        assert_eq!(field(&s, "used_memory_peak_perc"), Some("0.00%"));
        assert_eq!(field(&s, "mem_fragmentation_ratio"), Some("0.00"));
    }

    #[test]
    fn stats_and_replication_fields() {
        let c = Config::new();
        let s = info_string(&c, &input(), &[b"stats", b"replication", b"persistence"]);
        assert_eq!(field(&s, "total_commands_processed"), Some("1000"));
        assert_eq!(field(&s, "keyspace_hits"), Some("7"));
        assert_eq!(field(&s, "keyspace_misses"), Some("2"));
        assert_eq!(field(&s, "instantaneous_input_kbps"), Some("0.00"));
        assert_eq!(field(&s, "role"), Some("master"));
        assert_eq!(field(&s, "master_replid"), Some(&*"b".repeat(40)));
        assert_eq!(field(&s, "repl_backlog_size"), Some("1048576"));
        assert_eq!(field(&s, "loading"), Some("0"));
        assert_eq!(field(&s, "aof_enabled"), Some("0"));
        assert!(s.contains("reply_buffer_expands:0\r\n\r\n# Replication\r\n"));
    }

    #[test]
    fn human_bytes() {
        assert_eq!(bytes_to_human(0), "0B");
        assert_eq!(bytes_to_human(1023), "1023B");
        assert_eq!(bytes_to_human(1024), "1.00K");
        assert_eq!(bytes_to_human(941904), "919.83K");
        assert_eq!(bytes_to_human(6696960), "6.39M");
        assert_eq!(bytes_to_human(25276514304), "23.54G");
        assert_eq!(bytes_to_human(1 << 40), "1.00T");
        assert_eq!(bytes_to_human(1 << 50), "1.00P");
        assert_eq!(bytes_to_human(u64::MAX), "18446744073709551615B");
    }

    #[test]
    fn reply_is_bulk_or_verbatim() {
        let c = Config::new();
        let i = input();
        let mut b = Vec::new();
        info_command(&c, &i, &[b"cluster"], &mut Reply::new(&mut b, Proto::Resp2));
        assert_eq!(b, b"$30\r\n# Cluster\r\ncluster_enabled:0\r\n\r\n");
        let mut b = Vec::new();
        info_command(&c, &i, &[b"cluster"], &mut Reply::new(&mut b, Proto::Resp3));
        assert_eq!(b, b"=34\r\ntxt:# Cluster\r\ncluster_enabled:0\r\n\r\n");
        let mut b = Vec::new();
        info_command(&c, &i, &[b"nosuch"], &mut Reply::new(&mut b, Proto::Resp3));
        assert_eq!(b, b"=4\r\ntxt:\r\n");
    }

    #[test]
    fn probe_reads_the_process() {
        let mut i = InfoInput::default();
        i.probe_process();
        assert_eq!(i.process_id, std::process::id());
        assert!(i.os.starts_with("Linux "), "{}", i.os);
        assert!(i.used_memory_rss > 0);
        assert!(i.total_system_memory > 0);
        assert!(i.server_time_usec > 1_600_000_000_000_000);
        let id = random_hex_id();
        assert_eq!(id.len(), 40);
        assert!(id.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_ne!(id, random_hex_id());
        assert_eq!(i.run_id, process_run_id());
        assert_eq!(i.run_id.len(), 40);
        assert_ne!(i.run_id, i.master_replid);
        let mut j = InfoInput::default();
        j.probe_process();
        assert_eq!(j.run_id, i.run_id, "run_id is fixed per process");
    }

    #[test]
    fn engine_values_are_copied() {
        let mut e = engine::Engine::new(engine::EngineConfig::default(), engine::Clock::System);
        e.dirty = 9;
        let mut i = InfoInput::default();
        i.fill_from_engine(&e);
        assert!(i.keyspace.is_empty());
        assert_eq!(i.rdb_changes_since_last_save, 9);
    }
}
