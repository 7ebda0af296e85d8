//! The WATCH registry (Redis 7.0.15's multi.c watch half): which client watches which key in
//! which db, and which clients are "dirty" (a watched key was touched, so their next EXEC
//! answers a null array).
//!
//! Clients are named by their CLIENT ID, so the engine needs no handle on the server's
//! connections. The registry lives in the engine because every write reaches it through
//! `Ctx::signal_modified` (Redis's `signalModifiedKey` → `touchWatchedKey`).
//!
//! Invariants:
//! - `by_db[d][k]` lists, in WATCH order, exactly the clients whose `keys` hold `(d, k)`; an
//!   empty list is removed, so `by_db[d].is_empty()` means "nobody watches db `d`" and the
//!   per-write check costs one length test.
//! - A dirty client watches nothing (Redis 7.0 unwatches a client as soon as it is flagged:
//!   further touches cannot change the outcome). Its record stays, holding the flag, until
//!   EXEC/DISCARD/UNWATCH/RESET/disconnect calls [`Watches::forget`].
//! - `expired` on a watched key is Redis's `wk->expired`: the key existed but was already
//!   logically expired at WATCH time, so its deletion by expiry is not a change.

use ahash::RandomState;
use std::collections::HashMap;

/// One key a client watches.
#[derive(Debug)]
struct WatchedKey {
    db: usize,
    key: Box<[u8]>,
    expired: bool,
}

#[derive(Debug, Default)]
struct ClientWatches {
    keys: Vec<WatchedKey>,
    /// Redis's `CLIENT_DIRTY_CAS`.
    dirty: bool,
}

/// What a probe of the keyspace says about a key, as the touch rules need it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Presence {
    /// No entry at all (Redis's `dictFind(db->dict, key) == NULL`).
    Absent,
    /// An entry that is logically expired but not yet reclaimed.
    Expired,
    Live,
}

/// Watched key → its watchers' client ids, in WATCH order.
type KeyWatchers = HashMap<Box<[u8]>, Vec<u64>, RandomState>;

#[derive(Debug)]
pub struct Watches {
    by_db: Vec<KeyWatchers>,
    clients: HashMap<u64, ClientWatches, RandomState>,
}

impl Watches {
    pub fn new(databases: usize) -> Watches {
        Watches {
            by_db: (0..databases).map(|_| HashMap::default()).collect(),
            clients: HashMap::default(),
        }
    }

    /// Whether anybody watches a key of db `db` (the cheap test every write does first).
    #[inline]
    pub fn watching_db(&self, db: usize) -> bool {
        self.by_db.get(db).is_some_and(|m| !m.is_empty())
    }

    /// Number of keys `client` watches (INFO/CLIENT LIST `watch=` in later Redis versions).
    pub fn watched_count(&self, client: u64) -> usize {
        self.clients.get(&client).map_or(0, |c| c.keys.len())
    }

    /// Total watched (db, key) pairs, over all clients (INFO `watching_clients`-like uses).
    pub fn watched_keys_total(&self) -> usize {
        self.by_db.iter().map(|m| m.len()).sum()
    }

    /// Whether `client`'s transaction is doomed by a touched watched key (`CLIENT_DIRTY_CAS`).
    pub fn is_dirty(&self, client: u64) -> bool {
        self.clients.get(&client).is_some_and(|c| c.dirty)
    }

    /// Redis's `watchForKey`: watch `key` of db `db` unless already watched. `expired` is
    /// `keyIsExpired` at WATCH time.
    pub fn watch(&mut self, client: u64, db: usize, key: &[u8], expired: bool) {
        let c = self.clients.entry(client).or_default();
        if c.keys.iter().any(|w| w.db == db && *w.key == *key) {
            return;
        }
        c.keys.push(WatchedKey {
            db,
            key: key.into(),
            expired,
        });
        self.by_db[db].entry(key.into()).or_default().push(client);
    }

    /// Removes `client` from the per-key lists of everything it watches (Redis's
    /// `unwatchAllKeys`); the dirty flag is kept.
    fn unwatch_keys(by_db: &mut [KeyWatchers], client: u64, keys: Vec<WatchedKey>) {
        for w in keys {
            if let Some(list) = by_db[w.db].get_mut(&w.key) {
                list.retain(|&id| id != client);
                if list.is_empty() {
                    by_db[w.db].remove(&w.key);
                }
            }
        }
    }

    /// UNWATCH, EXEC, DISCARD, RESET, disconnect: unwatch every key and clear the dirty flag.
    pub fn forget(&mut self, client: u64) {
        if let Some(c) = self.clients.remove(&client) {
            Self::unwatch_keys(&mut self.by_db, client, c.keys);
        }
    }

    /// Flags `client` dirty and unwatches its keys (Redis does both in `touchWatchedKey`).
    fn make_dirty(&mut self, client: u64) {
        if let Some(c) = self.clients.get_mut(&client) {
            c.dirty = true;
            let keys = std::mem::take(&mut c.keys);
            Self::unwatch_keys(&mut self.by_db, client, keys);
        }
    }

    /// Redis 7.0.15's `touchWatchedKey`: `key` of db `db` was modified; `present` says
    /// whether an entry for it exists now (after the modification).
    ///
    /// A watcher whose key was already expired at WATCH time is not flagged when the key is
    /// now gone (deleting an expired key changes nothing logically; its flag is cleared).
    /// When such a key is present again, Redis 7.0.15 leaves the loop (`break`), so neither
    /// that watcher nor any watcher after it is flagged: reproduced as is.
    pub fn touch(&mut self, db: usize, key: &[u8], present: bool) {
        if !self.watching_db(db) {
            return;
        }
        let Some(ids) = self.by_db[db].get(key) else {
            return;
        };
        let mut to_flag: Vec<u64> = Vec::new();
        for &id in ids {
            let Some(c) = self.clients.get_mut(&id) else {
                continue;
            };
            let Some(w) = c.keys.iter_mut().find(|w| w.db == db && *w.key == *key) else {
                continue;
            };
            if w.expired {
                if !present {
                    w.expired = false;
                    continue;
                }
                break;
            }
            to_flag.push(id);
        }
        for id in to_flag {
            self.make_dirty(id);
        }
    }

    /// Redis 7.0.15's `touchAllWatchedKeysInDb`: db `emptied` is being flushed (or swapped
    /// with `replaced_with`); `probe(db, key)` looks at the keyspace *before* the change.
    /// A watcher is flagged when its key exists in `emptied` or in `replaced_with`, except
    /// when the key was expired at WATCH time and stays gone or expired, or a missing key is
    /// replaced by an expired one (then it becomes "expired at WATCH time").
    pub fn touch_all_in_db(
        &mut self,
        emptied: usize,
        replaced_with: Option<usize>,
        probe: impl Fn(usize, &[u8]) -> Presence,
    ) {
        if !self.watching_db(emptied) {
            return;
        }
        let mut to_flag: Vec<u64> = Vec::new();
        for (key, ids) in &self.by_db[emptied] {
            let in_emptied = probe(emptied, key) != Presence::Absent;
            let in_replacement = replaced_with.map(|r| probe(r, key));
            let replacement_present = in_replacement.is_some_and(|p| p != Presence::Absent);
            if !in_emptied && !replacement_present {
                continue;
            }
            let replacement_expired = in_replacement == Some(Presence::Expired);
            for &id in ids {
                let Some(c) = self.clients.get_mut(&id) else {
                    continue;
                };
                let Some(w) = c
                    .keys
                    .iter_mut()
                    .find(|w| w.db == emptied && *w.key == **key)
                else {
                    continue;
                };
                if w.expired {
                    if !replacement_present {
                        w.expired = false;
                        continue;
                    } else if replacement_expired {
                        continue;
                    }
                } else if !in_emptied && replacement_expired {
                    w.expired = true;
                    continue;
                }
                to_flag.push(id);
            }
        }
        for id in to_flag {
            self.make_dirty(id);
        }
    }

    /// Redis 7.0.15's `isWatchedKeyExpired`, checked by EXEC: some key `client` watches,
    /// not already expired at WATCH time, is expired now. `probe` as for
    /// [`Watches::touch_all_in_db`].
    pub fn any_expired(&self, client: u64, probe: impl Fn(usize, &[u8]) -> Presence) -> bool {
        self.clients.get(&client).is_some_and(|c| {
            c.keys
                .iter()
                .any(|w| !w.expired && probe(w.db, &w.key) == Presence::Expired)
        })
    }

    /// Marks `client` dirty (EXEC found an expired watched key).
    pub fn flag_dirty(&mut self, client: u64) {
        self.clients.entry(client).or_default().dirty = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probe_none(_: usize, _: &[u8]) -> Presence {
        Presence::Absent
    }

    #[test]
    fn touch_flags_every_watcher_and_unwatches_them() {
        let mut w = Watches::new(2);
        w.watch(1, 0, b"k", false);
        w.watch(1, 1, b"other", false);
        w.watch(2, 0, b"k", false);
        w.watch(2, 0, b"k", false); // already watched: no duplicate
        assert_eq!(w.watched_count(2), 1);
        assert!(w.watching_db(0) && w.watching_db(1));
        w.touch(0, b"nope", true);
        w.touch(1, b"k", true); // same key name, other db
        assert!(!w.is_dirty(1) && !w.is_dirty(2));
        w.touch(0, b"k", true);
        assert!(w.is_dirty(1) && w.is_dirty(2));
        // Dirty clients watch nothing, so writes stop costing lookups.
        assert!(!w.watching_db(0) && !w.watching_db(1));
        assert_eq!(w.watched_keys_total(), 0);
        w.forget(1);
        assert!(!w.is_dirty(1) && w.is_dirty(2));
    }

    #[test]
    fn forget_unwatches_and_clears_the_flag() {
        let mut w = Watches::new(1);
        w.watch(7, 0, b"a", false);
        w.watch(8, 0, b"a", false);
        w.forget(7);
        w.touch(0, b"a", true);
        assert!(!w.is_dirty(7));
        assert!(w.is_dirty(8));
        w.forget(8);
        assert!(!w.is_dirty(8));
        assert!(!w.watching_db(0));
    }

    #[test]
    fn deleting_a_key_expired_at_watch_time_is_no_change() {
        let mut w = Watches::new(1);
        w.watch(1, 0, b"k", true);
        w.touch(0, b"k", false);
        assert!(!w.is_dirty(1));
        // The flag is cleared: the next change of the key counts.
        w.touch(0, b"k", true);
        assert!(w.is_dirty(1));
    }

    #[test]
    fn present_key_expired_at_watch_time_stops_the_loop_as_redis() {
        let mut w = Watches::new(1);
        w.watch(1, 0, b"k", true);
        w.watch(2, 0, b"k", false);
        w.touch(0, b"k", true);
        assert!(!w.is_dirty(1));
        assert!(
            !w.is_dirty(2),
            "Redis 7.0.15 breaks out of the watcher loop"
        );
        // Order matters: a live watcher before the expired one is flagged.
        let mut w = Watches::new(1);
        w.watch(2, 0, b"k", false);
        w.watch(1, 0, b"k", true);
        w.touch(0, b"k", true);
        assert!(w.is_dirty(2) && !w.is_dirty(1));
    }

    #[test]
    fn flush_touches_only_existing_keys() {
        let mut w = Watches::new(2);
        w.watch(1, 0, b"there", false);
        w.watch(2, 0, b"missing", false);
        w.watch(3, 1, b"there", false);
        let probe = |db: usize, k: &[u8]| {
            if db == 0 && k == b"there" {
                Presence::Live
            } else {
                Presence::Absent
            }
        };
        w.touch_all_in_db(0, None, probe);
        assert!(w.is_dirty(1));
        assert!(!w.is_dirty(2) && !w.is_dirty(3));
        w.touch_all_in_db(1, None, probe_none);
        assert!(!w.is_dirty(3));
    }

    #[test]
    fn swap_rules_for_expired_keys() {
        // Missing in db 0, expired in db 1: swapping makes it "expired at WATCH time".
        let mut w = Watches::new(2);
        w.watch(1, 0, b"k", false);
        let probe = |db: usize, _: &[u8]| {
            if db == 1 {
                Presence::Expired
            } else {
                Presence::Absent
            }
        };
        w.touch_all_in_db(0, Some(1), probe);
        assert!(!w.is_dirty(1));
        // Its later deletion by expiry is then no change.
        w.touch(0, b"k", false);
        assert!(!w.is_dirty(1));
        // Present in the replacement: flagged.
        let mut w = Watches::new(2);
        w.watch(1, 0, b"k", false);
        w.touch_all_in_db(0, Some(1), |db, _| {
            if db == 1 {
                Presence::Live
            } else {
                Presence::Absent
            }
        });
        assert!(w.is_dirty(1));
    }

    #[test]
    fn exec_expiry_check_skips_keys_expired_at_watch_time() {
        let mut w = Watches::new(1);
        w.watch(1, 0, b"old", true);
        assert!(!w.any_expired(1, |_, _| Presence::Expired));
        w.watch(1, 0, b"new", false);
        assert!(w.any_expired(1, |_, k| if k == b"new" {
            Presence::Expired
        } else {
            Presence::Live
        }));
        assert!(!w.any_expired(1, |_, _| Presence::Live));
        assert!(!w.any_expired(99, |_, _| Presence::Expired));
    }
}

/// The registry wired into the engine: commands touch, expiry touches, EXEC's check.
#[cfg(test)]
mod engine_tests {
    use crate::commands::testkit::Harness;

    const ME: u64 = 10;

    #[test]
    fn writes_touch_reads_do_not() {
        let mut h = Harness::new();
        h.run(&["SET", "k", "1"]);
        h.engine.watch_key(ME, 0, b"k");
        h.run(&["GET", "k"]);
        h.run(&["DEL", "missing"]);
        h.run(&["SET", "other", "x"]);
        h.run(&["EXPIRE", "missing", "10"]);
        assert!(!h.engine.exec_watch_failed(ME));
        h.run(&["INCR", "k"]);
        assert!(h.engine.exec_watch_failed(ME));
        h.engine.unwatch_all(ME);
        assert!(!h.engine.exec_watch_failed(ME));
    }

    #[test]
    fn each_string_and_key_write_touches() {
        let cmds: &[&[&str]] = &[
            &["SET", "k", "v"],
            &["APPEND", "k", "v"],
            &["SETRANGE", "k", "0", "v"],
            &["INCRBYFLOAT", "k", "1"],
            &["MSET", "a", "1", "k", "2"],
            &["GETSET", "k", "v"],
            &["GETDEL", "k"],
            &["GETEX", "k", "EX", "100"],
            &["DEL", "k"],
            &["EXPIRE", "k", "100"],
            &["PERSIST", "k"],
            &["RENAME", "k", "z"],
            &["RENAME", "z", "k"],
            &["MOVE", "k", "1"],
            &["COPY", "z", "k", "REPLACE"],
            &["FLUSHDB"],
            &["FLUSHALL"],
            &["SWAPDB", "0", "1"],
        ];
        for cmd in cmds {
            let mut h = Harness::new();
            h.run(&["SET", "k", "5"]);
            h.run(&["SET", "z", "5"]);
            if cmd[0] == "PERSIST" {
                h.run(&["EXPIRE", "k", "100"]);
            }
            h.engine.watch_key(ME, 0, b"k");
            h.run(cmd);
            assert!(h.engine.exec_watch_failed(ME), "{cmd:?} did not touch");
        }
    }

    #[test]
    fn failed_or_noop_writes_do_not_touch() {
        let cmds: &[&[&str]] = &[
            &["SETNX", "k", "v"],
            &["SET", "k", "v", "XX", "GET"],
            &["LCS", "k", "k"],
            &["PERSIST", "k"],
            &["SETRANGE", "k", "0", ""],
            &["EXPIRE", "k", "10", "XX"],
            &["RENAMENX", "z", "k"],
            &["COPY", "z", "k"],
            &["FLUSHDB"], // key in another db
        ];
        for cmd in cmds {
            let mut h = Harness::new();
            h.run(&["SET", "z", "1"]);
            h.run(&["SELECT", "1"]);
            h.run(&["SET", "k", "1"]);
            h.run(&["SELECT", "0"]);
            h.engine.watch_key(ME, 1, b"k");
            h.engine.watch_key(ME, 0, b"k");
            h.run(cmd);
            // A missing k in db 0 stays missing (SETNX/SET XX... only ever create it in db 0
            // where the first command would, so skip those that do).
            let created = h.run(&["EXISTS", "k"]) == ":1\r\n";
            assert_eq!(h.engine.exec_watch_failed(ME), created, "{cmd:?}");
        }
    }

    #[test]
    fn flush_touches_only_existing_watched_keys_and_swap_either_db() {
        let mut h = Harness::new();
        h.engine.watch_key(ME, 0, b"missing");
        h.run(&["SET", "x", "1"]);
        h.run(&["FLUSHALL"]);
        assert!(!h.engine.exec_watch_failed(ME));
        h.run(&["SELECT", "1"]);
        h.run(&["SET", "missing", "1"]);
        h.run(&["SWAPDB", "1", "2"]); // not db 0
        assert!(!h.engine.exec_watch_failed(ME));
        h.run(&["SWAPDB", "2", "0"]); // db 0 gets the key
        assert!(h.engine.exec_watch_failed(ME));
    }

    #[test]
    fn expiry_of_a_watched_key() {
        // Lazily deleted after WATCH: touched.
        let mut h = Harness::new();
        h.run(&["SET", "k", "1", "PX", "100"]);
        h.engine.watch_key(ME, 0, b"k");
        h.advance_ms(101);
        h.run(&["GET", "k"]);
        assert_eq!(h.engine.dbs[0].len(), 0);
        assert!(h.engine.exec_watch_failed(ME));

        // Expired but still there at EXEC: EXEC's own check fails it.
        let mut h = Harness::new();
        h.run(&["SET", "k", "1", "PX", "100"]);
        h.engine.watch_key(ME, 0, b"k");
        h.advance_ms(101);
        assert_eq!(h.engine.dbs[0].len(), 1);
        assert!(h.engine.exec_watch_failed(ME));

        // Reclaimed by the active cycle: touched.
        let mut h = Harness::new();
        h.run(&["SET", "k", "1", "PX", "100"]);
        h.engine.watch_key(ME, 0, b"k");
        h.advance_ms(101);
        h.engine.cron();
        assert_eq!(h.engine.dbs[0].len(), 0);
        assert!(h.engine.exec_watch_failed(ME));
    }

    #[test]
    fn key_already_expired_at_watch_time_is_no_change() {
        let mut h = Harness::new();
        h.run(&["SET", "k", "1", "PX", "100"]);
        h.engine.active_expire_enabled = false;
        h.advance_ms(101);
        h.engine.watch_key(ME, 0, b"k");
        assert!(!h.engine.exec_watch_failed(ME));
        h.run(&["EXISTS", "k"]); // lazily deleted
        assert_eq!(h.engine.dbs[0].len(), 0);
        assert!(!h.engine.exec_watch_failed(ME));
        // Once deleted, a new value is a change.
        h.run(&["SET", "k", "2"]);
        assert!(h.engine.exec_watch_failed(ME));
    }

    #[test]
    fn expired_keys_are_propagated_as_del_only_when_someone_listens() {
        let mut h = Harness::new();
        // The harness listens by default; a server without AOF or replicas does not.
        h.stop_propagation();
        h.run(&["SET", "k", "1", "PX", "10"]);
        h.advance_ms(11);
        h.run(&["GET", "k"]);
        assert!(h.engine.propagation.pending().is_empty());
        h.engine
            .set_sink(Some(Box::new(crate::propagate::RecordingSink::default())));
        h.run(&["SELECT", "3"]);
        h.run(&["SET", "a", "1", "PX", "10"]);
        h.run(&["SET", "b", "1", "PX", "10"]);
        h.run(&["SET", "c", "1", "PX", "10"]);
        h.take_propagated();
        h.advance_ms(11);
        // Lazy expiry in a read: the DEL alone. In a write: MULTI, DEL, the write, EXEC.
        h.run(&["GET", "a"]);
        h.run(&["INCR", "c"]);
        assert_eq!(
            h.propagated(),
            ["DEL a", "MULTI", "DEL c", "INCR c", "EXEC"]
        );
        // The active cycle: each key its own unit.
        h.engine.cron();
        assert_eq!(h.propagated(), ["DEL b"]);
    }
}
