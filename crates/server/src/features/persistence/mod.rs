//! RDB persistence: SAVE, BGSAVE (fork-free, see `persist::snapshot`), LASTSAVE, `save`
//! points, DUMP/RESTORE, loading at start-up, and the state INFO persistence reports.
//!
//! A background save is a [`persist::snapshot::Snapshot`] hooked into the engine's dbs. The
//! loop calls [`background_step`] once per turn: when a slice is due it walks a bounded
//! slice of the keyspace (about [`STEP_BYTES`] of output; the next slice after twice the
//! time it took, so the loop sleeps between slices) and hands the bytes to the ring as file
//! writes through [`crate::fileio`] (one in flight; completions in [`on_file_done`]), with an
//! fdatasync every [`AUTOSYNC_BYTES`] under `rdb-save-incremental-fsync` /
//! `aof-rewrite-incremental-fsync`. When the walk ends the file is fsynced through the ring,
//! renamed over its target (`dbfilename` in `dir`, or the AOF's new base), and the directory
//! fsynced through the ring.
//!
//! Invariants: at most one snapshot runs; its temp file is `temp-bgsave-<pid>.rdb` (SAVE's
//! is `temp-<pid>.rdb`: both may exist at once) beside the target, removed on failure;
//! `lastsave` and the dirty baseline move only when a save succeeded; output not yet written
//! to the file stays bounded ([`MAX_BUFFERED`]: the walk pauses while the disk catches up).

pub mod commands;
pub mod load;

use crate::fileio::{Owner, Sync};
use crate::server::Server;
use persist::rdb::write::SaveOptions;
use persist::snapshot::{Purpose, Snapshot};
use std::cell::RefCell;
use std::fs::File;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::Instant;

/// Output per slice of a background save: about 0.05 ms of work (1M small keys SAVE in
/// 0.9 s, 69 MB), so a client's request waits at most that long behind the walk. With the
/// duty cycle below, measured on 2 cores (docs/BENCHMARKS.md): p99.9 during back-to-back
/// BGSAVEs of 1M keys +1.5 ms over idle (Redis +3.3 ms), each BGSAVE 5 s (Redis 1.9 s).
pub const STEP_BYTES: usize = 4 * 1024;
/// Output produced but not yet written, beyond which the walk waits for the disk.
pub const MAX_BUFFERED: usize = 8 * 1024 * 1024;
/// Redis's `REDIS_AUTOSYNC_BYTES`: with the incremental-fsync directives, the file is
/// fdatasynced every this many bytes while it is written, so the kernel never holds a whole
/// snapshot of dirty pages to flush at the end.
pub const AUTOSYNC_BYTES: u64 = 4 * 1024 * 1024;
/// Redis's `CONFIG_BGSAVE_RETRY_DELAY`: after a failed BGSAVE, save points wait this long.
const BGSAVE_RETRY_DELAY_S: i64 = 5;

/// What INFO persistence and LASTSAVE report, and the running background save.
pub struct Persistence {
    /// Unix seconds of the last successful save (the start time until one happens).
    pub lastsave: i64,
    pub last_bgsave_ok: bool,
    /// Duration of the last background save, or -1.
    pub last_bgsave_time_sec: i64,
    /// Unix seconds of the last BGSAVE attempt (for the retry delay after a failure).
    pub last_bgsave_try: i64,
    /// `engine.dirty` as of the data in the last successful save.
    pub dirty_at_save: u64,
    /// `rdb_saves`: successful saves, foreground and background.
    pub saves: u64,
    /// `BGSAVE SCHEDULE` (or BGSAVE inside EXEC) waiting for the running snapshot to end.
    pub bgsave_scheduled: bool,
    pub bg: Option<Background>,
    /// Clients (slab key, generation) whose next request waits for the snapshot to write a
    /// big value (see [`write_must_wait`]); the loop retries them after each slice.
    pub waiters: Vec<(usize, u32)>,
    /// The next background save's id: tags its ring requests, so a completion of an
    /// abandoned save never counts for a later one.
    next_id: u64,
    /// Keys loaded / skipped as expired by the last load (INFO's `rdb_last_load_keys_*`).
    pub last_load_keys_loaded: u64,
    pub last_load_keys_expired: u64,
}

impl Persistence {
    pub fn new(start_unix: i64) -> Persistence {
        Persistence {
            lastsave: start_unix,
            last_bgsave_ok: true,
            last_bgsave_time_sec: -1,
            last_bgsave_try: 0,
            dirty_at_save: 0,
            saves: 0,
            bgsave_scheduled: false,
            bg: None,
            waiters: Vec::new(),
            next_id: 1,
            last_load_keys_loaded: 0,
            last_load_keys_expired: 0,
        }
    }

    /// When the loop must run a turn for the background save at the latest (it must not
    /// sleep longer): `Some(ZERO)` when a slice is due, `None` when the walk waits for the
    /// disk (a completion wakes the loop) or no save runs.
    pub fn next_step_in(&self) -> Option<std::time::Duration> {
        let b = self.bg.as_ref()?;
        if b.walk_done || b.failed.is_some() || b.queued.len() >= MAX_BUFFERED {
            return None;
        }
        Some(b.next_step_at.saturating_duration_since(Instant::now()))
    }

    /// The running background save, if it is a BGSAVE (not an AOF rewrite's base): INFO's
    /// `rdb_bgsave_in_progress`, what BGSAVE/SAVE refuse and FLUSHALL abandons.
    pub fn rdb_bgsave(&self) -> Option<&Background> {
        self.bg.as_ref().filter(|b| b.purpose == Purpose::Rdb)
    }

    /// The running background save, if it writes an AOF rewrite's base: INFO's
    /// `aof_rewrite_in_progress`.
    pub fn aof_rewrite(&self) -> Option<&Background> {
        self.bg.as_ref().filter(|b| b.purpose == Purpose::AofBase)
    }

    /// `rdb_changes_since_last_save`.
    pub fn changes_since_save(&self, dirty: u64) -> u64 {
        dirty.saturating_sub(self.dirty_at_save)
    }
}

/// A background save in progress.
pub struct Background {
    /// Tags this save's ring requests (`token = id << 2 | kind`).
    id: u64,
    pub snap: Rc<RefCell<Snapshot>>,
    pub purpose: Purpose,
    /// Diskless replication (`repl-diskless-sync`): the bytes go to the replicas waiting
    /// for them instead of a file (`file` is then `/dev/null`, never written).
    pub diskless: bool,
    file: File,
    tmp: PathBuf,
    target: PathBuf,
    started: Instant,
    dirty_at_start: u64,
    /// Bytes taken from the snapshot, waiting for the file.
    queued: Vec<u8>,
    /// A write or the final fsync is on the ring (one at a time, so writes stay in order
    /// and the buffered bytes bounded).
    io_inflight: bool,
    /// A spare buffer from the last completed write, reused for the next batch.
    spare: Vec<u8>,
    /// File offset of the next write.
    offset: u64,
    /// `rdb-save-incremental-fsync` (or `aof-rewrite-incremental-fsync` for an AOF base):
    /// fdatasync every [`AUTOSYNC_BYTES`]; `synced_to` is the offset the last one covered.
    autosync: bool,
    synced_to: u64,
    fsync_done: bool,
    /// After the rename: the directory, whose fsync (on the ring) makes the rename durable.
    dir: Option<File>,
    dir_synced: bool,
    walk_done: bool,
    /// The walk's duty cycle: the next slice runs no earlier than this.
    next_step_at: Instant,
    failed: Option<String>,
    /// Abandoned on purpose (FLUSHALL; Redis kills its child with SIGUSR1): not a failure
    /// for `rdb_last_bgsave_status`.
    aborted: bool,
}

impl Background {
    /// Seconds since the save started (INFO's `rdb_current_bgsave_time_sec`).
    pub fn elapsed_secs(&self) -> i64 {
        self.started.elapsed().as_secs() as i64
    }
}

/// Redis's `-MISCONF` text for writes refused after a failed background save.
pub const MISCONF_RDB: &str = "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Commands that may modify the data set are disabled, because this instance is configured to report errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Redis logs for details about the RDB error.";

/// Why writes are refused now, if they are (Redis's `writeCommandsDeniedByDiskError`): the
/// last background save failed, `save` points exist and `stop-writes-on-bgsave-error` is on.
pub fn writes_denied(server: &Server) -> Option<&'static str> {
    let c = &server.config;
    (c.compat.stop_writes_on_bgsave_error
        && !c.save.is_empty()
        && !server.persistence.last_bgsave_ok)
        .then_some(MISCONF_RDB)
}

/// The save options from the config (`rdbcompression`, `rdbchecksum`).
pub fn save_options(server: &Server) -> SaveOptions {
    SaveOptions {
        compression: server.config.compat.rdbcompression,
        checksum: server.config.compat.rdbchecksum,
    }
}

/// `dir`/`dbfilename`.
pub fn rdb_path(server: &Server) -> PathBuf {
    let name = String::from_utf8_lossy(&server.config.compat.dbfilename).into_owned();
    server.config.dir.join(name)
}

fn unix_now(server: &Server) -> i64 {
    server.now_ms().div_euclid(1000)
}

fn used_memory() -> u64 {
    crate::alloc::used_memory() as u64
}

/// After FLUSHALL (Redis's `flushAllDataAndResetRDB`): a background RDB save is abandoned,
/// and with save points the empty dataset is saved at once, so a restart does not bring the
/// flushed keys back. (An AOF rewrite's snapshot keeps going: it adopted the old dicts.)
pub fn after_flushall(server: &mut Server) {
    if server.persistence.rdb_bgsave().is_some() {
        abort_background(server);
    }
    if !server.config.save.is_empty() {
        let path = rdb_path(server);
        let saves = server.persistence.saves;
        let _ = save_sync(server, &path);
        // Not counted in `rdb_saves`, as in Redis.
        server.persistence.saves = saves;
    }
}

/// SAVE: the whole keyspace written at once, blocking the loop as Redis's SAVE does.
pub fn save_sync(server: &mut Server, path: &Path) -> Result<(), String> {
    let tmp = path.with_file_name(format!("temp-{}.rdb", std::process::id()));
    let autosync = server.config.compat.rdb_save_incremental_fsync;
    let repl = crate::features::replication::save_info(server).unwrap_or_default();
    let res = write_file_durably(&tmp, |file| {
        let mut w = AutoSync {
            file,
            autosync,
            unsynced: 0,
        };
        let info = persist::rdb::write::ImageInfo {
            ctime_secs: unix_now(server),
            used_mem: used_memory(),
            aof_base: false,
            repl: &repl,
        };
        persist::rdb::write::write_to(
            &server.engine,
            &crate::features::script::function::library_codes(server),
            save_options(server),
            info,
            &mut w,
        )
    })
    .and_then(|()| {
        let replaced = File::open(path).ok();
        let renamed = std::fs::rename(&tmp, path);
        crate::sys::close_in_background(replaced);
        renamed.map_err(|e| {
            format!(
                "Error moving temp DB file {} on the final destination {} (in server root dir {}): {e}",
                tmp.display(),
                path.display(),
                server.config.dir.display()
            )
        })
    });
    match res {
        Ok(()) => {
            fsync_dir(path);
            log::info!("DB saved on disk");
            server.persistence.dirty_at_save = server.engine.dirty;
            server.persistence.lastsave = unix_now(server);
            server.persistence.saves += 1;
            Ok(())
        }
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            log::warn!("{e}");
            Err(e)
        }
    }
}

/// Creates `path`, lets `write` fill it, fsyncs it.
fn write_file_durably(
    path: &Path,
    write: impl FnOnce(&mut File) -> std::io::Result<()>,
) -> Result<(), String> {
    let mut f = File::create(path).map_err(|e| {
        format!(
            "Failed opening the temp RDB file {} (in server root dir {}) for saving: {e}",
            path.display(),
            std::env::current_dir()
                .map(|d| d.display().to_string())
                .unwrap_or_else(|_| "unknown".into())
        )
    })?;
    write(&mut f)
        .and_then(|()| f.sync_all())
        .map_err(|e| format!("Write error saving DB on disk: {e}"))
}

/// The directory holding `path` (`.` for a bare name).
pub(crate) fn dir_of(path: &Path) -> &Path {
    path.parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// Makes a rename durable (Redis's `fsyncFileDir`). Best effort.
fn fsync_dir(path: &Path) {
    if let Ok(d) = File::open(dir_of(path)) {
        let _ = d.sync_all();
    }
}

/// A file being written by SAVE, fdatasynced every [`AUTOSYNC_BYTES`] when `autosync`
/// (`rdb-save-incremental-fsync`), as Redis's rio auto-sync.
struct AutoSync<'f> {
    file: &'f mut File,
    autosync: bool,
    unsynced: u64,
}

impl std::io::Write for AutoSync<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.file.write(buf)?;
        self.unsynced += n as u64;
        if self.autosync && self.unsynced >= AUTOSYNC_BYTES {
            self.file.sync_data()?;
            self.unsynced = 0;
        }
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}

/// Why a background save could not start.
#[derive(Debug)]
pub enum StartError {
    Busy,
    Io(String),
}

/// Starts a background save of the keyspace into `target` (through `temp-<pid>.rdb`).
pub fn start_background(
    server: &mut Server,
    target: PathBuf,
    purpose: Purpose,
) -> Result<(), StartError> {
    // An RDB carries the replication fields (an AOF's base does not, as in Redis).
    let repl = match purpose {
        Purpose::Rdb => crate::features::replication::save_info(server).unwrap_or_default(),
        _ => Vec::new(),
    };
    start(server, target, purpose, false, &repl)
}

/// A snapshot for replication (`aux`: the `repl-stream-db`/`repl-id`/`repl-offset` fields
/// Redis writes for it), to the RDB file or, `diskless`, to the replicas waiting for it
/// (see `features::replication`).
pub fn start_background_for_replicas(
    server: &mut Server,
    diskless: bool,
    aux: &[(&[u8], Vec<u8>)],
) -> Result<(), StartError> {
    let target = if diskless {
        PathBuf::from("/dev/null")
    } else {
        rdb_path(server)
    };
    start(server, target, Purpose::Rdb, diskless, aux)
}

fn start(
    server: &mut Server,
    target: PathBuf,
    purpose: Purpose,
    diskless: bool,
    aux: &[(&[u8], Vec<u8>)],
) -> Result<(), StartError> {
    if server.persistence.bg.is_some() || server.engine.snapshot_running() {
        return Err(StartError::Busy);
    }
    server.persistence.last_bgsave_try = unix_now(server);
    // Not SAVE's `temp-<pid>.rdb`: a SAVE (FLUSHALL's, DEBUG RELOAD's) may run while this
    // file is still being written (Redis's child has its own pid, hence its own name).
    let tmp = target.with_file_name(format!("temp-bgsave-{}.rdb", std::process::id()));
    let opened = if diskless {
        File::open("/dev/null")
    } else {
        File::create(&tmp)
    };
    let file = match opened {
        Ok(f) => f,
        Err(e) => {
            let msg = format!(
                "Failed opening the temp RDB file {} (in server root dir {}) for saving: {e}",
                tmp.display(),
                server.config.dir.display()
            );
            log::warn!("{msg}");
            if purpose == Purpose::Rdb {
                server.persistence.last_bgsave_ok = false;
            }
            return Err(StartError::Io(msg));
        }
    };
    let snap = Rc::new(RefCell::new(Snapshot::new(
        server.engine.dbs.len(),
        save_options(server),
        purpose,
        unix_now(server),
        used_memory(),
        &crate::features::script::function::library_codes(server),
        aux,
    )));
    let epoch = server.engine.begin_snapshot(snap.clone());
    snap.borrow_mut().set_epoch(epoch);
    if !diskless {
        log::info!("Background saving started");
    }
    let id = server.persistence.next_id;
    server.persistence.next_id += 1;
    server.persistence.bg = Some(Background {
        id,
        snap,
        purpose,
        diskless,
        file,
        tmp,
        target,
        started: Instant::now(),
        dirty_at_start: server.engine.dirty,
        queued: Vec::new(),
        io_inflight: false,
        spare: Vec::new(),
        offset: 0,
        autosync: match purpose {
            Purpose::Rdb => server.config.compat.rdb_save_incremental_fsync,
            Purpose::AofBase => server.config.compat.aof_rewrite_incremental_fsync,
        },
        synced_to: 0,
        fsync_done: false,
        dir: None,
        dir_synced: false,
        walk_done: false,
        next_step_at: Instant::now(),
        failed: None,
        aborted: false,
    });
    Ok(())
}

/// One turn's share of the background save: walks a slice (unless the disk is behind) and
/// queues what it produced as the next file write.
pub fn background_step(server: &mut Server) {
    // `rdb-key-save-delay` (a testing knob, per key): one bucket per slice, the next after
    // the keys' delay instead of sleeping in the loop.
    let key_delay = server.config.compat.rdb_key_save_delay;
    // A diskless sync walks only while its replicas take the bytes.
    let replicas_full = server.persistence.bg.as_ref().is_some_and(|b| b.diskless)
        && crate::features::replication::rdb_output_full(server);
    let Server {
        persistence,
        engine,
        ..
    } = server;
    let Some(bg) = persistence.bg.as_mut() else {
        return;
    };
    let now = Instant::now();
    if bg.failed.is_none()
        && !bg.walk_done
        && bg.queued.len() < MAX_BUFFERED
        && !replicas_full
        && now >= bg.next_step_at
    {
        let mut snap = bg.snap.borrow_mut();
        let keys_before = snap.keys;
        let budget = if key_delay != 0 { 1 } else { STEP_BYTES };
        bg.walk_done = snap.step(engine, budget);
        // At most a third of the loop's time: after a slice, twice as long for the clients
        // (and idle time, which keeps the thread a "sleeper" the scheduler wakes promptly).
        bg.next_step_at = Instant::now() + now.elapsed() * 2;
        if key_delay != 0 {
            let keys = u32::try_from(snap.keys - keys_before).unwrap_or(u32::MAX);
            bg.next_step_at += load::delay(key_delay) * keys;
        }
        let out = snap.take_output();
        drop(snap);
        if bg.queued.is_empty() {
            bg.queued = out;
        } else {
            bg.queued.extend_from_slice(&out);
        }
        if bg.walk_done {
            // Writes stop calling the hook: everything is in the output now.
            engine.end_snapshot();
        }
    } else if !bg.walk_done {
        // Bytes preserved by writes since the last turn.
        let out = bg.snap.borrow_mut().take_output();
        bg.queued.extend_from_slice(&out);
    }
    next_file_op(server);
}

/// Queues the next write (or the final fsync) when nothing is on the ring; ends the save
/// once the fsync is done or a failure is recorded.
fn next_file_op(server: &mut Server) {
    let Some(bg) = server.persistence.bg.as_mut() else {
        return;
    };
    if bg.io_inflight {
        return;
    }
    if bg.failed.is_some() {
        finish_background(server, false);
        return;
    }
    if bg.diskless {
        let bytes = std::mem::take(&mut bg.queued);
        let done = bg.walk_done;
        crate::features::replication::feed_rdb(server, &bytes);
        if done {
            finish_background(server, true);
        }
        return;
    }
    let fd = bg.file.as_raw_fd();
    if !bg.queued.is_empty() {
        let buf = std::mem::replace(&mut bg.queued, std::mem::take(&mut bg.spare));
        bg.io_inflight = true;
        let offset = bg.offset;
        let end = offset + buf.len() as u64;
        let sync = if bg.autosync && end - bg.synced_to >= AUTOSYNC_BYTES {
            Sync::Data
        } else {
            Sync::None
        };
        server
            .fileio
            .write(Owner::Snapshot, bg.id << 2, fd, offset, buf, sync);
        return;
    }
    if bg.walk_done {
        if !bg.fsync_done {
            bg.io_inflight = true;
            server
                .fileio
                .sync(Owner::Snapshot, bg.id << 2 | 1, fd, Sync::Full);
        } else if bg.dir_synced {
            finish_background(server, true);
        } else {
            // The file is durable: rename it over the target, then fsync the directory
            // (Redis's `fsyncFileDir`) on the ring too, so the loop never waits for the disk.
            // The file replaced is held open across the rename and closed on another
            // thread: freeing its blocks inside rename(2) stalled the loop ~30 ms per 70 MB.
            let replaced = File::open(&bg.target).ok();
            let renamed = std::fs::rename(&bg.tmp, &bg.target);
            crate::sys::close_in_background(replaced);
            if let Err(e) = renamed {
                bg.failed = Some(format!(
                    "Error moving temp DB file {} on the final destination {}: {e}",
                    bg.tmp.display(),
                    bg.target.display()
                ));
                finish_background(server, false);
                return;
            }
            match File::open(dir_of(&bg.target)) {
                Ok(d) => {
                    let dfd = d.as_raw_fd();
                    bg.dir = Some(d);
                    bg.io_inflight = true;
                    server
                        .fileio
                        .sync(Owner::Snapshot, bg.id << 2 | 2, dfd, Sync::Full);
                }
                Err(_) => finish_background(server, true),
            }
        }
    }
}

/// A write or the fsync of the background save completed.
pub fn on_file_done(server: &mut Server, d: crate::fileio::Done) {
    let Some(bg) = server.persistence.bg.as_mut() else {
        return;
    };
    if d.token >> 2 != bg.id {
        // A request of an abandoned save (its fd is closed; its file removed).
        return;
    }
    bg.io_inflight = false;
    bg.offset += d.written as u64;
    if let Err(errno) = d.result {
        bg.failed = Some(format!(
            "Write error saving DB on disk: {}",
            std::io::Error::from_raw_os_error(errno)
        ));
    } else if d.token & 3 == 1 {
        bg.fsync_done = true;
    } else if d.token & 3 == 2 {
        bg.dir_synced = true;
    } else {
        if d.synced {
            bg.synced_to = bg.offset;
        }
        let mut buf = d.buf;
        buf.clear();
        bg.spare = buf;
    }
    next_file_op(server);
}

/// Ends the background save: renames the file over the target on success, else removes it.
fn finish_background(server: &mut Server, ok: bool) {
    let Some(bg) = server.persistence.bg.take() else {
        return;
    };
    server.engine.end_snapshot();
    let secs = bg.started.elapsed().as_secs() as i64;
    let ok = ok && bg.failed.is_none();
    if bg.aborted {
        log::warn!("Background saving terminated by signal 10");
    } else if let Some(e) = &bg.failed {
        log::warn!("{e}");
    }
    drop(bg.file);
    drop(bg.dir);
    if bg.diskless {
        // Redis's backgroundSaveDoneHandlerSocket: no save happened as far as LASTSAVE,
        // save points and INFO's bgsave status are concerned.
        crate::features::replication::diskless_done(server, ok);
        return;
    }
    // Renamed already when `ok` (see `next_file_op`).
    if !ok {
        let _ = std::fs::remove_file(&bg.tmp);
    }
    let now = unix_now(server);
    let p = &mut server.persistence;
    match bg.purpose {
        Purpose::Rdb if bg.aborted => {}
        Purpose::Rdb => {
            p.last_bgsave_ok = ok;
            p.last_bgsave_time_sec = secs;
            if ok {
                log::info!("Background saving terminated with success");
                p.dirty_at_save = bg.dirty_at_start;
                p.lastsave = now;
                p.saves += 1;
            } else {
                log::warn!("Background saving error");
            }
            crate::features::replication::snapshot_done(server, ok, &bg.target);
        }
        Purpose::AofBase => {
            if ok {
                log::info!("Background AOF buffer size: 0 MB");
            }
            crate::features::aof::rewrite::background_done(server, ok, &bg.target, secs);
        }
    }
}

/// Abandons a running background save (FLUSHALL does this in Redis; also shutdown).
pub fn abort_background(server: &mut Server) {
    if let Some(bg) = server.persistence.bg.as_mut() {
        bg.failed = Some("Background saving aborted".into());
        bg.aborted = true;
        if !bg.io_inflight {
            finish_background(server, false);
        }
    }
}

/// The cron's part (Redis's `serverCron`): start a scheduled BGSAVE, or one due to a `save`
/// point: at least `changes` changes and more than `seconds` since the last save, and not
/// right after a failed attempt.
pub fn cron(server: &mut Server) {
    if server.persistence.bg.is_some() {
        return;
    }
    let now = unix_now(server);
    let p = &server.persistence;
    let changes = p.changes_since_save(server.engine.dirty);
    let retry_ok = now - p.last_bgsave_try > BGSAVE_RETRY_DELAY_S || p.last_bgsave_ok;
    let due = if p.bgsave_scheduled {
        Some(None)
    } else {
        server
            .config
            .save
            .iter()
            .find(|&&(secs, min_changes)| {
                changes >= min_changes as u64 && now - p.lastsave > secs && retry_ok
            })
            .map(|&(secs, _)| Some(secs))
    };
    let Some(point) = due else {
        return;
    };
    if let Some(secs) = point {
        log::info!("{changes} changes in {secs} seconds. Saving...");
    }
    server.persistence.bgsave_scheduled = false;
    let target = rdb_path(server);
    let _ = start_background(server, target, Purpose::Rdb);
}

/// A shutdown stopped because its save failed (see [`prepare_shutdown`]).
#[derive(Debug)]
pub struct ShutdownRefused;

/// The RDB side of a shutdown (Redis's `prepareForShutdown`): abandons a background save,
/// then saves when asked (`SAVE`), or by default when `save` points are configured, unless
/// `NOSAVE`. A failed save stops the shutdown unless `force`.
pub fn prepare_shutdown(
    server: &mut Server,
    save: Option<bool>,
    force: bool,
) -> Result<(), ShutdownRefused> {
    crate::sys::notify_status("STOPPING=1\n");
    if let Some(bg) = server.persistence.bg.as_ref() {
        log::warn!("There is a child saving an .rdb. Killing it!");
        let tmp = (!bg.diskless).then(|| bg.tmp.clone());
        // Ends now, or when its write on the ring completes (the fd stays open until then,
        // so a refused shutdown leaves nothing dangling); its file goes now, as Redis's
        // `rdbRemoveTempFile`.
        abort_background(server);
        if let Some(tmp) = tmp {
            let _ = std::fs::remove_file(&tmp);
        }
    }
    let wanted = save.unwrap_or(!server.config.save.is_empty());
    if wanted {
        log::warn!("Saving the final RDB snapshot before exiting.");
        let path = rdb_path(server);
        if save_sync(server, &path).is_err() && !force {
            log::warn!("Error trying to save the DB, can't exit.");
            return Err(ShutdownRefused);
        }
    }
    Ok(())
}

/// Start-up (Redis's `loadDataFromDisk` without an AOF): loads `dir`/`dbfilename` if it
/// exists. An unreadable or corrupt file is fatal, with Redis's wording and the offset.
pub fn load_at_startup(server: &mut Server) -> Result<Option<load::LoadStats>, String> {
    let path = rdb_path(server);
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("Fatal error loading the DB: {e}. Exiting.")),
    };
    let start = Instant::now();
    let flags = load::Flags {
        drop_expired: true,
        merge: false,
        key_delay: server.config.compat.key_load_delay,
    };
    match load::load_into(server, &bytes, flags) {
        Ok(stats) => {
            log::info!(
                "Done loading RDB, keys loaded: {}, keys expired: {}.",
                stats.loaded,
                stats.expired
            );
            log::warn!(
                "DB loaded from disk: {:.3} seconds",
                start.elapsed().as_secs_f64()
            );
            server.persistence.last_load_keys_loaded = stats.loaded;
            server.persistence.last_load_keys_expired = stats.expired;
            // What was just loaded is what the file holds.
            server.persistence.dirty_at_save = server.engine.dirty;
            Ok(Some(stats))
        }
        Err(e) => Err(format!(
            "Fatal error loading the DB ({}): {e}. Exiting.",
            path.display()
        )),
    }
}

/// DEBUG RELOAD: save (unless `save` is false), empty the keyspace (unless `flush` is false),
/// load the file back (`merge`: keys present already are replaced).
pub fn debug_reload(
    server: &mut Server,
    merge: bool,
    flush: bool,
    save: bool,
) -> Result<(), &'static str> {
    let path = rdb_path(server);
    if save && save_sync(server, &path).is_err() {
        return Err("ERR");
    }
    if flush {
        for i in 0..server.engine.dbs.len() {
            server.engine.touch_watched_on_flush(i);
            server.engine.dbs[i].clear();
        }
    }
    let bytes = std::fs::read(&path).map_err(|e| {
        log::warn!("Fatal error loading the DB: {e}");
        "ERR Error trying to load the RDB dump, check server logs."
    })?;
    let flags = load::Flags {
        drop_expired: true,
        merge,
        key_delay: server.config.compat.key_load_delay,
    };
    match load::load_into(server, &bytes, flags) {
        Ok(stats) => {
            server.persistence.last_load_keys_loaded = stats.loaded;
            server.persistence.last_load_keys_expired = stats.expired;
            log::warn!("DB reloaded by DEBUG RELOAD");
            Ok(())
        }
        Err(e) => {
            log::warn!("Error loading the RDB dump: {e}");
            Err("ERR Error trying to load the RDB dump, check server logs.")
        }
    }
}

/// Whether client `key`'s next request must wait for the running snapshot: it writes (a
/// `write` command run now, or EXEC of queued writes) a key whose big value the snapshot
/// has not written yet. Writing it first inside the hook would stall every client for as
/// long as the value takes (66 ms for a million-member sorted set); instead the snapshot
/// writes it ahead of its walk, in bounded steps across turns, while this client alone
/// waits (its later requests too, so its order holds) and the others are served.
pub fn write_must_wait(server: &mut Server, key: usize, args: &[&[u8]]) -> bool {
    use engine::commands::table::flags::WRITE;
    let Some(bg) = server.persistence.bg.as_ref() else {
        return false;
    };
    if bg.walk_done || !server.engine.snapshot_running() {
        return false;
    }
    let snap = bg.snap.clone();
    let table = server.table;
    let Some(mut row) = table.lookup(args[0]) else {
        return false;
    };
    if !row.meta.subcommands.is_empty()
        && args.len() >= 2
        && let Some(sub) = crate::dispatch::gate::lookup_sub(table, row.meta.name, args[1])
    {
        row = sub;
    }
    if !row.meta.arity_ok(args.len()) {
        return false;
    }
    let c = &server.clients[key];
    let mut keys = Vec::new();
    let mut check = |db: usize, meta: &engine::commands::table::CommandMeta, argv: &[&[u8]]| {
        if meta.flags & WRITE == 0 {
            return false;
        }
        keys.clear();
        meta.keys(argv, &mut keys);
        let snap_ref = snap.borrow();
        let mut wait = false;
        for k in &keys {
            let name = argv[k.pos];
            if let Some(e) = server.engine.dbs[db].entry_raw(name)
                && snap_ref.must_wait_for(e)
            {
                wait = true;
                drop(snap_ref);
                snap.borrow_mut().prioritize(db, name);
                return wait;
            }
        }
        wait
    };
    if c.multi.active {
        if row.meta.name != "exec" {
            // Queued, not run: EXEC decides.
            return false;
        }
        // EXEC runs every queued command: any of them writing a big unwritten value waits
        // (in the db a queued SELECT chose).
        let mut argv = Vec::new();
        let mut db = c.session.db;
        for q in &c.multi.cmds {
            c.multi.argv(q, &mut argv);
            let meta = table.rows()[q.row].meta;
            if meta.name == "select" {
                if let Some(n) = argv
                    .get(1)
                    .and_then(|a| resp::num::parse_i64(a))
                    .and_then(|n| usize::try_from(n).ok())
                    .filter(|&n| n < server.engine.dbs.len())
                {
                    db = n;
                }
                continue;
            }
            if check(db, meta, &argv) {
                return true;
            }
        }
        return false;
    }
    check(c.session.db, row.meta, args)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// SAVE's writer syncs once 4 MiB have gone out since the last sync
    /// (`rdb-save-incremental-fsync`; `write_to` hands it 1 MiB chunks) and passes every byte
    /// through unchanged.
    #[test]
    fn autosync_syncs_every_4_mib_and_keeps_the_bytes() {
        let path = std::env::temp_dir().join(format!("ringkv-autosync-{}", std::process::id()));
        let mut f = File::create(&path).unwrap();
        let data: Vec<u8> = (0..9 * 1024 * 1024u32).map(|i| i as u8).collect();
        let mut w = AutoSync {
            file: &mut f,
            autosync: true,
            unsynced: 0,
        };
        for chunk in data.chunks(1024 * 1024) {
            w.write_all(chunk).unwrap();
        }
        // 9 MiB written: synced at 4 and 8 MiB, 1 MiB since.
        assert!(w.unsynced < AUTOSYNC_BYTES, "{}", w.unsynced);
        assert_eq!(w.unsynced % AUTOSYNC_BYTES, 1024 * 1024);
        let mut off = AutoSync {
            file: &mut f,
            autosync: false,
            unsynced: 0,
        };
        off.write_all(&data[..AUTOSYNC_BYTES as usize + 1]).unwrap();
        assert_eq!(off.unsynced, AUTOSYNC_BYTES + 1, "no sync when off");
        drop(f);
        let back = std::fs::read(&path).unwrap();
        let _ = std::fs::remove_file(&path);
        assert_eq!(&back[..data.len()], &data[..]);
    }
}
