//! The engine: all databases, the clock, engine-level configuration and statistics, and the
//! periodic work on the keyspace (active expiry, dict shrinking and incremental rehashing).
//!
//! Statistics: counters that lookups produce (expired keys, keyspace hits/misses) are kept
//! per [`Db`], because a `Db` has no access to the engine; the engine-wide value INFO shows is
//! the [`Stats`] field plus the sum over the dbs ([`Engine::expired_keys`],
//! [`Engine::keyspace_hits`], [`Engine::keyspace_misses`]).

use crate::clock::Clock;
use crate::db::{Db, KeyEvent};
use crate::notify;
use crate::propagate::Propagation;
use crate::watch::{Presence, Watches};
use std::time::{Duration, Instant};

/// Active expiry's parameters for an `active-expire-effort` (Redis's `activeExpireCycle`:
/// the effort rescaled to 0–9 adds a quarter of the base keys per loop and of the fast
/// cycle's time per step, 2% of the cron period to the slow cycle, and lowers the stale
/// share at which a db is left by one point per step).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExpireEffort {
    pub keys_per_loop: usize,
    pub fast_duration_us: u64,
    pub slow_time_perc: u64,
    pub acceptable_stale: usize,
}

impl ExpireEffort {
    pub fn for_effort(effort: u32) -> ExpireEffort {
        let e = effort.clamp(1, 10) - 1;
        ExpireEffort {
            keys_per_loop: ACTIVE_EXPIRE_CYCLE_KEYS_PER_LOOP
                + ACTIVE_EXPIRE_CYCLE_KEYS_PER_LOOP / 4 * e as usize,
            fast_duration_us: ACTIVE_EXPIRE_CYCLE_FAST_DURATION_US
                + ACTIVE_EXPIRE_CYCLE_FAST_DURATION_US / 4 * u64::from(e),
            slow_time_perc: ACTIVE_EXPIRE_CYCLE_SLOW_TIME_PERC + 2 * u64::from(e),
            acceptable_stale: ACTIVE_EXPIRE_CYCLE_ACCEPTABLE_STALE - e as usize,
        }
    }
}

/// Redis's `ACTIVE_EXPIRE_CYCLE_KEYS_PER_LOOP`: volatile keys sampled per db per iteration.
pub const ACTIVE_EXPIRE_CYCLE_KEYS_PER_LOOP: usize = 20;
/// Redis's `ACTIVE_EXPIRE_CYCLE_FAST_DURATION`, in microseconds.
pub const ACTIVE_EXPIRE_CYCLE_FAST_DURATION_US: u64 = 1000;
/// Redis's `ACTIVE_EXPIRE_CYCLE_SLOW_TIME_PERC`: share of each cron period the slow cycle
/// may use.
pub const ACTIVE_EXPIRE_CYCLE_SLOW_TIME_PERC: u64 = 25;
/// Redis's `ACTIVE_EXPIRE_CYCLE_ACCEPTABLE_STALE`: keep sampling a db while more than this
/// percentage of the sampled keys were expired.
pub const ACTIVE_EXPIRE_CYCLE_ACCEPTABLE_STALE: usize = 10;
/// Redis's `CRON_DBS_PER_CALL`.
const CRON_DBS_PER_CALL: usize = 16;
/// Budget of incremental rehashing per cron call (Redis's `dictRehashMilliseconds(d, 1)`).
const CRON_REHASH_BUDGET: Duration = Duration::from_millis(1);

/// Configuration the engine consults (the server owns the full config and copies these in).
#[derive(Clone, Debug)]
pub struct EngineConfig {
    /// `databases`
    pub databases: usize,
    /// `active-expire-effort` (1–10): how hard active expiry works ([`ExpireEffort`]).
    pub active_expire_effort: u32,
    /// `hz`: active expiry runs this many times a second.
    pub hz: u32,
    /// `proto-max-bulk-len`: also the largest string SETRANGE/APPEND may build.
    pub proto_max_bulk_len: u64,
    /// `set-max-intset-entries`: an all-integer set past this size becomes a hashtable.
    pub set_max_intset_entries: usize,
    /// `notify-keyspace-events` as [`crate::notify`] class bits (0 = off, the default).
    pub notify_keyspace_events: crate::notify::NotifyClass,
    /// `zset-max-listpack-entries` / `zset-max-listpack-value`.
    pub zset_limits: crate::object::zset::ZLimits,
    /// `hash-max-listpack-entries` / `hash-max-listpack-value`.
    pub hash_limits: crate::object::hash::HashLimits,
    /// `list-max-listpack-size` (quicklist fill: -1..-5 = 4..64 KiB nodes, >0 = entries).
    pub list_max_listpack_size: i64,
    /// `hll-sparse-max-bytes`: a sparse HyperLogLog that would grow past this turns dense.
    pub hll_sparse_max_bytes: usize,
    /// `maxmemory`, `maxmemory-policy` and the other eviction settings.
    pub evict: crate::evict::EvictConfig,
    /// `stream-node-max-bytes` / `stream-node-max-entries`: when XADD opens a new node.
    pub stream_node_limits: crate::types::stream::NodeLimits,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            databases: 16,
            active_expire_effort: 1,
            hz: 10,
            proto_max_bulk_len: 512 * 1024 * 1024,
            set_max_intset_entries: 512,
            notify_keyspace_events: 0,
            zset_limits: crate::object::zset::ZLimits::default(),
            hash_limits: crate::object::hash::HashLimits::default(),
            list_max_listpack_size: -2,
            hll_sparse_max_bytes: 3000,
            evict: crate::evict::EvictConfig::default(),
            stream_node_limits: crate::types::stream::NodeLimits::default(),
        }
    }
}

/// Counters for INFO stats.
#[derive(Clone, Debug, Default)]
pub struct Stats {
    /// Hits/misses counted outside the dbs; INFO adds the per-db counters
    /// ([`Engine::keyspace_hits`]).
    pub keyspace_hits: u64,
    pub keyspace_misses: u64,
    /// Expired keys counted outside the dbs (none today); INFO uses [`Engine::expired_keys`].
    pub expired_keys: u64,
    /// Estimated fraction (0..1) of volatile keys that are logically expired but not yet
    /// reclaimed: running average of the active cycle's samples (INFO `expired_stale_perc`
    /// shows it times 100).
    pub expired_stale_perc: f64,
    /// Active expiry cycles that stopped on their time limit
    /// (INFO `expired_time_cap_reached_count`).
    pub expired_time_cap_reached_count: u64,
    /// Time spent in active expiry, microseconds (INFO `expire_cycle_cpu_milliseconds` / 1000).
    pub expire_cycle_time_used_us: u64,
}

pub struct Engine {
    pub dbs: Vec<Db>,
    pub clock: Clock,
    pub config: EngineConfig,
    pub stats: Stats,
    /// Writes since the last save (Redis's `server.dirty`); also how the propagation point
    /// (AOF/replication, a later issue) learns that a command wrote.
    pub dirty: u64,
    /// When set, every command sees this time (EXEC and scripts run at one instant).
    pub fixed_now_ms: Option<i64>,
    /// Where write effects go for an AOF or replicas (see [`crate::propagate`]).
    pub propagation: Propagation,
    /// Keyspace events waiting to be published by the server ([`Engine::notify`]).
    pub notifications: crate::notify::Queue,
    /// Active expiry on/off (`DEBUG SET-ACTIVE-EXPIRE`; a replica turns it off and waits for
    /// its master's DELs).
    pub active_expire_enabled: bool,
    /// CLIENT PAUSE holds expiry; a replica never expires by itself (see
    /// [`Engine::set_expire_paused`], [`Engine::set_replica_expiry`]).
    expiry_pause: bool,
    expiry_replica: bool,
    /// `activerehashing`: whether the cron spends idle time rehashing dicts.
    pub active_rehashing: bool,
    /// WATCH: who watches which key, and whose transaction is already doomed.
    pub watches: Watches,
    /// Whether any db logs keys deleted by expiry (see [`Engine::refresh_expire_logging`]);
    /// lets [`Engine::flush_expired`] return at once in the common case.
    expire_listeners: bool,
    /// Set by a blocking command that found nothing to serve and may block (see
    /// [`crate::blocking`]); taken by the server right after the handler returns.
    pub block: Option<crate::blocking::BlockRequest>,
    /// Set while a parked blocking command re-runs to serve its client: the key that got
    /// data. Its other keys are skipped ([`Engine::serves`]), as Redis serves the ready key
    /// whatever the others hold.
    pub serve_only: Option<Vec<u8>>,
    /// Keys clients are blocked on, and those signalled ready.
    pub blocking: crate::blocking::Blocking,
    /// FLUSHALL ran: the server aborts a background save and, with save points, writes the
    /// empty dataset (Redis's `flushAllDataAndResetRDB`). Taken by the runner.
    pub flushed_all: bool,
    /// The latest snapshot's epoch (see [`Engine::begin_snapshot`]).
    snapshot_epoch: u32,
    /// Where the periodic jobs resume (Redis keeps these as statics in the functions).
    cron_state: CronState,
    /// The eviction pool, whether eviction must continue, `evicted_keys`.
    pub evict: crate::evict::EvictState,
}

/// Progress of the periodic jobs carried from one call to the next.
#[derive(Debug, Default)]
struct CronState {
    /// Next db the active expiry cycle visits.
    expire_db: usize,
    /// The last cycle stopped on its time limit: there is more to expire, so the next slow
    /// cycle visits every db and fast cycles may run.
    timelimit_exit: bool,
    last_fast_cycle: Option<Instant>,
    /// Next db to try shrinking / rehashing.
    resize_db: usize,
    rehash_db: usize,
}

impl Engine {
    pub fn new(config: EngineConfig, clock: Clock) -> Engine {
        let databases = config.databases;
        let dbs = (0..config.databases).map(Db::new).collect();
        let mut engine = Engine {
            dbs,
            clock,
            config,
            stats: Stats::default(),
            dirty: 0,
            fixed_now_ms: None,
            propagation: Propagation::default(),
            notifications: crate::notify::Queue::default(),
            active_expire_enabled: true,
            expiry_pause: false,
            expiry_replica: false,
            active_rehashing: true,
            watches: Watches::new(databases),
            expire_listeners: false,
            block: None,
            serve_only: None,
            blocking: Default::default(),
            flushed_all: false,
            snapshot_epoch: 0,
            cron_state: CronState::default(),
            evict: Default::default(),
        };
        engine.refresh_policy();
        // `notify-keyspace-events` from the config file may already want `expired` events.
        engine.refresh_expire_logging();
        engine
    }

    /// Whether an `expired` keyspace event would be queued (`notify-keyspace-events`; call
    /// [`Engine::refresh_expire_logging`] when the setting changes).
    fn notify_wants_expired(&self) -> bool {
        let f = self.config.notify_keyspace_events;
        f & notify::EXPIRED != 0 && f & notify::CHANNELS != 0
    }

    /// Re-decides which dbs log keys deleted by expiry: those someone watches, or all of them
    /// while `expired` events or propagation are wanted; and whether they log read misses and
    /// added keys (`keymiss` / `new` events wanted). Call after WATCH, after watches were
    /// dropped, and after those settings change. Logging a little too much is harmless
    /// (the flush just finds nobody to tell); too little loses touches, so callers err on
    /// calling it.
    /// Pauses (or resumes) the deletion of expired keys by lookups (CLIENT PAUSE); the
    /// server also stops calling the active expiry cycle meanwhile.
    pub fn set_expire_paused(&mut self, paused: bool) {
        self.expiry_pause = paused;
        self.apply_expiry_mode();
    }

    /// A replica does not expire keys itself (Redis 7.0): expired keys read as missing to
    /// its clients and stay until the master's DEL; the server also stops the active cycle.
    pub fn set_replica_expiry(&mut self, replica: bool) {
        self.expiry_replica = replica;
        self.apply_expiry_mode();
    }

    /// While a replica runs its master's commands: keys count as present whatever their TTL.
    pub fn set_obey_master(&mut self, obey: bool) {
        for db in &mut self.dbs {
            db.expire_obey = obey;
        }
    }

    fn apply_expiry_mode(&mut self) {
        let paused = self.expiry_pause || self.expiry_replica;
        for db in &mut self.dbs {
            db.expire_paused = paused;
        }
    }

    pub fn refresh_expire_logging(&mut self) {
        let everywhere = self.notify_wants_expired() || self.propagation.listening;
        let wants = |class| {
            let f = self.config.notify_keyspace_events;
            f & class != 0 && f & notify::CHANNELS != 0
        };
        let (keymiss, new) = (wants(notify::KEY_MISS), wants(notify::NEW));
        let mut any = false;
        for (i, db) in self.dbs.iter_mut().enumerate() {
            // Blocked clients: an expired stream wakes its XREADGROUP waiters.
            db.log_expired =
                everywhere || self.watches.watching_db(i) || self.blocking.has_waiters(i);
            db.log_keymiss = keymiss;
            db.log_new = new;
            any |= db.log_expired || keymiss || new;
        }
        self.expire_listeners = any;
    }

    /// Turns what the dbs logged since the last call into side effects, in the order it
    /// happened: a key deleted by expiry into Redis's `deleteExpiredKeyAndPropagate` (the
    /// `expired` event, the WATCH touch, the DEL to propagate), a read miss into `keymiss`, an
    /// added key into `new`. Called after each command (and by `Ctx::notify` and
    /// `Ctx::signal_modified` first, so these precede the command's own effects, as Redis
    /// raises them inside the lookup or `dbAdd`) and after each active expiry cycle. Costs one
    /// branch when nothing listens.
    pub fn flush_expired(&mut self) {
        if !self.expire_listeners {
            return;
        }
        for i in 0..self.dbs.len() {
            if !self.dbs[i].has_expired_log() {
                continue;
            }
            let (keys, lens) = self.dbs[i].take_expired_log();
            let mut off = 0;
            for &(kind, len) in &lens {
                let key = &keys[off..off + len];
                off += len;
                match kind {
                    KeyEvent::Expired => {}
                    KeyEvent::Miss => {
                        self.notify(i, notify::KEY_MISS, "keymiss", key);
                        continue;
                    }
                    KeyEvent::New => {
                        self.notify(i, notify::NEW, "new", key);
                        continue;
                    }
                }
                self.notify(i, notify::EXPIRED, "expired", key);
                // The key is gone now (Redis's touchWatchedKey runs after the delete).
                self.watches.touch(i, key, false);
                // A deleted stream wakes its XREADGROUP waiters (signalDeletedKeyAsReady).
                self.blocking.signal_ready(i, key);
                self.propagation.add(i, &[b"DEL", key]);
            }
            self.dbs[i].return_expired_log(keys, lens);
        }
    }

    /// Whether a blocking command may pop from `key` now: always, unless it is re-run to
    /// serve a waiter from another key ([`Engine::serve_only`]).
    #[inline]
    pub fn serves(&self, key: &[u8]) -> bool {
        self.serve_only.as_deref().is_none_or(|k| k == key)
    }

    /// Attaches the only consumer of propagated writes (or with `None` detaches all): tests'
    /// recording sink.
    pub fn set_sink(&mut self, sink: Option<Box<dyn crate::propagate::Sink>>) {
        self.propagation.set_sink(sink);
        self.refresh_expire_logging();
    }

    /// Adds a consumer of propagated writes (the AOF, the replication stream).
    pub fn attach_sink(&mut self, sink: Box<dyn crate::propagate::Sink>) {
        self.propagation.attach(sink);
        self.refresh_expire_logging();
    }

    /// Detaches the consumer of type `T`.
    pub fn detach_sink<T: crate::propagate::Sink>(&mut self) {
        self.propagation.detach::<T>();
        self.refresh_expire_logging();
    }

    /// Detaches every consumer, returning them (see [`Engine::restore_sinks`]).
    pub fn take_sinks(&mut self) -> Vec<Box<dyn crate::propagate::Sink>> {
        let sinks = self.propagation.take_sinks();
        self.refresh_expire_logging();
        sinks
    }

    /// Attaches `sinks` again after [`Engine::take_sinks`].
    pub fn restore_sinks(&mut self, sinks: Vec<Box<dyn crate::propagate::Sink>>) {
        self.propagation.restore_sinks(sinks);
        self.refresh_expire_logging();
    }

    /// What WATCH's probes see of `key` in db `db` at the command's time.
    pub fn presence(&self, db: usize, key: &[u8]) -> Presence {
        presence_in(&self.dbs[db], key, self.now_ms())
    }

    /// WATCH `key` (in db `db`) for client `client` (Redis's `watchForKey`).
    pub fn watch_key(&mut self, client: u64, db: usize, key: &[u8]) {
        let expired = self.presence(db, key) == Presence::Expired;
        self.watches.watch(client, db, key, expired);
        if !self.dbs[db].log_expired {
            self.refresh_expire_logging();
        }
    }

    /// Drops `client`'s watches and dirty flag (UNWATCH, EXEC, DISCARD, RESET, disconnect).
    pub fn unwatch_all(&mut self, client: u64) {
        self.watches.forget(client);
        if self.expire_listeners {
            self.refresh_expire_logging();
        }
    }

    /// Redis's `signalModifiedKey`: after a change to `key` in db `db`, its watchers are
    /// flagged. Commands call it through `Ctx::signal_modified`; server-side writers (DEBUG
    /// POPULATE) directly.
    #[inline]
    pub fn signal_modified(&mut self, db: usize, key: &[u8]) {
        // A key this command's lookup found expired was deleted first, and Redis touches its
        // watchers then (deleteExpiredKeyAndPropagate): that touch clears the "expired at
        // WATCH time" mark, so this write flags them. One branch when nothing listens.
        self.flush_expired();
        // One length test when nobody watches this db; the key's presence is only probed for
        // a watched key (Redis's touchWatchedKey looks the key up after the change).
        if self.watches.watching_db(db) {
            let present = self.dbs[db].entry_raw(key).is_some();
            self.watches.touch(db, key, present);
        }
        // A waited key deleted or replaced by another type must wake XREADGROUP waiters
        // with an error (Redis's signalDeletedKeyAsReady); the server decides per waiter.
        // A stream changed in place (XSETID, XDEL…) is not a wake-up, as in Redis.
        if self.blocking.is_waited(db, key)
            && !matches!(
                self.dbs[db].entry_raw(key).map(|e| &e.value),
                Some(crate::object::Value::Stream(_))
            )
        {
            self.blocking.signal_ready(db, key);
        }
    }

    /// Redis's `touchAllWatchedKeysInDb(db, None)` before FLUSHDB/FLUSHALL empties `db`.
    pub fn touch_watched_on_flush(&mut self, db: usize) {
        if self.watches.watching_db(db) {
            let dbs = &self.dbs;
            let now = self.now_ms();
            self.watches
                .touch_all_in_db(db, None, |d, k| presence_in(&dbs[d], k, now));
        }
        // Emptied streams wake their XREADGROUP waiters with an error, as Redis 7.0.
        self.blocking.signal_all(db);
    }

    /// SWAPDB `a` `b`, before the swap: watchers of either db are touched when their key
    /// exists in either (Redis's two `touchAllWatchedKeysInDb` calls).
    pub fn touch_watched_on_swap(&mut self, a: usize, b: usize) {
        let dbs = &self.dbs;
        let now = self.fixed_now_ms.unwrap_or_else(|| self.clock.now_ms());
        self.watches
            .touch_all_in_db(a, Some(b), |d, k| presence_in(&dbs[d], k, now));
        self.watches
            .touch_all_in_db(b, Some(a), |d, k| presence_in(&dbs[d], k, now));
    }

    /// EXEC's check (Redis 7.0.15): a watched key that was live at WATCH time and is
    /// expired now dooms the transaction even if nobody deleted it yet. Returns whether the
    /// client's transaction must fail (its dirty flag, after this check).
    pub fn exec_watch_failed(&mut self, client: u64) -> bool {
        let dbs = &self.dbs;
        let now = self.fixed_now_ms.unwrap_or_else(|| self.clock.now_ms());
        if self
            .watches
            .any_expired(client, |d, k| presence_in(&dbs[d], k, now))
        {
            self.watches.flag_dirty(client);
        }
        self.watches.is_dirty(client)
    }

    /// Keys deleted because they expired, engine-wide (INFO `expired_keys`).
    pub fn expired_keys(&self) -> u64 {
        self.stats.expired_keys + self.dbs.iter().map(|d| d.expired_keys).sum::<u64>()
    }

    /// INFO `keyspace_hits`.
    pub fn keyspace_hits(&self) -> u64 {
        self.stats.keyspace_hits + self.dbs.iter().map(|d| d.hits).sum::<u64>()
    }

    /// INFO `keyspace_misses`.
    pub fn keyspace_misses(&self) -> u64 {
        self.stats.keyspace_misses + self.dbs.iter().map(|d| d.misses).sum::<u64>()
    }

    /// CONFIG RESETSTAT: zero the engine's and every db's counters.
    pub fn reset_stats(&mut self) {
        self.stats = Stats::default();
        self.evict.evicted_keys = 0;
        self.evict.exceeded_total = std::time::Duration::ZERO;
        self.evict.exceeded_since = None;
        for db in &mut self.dbs {
            db.reset_stats();
        }
    }

    /// The periodic keyspace job, called `hz` times a second by the server (Redis's
    /// `databasesCron`): refreshes the LRU clock, runs the slow active expiry cycle, starts
    /// shrinking under-filled dicts and spends about 1 ms rehashing one db's dicts.
    pub fn cron(&mut self) {
        let now = self.clock.now_ms();
        for db in &mut self.dbs {
            db.update_clock(now);
        }
        if self.active_expire_enabled {
            self.active_expire_cycle(false);
        }
        let n = self.dbs.len();
        if n == 0 {
            return;
        }
        let per_call = CRON_DBS_PER_CALL.min(n);
        for _ in 0..per_call {
            self.dbs[self.cron_state.resize_db % n].try_shrink();
            self.cron_state.resize_db = (self.cron_state.resize_db + 1) % n;
        }
        if self.active_rehashing {
            for _ in 0..per_call {
                if self.dbs[self.cron_state.rehash_db % n].rehash_for(CRON_REHASH_BUDGET) {
                    // Used this call's budget; continue with the same db next time.
                    break;
                }
                self.cron_state.rehash_db = (self.cron_state.rehash_db + 1) % n;
            }
        }
    }

    /// Active expiry (Redis 7.0's `activeExpireCycle`; figures at the default effort 1, see
    /// [`ExpireEffort`]): for each db in turn, sample 20 volatile keys, delete the expired
    /// ones, and sample again while more than 10% of a sample was expired. The slow cycle (from
    /// [`Engine::cron`]) may use 25% of a cron period; the fast cycle (from the event loop
    /// before it sleeps) 1 ms, and only runs when the previous cycle ran out of time, at most
    /// once per 2 ms. The time limit is checked every 16 iterations and the next call resumes
    /// at the next db.
    ///
    /// Key semantics use the engine clock (tests move it); the time budget uses
    /// `Instant`, since it is about CPU time, not about which keys are expired.
    pub fn active_expire_cycle(&mut self, fast: bool) {
        let n = self.dbs.len();
        if n == 0 {
            return;
        }
        let p = ExpireEffort::for_effort(self.config.active_expire_effort);
        let start = Instant::now();
        let st = &mut self.cron_state;
        if fast {
            // Redis compares the stale *fraction* with the stale *percentage* (10) here, so
            // only the time-limit clause ever decides; kept as written for fidelity.
            if !st.timelimit_exit && self.stats.expired_stale_perc < p.acceptable_stale as f64 {
                return;
            }
            let min_gap = Duration::from_micros(p.fast_duration_us * 2);
            if st.last_fast_cycle.is_some_and(|t| start < t + min_gap) {
                return;
            }
            st.last_fast_cycle = Some(start);
        }
        let dbs_per_call = if st.timelimit_exit {
            n
        } else {
            CRON_DBS_PER_CALL.min(n)
        };
        let timelimit = if fast {
            Duration::from_micros(p.fast_duration_us)
        } else {
            let us = p.slow_time_perc * 1_000_000 / u64::from(self.config.hz.max(1)) / 100;
            Duration::from_micros(us.max(1))
        };
        st.timelimit_exit = false;
        let now = self.fixed_now_ms.unwrap_or_else(|| self.clock.now_ms());
        let (mut total_sampled, mut total_expired) = (0usize, 0usize);
        let mut iteration: u64 = 0;
        for _ in 0..dbs_per_call {
            if st.timelimit_exit {
                break;
            }
            let db = &mut self.dbs[st.expire_db % n];
            // Advance first so that running out of time in this db resumes at the next one.
            st.expire_db = (st.expire_db + 1) % n;
            loop {
                iteration += 1;
                if db.expires_len() == 0 {
                    db.avg_ttl = 0;
                    break;
                }
                if db.expires_too_sparse() {
                    break;
                }
                let (sampled, expired) = db.active_expire_step(now, p.keys_per_loop);
                total_sampled += sampled;
                total_expired += expired;
                if iteration & 0xf == 0 && start.elapsed() > timelimit {
                    st.timelimit_exit = true;
                    self.stats.expired_time_cap_reached_count += 1;
                    break;
                }
                if sampled != 0 && expired * 100 / sampled <= p.acceptable_stale {
                    break;
                }
            }
        }
        self.stats.expire_cycle_time_used_us += start.elapsed().as_micros() as u64;
        let current = if total_sampled > 0 {
            total_expired as f64 / total_sampled as f64
        } else {
            0.0
        };
        self.stats.expired_stale_perc = current * 0.05 + self.stats.expired_stale_perc * 0.95;
        self.flush_expired();
        // Each key the cycle deleted is propagated on its own, never wrapped in MULTI.
        self.propagation.end_unit(false);
    }

    /// The keyspace half of Redis's `call()` after a handler ran: keys the command's lookups
    /// expired get their events, WATCH touches and DELs, then the command itself is
    /// propagated if it wrote (`dirty` grew past `dirty_before`). `db` is the db selected
    /// after the command. Every execution path runs this (the server's runner, EXEC, served
    /// blocked clients, the engine's test harness).
    pub fn after_command(&mut self, db: usize, argv: &[&[u8]], dirty_before: u64) {
        self.flush_expired();
        // A command that reset `dirty` (DEBUG LOADAOF, as Redis's "prevent AOF / replication")
        // wrote nothing to propagate: only an increase counts, as `call()` clamps the delta.
        let wrote = self.dirty > dirty_before;
        self.propagation.end_command(db, argv, wrote);
    }

    /// Ends an execution unit: what it propagated goes to the sink, wrapped in MULTI/EXEC
    /// when it is more than one command (see [`crate::propagate`]).
    pub fn end_unit(&mut self) {
        self.propagation.end_unit(true);
    }

    /// A keyspace event in db `db` (Redis's `notifyKeyspaceEvent`): queued for the server
    /// to publish on `__keyspace@<db>__:<key>` / `__keyevent@<db>__:<event>` if
    /// `notify-keyspace-events` selects `class` and at least one of `K`/`E`. Commands call
    /// it through `Ctx::notify`; expiry calls it directly.
    #[inline]
    pub fn notify(
        &mut self,
        db: usize,
        class: crate::notify::NotifyClass,
        event: &'static str,
        key: &[u8],
    ) {
        let flags = self.config.notify_keyspace_events;
        if flags & class == 0 || flags & crate::notify::CHANNELS == 0 {
            return;
        }
        self.notifications.push(db, event, key);
    }

    /// The time commands see.
    #[inline]
    /// Starts a fork-free snapshot: every db calls `hook` before changing an entry the
    /// snapshot has not written (see [`crate::db::SnapshotHook`]). Returns the snapshot's
    /// epoch: entries stamped with it are written (or were created after the start). One
    /// snapshot at a time.
    pub fn begin_snapshot(
        &mut self,
        hook: std::rc::Rc<std::cell::RefCell<dyn crate::db::SnapshotHook>>,
    ) -> u32 {
        assert!(!self.snapshot_running(), "one snapshot at a time");
        self.snapshot_epoch += 1;
        let epoch = self.snapshot_epoch;
        for db in &mut self.dbs {
            db.snapshot = Some((epoch, hook.clone()));
            db.new_epoch = epoch;
        }
        epoch
    }

    /// Ends the running snapshot (finished or abandoned): writes stop calling its hook.
    pub fn end_snapshot(&mut self) {
        for db in &mut self.dbs {
            db.snapshot = None;
        }
    }

    pub fn snapshot_running(&self) -> bool {
        self.dbs.first().is_some_and(|d| d.snapshot.is_some())
    }

    pub fn now_ms(&self) -> i64 {
        self.fixed_now_ms.unwrap_or_else(|| self.clock.now_ms())
    }
}

/// [`Engine::presence`] for a db borrowed apart from the engine.
fn presence_in(db: &Db, key: &[u8], now: i64) -> Presence {
    match db.entry_raw(key) {
        None => Presence::Absent,
        Some(e) if e.is_expired(now) => Presence::Expired,
        Some(_) => Presence::Live,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::object::{Str, Value};

    /// Redis's figures for the lowest and highest effort.
    #[test]
    fn expire_effort_scales_as_redis() {
        let one = ExpireEffort::for_effort(1);
        assert_eq!(
            (
                one.keys_per_loop,
                one.fast_duration_us,
                one.slow_time_perc,
                one.acceptable_stale
            ),
            (20, 1000, 25, 10)
        );
        let ten = ExpireEffort::for_effort(10);
        assert_eq!(
            (
                ten.keys_per_loop,
                ten.fast_duration_us,
                ten.slow_time_perc,
                ten.acceptable_stale
            ),
            (65, 3250, 43, 1)
        );
    }

    const T0: i64 = 1_767_225_600_000;

    fn engine() -> (Engine, std::rc::Rc<std::cell::Cell<i64>>) {
        let (clock, time) = Clock::manual(T0);
        (Engine::new(EngineConfig::default(), clock), time)
    }

    fn fill(e: &mut Engine, db: usize, prefix: &str, n: usize, expire_at: Option<i64>) {
        for i in 0..n {
            let k = format!("{prefix}{i}");
            e.dbs[db].set_with_expire(k.as_bytes(), Value::Str(Str::Int(i as i64)), expire_at);
        }
    }

    #[test]
    fn keymiss_and_new_events_keep_lookup_order() {
        use crate::commands::testkit::Harness;
        let mut h = Harness::new();
        h.engine.config.notify_keyspace_events = notify::parse_flags(b"EAnm").unwrap();
        h.engine.refresh_expire_logging();
        h.run(&["SET", "e", "v", "PX", "10"]);
        h.advance_ms(20);
        // (command, the events it raises as (event, key)).
        type Case<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)]);
        let cases: &[Case] = &[
            (
                &["MGET", "a", "e", "b"],
                &[
                    ("keymiss", "a"),
                    ("expired", "e"),
                    ("keymiss", "e"),
                    ("keymiss", "b"),
                ],
            ),
            (&["SET", "k", "v"], &[("new", "k"), ("set", "k")]),
            (&["SET", "k", "w"], &[("set", "k")]),
            // OBJECT counts the miss but raises no event (Redis's LOOKUP_NONOTIFY).
            (&["OBJECT", "ENCODING", "x"], &[]),
            // Writes look keys up without stats: no keymiss.
            (&["DEL", "x"], &[]),
            // RENAME deletes and re-adds its destination.
            (&["SET", "j", "1"], &[("new", "j"), ("set", "j")]),
            (
                &["RENAME", "k", "j"],
                &[("new", "j"), ("rename_from", "k"), ("rename_to", "j")],
            ),
        ];
        for (args, want) in cases {
            h.engine.notifications.clear();
            h.run(args);
            let q = &h.engine.notifications;
            let got: Vec<(&str, String)> = (0..q.len())
                .map(|i| {
                    let (e, key) = q.get(i);
                    (e.event, String::from_utf8_lossy(key).into_owned())
                })
                .collect();
            let want: Vec<(&str, String)> = want.iter().map(|(e, k)| (*e, k.to_string())).collect();
            assert_eq!(got, want, "{args:?}");
        }
    }

    #[test]
    fn slow_cycle_reclaims_expired_keys_in_every_db() {
        let (mut e, time) = engine();
        fill(&mut e, 0, "a", 2000, Some(T0 + 1000));
        fill(&mut e, 0, "live", 50, Some(T0 + 60_000));
        fill(&mut e, 3, "b", 500, Some(T0 + 1000));
        fill(&mut e, 15, "p", 10, None);
        e.active_expire_cycle(false);
        assert_eq!(e.expired_keys(), 0, "nothing is expired yet");
        time.set(T0 + 1001);
        for _ in 0..100 {
            e.cron();
            if e.dbs[0].len() == 50 && e.dbs[3].is_empty() {
                break;
            }
        }
        assert_eq!((e.dbs[0].len(), e.dbs[0].expires_len()), (50, 50));
        assert_eq!(e.dbs[3].len(), 0);
        assert_eq!(e.dbs[15].len(), 10);
        assert_eq!(e.expired_keys(), 2500);
        assert!(e.stats.expired_stale_perc > 0.0);
        e.reset_stats();
        assert_eq!(e.expired_keys(), 0);
    }

    #[test]
    fn cycle_stops_sampling_a_db_with_few_stale_keys() {
        let (mut e, time) = engine();
        // 1000 volatile keys, 1% of them expired: one sample of 20 is enough to move on.
        fill(&mut e, 0, "live", 990, Some(T0 + 60_000));
        fill(&mut e, 0, "dead", 10, Some(T0 - 1));
        time.set(T0);
        e.active_expire_cycle(false);
        assert!(
            e.dbs[0].len() > 990,
            "the cycle should not scan the whole db"
        );
    }

    #[test]
    fn fast_cycle_runs_only_after_a_time_limit_exit() {
        let (mut e, _time) = engine();
        fill(&mut e, 0, "dead", 100, Some(T0 - 1));
        e.active_expire_cycle(true);
        assert_eq!(
            e.dbs[0].len(),
            100,
            "fast cycle without a pending time-limit exit"
        );
        e.cron_state.timelimit_exit = true;
        e.active_expire_cycle(true);
        assert_eq!(e.dbs[0].len(), 0);
    }

    #[test]
    fn disabled_active_expiry_leaves_keys() {
        let (mut e, _time) = engine();
        fill(&mut e, 0, "dead", 10, Some(T0 - 1));
        e.active_expire_enabled = false;
        e.cron();
        assert_eq!(e.dbs[0].len(), 10);
    }

    #[test]
    fn cron_shrinks_and_rehashes_incrementally() {
        let (mut e, _time) = engine();
        fill(&mut e, 2, "k", 4000, None);
        for i in 10..4000 {
            e.dbs[2].delete(format!("k{i}").as_bytes(), T0);
        }
        assert!(e.dbs[2].dict.slots() >= 4096);
        for _ in 0..200 {
            e.cron();
        }
        assert!(!e.dbs[2].dict.is_rehashing());
        assert_eq!(e.dbs[2].dict.slots(), 16);
        assert_eq!(e.dbs[2].len(), 10);
        for i in 0..10 {
            assert!(e.dbs[2].exists(format!("k{i}").as_bytes(), T0));
        }
    }

    #[test]
    fn cron_refreshes_the_lru_clock_for_new_entries() {
        let (mut e, time) = engine();
        time.set(T0 + 50_000);
        e.cron();
        e.dbs[0].set(b"k", Value::Str(Str::Int(1)), false);
        let entry = e.dbs[0].lookup_notouch(b"k", T0 + 50_000).unwrap();
        assert_eq!(crate::db::idle_seconds(entry, T0 + 53_000), 3);
    }
}
