//! SYNC, PSYNC, REPLCONF, ROLE, REPLICAOF/SLAVEOF: the master side's commands, with Redis
//! 7.0.15's replies and error texts.

use super::{ReplicaState, ensure_backlog};
use crate::dispatch::gate::{SrvFn, reply};
use crate::server::Server;
use engine::util::eq_ic;
use engine::{CmdError, CmdResult};

pub const COMMANDS: &[(&str, SrvFn)] = &[
    ("sync", sync),
    ("psync", sync),
    ("replconf", replconf),
    ("role", role),
    ("replicaof", replicaof),
    ("slaveof", replicaof),
    ("wait", wait),
    ("failover", failover),
];

/// # Format
/// `FAILOVER [TO host port [FORCE]] [ABORT] [TIMEOUT milliseconds]`
/// # Returns
/// `+OK` once the failover started (it completes in the background; INFO's
/// `master_failover_state` follows it), or Redis's errors.
fn failover(server: &mut Server, key: usize, args: &[&[u8]]) -> CmdResult {
    if args.len() == 2 && eq_ic(args[1], "abort") {
        if server.repl.failover.is_none() {
            return Err(CmdError::Static("ERR No failover in progress."));
        }
        super::abort_failover(server, "Failover manually aborted");
        reply(server, key).ok();
        return Ok(());
    }
    let (mut timeout, mut force, mut target) = (0i64, false, None);
    let mut j = 1;
    while j < args.len() {
        if eq_ic(args[j], "timeout") && j + 1 < args.len() && timeout == 0 {
            timeout = engine::util::parse_i64(args[j + 1])?;
            if timeout <= 0 {
                return Err(CmdError::Static(
                    "ERR FAILOVER timeout must be greater than 0",
                ));
            }
            j += 2;
        } else if eq_ic(args[j], "to") && j + 2 < args.len() && target.is_none() {
            let port = engine::util::parse_i64(args[j + 2])?;
            target = Some((String::from_utf8_lossy(args[j + 1]).into_owned(), port));
            j += 3;
        } else if eq_ic(args[j], "force") && !force {
            force = true;
            j += 1;
        } else {
            return Err(CmdError::Syntax);
        }
    }
    if server.repl.failover.is_some() {
        return Err(CmdError::Static("ERR FAILOVER already in progress."));
    }
    if server.master.is_some() {
        return Err(CmdError::Static(
            "ERR FAILOVER is not valid when server is a replica.",
        ));
    }
    if server.repl.replicas.is_empty() {
        return Err(CmdError::Static(
            "ERR FAILOVER requires connected replicas.",
        ));
    }
    if force && (timeout == 0 || target.is_none()) {
        return Err(CmdError::Static(
            "ERR FAILOVER with force option requires both a timeout and target HOST and IP.",
        ));
    }
    let target = match target {
        Some((host, port)) => {
            let port = u16::try_from(port).unwrap_or(0);
            let Some(r) = super::find_replica(server, &host, port) else {
                return Err(CmdError::Static(
                    "ERR FAILOVER target HOST and PORT is not a replica.",
                ));
            };
            if r.state != ReplicaState::Online {
                return Err(CmdError::Static(
                    "ERR FAILOVER target replica is not online.",
                ));
            }
            log::info!("FAILOVER requested to {host}:{port}.");
            Some((host, port))
        }
        None => {
            log::info!("FAILOVER requested to any replica.");
            None
        }
    };
    let end_ms = if timeout > 0 {
        server.now_ms().saturating_add(timeout)
    } else {
        0
    };
    server.repl.failover = Some(super::Failover {
        target,
        end_ms,
        force,
        in_progress: false,
    });
    crate::features::pause::start_failover_pause(server);
    reply(server, key).ok();
    Ok(())
}

/// # Format
/// `WAIT numreplicas timeout`
/// # Returns
/// The number of replicas that acknowledged the caller's writes, once `numreplicas` did or
/// after `timeout` ms (0: forever); at once inside MULTI.
fn wait(server: &mut Server, key: usize, args: &[&[u8]]) -> CmdResult {
    if server.master.is_some() {
        return Err(CmdError::Static(
            "ERR WAIT cannot be used with replica instances. Please also note that since Redis 4.0 if a replica is configured to be writable (which is not the default) writes to replicas are just local and are not propagated.",
        ));
    }
    let numreplicas = engine::util::parse_i64(args[1])?;
    let deadline_ms = engine::blocking::parse_timeout_ms(args[2], server.now_ms())?;
    // The offset after the client's previous command (Redis's `woff`).
    let offset = server.clients[key].woff;
    let acked = server.repl.acked(offset);
    if acked as i64 >= numreplicas || server.in_exec {
        reply(server, key).int(acked as i64);
        return Ok(());
    }
    let generation = server.clients[key].generation;
    super::wait_for(
        server,
        super::Waiter {
            key,
            generation,
            offset,
            numreplicas: numreplicas.max(0) as usize,
            deadline_ms,
        },
    );
    Ok(())
}

/// # Format
/// `SYNC` / `PSYNC replid offset`
/// # Returns
/// `+CONTINUE [replid]` and the missing stream when the backlog holds it; otherwise
/// (`+FULLRESYNC replid offset` for PSYNC, then) `$len` and the RDB, then the stream.
fn sync(server: &mut Server, key: usize, args: &[&[u8]]) -> CmdResult {
    let c = &server.clients[key];
    if c.is_replica() {
        return Ok(());
    }
    if !c.pending.is_empty() {
        return Err(CmdError::Static(
            "ERR SYNC and PSYNC are invalid with pending output",
        ));
    }
    let psync = eq_ic(args[0], "psync");
    // A coordinated failover: our master asks us to take over (its id must be ours).
    if psync && args.len() > 3 && eq_ic(args[3], "failover") {
        if args[1] != server.replid.as_bytes() {
            return Err(CmdError::Static(
                "ERR PSYNC FAILOVER replid must match my replid.",
            ));
        }
        super::replica::unset_master(server);
        server.config.compat.replicaof = None;
        log::info!("MASTER MODE enabled (failover request)");
    }
    // A replica serves replicas only while its own link is up (else it could follow
    // itself, or a cycle).
    if server.master.is_some() && !super::replica::streaming(server) {
        return Err(CmdError::Static(
            "NOMASTERLINK Can't SYNC while not connected with my master",
        ));
    }
    let conf = server.clients[key].repl.as_deref();
    let filter = conf.and_then(|rc| rc.rdb_filter);
    if filter.is_some() && !conf.is_some_and(|rc| rc.capa_eof) {
        return Err(CmdError::Static(
            "ERR Filtered replica requires EOF capability",
        ));
    }
    let mut offset = 0;
    if psync {
        offset = engine::util::parse_i64(args[2])?;
    }
    let peer = crate::client::fmt_addr(server.clients[key].peer_addr());
    log::info!("Replica {peer} asks for synchronization");
    if psync && filter.is_none() {
        if try_partial(server, key, args[1], offset) {
            server.repl.stat_sync_partial_ok += 1;
            return Ok(());
        }
        if !args[1].starts_with(b"?") {
            server.repl.stat_sync_partial_err += 1;
        }
    }
    server.repl.stat_sync_full += 1;
    mark_replica(server, key, ReplicaState::WaitBgsaveStart, psync);
    if server.config.compat.repl_disable_tcp_nodelay {
        // Fewer, larger packets to the replica (non-critical if it fails, as in Redis).
        let off: libc::c_int = 0;
        // SAFETY: setsockopt reads `len` bytes from a live c_int.
        unsafe {
            libc::setsockopt(
                server.clients[key].fd,
                libc::IPPROTO_TCP,
                libc::TCP_NODELAY,
                &off as *const _ as *const libc::c_void,
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            );
        }
    }
    if server.repl.backlog.is_none() {
        // A backlog from scratch has no past history: a new id, and no id2.
        server.replid = crate::features::info::random_hex_id();
        server.repl.replid2 = "0".repeat(40);
        server.repl.second_replid_offset = -1;
        ensure_backlog(server);
    }
    if let Some(functions) = filter {
        sync_filtered(server, key, functions);
        return Ok(());
    }
    super::start_sync_snapshot(server);
    Ok(())
}

/// A full sync whose RDB leaves the keys out (`REPLCONF rdb-filter-only`): nothing to
/// snapshot, so the image (aux fields, the libraries if asked) goes out at once, marked as
/// a diskless payload as Redis always sends a filtered one; the stream follows after the
/// replica's first ACK, and an `rdb-only` client is closed after it.
fn sync_filtered(server: &mut Server, key: usize, functions: bool) {
    // The stream up to here is in the offset; the replica's starts with a SELECT.
    super::flush_turn_stream(server);
    if let Some(sink) = server.engine.propagation.sink_mut::<super::ReplSink>() {
        sink.0.reset_select();
    }
    let (replid, offset) = (server.replid.clone(), server.repl.offset);
    let repl = super::repl_aux(server, super::sync_stream_db(server));
    let libs = if functions {
        crate::features::script::function::library_codes(server)
    } else {
        Vec::new()
    };
    let info = persist::rdb::write::ImageInfo {
        ctime_secs: server.now_ms() / 1000,
        used_mem: crate::alloc::used_memory() as u64,
        aof_base: false,
        repl: &repl,
    };
    let opts = crate::features::persistence::save_options(server);
    let image = persist::rdb::write::write_without_data(&libs, opts, info);
    let mark = crate::features::info::random_hex_id();
    let i = server.repl.replicas.len() - 1;
    let r = &mut server.repl.replicas[i];
    r.state = ReplicaState::Online;
    r.start_on_ack = true;
    let c = &mut server.clients[key];
    if r.psync {
        c.pending
            .extend_from_slice(format!("+FULLRESYNC {replid} {offset}\r\n").as_bytes());
    }
    c.pending
        .extend_from_slice(format!("$EOF:{mark}\r\n").as_bytes());
    c.pending.extend_from_slice(&image);
    c.pending.extend_from_slice(mark.as_bytes());
    server.wake.push(key);
    log::info!(
        "Synchronization with replica {} succeeded (filtered RDB)",
        crate::client::fmt_addr(c.peer_addr())
    );
    super::release_rdb_only(server);
    super::refresh_good_replicas(server);
}

fn mark_replica(server: &mut Server, key: usize, state: ReplicaState, psync: bool) {
    let now = server.now_ms();
    let c = &mut server.clients[key];
    c.repl.get_or_insert_with(Default::default).replica = true;
    server.repl.replicas.push(super::Replica {
        key,
        generation: c.generation,
        state,
        ack_offset: 0,
        ack_time_ms: now,
        psync,
        buffered: Vec::new(),
        diskless: false,
        wait_since_ms: now,
        start_on_ack: false,
        rdb_in_output: false,
        bulk: None,
    });
}

/// Redis's `masterTryPartialResynchronization`.
fn try_partial(server: &mut Server, key: usize, replid: &[u8], offset: i64) -> bool {
    let ours = replid == server.replid.as_bytes();
    let previous =
        replid == server.repl.replid2.as_bytes() && offset <= server.repl.second_replid_offset;
    if !ours && !previous {
        if replid != b"?" {
            log::info!(
                "Partial resynchronization not accepted: Replication ID mismatch (Replica asked for '{}', my replication IDs are '{}' and '{}')",
                String::from_utf8_lossy(replid),
                server.replid,
                server.repl.replid2
            );
        } else {
            log::info!("Full resync requested by replica");
        }
        return false;
    }
    let Some(missing) = server
        .repl
        .backlog
        .as_ref()
        .and_then(|b| u64::try_from(offset).ok().and_then(|o| b.since(o)))
        .map(<[u8]>::to_vec)
    else {
        log::info!("Unable to partial resync with replica: lack of backlog");
        return false;
    };
    mark_replica(server, key, ReplicaState::Online, true);
    let line = if server.clients[key]
        .repl
        .as_ref()
        .is_some_and(|r| r.capa_psync2)
    {
        format!("+CONTINUE {}\r\n", server.replid)
    } else {
        "+CONTINUE\r\n".to_string()
    };
    let c = &mut server.clients[key];
    c.pending.extend_from_slice(line.as_bytes());
    c.pending.extend_from_slice(&missing);
    log::info!(
        "Partial resynchronization request accepted. Sending {} bytes of backlog starting from offset {offset}.",
        missing.len()
    );
    true
}

/// # Format
/// `REPLCONF option value [option value ...]`
/// # Returns
/// `+OK`; nothing for `ACK` and `GETACK` (a replica's feedback is not answered).
fn replconf(server: &mut Server, key: usize, args: &[&[u8]]) -> CmdResult {
    if args.len().is_multiple_of(2) {
        return Err(CmdError::Syntax);
    }
    let now = server.now_ms();
    for pair in args[1..].chunks(2) {
        let (opt, val) = (pair[0], pair[1]);
        if eq_ic(opt, "listening-port") {
            let port = engine::util::parse_i64(val)?;
            server.clients[key]
                .repl
                .get_or_insert_with(Default::default)
                .listening_port = port as u16;
        } else if eq_ic(opt, "ip-address") {
            if val.len() >= 256 {
                return Err(CmdError::Owned(format!(
                    "ERR REPLCONF ip-address provided by replica instance is too long: {} bytes",
                    val.len()
                )));
            }
            server.clients[key]
                .repl
                .get_or_insert_with(Default::default)
                .ip_address = Some(String::from_utf8_lossy(val).into());
        } else if eq_ic(opt, "capa") {
            let rc = server.clients[key]
                .repl
                .get_or_insert_with(Default::default);
            if eq_ic(val, "eof") {
                rc.capa_eof = true;
            } else if eq_ic(val, "psync2") {
                rc.capa_psync2 = true;
            }
        } else if eq_ic(opt, "ack") {
            // From a replica only, and never answered.
            let Some(i) = server.repl.replica_index(key) else {
                return Ok(());
            };
            let Ok(off) = engine::util::parse_i64(val) else {
                return Ok(());
            };
            let r = &mut server.repl.replicas[i];
            r.ack_offset = r.ack_offset.max(off.max(0) as u64);
            r.ack_time_ms = now;
            super::start_stream_on_ack(server, i);
            super::refresh_good_replicas(server);
            return Ok(());
        } else if eq_ic(opt, "rdb-only") {
            let v = engine::util::parse_i64(val)?;
            if !(0..=1).contains(&v) {
                return Err(CmdError::Static(
                    "ERR value is out of range, value must between 0 and 1",
                ));
            }
            server.clients[key]
                .repl
                .get_or_insert_with(Default::default)
                .rdb_only = v == 1;
        } else if eq_ic(opt, "rdb-filter-only") {
            // Redis's include filters: "" keeps nothing, `functions` the libraries. The
            // filter is set before the values are checked, as in Redis.
            let Some(filters) = resp::parse::split_args_owned(val) else {
                return Err(CmdError::Static("ERR Missing rdb-filter-only values"));
            };
            let rc = server.clients[key]
                .repl
                .get_or_insert_with(Default::default);
            rc.rdb_filter = Some(false);
            for f in &filters {
                if !eq_ic(f, "functions") {
                    return Err(CmdError::Owned(format!(
                        "ERR Unsupported rdb-filter-only option: {}",
                        String::from_utf8_lossy(f)
                    )));
                }
                rc.rdb_filter = Some(true);
            }
        } else if eq_ic(opt, "getack") {
            // Answered only by a replica to its master.
            return Ok(());
        } else {
            return Err(CmdError::Owned(format!(
                "ERR Unrecognized REPLCONF option: {}",
                String::from_utf8_lossy(opt)
            )));
        }
    }
    reply(server, key).ok();
    Ok(())
}

/// # Format
/// `ROLE`
/// # Returns
/// A master's `["master", offset, [[ip, port, acked offset] …]]`, online replicas only.
fn role(server: &mut Server, key: usize, _args: &[&[u8]]) -> CmdResult {
    if let Some(m) = &server.master {
        // ["slave", host, port, state, offset]
        let (host, port, state) = (m.host.clone(), m.port as i64, m.role_state());
        let offset = if m.state == super::replica::LinkState::Connected {
            server.repl.offset as i64
        } else {
            -1
        };
        let mut r = reply(server, key);
        r.array(5);
        r.bulk(b"slave");
        r.bulk(host.as_bytes());
        r.int(port);
        r.bulk(state.as_bytes());
        r.int(offset);
        return Ok(());
    }
    let rows: Vec<(String, u16, u64)> = server
        .repl
        .replicas
        .iter()
        .filter(|r| r.state == ReplicaState::Online)
        .filter_map(|r| {
            let c = server.clients.get(r.key)?;
            let conf = c.repl.as_deref();
            let ip = conf
                .and_then(|rc| rc.ip_address.as_deref().map(str::to_string))
                .unwrap_or_else(|| super::ip_of(c));
            Some((ip, conf.map_or(0, |rc| rc.listening_port), r.ack_offset))
        })
        .collect();
    let offset = server.repl.offset as i64;
    let mut r = reply(server, key);
    r.array(3);
    r.bulk(b"master");
    r.int(offset);
    r.array(rows.len());
    for (ip, port, ack) in rows {
        r.array(3);
        r.bulk(ip.as_bytes());
        r.bulk(port.to_string().as_bytes());
        r.bulk(ack.to_string().as_bytes());
    }
    Ok(())
}

/// # Format
/// `REPLICAOF NO ONE` / `REPLICAOF host port`
/// # Returns
/// `+OK`; `+OK Already connected to specified master` when it already follows that one.
fn replicaof(server: &mut Server, key: usize, args: &[&[u8]]) -> CmdResult {
    if server.repl.failover.is_some() {
        return Err(CmdError::Static(
            "ERR REPLICAOF not allowed while failing over.",
        ));
    }
    if eq_ic(args[1], "no") && eq_ic(args[2], "one") {
        if server.master.is_some() {
            super::replica::unset_master(server);
            server.config.compat.replicaof = None;
        }
        reply(server, key).ok();
        return Ok(());
    }
    if server.clients[key].is_replica() {
        return Err(CmdError::Static(
            "ERR Command is not valid when client is a replica.",
        ));
    }
    let port = match engine::util::parse_i64(args[2]) {
        Ok(p) if (0..=65535).contains(&p) => p as u16,
        _ => return Err(CmdError::Static("ERR Invalid master port")),
    };
    let host = String::from_utf8_lossy(args[1]).into_owned();
    if server
        .master
        .as_ref()
        .is_some_and(|m| m.host.eq_ignore_ascii_case(&host) && m.port == port)
    {
        log::info!(
            "REPLICAOF would result into synchronization with the master we are already connected with. No operation performed."
        );
        reply(server, key).simple(b"OK Already connected to specified master");
        return Ok(());
    }
    super::replica::set_master(server, &host, port);
    server.config.compat.replicaof = Some((args[1].to_vec(), port as i64));
    reply(server, key).ok();
    Ok(())
}
