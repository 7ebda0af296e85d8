//! One logical database (`SELECT n`): the keyspace dict plus the index of keys with a TTL.
//!
//! Every access to a key goes through the functions here. They are the one place for:
//! lazy expiry (a key past its deadline is deleted when touched and reported as missing),
//! the LRU clock used by `OBJECT IDLETIME`, and the write hook [`Db::before_write`] which a
//! later issue uses for copy-on-write snapshots (the entry's `epoch`), WATCH and keyspace
//! notifications. Commands never reach into the dict directly.
//!
//! Invariants:
//! - a key is in `expires` if and only if its entry's `expire_at()` is `Some(_)`;
//! - a key is expired when `now_ms > expire_at` (Redis's `keyIsExpired`: the deadline
//!   millisecond itself is still alive);
//! - `expired_keys`, `hits` and `misses` are monotonic counters (only CONFIG RESETSTAT zeroes
//!   them, through [`Db::reset_stats`]); FLUSHDB and SWAPDB do not reset them. INFO reports
//!   the engine-wide sums (`Engine::expired_keys()`, `Engine::keyspace_hits()`…), so counting
//!   per db needs no access to the engine from here.
//!
//! Which lookup to use (Redis's lookup flags):
//! - [`Db::lookup_read`]: read commands (GET, LRANGE…): touches LRU, counts a hit or miss.
//! - [`Db::peek`] / [`Db::exists`]: reads that must not touch the LRU clock (TYPE, TTL,
//!   OBJECT, EXISTS: `LOOKUP_NOTOUCH`): counts a hit or miss.
//! - [`Db::lookup_write`]: read-modify-write commands (INCR, APPEND, LPUSH…): runs the write
//!   hook, touches LRU, no stats (as Redis's `LOOKUP_WRITE`).
//! - [`Db::lookup_notouch`] / [`Db::contains`]: no LRU touch and no stats: existence checks
//!   inside write commands (SET NX, MSETNX, RENAMENX, MOVE/COPY destinations).

use crate::dict::{Dict, Key, Lookup};
use crate::object::Value;

/// Redis's `LRU_BITS`: the LRU clock wraps at 2^24 seconds (~194 days).
pub const LRU_CLOCK_MAX: u32 = (1 << 24) - 1;
/// Redis's `LRU_CLOCK_RESOLUTION`, in ms.
pub const LRU_CLOCK_RESOLUTION: i64 = 1000;

/// The 24-bit LRU clock at `now_ms` (Redis's `getLRUClock`).
#[inline]
pub fn lru_clock(now_ms: i64) -> u32 {
    ((now_ms / LRU_CLOCK_RESOLUTION) as u64 & LRU_CLOCK_MAX as u64) as u32
}

/// `OBJECT IDLETIME`: seconds since the entry was last touched (Redis's
/// `estimateObjectIdleTime` / 1000, including its wrap-around handling).
pub fn idle_seconds(entry: &Entry, now_ms: i64) -> u64 {
    let now = lru_clock(now_ms) as u64;
    let lru = entry.lru as u64;
    let ticks = if now >= lru {
        now - lru
    } else {
        now + (LRU_CLOCK_MAX as u64 - lru)
    };
    ticks * LRU_CLOCK_RESOLUTION as u64 / 1000
}

/// A keyspace entry. `epoch` is the id of the last snapshot that serialized this entry
/// (fork-free snapshots compare it against the running snapshot's epoch before a write).
///
/// 48 bytes: the expiry is an `i64` with a sentinel rather than an `Option<i64>` (16 bytes),
/// which puts a small key's dict node in jemalloc's 80-byte class instead of 96.
#[derive(Debug)]
pub struct Entry {
    pub value: Value,
    /// Absolute expiry in Unix milliseconds, or [`NO_EXPIRE`]; read it with `expire_at()`.
    expire: i64,
    /// LRU clock (seconds resolution, as Redis's 24-bit clock) of the last access.
    pub lru: u32,
    pub epoch: u32,
}

/// `Entry::expire` of a key without a TTL. Never a real deadline: a deadline in the past
/// deletes the key instead of being stored.
const NO_EXPIRE: i64 = i64::MIN;

impl Entry {
    pub fn new(value: Value, lru: u32) -> Entry {
        Entry {
            value,
            expire: NO_EXPIRE,
            lru,
            epoch: 0,
        }
    }

    /// Absolute expiry in Unix milliseconds, if the key has a TTL.
    #[inline]
    pub fn expire_at(&self) -> Option<i64> {
        (self.expire != NO_EXPIRE).then_some(self.expire)
    }

    /// Sets or clears the expiry, returning the previous one. Callers keep the TTL index in
    /// step (only `Db` does).
    #[inline]
    fn replace_expire(&mut self, at: Option<i64>) -> Option<i64> {
        let old = self.expire_at();
        self.expire = at.unwrap_or(NO_EXPIRE);
        old
    }

    /// Whether the entry is logically expired at `now_ms`.
    #[inline]
    pub fn is_expired(&self, now_ms: i64) -> bool {
        self.expire != NO_EXPIRE && now_ms > self.expire
    }
}

/// What the db log (`Db::take_expired_log`) says happened to a key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum KeyEvent {
    /// Deleted because it expired.
    Expired,
    /// A read lookup (one that counts hits and misses) did not find it.
    Miss,
    /// Added to the keyspace.
    New,
}

/// Appends one entry to a db's event log (see `Db::expired_log`).
#[inline]
fn push_event(keys: &mut Vec<u8>, lens: &mut Vec<(KeyEvent, usize)>, kind: KeyEvent, key: &[u8]) {
    keys.extend_from_slice(key);
    lens.push((kind, key.len()));
}

/// One database.
pub struct Db {
    pub id: usize,
    // Implementation detail of the dict/db owner: the main dict and the TTL index.
    pub(crate) dict: Dict<Entry>,
    pub(crate) expires: Dict<()>,
    /// Keys deleted because they expired (lazy and active), for INFO `expired_keys`.
    pub expired_keys: u64,
    /// Read lookups that found / did not find their key (INFO `keyspace_hits`/`_misses`).
    pub hits: u64,
    pub misses: u64,
    pub(crate) avg_ttl: i64,
    /// The active expiry cycle's position in `expires` (a SCAN cursor, see
    /// [`Db::active_expire_step`]).
    pub(crate) expires_cursor: u64,
    /// The latest time (Unix ms) this db was told about (every lookup passes `now_ms`, the
    /// cron refreshes it); stamps entries created by [`Db::set`], which takes no time, as
    /// Redis stamps new objects with its cached `server.lruclock`.
    now_ms: i64,
    /// Set under an LFU `maxmemory-policy` (by `Engine::refresh_policy`): reads bump the
    /// entry's LFU counter instead of stamping the LRU clock, new keys start at
    /// `LFU_INIT_VAL` (see [`crate::lfu`]).
    pub(crate) lfu: Option<crate::lfu::LfuParams>,
    /// State of the LFU counter's random draws (a per-db generator: no thread-local access
    /// on the read path).
    lfu_rng: u64,
    /// Scratch for the active expiry cycle: keys found expired while scanning `expires`
    /// (concatenated, with their lengths), deleted after the scan. Kept to avoid allocating
    /// per cycle.
    expire_scratch: Vec<u8>,
    expire_scratch_lens: Vec<usize>,
    /// Record keys deleted by expiry in `expired_log` (set by the engine while something
    /// listens: a WATCH on this db, `expired` notifications, propagation). Off, expiry copies
    /// nothing.
    pub(crate) log_expired: bool,
    /// Record read lookups that missed (`keymiss` events wanted) and keys added to the
    /// keyspace (`new` events wanted) in the same log.
    pub(crate) log_keymiss: bool,
    pub(crate) log_new: bool,
    /// Expiry is paused (CLIENT PAUSE, as Redis 7.0's `expireIfNeeded`): an expired key
    /// reads as missing but is not deleted (no event, no DEL) until the pause ends.
    pub(crate) expire_paused: bool,
    /// The master's commands run on a replica: its keys are never expired for them (the
    /// master decides, and sends DELs), as Redis 7.0's `expireIfNeeded` for `server.master`.
    pub(crate) expire_obey: bool,
    /// What lookups and inserts did since the engine last drained the log
    /// (`Engine::flush_expired`), in order, keys concatenated with their kind and length: a
    /// key deleted by expiry becomes an `expired` event, a WATCH touch and a propagated DEL
    /// (Redis's `deleteExpiredKeyAndPropagate`); a miss a `keymiss` event (`lookupKey`); an
    /// insert a `new` event (`dbAdd`). One log keeps their relative order, as Redis raises
    /// them in place. Buffers are reused, so steady state allocates nothing.
    expired_log: Vec<u8>,
    expired_log_lens: Vec<(KeyEvent, usize)>,
    /// The running snapshot's hook, if one runs (see [`SnapshotHook`]).
    pub(crate) snapshot: Option<SnapshotRef>,
    /// The epoch new entries are stamped with: the running (or latest) snapshot's, so a
    /// snapshot never writes a key created after it started.
    pub(crate) new_epoch: u32,
}

/// A fork-free snapshot's side of the write hook (the serializer lives in `persist`; the
/// engine only calls it). Invariant kept with [`Db::before_write`]: while a snapshot with
/// epoch E runs, an entry with `epoch < E` holds exactly its value at the snapshot's start,
/// and the hook is called with it before it changes or goes away.
pub trait SnapshotHook {
    /// `entry` (in live db `db`) is about to change or be deleted and has not been written
    /// yet: write it now. The db then stamps it with the snapshot's epoch.
    fn preserve(&mut self, db: usize, key: &[u8], entry: &Entry);
    /// `entry`, not written yet, is being deleted because it expired (lazily or by the
    /// active cycle). The snapshot may leave it out (a loader drops an expired key), but a
    /// value it has half-written must be finished, or the stream would break.
    fn expired(&mut self, db: usize, key: &[u8], entry: &Entry);
    /// Live db `db` is being emptied (FLUSHDB, FLUSHALL): the snapshot takes its dict, whose
    /// unwritten entries it still has to write, instead of each entry being preserved.
    fn adopt(&mut self, db: usize, dict: Dict<Entry>, expires: Dict<()>);
    /// Live dbs `a` and `b` were swapped (SWAPDB).
    fn swapped(&mut self, a: usize, b: usize);
}

/// A shared handle on the running snapshot: every db holds one while it runs, and the loop
/// drives the walk through another. One thread: `RefCell`, never contended.
pub type SnapshotRef = (u32, std::rc::Rc<std::cell::RefCell<dyn SnapshotHook>>);

impl Db {
    pub fn new(id: usize) -> Db {
        Db {
            id,
            dict: Dict::new(),
            expires: Dict::new(),
            expired_keys: 0,
            hits: 0,
            misses: 0,
            avg_ttl: 0,
            expires_cursor: 0,
            now_ms: 0,
            lfu: None,
            lfu_rng: 0x9e37_79b9_7f4a_7c15 ^ id as u64,
            expire_scratch: Vec::new(),
            expire_scratch_lens: Vec::new(),
            log_expired: false,
            log_keymiss: false,
            log_new: false,
            expire_paused: false,
            expire_obey: false,
            expired_log: Vec::new(),
            expired_log_lens: Vec::new(),
            snapshot: None,
            new_epoch: 0,
        }
    }

    /// Notes a key deleted by expiry for the engine (see `expired_log`).
    #[inline]
    fn record_expired(&mut self, key: &[u8]) {
        if self.log_expired {
            self.record(KeyEvent::Expired, key);
        }
    }

    /// Notes a key added to the keyspace (Redis's `new`, raised by `dbAdd`).
    #[inline]
    fn record_new(&mut self, key: &[u8]) {
        if self.log_new {
            self.record(KeyEvent::New, key);
        }
    }

    fn record(&mut self, kind: KeyEvent, key: &[u8]) {
        push_event(&mut self.expired_log, &mut self.expired_log_lens, kind, key);
    }

    /// Whether keys deleted by expiry wait in the log.
    #[inline]
    pub(crate) fn has_expired_log(&self) -> bool {
        !self.expired_log_lens.is_empty()
    }

    /// Takes the expired-key log (keys concatenated, lengths); hand the buffers back with
    /// [`Db::return_expired_log`] so their capacity is reused.
    pub(crate) fn take_expired_log(&mut self) -> (Vec<u8>, Vec<(KeyEvent, usize)>) {
        (
            std::mem::take(&mut self.expired_log),
            std::mem::take(&mut self.expired_log_lens),
        )
    }

    pub(crate) fn return_expired_log(
        &mut self,
        mut keys: Vec<u8>,
        mut lens: Vec<(KeyEvent, usize)>,
    ) {
        keys.clear();
        lens.clear();
        // Keys logged while the taken buffers were out (none today) are kept.
        if self.expired_log_lens.is_empty() {
            self.expired_log = keys;
            self.expired_log_lens = lens;
        }
    }

    /// The raw entry for `key`, expired or not, without lazy expiry, LRU touch or stats
    /// (WATCH's `keyIsExpired` / `dictFind` probes).
    pub fn entry_raw(&self, key: &[u8]) -> Option<&Entry> {
        self.dict.get(key)
    }

    /// Number of keys (including logically expired ones not yet reclaimed, as Redis's DBSIZE).
    pub fn len(&self) -> usize {
        self.dict.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Number of keys with a TTL.
    pub fn expires_len(&self) -> usize {
        self.expires.len()
    }

    /// Average TTL in ms of the keys sampled by the active expiry cycle (INFO keyspace
    /// `avg_ttl`); 0 when unknown.
    pub fn avg_ttl(&self) -> i64 {
        self.avg_ttl
    }

    /// Remembers the current time for LRU stamps of new entries.
    #[inline]
    pub fn update_clock(&mut self, now_ms: i64) {
        self.now_ms = now_ms;
    }

    /// The `lru` field of an entry created now: the LRU clock, or a fresh LFU counter.
    #[inline]
    fn new_stamp(&self) -> u32 {
        if self.lfu.is_some() {
            crate::lfu::lfu_new(self.now_ms)
        } else {
            lru_clock(self.now_ms)
        }
    }

    /// Redis's access touch: the LRU clock, or under LFU the decayed and log-incremented
    /// counter.
    #[inline]
    fn touch(lfu: Option<crate::lfu::LfuParams>, rng: &mut u64, e: &mut Entry, now_ms: i64) {
        match lfu {
            None => e.lru = lru_clock(now_ms),
            Some(p) => {
                // xorshift64: a uniform draw in [0, 1) for LFULogIncr.
                let mut x = *rng;
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                *rng = x;
                let r = (x >> 11) as f64 / (1u64 << 53) as f64;
                e.lru = crate::lfu::lfu_touch(e.lru, now_ms, p, r);
            }
        }
    }

    /// Gives `key` the access data `lru` (an LRU stamp or LFU counter) of the value it now
    /// holds, moved from elsewhere (RENAME, MOVE: Redis moves the same object). Not a write
    /// a snapshot must see: snapshots do not store access data.
    pub fn set_lru(&mut self, key: &[u8], lru: u32) {
        if let Some(e) = self.dict.get_mut(key) {
            e.lru = lru;
        }
    }

    /// Sets an entry's access data as RESTORE's IDLETIME / FREQ and a loaded file's
    /// LRU/LFU opcodes ask (Redis's `objectSetLRUOrLFU`): a frequency counts under an LFU
    /// policy, an idle time under the others. True if one was applied.
    pub fn set_lru_or_lfu(&mut self, key: &[u8], freq: Option<u8>, idle_secs: Option<i64>) -> bool {
        let now = self.now_ms;
        let lfu = self.lfu.is_some();
        let Some(e) = self.dict.get_mut(key) else {
            return false;
        };
        match (lfu, freq, idle_secs) {
            (true, Some(f), _) => {
                e.lru = (crate::lfu::lfu_minutes(now) << 8) | f as u32;
                true
            }
            (false, _, Some(idle)) if idle >= 0 => {
                let clock = lru_clock(now) as i64;
                let idle = idle.min(LRU_CLOCK_MAX as i64);
                let mut abs = clock - idle;
                if abs < 0 {
                    abs = (clock + (LRU_CLOCK_MAX as i64 - idle)) & LRU_CLOCK_MAX as i64;
                }
                e.lru = abs as u32;
                true
            }
            _ => false,
        }
    }

    /// The lookup shared by every flavour: lazy expiry in the same dict walk, then LRU touch
    /// and hit/miss counting as asked.
    #[inline]
    fn lookup(
        &mut self,
        key: &[u8],
        now_ms: i64,
        touch: bool,
        stats: bool,
        keymiss: bool,
    ) -> Option<&mut Entry> {
        self.now_ms = now_ms;
        let paused = self.expire_paused;
        let obey = self.expire_obey;
        match self
            .dict
            .lookup_or_evict(key, |e| !paused && !obey && e.is_expired(now_ms))
        {
            // While expiry is paused an expired key stays, reading as missing; to a
            // replica's master it is still there.
            Lookup::Found(e) if obey || !(paused && e.is_expired(now_ms)) => {
                if touch {
                    Self::touch(self.lfu, &mut self.lfu_rng, e, now_ms);
                }
                self.hits += stats as u64;
                return Some(e);
            }
            Lookup::Found(_) => {}
            Lookup::Evicted(k, e) => {
                // Lazy expiry: the engine turns the log into the event, WATCH touch and DEL.
                if let Some((epoch, hook)) = &self.snapshot
                    && e.epoch < *epoch
                {
                    hook.borrow_mut().expired(self.id, &k, &e);
                }
                self.expires.remove(&k);
                self.expired_keys += 1;
                // Field by field: the Found arm's borrow of the dict rules out `&mut self`.
                if self.log_expired {
                    push_event(
                        &mut self.expired_log,
                        &mut self.expired_log_lens,
                        KeyEvent::Expired,
                        &k,
                    );
                }
            }
            Lookup::Missing => {}
        }
        // A miss, whether the key was absent or has just expired.
        if stats {
            self.misses += 1;
            if keymiss && self.log_keymiss {
                push_event(
                    &mut self.expired_log,
                    &mut self.expired_log_lens,
                    KeyEvent::Miss,
                    key,
                );
            }
        }
        None
    }

    /// Looks a key up for reading: deletes it if expired (lazy expiry), touches the LRU clock,
    /// counts a keyspace hit or miss.
    pub fn lookup_read(&mut self, key: &[u8], now_ms: i64) -> Option<&mut Entry> {
        self.lookup(key, now_ms, true, true, true)
    }

    /// Looks a key up without touching its LRU clock (TYPE, TTL, OBJECT, EXISTS), with lazy
    /// expiry and hit/miss counting (Redis's `LOOKUP_NOTOUCH`).
    pub fn peek(&mut self, key: &[u8], now_ms: i64) -> Option<&mut Entry> {
        self.lookup(key, now_ms, false, true, true)
    }

    /// [`Db::peek`] that raises no `keymiss` event on a miss (Redis's OBJECT:
    /// `LOOKUP_NOTOUCH|LOOKUP_NONOTIFY`; the miss is still counted).
    pub fn peek_nonotify(&mut self, key: &[u8], now_ms: i64) -> Option<&mut Entry> {
        self.lookup(key, now_ms, false, true, false)
    }

    /// Looks a key up with lazy expiry only: no LRU touch, no hit/miss counting.
    pub fn lookup_notouch(&mut self, key: &[u8], now_ms: i64) -> Option<&mut Entry> {
        self.lookup(key, now_ms, false, false, false)
    }

    /// Looks a key up for writing: the write hook, lazy expiry, then the entry (LRU touched,
    /// no hit/miss stats, as Redis's `lookupKeyWrite`).
    pub fn lookup_write(&mut self, key: &[u8], now_ms: i64) -> Option<&mut Entry> {
        // The hook runs before the lookup so that it also covers the lazy deletion of an
        // expired key, which is a write too.
        self.before_write(key);
        self.lookup(key, now_ms, true, false, false)
    }

    /// A shared borrow of an entry with no expiry check and no stats, for commands that
    /// already looked their keys up (lazy expiry done) and now need several values at once
    /// (SINTER, SUNION, SDIFF).
    pub fn get_ref(&self, key: &[u8]) -> Option<&Entry> {
        self.dict.get(key)
    }

    /// Whether the key exists and is not expired (does not touch the LRU clock, like
    /// `lookupKeyReadWithFlags(LOOKUP_NOTOUCH)`); counts a hit or miss (the EXISTS command).
    pub fn exists(&mut self, key: &[u8], now_ms: i64) -> bool {
        self.peek(key, now_ms).is_some()
    }

    /// Whether the key exists and is not expired, with no LRU touch and no stats: existence
    /// checks inside write commands (SET NX, MSETNX, RENAMENX, destinations).
    pub fn contains(&mut self, key: &[u8], now_ms: i64) -> bool {
        self.lookup_notouch(key, now_ms).is_some()
    }

    /// Deletes `key` if it is logically expired (SCAN's filter); true if it was.
    pub fn expire_if_needed(&mut self, key: &[u8], now_ms: i64) -> bool {
        if self.expire_obey {
            return false;
        }
        let expired = self.dict.get(key).is_some_and(|e| e.is_expired(now_ms));
        if expired && !self.expire_paused {
            self.before_write(key);
            self.delete_expired(key);
        }
        expired
    }

    /// Removes an expired key from both dicts and counts it.
    fn delete_expired(&mut self, key: &[u8]) {
        if let Some((k, e)) = self.dict.remove(key) {
            if let Some((epoch, hook)) = &self.snapshot
                && e.epoch < *epoch
            {
                hook.borrow_mut().expired(self.id, &k, &e);
            }
            self.expires.remove(key);
            self.expired_keys += 1;
            self.record_expired(key);
        }
    }

    /// Sets `key` to `value` (insert or overwrite, Redis's `setKey`). The TTL is removed unless
    /// `keep_ttl`. A new entry is stamped with the LRU clock of the last time this db saw
    /// (`update_clock` or any lookup); callers normally looked the key up first.
    pub fn set(&mut self, key: &[u8], value: Value, keep_ttl: bool) {
        if self.set_value(key, value, keep_ttl) {
            self.record_new(key);
        }
    }

    /// [`Db::set`] without the `new` event; true if the key was inserted.
    fn set_value(&mut self, key: &[u8], value: Value, keep_ttl: bool) -> bool {
        self.before_write(key);
        let lru = self.new_stamp();
        if let Some(e) = self.dict.get_mut(key) {
            e.value = value;
            // Under LFU an overwrite keeps the key's counter (Redis's dbSetValue).
            if self.lfu.is_none() {
                e.lru = lru;
            }
            if !keep_ttl && e.replace_expire(None).is_some() {
                self.expires.remove(key);
            }
            return false;
        }
        let mut e = Entry::new(value, lru);
        e.epoch = self.new_epoch;
        self.dict.insert_new(Key::new(key), e);
        true
    }

    /// Sets `key` to `value` with the given absolute expiry (or none), replacing whatever was
    /// there: RENAME, MOVE, COPY, RESTORE. Always a `new` event: Redis deletes an existing
    /// destination and `dbAdd`s the key.
    pub fn set_with_expire(&mut self, key: &[u8], value: Value, expire_at: Option<i64>) {
        self.set_value(key, value, false);
        self.record_new(key);
        if let Some(at) = expire_at {
            self.set_expire(key, at);
        }
    }

    /// Adds a key read from a file (RDB load, DEBUG RELOAD, an AOF's RDB preamble); false,
    /// and nothing changed, if the key exists already (a duplicate in the file).
    pub fn insert_loaded(&mut self, key: &[u8], value: Value, expire_at: Option<i64>) -> bool {
        if self.dict.contains_key(key) {
            return false;
        }
        self.set_value(key, value, false);
        if let Some(at) = expire_at {
            self.set_expire(key, at);
        }
        true
    }

    /// Sizes the tables for `keys` keys, `expires` of them volatile (RDB's RESIZEDB hint).
    pub fn reserve(&mut self, keys: u64, expires: u64) {
        let cap = |n: u64| usize::try_from(n).unwrap_or(usize::MAX).min(1 << 30);
        self.dict.expand(cap(keys));
        self.expires.expand(cap(expires));
    }

    /// Deletes a key; true if it existed (an expired key counts as not existing).
    pub fn delete(&mut self, key: &[u8], now_ms: i64) -> bool {
        self.take(key, now_ms).is_some()
    }

    /// Removes and returns a key's value and TTL (RENAME, MOVE).
    pub fn take(&mut self, key: &[u8], now_ms: i64) -> Option<(Value, Option<i64>)> {
        self.before_write(key);
        self.now_ms = now_ms;
        let (_, e) = self.dict.remove(key)?;
        if e.expire_at().is_some() {
            self.expires.remove(key);
            if e.is_expired(now_ms) {
                self.expired_keys += 1;
                self.record_expired(key);
                return None;
            }
        }
        let at = e.expire_at();
        Some((e.value, at))
    }

    /// MEMORY STATS: bytes of the main and expires tables' buckets and nodes.
    pub fn table_overhead(&self) -> (usize, usize) {
        (self.dict.table_overhead(), self.expires.table_overhead())
    }

    /// MEMORY USAGE: the bytes `key` takes (entry node, key, value; aggregates sampled on
    /// `samples` elements), found without expiry check or LRU touch, as Redis's `dictFind`.
    pub fn memory_usage(&self, key: &[u8], samples: usize) -> Option<usize> {
        let e = self.dict.get(key)?;
        let ttl = if e.expire_at().is_some() {
            self.expires.entry_bytes(key)
        } else {
            0
        };
        Some(self.dict.entry_bytes(key) + ttl + e.value.memory_usage(samples))
    }

    /// Deletes `key` for `maxmemory` (Redis's `dbSyncDelete` from `performEvictions`): the
    /// snapshot hook first, then both dicts. Expired or not, it counts as evicted (the
    /// caller counts). True if it existed.
    pub fn evict(&mut self, key: &[u8]) -> bool {
        self.before_write(key);
        if self.dict.remove(key).is_none() {
            return false;
        }
        self.expires.remove(key);
        true
    }

    /// Sets an absolute expiry on an existing key. Returns false if the key is missing.
    /// (No expiry check: the caller has just looked the key up.)
    pub fn set_expire(&mut self, key: &[u8], at_ms: i64) -> bool {
        self.before_write(key);
        let Some(e) = self.dict.get_mut(key) else {
            return false;
        };
        if e.replace_expire(Some(at_ms)).is_none() {
            // Invariant: no TTL on the entry means no key in `expires`; skip the lookup.
            self.expires.insert_new(Key::new(key), ());
        }
        true
    }

    /// Removes the TTL; true if there was one.
    pub fn persist(&mut self, key: &[u8]) -> bool {
        self.before_write(key);
        let had = self
            .dict
            .get_mut(key)
            .is_some_and(|e| e.replace_expire(None).is_some());
        if had {
            self.expires.remove(key);
        }
        had
    }

    /// Removes every key. A running snapshot takes the dicts as they are (it still has to
    /// write what they held when it started).
    pub fn clear(&mut self) {
        if let Some((_, hook)) = &self.snapshot {
            let dict = std::mem::take(&mut self.dict);
            let expires = std::mem::take(&mut self.expires);
            hook.borrow_mut().adopt(self.id, dict, expires);
        }
        self.dict.clear();
        self.expires.clear();
        self.avg_ttl = 0;
        self.expires_cursor = 0;
    }

    /// Zeroes the statistics counters (CONFIG RESETSTAT).
    pub fn reset_stats(&mut self) {
        self.expired_keys = 0;
        self.hits = 0;
        self.misses = 0;
    }

    /// One step of SCAN over the keyspace: calls `f` for each key in the visited buckets and
    /// returns the next cursor (0 when done). The cursor survives rehashing (reverse-binary).
    /// Expired keys are included: the caller filters them with [`Db::expire_if_needed`] as
    /// Redis's SCAN does.
    pub fn scan(&self, cursor: u64, f: &mut dyn FnMut(&[u8], &Entry)) -> u64 {
        self.dict.scan(cursor, f)
    }

    /// A random key (RANDOMKEY), skipping (and deleting) expired ones as Redis does.
    pub fn random_key(&mut self, now_ms: i64) -> Option<Vec<u8>> {
        let mut tries = 0;
        loop {
            let (k, e) = self.dict.random()?;
            if !e.is_expired(now_ms) {
                return Some(k.to_vec());
            }
            // Expiry paused: expired keys stay, so give up after 100 tries with one of them
            // rather than loop (what Redis 7.2 does; 7.0 could spin).
            if self.expire_paused {
                tries += 1;
                if tries >= 100 {
                    return Some(k.to_vec());
                }
                continue;
            }
            // Redis gives up after 100 tries only on replicas (which may not delete); we
            // always delete, so every retry shrinks the set of expired keys and this ends.
            let k = k.to_vec();
            self.before_write(&k);
            self.delete_expired(&k);
        }
    }

    /// All keys, for KEYS (the caller filters, and skips expired entries with
    /// [`Entry::is_expired`] as Redis's KEYS does without deleting them).
    pub fn for_each(&self, f: &mut dyn FnMut(&[u8], &Entry)) {
        for (k, e) in self.dict.iter() {
            f(k, e);
        }
    }

    /// The write hook: called before any mutation of an entry (including deletion), and by
    /// [`Db::lookup_write`] before a write that may not happen (the command can still fail,
    /// e.g. WRONGTYPE). While a snapshot runs, an entry it has not written yet (its `epoch`
    /// predates the snapshot's) is handed to the snapshot first (serialize-before-mutate;
    /// being early is harmless). Without a snapshot this is one branch.
    ///
    /// Keys deleted by expiry (lazy or active) go to [`SnapshotHook::expired`] instead: an
    /// expired key is one a loader drops anyway, so the snapshot may leave it out. WATCH and notifications need a "did
    /// write" signal from the command, so they are not hooked here.
    #[inline]
    pub fn before_write(&mut self, key: &[u8]) {
        if self.snapshot.is_some() {
            self.preserve_for_snapshot(key);
        }
    }

    #[cold]
    fn preserve_for_snapshot(&mut self, key: &[u8]) {
        let Some((epoch, hook)) = &self.snapshot else {
            return;
        };
        if let Some(e) = self.dict.get_mut(key)
            && e.epoch < *epoch
        {
            hook.borrow_mut().preserve(self.id, key, e);
            e.epoch = *epoch;
        }
    }

    /// The main dict, for a snapshot's walk (which stamps the entries it writes).
    pub fn dict_mut(&mut self) -> &mut Dict<Entry> {
        &mut self.dict
    }

    /// One bounded step of the active expiry cycle over this db: samples keys with a TTL and
    /// deletes expired ones. Returns (sampled, expired).
    ///
    /// Sampling walks `expires` with its SCAN cursor, a bucket at a time (Redis 7.0 walks the
    /// buckets in order with `expires_cursor` too, instead of the random sampling of older
    /// versions): over successive calls every volatile key is visited, so no key stays
    /// unreclaimed because the dice never picked it, and the reverse-binary cursor stays valid
    /// across rehashing. Visits whole buckets until `samples` keys are seen or `samples * 20`
    /// buckets are checked (sparse tables). Also updates `avg_ttl` as Redis does.
    pub fn active_expire_step(&mut self, now_ms: i64, samples: usize) -> (usize, usize) {
        let mut sampled = 0;
        let mut ttl_sum: i64 = 0;
        let mut ttl_samples: i64 = 0;
        let mut checked_buckets = 0;
        // Never more samples than keys, or a small index would be walked round and round.
        let samples = samples.min(self.expires.len());
        let max_buckets = samples.saturating_mul(20);
        self.expire_scratch.clear();
        self.expire_scratch_lens.clear();
        {
            let Db {
                dict,
                expires,
                expires_cursor,
                expire_scratch,
                expire_scratch_lens,
                ..
            } = self;
            while sampled < samples && checked_buckets < max_buckets && !expires.is_empty() {
                checked_buckets += 1;
                *expires_cursor = expires.scan(*expires_cursor, &mut |k, _| {
                    sampled += 1;
                    let Some(at) = dict.get(k).and_then(|e| e.expire_at()) else {
                        return;
                    };
                    let ttl = at.saturating_sub(now_ms);
                    if now_ms > at {
                        expire_scratch.extend_from_slice(k);
                        expire_scratch_lens.push(k.len());
                    } else if ttl > 0 {
                        ttl_sum = ttl_sum.saturating_add(ttl);
                        ttl_samples += 1;
                    }
                });
            }
        }
        let scratch = std::mem::take(&mut self.expire_scratch);
        let lens = std::mem::take(&mut self.expire_scratch_lens);
        let mut off = 0;
        for &len in &lens {
            let k = &scratch[off..off + len];
            off += len;
            self.before_write(k);
            // Logged for the engine, as lazy expiry: DEL propagation, notification, WATCH.
            self.delete_expired(k);
        }
        let expired = lens.len();
        self.expire_scratch = scratch;
        self.expire_scratch_lens = lens;
        if ttl_samples > 0 {
            let avg = ttl_sum / ttl_samples;
            // Running average weighted 2% for the new sample, as Redis.
            self.avg_ttl = if self.avg_ttl == 0 {
                avg
            } else {
                (self.avg_ttl / 50) * 49 + avg / 50
            };
        }
        (sampled, expired)
    }

    /// Whether sampling `expires` is currently too expensive: under 1% of its buckets used
    /// (Redis skips the db then, waiting for the cron to shrink the table).
    pub(crate) fn expires_too_sparse(&self) -> bool {
        let slots = self.expires.slots();
        slots > 4 && self.expires.len() * 100 / slots < 1
    }

    /// One incremental rehash step (a few buckets) of the dicts, for idle time. True if there
    /// was work to do.
    pub fn rehash_step(&mut self) -> bool {
        if self.dict.is_rehashing() {
            self.dict.rehash(100);
            true
        } else if self.expires.is_rehashing() {
            self.expires.rehash(100);
            true
        } else {
            false
        }
    }

    /// Redis's `incrementallyRehash`: rehash the main dict, or else the expires dict, for
    /// about `budget`. True if there was work to do.
    pub fn rehash_for(&mut self, budget: std::time::Duration) -> bool {
        if self.dict.is_rehashing() {
            self.dict.rehash_for(budget);
            true
        } else if self.expires.is_rehashing() {
            self.expires.rehash_for(budget);
            true
        } else {
            false
        }
    }

    /// Redis's `tryResizeHashTables`: start shrinking dicts that are under 10% full.
    pub fn try_shrink(&mut self) {
        self.dict.shrink_if_needed();
        self.expires.shrink_if_needed();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::object::Str;

    const T0: i64 = 1_767_225_600_000;

    fn v(s: &str) -> Value {
        Value::Str(Str::from_bytes(s.as_bytes()))
    }

    fn db_with(keys: &[&str]) -> Db {
        let mut db = Db::new(0);
        db.update_clock(T0);
        for k in keys {
            db.set(k.as_bytes(), v(k), false);
        }
        db
    }

    #[test]
    fn lazy_expiry_at_the_deadline_boundary() {
        let mut db = db_with(&["k"]);
        assert!(db.set_expire(b"k", T0 + 1000));
        assert_eq!(db.expires_len(), 1);
        // Alive through the deadline millisecond itself (`now > when` expires).
        assert!(db.lookup_read(b"k", T0 + 1000).is_some());
        assert_eq!(db.expired_keys, 0);
        assert!(db.lookup_read(b"k", T0 + 1001).is_none());
        assert_eq!((db.len(), db.expires_len(), db.expired_keys), (0, 0, 1));
        // A second touch of the vanished key does not count again.
        assert!(db.lookup_write(b"k", T0 + 2000).is_none());
        assert_eq!(db.expired_keys, 1);
    }

    #[test]
    fn every_lookup_flavour_expires_lazily() {
        type Probe = fn(&mut Db, &[u8], i64) -> bool;
        let probes: [Probe; 7] = [
            |d, k, t| d.lookup_read(k, t).is_some(),
            |d, k, t| d.lookup_write(k, t).is_some(),
            |d, k, t| d.peek(k, t).is_some(),
            |d, k, t| d.lookup_notouch(k, t).is_some(),
            |d, k, t| d.exists(k, t),
            |d, k, t| d.delete(k, t),
            |d, k, t| d.take(k, t).is_some(),
        ];
        for probe in probes {
            let mut db = db_with(&["k"]);
            db.set_expire(b"k", T0 + 10);
            assert!(!probe(&mut db, b"k", T0 + 11));
            assert_eq!((db.len(), db.expires_len(), db.expired_keys), (0, 0, 1));
        }
    }

    #[test]
    fn set_drops_ttl_unless_kept() {
        let mut db = db_with(&["a", "b"]);
        db.set_expire(b"a", T0 + 100);
        db.set_expire(b"b", T0 + 100);
        db.set(b"a", v("x"), false);
        db.set(b"b", v("y"), true);
        assert_eq!(db.lookup_read(b"a", T0).unwrap().expire_at(), None);
        assert_eq!(
            db.lookup_read(b"b", T0).unwrap().expire_at(),
            Some(T0 + 100)
        );
        assert_eq!(db.expires_len(), 1);
        assert!(db.persist(b"b"));
        assert!(!db.persist(b"b"));
        assert!(!db.persist(b"missing"));
        assert_eq!(db.expires_len(), 0);
        assert!(!db.set_expire(b"missing", T0));
    }

    #[test]
    fn take_and_set_with_expire_move_ttl() {
        let mut db = db_with(&["src"]);
        db.set_expire(b"src", T0 + 500);
        let (val, ttl) = db.take(b"src", T0).unwrap();
        assert_eq!(ttl, Some(T0 + 500));
        assert_eq!(db.expires_len(), 0);
        db.set_with_expire(b"dst", val, ttl);
        assert_eq!(db.expires_len(), 1);
        let e = db.lookup_read(b"dst", T0).unwrap();
        assert!(matches!(&e.value, Value::Str(s) if s.to_vec() == b"src"));
        assert_eq!(e.expire_at(), Some(T0 + 500));
        assert!(db.delete(b"dst", T0));
        assert!(!db.delete(b"dst", T0));
        assert_eq!(db.expires_len(), 0);
    }

    #[test]
    fn lru_idle_time_and_notouch() {
        let mut db = db_with(&["k"]);
        let e = db.lookup_notouch(b"k", T0 + 10_000).unwrap();
        assert_eq!(idle_seconds(e, T0 + 10_000), 10);
        let _ = db.peek(b"k", T0 + 20_000);
        let _ = db.exists(b"k", T0 + 20_000);
        let e = db.lookup_read(b"k", T0 + 20_000).unwrap();
        assert_eq!(idle_seconds(e, T0 + 20_000), 0);
        assert_eq!(idle_seconds(e, T0 + 25_999), 5);
        // Wrap-around of the 24-bit clock.
        e.lru = LRU_CLOCK_MAX - 5;
        let now = (LRU_CLOCK_MAX as i64 + 1 + 4) * 1000;
        assert_eq!(lru_clock(now), 4);
        assert_eq!(idle_seconds(e, now), 9);
    }

    #[test]
    fn hits_and_misses() {
        let mut db = db_with(&["k"]);
        db.lookup_read(b"k", T0);
        db.lookup_read(b"nope", T0);
        db.peek(b"k", T0);
        db.exists(b"nope", T0);
        // Write lookups and internal checks do not count.
        db.lookup_write(b"k", T0);
        db.lookup_notouch(b"nope", T0);
        db.contains(b"k", T0);
        assert_eq!((db.hits, db.misses), (2, 2));
        db.reset_stats();
        assert_eq!((db.hits, db.misses, db.expired_keys), (0, 0, 0));
    }

    #[test]
    fn random_key_skips_and_reclaims_expired() {
        let mut db = Db::new(0);
        assert_eq!(db.random_key(T0), None);
        for i in 0..20 {
            let k = format!("dead{i}");
            db.set(k.as_bytes(), v("x"), false);
            db.set_expire(k.as_bytes(), T0 - 1);
        }
        db.set(b"alive", v("x"), false);
        for _ in 0..10 {
            assert_eq!(db.random_key(T0).as_deref(), Some(&b"alive"[..]));
        }
        // All dead keys drawn before "alive" were deleted on the way.
        assert_eq!(db.len() as u64 + db.expired_keys, 21);
        let mut only_dead = db_with(&[]);
        only_dead.set(b"d", v("x"), false);
        only_dead.set_expire(b"d", T0 - 1);
        assert_eq!(only_dead.random_key(T0), None);
        assert_eq!(only_dead.len(), 0);
    }

    #[test]
    fn scan_and_for_each_see_every_key() {
        let keys: Vec<String> = (0..300).map(|i| format!("k{i}")).collect();
        let refs: Vec<&str> = keys.iter().map(|s| s.as_str()).collect();
        let db = db_with(&refs);
        let mut seen = std::collections::HashSet::new();
        let mut cursor = 0;
        loop {
            cursor = db.scan(cursor, &mut |k, _| {
                seen.insert(k.to_vec());
            });
            if cursor == 0 {
                break;
            }
        }
        assert_eq!(seen.len(), 300);
        let mut n = 0;
        db.for_each(&mut |_, _| n += 1);
        assert_eq!(n, 300);
    }

    #[test]
    fn active_expire_step_deletes_only_expired() {
        let mut db = Db::new(0);
        for i in 0..200 {
            let k = format!("k{i}");
            db.set(k.as_bytes(), v("x"), false);
            // Even keys are past their deadline, odd ones have 10 s left.
            let at = if i % 2 == 0 { T0 - 1 } else { T0 + 10_000 };
            db.set_expire(k.as_bytes(), at);
        }
        db.set(b"persistent", v("x"), false);
        let (mut sampled, mut expired) = (0, 0);
        for _ in 0..200 {
            let (s, e) = db.active_expire_step(T0, 20);
            assert!(s <= 20 + 8, "a step samples about `samples` keys, got {s}");
            sampled += s;
            expired += e;
        }
        assert!(sampled >= 200);
        assert_eq!(expired, 100);
        assert_eq!(db.expired_keys, 100);
        assert_eq!((db.len(), db.expires_len()), (101, 100));
        assert!(
            (9_000..=10_000).contains(&db.avg_ttl()),
            "avg_ttl {}",
            db.avg_ttl()
        );
        for i in (1..200).step_by(2) {
            assert!(db.lookup_read(format!("k{i}").as_bytes(), T0).is_some());
        }
    }

    #[test]
    fn clear_keeps_counters() {
        let mut db = db_with(&["a"]);
        db.set_expire(b"a", T0 - 1);
        db.lookup_read(b"a", T0);
        db.set(b"b", v("x"), false);
        db.clear();
        assert_eq!((db.len(), db.expires_len(), db.expired_keys), (0, 0, 1));
    }
}
