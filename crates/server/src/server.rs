//! Server state: everything the event loop owns besides the ring itself — the engine, the
//! clients, the command table, the live settings and the statistics.
//!
//! Invariants: one `Server` per process, owned by the loop thread (no locks). Clients are
//! never removed from `clients` while commands run: closing only marks a client
//! ([`crate::client::ConnState::Closing`]); the loop frees the slot once every operation it
//! had in flight on the ring has completed. So a handler may kill any client, itself
//! included, without invalidating the key it was given.

use crate::client::Conn;
use crate::dispatch::gate::{self, CmdTable};
use crate::features::config::Config;
use crate::listener::Listener;
use engine::Engine;
use slab::Slab;
use std::time::Instant;

/// The settings the loop and the gate read on every request, copied out of the full
/// [`Config`] (at start and after every CONFIG SET) so the hot path reads plain fields of
/// the right types.
#[derive(Clone, Debug)]
pub struct Settings {
    /// `port` (0 = no TCP listener).
    pub port: u16,
    /// `maxclients`
    pub maxclients: usize,
    /// `timeout`: idle seconds before a client is closed (0 = never).
    pub timeout: u64,
    /// `client-query-buffer-limit`: unparsed bytes a client may accumulate.
    pub client_query_buffer_limit: usize,
    /// `proto-max-bulk-len`
    pub proto_max_bulk_len: u64,
    /// `hz`
    pub hz: u32,
    /// `tcp-keepalive` seconds (0 = off).
    pub tcp_keepalive: u32,
    /// `client-output-buffer-limit` by class (normal, replica, pubsub).
    pub client_obuf_limits: [crate::features::config::ObufLimit; 3],
}

impl Settings {
    pub fn from_config(c: &Config) -> Settings {
        Settings {
            port: c.port,
            maxclients: c.maxclients as usize,
            timeout: c.timeout.max(0) as u64,
            client_query_buffer_limit: c.client_query_buffer_limit as usize,
            proto_max_bulk_len: c.proto_max_bulk_len.max(0) as u64,
            hz: c.hz.max(1) as u32,
            tcp_keepalive: c.tcp_keepalive.max(0) as u32,
            client_obuf_limits: c.client_obuf_limits,
        }
    }
}

/// Counters for INFO stats / clients.
#[derive(Clone, Debug, Default)]
pub struct ServerStats {
    pub total_connections_received: u64,
    pub total_commands_processed: u64,
    pub rejected_connections: u64,
    pub net_input_bytes: u64,
    pub net_output_bytes: u64,
    /// Error replies sent (INFO `total_error_replies`).
    pub total_error_replies: u64,
    /// Error replies by their code (`ERR`, `WRONGTYPE`...), INFO errorstats. Few distinct
    /// codes exist, so a vector beats a map.
    pub errorstats: Vec<(Box<str>, u64)>,
    /// Commands rejected by the gate because the name was unknown (counted as errors).
    pub unknown_commands: u64,
    /// Clients closed because they exceeded `client-query-buffer-limit`.
    pub client_qbuf_limit_disconnections: u64,
    /// Clients closed by `maxmemory-clients` (INFO `evicted_clients`).
    pub evicted_clients: u64,
    /// Recv / send completions with data (INFO `total_reads_processed` / `..._writes_...`).
    pub reads_processed: u64,
    pub writes_processed: u64,
    pub ops_metric: Metric,
    pub input_metric: Metric,
    pub output_metric: Metric,
    last_metric_ms: i64,
}

impl ServerStats {
    /// Counts one error reply under its code (the first word of the text).
    pub fn count_error(&mut self, text: &str) {
        self.total_error_replies += 1;
        let code = text.split(' ').next().unwrap_or("ERR");
        if let Some(e) = self.errorstats.iter_mut().find(|(c, _)| &**c == code) {
            e.1 += 1;
        } else {
            self.errorstats.push((code.into(), 1));
        }
    }
}

/// Redis's `trackInstantaneousMetric`: a rate sampled every 100 ms, averaged over the last
/// 16 samples.
#[derive(Clone, Debug, Default)]
pub struct Metric {
    samples: [f64; 16],
    idx: usize,
    last_ms: i64,
    last_val: u64,
}

impl Metric {
    /// Records the rate of `val` (a running total) per second since the last sample.
    pub fn track(&mut self, now_ms: i64, val: u64) {
        if self.last_ms != 0 {
            let dt = now_ms - self.last_ms;
            if dt <= 0 {
                return;
            }
            self.samples[self.idx] = val.saturating_sub(self.last_val) as f64 * 1000.0 / dt as f64;
            self.idx = (self.idx + 1) % self.samples.len();
        }
        self.last_ms = now_ms;
        self.last_val = val;
    }

    pub fn get(&self) -> f64 {
        self.samples.iter().sum::<f64>() / self.samples.len() as f64
    }
}

/// How a script past `busy-reply-threshold` serves the other clients from its Lua hook
/// (Redis's `processEventsWhileBlocked`): installed by the loop while a connection's input
/// runs, so the features layer calls the ring without naming it (see `net::busy`).
#[derive(Clone, Copy)]
pub struct BusyPoller {
    /// Serves other connections once; the `usize` is the running script's client.
    pub poll: fn(BusyPoller, &mut Server, usize),
    pub refs: *mut (),
}

/// Why the server is stopping; read by the loop after each iteration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shutdown {
    Running,
    /// Stop now and exit with status 0.
    Exit,
}

pub struct Server {
    /// The full configuration (CONFIG GET/SET, INFO).
    pub config: Config,
    /// Hot-path copy of parts of `config`; refreshed by [`Server::apply_settings`].
    pub settings: Settings,
    pub engine: Engine,
    pub clients: Slab<Conn>,
    /// The one command table; built once at start and leaked, so the gate can hold a row
    /// while handing `&mut Server` to the handler.
    pub table: &'static CmdTable,
    pub stats: ServerStats,
    /// Memory of the normal and pub/sub clients (`maxmemory-clients`), kept current as
    /// their buffers change (see [`Server::note_client_memory`]).
    pub clients_mem: usize,
    /// SLOWLOG's entries (see [`crate::features::slowlog`]).
    pub slowlog: crate::features::slowlog::SlowLog,
    /// LATENCY's event series (see [`crate::features::latency`]).
    pub latency: crate::features::latency::Latency,
    /// MONITOR clients (slab key, client id), see [`crate::features::monitor`].
    pub monitors: Vec<(usize, u64)>,
    /// CLIENT PAUSE state and the clients it holds (see [`crate::features::pause`]).
    pub pause: crate::features::pause::Pause,
    pub limits: resp::Limits,
    /// Next CLIENT ID (never reused).
    pub next_client_id: u64,
    /// Bumped on every accept; with the slab key it makes each connection's ring user_data
    /// unique, so completions for a closed connection never reach its slot's next owner.
    pub next_gen: u32,
    pub started: Instant,
    /// When the cross-protocol-scripting warning was last logged (rate limit).
    pub last_security_warning_ms: i64,
    /// Unix seconds at start (INFO `rdb_last_save_time` until persistence exists).
    pub start_unix: i64,
    /// Allocated bytes once initialised (INFO `used_memory_startup`).
    pub used_memory_startup: u64,
    pub shutdown: Shutdown,
    /// Clients closed by a command (CLIENT KILL, QUIT) whose ring operations still need
    /// cancelling; the loop drains this after each batch.
    pub to_close: Vec<(usize, u32)>,
    /// The listening sockets. Replaced as a whole by CONFIG SET port/bind.
    pub listeners: Vec<Listener>,
    /// Bumped when `listeners` is replaced; tags accept operations (as a generation).
    pub listener_epoch: u32,
    /// Set when `listeners` need their accepts armed (start, CONFIG SET port/bind).
    pub listeners_changed: bool,
    /// The Unix-socket listener (always `listeners[0]` when configured) has its accept
    /// armed: CONFIG SET port/bind replaces only the TCP listeners, and it keeps its own.
    pub unix_accept_armed: bool,
    /// TCP port actually listened on.
    pub tcp_port: u16,
    /// Clients parked by blocking commands (BLPOP...).
    pub blocked: crate::dispatch::blocking::Blocked,
    /// Pub/sub subscriptions and publishing state.
    pub pubsub: crate::features::pubsub::PubSub,
    /// Clients that got output from another client's command (PUBLISH, keyspace events)
    /// and need a send; the loop drains this before it submits sends. May hold stale or
    /// repeated keys (the loop skips those).
    pub wake: Vec<usize>,
    /// The append-only file (see [`crate::features::aof`]).
    pub aof: crate::features::aof::Aof,
    /// File writes and fsyncs on the ring, for any owner (see [`crate::fileio`]).
    pub fileio: crate::fileio::FileIo,
    /// Replies held for the AOF's fsync so far (a statistic for tests and INFO).
    pub aof_clients_held: u64,
    /// RDB persistence state and the running background save.
    pub persistence: crate::features::persistence::Persistence,
    /// The replication id (`master_replid`): random at start; DEBUG CHANGE-REPL-ID draws a
    /// new one.
    pub replid: String,
    /// Replication, master side: offset, backlog, replicas.
    pub repl: crate::features::replication::Repl,
    /// The master we follow (REPLICAOF host port), if any.
    pub master: Option<crate::features::replication::replica::MasterLink>,
    /// DEBUG PAUSE-CRON: the periodic task does nothing while set.
    pub cron_paused: bool,
    /// A command is running inside EXEC (BGSAVE is then scheduled, as Redis cannot fork
    /// there).
    pub in_exec: bool,
    /// Users, the ACL LOG (see [`crate::features::acl`]).
    pub acl: crate::features::acl::Acl,
    /// Replaying the AOF at start-up: no eviction and no OOM refusals (Redis loads without
    /// `processCommand`).
    pub loading: bool,
    /// Lua scripts and functions (see [`crate::features::script`]).
    pub scripting: crate::features::script::Scripting,
    /// The gate found the server out of memory before this request (Redis's
    /// `pre_command_oom_state`, which scripts consult before their first write).
    pub oom_at_gate: bool,
    /// The command failed with an error reply that is not counted again in the error
    /// statistics (a script's error raised by a command inside it); the runner counts the
    /// failed call and clears it.
    pub failed_uncounted: bool,
    /// Set by the loop while commands run (see [`BusyPoller`]).
    pub busy_poller: Option<BusyPoller>,
}

impl Server {
    /// Closes a client over its output-buffer limit, with Redis's log line.
    pub fn close_for_output_limit(&mut self, key: usize) {
        match self.clients.get(key) {
            Some(c) if c.state != crate::client::ConnState::Closing => {}
            _ => return,
        }
        let mut info = String::new();
        crate::features::client_cmds::client_info_line(self, key, usize::MAX, &[], &mut info);
        log::warn!(
            "Client {info} scheduled to be closed ASAP for overcoming of output buffer limits."
        );
        self.close_client(key);
    }

    /// Once a second (Redis's clientsCron): a client whose output has stayed over the soft limit
    /// is closed even if nothing more is written to it.
    pub fn cron_output_limits(&mut self) {
        let limits = self.settings.client_obuf_limits;
        if limits
            .iter()
            .all(|l| l.hard_bytes == 0 && l.soft_bytes == 0)
        {
            return;
        }
        let now_s = self.engine.clock.now_ms() / 1000;
        let mut over = std::mem::take(&mut self.pubsub.overflow);
        for (k, c) in self.clients.iter_mut() {
            if c.state == crate::client::ConnState::Open
                && crate::client::obuf::over_output_limit(c, &limits, now_s)
            {
                over.push(k);
            }
        }
        for &k in &over {
            self.close_for_output_limit(k);
        }
        over.clear();
        self.pubsub.overflow = over;
    }

    /// Checks the calling client's own output against its limit after its commands ran
    /// (a normal client with `client-output-buffer-limit normal ...` set, or a RESP3
    /// subscriber running commands).
    pub fn check_output_limit(&mut self, key: usize) {
        let now_s = self.engine.clock.now_ms() / 1000;
        let limits = self.settings.client_obuf_limits;
        let Some(c) = self.clients.get_mut(key) else {
            return;
        };
        if c.state == crate::client::ConnState::Open
            && crate::client::obuf::over_output_limit(c, &limits, now_s)
        {
            self.close_for_output_limit(key);
        }
    }

    /// Builds the server state; fails (with Redis's config error text) if a
    /// `rename-command` names no command.
    pub fn new(config: Config, engine: Engine) -> Result<Server, String> {
        let mut table = gate::build_table();
        for (old, new) in &config.rename_commands {
            if !table.rename(old, new) {
                return Err("No such command in rename-command".into());
            }
        }
        let settings = Settings::from_config(&config);
        let mut acl = crate::features::acl::Acl::new(config.compat.acl_pubsub_default == 1);
        acl.set_requirepass(&config.requirepass, config.compat.acl_pubsub_default == 1);
        let start_unix = engine.clock.now_ms() / 1000;
        let limits = resp::Limits {
            proto_max_bulk_len: settings.proto_max_bulk_len,
            ..Default::default()
        };
        Ok(Server {
            tcp_port: settings.port,
            config,
            settings,
            engine,
            clients: Slab::new(),
            table: Box::leak(Box::new(table)),
            stats: ServerStats::default(),
            clients_mem: 0,
            slowlog: Default::default(),
            latency: Default::default(),
            monitors: Vec::new(),
            pause: Default::default(),
            limits,
            // Redis 7.0 creates two internal clients at startup (the Lua scripting and the
            // functions engine clients), so its first connection is id 3; clients (and the
            // differential tests) see the same numbers here.
            next_client_id: 3,
            next_gen: 1,
            started: Instant::now(),
            start_unix,
            used_memory_startup: 0,
            last_security_warning_ms: i64::MIN / 2,
            shutdown: Shutdown::Running,
            to_close: Vec::new(),
            listeners: Vec::new(),
            listener_epoch: 0,
            listeners_changed: false,
            unix_accept_armed: false,
            blocked: Default::default(),
            pubsub: Default::default(),
            wake: Vec::new(),
            aof: Default::default(),
            fileio: Default::default(),
            aof_clients_held: 0,
            persistence: crate::features::persistence::Persistence::new(start_unix),
            replid: crate::features::info::random_hex_id(),
            repl: Default::default(),
            master: None,
            cron_paused: false,
            in_exec: false,
            acl,
            loading: false,
            scripting: Default::default(),
            oom_at_gate: false,
            failed_uncounted: false,
            busy_poller: None,
        })
    }

    /// Unix time in milliseconds, as the engine sees it.
    #[inline]
    pub fn now_ms(&self) -> i64 {
        self.engine.clock.now_ms()
    }

    /// Marks a client for closing. Safe to call from a handler, for any client including
    /// the caller: the slot stays valid until the loop has reaped its ring operations.
    pub fn close_client(&mut self, key: usize) {
        crate::dispatch::blocking::forget(self, key);
        crate::features::replication::client_closed(self, key);
        crate::features::pubsub::forget_client(self, key);
        // A closing client's watches must not outlive it (Redis's freeClient unwatches).
        if let Some(c) = self.clients.get(key) {
            let id = c.id();
            self.engine.unwatch_all(id);
        }
        if let Some(c) = self.clients.get_mut(key)
            && c.begin_close()
        {
            self.to_close.push((key, c.generation));
        }
    }

    /// Hands finished file requests to their owners (see [`crate::fileio`]): one arm per
    /// [`crate::fileio::Owner`].
    pub fn file_done(&mut self) {
        let done = std::mem::take(&mut self.fileio.done);
        for d in done {
            match d.owner {
                crate::fileio::Owner::Aof => crate::features::aof::on_file_done(self, d),
                crate::fileio::Owner::Snapshot => {
                    crate::features::persistence::on_file_done(self, d)
                }
            }
        }
    }

    /// Re-derives what is copied out of `config` after it changed (CONFIG SET).
    pub fn apply_settings(&mut self) {
        self.settings = Settings::from_config(&self.config);
        self.limits.proto_max_bulk_len = self.settings.proto_max_bulk_len;
        self.config.apply_to_engine(&mut self.engine);
    }

    /// Counts client `key`'s buffers in [`Server::clients_mem`] as they are now: called
    /// where they grow or shrink (a read, output handed to a send, a send completed) and
    /// when it goes. A replica, our master's link and a closing client count 0.
    #[inline]
    pub fn note_client_memory(&mut self, key: usize) {
        let Some(c) = self.clients.get_mut(key) else {
            return;
        };
        let now = if c.state == crate::client::ConnState::Closing || c.is_replica() || c.is_master()
        {
            0
        } else {
            c.memory()
        };
        self.clients_mem = (self.clients_mem + now).saturating_sub(c.mem_counted);
        c.mem_counted = now;
    }

    /// The OOM score for our role (`oom-score-adj`; see [`crate::sys::set_oom_score_adj`]).
    pub fn update_oom_score(&self) -> std::io::Result<()> {
        let c = &self.config.compat;
        crate::sys::set_oom_score_adj(
            c.oom_score_adj,
            c.oom_score_adj_values,
            self.master.is_some(),
        )
    }

    /// Whether listener `i` is the Unix socket's (whose accepts never go stale).
    #[inline]
    pub fn is_unix_listener(&self, i: usize) -> bool {
        i == 0 && self.listeners.first().is_some_and(|l| l.unix)
    }

    /// CONFIG RESETSTAT: zeroes the INFO counters (server, engine, per command).
    pub fn reset_stats(&mut self) {
        self.stats = ServerStats::default();
        self.engine.reset_stats();
        for row in self.table.rows() {
            row.handler.stats.set(Default::default());
        }
        crate::features::latency::reset_histograms(self);
    }

    /// Number of connected clients (not counting those being torn down).
    pub fn connected_clients(&self) -> usize {
        self.clients.iter().filter(|(_, c)| !c.is_closing()).count()
    }
}

/// `dynamic-hz` (Redis's serverCron): `hz` doubles, up to 500, while there are more than
/// 200 clients per tick, so per-client cron work stays bounded; the timer and the expiry
/// cycle's time budget follow. INFO's `hz` shows it, `configured_hz` the directive.
fn dynamic_hz(server: &mut Server) {
    let configured = server.config.hz.max(1) as u32;
    let mut hz = configured;
    if server.config.compat.dynamic_hz {
        let clients = server.clients.len() as u32;
        while clients / hz > 200 {
            hz *= 2;
            if hz > crate::features::config::MAX_HZ as u32 {
                hz = crate::features::config::MAX_HZ as u32;
                break;
            }
        }
    }
    if hz != server.settings.hz {
        server.settings.hz = hz;
        server.engine.config.hz = hz;
    }
}

/// The periodic task, `hz` times a second (Redis's serverCron): engine housekeeping
/// (active expiry, incremental rehash) and statistics.
pub fn cron(server: &mut Server, now_ms: i64) {
    if server.cron_paused {
        return;
    }
    dynamic_hz(server);
    // No active expiry while clients are paused (Redis 7.0).
    let expire = server.engine.active_expire_enabled;
    server.engine.active_expire_enabled &= !crate::features::pause::expiry_paused(server);
    // The latency monitor's "expire-cycle" (this includes the cron's rehash step, at most
    // 1 ms, which Redis times apart).
    let start = Instant::now();
    server.engine.cron();
    let ms = start.elapsed().as_millis() as u64;
    crate::features::latency::add_sample_if_needed(server, "expire-cycle", ms);
    server.engine.active_expire_enabled = expire;
    crate::features::aof::cron(server);
    crate::features::persistence::cron(server);
    crate::features::replication::cron(server);
    let st = &mut server.stats;
    if now_ms - st.last_metric_ms >= 100 {
        st.last_metric_ms = now_ms;
        st.ops_metric.track(now_ms, st.total_commands_processed);
        st.input_metric.track(now_ms, st.net_input_bytes);
        st.output_metric.track(now_ms, st.net_output_bytes);
    }
}
