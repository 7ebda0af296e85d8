//! `maxmemory` eviction (Redis 7.0's evict.c): the policies, the approximated LRU and the
//! LFU counter kept in [`Entry::lru`], the eviction pool, and [`Engine::perform_evictions`],
//! which the server runs before each command and, while it has more to free, from the loop.
//!
//! The engine does not know how much memory the process uses: the caller passes a function
//! that measures it (the server's counting allocator; tests a fake). What is freed is
//! measured around each delete alone, as Redis does, so the DEL's propagation does not count.
//!
//! The 24 bits of [`Entry::lru`] hold, as in Redis's `robj.lru`:
//! - under an LRU (or any non-LFU) policy, the 24-bit LRU clock (seconds) of the last access;
//! - under an LFU policy, 16 bits of "last decrement time" in minutes and an 8-bit
//!   logarithmic access counter (new keys start at [`LFU_INIT_VAL`]). Reads decay the
//!   counter by one per `lfu-decay-time` minutes elapsed, then increment it with
//!   probability `1 / ((counter - LFU_INIT_VAL) * lfu-log-factor + 1)`.
//!
//! Switching between LRU and LFU at runtime reinterprets the bits, as Redis does (its
//! OBJECT error texts warn that the data takes time to adjust).
//!
//! Invariants: every eviction deletes through [`Db::evict`] (the snapshot hook runs first),
//! then touches WATCH, raises `evicted` and propagates a DEL as its own unit, as Redis's
//! `performEvictions`. One call stops after the tenacity's time limit (checked every 16
//! keys), leaving [`EvictState::running`] set for the loop to continue; it never stalls the
//! loop for longer.

use crate::db::{Db, Entry, LRU_CLOCK_MAX, LRU_CLOCK_RESOLUTION, lru_clock};
use crate::engine::Engine;
// The LFU counter lives in its own module (the db touches keys with it, below eviction).
pub use crate::lfu::{
    LFU_INIT_VAL, LfuParams, lfu_decr_and_return, lfu_log_incr, lfu_minutes, lfu_new, lfu_touch,
};
use crate::notify;
use std::time::{Duration, Instant};

/// `maxmemory-policy`, in the order of Redis's config enum.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Policy {
    VolatileLru,
    VolatileLfu,
    VolatileRandom,
    VolatileTtl,
    AllkeysLru,
    AllkeysLfu,
    AllkeysRandom,
    #[default]
    NoEviction,
}

impl Policy {
    /// Redis's `MAXMEMORY_FLAG_LFU`.
    pub fn is_lfu(self) -> bool {
        matches!(self, Policy::VolatileLfu | Policy::AllkeysLfu)
    }

    fn is_lru(self) -> bool {
        matches!(self, Policy::VolatileLru | Policy::AllkeysLru)
    }

    /// Redis's `MAXMEMORY_FLAG_ALLKEYS`: candidates are all keys, not only those with a TTL.
    fn allkeys(self) -> bool {
        matches!(
            self,
            Policy::AllkeysLru | Policy::AllkeysLfu | Policy::AllkeysRandom
        )
    }

    /// Policies that pick from the eviction pool (the rest pick at random).
    fn uses_pool(self) -> bool {
        self.is_lru() || self.is_lfu() || self == Policy::VolatileTtl
    }
}

/// The eviction settings (`maxmemory*`, `lfu-*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EvictConfig {
    /// `maxmemory` in bytes; 0 = no limit.
    pub maxmemory: u64,
    pub policy: Policy,
    /// `maxmemory-samples`: keys sampled per db per pool refill.
    pub samples: usize,
    /// `maxmemory-eviction-tenacity` (0..=100): how long one call may evict.
    pub tenacity: u32,
    /// `lfu-log-factor`.
    pub lfu_log_factor: u32,
    /// `lfu-decay-time`, minutes (0 = never decay).
    pub lfu_decay_time: u32,
}

impl Default for EvictConfig {
    fn default() -> Self {
        EvictConfig {
            maxmemory: 0,
            policy: Policy::NoEviction,
            samples: 5,
            tenacity: 10,
            lfu_log_factor: 10,
            lfu_decay_time: 1,
        }
    }
}

/// What [`Engine::perform_evictions`] found (Redis's `EVICT_OK` / `EVICT_RUNNING` /
/// `EVICT_FAIL`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EvictOutcome {
    /// Under the limit (or no limit).
    Ok,
    /// Over the limit, evicting, out of time for this call: the loop continues.
    Running,
    /// Over the limit and nothing can be evicted (noeviction, or no candidate keys): the
    /// gate refuses `denyoom` commands.
    Fail,
}

/// Redis's `EVPOOL_SIZE`.
pub const EVPOOL_SIZE: usize = 16;

/// Redis's `estimateObjectIdleTime`, in ms.
pub fn idle_ms(lru: u32, now_ms: i64) -> u64 {
    let now = lru_clock(now_ms) as u64;
    let lru = lru as u64;
    let ticks = if now >= lru {
        now - lru
    } else {
        now + (LRU_CLOCK_MAX as u64 - lru)
    };
    ticks * LRU_CLOCK_RESOLUTION as u64
}

/// Redis's `evictionTimeLimitUs`: tenacity 0..=10 is linear up to 500 µs, then a 15%
/// geometric progression (about 2 minutes at 99); 100 is unlimited.
pub fn time_limit(tenacity: u32) -> Option<Duration> {
    let us = if tenacity <= 10 {
        50 * tenacity as u64
    } else if tenacity < 100 {
        (500.0 * 1.15f64.powi(tenacity as i32 - 10)) as u64
    } else {
        return None;
    };
    Some(Duration::from_micros(us))
}

/// One slot of the eviction pool. The key buffer is kept across uses (Redis's `cached`
/// sds), so refilling the pool allocates only for keys longer than any seen before.
#[derive(Debug, Default)]
struct PoolEntry {
    /// Higher is a better candidate (idle ms, 255 - frequency, or the inverse deadline).
    score: u64,
    db: usize,
    key: Vec<u8>,
    used: bool,
}

/// The eviction pool and counters, kept by the engine between calls.
#[derive(Debug)]
pub struct EvictState {
    /// Sorted by score ascending among used slots; used slots come first.
    pool: Vec<PoolEntry>,
    /// Where the random policies look next (Redis's static `next_db`).
    next_db: usize,
    /// A call ran out of time with memory still over the limit: the loop should call again.
    pub running: bool,
    /// INFO `evicted_keys`.
    pub evicted_keys: u64,
    /// Since when memory has been over the limit (a call ended Running or Fail), for INFO
    /// `current_eviction_exceeded_time`.
    pub exceeded_since: Option<Instant>,
    /// Time spent over the limit in earlier episodes (INFO
    /// `total_eviction_exceeded_time` adds the current one).
    pub exceeded_total: Duration,
    /// Scratch for the key being deleted.
    victim: Vec<u8>,
}

impl Default for EvictState {
    fn default() -> Self {
        EvictState {
            pool: (0..EVPOOL_SIZE).map(|_| PoolEntry::default()).collect(),
            next_db: 0,
            running: false,
            evicted_keys: 0,
            exceeded_since: None,
            exceeded_total: Duration::ZERO,
            victim: Vec::new(),
        }
    }
}

impl EvictState {
    /// Redis's `update_metrics` at the end of `performEvictions`: an episode over the limit
    /// starts with the first call that could not get under it and ends with one that did.
    fn track(&mut self, outcome: EvictOutcome) -> EvictOutcome {
        match outcome {
            EvictOutcome::Ok => {
                if let Some(t) = self.exceeded_since.take() {
                    self.exceeded_total += t.elapsed();
                }
            }
            _ => {
                self.exceeded_since.get_or_insert_with(Instant::now);
            }
        }
        outcome
    }

    /// INFO `current_eviction_exceeded_time`.
    pub fn current_exceeded(&self) -> Duration {
        self.exceeded_since.map_or(Duration::ZERO, |t| t.elapsed())
    }

    /// INFO `total_eviction_exceeded_time`.
    pub fn total_exceeded(&self) -> Duration {
        self.exceeded_total + self.current_exceeded()
    }

    /// Redis's `evictionPoolPopulate` insertion of one sampled key.
    fn offer(&mut self, db: usize, key: &[u8], score: u64) {
        let pool = &mut self.pool;
        let mut k = 0;
        while k < EVPOOL_SIZE && pool[k].used && pool[k].score < score {
            k += 1;
        }
        if k == 0 && pool[EVPOOL_SIZE - 1].used {
            // Worse than the worst candidate and no room.
            return;
        } else if k < EVPOOL_SIZE && !pool[k].used {
            // An empty slot: take it.
        } else if !pool[EVPOOL_SIZE - 1].used {
            // Room on the right: shift k.. right by one (the free last slot moves to k).
            pool[k..].rotate_right(1);
        } else {
            // Full: drop the worst (slot 0), shift 1..k left, insert at k - 1.
            k -= 1;
            pool[..=k].rotate_left(1);
        }
        let e = &mut pool[k];
        e.key.clear();
        e.key.extend_from_slice(key);
        e.score = score;
        e.db = db;
        e.used = true;
    }
}

/// The score of one sampled key under `policy` (higher = evict sooner).
fn score(policy: Policy, e: &Entry, now_ms: i64, decay_time: u32) -> u64 {
    if policy.is_lru() {
        idle_ms(e.lru, now_ms)
    } else if policy.is_lfu() {
        255 - lfu_decr_and_return(e.lru, now_ms, decay_time) as u64
    } else {
        // volatile-ttl: the sooner the deadline, the better.
        u64::MAX - e.expire_at().unwrap_or(i64::MAX) as u64
    }
}

impl Engine {
    /// Redis's `performEvictions`: if the memory `used(self)` reports is over `maxmemory`,
    /// evicts keys by the policy until enough was freed, for at most the tenacity's time
    /// limit (then [`EvictState::running`] stays set and the caller calls again later).
    pub fn perform_evictions(&mut self, used: &dyn Fn(&Engine) -> usize) -> EvictOutcome {
        let outcome = self.evict_round(used);
        self.evict.track(outcome)
    }

    fn evict_round(&mut self, used: &dyn Fn(&Engine) -> usize) -> EvictOutcome {
        let cfg = self.config.evict;
        if cfg.maxmemory == 0 {
            self.evict.running = false;
            return EvictOutcome::Ok;
        }
        let mem = used(self) as u64;
        if mem <= cfg.maxmemory {
            self.evict.running = false;
            return EvictOutcome::Ok;
        }
        if cfg.policy == Policy::NoEviction {
            self.evict.running = false;
            return EvictOutcome::Fail;
        }
        let to_free = (mem - cfg.maxmemory) as i64;
        let limit = time_limit(cfg.tenacity);
        let start = Instant::now();
        let now = self.now_ms();
        let mut freed: i64 = 0;
        let mut keys_freed: u64 = 0;
        while freed < to_free {
            let Some(db) = self.pick_victim(cfg, now) else {
                self.evict.running = false;
                return EvictOutcome::Fail;
            };
            let victim = std::mem::take(&mut self.evict.victim);
            let before = used(self) as i64;
            self.dbs[db].evict(&victim);
            freed += before - used(self) as i64;
            self.evict.evicted_keys += 1;
            self.watches.touch(db, &victim, false);
            self.blocking.signal_ready(db, &victim);
            self.notify(db, notify::EVICTED, "evicted", &victim);
            // Each evicted key is its own execution unit (Redis's propagatePendingCommands
            // after each DEL): never wrapped in MULTI with the command that follows.
            self.propagation.add(db, &[b"DEL", &victim]);
            self.propagation.end_unit(false);
            self.evict.victim = victim;
            keys_freed += 1;
            if keys_freed.is_multiple_of(16) && limit.is_some_and(|l| start.elapsed() > l) {
                self.evict.running = true;
                return EvictOutcome::Running;
            }
        }
        self.evict.running = false;
        EvictOutcome::Ok
    }

    /// Chooses the next key to evict into `self.evict.victim`; returns its db, or `None`
    /// when no key qualifies.
    fn pick_victim(&mut self, cfg: EvictConfig, now: i64) -> Option<usize> {
        let allkeys = cfg.policy.allkeys();
        if cfg.policy.uses_pool() {
            loop {
                let mut total = 0;
                for (i, db) in self.dbs.iter().enumerate() {
                    let n = if allkeys { db.len() } else { db.expires_len() };
                    if n == 0 {
                        continue;
                    }
                    total += n;
                    populate(&mut self.evict, i, db, cfg, now);
                }
                if total == 0 {
                    return None;
                }
                // Best (highest score) first; a pooled key deleted since is a ghost.
                for k in (0..EVPOOL_SIZE).rev() {
                    let st = &mut self.evict;
                    if !st.pool[k].used {
                        continue;
                    }
                    st.pool[k].used = false;
                    let db = st.pool[k].db;
                    let Some(d) = self.dbs.get(db) else { continue };
                    let key = &st.pool[k].key;
                    let live = if allkeys {
                        d.dict.contains_key(key)
                    } else {
                        d.expires.contains_key(key)
                    };
                    if live {
                        st.victim.clear();
                        st.victim.extend_from_slice(key);
                        return Some(db);
                    }
                }
            }
        }
        // allkeys-random / volatile-random: one key from the next non-empty db.
        let n = self.dbs.len();
        for _ in 0..n {
            self.evict.next_db = self.evict.next_db.wrapping_add(1);
            let j = self.evict.next_db % n;
            let d = &self.dbs[j];
            let key = if allkeys {
                d.dict.random().map(|(k, _)| k)
            } else {
                d.expires.random().map(|(k, _)| k)
            };
            if let Some(k) = key {
                self.evict.victim.clear();
                self.evict.victim.extend_from_slice(k);
                return Some(j);
            }
        }
        None
    }

    /// Re-reads the eviction settings into the dbs (whether reads bump the LFU counter):
    /// at start and after each config change.
    pub fn refresh_policy(&mut self) {
        let e = self.config.evict;
        let lfu = e.policy.is_lfu().then_some(LfuParams {
            log_factor: e.lfu_log_factor,
            decay_time: e.lfu_decay_time,
        });
        for db in &mut self.dbs {
            db.lfu = lfu;
        }
    }
}

/// Redis's `evictionPoolPopulate` for one db: sample `samples` keys (all keys or those with
/// a TTL) and offer each to the pool.
fn populate(st: &mut EvictState, i: usize, db: &Db, cfg: EvictConfig, now: i64) {
    let samples = cfg.samples.max(1);
    if cfg.policy.allkeys() {
        db.dict.some_keys(samples, &mut |k, e| {
            st.offer(i, k, score(cfg.policy, e, now, cfg.lfu_decay_time));
        });
    } else {
        db.expires.some_keys(samples, &mut |k, _| {
            if let Some(e) = db.dict.get(k) {
                st.offer(i, k, score(cfg.policy, e, now, cfg.lfu_decay_time));
            }
        });
    }
}

#[cfg(test)]
#[path = "evict_tests.rs"]
mod tests;
