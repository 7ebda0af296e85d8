//! The latency monitor and per-command latency tracking (Redis's `latency.c` and the
//! `latency_histogram` of each command): the LATENCY command and INFO latencystats.
//!
//! - Events: a time series of up to 160 samples per event name ("command",
//!   "fast-command", "expire-cycle", "aof-write"...), one per second (the worst of that
//!   second), recorded when a measured duration reaches `latency-monitor-threshold` ms (0
//!   turns the monitor off). Kept in first-seen order.
//! - Histograms: with `latency-tracking yes`, every execution's duration goes to its
//!   command row's HDR histogram ([`Hist`]), allocated on the row's first call and reused
//!   after (no allocation per command). The layout is HdrHistogram's (1 ns … 1 s, 2
//!   significant digits) as Redis vendors it, written here rather than taken from the
//!   `hdrhistogram` crate so that LATENCY HISTOGRAM's buckets and INFO's percentiles come
//!   out exactly as Redis's (same bucket boundaries, same "highest equivalent value"
//!   rounding) without a dependency; it is 60 lines.

use crate::dispatch::gate::{Cmd, reply};
use crate::server::Server;
use engine::CmdResult;
use engine::commands::args::is_kw;
use engine::commands::table::Row;
use std::fmt::Write;

/// Redis's LATENCY_TS_LEN.
const TS_LEN: usize = 160;

#[derive(Clone, Copy, Default)]
struct Sample {
    time: i64,
    ms: u32,
}

struct Series {
    name: &'static str,
    idx: usize,
    max: u32,
    samples: Box<[Sample; TS_LEN]>,
}

#[derive(Default)]
pub struct Latency {
    events: Vec<Series>,
}

/// Records `ms` for `event` if the monitor is on and `ms` reaches its threshold.
#[inline]
pub fn add_sample_if_needed(server: &mut Server, event: &'static str, ms: u64) {
    let t = server.config.compat.latency_monitor_threshold;
    if t != 0 && ms as i64 >= t {
        let now = server.now_ms().div_euclid(1000);
        server
            .latency
            .add(event, ms.min(u32::MAX as u64) as u32, now);
    }
}

impl Latency {
    #[cold]
    fn add(&mut self, event: &'static str, ms: u32, now: i64) {
        let i = match self.events.iter().position(|s| s.name == event) {
            Some(i) => i,
            None => {
                self.events.push(Series {
                    name: event,
                    idx: 0,
                    max: 0,
                    samples: Box::new([Sample::default(); TS_LEN]),
                });
                self.events.len() - 1
            }
        };
        let ts = &mut self.events[i];
        ts.max = ts.max.max(ms);
        let prev = (ts.idx + TS_LEN - 1) % TS_LEN;
        if ts.samples[prev].time == now {
            ts.samples[prev].ms = ts.samples[prev].ms.max(ms);
            return;
        }
        ts.samples[ts.idx] = Sample { time: now, ms };
        ts.idx = (ts.idx + 1) % TS_LEN;
    }

    fn find(&self, name: &[u8]) -> Option<&Series> {
        self.events.iter().find(|s| s.name.as_bytes() == name)
    }

    /// Samples oldest first.
    fn samples<'a>(ts: &'a Series) -> impl Iterator<Item = Sample> + 'a {
        (0..TS_LEN)
            .map(move |j| ts.samples[(ts.idx + j) % TS_LEN])
            .filter(|s| s.time != 0)
    }
}

// ---------------------------------------------------------------------------------------
// The HDR histogram (hdr_histogram.c's layout for lowest 1, highest 1e9, 2 digits)
// ---------------------------------------------------------------------------------------

/// Redis's LATENCY_HISTOGRAM_MIN_VALUE / MAX_VALUE (ns).
const MIN_VALUE: u64 = 1;
const MAX_VALUE: u64 = 1_000_000_000;
/// 2 significant digits: 2 * 10^2 rounded up to a power of two.
const SUB_BUCKET_COUNT: u64 = 256;
const SUB_BUCKET_HALF_COUNT: u64 = 128;
const SUB_BUCKET_HALF_COUNT_MAGNITUDE: u32 = 7;
/// Buckets to reach MAX_VALUE from SUB_BUCKET_COUNT by doubling (+1), as hdr_init.
const BUCKET_COUNT: usize = 23;
const COUNTS_LEN: usize = (BUCKET_COUNT + 1) * SUB_BUCKET_HALF_COUNT as usize;

pub struct Hist {
    counts: Box<[u64; COUNTS_LEN]>,
    total: u64,
}

fn bucket_index(v: u64) -> u32 {
    // 64 - clz(v | sub_bucket_mask) - (half_count_magnitude + 1), unit magnitude 0.
    (64 - (v | (SUB_BUCKET_COUNT - 1)).leading_zeros()) - (SUB_BUCKET_HALF_COUNT_MAGNITUDE + 1)
}

fn counts_index_for(v: u64) -> usize {
    let b = bucket_index(v);
    let sub = v >> b;
    // Signed, as in C: bucket 0's lower half (sub < 128) maps below its own base.
    (((b as i64 + 1) << SUB_BUCKET_HALF_COUNT_MAGNITUDE)
        + (sub as i64 - SUB_BUCKET_HALF_COUNT as i64)) as usize
}

fn value_at_index(idx: usize) -> u64 {
    let mut b = (idx as i64 >> SUB_BUCKET_HALF_COUNT_MAGNITUDE) - 1;
    let mut sub = (idx as u64 & (SUB_BUCKET_HALF_COUNT - 1)) + SUB_BUCKET_HALF_COUNT;
    if b < 0 {
        sub -= SUB_BUCKET_HALF_COUNT;
        b = 0;
    }
    sub << b
}

fn lowest_equivalent(v: u64) -> u64 {
    let b = bucket_index(v);
    (v >> b) << b
}

fn highest_equivalent(v: u64) -> u64 {
    let b = bucket_index(v);
    let sub = v >> b;
    let adjusted = if sub >= SUB_BUCKET_COUNT { b + 1 } else { b };
    lowest_equivalent(v) + (1u64 << adjusted) - 1
}

impl Hist {
    fn new() -> Box<Hist> {
        Box::new(Hist {
            counts: vec![0u64; COUNTS_LEN]
                .into_boxed_slice()
                .try_into()
                .expect("COUNTS_LEN"),
            total: 0,
        })
    }

    /// Records a duration in ns, clamped to the histogram's range as Redis does.
    pub fn record(&mut self, ns: u64) {
        let v = ns.clamp(MIN_VALUE, MAX_VALUE);
        self.counts[counts_index_for(v)] += 1;
        self.total += 1;
    }

    /// `hdr_value_at_percentile`.
    pub fn value_at_percentile(&self, p: f64) -> u64 {
        let p = p.min(100.0);
        let want = (((p / 100.0) * self.total as f64) + 0.5) as u64;
        let want = want.max(1);
        let mut seen = 0;
        for (idx, &n) in self.counts.iter().enumerate() {
            seen += n;
            if seen >= want {
                let v = value_at_index(idx);
                return if p == 0.0 {
                    lowest_equivalent(v)
                } else {
                    highest_equivalent(v)
                };
            }
        }
        0
    }

    /// The cumulative distribution LATENCY HISTOGRAM replies: (µs, calls at or below),
    /// at 1024 ns, doubling (`hdr_iter_log_init(.., 1024, 2)`), where the count grew.
    pub fn cdf(&self) -> Vec<(u64, u64)> {
        let mut out = Vec::new();
        let mut level = 1024u64;
        let mut cumulative = 0u64;
        let mut prev = 0u64;
        let mut idx = 0usize;
        while cumulative < self.total {
            let limit = lowest_equivalent(level);
            // hdr's log iterator: every index up to the level's own counts.
            while idx < COUNTS_LEN && value_at_index(idx) <= limit {
                cumulative += self.counts[idx];
                idx += 1;
            }
            if cumulative > prev {
                out.push((highest_equivalent(level) / 1000, cumulative));
            }
            prev = cumulative;
            level *= 2;
        }
        out
    }
}

/// Feeds one execution's duration to the command's histogram (lazily created).
#[inline]
pub fn track(server: &Server, row: &Row<Cmd>, usec: u64) {
    if server.config.compat.latency_tracking {
        let mut h = row.handler.latency.take();
        h.get_or_insert_with(Hist::new).record(usec * 1000);
        row.handler.latency.set(h);
    }
}

/// Forgets every command's histogram (CONFIG RESETSTAT, as Redis's
/// resetCommandTableStats).
pub fn reset_histograms(server: &Server) {
    for row in server.table.rows() {
        row.handler.latency.set(None);
    }
}

/// `%f` of the percentile with trailing zeros (and a trailing dot) trimmed.
fn percentile_name(p: f64) -> String {
    let s = format!("{p:.6}");
    let s = s.trim_end_matches('0');
    s.trim_end_matches('.').to_string()
}

/// INFO latencystats: `latency_percentiles_usec_<cmd>:p50=…,p99=…,p99.9=…` per command
/// with a histogram, while `latency-tracking` is on.
pub fn info_lines(server: &Server, s: &mut String) {
    // With `latency-tracking no` Redis prints the header alone.
    if !server.config.compat.latency_tracking {
        return;
    }
    let ps = &server.config.compat.latency_tracking_info_percentiles;
    for row in server.table.rows() {
        let h = row.handler.latency.take();
        if let Some(h) = &h {
            let _ = write!(s, "latency_percentiles_usec_{}:", row.meta.name);
            for (i, &p) in ps.iter().enumerate() {
                if i > 0 {
                    s.push(',');
                }
                let v = h.value_at_percentile(p) as f64 / 1000.0;
                let _ = write!(s, "p{}={v:.3}", percentile_name(p));
            }
            s.push_str("\r\n");
        }
        row.handler.latency.set(h);
    }
}

const HELP: &[&str] = &[
    "DOCTOR",
    "    Return a human readable latency analysis report.",
    "GRAPH <event>",
    "    Return an ASCII latency graph for the <event> class.",
    "HISTORY <event>",
    "    Return time-latency samples for the <event> class.",
    "LATEST",
    "    Return the latest latency samples for all events.",
    "RESET [<event> ...]",
    "    Reset latency data of one or more <event> classes.",
    "    (default: reset all data for all event classes)",
    "HISTOGRAM [COMMAND ...]",
    "    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.",
    "    If no commands are specified then all histograms are replied.",
];

/// LATENCY DOCTOR|GRAPH|HISTORY|LATEST|RESET|HISTOGRAM|HELP
pub fn latency(server: &mut Server, key: usize, args: &[&[u8]]) -> CmdResult {
    let sub = args[1];
    let now = server.now_ms().div_euclid(1000);
    if is_kw(sub, "history") {
        let samples: Vec<Sample> = server
            .latency
            .find(args[2])
            .map(|ts| Latency::samples(ts).collect())
            .unwrap_or_default();
        let mut r = reply(server, key);
        r.array(samples.len());
        for s in samples {
            r.array(2);
            r.int(s.time);
            r.int(s.ms as i64);
        }
    } else if is_kw(sub, "graph") {
        let Some(ts) = server.latency.find(args[2]) else {
            return Err(engine::CmdError::Owned(format!(
                "ERR No samples available for event '{}'",
                engine::util::lossy_c_str(args[2])
            )));
        };
        let g = graph(ts, now);
        reply(server, key).verbatim(b"txt", g.as_bytes());
    } else if is_kw(sub, "latest") {
        let rows: Vec<(&'static str, i64, u32, u32)> = server
            .latency
            .events
            .iter()
            .map(|ts| {
                let last = ts.samples[(ts.idx + TS_LEN - 1) % TS_LEN];
                (ts.name, last.time, last.ms, ts.max)
            })
            .collect();
        let mut r = reply(server, key);
        r.array(rows.len());
        for (name, time, ms, max) in rows {
            r.array(4);
            r.bulk(name.as_bytes());
            r.int(time);
            r.int(ms as i64);
            r.int(max as i64);
        }
    } else if is_kw(sub, "doctor") {
        let text = doctor(server, now);
        reply(server, key).verbatim(b"txt", text.as_bytes());
    } else if is_kw(sub, "reset") {
        let before = server.latency.events.len();
        if args.len() == 2 {
            server.latency.events.clear();
        } else {
            for a in &args[2..] {
                server
                    .latency
                    .events
                    .retain(|s| !s.name.as_bytes().eq_ignore_ascii_case(a));
            }
        }
        let n = (before - server.latency.events.len()) as i64;
        reply(server, key).int(n);
    } else if is_kw(sub, "histogram") {
        histogram(server, key, &args[2..]);
    } else if is_kw(sub, "help") {
        crate::features::client_cmds::reply_help(
            server,
            key,
            "LATENCY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            HELP,
        );
    }
    Ok(())
}

/// LATENCY HISTOGRAM [command ...]: a map of command full name → {calls, histogram_usec}.
fn histogram(server: &mut Server, key: usize, names: &[&[u8]]) {
    let table = server.table;
    let mut rows: Vec<&'static Row<Cmd>> = Vec::new();
    let has = |r: &Row<Cmd>| {
        let h = r.handler.latency.take();
        let yes = h.is_some();
        r.handler.latency.set(h);
        yes
    };
    if names.is_empty() {
        rows.extend(table.rows().iter().filter(|r| has(r)));
    } else {
        for n in names {
            // `lookupCommandBySds`: "config|get" names a subcommand.
            let row = match memchr::memchr(b'|', n) {
                Some(p) => table.lookup(&n[..p]).and_then(|c| {
                    crate::dispatch::gate::lookup_sub(table, c.meta.name, &n[p + 1..])
                }),
                None => table.lookup(n),
            };
            let Some(row) = row else { continue };
            if has(row) {
                rows.push(row);
            }
            for sub in row.meta.subcommands {
                if let Some(s) = table.lookup(sub.name.as_bytes())
                    && has(s)
                {
                    rows.push(s);
                }
            }
        }
    }
    let mut r = reply(server, key);
    r.map(rows.len());
    for row in rows {
        let h = row.handler.latency.take();
        if let Some(h) = &h {
            r.bulk(row.meta.name.as_bytes());
            r.map(2);
            r.bulk(b"calls");
            r.int(h.total as i64);
            r.bulk(b"histogram_usec");
            let cdf = h.cdf();
            r.map(cdf.len());
            for (us, n) in cdf {
                r.int(us as i64);
                r.int(n as i64);
            }
        }
        row.handler.latency.set(h);
    }
}

/// LATENCY GRAPH: Redis's sparkline of the series (80 columns, 4 rows, filled).
fn graph(ts: &Series, now: i64) -> String {
    let samples: Vec<Sample> = Latency::samples(ts).collect();
    let min = samples.iter().map(|s| s.ms).min().unwrap_or(0);
    let max = samples.iter().map(|s| s.ms).max().unwrap_or(0);
    let mut g = format!(
        "{} - high {} ms, low {} ms (all time high {} ms)\n",
        ts.name, max, min, ts.max
    );
    g.push_str(&"-".repeat(80));
    g.push('\n');
    let labelled: Vec<(f64, String)> = samples
        .iter()
        .map(|s| {
            let e = now - s.time;
            let label = if e < 60 {
                format!("{e}s")
            } else if e < 3600 {
                format!("{}m", e / 60)
            } else if e < 86400 {
                format!("{}h", e / 3600)
            } else {
                format!("{}d", e / 86400)
            };
            (s.ms as f64, label)
        })
        .collect();
    for (i, chunk) in labelled.chunks(80).enumerate() {
        if i != 0 {
            g.push('\n');
        }
        sparkline(&mut g, &labelled, chunk, 4);
    }
    g
}

/// sparkline.c's `sparklineRenderRange` with SPARKLINE_FILL; min and max over the whole
/// sequence.
fn sparkline(out: &mut String, all: &[(f64, String)], seq: &[(f64, String)], rows: usize) {
    const FILL: &[u8] = b"_o#";
    let lo = all.iter().map(|s| s.0).fold(f64::INFINITY, f64::min);
    let hi = all.iter().map(|s| s.0).fold(f64::NEG_INFINITY, f64::max);
    let mut relmax = hi - lo;
    if relmax == 0.0 {
        relmax = 1.0;
    }
    let steps = (FILL.len() * rows) as i64;
    let labels = all.iter().any(|s| !s.1.is_empty());
    let mut row = 0usize;
    loop {
        let mut more = false;
        let mut chars = vec![b' '; seq.len()];
        for (j, (v, label)) in seq.iter().enumerate() {
            let relval = v - lo;
            let step =
                ((((relval * steps as f64) as i64) as f64 / relmax) as i64).clamp(0, steps - 1);
            if row < rows {
                more = true;
                let ci = step - ((rows - row - 1) * FILL.len()) as i64;
                if ci >= 0 && (ci as usize) < FILL.len() {
                    chars[j] = FILL[ci as usize];
                } else if ci >= FILL.len() as i64 {
                    chars[j] = b'|';
                }
            } else {
                if labels && row - rows < 1 {
                    more = true;
                    break;
                }
                let lc = row - rows - 1;
                if label.len() > lc {
                    more = true;
                    chars[j] = label.as_bytes()[lc];
                }
            }
        }
        if !more {
            break;
        }
        row += 1;
        out.push_str(std::str::from_utf8(&chars).unwrap_or_default());
        out.push('\n');
    }
}

/// LATENCY DOCTOR: Redis's report, with the advice its events lead to.
fn doctor(server: &Server, now: i64) -> String {
    let threshold = server.config.compat.latency_monitor_threshold;
    let events = &server.latency.events;
    if events.is_empty() && threshold == 0 {
        return "I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Redis instance. You may use \"CONFIG SET latency-monitor-threshold <milliseconds>.\" in order to enable it. If we weren't in a deep space mission I'd suggest to take a look at https://redis.io/topics/latency-monitor.\n".into();
    }
    let mut r = String::new();
    let mut advices = 0usize;
    let (mut slowlog_enabled, mut slowlog_tuning, mut slowlog_inspect) = (false, false, false);
    let (mut scheduler, mut large_objects, mut hz, mut local_disk) = (false, false, false, false);
    let (mut ssd, mut writeback, mut contention, mut relax_fsync) = (false, false, false, false);
    let (mut no_appendfsync, mut mass_eviction) = (false, false);
    for (n, ts) in events.iter().enumerate() {
        if n == 0 {
            r.push_str("Dave, I have observed latency spikes in this Redis instance. You don't mind talking about it, do you Dave?\n\n");
        }
        let samples: Vec<Sample> = Latency::samples(ts).collect();
        let count = samples.len() as u64;
        let (mut avg, mut mad, mut period) = (0u64, 0u64, 0i64);
        if let Some(a) = samples
            .iter()
            .map(|s| s.ms as u64)
            .sum::<u64>()
            .checked_div(count)
        {
            avg = a;
            period = now - samples.iter().map(|s| s.time).min().unwrap_or(now);
            if period == 0 {
                period = 1;
            }
            mad = samples
                .iter()
                .map(|s| (avg as i64 - s.ms as i64).unsigned_abs())
                .sum::<u64>()
                / count;
        }
        let _ = write!(
            r,
            "{}. {}: {} latency spikes (average {}ms, mean deviation {}ms, period {:.2} sec). Worst all time event {}ms.",
            n + 1,
            ts.name,
            count,
            avg,
            mad,
            period as f64 / count as f64,
            ts.max
        );
        match ts.name {
            "command" => {
                let slower = server.config.compat.slowlog_log_slower_than;
                if slower < 0 {
                    slowlog_enabled = true;
                    advices += 1;
                } else if slower / 1000 > threshold {
                    slowlog_tuning = true;
                    advices += 1;
                }
                slowlog_inspect = true;
                large_objects = true;
                advices += 2;
            }
            "fast-command" => {
                scheduler = true;
                advices += 1;
            }
            "aof-write-pending-fsync" => {
                local_disk = true;
                contention = true;
                ssd = true;
                writeback = true;
                advices += 4;
            }
            "aof-write-active-child" => {
                no_appendfsync = true;
                writeback = true;
                ssd = true;
                advices += 3;
            }
            "aof-write-alone" => {
                local_disk = true;
                writeback = true;
                ssd = true;
                advices += 3;
            }
            "aof-fsync-always" => {
                relax_fsync = true;
                advices += 1;
            }
            "expire-cycle" => {
                hz = true;
                large_objects = true;
                advices += 2;
            }
            "eviction-del" => {
                large_objects = true;
                advices += 1;
            }
            "eviction-cycle" => {
                mass_eviction = true;
                advices += 1;
            }
            _ => {}
        }
        r.push('\n');
    }
    // Not event based: transparent huge pages in use.
    let thp = anon_huge_pages() > 0;
    advices += thp as usize;
    if events.is_empty() && advices == 0 {
        r.push_str("Dave, no latency spike was observed during the lifetime of this Redis instance, not in the slightest bit. I honestly think you ought to sit down calmly, take a stress pill, and think things over.\n");
    } else if advices == 0 {
        r.push_str("\nWhile there are latency events logged, I'm not able to suggest any easy fix. Please use the Redis community to get some help, providing this report in your help request.\n");
    } else {
        r.push_str("\nI have a few advices for you:\n\n");
        if slowlog_enabled {
            let _ = writeln!(
                r,
                "- There are latency issues with potentially slow commands you are using. Try to enable the Slow Log Redis feature using the command 'CONFIG SET slowlog-log-slower-than {}'. If the Slow log is disabled Redis is not able to log slow commands execution for you.",
                threshold as u64 * 1000
            );
        }
        if slowlog_tuning {
            let _ = writeln!(
                r,
                "- Your current Slow Log configuration only logs events that are slower than your configured latency monitor threshold. Please use 'CONFIG SET slowlog-log-slower-than {}'.",
                threshold as u64 * 1000
            );
        }
        if slowlog_inspect {
            r.push_str("- Check your Slow Log to understand what are the commands you are running which are too slow to execute. Please check https://redis.io/commands/slowlog for more information.\n");
        }
        if scheduler {
            r.push_str("- The system is slow to execute Redis code paths not containing system calls. This usually means the system does not provide Redis CPU time to run for long periods. You should try to:\n  1) Lower the system load.\n  2) Use a computer / VM just for Redis if you are running other software in the same system.\n  3) Check if you have a \"noisy neighbour\" problem.\n  4) Check with 'redis-cli --intrinsic-latency 100' what is the intrinsic latency in your system.\n  5) Check if the problem is allocator-related by recompiling Redis with MALLOC=libc, if you are using Jemalloc. However this may create fragmentation problems.\n");
        }
        if local_disk {
            r.push_str("- It is strongly advised to use local disks for persistence, especially if you are using AOF. Remote disks provided by platform-as-a-service providers are known to be slow.\n");
        }
        if ssd {
            r.push_str("- SSD disks are able to reduce fsync latency, and total time needed for snapshotting and AOF log rewriting (resulting in smaller memory usage and smaller final AOF rewrite buffer flushes). With extremely high write load SSD disks can be a good option. However Redis should perform reasonably with high load using normal disks. Use this advice as a last resort.\n");
        }
        if writeback {
            r.push_str("- Mounting ext3/4 filesystems with data=writeback can provide a performance boost compared to data=ordered, however this mode of operation provides less guarantees, and sometimes it can happen that after a hard crash the AOF file will have a half-written command at the end and will require to be repaired before Redis restarts.\n");
        }
        if contention {
            r.push_str("- Try to lower the disk contention. This is often caused by other disk intensive processes running in the same computer (including other Redis instances).\n");
        }
        if no_appendfsync {
            r.push_str("- Assuming from the point of view of data safety this is viable in your environment, you could try to enable the 'no-appendfsync-on-rewrite' option, so that fsync will not be performed while there is a child rewriting the AOF file or producing an RDB file (the moment where there is high disk contention).\n");
        }
        if relax_fsync && server.config.compat.appendfsync == 1 {
            r.push_str("- Your fsync policy is set to 'always'. It is very hard to get good performances with such a setup, if possible try to relax the fsync policy to 'onesec'.\n");
        }
        if hz && server.config.hz < 100 {
            r.push_str("- In order to make the Redis keys expiring process more incremental, try to set the 'hz' configuration parameter to 100 using 'CONFIG SET hz 100'.\n");
        }
        if large_objects {
            r.push_str("- Deleting, expiring or evicting (because of maxmemory policy) large objects is a blocking operation. If you have very large objects that are often deleted, expired, or evicted, try to fragment those objects into multiple smaller objects.\n");
        }
        if mass_eviction {
            r.push_str("- Sudden changes to the 'maxmemory' setting via 'CONFIG SET', or allocation of large objects via sets or sorted sets intersections, STORE option of SORT, Redis Cluster large keys migrations (RESTORE command), may create sudden memory pressure forcing the server to block trying to evict keys. \n");
        }
        if thp {
            r.push_str("- I detected a non zero amount of anonymous huge pages used by your process. This creates very serious latency events in different conditions, especially when Redis is persisting on disk. To disable THP support use the command 'echo never > /sys/kernel/mm/transparent_hugepage/enabled', make sure to also add it into /etc/rc.local so that the command will be executed again after a reboot. Note that even if you have already disabled THP, you still need to restart the Redis process to get rid of the huge pages already created.\n");
        }
    }
    r
}

/// Bytes of anonymous huge pages the process uses (`AnonHugePages:` summed over
/// /proc/self/smaps, as Redis's zmalloc_get_smap_bytes_by_field); 0 if unreadable.
fn anon_huge_pages() -> u64 {
    let Ok(text) = std::fs::read_to_string("/proc/self/smaps") else {
        return 0;
    };
    text.lines()
        .filter_map(|l| l.strip_prefix("AnonHugePages:"))
        .filter_map(|v| v.trim().strip_suffix("kB")?.trim().parse::<u64>().ok())
        .sum::<u64>()
        * 1024
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bucket edges as Redis's LATENCY HISTOGRAM prints them (1, 2, 4, 8, 16, 33, 66...).
    #[test]
    fn histogram_buckets_and_percentiles_match_hdr() {
        let mut h = Hist::new();
        for us in [1u64, 1, 2, 10, 30, 100] {
            h.record(us * 1000);
        }
        assert_eq!(h.cdf(), vec![(1, 2), (2, 3), (16, 4), (33, 5), (132, 6)]);
        assert_eq!(h.value_at_percentile(50.0), highest_equivalent(2000));
        assert_eq!(h.value_at_percentile(100.0), highest_equivalent(100_000));
        let mut z = Hist::new();
        z.record(0);
        assert_eq!(z.value_at_percentile(50.0), 1);
        assert_eq!(percentile_name(99.9), "99.9");
        assert_eq!(percentile_name(50.0), "50");
    }
}
