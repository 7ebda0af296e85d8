//! AOF rewrite, in Redis 7.0's three steps: a new incremental file is opened and listed
//! first (writes go there from now on), then a new base is written from the keyspace, then
//! the manifest switches atomically to the new base + the new incremental (the old base and
//! incrementals become history and are deleted).
//!
//! BGREWRITEAOF, the automatic rewrite and turning the AOF on by CONFIG SET write an RDB base
//! with the fork-free point-in-time snapshot (`features::persistence`, `Purpose::AofBase`)
//! while the loop keeps serving; the switch ([`background_done`]; [`finish_enable`] for the
//! first base) runs when its file is complete. A command base (`aof-use-rdb-preamble no`)
//! is written synchronously ([`rewrite`]).

use super::*;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::time::Instant;

/// Whether a new base is an RDB (`.base.rdb`, `aof-use-rdb-preamble yes`, the default) or
/// commands (`.base.aof`).
pub fn base_is_rdb(server: &Server) -> bool {
    server.config.compat.aof_use_rdb_preamble
}

/// Writes the keyspace as a base into `w` (an RDB with `aof-base 1` when `rdb`, else
/// commands), at once: turning the AOF on, and command bases. BGREWRITEAOF's RDB base is
/// written by the background snapshot instead (see [`rewrite_background`]).
pub fn write_base(
    server: &Server,
    w: &mut impl Write,
    rdb: bool,
    now_ms: i64,
) -> std::io::Result<()> {
    if rdb {
        persist::rdb::write::write_to(
            &server.engine,
            &crate::features::script::function::library_codes(server),
            crate::features::persistence::save_options(server),
            persist::rdb::write::ImageInfo {
                ctime_secs: now_ms / 1000,
                used_mem: crate::alloc::used_memory() as u64,
                aof_base: true,
                repl: &[],
            },
            w,
        )
    } else {
        // A command base starts with the time (Redis's rewriteAppendOnlyFileRio).
        if server.config.compat.aof_timestamp_enabled {
            let mut ts = Vec::new();
            persist::aof::writer::encode_timestamp(&mut ts, now_ms / 1000);
            w.write_all(&ts)?;
        }
        persist::aof::rewrite::rewrite_dbs(
            &server.engine.dbs,
            &crate::features::script::function::library_codes(server),
            w,
        )
    }
}

/// Writes a base file at `path` (via a temp file in `dir`, fsynced, renamed), returns its size.
pub fn write_base_file(
    server: &Server,
    path: &Path,
    rdb: bool,
    now_ms: i64,
) -> std::io::Result<u64> {
    let tmp = server
        .config
        .dir
        .join(os(&persist::aof::manifest::temp_rewrite_name(
            std::process::id(),
        )));
    let f = File::create(&tmp)?;
    let mut w = BufWriter::with_capacity(1 << 16, f);
    write_base(server, &mut w, rdb, now_ms)?;
    let f = w.into_inner().map_err(|e| e.into_error())?;
    f.sync_all()?;
    let size = f.metadata()?.len();
    std::fs::rename(&tmp, path)?;
    Ok(size)
}

/// A whole rewrite now. Ok after the manifest switched; Err (logged) leaves the old files in
/// charge and counts a failure.
pub fn rewrite(server: &mut Server, now_ms: i64) -> Result<(), String> {
    let started = Instant::now();
    adopt_files_on_disk(server);
    let r = (|| {
        start(server)?;
        log::warn!(
            "Background append only file rewriting started by pid {}",
            std::process::id()
        );
        finish(server, now_ms)
    })();
    record_outcome(server, Some(started.elapsed().as_secs() as i64), &r);
    r
}

/// BGREWRITEAOF with the AOF off: the files on disk are the ones to replace.
fn adopt_files_on_disk(server: &mut Server) {
    if !server.aof.on {
        server.aof.manifest = super::load::read_manifest(server)
            .ok()
            .flatten()
            .unwrap_or_default();
    }
}

/// INFO's rewrite counters and Redis's log lines for a rewrite that ended (or failed to
/// start) with `r`.
fn record_outcome(server: &mut Server, secs: Option<i64>, r: &Result<(), String>) {
    let aof = &mut server.aof;
    if let Some(secs) = secs {
        aof.last_rewrite_time_sec = secs;
    }
    match r {
        Ok(()) => {
            aof.rewrites += 1;
            aof.last_bgrewrite_ok = true;
            aof.rewrites_consecutive_failures = 0;
            log::warn!("Background AOF rewrite terminated with success");
        }
        Err(e) => {
            aof.last_bgrewrite_ok = false;
            aof.rewrites_consecutive_failures += 1;
            log::warn!("Background AOF rewrite failed: {e}");
        }
    }
}

/// A rewrite whose base is written in the background (RDB base), or at once (command base).
/// The caller checked no snapshot runs.
pub fn rewrite_background(server: &mut Server, now_ms: i64) -> Result<(), String> {
    if !base_is_rdb(server) {
        return rewrite(server, now_ms);
    }
    adopt_files_on_disk(server);
    let r = (|| {
        // Turning on: the temp incremental file stays the target until the base is done.
        if !server.aof.waiting_base {
            start(server)?;
        }
        let dir = aof_dir(server);
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        let tmp = dir.join(os(&persist::aof::manifest::temp_rewrite_name(
            std::process::id(),
        )));
        crate::features::persistence::start_background(
            server,
            tmp,
            persist::snapshot::Purpose::AofBase,
        )
        .map_err(|e| format!("{e:?}"))
    })();
    match r {
        Ok(()) => {
            log::warn!(
                "Background append only file rewriting started by pid {}",
                std::process::id()
            );
            Ok(())
        }
        Err(e) => {
            let r = Err(e);
            record_outcome(server, None, &r);
            r
        }
    }
}

/// The background base, written in `secs`, is complete (`ok`) in `tmp`, or failed: switch
/// the manifest to it (Redis's `backgroundRewriteDoneHandler`), or keep the old files in
/// charge.
pub fn background_done(server: &mut Server, ok: bool, tmp: &Path, secs: i64) {
    let waiting = server.aof.waiting_base && server.aof.on;
    let r = if !ok {
        Err("the snapshot could not be written".to_string())
    } else if waiting {
        finish_enable(server, tmp)
    } else {
        finish_with(server, |_, path| {
            std::fs::rename(tmp, path)?;
            Ok(std::fs::metadata(path)?.len())
        })
    };
    if r.is_err() {
        let _ = std::fs::remove_file(tmp);
        if waiting {
            // Still waiting for a first base: try again shortly (Redis retries in its cron).
            server.aof.rewrite_scheduled = true;
            server.aof.rewrite_retry_at_ms = server.now_ms() + 5000;
        }
    }
    record_outcome(server, Some(secs), &r);
}

/// The first base after turning the AOF on is complete in `tmp`: the base and the temp
/// incremental file (renamed, still open for appending) become the manifest; whatever was
/// on disk before becomes history.
fn finish_enable(server: &mut Server, tmp: &Path) -> Result<(), String> {
    let dir = aof_dir(server);
    let name = server.config.compat.appendfilename.clone();
    let rdb = base_is_rdb(server);
    let mut m = server.aof.manifest.clone();
    let base = m.new_base(&name, rdb);
    for mut f in m.incrs.drain(..) {
        f.kind = persist::aof::FileKind::History;
        m.history.push(f);
    }
    let incr = m.new_incr(&name);
    let base_path = dir.join(os(&base));
    std::fs::rename(tmp, &base_path)
        .map_err(|e| format!("can't rename the AOF base file {}: {e}", lossy(&base)))?;
    let temp_incr = dir.join(os(&persist::aof::manifest::temp_incr_name(&name)));
    std::fs::rename(&temp_incr, dir.join(os(&incr)))
        .map_err(|e| format!("can't rename the AOF incr file {}: {e}", lossy(&incr)))?;
    let size = std::fs::metadata(&base_path).map_or(0, |md| md.len());
    let old = std::mem::replace(&mut server.aof.manifest, m);
    if let Err(e) = persist_manifest(server) {
        server.aof.manifest = old;
        return Err(e.to_string());
    }
    let aof = &mut server.aof;
    aof.waiting_base = false;
    aof.base_size = size;
    aof.current_size = size + aof.write_off;
    delete_history(server);
    Ok(())
}

/// Step 1 (Redis's `openNewIncrAofForAppend`): flush what is buffered to the current file,
/// open a new incremental file and list it in the manifest; the stream goes there now.
fn start(server: &mut Server) -> Result<(), String> {
    if !server.aof.on {
        return Ok(());
    }
    take_from_sink(server);
    flush_sync(server);
    let dir = aof_dir(server);
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let name = server.config.compat.appendfilename.clone();
    let mut m = server.aof.manifest.clone();
    let incr = m.new_incr(&name);
    let path = dir.join(os(&incr));
    // A file of that name would be a leftover of a failed rewrite: start it empty.
    let f = File::create(&path)
        .map_err(|e| format!("Can't open the append-only file {}: {e}", lossy(&incr)))?;
    let old = std::mem::replace(&mut server.aof.manifest, m);
    if let Err(e) = persist_manifest(server) {
        server.aof.manifest = old;
        return Err(e.to_string());
    }
    let fd = OwnedFd::from(f);
    if let Some(old) = server.aof.fd.replace(fd) {
        retire(server, old);
    }
    server.aof.write_off = 0;
    if let Some(s) = sink(server) {
        s.reset_select();
    }
    Ok(())
}

/// Steps 2 and 3 (Redis's `backgroundRewriteDoneHandler`): the new base, then the
/// manifest naming it and the newest incremental; the rest becomes history.
fn finish(server: &mut Server, now_ms: i64) -> Result<(), String> {
    let rdb = base_is_rdb(server);
    finish_with(server, |server, path| {
        write_base_file(server, path, rdb, now_ms)
    })
}

/// Steps 2 and 3 with the base written by `write` at the path given (returning its size).
fn finish_with(
    server: &mut Server,
    write: impl FnOnce(&Server, &Path) -> std::io::Result<u64>,
) -> Result<(), String> {
    let dir = aof_dir(server);
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let name = server.config.compat.appendfilename.clone();
    let rdb = base_is_rdb(server);
    let mut m = server.aof.manifest.clone();
    let base = m.new_base(&name, rdb);
    let size = write(server, &dir.join(os(&base)))
        .map_err(|e| format!("can't write the AOF base file {}: {e}", lossy(&base)))?;
    log::info!(
        "Successfully renamed the temporary AOF base file into {}",
        lossy(&base)
    );
    if server.aof.on {
        m.mark_rewritten_incrs_as_history();
    } else {
        // Without a file being appended to, the base holds everything.
        for mut f in m.incrs.drain(..) {
            f.kind = persist::aof::FileKind::History;
            m.history.push(f);
        }
    }
    let old = std::mem::replace(&mut server.aof.manifest, m);
    if let Err(e) = persist_manifest(server) {
        server.aof.manifest = old;
        return Err(e.to_string());
    }
    let aof = &mut server.aof;
    aof.base_size = size;
    aof.current_size = size + aof.write_off;
    delete_history(server);
    Ok(())
}
