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
    ("restore", restore),
];

const BGSAVE_IN_PROGRESS: &str = "ERR Background save already in progress";

/// # Format
/// `SAVE`
/// # Returns
/// `+OK`, or a bare `-ERR` when the file could not be written (Redis's `shared.err`).
fn save(server: &mut Server, key: usize, _args: &[&[u8]]) -> CmdResult {
    if server.persistence.rdb_bgsave().is_some() {
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
    if server.persistence.rdb_bgsave().is_some() {
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

/// `sanitize-dump-payload` (no | yes | clients) as the loader's deep check: `clients`
/// sanitizes what clients send, which is every RESTORE here (no replication yet).
fn deep_sanitize(server: &Server) -> bool {
    server.config.compat.sanitize_dump_payload != 0
}

/// # Format
/// `RESTORE key ttl serialized-value [REPLACE] [ABSTTL] [IDLETIME seconds] [FREQ frequency]`
/// # Returns
/// `+OK`; the payload must be a Redis 7.0 (or older) DUMP with a valid checksum.
fn restore(server: &mut Server, key: usize, args: &[&[u8]]) -> CmdResult {
    let (mut replace, mut absttl) = (false, false);
    let (mut idle, mut freq): (Option<i64>, Option<i64>) = (None, None);
    let mut j = 4;
    while j < args.len() {
        let more = args.len() - j - 1;
        let a = args[j];
        if eq_ic(a, "replace") {
            replace = true;
        } else if eq_ic(a, "absttl") {
            absttl = true;
        } else if eq_ic(a, "idletime") && more >= 1 && freq.is_none() {
            let v = engine::util::parse_i64(args[j + 1])?;
            if v < 0 {
                return Err(CmdError::Static("ERR Invalid IDLETIME value, must be >= 0"));
            }
            idle = Some(v);
            j += 1;
        } else if eq_ic(a, "freq") && more >= 1 && idle.is_none() {
            let v = engine::util::parse_i64(args[j + 1])?;
            if !(0..=255).contains(&v) {
                return Err(CmdError::Static(
                    "ERR Invalid FREQ value, must be >= 0 and <= 255",
                ));
            }
            freq = Some(v);
            j += 1;
        } else {
            return Err(CmdError::Syntax);
        }
        j += 1;
    }
    let now = server.now_ms();
    let dbi = server.clients[key].session.db;
    let name = args[1];
    if !replace && server.engine.dbs[dbi].lookup_write(name, now).is_some() {
        return Err(CmdError::Static("BUSYKEY Target key name already exists."));
    }
    let ttl = engine::util::parse_i64(args[2])?;
    if ttl < 0 {
        return Err(CmdError::Static("ERR Invalid TTL value, must be >= 0"));
    }
    let opts = persist::rdb::load::LoadOptions {
        config: &server.engine.config,
        deep_sanitize: deep_sanitize(server),
    };
    let value = match persist::rdb::load::parse_dump_payload(args[3], &opts) {
        Ok(v) => v,
        Err(persist::rdb::load::DumpError::VersionOrChecksum) => {
            return Err(CmdError::Static(
                "ERR DUMP payload version or checksum are wrong",
            ));
        }
        Err(persist::rdb::load::DumpError::BadData) => {
            return Err(CmdError::Static("ERR Bad data format"));
        }
    };
    let c = &mut server.clients[key];
    let proto = c.session.proto;
    let mut ctx = engine::Ctx {
        engine: &mut server.engine,
        session: &mut c.session,
        out: resp::Reply::new(&mut c.pending, proto),
    };
    let deleted = replace && ctx.db().delete(name, now);
    let at = (ttl != 0).then(|| if absttl { ttl } else { ttl.saturating_add(now) });
    if let Some(at) = at
        && at <= now
    {
        // Already expired: nothing is created; a replaced key is deleted and propagated so.
        if deleted {
            ctx.engine.propagation.rewrite(&[b"DEL", name]);
            ctx.signal_modified(name);
            ctx.notify(engine::notify::GENERIC, "del", name);
            ctx.engine.dirty += 1;
        }
        ctx.out.ok();
        return Ok(());
    }
    ctx.db().set_with_expire(name, value, at);
    // IDLETIME counts under an LRU (non-LFU) policy, FREQ under an LFU one (Redis's
    // objectSetLRUOrLFU).
    ctx.db().update_clock(now);
    ctx.db().set_lru_or_lfu(name, freq.map(|f| f as u8), idle);
    if let Some(at) = at
        && !absttl
    {
        // The TTL propagates as an absolute time.
        let at = at.to_string();
        let mut argv: Vec<&[u8]> = args.to_vec();
        argv[2] = at.as_bytes();
        argv.push(b"ABSTTL");
        ctx.engine.propagation.rewrite(&argv);
    }
    ctx.signal_modified(name);
    ctx.notify(engine::notify::GENERIC, "restore", name);
    ctx.out.ok();
    ctx.engine.dirty += 1;
    Ok(())
}
