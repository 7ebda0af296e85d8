//! Loading the AOF at start-up (Redis 7.0's `loadAppendOnlyFiles` /
//! `loadSingleAppendOnlyFile`): the manifest, then the base and the incrementals in order,
//! each command run through the gate and the one runner ([`crate::dispatch::gate::execute`])
//! for a socket-less client, as Redis's fake AOF client: its db selection and MULTI/EXEC
//! apply, its replies are dropped, and nothing propagates (the sink is attached after).
//!
//! While loading, the engine's clock stands still at the load's start and no key counts as
//! expired (Redis's `keyIsExpired` while `server.loading`; the engine's obey mode, as for a
//! replica's master): a key whose `PEXPIREAT` passed while the server was down still takes
//! the commands that follow it in the file, and is deleted by the expiry cycle once the
//! server runs (that DEL is propagated, as in Redis). Times the commands record (a stream
//! consumer's seen time, a relative EXPIRE of an old file) are the load's, as in Redis.
//!
//! Texts of the log lines and fatal errors are Redis's.

use super::*;
use crate::client::Conn;
use persist::aof::{Next, Reader};
use std::time::Instant;

/// The id of the socket-less client the AOF's commands run as (no real client has it).
pub const LOADING_CLIENT_ID: u64 = u64::MAX;

/// A fatal loading error, already logged in Redis's words: the server must not start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fatal;

/// Outcome of loading one file or the whole AOF.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Ok,
    /// The manifest lists nothing (or there is no manifest).
    NotExist,
    /// Files exist but are all empty.
    Empty,
    /// The last file's tail was cut (aof-load-truncated yes).
    Truncated,
}

/// Reads the manifest from disk. Ok(None) when the directory or the manifest is missing;
/// Err(fatal text, already in Redis's words) when it is unreadable or malformed.
pub fn read_manifest(server: &Server) -> Result<Option<Manifest>, String> {
    let dir = aof_dir(server);
    let name = manifest::manifest_name(&server.config.compat.appendfilename);
    let path = dir.join(os(&name));
    if !dir.is_dir() || !path.exists() {
        return Ok(None);
    }
    let bytes = std::fs::read(&path).map_err(|e| {
        format!(
            "Fatal error: can't open the AOF manifest file {} for reading: {}",
            path.display(),
            crate::features::config::strerror(&e)
        )
    })?;
    Manifest::parse(&bytes).map(Some).map_err(|e| {
        let mut s = String::from("\n*** FATAL AOF MANIFEST FILE ERROR ***\n");
        if let Some((n, line)) = &e.line {
            s.push_str(&format!(
                "Reading the manifest file, at line {n}\n>>> '{line}'\n"
            ));
        }
        s.push_str(e.msg);
        s
    })
}

/// Loads the AOF into the (empty) keyspace at start-up. Err: a fatal error, logged; the
/// server must not start. Loading is not traffic: the counters start at zero, as Redis's
/// (which runs the handlers directly, outside call()).
pub fn load(server: &mut Server) -> Result<Status, Fatal> {
    let r = load_files(server);
    server.reset_stats();
    r
}

/// Reads the manifest from disk and replays its files into the keyspace (start-up, DEBUG
/// LOADAOF). Changes made by the replay are not counted as changes (`dirty` is zero after).
pub fn load_files(server: &mut Server) -> Result<Status, Fatal> {
    let m = match read_manifest(server) {
        Ok(m) => m.unwrap_or_default(),
        Err(text) => {
            for l in text.lines() {
                log::warn!("{l}");
            }
            return Err(Fatal);
        }
    };
    server.aof.manifest = m.clone();
    let files: Vec<_> = m.base.iter().chain(m.incrs.iter()).cloned().collect();
    if files.is_empty() {
        return Ok(Status::NotExist);
    }
    let dir = aof_dir(server);
    let mut total = 0u64;
    for f in &files {
        match std::fs::metadata(dir.join(os(&f.name))) {
            Ok(md) => total += md.len(),
            Err(e) => {
                log::warn!(
                    "Unable to obtain the AOF file {} length. stat: {}",
                    lossy(&f.name),
                    crate::features::config::strerror(&e)
                );
                return Err(Fatal);
            }
        }
    }
    if total == 0 {
        return Ok(Status::Empty);
    }
    let started = Instant::now();
    // The socket-less client the commands run for, and a frozen clock (see the module doc).
    let now = server.now_ms();
    // Redis's CLIENT_ID_AOF; client ids seen by connections are not consumed.
    let key = server
        .clients
        .insert(Conn::new(-1, 0, LOADING_CLIENT_ID, now));
    // Redis's AOF client has no user: nothing it replays is checked.
    server.clients[key].user = crate::features::acl::NO_USER;
    server.clients[key].acl_pass = true;
    // Trimming limits are not enforced on what the AOF replays (Redis's mustObeyClient).
    server.clients[key].session.obey = true;
    let (frozen, _) = engine::Clock::manual(now);
    server.loading = true;
    let clock = std::mem::replace(&mut server.engine.clock, frozen);
    server.engine.set_obey_master(true);
    let mut result = Ok(Status::Ok);
    for (i, f) in files.iter().enumerate() {
        let last = i + 1 == files.len();
        let kind = if m.base.as_ref() == Some(f) {
            "base"
        } else {
            "incr"
        };
        let t = Instant::now();
        let r = load_file(server, key, &dir, &f.name);
        match r {
            Ok(Status::Ok) | Ok(Status::Empty) => {}
            Ok(Status::Truncated) if last => {}
            Ok(Status::Truncated) => {
                log::warn!("Fatal error: the truncated file is not the last file");
                result = Err(Fatal);
                break;
            }
            Ok(Status::NotExist) | Err(Fatal) => {
                result = Err(Fatal);
                break;
            }
        }
        if matches!(r, Ok(Status::Ok) | Ok(Status::Truncated)) {
            log::info!(
                "DB loaded from {kind} file {}: {:.3} seconds",
                lossy(&f.name),
                t.elapsed().as_secs_f64()
            );
        }
        if r == Ok(Status::Truncated) {
            result = Ok(Status::Truncated);
        }
    }
    server.engine.clock = clock;
    server.engine.set_obey_master(false);
    server.loading = false;
    server.clients.remove(key);
    server.engine.dirty = 0;
    if result.is_ok() {
        server.aof.current_size = total;
        server.aof.base_size = m
            .base
            .as_ref()
            .and_then(|b| std::fs::metadata(dir.join(os(&b.name))).ok())
            .map_or(0, |md| md.len());
        log::warn!(
            "DB loaded from append only file: {:.3} seconds",
            started.elapsed().as_secs_f64()
        );
    }
    result
}

/// Loads an RDB base (or old-style preamble) into the keyspace with the RDB loader; returns
/// the offset after it (commands may follow). Keys already expired are kept, as Redis's
/// RDBFLAGS_AOF_PREAMBLE: the commands after them were written while they lived.
fn load_rdb_base(server: &mut Server, bytes: &[u8]) -> Result<usize, String> {
    let flags = crate::features::persistence::load::Flags {
        drop_expired: false,
        merge: false,
        key_delay: server.config.compat.key_load_delay,
    };
    crate::features::persistence::load::load_into(server, bytes, flags)
        .map(|s| s.consumed)
        .map_err(|e| e.to_string())
}

/// Replays one file. Err: a fatal error, logged.
fn load_file(
    server: &mut Server,
    key: usize,
    dir: &std::path::Path,
    name: &[u8],
) -> Result<Status, Fatal> {
    let path = dir.join(os(name));
    let shown = lossy(name);
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            log::warn!(
                "The append log file {shown} doesn't exist: {}",
                crate::features::config::strerror(&e)
            );
            return Ok(Status::NotExist);
        }
        Err(e) => {
            log::warn!(
                "Fatal error: can't open the append log file {shown} for reading: {}",
                crate::features::config::strerror(&e)
            );
            return Err(Fatal);
        }
    };
    if bytes.is_empty() {
        return Ok(Status::Empty);
    }
    let mut start = 0;
    if bytes.starts_with(b"REDIS") {
        log::info!("Reading RDB base file on AOF loading...");
        match load_rdb_base(server, &bytes) {
            Ok(end) => start = end,
            Err(e) => {
                log::warn!("{e}");
                log::warn!("Error reading the RDB base file {shown}, AOF loading aborted");
                return Err(Fatal);
            }
        }
    }
    let mut reader = Reader::new(&bytes, start);
    let (mut valid_up_to, mut valid_before_multi) = (start, start);
    let truncated_at = loop {
        match reader.next_command() {
            Next::Command { argv, end } => {
                let Some(row) = server.table.lookup(argv[0]) else {
                    log::warn!(
                        "Unknown command '{}' reading the append only file {shown}",
                        lossy(argv[0])
                    );
                    return Err(Fatal);
                };
                if row.meta.name.eq_ignore_ascii_case("multi") {
                    valid_before_multi = valid_up_to;
                }
                crate::dispatch::gate::execute(server, key, &argv);
                server.clients[key].pending.clear();
                valid_up_to = end;
            }
            Next::End => {
                if !server.clients[key].multi.active {
                    return Ok(Status::Ok);
                }
                // Technically complete, but a transaction without its EXEC: cut it.
                log::warn!("Revert incomplete MULTI/EXEC transaction in AOF file {shown}");
                crate::dispatch::multi::discard_transaction(server, key);
                break valid_before_multi;
            }
            Next::Truncated { .. } => {
                if server.clients[key].multi.active {
                    crate::dispatch::multi::discard_transaction(server, key);
                    break valid_before_multi;
                }
                break valid_up_to;
            }
            Next::Corrupt { .. } => {
                log::warn!(
                    "Bad file format reading the append only file {shown}: make a backup of your AOF file, then use ./redis-check-aof --fix <filename.manifest>"
                );
                return Err(Fatal);
            }
        }
    };
    if server.config.compat.aof_load_truncated {
        log::warn!("!!! Warning: short read while loading the AOF file {shown}!!!");
        log::warn!("!!! Truncating the AOF {shown} at offset {truncated_at} !!!");
        let cut = File::options()
            .write(true)
            .open(&path)
            .and_then(|f| f.set_len(truncated_at as u64));
        match cut {
            Ok(()) => {
                log::warn!("AOF {shown} loaded anyway because aof-load-truncated is enabled");
                return Ok(Status::Truncated);
            }
            Err(e) => log::warn!(
                "Error truncating the AOF file {shown}: {}",
                crate::features::config::strerror(&e)
            ),
        }
    }
    log::warn!(
        "Unexpected end of file reading the append only file {shown}. You can: 1) Make a backup of your AOF file, then use ./redis-check-aof --fix <filename.manifest>. 2) Alternatively you can set the 'aof-load-truncated' configuration option to yes and restart the server."
    );
    Err(Fatal)
}
