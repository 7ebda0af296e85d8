//! Fork-free point-in-time snapshots (BGSAVE, the AOF rewrite's base), after Dragonfly's
//! design adapted to one thread.
//!
//! A snapshot has an epoch E (`Engine::begin_snapshot`). The loop calls [`Snapshot::step`]
//! between turns; each step walks a bounded slice of the keyspace with the dict's SCAN
//! cursor and writes every entry whose `epoch < E`, stamping it E. Meanwhile the engine calls
//! the [`SnapshotHook`] before a write changes or deletes an entry still below E, and the
//! snapshot writes that entry first (serialize-before-mutate). New entries are born with
//! epoch E, so the walk skips them. The file therefore holds the keyspace exactly as it was
//! at the start, while memory overhead is only the bytes not yet drained to disk.
//!
//! Invariants:
//! - every entry present at the start is written exactly once: SCAN visits every key that
//!   stays in the dict at least once (also across incremental rehashing and resizes), the
//!   epoch stamp turns repeat visits into no-ops, and an entry leaving the dict (write,
//!   delete) is preserved first. Keys deleted by expiry are left out (a loader would drop
//!   them), except a half-written value, which is finished first ([`SnapshotHook::expired`]).
//! - a large aggregate is written in bounded steps ([`Encoder::value_step`]). While one is
//!   half-written its entry keeps `epoch < E`, so a write to it calls the hook, which first
//!   finishes writing that value; it is stamped only once complete. The server holds back a
//!   write to a big value not written yet ([`Snapshot::must_wait_for`]) and has it written
//!   ahead of the walk ([`Snapshot::prioritize`]), so the hook does not serialize a million
//!   elements inside one command.
//! - FLUSHDB/FLUSHALL hand the old dict to the snapshot ([`SnapshotHook::adopt`]), which
//!   walks it instead of the live db; SWAPDB is followed by remapping file dbs to live dbs.
//! - the stream may `SELECTDB` the same db more than once (a preserved entry of another
//!   db interrupts the walk); loaders treat SELECTDB as a state change, Redis's included.

use engine::db::{Entry, SnapshotHook};
use engine::dict::Dict;
use engine::object::Value;

use crate::rdb::write::{Checksum, Encoder, Resume, SaveOptions};

/// Aggregates with more elements than this are written in steps, one slice at a time.
const BIG_VALUE: usize = 512;

/// What the file was started for: a plain RDB or the base of a rewritten AOF (the
/// `aof-base` AUX field).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    Rdb,
    AofBase,
}

/// A value half-written by the walk.
struct Partial {
    file_db: usize,
    key: Vec<u8>,
    at: Option<Resume>,
}

/// The walk's state for one db of the file (the db's content at the start).
#[derive(Default)]
struct DbWalk {
    cursor: u64,
    started: bool,
    finished: bool,
    /// The db's dict, taken over at a FLUSHDB/FLUSHALL during the snapshot.
    adopted: Option<Dict<Entry>>,
}

/// A running snapshot. Shared (`Rc<RefCell<_>>`) between the engine's dbs (the hook) and the
/// loop (which calls [`Snapshot::step`] and drains [`Snapshot::take_output`]).
pub struct Snapshot {
    epoch: u32,
    enc: Encoder,
    crc: Checksum,
    walks: Vec<DbWalk>,
    /// `live_of_file[f]`: the live db that holds file db `f`'s content (SWAPDB moves it).
    live_of_file: Vec<usize>,
    /// The file db being walked.
    cur: usize,
    /// The file db the stream last selected.
    selected: Option<usize>,
    partial: Option<Partial>,
    /// Big values a write waits for (live db, key): written ahead of the walk, in steps.
    priority: Vec<(usize, Vec<u8>)>,
    /// Entries preserved while a value is half-written: appended once it completes.
    side: Option<Encoder>,
    /// EOF and checksum written.
    finished: bool,
    /// Bytes produced so far (drained or not).
    pub bytes: u64,
    /// Keys written so far.
    pub keys: u64,
}

impl Snapshot {
    /// A snapshot of `dbs` databases; the caller then passes it to `Engine::begin_snapshot`
    /// and stores the returned epoch with [`Snapshot::set_epoch`].
    pub fn new(
        dbs: usize,
        opts: SaveOptions,
        purpose: Purpose,
        ctime_secs: i64,
        used_mem: u64,
        functions: &[Vec<u8>],
        aux: &[(&[u8], Vec<u8>)],
    ) -> Snapshot {
        let mut enc = Encoder::new(opts);
        enc.header();
        enc.info_aux(ctime_secs, used_mem, purpose == Purpose::AofBase, aux);
        enc.functions(functions);
        Snapshot {
            epoch: 0,
            enc,
            crc: Checksum::new(opts.checksum),
            walks: (0..dbs).map(|_| DbWalk::default()).collect(),
            live_of_file: (0..dbs).collect(),
            cur: 0,
            selected: None,
            partial: None,
            priority: Vec::new(),
            side: None,
            finished: false,
            bytes: 0,
            keys: 0,
        }
    }

    pub fn set_epoch(&mut self, epoch: u32) {
        self.epoch = epoch;
    }

    pub fn is_finished(&self) -> bool {
        self.finished
    }

    /// Whether a write to `e` must wait for this snapshot: a big value not written yet,
    /// which the hook would otherwise serialize in one go (tens of milliseconds for a
    /// million elements). The caller holds the write back and calls
    /// [`Snapshot::prioritize`]; the walk then writes the value in bounded steps first.
    pub fn must_wait_for(&self, e: &Entry) -> bool {
        !self.finished && e.epoch < self.epoch && is_big(&e.value)
    }

    /// Writes the value of `key` in live db `db` ahead of the walk (see
    /// [`Snapshot::must_wait_for`]).
    pub fn prioritize(&mut self, db: usize, key: &[u8]) {
        if !self.priority.iter().any(|(d, k)| *d == db && k == key) {
            self.priority.push((db, key.to_vec()));
        }
    }

    /// Bytes produced and not yet taken.
    pub fn pending(&self) -> usize {
        self.enc.out.len()
    }

    /// Takes the bytes produced so far (folding them into the checksum): the caller appends
    /// them to the file in order.
    pub fn take_output(&mut self) -> Vec<u8> {
        let out = std::mem::take(&mut self.enc.out);
        if !self.finished {
            self.crc.update(&out);
        }
        self.bytes += out.len() as u64;
        out
    }

    fn select(&mut self, file_db: usize, sizes: Option<(u64, u64)>) {
        if self.selected != Some(file_db) {
            self.selected = Some(file_db);
            match sizes {
                Some((size, expires)) => self.enc.select_db(file_db, size, expires),
                None => {
                    self.enc.out.push(crate::rdb::codec::op::SELECTDB);
                    crate::rdb::codec::put_len(&mut self.enc.out, file_db as u64);
                }
            }
        }
    }

    fn file_of_live(&self, live: usize) -> usize {
        self.live_of_file
            .iter()
            .position(|&l| l == live)
            .unwrap_or(live)
    }

    /// Walks until about `budget` bytes were produced or the walk ends; writes EOF and the
    /// checksum when it ends. Returns true once the snapshot is complete (then take the last
    /// output).
    pub fn step(&mut self, engine: &mut engine::Engine, budget: usize) -> bool {
        if self.finished {
            return true;
        }
        let stop = self.enc.out.len().saturating_add(budget);
        while self.cur < self.walks.len() {
            // A value left half-written goes first.
            if let Some(p) = self.partial.take()
                && !self.continue_partial(engine, p, stop)
            {
                return false;
            }
            // Then a value a write waits for.
            if self.start_priority(engine, budget) {
                continue;
            }
            if self.enc.out.len() >= stop {
                return false;
            }
            let f = self.cur;
            let live = self.live_of_file[f];
            if self.walks[f].finished {
                self.cur += 1;
                continue;
            }
            // Borrow the dict apart from `self`: an adopted one is taken out for the slice.
            let mut adopted = self.walks[f].adopted.take();
            let dict: &mut Dict<Entry> = match adopted.as_mut() {
                Some(d) => d,
                None => engine.dbs[live].dict_mut(),
            };
            if !self.walks[f].started {
                self.walks[f].started = true;
                if dict.is_empty() {
                    self.walks[f].finished = true;
                    continue;
                }
                let expires = match &adopted {
                    Some(_) => 0,
                    None => engine.dbs[live].expires_len() as u64,
                };
                let dict: &Dict<Entry> = match adopted.as_ref() {
                    Some(d) => d,
                    None => engine.dbs[live].dict_mut(),
                };
                self.select(f, Some((dict.len() as u64, expires)));
            } else {
                self.select(f, None);
            }
            let dict: &mut Dict<Entry> = match adopted.as_mut() {
                Some(d) => d,
                None => engine.dbs[live].dict_mut(),
            };
            let epoch = self.epoch;
            let cursor = self.walks[f].cursor;
            let next = dict.scan_mut(cursor, &mut |k, e| {
                if e.epoch >= epoch {
                    return;
                }
                if self.partial.is_none() && is_big(&e.value) {
                    self.enc.key_header(k, e);
                    let mut at = None;
                    if !self.enc.value_step(&e.value, &mut at, budget) {
                        // Stamped once complete; the rest of this bucket goes to the side
                        // buffer, after it.
                        self.partial = Some(Partial {
                            file_db: f,
                            key: k.to_vec(),
                            at,
                        });
                        return;
                    }
                    self.keys += 1;
                } else {
                    self.write_entry(f, k, e);
                }
                e.epoch = epoch;
            });
            let w = &mut self.walks[f];
            w.cursor = next;
            if next == 0 {
                w.finished = true;
                self.cur += 1;
                // A half-written value of an adopted dict still needs it.
                if self.partial.as_ref().is_some_and(|p| p.file_db == f) {
                    w.adopted = adopted;
                }
            } else {
                w.adopted = adopted;
            }
        }
        if let Some(p) = self.partial.take()
            && !self.continue_partial(engine, p, stop)
        {
            return false;
        }
        self.enc.eof();
        let tail = std::mem::take(&mut self.enc.out);
        let footer = self.crc.finish(&tail);
        self.enc.out = tail;
        self.enc.out.extend_from_slice(&footer);
        self.finished = true;
        true
    }

    /// Starts writing the next prioritized value still unwritten (as the half-written value,
    /// stamped once complete); false when there is none.
    fn start_priority(&mut self, engine: &mut engine::Engine, budget: usize) -> bool {
        while let Some((live, key)) = self.priority.pop() {
            let f = self.file_of_live(live);
            let epoch = self.epoch;
            let dict = match self.walks[f].adopted.as_mut() {
                Some(d) => d,
                None => engine.dbs[live].dict_mut(),
            };
            let Some(e) = dict.get_mut(&key) else {
                continue;
            };
            if e.epoch >= epoch {
                continue;
            }
            self.select(f, None);
            let dict = match self.walks[f].adopted.as_mut() {
                Some(d) => d,
                None => engine.dbs[live].dict_mut(),
            };
            let e = dict.get_mut(&key).expect("looked up above");
            self.enc.key_header(&key, e);
            let mut at = None;
            if self.enc.value_step(&e.value, &mut at, budget) {
                e.epoch = epoch;
                self.keys += 1;
            } else {
                self.partial = Some(Partial {
                    file_db: f,
                    key,
                    at,
                });
            }
            return true;
        }
        false
    }

    /// Writes a whole entry of file db `f`: into the stream, or while a value is half-written
    /// into the side buffer that follows it.
    fn write_entry(&mut self, f: usize, key: &[u8], e: &Entry) {
        self.keys += 1;
        if self.partial.is_some() {
            let opts = self.enc.options();
            let side = self.side.get_or_insert_with(|| Encoder::new(opts));
            side.out.push(crate::rdb::codec::op::SELECTDB);
            crate::rdb::codec::put_len(&mut side.out, f as u64);
            side.entry(key, e);
            return;
        }
        self.select(f, None);
        self.enc.entry(key, e);
    }

    /// After a half-written value completes: what was preserved meanwhile follows it.
    fn flush_side(&mut self) {
        if let Some(side) = self.side.take() {
            self.enc.out.extend_from_slice(&side.out);
            self.selected = None;
        }
    }

    /// Writes more of a half-written value; true when it is complete (and stamped). Leaves it
    /// in `self.partial` otherwise.
    fn continue_partial(
        &mut self,
        engine: &mut engine::Engine,
        mut p: Partial,
        stop: usize,
    ) -> bool {
        let live = self.live_of_file[p.file_db];
        let dict = match self.walks[p.file_db].adopted.as_mut() {
            Some(d) => d,
            None => engine.dbs[live].dict_mut(),
        };
        // The entry cannot have changed or gone: a write would have finished it first.
        let Some(e) = dict.get_mut(&p.key) else {
            debug_assert!(false, "half-written key vanished");
            self.flush_side();
            return true;
        };
        let budget = stop.saturating_sub(self.enc.out.len()).max(1);
        if self.enc.value_step(&e.value, &mut p.at, budget) {
            e.epoch = self.epoch;
            self.keys += 1;
            if self.walks[p.file_db].finished {
                self.walks[p.file_db].adopted = None;
            }
            self.flush_side();
            true
        } else {
            self.partial = Some(p);
            false
        }
    }
}

/// Whether a value is worth writing in steps.
pub fn is_big(v: &Value) -> bool {
    match v {
        Value::Str(_) => false,
        Value::List(l) => l.ql().node_count() > 8,
        Value::Set(s) => s.as_dict().is_some_and(|d| d.len() > BIG_VALUE),
        Value::Hash(h) => h.as_table().is_some_and(|d| d.len() > BIG_VALUE),
        Value::ZSet(z) => z.as_skiplist().is_some_and(|z| z.len() > BIG_VALUE),
        Value::Stream(st) => st.nodes.len() > 8,
    }
}

impl SnapshotHook for Snapshot {
    fn preserve(&mut self, db: usize, key: &[u8], entry: &Entry) {
        let f = self.file_of_live(db);
        if self
            .partial
            .as_ref()
            .is_some_and(|p| p.file_db == f && p.key == key)
        {
            // Finish the half-written value before it changes (the engine stamps it).
            let mut p = self.partial.take().expect("checked");
            self.enc.value_step(&entry.value, &mut p.at, usize::MAX);
            self.keys += 1;
            if self.walks[f].finished {
                self.walks[f].adopted = None;
            }
            self.flush_side();
            return;
        }
        self.write_entry(f, key, entry);
    }

    fn expired(&mut self, db: usize, key: &[u8], entry: &Entry) {
        // Only a half-written value must be completed; any other expired key is left out.
        let f = self.file_of_live(db);
        if self
            .partial
            .as_ref()
            .is_some_and(|p| p.file_db == f && p.key == key)
        {
            self.preserve(db, key, entry);
        }
    }

    fn adopt(&mut self, db: usize, dict: Dict<Entry>, _expires: Dict<()>) {
        let f = self.file_of_live(db);
        let w = &mut self.walks[f];
        if w.adopted.is_some() {
            return;
        }
        if w.finished && self.partial.as_ref().is_none_or(|p| p.file_db != f) {
            return;
        }
        w.adopted = Some(dict);
    }

    fn swapped(&mut self, a: usize, b: usize) {
        let fa = self.file_of_live(a);
        let fb = self.file_of_live(b);
        self.live_of_file.swap(fa, fb);
    }
}
