//! One logical database (`SELECT n`): the keyspace dict plus the index of keys with a TTL.
//!
//! Every access to a key goes through the functions here. They are the one place for:
//! lazy expiry (a key past its deadline is deleted when touched and reported as missing),
//! the LRU clock used by `OBJECT IDLETIME`, and the write hook [`Db::before_write`] which a
//! later issue uses for copy-on-write snapshots (the entry's `epoch`), WATCH and keyspace
//! notifications. Commands never reach into the dict directly.

use crate::dict::Dict;
use crate::object::Value;

/// A keyspace entry. `epoch` is the id of the last snapshot that serialized this entry
/// (fork-free snapshots compare it against the running snapshot's epoch before a write).
#[derive(Debug)]
pub struct Entry {
    pub value: Value,
    /// Absolute expiry in Unix milliseconds, or `None`.
    pub expire_at: Option<i64>,
    /// LRU clock (seconds resolution, as Redis's 24-bit clock) of the last access.
    pub lru: u32,
    pub epoch: u32,
}

/// One database.
pub struct Db {
    pub id: usize,
    // Implementation detail of the dict/db owner: the main dict and the TTL index.
    pub(crate) dict: Dict<Entry>,
    pub(crate) expires: Dict<()>,
    /// Keys deleted because they expired (lazy and active), for INFO `expired_keys`.
    pub expired_keys: u64,
    pub(crate) avg_ttl: i64,
}

impl Db {
    pub fn new(id: usize) -> Db {
        let _ = id;
        todo!()
    }

    /// Number of keys (including logically expired ones not yet reclaimed, as Redis's DBSIZE).
    pub fn len(&self) -> usize {
        todo!()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Number of keys with a TTL.
    pub fn expires_len(&self) -> usize {
        todo!()
    }

    /// Looks a key up for reading: deletes it if expired (lazy expiry), touches the LRU clock.
    pub fn lookup_read(&mut self, key: &[u8], now_ms: i64) -> Option<&mut Entry> {
        let _ = (key, now_ms);
        todo!()
    }

    /// Looks a key up for writing: lazy expiry, then the write hook, then the entry.
    pub fn lookup_write(&mut self, key: &[u8], now_ms: i64) -> Option<&mut Entry> {
        let _ = (key, now_ms);
        todo!()
    }

    /// Whether the key exists and is not expired (does not touch the LRU clock, like
    /// `lookupKeyReadWithFlags(LOOKUP_NOTOUCH)`).
    pub fn exists(&mut self, key: &[u8], now_ms: i64) -> bool {
        let _ = (key, now_ms);
        todo!()
    }

    /// Sets `key` to `value` (insert or overwrite, Redis's `setKey`). The TTL is removed unless
    /// `keep_ttl`.
    pub fn set(&mut self, key: &[u8], value: Value, keep_ttl: bool) {
        let _ = (key, value, keep_ttl);
        todo!()
    }

    /// Deletes a key; true if it existed (an expired key counts as not existing).
    pub fn delete(&mut self, key: &[u8], now_ms: i64) -> bool {
        let _ = (key, now_ms);
        todo!()
    }

    /// Removes and returns a key's value and TTL (RENAME, MOVE).
    pub fn take(&mut self, key: &[u8], now_ms: i64) -> Option<(Value, Option<i64>)> {
        let _ = (key, now_ms);
        todo!()
    }

    /// Sets an absolute expiry on an existing key. Returns false if the key is missing.
    pub fn set_expire(&mut self, key: &[u8], at_ms: i64) -> bool {
        let _ = (key, at_ms);
        todo!()
    }

    /// Removes the TTL; true if there was one.
    pub fn persist(&mut self, key: &[u8]) -> bool {
        let _ = key;
        todo!()
    }

    /// Removes every key.
    pub fn clear(&mut self) {
        todo!()
    }

    /// One step of SCAN over the keyspace: calls `f` for each key in the visited buckets and
    /// returns the next cursor (0 when done). The cursor survives rehashing (reverse-binary).
    pub fn scan(&self, cursor: u64, f: &mut dyn FnMut(&[u8], &Entry)) -> u64 {
        let _ = (cursor, f);
        todo!()
    }

    /// A random key (RANDOMKEY), skipping expired ones as Redis does.
    pub fn random_key(&mut self, now_ms: i64) -> Option<Vec<u8>> {
        let _ = now_ms;
        todo!()
    }

    /// All keys, for KEYS (the caller filters).
    pub fn for_each(&self, f: &mut dyn FnMut(&[u8], &Entry)) {
        let _ = f;
        todo!()
    }

    /// The write hook: called before any mutation of an entry.
    #[inline]
    pub fn before_write(&mut self, key: &[u8]) {
        let _ = key;
    }

    /// One bounded step of the active expiry cycle over this db: samples keys with a TTL and
    /// deletes expired ones. Returns (sampled, expired).
    pub fn active_expire_step(&mut self, now_ms: i64, samples: usize) -> (usize, usize) {
        let _ = (now_ms, samples);
        todo!()
    }

    /// One incremental rehash step (a few buckets) of the dicts, for idle time.
    pub fn rehash_step(&mut self) -> bool {
        todo!()
    }
}
