//! Memory limits and introspection: the server's half of `maxmemory` (the memory figure the
//! engine's eviction works against, the gate's OOM check, eviction continued from the loop)
//! and the MEMORY command.
//!
//! The figure is the counting allocator's `used_memory` (jemalloc's size classes) minus
//! what Redis does not count for eviction (`mem_not_counted_for_evict`: the AOF buffer not
//! yet written), so writing DELs of evicted keys to the AOF cannot feed more eviction.
//!
//! Invariants: the OOM check is one self-contained call in the gate ([`denied_by_oom`]),
//! before the disk-error check and MULTI queueing, as Redis's `processCommand`; it runs
//! eviction first (bounded by `maxmemory-eviction-tenacity`), and while a call leaves more
//! to free the loop continues it each turn without sleeping ([`continue_evictions`]).

use crate::dispatch::gate::{Cmd, behaviour, reply};
use crate::server::Server;
use engine::commands::table::{Row, flags};
use engine::evict::EvictOutcome;
use engine::{CmdError, CmdResult};

/// Redis's `shared.oomerr`.
pub const OOM_TEXT: &str = "OOM command not allowed when used memory > 'maxmemory'.";

/// Redis's `freeMemoryGetNotCountedMemory`: the AOF buffer (no replicas yet).
pub fn not_counted_for_evict(server: &Server) -> usize {
    if server.aof.on {
        server.aof.buffer_len()
    } else {
        0
    }
}

/// Redis's `performEvictions` with the server's memory figure; publishes the `evicted`
/// events it raised.
pub fn evict(server: &mut Server) -> EvictOutcome {
    // Redis's isPerformEvictions: not while loading, nor while clients are paused (the
    // dataset stays static then); a fake OK, so commands are not refused either.
    if server.config.maxmemory == 0
        || server.loading
        || crate::features::pause::expiry_paused(server)
    {
        server.engine.evict.running = false;
        return EvictOutcome::Ok;
    }
    let not_counted = not_counted_for_evict(server);
    let used = move |_: &engine::Engine| crate::alloc::used_memory().saturating_sub(not_counted);
    // Under the limit with no episode to close: nothing to time or do.
    if used(&server.engine) as u64 <= server.config.maxmemory
        && server.engine.evict.exceeded_since.is_none()
    {
        server.engine.evict.running = false;
        return EvictOutcome::Ok;
    }
    let start = std::time::Instant::now();
    let outcome = server.engine.perform_evictions(&used);
    let ms = start.elapsed().as_millis() as u64;
    crate::features::latency::add_sample_if_needed(server, "eviction-cycle", ms);
    if !server.engine.notifications.is_empty() {
        crate::features::pubsub::drain_notifications(server, None);
    }
    outcome
}

/// Redis's `getClientEvictionLimit`: `maxmemory-clients` in bytes (a negative value is a
/// percentage of `maxmemory`), at least 128 KiB so a tiny setting cannot cut every client
/// off; 0 when client eviction is off.
pub fn client_eviction_limit(server: &Server) -> usize {
    let setting = server.config.compat.maxmemory_clients;
    let maxmemory = server.config.maxmemory;
    let limit = if setting < 0 && maxmemory > 0 {
        (maxmemory as f64 * -(setting as f64) / 100.0) as usize
    } else if setting > 0 {
        setting as usize
    } else {
        return 0;
    };
    limit.max(128 * 1024)
}

/// Redis 7.0's client eviction (`evictClients`): while the normal and pub/sub clients hold
/// `maxmemory-clients` or more, the biggest of them is disconnected (never one marked
/// CLIENT NO-EVICT, a replica or our master's link), logged with its CLIENT LIST line and
/// counted in INFO's `evicted_clients`. Called once per loop turn, after output was handed
/// out; it costs a comparison unless the limit is reached.
pub fn evict_clients(server: &mut Server) {
    let limit = client_eviction_limit(server);
    if limit == 0 || server.clients_mem < limit {
        return;
    }
    let mut biggest: Vec<(usize, usize)> = server
        .clients
        .iter()
        .filter(|(_, c)| c.mem_counted > 0 && !c.no_evict)
        .map(|(k, c)| (c.mem_counted, k))
        .collect();
    biggest.sort_unstable_by(|a, b| b.cmp(a));
    for (_, key) in biggest {
        if server.clients_mem < limit {
            return;
        }
        let mut info = String::new();
        crate::features::client_cmds::client_info_line(server, key, key, &[], &mut info);
        log::info!("Evicting client: {info}");
        server.close_client(key);
        // Closing: it no longer counts, so the next one is judged without it.
        server.note_client_memory(key);
        server.stats.evicted_clients += 1;
    }
    if server.clients_mem >= limit {
        log::warn!("Over client maxmemory after evicting all evictable clients");
    }
}

/// The loop's side of a time-limited eviction (Redis's `evictionTimeProc`): called each
/// turn while [`engine::evict::EvictState::running`].
pub fn continue_evictions(server: &mut Server) {
    if server.engine.evict.running {
        evict(server);
    }
}

/// After CONFIG SET of the eviction settings (Redis's `updateMaxmemory`): a limit below
/// what is used starts eviction from the loop at once, not at the next command.
pub fn maxmemory_changed(server: &mut Server) {
    let max = server.config.maxmemory;
    let used = crate::alloc::used_memory() as u64;
    if max != 0 && max < used {
        log::warn!(
            "WARNING: the new maxmemory value set via CONFIG SET ({max}) is smaller than the current memory usage ({used}). This will result in key eviction and/or the inability to accept new write commands depending on the maxmemory-policy."
        );
        server.engine.evict.running = true;
    }
}

/// The gate's OOM check (Redis's `processCommand`): with `maxmemory` set, evict, and if
/// memory is still over the limit with nothing left to evict, refuse a `denyoom` command
/// (an EXEC of a transaction that queued one, or anything but EXEC/DISCARD/QUIT/RESET
/// inside MULTI, whose queue would grow). True if the command must be rejected with
/// [`OOM_TEXT`].
#[inline]
pub fn denied_by_oom(server: &mut Server, key: usize, row: &Row<Cmd>, flags: u64) -> bool {
    if server.config.maxmemory == 0 {
        server.oom_at_gate = false;
        return false;
    }
    // A replica leaves memory to its master (`replica-ignore-maxmemory`, Redis's
    // performEvictions), and never refuses its master's commands.
    if server.master.is_some()
        && (server.config.compat.replica_ignore_maxmemory || server.clients[key].is_master())
    {
        return false;
    }
    oom_check(server, key, row, flags)
}

#[cold]
fn oom_check(server: &mut Server, key: usize, row: &Row<Cmd>, flags: u64) -> bool {
    let oom = evict(server) == EvictOutcome::Fail;
    server.oom_at_gate = oom;
    if !oom {
        return false;
    }
    let c = &server.clients[key];
    let denyoom = flags & self::flags::DENYOOM != 0;
    let exec_of_denyoom = row.meta.name == "exec"
        && c.multi.active
        && c.multi
            .cmds
            .iter()
            .any(|q| server.table.rows()[q.row].meta.flags & flags::DENYOOM != 0);
    let queues = c.multi.active && !row.handler.has(behaviour::OOM_OK_IN_MULTI);
    denyoom || exec_of_denyoom || queues
}

// ---------------------------------------------------------------------------------------
// MEMORY

pub static COMMANDS: &[(&str, crate::dispatch::gate::SrvFn)] = &[("memory", memory)];

/// MEMORY HELP's lines, verbatim from Redis 7.0.15.
const HELP: &[&str] = &[
    "DOCTOR",
    "    Return memory problems reports.",
    "MALLOC-STATS",
    "    Return internal statistics report from the memory allocator.",
    "PURGE",
    "    Attempt to purge dirty pages for reclamation by the allocator.",
    "STATS",
    "    Return information about the memory usage of the server.",
    "USAGE <key> [SAMPLES <count>]",
    "    Return memory in bytes used by <key> and its value. Nested values are",
    "    sampled up to <count> times (default: 5, 0 means sample all).",
];

/// Redis's `OBJ_COMPUTE_SIZE_DEF_SAMPLES`.
const DEFAULT_SAMPLES: usize = 5;

/// # Format
/// `MEMORY USAGE key [SAMPLES count]` | `MEMORY STATS` | `MEMORY DOCTOR` | `MEMORY PURGE` |
/// `MEMORY MALLOC-STATS` | `MEMORY HELP`
/// # Returns
/// USAGE: the key's bytes (entry, key, value in jemalloc's classes) or null; STATS: Redis's
/// map of figures; DOCTOR: Redis's report text; PURGE: OK; MALLOC-STATS: jemalloc's report.
fn memory(server: &mut Server, key: usize, args: &[&[u8]]) -> CmdResult {
    let sub = args[1];
    let is = |name: &str| engine::util::eq_ic(sub, name);
    if is("help") && args.len() == 2 {
        engine::util::reply_help(&mut reply(server, key), args[0], HELP);
    } else if is("usage") && args.len() >= 3 {
        usage(server, key, args)?;
    } else if is("stats") && args.len() == 2 {
        stats(server, key);
    } else if is("doctor") && args.len() == 2 {
        let text = doctor(server);
        reply(server, key).verbatim(b"txt", text.as_bytes());
    } else if is("purge") && args.len() == 2 {
        crate::alloc::purge();
        reply(server, key).ok();
    } else if is("malloc-stats") && args.len() == 2 {
        let text = crate::alloc::malloc_stats();
        reply(server, key).verbatim(b"txt", &text);
    } else {
        return Err(CmdError::unknown_subcommand("memory", sub));
    }
    Ok(())
}

fn usage(server: &mut Server, key: usize, args: &[&[u8]]) -> CmdResult {
    let mut samples = DEFAULT_SAMPLES;
    let mut j = 3;
    while j < args.len() {
        if engine::util::eq_ic(args[j], "samples") && j + 1 < args.len() {
            let n = engine::util::parse_i64(args[j + 1])?;
            if n < 0 {
                return Err(CmdError::Syntax);
            }
            samples = if n == 0 { usize::MAX } else { n as usize };
            j += 2;
        } else {
            return Err(CmdError::Syntax);
        }
    }
    let db = server.clients[key].session.db;
    match server.engine.dbs[db].memory_usage(args[2], samples) {
        Some(n) => reply(server, key).int(n as i64),
        None => reply(server, key).null(),
    }
    Ok(())
}

/// The figures MEMORY STATS and MEMORY DOCTOR share (Redis's `getMemoryOverheadData`).
struct Overhead {
    peak: u64,
    total: u64,
    startup: u64,
    aof_buffer: u64,
    clients_normal: u64,
    /// Per db with keys: (db, main table bytes, expires table bytes).
    dbs: Vec<(usize, u64, u64)>,
    overhead_total: u64,
    keys: u64,
    bytes_per_key: u64,
    dataset: u64,
    dataset_perc: f64,
    peak_perc: f64,
    alloc: crate::alloc::AllocatorInfo,
    rss: u64,
}

impl Overhead {
    fn sample(server: &Server) -> Overhead {
        let total = crate::alloc::used_memory() as u64;
        let peak = (crate::alloc::peak_memory() as u64).max(total);
        let startup = server.used_memory_startup;
        let aof_buffer = not_counted_for_evict(server) as u64;
        let clients_normal: u64 = server.clients.iter().map(|(_, c)| c.memory() as u64).sum();
        let mut overhead_total = startup + aof_buffer + clients_normal;
        let mut dbs = Vec::new();
        let mut keys = 0;
        for (i, db) in server.engine.dbs.iter().enumerate() {
            if db.is_empty() {
                continue;
            }
            let (main, expires) = db.table_overhead();
            overhead_total += (main + expires) as u64;
            keys += db.len() as u64;
            dbs.push((i, main as u64, expires as u64));
        }
        let dataset = total.saturating_sub(overhead_total);
        let net = total.saturating_sub(startup).max(1);
        Overhead {
            peak,
            total,
            startup,
            aof_buffer,
            clients_normal,
            dbs,
            overhead_total,
            keys,
            bytes_per_key: net.checked_div(keys).unwrap_or(0),
            dataset,
            dataset_perc: dataset as f64 * 100.0 / net as f64,
            peak_perc: total as f64 * 100.0 / peak.max(1) as f64,
            alloc: crate::alloc::allocator_info(),
            rss: crate::alloc::rss_bytes() as u64,
        }
    }

    fn ratio(a: u64, b: u64) -> f64 {
        if b == 0 { 0.0 } else { a as f64 / b as f64 }
    }
}

fn stats(server: &mut Server, key: usize) {
    let o = Overhead::sample(server);
    let a = o.alloc;
    let mut r = reply(server, key);
    r.map(27 + o.dbs.len());
    let int = |r: &mut resp::Reply<'_>, name: &str, v: i64| {
        r.bulk(name.as_bytes());
        r.int(v);
    };
    int(&mut r, "peak.allocated", o.peak as i64);
    int(&mut r, "total.allocated", o.total as i64);
    int(&mut r, "startup.allocated", o.startup as i64);
    int(&mut r, "replication.backlog", 0);
    int(&mut r, "clients.slaves", 0);
    int(&mut r, "clients.normal", o.clients_normal as i64);
    int(&mut r, "cluster.links", 0);
    int(&mut r, "aof.buffer", o.aof_buffer as i64);
    int(&mut r, "lua.caches", 0);
    int(&mut r, "functions.caches", 0);
    for &(db, main, expires) in &o.dbs {
        r.bulk(format!("db.{db}").as_bytes());
        r.map(3);
        int(&mut r, "overhead.hashtable.main", main as i64);
        int(&mut r, "overhead.hashtable.expires", expires as i64);
        int(&mut r, "overhead.hashtable.slot-to-keys", 0);
    }
    int(&mut r, "overhead.total", o.overhead_total as i64);
    int(&mut r, "keys.count", o.keys as i64);
    int(&mut r, "keys.bytes-per-key", o.bytes_per_key as i64);
    int(&mut r, "dataset.bytes", o.dataset as i64);
    let dbl = |r: &mut resp::Reply<'_>, name: &str, v: f64| {
        r.bulk(name.as_bytes());
        r.double(v);
    };
    dbl(&mut r, "dataset.percentage", o.dataset_perc);
    dbl(&mut r, "peak.percentage", o.peak_perc);
    int(&mut r, "allocator.allocated", a.allocated as i64);
    int(&mut r, "allocator.active", a.active as i64);
    int(&mut r, "allocator.resident", a.resident as i64);
    dbl(
        &mut r,
        "allocator-fragmentation.ratio",
        Overhead::ratio(a.active, a.allocated),
    );
    int(
        &mut r,
        "allocator-fragmentation.bytes",
        a.active as i64 - a.allocated as i64,
    );
    dbl(
        &mut r,
        "allocator-rss.ratio",
        Overhead::ratio(a.resident, a.active),
    );
    int(
        &mut r,
        "allocator-rss.bytes",
        a.resident as i64 - a.active as i64,
    );
    dbl(
        &mut r,
        "rss-overhead.ratio",
        Overhead::ratio(o.rss, a.resident),
    );
    int(
        &mut r,
        "rss-overhead.bytes",
        o.rss as i64 - a.resident as i64,
    );
    dbl(&mut r, "fragmentation", Overhead::ratio(o.rss, o.total));
    int(&mut r, "fragmentation.bytes", o.rss as i64 - o.total as i64);
}

/// Redis's `getMemoryDoctorReport` (the checks that apply without replicas or scripts).
fn doctor(server: &Server) -> String {
    let o = Overhead::sample(server);
    let a = o.alloc;
    if o.total < 5 << 20 {
        return "Hi Sam, this instance is empty or is using very little memory, my issues detector can't be used in these conditions. Please, leave for your mission on Earth and fill it with some data. The new Sam and I will be back to our programming as soon as I finished rebooting.\n".into();
    }
    let ten_mb = 10i64 << 20;
    let big_peak = Overhead::ratio(o.peak, o.total) > 1.5;
    let high_frag = Overhead::ratio(o.rss, o.total) > 1.4 && o.rss as i64 - o.total as i64 > ten_mb;
    let high_alloc_frag = Overhead::ratio(a.active, a.allocated) > 1.1
        && a.active as i64 - a.allocated as i64 > ten_mb;
    let high_alloc_rss =
        Overhead::ratio(a.resident, a.active) > 1.1 && a.resident as i64 - a.active as i64 > ten_mb;
    let high_proc_rss =
        Overhead::ratio(o.rss, a.resident) > 1.1 && o.rss as i64 - a.resident as i64 > ten_mb;
    let clients = server.connected_clients().max(1) as u64;
    let big_client_buf = o.clients_normal / clients > 1024 * 200;
    if !(big_peak
        || high_frag
        || high_alloc_frag
        || high_alloc_rss
        || high_proc_rss
        || big_client_buf)
    {
        return "Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on this base.\n".into();
    }
    let mut s =
        String::from("Sam, I detected a few issues in this Redis instance memory implants:\n\n");
    if big_peak {
        s.push_str(" * Peak memory: In the past this instance used more than 150% the memory that is currently using. The allocator is normally not able to release memory after a peak, so you can expect to see a big fragmentation ratio, however this is actually harmless and is only due to the memory peak, and if the Redis instance Resident Set Size (RSS) is currently bigger than expected, the memory will be used as soon as you fill the Redis instance with more data. If the memory peak was only occasional and you want to try to reclaim memory, please try the MEMORY PURGE command, otherwise the only other option is to shutdown and restart the instance.\n\n");
    }
    if high_frag {
        s.push_str(" * High total RSS: This instance has a memory fragmentation and RSS overhead greater than 1.4 (this means that the Resident Set Size of the Redis process is much larger than the sum of the logical allocations Redis performed). This problem is usually due either to a large peak memory (check if there is a peak memory entry above in the report) or may result from a workload that causes the allocator to fragment memory a lot. If the problem is a large peak memory, then there is no issue. Otherwise, make sure you are using the Jemalloc allocator and not the default libc malloc. Note: The currently used allocator is \"jemalloc-5.3.0\".\n\n");
    }
    if high_alloc_frag {
        s.push_str(" * High allocator fragmentation: This instance has an allocator external fragmentation greater than 1.1. This problem is usually due either to a large peak memory (check if there is a peak memory entry above in the report) or may result from a workload that causes the allocator to fragment memory a lot. You can try enabling 'activedefrag' config option.\n\n");
    }
    if high_alloc_rss {
        s.push_str(" * High allocator RSS overhead: This instance has an RSS memory overhead is greater than 1.1 (this means that the Resident Set Size of the allocator is much larger than the sum what the allocator actually holds). This problem is usually due to a large peak memory (check if there is a peak memory entry above in the report), you can try the MEMORY PURGE command to reclaim it.\n\n");
    }
    if high_proc_rss {
        s.push_str(" * High process RSS overhead: This instance has non-allocator RSS memory overhead is greater than 1.1 (this means that the Resident Set Size of the Redis process is much larger than the RSS the allocator holds). This problem may be due to Lua scripts or Modules.\n\n");
    }
    if big_client_buf {
        s.push_str(" * Big client buffers: The clients output buffers in this instance are greater than 200K per client (on average). This may result from different causes, like Pub/Sub clients subscribed to channels bot not receiving data fast enough, so that data piles on the Redis instance output buffer, or clients sending commands with large replies or very large sequences of commands in the same pipeline. Please use the CLIENT LIST command in order to investigate the issue if it causes problems in your instance, or to understand better why certain clients are using a big amount of memory.\n\n");
    }
    s.push_str("I'm here to keep you safe, Sam. I want to help you.\n");
    s
}
