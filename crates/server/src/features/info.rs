//! INFO: the text of Redis 7.0.15's `genRedisInfoString`, section by section.
//!
//! Each field is defined once, in [`SECTIONS`]: a name and a function that writes its value
//! from a [`View`] (the server state, plus the process figures sampled once per call in
//! [`Process`]). The three sections whose lines vary (Commandstats, Errorstats, Keyspace)
//! are a function each. `client_cmds::info` only passes the requested section names.
//!
//! Invariants:
//! - Layout is Redis's byte for byte: `# Section\r\n` then `field:value\r\n` lines; sections
//!   after the first are preceded by an empty line (`\r\n`); no trailing empty line; field
//!   names and order as Redis 7.0.15 (clients parse them); numbers formatted as Redis formats
//!   them (`%.2f`, `%ld.%06ld`, `bytesToHuman`).
//! - `redis_version:7.0.15` (clients gate features on it); `ringkv_version` is added at the
//!   end of the Server section.
//! - Generation is a pure function of the server state, the [`Process`] sample and the
//!   requested sections, so tests pin the exact text with a hand-made sample.
//! - Fields ringkv cannot measure honestly (Lua memory, fork and replication figures…) are printed as 0 (`0.00` for ratios) rather than invented;
//!   docs/CONFIG.md lists them.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use crate::features::config::REDIS_VERSION;
use crate::server::Server;
use resp::Reply;

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

/// What INFO reads from the process and the OS rather than from the server state, sampled
/// once per call so related fields (`used_memory`, its human form, the dataset share…)
/// agree.
#[derive(Clone, Debug, Default)]
pub struct Process {
    /// 40 hex characters, random per process start (Redis's `run_id`).
    pub run_id: String,
    pub pid: u32,
    /// `uname -srm` as Redis prints it: "Linux 6.1.0 x86_64".
    pub os: String,
    /// Absolute path of the running binary.
    pub executable: String,
    pub server_time_usec: i64,
    pub uptime_in_seconds: i64,
    pub used_memory: u64,
    /// At least `used_memory`.
    pub used_memory_peak: u64,
    pub used_memory_rss: u64,
    pub total_system_memory: u64,
    /// jemalloc's allocated / active / resident bytes.
    pub allocator: crate::alloc::AllocatorInfo,
    pub cpu: CpuUsage,
}

impl Process {
    /// Reads pid, OS, executable, allocator counters, RSS, total system memory, CPU times,
    /// the time and the uptime since `started`. Cheap enough per INFO call (a few syscalls
    /// and two small /proc reads).
    pub fn sample(started: Instant) -> Process {
        let used_memory = crate::alloc::used_memory() as u64;
        Process {
            run_id: process_run_id().to_string(),
            pid: std::process::id(),
            os: os_name(),
            executable: std::env::current_exe()
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
            server_time_usec: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_micros() as i64),
            uptime_in_seconds: started.elapsed().as_secs() as i64,
            used_memory,
            used_memory_peak: (crate::alloc::peak_memory() as u64).max(used_memory),
            used_memory_rss: crate::alloc::rss_bytes() as u64,
            total_system_memory: total_system_memory(),
            allocator: crate::alloc::allocator_info(),
            cpu: cpu_usage(),
        }
    }
}

/// What a field's value is computed from.
pub struct View<'a> {
    pub server: &'a Server,
    pub process: &'a Process,
}

impl View<'_> {
    fn used_memory_peak(&self) -> u64 {
        self.process.used_memory_peak.max(self.process.used_memory)
    }

    /// Memory of the clients' buffers (Redis's `mem_clients_normal`).
    fn mem_clients_normal(&self) -> u64 {
        self.server
            .clients
            .iter()
            .map(|(_, c)| c.memory() as u64)
            .sum()
    }

    fn used_memory_overhead(&self) -> u64 {
        self.server.used_memory_startup + self.mem_clients_normal()
    }

    fn used_memory_dataset(&self) -> u64 {
        self.process
            .used_memory
            .saturating_sub(self.used_memory_overhead())
    }

    fn client_recent_max(&self, f: impl Fn(&crate::client::Conn) -> usize) -> u64 {
        self.server
            .clients
            .iter()
            .map(|(_, c)| f(c) as u64)
            .max()
            .unwrap_or(0)
    }
}

/// One `name:value` line: the value is written by `value`.
pub struct Field {
    pub name: &'static str,
    pub value: fn(&View<'_>, &mut String),
}

/// What follows a section's title.
pub enum Body {
    /// Fixed lines, in order.
    Fields(&'static [Field]),
    /// Lines that depend on the state (one per command, error code, database).
    Lines(fn(&View<'_>, &mut String)),
}

/// An INFO section.
pub struct Section {
    /// As printed after `# `.
    pub title: &'static str,
    /// The names that select it, lowercase.
    pub names: &'static [&'static str],
    /// Printed by `INFO` and `INFO default`.
    pub default: bool,
    pub body: Body,
}

/// A field whose value is `$e` (a `Display`), computed from the view bound to `$v`.
macro_rules! f {
    ($name:literal, $v:pat_param => $e:expr) => {
        Field {
            name: $name,
            value: |$v, s| {
                let _ = write!(s, "{}", $e);
            },
        }
    };
}

fn ok_err(ok: bool) -> &'static str {
    if ok { "ok" } else { "err" }
}

/// `aof_last_cow_size`, then the lines Redis adds while the AOF is on (`aof_current_size`
/// ... `aof_delayed_fsync`), which a fixed field list cannot make conditional.
fn aof_cow_and_sizes(v: &View<'_>, s: &mut String) {
    s.push('0');
    let aof = &v.server.aof;
    if aof.on {
        let _ = write!(
            s,
            "\r\naof_current_size:{}\r\naof_base_size:{}\r\naof_pending_rewrite:{}\r\n\
             aof_buffer_length:{}\r\naof_pending_bio_fsync:0\r\naof_delayed_fsync:0",
            aof.current_size,
            aof.base_size,
            aof.rewrite_scheduled as u8,
            aof.buffer_len()
        );
    }
}

/// Every section, in output order, with its fields.
#[rustfmt::skip]
pub static SECTIONS: &[Section] = &[
    Section { title: "Server", names: &["server"], default: true, body: Body::Fields(&[
        f!("redis_version", _ => REDIS_VERSION),
        f!("redis_git_sha1", _ => "00000000"),
        f!("redis_git_dirty", _ => 0),
        f!("redis_build_id", _ => 0),
        f!("redis_mode", _ => "standalone"),
        f!("os", v => v.process.os),
        f!("arch_bits", _ => usize::BITS),
        f!("monotonic_clock", _ => "POSIX clock_gettime"),
        f!("multiplexing_api", _ => "io_uring"),
        f!("atomicvar_api", _ => "c11-builtin"),
        f!("gcc_version", _ => "0.0.0"),
        f!("process_id", v => v.process.pid),
        f!("process_supervised", _ => "no"),
        f!("run_id", v => v.process.run_id),
        f!("tcp_port", v => v.server.config.port),
        f!("server_time_usec", v => v.process.server_time_usec),
        f!("uptime_in_seconds", v => v.process.uptime_in_seconds),
        f!("uptime_in_days", v => v.process.uptime_in_seconds / (3600 * 24)),
        f!("hz", v => v.server.settings.hz),
        f!("configured_hz", v => v.server.config.hz),
        f!("lru_clock", v => engine::db::lru_clock(v.process.server_time_usec / 1000)),
        f!("executable", v => v.process.executable),
        f!("config_file", v => v.server.config.config_file.as_ref().map(|p| p.display().to_string()).unwrap_or_default()),
        f!("io_threads_active", _ => 0),
        f!("ringkv_version", _ => env!("CARGO_PKG_VERSION")),
    ])},
    Section { title: "Clients", names: &["clients"], default: true, body: Body::Fields(&[
        f!("connected_clients", v => v.server.connected_clients()),
        f!("cluster_connections", _ => 0),
        f!("maxclients", v => v.server.config.maxclients),
        f!("client_recent_max_input_buffer", v => v.client_recent_max(|c| c.qbuf_len())),
        f!("client_recent_max_output_buffer", v => v.client_recent_max(|c| c.output_len())),
        // Clients held by CLIENT PAUSE count, as Redis's postponed clients.
        f!("blocked_clients", v => v.server.blocked.len() + crate::features::pause::held(v.server)),
        f!("tracking_clients", _ => 0),
        f!("clients_in_timeout_table", v => v.server.blocked.with_timeout()),
    ])},
    Section { title: "Memory", names: &["memory"], default: true, body: Body::Fields(&[
        f!("used_memory", v => v.process.used_memory),
        f!("used_memory_human", v => bytes_to_human(v.process.used_memory)),
        f!("used_memory_rss", v => v.process.used_memory_rss),
        f!("used_memory_rss_human", v => bytes_to_human(v.process.used_memory_rss)),
        f!("used_memory_peak", v => v.used_memory_peak()),
        f!("used_memory_peak_human", v => bytes_to_human(v.used_memory_peak())),
        f!("used_memory_peak_perc", v => format_args!("{:.2}%", percent(v.process.used_memory, v.used_memory_peak()))),
        f!("used_memory_overhead", v => v.used_memory_overhead()),
        f!("used_memory_startup", v => v.server.used_memory_startup),
        f!("used_memory_dataset", v => v.used_memory_dataset()),
        // Redis: the dataset as a share of what was allocated after startup.
        f!("used_memory_dataset_perc", v => format_args!("{:.2}%", v.used_memory_dataset() as f64 * 100.0
            / v.process.used_memory.saturating_sub(v.server.used_memory_startup).max(1) as f64)),
        f!("allocator_allocated", v => v.process.allocator.allocated),
        f!("allocator_active", v => v.process.allocator.active),
        f!("allocator_resident", v => v.process.allocator.resident),
        f!("total_system_memory", v => v.process.total_system_memory),
        f!("total_system_memory_human", v => bytes_to_human(v.process.total_system_memory)),
        // Scripting: the two Lua states' own figures, the cached scripts' and libraries'
        // bodies (features::script).
        f!("used_memory_lua", v => v.server.scripting.eval_memory()),
        f!("used_memory_vm_eval", v => v.server.scripting.eval_memory()),
        f!("used_memory_lua_human", v => bytes_to_human(v.server.scripting.eval_memory() as u64)),
        f!("used_memory_scripts_eval", v => v.server.scripting.scripts_bytes),
        f!("number_of_cached_scripts", v => v.server.scripting.cached_scripts()),
        f!("number_of_functions", v => v.server.scripting.functions.function_count()),
        f!("number_of_libraries", v => v.server.scripting.functions.libs.len()),
        f!("used_memory_vm_functions", v => v.server.scripting.functions.memory()),
        f!("used_memory_vm_total", v => v.server.scripting.eval_memory() + v.server.scripting.functions.memory()),
        f!("used_memory_vm_total_human", v => bytes_to_human((v.server.scripting.eval_memory() + v.server.scripting.functions.memory()) as u64)),
        f!("used_memory_functions", v => v.server.scripting.functions.code_bytes()),
        f!("used_memory_scripts", v => v.server.scripting.scripts_bytes + v.server.scripting.functions.code_bytes()),
        f!("used_memory_scripts_human", v => bytes_to_human((v.server.scripting.scripts_bytes + v.server.scripting.functions.code_bytes()) as u64)),
        f!("maxmemory", v => v.server.config.maxmemory),
        f!("maxmemory_human", v => bytes_to_human(v.server.config.maxmemory)),
        f!("maxmemory_policy", v => String::from_utf8_lossy(&v.server.config.get("maxmemory-policy").unwrap_or_default())),
        f!("allocator_frag_ratio", v => format_args!("{:.2}", ratio(v.process.allocator.active, v.process.allocator.allocated))),
        f!("allocator_frag_bytes", v => v.process.allocator.active as i64 - v.process.allocator.allocated as i64),
        f!("allocator_rss_ratio", v => format_args!("{:.2}", ratio(v.process.allocator.resident, v.process.allocator.active))),
        f!("allocator_rss_bytes", v => v.process.allocator.resident as i64 - v.process.allocator.active as i64),
        f!("rss_overhead_ratio", v => format_args!("{:.2}", ratio(v.process.used_memory_rss, v.process.allocator.resident))),
        f!("rss_overhead_bytes", v => v.process.used_memory_rss as i64 - v.process.allocator.resident as i64),
        f!("mem_fragmentation_ratio", v => format_args!("{:.2}", ratio(v.process.used_memory_rss, v.process.used_memory))),
        f!("mem_fragmentation_bytes", v => v.process.used_memory_rss as i64 - v.process.used_memory as i64),
        f!("mem_not_counted_for_evict", v => crate::features::memory::not_counted_for_evict(v.server)),
        f!("mem_replication_backlog", v => v.server.repl.backlog.as_ref().map_or(0, |b| b.memory())),
        f!("mem_total_replication_buffers", _ => 0),
        f!("mem_clients_slaves", _ => 0),
        f!("mem_clients_normal", v => v.mem_clients_normal()),
        f!("mem_cluster_links", _ => 0),
        f!("mem_aof_buffer", v => crate::features::memory::not_counted_for_evict(v.server)),
        f!("mem_allocator", _ => "jemalloc-5.3.0"),
        f!("active_defrag_running", _ => 0),
        f!("lazyfree_pending_objects", _ => 0),
        f!("lazyfreed_objects", _ => 0),
    ])},
    Section { title: "Persistence", names: &["persistence"], default: true, body: Body::Fields(&[
        f!("loading", v => u8::from(v.server.loading)),
        f!("async_loading", _ => 0),
        f!("current_cow_peak", _ => 0),
        f!("current_cow_size", _ => 0),
        f!("current_cow_size_age", _ => 0),
        f!("current_fork_perc", _ => "0.00"),
        f!("current_save_keys_processed", v => v.server.persistence.bg.as_ref().map_or(0, |b| b.snap.borrow().keys)),
        f!("current_save_keys_total", v => if v.server.persistence.bg.is_some() { v.server.engine.dbs.iter().map(|d| d.len() as u64).sum::<u64>() } else { 0 }),
        f!("rdb_changes_since_last_save", v => v.server.persistence.changes_since_save(v.server.engine.dirty)),
        f!("rdb_bgsave_in_progress", v => u8::from(v.server.persistence.rdb_bgsave().is_some())),
        f!("rdb_last_save_time", v => v.server.persistence.lastsave),
        f!("rdb_last_bgsave_status", v => if v.server.persistence.last_bgsave_ok { "ok" } else { "err" }),
        f!("rdb_last_bgsave_time_sec", v => v.server.persistence.last_bgsave_time_sec),
        f!("rdb_current_bgsave_time_sec", v => v.server.persistence.rdb_bgsave().map_or(-1, |b| b.elapsed_secs())),
        f!("rdb_saves", v => v.server.persistence.saves),
        f!("rdb_last_cow_size", _ => 0),
        f!("rdb_last_load_keys_expired", v => v.server.persistence.last_load_keys_expired),
        f!("rdb_last_load_keys_loaded", v => v.server.persistence.last_load_keys_loaded),
        f!("aof_enabled", v => v.server.aof.on as u8),
        // Rewrites run between two loop turns (no background rewrite yet).
        f!("aof_rewrite_in_progress", v => u8::from(v.server.persistence.aof_rewrite().is_some())),
        f!("aof_rewrite_scheduled", v => v.server.aof.rewrite_scheduled as u8),
        f!("aof_last_rewrite_time_sec", v => v.server.aof.last_rewrite_time_sec),
        f!("aof_current_rewrite_time_sec", v => v.server.persistence.aof_rewrite().map_or(-1, |b| b.elapsed_secs())),
        f!("aof_last_bgrewrite_status", v => ok_err(v.server.aof.last_bgrewrite_ok)),
        f!("aof_rewrites", v => v.server.aof.rewrites),
        f!("aof_rewrites_consecutive_failures", v => v.server.aof.rewrites_consecutive_failures),
        f!("aof_last_write_status", v => ok_err(v.server.aof.write_error.is_none())),
        Field { name: "aof_last_cow_size", value: aof_cow_and_sizes },
        f!("module_fork_in_progress", _ => 0),
        f!("module_fork_last_cow_size", _ => 0),
    ])},
    Section { title: "Stats", names: &["stats"], default: true, body: Body::Fields(&[
        f!("total_connections_received", v => v.server.stats.total_connections_received),
        f!("total_commands_processed", v => v.server.stats.total_commands_processed),
        f!("instantaneous_ops_per_sec", v => v.server.stats.ops_metric.get() as u64),
        f!("total_net_input_bytes", v => v.server.stats.net_input_bytes),
        f!("total_net_output_bytes", v => v.server.stats.net_output_bytes),
        f!("total_net_repl_input_bytes", _ => 0),
        f!("total_net_repl_output_bytes", _ => 0),
        f!("instantaneous_input_kbps", v => format_args!("{:.2}", v.server.stats.input_metric.get() / 1024.0)),
        f!("instantaneous_output_kbps", v => format_args!("{:.2}", v.server.stats.output_metric.get() / 1024.0)),
        f!("instantaneous_input_repl_kbps", _ => "0.00"),
        f!("instantaneous_output_repl_kbps", _ => "0.00"),
        f!("rejected_connections", v => v.server.stats.rejected_connections),
        f!("sync_full", v => v.server.repl.stat_sync_full),
        f!("sync_partial_ok", v => v.server.repl.stat_sync_partial_ok),
        f!("sync_partial_err", v => v.server.repl.stat_sync_partial_err),
        f!("expired_keys", v => v.server.engine.expired_keys()),
        f!("expired_stale_perc", v => format_args!("{:.2}", v.server.engine.stats.expired_stale_perc * 100.0)),
        f!("expired_time_cap_reached_count", v => v.server.engine.stats.expired_time_cap_reached_count),
        f!("expire_cycle_cpu_milliseconds", v => v.server.engine.stats.expire_cycle_time_used_us / 1000),
        f!("evicted_keys", v => v.server.engine.evict.evicted_keys),
        f!("evicted_clients", v => v.server.stats.evicted_clients),
        f!("total_eviction_exceeded_time", v => v.server.engine.evict.total_exceeded().as_millis()),
        f!("current_eviction_exceeded_time", v => v.server.engine.evict.current_exceeded().as_millis()),
        f!("keyspace_hits", v => v.server.engine.keyspace_hits()),
        f!("keyspace_misses", v => v.server.engine.keyspace_misses()),
        f!("pubsub_channels", v => v.server.pubsub.num_channels()),
        f!("pubsub_patterns", v => v.server.pubsub.num_patterns()),
        f!("pubsubshard_channels", v => v.server.pubsub.num_shard_channels()),
        f!("latest_fork_usec", _ => 0),
        f!("total_forks", _ => 0),
        f!("migrate_cached_sockets", _ => 0),
        f!("slave_expires_tracked_keys", _ => 0),
        f!("active_defrag_hits", _ => 0),
        f!("active_defrag_misses", _ => 0),
        f!("active_defrag_key_hits", _ => 0),
        f!("active_defrag_key_misses", _ => 0),
        f!("total_active_defrag_time", _ => 0),
        f!("current_active_defrag_time", _ => 0),
        f!("tracking_total_keys", _ => 0),
        f!("tracking_total_items", _ => 0),
        f!("tracking_total_prefixes", _ => 0),
        f!("unexpected_error_replies", _ => 0),
        f!("total_error_replies", v => v.server.stats.total_error_replies),
        f!("dump_payload_sanitizations", _ => 0),
        f!("total_reads_processed", v => v.server.stats.reads_processed),
        f!("total_writes_processed", v => v.server.stats.writes_processed),
        f!("io_threaded_reads_processed", _ => 0),
        f!("io_threaded_writes_processed", _ => 0),
        f!("reply_buffer_shrinks", _ => 0),
        f!("reply_buffer_expands", _ => 0),
    ])},
    Section { title: "Replication", names: &["replication"], default: true, body: Body::Fields(&[
        Field { name: "role", value: |v, s| crate::features::replication::info_role(v.server, s) },
        Field { name: "connected_slaves", value: |v, s| crate::features::replication::info_replicas(v.server, s) },
        f!("master_failover_state", v => crate::features::replication::failover_state(v.server)),
        f!("master_replid", v => v.server.replid),
        f!("master_replid2", v => v.server.repl.replid2),
        f!("master_repl_offset", v => v.server.repl.offset),
        f!("second_repl_offset", v => v.server.repl.second_replid_offset),
        f!("repl_backlog_active", v => u8::from(v.server.repl.backlog.is_some())),
        f!("repl_backlog_size", v => v.server.config.compat.repl_backlog_size),
        f!("repl_backlog_first_byte_offset", v => v.server.repl.backlog.as_ref().map_or(0, |b| b.first_offset)),
        f!("repl_backlog_histlen", v => v.server.repl.backlog.as_ref().map_or(0, |b| b.histlen())),
    ])},
    Section { title: "CPU", names: &["cpu"], default: true, body: Body::Fields(&[
        f!("used_cpu_sys", v => secs(v.process.cpu.sys)),
        f!("used_cpu_user", v => secs(v.process.cpu.user)),
        f!("used_cpu_sys_children", v => secs(v.process.cpu.sys_children)),
        f!("used_cpu_user_children", v => secs(v.process.cpu.user_children)),
        f!("used_cpu_sys_main_thread", v => secs(v.process.cpu.sys_main_thread)),
        f!("used_cpu_user_main_thread", v => secs(v.process.cpu.user_main_thread)),
    ])},
    Section { title: "Modules", names: &["modules", "module_list"], default: true, body: Body::Fields(&[]) },
    Section { title: "Commandstats", names: &["commandstats"], default: false, body: Body::Lines(commandstats) },
    Section { title: "Errorstats", names: &["errorstats"], default: true, body: Body::Lines(errorstats) },
    Section { title: "Latencystats", names: &["latencystats"], default: false, body: Body::Lines(latencystats) },
    Section { title: "Cluster", names: &["cluster"], default: true, body: Body::Fields(&[
        f!("cluster_enabled", _ => 0),
    ])},
    Section { title: "Keyspace", names: &["keyspace"], default: true, body: Body::Lines(keyspace) },
];

/// One line per command called (or refused) since the last CONFIG RESETSTAT, under Redis's
/// full name (`get`, `config|set`).
fn commandstats(v: &View<'_>, s: &mut String) {
    for row in v.server.table.rows() {
        let c = row.handler.stats.get();
        if c.calls + c.rejected_calls + c.failed_calls == 0 {
            continue;
        }
        let per_call = if c.calls == 0 {
            0.0
        } else {
            c.usec as f64 / c.calls as f64
        };
        let _ = write!(
            s,
            "cmdstat_{}:calls={},usec={},usec_per_call={:.2},rejected_calls={},failed_calls={}\r\n",
            row.meta.name, c.calls, c.usec, per_call, c.rejected_calls, c.failed_calls
        );
    }
}

/// Per-command latency percentiles (see [`crate::features::latency`]).
fn latencystats(v: &View<'_>, s: &mut String) {
    crate::features::latency::info_lines(v.server, s);
}

/// One line per error code replied.
fn errorstats(v: &View<'_>, s: &mut String) {
    // Redis keeps these in a radix tree: sorted by code.
    let mut errs: Vec<&(Box<str>, u64)> = v.server.stats.errorstats.iter().collect();
    errs.sort_by(|a, b| a.0.cmp(&b.0));
    for (code, count) in errs {
        let _ = write!(s, "errorstat_{code}:count={count}\r\n");
    }
}

/// One line per database holding keys.
fn keyspace(v: &View<'_>, s: &mut String) {
    for (i, d) in v.server.engine.dbs.iter().enumerate() {
        if d.is_empty() && d.expires_len() == 0 {
            continue;
        }
        let _ = write!(
            s,
            "db{}:keys={},expires={},avg_ttl={}\r\n",
            i,
            d.len(),
            d.expires_len(),
            d.avg_ttl()
        );
    }
}

/// The sections the arguments ask for, as bits of [`SECTIONS`] indices (Redis's
/// `genInfoSectionDict`): none means default; `all` / `everything` mean every section;
/// `default` adds the default ones; other names add their section, case-insensitively;
/// unknown names add nothing.
fn select(args: &[&[u8]]) -> u32 {
    let default = || {
        SECTIONS
            .iter()
            .enumerate()
            .filter(|(_, s)| s.default)
            .fold(0, |set, (i, _)| set | 1 << i)
    };
    if args.is_empty() {
        return default();
    }
    let mut set = 0u32;
    for a in args {
        let a = a.to_ascii_lowercase();
        set |= match a.as_slice() {
            b"all" | b"everything" => u32::MAX,
            b"default" => default(),
            name => SECTIONS
                .iter()
                .position(|s| s.names.iter().any(|n| n.as_bytes() == name))
                .map_or(0, |i| 1 << i),
        };
    }
    set
}

/// The INFO text for `args` (the arguments after INFO), sampling the process now.
pub fn info_string(server: &Server, args: &[&[u8]]) -> String {
    let process = Process::sample(server.started);
    render(
        &View {
            server,
            process: &process,
        },
        args,
    )
}

/// The INFO text for `args` from a given view.
pub fn render(v: &View<'_>, args: &[&[u8]]) -> String {
    let set = select(args);
    let mut s = String::with_capacity(4096);
    let mut first = true;
    for (i, sec) in SECTIONS.iter().enumerate() {
        if set & (1 << i) == 0 {
            continue;
        }
        if !first {
            s.push_str("\r\n");
        }
        first = false;
        let _ = write!(s, "# {}\r\n", sec.title);
        match sec.body {
            Body::Fields(fields) => {
                for f in fields {
                    s.push_str(f.name);
                    s.push(':');
                    (f.value)(v, &mut s);
                    s.push_str("\r\n");
                }
            }
            Body::Lines(lines) => lines(v, &mut s),
        }
    }
    s
}

/// Replies INFO's text: a bulk string in RESP2, a verbatim `txt` string in RESP3 (also for
/// an empty result, as Redis).
pub fn reply(text: &str, out: &mut Reply<'_>) {
    out.verbatim(b"txt", text.as_bytes());
}

/// `a` as a percentage of `b`, 0 when `b` is 0.
fn percent(a: u64, b: u64) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 * 100.0 / b as f64
    }
}

/// `a / b`, 0 when `b` is 0.
fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
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

// ---------------------------------------------------------------------------------------
// The process
// ---------------------------------------------------------------------------------------

/// This process's `run_id`: random, fixed for the life of the process.
pub fn process_run_id() -> &'static str {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::Conn;
    use crate::features::config::Config;
    use engine::object::{Str, Value};
    use resp::Proto;

    fn server(cfg: Config) -> Server {
        let (clock, _) = engine::Clock::manual(1_767_225_600_000);
        let engine = engine::Engine::new(cfg.engine_config(), clock);
        Server::new(cfg, engine).unwrap()
    }

    fn process() -> Process {
        Process {
            run_id: "a".repeat(40),
            pid: 42,
            os: "Linux 6.1.0 x86_64".into(),
            executable: "/usr/bin/ringkv-server".into(),
            server_time_usec: 1_700_000_000_123_456,
            uptime_in_seconds: 3 * 86400 + 5,
            used_memory: 2 * 1024 * 1024,
            used_memory_peak: 4 * 1024 * 1024,
            used_memory_rss: 8 * 1024 * 1024,
            total_system_memory: 16 << 30,
            allocator: crate::alloc::AllocatorInfo {
                allocated: 3 << 20,
                active: 4 << 20,
                resident: 6 << 20,
            },
            cpu: CpuUsage {
                sys: Duration::from_micros(1_500_000),
                user: Duration::from_micros(20),
                ..Default::default()
            },
        }
    }

    /// INFO's text for `args` from `server` and the hand-made [`process`] sample.
    fn info(server: &Server, args: &[&[u8]]) -> String {
        render(
            &View {
                server,
                process: &process(),
            },
            args,
        )
    }

    /// A server with some state behind every section.
    fn busy() -> Server {
        let mut s = server(Config::new());
        for id in 3..6 {
            s.clients.insert(Conn::new(-1, 1, id, 0));
        }
        s.used_memory_startup = 1024 * 1024;
        s.replid = "b".repeat(40);
        s.stats.total_commands_processed = 1000;
        s.stats.count_error("WRONGTYPE Operation against a key");
        s.stats.count_error("ERR one");
        s.stats.count_error("ERR two");
        let row = s
            .table
            .rows()
            .iter()
            .find(|r| r.meta.name == "config|get")
            .unwrap();
        row.handler.stats.set(crate::dispatch::gate::CmdStats {
            calls: 3,
            usec: 10,
            rejected_calls: 1,
            failed_calls: 0,
        });
        let v = |b: &[u8]| Value::Str(Str::from_bytes(b));
        let now = s.now_ms();
        s.engine.dbs[0].set(b"a", v(b"1"), false);
        s.engine.dbs[0].set_with_expire(b"b", v(b"2"), Some(now + 100_000));
        s.engine.dbs[5].set(b"c", v(b"3"), false);
        s.engine.dirty = 9;
        s
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
        let s = busy();
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
        assert_eq!(headers(&info(&s, &[])), default);
        assert_eq!(headers(&info(&s, &[b"DEFAULT"])), default);
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
        assert_eq!(headers(&info(&s, &[b"all"])), all);
        assert_eq!(headers(&info(&s, &[b"everything", b"foo"])), all);
        assert_eq!(
            headers(&info(&s, &[b"default", b"commandstats"])),
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
            headers(&info(&s, &[b"cluster", b"CLIENTS"])),
            ["# Clients", "# Cluster"]
        );
        assert_eq!(headers(&info(&s, &[b"module_list"])), ["# Modules"]);
        assert_eq!(info(&s, &[b"foo"]), "");
    }

    #[test]
    fn layout_is_byte_exact() {
        let s = busy();
        assert_eq!(
            info(&s, &[b"clients", b"cluster"]),
            "# Clients\r\nconnected_clients:3\r\ncluster_connections:0\r\nmaxclients:10000\r\n\
             client_recent_max_input_buffer:0\r\nclient_recent_max_output_buffer:0\r\n\
             blocked_clients:0\r\ntracking_clients:0\r\nclients_in_timeout_table:0\r\n\
             \r\n# Cluster\r\ncluster_enabled:0\r\n"
        );
        assert_eq!(
            info(&s, &[b"keyspace"]),
            "# Keyspace\r\ndb0:keys=2,expires=1,avg_ttl=0\r\ndb5:keys=1,expires=0,avg_ttl=0\r\n"
        );
        assert_eq!(
            info(&s, &[b"errorstats", b"modules", b"commandstats"]),
            "# Modules\r\n\r\n# Commandstats\r\n\
             cmdstat_config|get:calls=3,usec=10,usec_per_call=3.33,rejected_calls=1,failed_calls=0\r\n\
             \r\n# Errorstats\r\nerrorstat_ERR:count=2\r\nerrorstat_WRONGTYPE:count=1\r\n"
        );
        assert_eq!(
            info(&s, &[b"cpu"]),
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
        let s = info(&server(c), &[b"server"]);
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
        let mut srv = server(c);
        srv.used_memory_startup = 1024 * 1024;
        let s = info(&srv, &[b"memory"]);
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
        let zero = View {
            server: &srv,
            process: &Process::default(),
        };
        let s = render(&zero, &[b"memory"]);
        assert_eq!(field(&s, "used_memory_peak_perc"), Some("0.00%"));
        assert_eq!(field(&s, "mem_fragmentation_ratio"), Some("0.00"));
        // Clients' buffers count as overhead, not dataset.
        srv.clients.insert(Conn::new(-1, 1, 3, 0));
        let s = info(&srv, &[b"memory"]);
        let clients: u64 = field(&s, "mem_clients_normal").unwrap().parse().unwrap();
        assert!(clients > 0);
        assert_eq!(
            field(&s, "used_memory_overhead"),
            Some(&*(1024 * 1024 + clients).to_string())
        );
    }

    #[test]
    fn stats_and_replication_fields() {
        let s = info(&busy(), &[b"stats", b"replication", b"persistence"]);
        assert_eq!(field(&s, "total_commands_processed"), Some("1000"));
        assert_eq!(field(&s, "total_error_replies"), Some("3"));
        assert_eq!(field(&s, "keyspace_hits"), Some("0"));
        assert_eq!(field(&s, "instantaneous_input_kbps"), Some("0.00"));
        assert_eq!(field(&s, "role"), Some("master"));
        assert_eq!(field(&s, "master_replid"), Some(&*"b".repeat(40)));
        assert_eq!(field(&s, "repl_backlog_size"), Some("1048576"));
        assert_eq!(field(&s, "loading"), Some("0"));
        assert_eq!(field(&s, "rdb_changes_since_last_save"), Some("9"));
        assert_eq!(field(&s, "aof_enabled"), Some("0"));
        assert!(s.contains("reply_buffer_expands:0\r\n\r\n# Replication\r\n"));
    }

    #[test]
    fn field_names_are_unique() {
        let mut names: Vec<&str> = SECTIONS
            .iter()
            .flat_map(|s| match s.body {
                Body::Fields(f) => f.iter().map(|f| f.name).collect(),
                Body::Lines(_) => Vec::new(),
            })
            .collect();
        let n = names.len();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), n);
        assert!(SECTIONS.len() <= 32, "select() keeps sections in a u32");
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
        let text = info(&busy(), &[b"cluster"]);
        let mut b = Vec::new();
        reply(&text, &mut Reply::new(&mut b, Proto::Resp2));
        assert_eq!(b, b"$30\r\n# Cluster\r\ncluster_enabled:0\r\n\r\n");
        let mut b = Vec::new();
        reply(&text, &mut Reply::new(&mut b, Proto::Resp3));
        assert_eq!(b, b"=34\r\ntxt:# Cluster\r\ncluster_enabled:0\r\n\r\n");
        let mut b = Vec::new();
        reply("", &mut Reply::new(&mut b, Proto::Resp3));
        assert_eq!(b, b"=4\r\ntxt:\r\n");
    }

    #[test]
    fn sample_reads_the_process() {
        let i = Process::sample(Instant::now());
        assert_eq!(i.pid, std::process::id());
        assert!(i.os.starts_with("Linux "), "{}", i.os);
        assert!(i.used_memory_rss > 0);
        assert!(i.total_system_memory > 0);
        assert!(i.used_memory_peak >= i.used_memory);
        assert!(i.server_time_usec > 1_600_000_000_000_000);
        let id = random_hex_id();
        assert_eq!(id.len(), 40);
        assert!(id.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_ne!(id, random_hex_id());
        assert_eq!(i.run_id, process_run_id());
        assert_eq!(i.run_id.len(), 40);
        let j = Process::sample(Instant::now());
        assert_eq!(j.run_id, i.run_id, "run_id is fixed per process");
    }

    #[test]
    fn live_text_has_every_default_section() {
        let s = busy();
        let text = info_string(&s, &[]);
        assert_eq!(headers(&text).len(), 11);
        assert_eq!(
            field(&text, "process_id"),
            Some(&*std::process::id().to_string())
        );
    }
}
