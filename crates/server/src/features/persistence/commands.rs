//! SAVE, BGSAVE, LASTSAVE, DUMP, RESTORE: the persistence commands, with Redis 7.0.15's
//! replies and error texts.

use super::{StartError, rdb_path, save_sync, start_background};
use crate::dispatch::gate::{SrvFn, reply};
use crate::server::Server;
use engine::util::eq_ic;
use engine::{CmdError, CmdResult};
use persist::snapshot::Purpose;

pub const COMMANDS: &[(&str, SrvFn)] = &[
    ("save", save),
    ("bgsave", bgsave),
    ("lastsave", lastsave),
    ("dump", dump),
];

const BGSAVE_IN_PROGRESS: &str = "ERR Background save already in progress";

/// # Format
/// `SAVE`
/// # Returns
/// `+OK`, or a bare `-ERR` when the file could not be written (Redis's `shared.err`).
fn save(server: &mut Server, key: usize, _args: &[&[u8]]) -> CmdResult {
    if bg_rdb_running(server) {
        return Err(CmdError::Static(BGSAVE_IN_PROGRESS));
    }
    let path = rdb_path(server);
    match save_sync(server, &path) {
        Ok(()) => {
            reply(server, key).ok();
            Ok(())
        }
        Err(_) => Err(CmdError::Static("ERR")),
    }
}

fn bg_rdb_running(server: &Server) -> bool {
    server
        .persistence
        .bg
        .as_ref()
        .is_some_and(|b| b.purpose == Purpose::Rdb)
}

/// # Format
/// `BGSAVE [SCHEDULE]`
/// # Returns
/// `+Background saving started`; `+Background saving scheduled` when another snapshot (an
/// AOF rewrite) runs and SCHEDULE was given, or inside EXEC (Redis cannot fork there).
fn bgsave(server: &mut Server, key: usize, args: &[&[u8]]) -> CmdResult {
    let schedule = match args {
        [_] => false,
        [_, s] if eq_ic(s, "schedule") => true,
        _ => return Err(CmdError::Syntax),
    };
    if bg_rdb_running(server) {
        return Err(CmdError::Static(BGSAVE_IN_PROGRESS));
    }
    if server.persistence.bg.is_some() || server.in_exec {
        if schedule || server.in_exec {
            server.persistence.bgsave_scheduled = true;
            reply(server, key).simple(b"Background saving scheduled");
            return Ok(());
        }
        return Err(CmdError::Static(
            "ERR Another child process is active (AOF?): can't BGSAVE right now. Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible.",
        ));
    }
    let target = rdb_path(server);
    match start_background(server, target, Purpose::Rdb) {
        Ok(()) => {
            reply(server, key).simple(b"Background saving started");
            Ok(())
        }
        Err(StartError::Busy) => Err(CmdError::Static(BGSAVE_IN_PROGRESS)),
        // Redis forks first and its child fails to open the file: the client is told the
        // save started, and the failure shows in the log and INFO (already recorded).
        Err(StartError::Io(_)) => {
            reply(server, key).simple(b"Background saving started");
            Ok(())
        }
    }
}

/// # Format
/// `LASTSAVE`
/// # Returns
/// The Unix time of the last successful save.
fn lastsave(server: &mut Server, key: usize, _args: &[&[u8]]) -> CmdResult {
    let t = server.persistence.lastsave;
    reply(server, key).int(t);
    Ok(())
}

/// # Format
/// `DUMP key`
/// # Returns
/// The value serialized as Redis 7.0 does (RDB v10 encoding, version, CRC-64), or nil.
fn dump(server: &mut Server, key: usize, args: &[&[u8]]) -> CmdResult {
    let db = server.clients[key].session.db;
    let now = server.now_ms();
    let compression = server.config.compat.rdbcompression;
    let payload = server.engine.dbs[db]
        .lookup_read(args[1], now)
        .map(|e| persist::rdb::write::dump_payload(&e.value, compression));
    let mut out = reply(server, key);
    match payload {
        Some(p) => out.bulk(&p),
        None => out.null(),
    }
    Ok(())
}
