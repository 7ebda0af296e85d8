//! The append-only file, as Redis 7.0's multi-part AOF (`aof.c`): the policy around the
//! formats of `persist::aof`.
//!
//! - Writing: the engine's sink ([`persist::aof::AofSink`]) buffers the propagated stream;
//!   once per loop turn ([`before_sleep`], Redis's `flushAppendOnlyFile` in `beforeSleep`)
//!   the turn's bytes go to the current incremental file: under `everysec` and `no` with
//!   one `pwrite` before the turn's replies are sent, as Redis writes (a crash of the process
//!   then loses no acknowledged write; a page-cache write does not wait for the disk);
//!   under `always` as one ring write with its fdatasync linked ([`crate::fileio`]), at most
//!   one in flight (what arrives meanwhile goes in the next: group commit).
//! - Replies wait for their data: the loop holds a connection whose output was produced
//!   after AOF bytes were taken (`Conn::aof_hold` > [`Aof::durable`]) until they are durable
//!   for the policy (written, or written and fsynced); [`on_file_done`] wakes it. Under
//!   `everysec`/`no` the write is done by then, so nothing is held.
//! - `appendfsync always`: the write carries a linked `fdatasync` and `durable` advances
//!   only when both completed (group commit: one fsync per turn's bytes). `everysec`: a
//!   separate fdatasync at most once a second, off the loop's path (the ring runs it).
//!   `no`: never.
//! - Failures as 7.0: under `always` a failed write or fsync exits the process (nothing
//!   unsynced was acknowledged); otherwise `aof_last_write_status:err`, the bytes are kept
//!   and retried once a second, and write commands get `-MISCONF` until a write succeeds.
//! - Start-up ([`load::load`]): the manifest, base and incrementals replayed through the one
//!   runner with a socket-less client; then [`open_on_start`] creates the base and the
//!   incremental Redis would.
//! - Rewrite ([`rewrite`]): BGREWRITEAOF, the automatic one and `CONFIG SET appendonly yes`
//!   write the base with the fork-free snapshot in the background. Turning the AOF on
//!   streams to a temp incremental file (`temp-<appendfilename>.incr`, not in the manifest)
//!   until that first base is complete, as Redis's `AOF_WAIT_REWRITE`; a failed first base is
//!   retried after 5 s.

pub mod load;
pub mod rewrite;

use crate::fileio::{Done, Owner, Sync};
use crate::server::Server;
use persist::aof::{AofSink, Manifest, manifest};
use std::fs::File;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::PathBuf;

/// fileio tokens: what a completed AOF request was.
const TOKEN_WRITE: u64 = 0;
const TOKEN_SYNC: u64 = 1;

/// `appendfsync` values as the config stores them.
pub const FSYNC_EVERYSEC: u8 = 0;
pub const FSYNC_ALWAYS: u8 = 1;

/// The AOF's state (Redis's `aof_*` server fields).
#[derive(Debug)]
pub struct Aof {
    /// Redis's `aof_state == AOF_ON`.
    pub on: bool,
    pub manifest: Manifest,
    /// The incremental file being appended to.
    fd: Option<OwnedFd>,
    /// Its size including the write in flight.
    write_off: u64,
    /// Bytes taken from the sink and not yet handed to a write.
    pending: Vec<u8>,
    /// The logical end (in `appended` terms) of the write in flight.
    write_inflight: Option<u64>,
    /// When the write in flight (with its fsync, under `always`) was submitted: the latency
    /// monitor's `aof-fsync-always` is how long replies waited for it.
    write_started: Option<std::time::Instant>,
    sync_inflight: bool,
    /// Bytes taken from the sink since start (a logical offset across files).
    pub appended: u64,
    /// Of those, the bytes whose write (and, under `always`, fsync) completed: replies
    /// produced before this point may go out.
    pub durable: u64,
    /// Bytes a synchronous flush wrote and synced while a ring write was still in flight:
    /// durable once that write completes.
    flushed_to: u64,
    /// Written since the last fsync (`everysec`).
    unsynced: bool,
    last_fsync_ms: i64,
    /// Connections whose output waits for `durable` (`always`).
    pub held: Vec<usize>,
    /// A rewrite waits for the writes in flight.
    pub rewrite_scheduled: bool,
    /// Last write failed (errno), until one succeeds.
    pub write_error: Option<i32>,
    last_write_retry_ms: i64,
    /// Files closed while a request on them was in flight; dropped when idle.
    retired: Vec<OwnedFd>,
    /// INFO fields.
    pub current_size: u64,
    pub base_size: u64,
    pub rewrites: u64,
    pub last_rewrite_time_sec: i64,
    pub last_bgrewrite_ok: bool,
    pub rewrites_consecutive_failures: u64,
    /// Turned on at runtime and waiting for its first base (Redis's `AOF_WAIT_REWRITE`): the
    /// stream goes to the temp incremental file, which joins the manifest with the base.
    pub waiting_base: bool,
    /// A failed first base is retried no earlier than this (Unix ms).
    pub rewrite_retry_at_ms: i64,
}

impl Default for Aof {
    fn default() -> Aof {
        Aof {
            on: false,
            manifest: Manifest::default(),
            fd: None,
            write_off: 0,
            pending: Vec::new(),
            write_inflight: None,
            write_started: None,
            sync_inflight: false,
            appended: 0,
            durable: 0,
            flushed_to: 0,
            unsynced: false,
            last_fsync_ms: 0,
            held: Vec::new(),
            rewrite_scheduled: false,
            write_error: None,
            last_write_retry_ms: 0,
            retired: Vec::new(),
            current_size: 0,
            base_size: 0,
            rewrites: 0,
            last_rewrite_time_sec: -1,
            last_bgrewrite_ok: true,
            rewrites_consecutive_failures: 0,
            waiting_base: false,
            rewrite_retry_at_ms: 0,
        }
    }
}

impl Aof {
    /// Whether ring requests of the AOF are outstanding.
    pub fn io_busy(&self) -> bool {
        self.write_inflight.is_some() || self.sync_inflight
    }

    /// Bytes not yet handed to a write (INFO `aof_buffer_length`).
    pub fn buffer_len(&self) -> usize {
        self.pending.len()
    }
}

/// `dir/appenddirname`.
pub fn aof_dir(server: &Server) -> PathBuf {
    let c = &server.config;
    c.dir.join(os(&c.compat.appenddirname))
}

pub(crate) fn os(b: &[u8]) -> &std::ffi::OsStr {
    use std::os::unix::ffi::OsStrExt;
    std::ffi::OsStr::from_bytes(b)
}

pub(crate) fn lossy(b: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(b)
}

/// Whether replies must wait for the AOF write (and under `always` the fsync) of the data
/// before them.
pub fn holds_replies(server: &Server) -> bool {
    server.aof.on
}

fn sink(server: &mut Server) -> Option<&mut AofSink> {
    server.engine.propagation.sink_mut::<AofSink>()
}

/// The loop's turn starts at `now_ms`: with `aof-timestamp-enabled`, the sink annotates the
/// turn's commands with the second they run in.
pub fn turn_started(server: &mut Server, now_ms: i64) {
    if !server.aof.on {
        return;
    }
    let clock = server
        .config
        .compat
        .aof_timestamp_enabled
        .then_some(now_ms / 1000);
    if let Some(s) = sink(server) {
        s.set_clock(clock);
    }
}

/// Attaches the AOF as the engine's sink (the stream is recorded from now on).
pub fn attach_sink(server: &mut Server) {
    server.engine.detach_sink::<AofSink>();
    server.engine.attach_sink(Box::new(AofSink::default()));
}

/// Takes what the sink buffered into `pending`.
fn take_from_sink(server: &mut Server) {
    let Some(s) = sink(server) else { return };
    if s.buf.is_empty() {
        return;
    }
    let bytes = s.take();
    let n = bytes.len() as u64;
    let aof = &mut server.aof;
    if aof.pending.is_empty() {
        let spare = std::mem::replace(&mut aof.pending, bytes);
        if let Some(s) = sink(server) {
            s.give_back(spare);
        }
    } else {
        aof.pending.extend_from_slice(&bytes);
    }
    server.aof.appended += n;
}

/// Once per loop turn, before replies are sent (Redis's `flushAppendOnlyFile` in
/// `beforeSleep`): hands the turn's bytes to a ring write, runs a scheduled rewrite when
/// the file is idle, starts the `everysec` fsync.
pub fn before_sleep(server: &mut Server, now_ms: i64) {
    if !server.aof.on {
        release_all(server);
        return;
    }
    take_from_sink(server);
    // A scheduled rewrite waits for a running snapshot (BGSAVE, or a rewrite) to end.
    if server.aof.rewrite_scheduled
        && server.persistence.bg.is_none()
        && now_ms >= server.aof.rewrite_retry_at_ms
    {
        server.aof.rewrite_scheduled = false;
        let _ = rewrite::rewrite_background(server, now_ms);
    }
    // `no-appendfsync-on-rewrite yes`: no fsync while a snapshot (BGSAVE or a rewrite)
    // writes its file, as Redis skips it while it has a child.
    let skip_sync =
        server.config.compat.no_appendfsync_on_rewrite && server.persistence.bg.is_some();
    let always = server.config.compat.appendfsync == FSYNC_ALWAYS && !skip_sync;
    let aof = &mut server.aof;
    let Some(fd) = aof.fd.as_ref().map(|f| f.as_raw_fd()) else {
        return;
    };
    // After a failed write, retry once a second (Redis's serverCron retry).
    let may_write = aof.write_error.is_none() || now_ms - aof.last_write_retry_ms >= 1000;
    if aof.write_inflight.is_none() && !aof.pending.is_empty() && may_write && !always {
        // `everysec` / `no`: write(2) now, before the turn's replies go out, as Redis does:
        // the page cache has the bytes, so a crash of the process loses no acknowledged
        // write, and replies need not wait a ring round trip for a write that never
        // blocks on the disk.
        aof.last_write_retry_ms = now_ms;
        let pending_fsync = aof.sync_inflight;
        let start = std::time::Instant::now();
        write_now(server, fd);
        // The latency monitor's AOF events, named as Redis's flushAppendOnlyFile names them.
        let ms = start.elapsed().as_millis() as u64;
        let event = if pending_fsync {
            "aof-write-pending-fsync"
        } else if server.persistence.bg.is_some() {
            "aof-write-active-child"
        } else {
            "aof-write-alone"
        };
        crate::features::latency::add_sample_if_needed(server, event, ms);
        crate::features::latency::add_sample_if_needed(server, "aof-write", ms);
    }
    let aof = &mut server.aof;
    if aof.write_inflight.is_none() && !aof.pending.is_empty() && may_write && always {
        aof.last_write_retry_ms = now_ms;
        let buf = std::mem::take(&mut aof.pending);
        let len = buf.len() as u64;
        let sync = if always { Sync::Data } else { Sync::None };
        server
            .fileio
            .write(Owner::Aof, TOKEN_WRITE, fd, aof.write_off, buf, sync);
        aof.write_off += len;
        aof.write_inflight = Some(aof.appended);
        aof.write_started = Some(std::time::Instant::now());
    }
    let everysec = server.config.compat.appendfsync == FSYNC_EVERYSEC && !skip_sync;
    let aof = &mut server.aof;
    if everysec && aof.unsynced && !aof.sync_inflight && now_ms - aof.last_fsync_ms >= 1000 {
        aof.unsynced = false;
        aof.sync_inflight = true;
        aof.last_fsync_ms = now_ms;
        server.fileio.sync(Owner::Aof, TOKEN_SYNC, fd, Sync::Data);
    }
}

/// Writes `pending` at the end of the file now (`pwrite`, continued when short): the
/// synchronous path of `everysec` and `no`. On failure the bytes stay pending for the retry
/// and writes get `-MISCONF` (Redis's `flushAppendOnlyFile` error handling).
fn write_now(server: &mut Server, fd: std::os::fd::RawFd) {
    let aof = &mut server.aof;
    let mut done = 0usize;
    let err = loop {
        if done == aof.pending.len() {
            break None;
        }
        let rest = &aof.pending[done..];
        // SAFETY: `fd` is the open AOF file (owned by `aof.fd` for the whole call); the
        // pointer and length describe `rest`, alive and unaliased for the call.
        let n = unsafe {
            libc::pwrite(
                fd,
                rest.as_ptr().cast(),
                rest.len(),
                (aof.write_off + done as u64) as libc::off_t,
            )
        };
        if n < 0 {
            let e = std::io::Error::last_os_error();
            if e.raw_os_error() == Some(libc::EINTR) {
                continue;
            }
            break Some(e);
        }
        if n == 0 {
            break Some(std::io::Error::from_raw_os_error(libc::ENOSPC));
        }
        done += n as usize;
    };
    aof.write_off += done as u64;
    aof.current_size += done as u64;
    aof.pending.drain(..done);
    match err {
        None => {
            if aof.write_error.take().is_some() {
                log::warn!("AOF write error looks solved, Redis can write again.");
            }
            aof.unsynced = true;
            aof.durable = aof.appended;
            server.wake.append(&mut server.aof.held);
        }
        Some(e) => {
            log::warn!(
                "Error writing to the AOF file: {}",
                crate::features::config::strerror(&e)
            );
            aof.write_error = e.raw_os_error();
        }
    }
}

/// Wakes every connection held for durability.
fn release_all(server: &mut Server) {
    if !server.aof.held.is_empty() {
        server.aof.durable = server.aof.appended;
        server.wake.append(&mut server.aof.held);
    }
}

/// A finished AOF write or fsync.
pub fn on_file_done(server: &mut Server, d: Done) {
    let always = server.config.compat.appendfsync == FSYNC_ALWAYS;
    // Both kinds are accounted below; a retired fd closes once nothing refers to it.
    let retire_after = d.token == TOKEN_WRITE && !server.aof.sync_inflight
        || d.token == TOKEN_SYNC && server.aof.write_inflight.is_none();
    if retire_after {
        server.aof.retired.clear();
    }
    match d.token {
        TOKEN_WRITE => {
            let end = server.aof.write_inflight.take().unwrap_or(0);
            match d.result {
                Ok(()) => {
                    let aof = &mut server.aof;
                    aof.current_size += d.written as u64;
                    if aof.write_error.take().is_some() {
                        log::warn!("AOF write error looks solved, Redis can write again.");
                    }
                    // The write was submitted with the fsync `always` asks for (or none).
                    if !d.synced {
                        aof.unsynced = true;
                    }
                    let started = aof.write_started.take();
                    if d.synced
                        && let Some(t) = started
                    {
                        let ms = t.elapsed().as_millis() as u64;
                        crate::features::latency::add_sample_if_needed(
                            server,
                            "aof-fsync-always",
                            ms,
                        );
                    }
                    let aof = &mut server.aof;
                    aof.durable = aof.durable.max(end).max(aof.flushed_to);
                    server.wake.append(&mut server.aof.held);
                    if let Some(s) = sink(server) {
                        s.give_back(d.buf);
                    }
                }
                Err(errno) => write_failed(server, d, errno, always, end),
            }
        }
        _ => {
            server.aof.sync_inflight = false;
            if let Err(errno) = d.result {
                let e = std::io::Error::from_raw_os_error(errno);
                if always {
                    log::warn!(
                        "Can't persist AOF for fsync error when the AOF fsync policy is 'always': {}. Exiting...",
                        crate::features::config::strerror(&e)
                    );
                    std::process::exit(1);
                }
                log::warn!(
                    "Error writing to the AOF file: {}",
                    crate::features::config::strerror(&e)
                );
                server.aof.write_error = Some(errno);
            }
        }
    }
}

fn write_failed(server: &mut Server, d: Done, errno: i32, always: bool, end: u64) {
    let e = std::io::Error::from_raw_os_error(errno);
    let text = crate::features::config::strerror(&e);
    if always {
        // Redis 7.0: replies to these writes must never go out.
        log::warn!(
            "Can't recover from AOF write error when the AOF fsync policy is 'always'. Exiting..."
        );
        log::warn!("Error writing to the AOF file: {text}");
        std::process::exit(1);
    }
    if server.aof.write_error.is_none() {
        log::warn!("Error writing to the AOF file: {text}");
    }
    // As Redis (whose replies follow a failed write(2) anyway): the replies go, later
    // writes get -MISCONF until the AOF can be written again.
    server.aof.durable = server.aof.durable.max(end);
    server.wake.append(&mut server.aof.held);
    // Keep the bytes: they go again, at the same offset, on the next retry.
    let aof = &mut server.aof;
    aof.write_error = Some(errno);
    aof.write_off -= d.buf.len() as u64;
    let mut buf = d.buf;
    buf.extend_from_slice(&aof.pending);
    aof.pending = buf;
}

/// Opens (creating) a file of the AOF directory for writing at its end; returns the fd and
/// the size.
pub(crate) fn open_for_append(path: &std::path::Path) -> std::io::Result<(OwnedFd, u64)> {
    let f = File::options()
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)?;
    let len = f.metadata()?.len();
    Ok((OwnedFd::from(f), len))
}

/// Writes the manifest: a temp file, fsynced, renamed over the old one, the directory
/// fsynced (Redis's `persistAofManifest`).
pub fn persist_manifest(server: &Server) -> std::io::Result<()> {
    let dir = aof_dir(server);
    let name = &server.config.compat.appendfilename;
    let tmp = dir.join(os(&manifest::temp_manifest_name(name)));
    let dst = dir.join(os(&manifest::manifest_name(name)));
    let write = || -> std::io::Result<()> {
        use std::io::Write;
        let mut f = File::create(&tmp)?;
        f.write_all(&server.aof.manifest.format())?;
        f.sync_all()?;
        std::fs::rename(&tmp, &dst)?;
        File::open(&dir)?.sync_all()
    };
    write().inspect_err(|e| {
        log::warn!(
            "Can't persist the AOF manifest file {}: {}",
            dst.display(),
            crate::features::config::strerror(e)
        )
    })
}

/// Deletes the history files and drops them from the manifest (Redis's
/// `aofDelHistoryFiles`), unless `aof-disable-auto-gc`.
pub fn delete_history(server: &mut Server) {
    if server.config.compat.aof_disable_auto_gc || server.aof.manifest.history.is_empty() {
        return;
    }
    let dir = aof_dir(server);
    for f in std::mem::take(&mut server.aof.manifest.history) {
        log::info!(
            "Removing the history file {} in the background",
            lossy(&f.name)
        );
        crate::sys::remove_file_in_background(&dir.join(os(&f.name)));
    }
    let _ = persist_manifest(server);
}

/// After loading (or on an empty start), as Redis's `aofOpenIfNeededOnServerStart`: creates
/// the directory, a base for an empty dataset and an incremental file when the manifest has
/// none, opens the last incremental for appending, and attaches the sink.
pub fn open_on_start(server: &mut Server, now_ms: i64) -> Result<(), String> {
    let dir = aof_dir(server);
    if let Err(e) = std::fs::create_dir_all(&dir) {
        return Err(format!(
            "Can't open or create append-only dir {}: {}",
            lossy(&server.config.compat.appenddirname),
            crate::features::config::strerror(&e)
        ));
    }
    let name = server.config.compat.appendfilename.clone();
    let mut dirty = false;
    if server.aof.manifest.base.is_none() && server.aof.manifest.incrs.is_empty() {
        let rdb = rewrite::base_is_rdb(server);
        let base = server.aof.manifest.new_base(&name, rdb);
        let size = rewrite::write_base_file(server, &dir.join(os(&base)), rdb, now_ms)
            .map_err(|e| format!("Can't create the AOF base file {}: {e}", lossy(&base)))?;
        log::info!("Creating AOF base file {} on server start", lossy(&base));
        server.aof.base_size = size;
        server.aof.current_size += size;
        dirty = true;
    }
    if server.aof.manifest.incrs.is_empty() {
        let incr = server.aof.manifest.new_incr(&name);
        log::info!("Creating AOF incr file {} on server start", lossy(&incr));
        dirty = true;
    }
    let last = server
        .aof
        .manifest
        .last_incr()
        .expect("an incr file")
        .name
        .clone();
    let (fd, len) = open_for_append(&dir.join(os(&last))).map_err(|e| {
        format!(
            "Can't open the append-only file {}: {}",
            lossy(&last),
            crate::features::config::strerror(&e)
        )
    })?;
    if dirty {
        persist_manifest(server).map_err(|e| e.to_string())?;
    }
    let aof = &mut server.aof;
    aof.fd = Some(fd);
    aof.write_off = len;
    aof.on = true;
    attach_sink(server);
    delete_history(server);
    Ok(())
}

/// `CONFIG SET appendonly` changed: start (with a rewrite, as Redis's `startAppendOnly`) or
/// stop (flush, fsync and close, as `stopAppendOnly`). Err: the text for CONFIG SET.
pub fn config_changed(server: &mut Server, now_ms: i64) -> Result<(), &'static str> {
    let want = server.config.appendonly;
    if want == server.aof.on {
        return Ok(());
    }
    if want {
        start(server, now_ms).map_err(|e| {
            log::warn!("{e}");
            server.config.appendonly = false;
            "Unable to turn on AOF. Check server logs."
        })
    } else {
        stop(server);
        Ok(())
    }
}

/// What can make turning the AOF on fail, checked before CONFIG SET answers: the directory
/// must exist or be creatable.
pub fn can_start(cfg: &crate::features::config::Config) -> Result<(), String> {
    let dir = cfg.dir.join(os(&cfg.compat.appenddirname));
    std::fs::create_dir_all(&dir).map_err(|e| {
        format!(
            "Can't open or create append-only dir {}: {}",
            dir.display(),
            crate::features::config::strerror(&e)
        )
    })
}

fn start(server: &mut Server, now_ms: i64) -> Result<(), String> {
    let dir = aof_dir(server);
    std::fs::create_dir_all(&dir).map_err(|e| {
        format!(
            "Can't open or create append-only dir {}: {}",
            dir.display(),
            crate::features::config::strerror(&e)
        )
    })?;
    // Files left by an earlier run become history of the new base.
    server.aof.manifest = load::read_manifest(server)
        .ok()
        .flatten()
        .unwrap_or_default();
    // The stream goes to a temp incremental file outside the manifest until the first base
    // (a background snapshot) is complete, as Redis's AOF_WAIT_REWRITE: a crash meanwhile
    // leaves the files on disk as they were.
    let name = server.config.compat.appendfilename.clone();
    let temp = dir.join(os(&manifest::temp_incr_name(&name)));
    let f = File::create(&temp).map_err(|e| {
        format!(
            "Can't open the append-only file {}: {}",
            temp.display(),
            crate::features::config::strerror(&e)
        )
    })?;
    if let Some(old) = server.aof.fd.replace(OwnedFd::from(f)) {
        retire(server, old);
    }
    server.aof.write_off = 0;
    server.aof.current_size = 0;
    server.aof.on = true;
    server.aof.waiting_base = true;
    attach_sink(server);
    if server.persistence.bg.is_some() {
        log::warn!(
            "AOF was enabled but there is already another background operation. An AOF background was scheduled to start when possible."
        );
        server.aof.rewrite_scheduled = true;
        return Ok(());
    }
    rewrite::rewrite_background(server, now_ms)
}

/// Turns the AOF off: what is buffered is written and fsynced now.
pub fn stop(server: &mut Server) {
    take_from_sink(server);
    flush_sync(server);
    let aof = &mut server.aof;
    aof.on = false;
    // A request in flight still names the fd: closing waits for it in `retire`.
    if let Some(fd) = aof.fd.take() {
        retire(server, fd);
    }
    server.aof.rewrite_scheduled = false;
    server.engine.detach_sink::<AofSink>();
    if std::mem::take(&mut server.aof.waiting_base) {
        // Its first base never completed: the rewrite is abandoned and the temp file goes,
        // as Redis's stopAppendOnly kills the rewrite child.
        if server.persistence.aof_rewrite().is_some() {
            crate::features::persistence::abort_background(server);
        }
        let name = server.config.compat.appendfilename.clone();
        let _ = std::fs::remove_file(aof_dir(server).join(os(&manifest::temp_incr_name(&name))));
    }
    release_all(server);
}

/// Keeps `fd` open while AOF requests are in flight (they hold it by number).
fn retire(server: &mut Server, fd: OwnedFd) {
    if server.aof.io_busy() {
        server.aof.retired.push(fd);
    }
}

/// Writes `pending` to the current file now (blocking) and fdatasyncs it unless
/// `appendfsync no`: before a rewrite switches files, and when the AOF is turned off.
pub(crate) fn flush_sync(server: &mut Server) {
    use std::os::unix::fs::FileExt;
    let aof = &mut server.aof;
    let Some(fd) = aof.fd.as_ref() else { return };
    let f = File::from(fd.try_clone().expect("dup aof fd"));
    if !aof.pending.is_empty() {
        match f.write_all_at(&aof.pending, aof.write_off) {
            Ok(()) => {
                aof.write_off += aof.pending.len() as u64;
                aof.current_size += aof.pending.len() as u64;
                aof.pending.clear();
            }
            Err(e) => {
                log::warn!(
                    "Error writing to the AOF file: {}",
                    crate::features::config::strerror(&e)
                );
                aof.write_error = e.raw_os_error();
                return;
            }
        }
    }
    if server.config.compat.appendfsync != 2 {
        let _ = f.sync_data();
    }
    // All taken bytes are now written: durable at once, or when the ring write before them
    // completes.
    let aof = &mut server.aof;
    if aof.write_inflight.is_some() {
        aof.flushed_to = aof.appended;
    } else {
        aof.durable = aof.appended;
        server.wake.append(&mut server.aof.held);
    }
}

/// DEBUG LOADAOF: what the stream buffered is written (and synced) first, the keyspace is
/// emptied and the AOF named by the manifest on disk is replayed. The replay is not
/// appended to the AOF again: the sink is detached while it runs.
pub fn debug_loadaof(server: &mut Server) -> Result<(), &'static str> {
    if server.aof.on {
        take_from_sink(server);
        flush_sync(server);
    }
    for i in 0..server.engine.dbs.len() {
        server.engine.touch_watched_on_flush(i);
        server.engine.dbs[i].clear();
    }
    let sinks = server.engine.take_sinks();
    let r = load::load_files(server);
    server.engine.restore_sinks(sinks);
    match r {
        Ok(_) => {
            log::warn!("Append Only File loaded by DEBUG LOADAOF");
            Ok(())
        }
        Err(load::Fatal) => Err("ERR Error trying to load the AOF files, check server logs."),
    }
}

/// Cron (Redis's serverCron part): the automatic rewrite when the AOF grew by
/// `auto-aof-rewrite-percentage` over its size after the last rewrite, past
/// `auto-aof-rewrite-min-size`.
pub fn cron(server: &mut Server) {
    let c = &server.config.compat;
    let aof = &server.aof;
    if !aof.on
        || aof.rewrite_scheduled
        || server.persistence.aof_rewrite().is_some()
        || c.auto_aof_rewrite_percentage == 0
    {
        return;
    }
    if aof.current_size as i64 <= c.auto_aof_rewrite_min_size {
        return;
    }
    let base = aof.base_size.max(1);
    let growth = (aof.current_size as i64 * 100 / base as i64) - 100;
    if growth >= c.auto_aof_rewrite_percentage {
        log::warn!("Starting automatic rewriting of AOF on {growth}% growth");
        server.aof.rewrite_scheduled = true;
    }
}

/// The `-MISCONF` refusal of writes while the AOF cannot be written (Redis's
/// `writeCommandsDeniedByDiskError` for the AOF).
pub fn write_denied_text(server: &Server) -> Option<String> {
    let errno = server.aof.write_error.filter(|_| server.aof.on)?;
    let e = std::io::Error::from_raw_os_error(errno);
    Some(format!(
        "MISCONF Errors writing to the AOF file: {}",
        crate::features::config::strerror(&e)
    ))
}

/// BGREWRITEAOF: the base is written by a point-in-time snapshot in the background; while
/// another snapshot runs (BGSAVE), or inside EXEC, the rewrite is scheduled.
pub fn bgrewriteaof(server: &mut Server, key: usize, _args: &[&[u8]]) -> engine::CmdResult {
    if server.persistence.aof_rewrite().is_some() {
        return Err(engine::CmdError::Owned(
            "ERR Background append only file rewriting already in progress".into(),
        ));
    }
    let msg = if server.persistence.bg.is_some() || server.in_exec {
        server.aof.rewrite_scheduled = true;
        server.aof.rewrites_consecutive_failures = 0;
        "Background append only file rewriting scheduled"
    } else {
        let now = server.now_ms();
        if rewrite::rewrite_background(server, now).is_err() {
            return Err(engine::CmdError::Owned(
                "ERR Can't execute an AOF background rewriting. Please check the server logs for more information.".into(),
            ));
        }
        "Background append only file rewriting started"
    };
    crate::dispatch::gate::reply(server, key).simple(msg.as_bytes());
    Ok(())
}
