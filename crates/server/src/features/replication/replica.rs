//! Replication, replica side (Redis 7.0's `syncWithMaster`, `readSyncBulkPayload`,
//! `replicationCron`): `REPLICAOF host port` makes ringkv follow a master — real Redis or
//! ringkv.
//!
//! The link is a client connection the loop opens ([`MasterLink::connect_to`], an effect
//! the loop acts on) and registers like an accepted one, flagged as the master. Until the
//! sync is done its input goes to [`on_link_input`] — the handshake (PING, AUTH,
//! REPLCONF listening-port and capa, PSYNC) one reply at a time, then the payload
//! (`$len` or `$EOF:<mark>`), loaded into an emptied keyspace. From then on its input is
//! the command stream, run through the gate like any client's but obeyed: no replies, no
//! ACL/OOM/read-only checks, keys never expired for it ([`apply`]); each command's bytes
//! advance the replication offset and feed our own backlog, so our replicas get the very
//! same stream (chained replication). `REPLCONF ACK <offset>` goes back every second.
//!
//! Invariants: while a master is set, the engine does not expire keys by itself (expired
//! keys read as missing to clients; the master's DELs remove them), writes from clients are
//! refused with `-READONLY` under `replica-read-only`, and our stream to sub-replicas comes
//! only from the master's bytes (the sink's own units are discarded).

use super::ensure_backlog;
use crate::server::Server;
use std::net::{SocketAddr, ToSocketAddrs};

/// Where the link is (Redis's `repl_state`, simplified).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkState {
    /// Must connect (at the next cron).
    Connect,
    /// The loop is connecting.
    Connecting,
    /// Waiting for the reply to a handshake step.
    Handshake(Step),
    /// Receiving the RDB payload.
    Transfer,
    /// Loading it, a step per loop turn.
    Loading,
    /// Applying the stream.
    Connected,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    Pong,
    Auth,
    Port,
    Ip,
    Capa,
    Psync,
}

/// The payload being received.
#[derive(Debug, Default)]
enum Payload {
    /// Waiting for the `$` line.
    #[default]
    Header,
    /// `$len`: bytes still expected.
    Sized { left: usize, sink: Sink },
    /// `$EOF:<mark>`: until the bytes end with the mark.
    Marked { mark: Vec<u8>, sink: Sink },
}

/// Where a payload goes as it arrives: memory, or (`repl-diskless-load disabled`, Redis's
/// default) a temporary file in `dir` that becomes `dbfilename` once complete, as Redis's
/// `readSyncBulkPayload` does, so the replica's RDB file is the master's snapshot and the
/// payload is not held on the heap beside the keyspace it loads into.
#[derive(Debug)]
enum Sink {
    Memory(Vec<u8>),
    Disk(DiskSink),
}

#[derive(Debug)]
struct DiskSink {
    file: std::fs::File,
    /// The temporary file; removed if the transfer does not complete.
    path: Option<std::path::PathBuf>,
    written: u64,
    /// The last bytes written (as many as an end mark), to find the mark.
    tail: Vec<u8>,
}

impl Drop for DiskSink {
    fn drop(&mut self) {
        if let Some(p) = self.path.take() {
            let _ = std::fs::remove_file(p);
        }
    }
}

/// A complete payload, for the load: bytes in memory or the file mapped.
pub enum PayloadBytes {
    Memory(Vec<u8>),
    Mapped(memmap2::Mmap),
}

impl std::ops::Deref for PayloadBytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            PayloadBytes::Memory(v) => v,
            PayloadBytes::Mapped(m) => m,
        }
    }
}

impl Sink {
    /// A sink for a payload announced as `len` bytes (0 when unknown).
    fn open(server: &Server, len: usize) -> std::io::Result<Sink> {
        if server.config.compat.repl_diskless_load != 0 {
            return Ok(Sink::Memory(Vec::with_capacity(len.min(64 << 20))));
        }
        let target = crate::features::persistence::rdb_path(server);
        let dir = crate::features::persistence::dir_of(&target);
        let now_s = server.engine.clock.now_ms() / 1000;
        let path = dir.join(format!("temp-{now_s}.{}.rdb", std::process::id()));
        let file = std::fs::OpenOptions::new()
            .write(true)
            .read(true)
            .create(true)
            .truncate(true)
            .open(&path)?;
        Ok(Sink::Disk(DiskSink {
            file,
            path: Some(path),
            written: 0,
            tail: Vec::new(),
        }))
    }

    fn write(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        match self {
            Sink::Memory(v) => v.extend_from_slice(bytes),
            Sink::Disk(d) => {
                use std::io::Write;
                d.file.write_all(bytes)?;
                d.written += bytes.len() as u64;
                d.tail.extend_from_slice(bytes);
                let keep = 64;
                if d.tail.len() > 2 * keep {
                    d.tail.drain(..d.tail.len() - keep);
                }
            }
        }
        Ok(())
    }

    fn ends_with(&self, mark: &[u8]) -> bool {
        match self {
            Sink::Memory(v) => v.ends_with(mark),
            Sink::Disk(d) => d.tail.ends_with(mark),
        }
    }

    /// The complete payload without its last `cut` bytes (an end mark). A file is synced,
    /// renamed over `target` (the directory synced too) and mapped.
    fn finish(self, cut: usize, target: &std::path::Path) -> std::io::Result<PayloadBytes> {
        match self {
            Sink::Memory(mut v) => {
                v.truncate(v.len().saturating_sub(cut));
                Ok(PayloadBytes::Memory(v))
            }
            Sink::Disk(mut d) => {
                d.file.set_len(d.written.saturating_sub(cut as u64))?;
                d.file.sync_all()?;
                let tmp = d.path.take().expect("an unfinished sink has its path");
                if let Err(e) = std::fs::rename(&tmp, target) {
                    let _ = std::fs::remove_file(&tmp);
                    return Err(e);
                }
                std::fs::File::open(crate::features::persistence::dir_of(target))?.sync_all()?;
                if d.file.metadata()?.len() == 0 {
                    return Ok(PayloadBytes::Memory(Vec::new()));
                }
                // SAFETY: the file is ours (just renamed into place, written by nobody
                // else while it loads); a concurrent truncation by another process would
                // be the same hazard as for any mapped file.
                let map = unsafe { memmap2::Mmap::map(&d.file)? };
                Ok(PayloadBytes::Mapped(map))
            }
        }
    }
}

/// The replica's link to its master.
pub struct MasterLink {
    pub host: String,
    pub port: u16,
    pub state: LinkState,
    /// The master's connection (client slab key, generation) once connected.
    pub conn: Option<(usize, u32)>,
    /// An effect for the loop: open a connection to this address.
    pub connect_to: Option<SocketAddr>,
    /// When the handshake or transfer started (Unix ms), for `repl-timeout`.
    pub started_ms: i64,
    /// Last bytes from the master (Unix ms): `master_last_io_seconds_ago`.
    pub last_io_ms: i64,
    /// When the link went down (Unix ms; 0 while up).
    pub down_since_ms: i64,
    payload: Payload,
    /// The payload being loaded and the load's state.
    loading: Option<
        Box<(
            PayloadBytes,
            crate::features::persistence::load::Incremental,
        )>,
    >,
    /// From `+FULLRESYNC`.
    full_replid: String,
    full_offset: u64,
    /// The db the master's stream has selected: kept across a dropped link (a partial
    /// resync continues without a SELECT), set from `repl-stream-db` after a full sync.
    pub db: usize,
    /// Bytes of the payload received (INFO `master_sync_read_bytes`).
    pub read_bytes: u64,
    pub total_bytes: i64,
}

impl MasterLink {
    fn new(host: String, port: u16, now: i64) -> MasterLink {
        MasterLink {
            host,
            port,
            state: LinkState::Connect,
            conn: None,
            connect_to: None,
            started_ms: now,
            last_io_ms: now,
            down_since_ms: now,
            payload: Payload::Header,
            loading: None,
            full_replid: String::new(),
            full_offset: 0,
            db: 0,
            read_bytes: 0,
            total_bytes: -1,
        }
    }

    /// ROLE's state name.
    pub fn role_state(&self) -> &'static str {
        match self.state {
            LinkState::Connect => "connect",
            LinkState::Connecting => "connecting",
            LinkState::Handshake(_) => "handshake",
            LinkState::Transfer | LinkState::Loading => "sync",
            LinkState::Connected => "connected",
        }
    }
}

/// Whether client `key` is the master's link.
#[inline]
pub fn is_master_link(server: &Server, key: usize) -> bool {
    server
        .master
        .as_ref()
        .is_some_and(|m| m.conn.is_some_and(|(k, _)| k == key))
}

/// Whether the link is applying the stream (the link's input is commands).
#[inline]
pub fn streaming(server: &Server) -> bool {
    server
        .master
        .as_ref()
        .is_some_and(|m| m.state == LinkState::Connected)
}

/// Whether a full sync's payload is loading (the gate answers `-LOADING`).
#[inline]
pub fn loading(server: &Server) -> bool {
    server
        .master
        .as_ref()
        .is_some_and(|m| m.state == LinkState::Loading)
}

/// REPLICAOF host port (or the `replicaof` directive at start-up): follow that master.
pub fn set_master(server: &mut Server, host: &str, port: u16) {
    let now = server.now_ms();
    let was_master = server.master.is_none();
    drop_link(server);
    if was_master {
        // Our own history is what we can offer a new master to continue from (Redis's
        // replicationCacheMasterUsingMyself).
        server.repl.cached = Some((server.replid.clone(), server.repl.offset));
    }
    // Our replicas must resync with us (the history changes under them).
    super::disconnect_replicas(server);
    server.master = Some(MasterLink::new(host.to_string(), port, now));
    server.engine.set_replica_expiry(true);
    let _ = server.update_oom_score();
    log::info!("Connecting to MASTER {host}:{port}");
    cron(server);
}

/// REPLICAOF NO ONE: become a master, keeping the history for our replicas (psync2: the
/// old id becomes `master_replid2`, valid up to our offset).
pub fn unset_master(server: &mut Server) {
    if server.master.is_none() {
        return;
    }
    drop_link(server);
    server.master = None;
    server.engine.set_replica_expiry(false);
    let _ = server.update_oom_score();
    server.repl.replid2 =
        std::mem::replace(&mut server.replid, crate::features::info::random_hex_id());
    server.repl.second_replid_offset = server.repl.offset as i64 + 1;
    server.repl.cached = None;
    // Replicas reconnect and continue with PSYNC on the old id.
    super::disconnect_replicas(server);
    log::info!("MASTER MODE enabled");
}

/// Closes the link's connection, if any; the state goes back to Connect.
fn drop_link(server: &mut Server) {
    let Some(m) = server.master.as_mut() else {
        return;
    };
    let conn = m.conn.take();
    m.state = LinkState::Connect;
    m.connect_to = None;
    m.payload = Payload::Header;
    if m.loading.take().is_some() {
        server.loading = false;
    }
    if m.down_since_ms == 0 {
        m.down_since_ms = server.engine.clock.now_ms();
    }
    if let Some((key, generation)) = conn
        && server
            .clients
            .get(key)
            .is_some_and(|c| c.generation == generation)
    {
        // What we applied is where a PSYNC can continue, in the db it had selected.
        server.repl.cached = Some((server.replid.clone(), server.repl.offset));
        if let Some(m) = server.master.as_mut() {
            m.db = server.clients[key].session.db;
        }
        server.close_client(key);
    }
}

/// The link's connection closed (by either side).
pub fn link_closed(server: &mut Server, key: usize) {
    let Some(m) = server.master.as_mut() else {
        return;
    };
    if m.conn.is_some_and(|(k, _)| k == key) {
        if m.state == LinkState::Connected {
            server.repl.cached = Some((server.replid.clone(), server.repl.offset));
            m.db = server.clients.get(key).map_or(0, |c| c.session.db);
            log::warn!("Connection with master lost.");
        }
        m.conn = None;
        m.state = LinkState::Connect;
        m.payload = Payload::Header;
        if m.loading.take().is_some() {
            server.loading = false;
        }
        m.down_since_ms = server.engine.clock.now_ms();
    }
}

/// The replica's cron (Redis's replicationCron, once a second): connect when due, give up
/// a handshake or transfer past `repl-timeout`, ACK the applied offset.
pub fn cron(server: &mut Server) {
    let now = server.now_ms();
    let timeout = server.config.compat.repl_timeout.max(1) * 1000;
    let Some(m) = server.master.as_mut() else {
        return;
    };
    match m.state {
        LinkState::Connect => {
            let addr = (m.host.as_str(), m.port)
                .to_socket_addrs()
                .ok()
                .and_then(|mut a| a.next());
            match addr {
                Some(a) => {
                    m.connect_to = Some(a);
                    m.state = LinkState::Connecting;
                    m.started_ms = now;
                }
                None => log::warn!("Unable to resolve master {}", m.host),
            }
        }
        LinkState::Connecting | LinkState::Handshake(_) | LinkState::Transfer => {
            if now - m.started_ms > timeout.max(m.last_io_ms - m.started_ms + timeout) {
                log::warn!("Timeout connecting to the MASTER...");
                drop_link(server);
            }
        }
        // Loading is ours to finish: no timeout (the master's stream waits in the input).
        LinkState::Loading => {}
        LinkState::Connected => {
            if now - m.last_io_ms > timeout {
                log::warn!("MASTER timeout: no data nor PING received...");
                drop_link(server);
                return;
            }
            send_ack(server);
        }
    }
}

fn send_ack(server: &mut Server) {
    let Some((key, _)) = server.master.as_ref().and_then(|m| m.conn) else {
        return;
    };
    let off = server.repl.offset.to_string();
    let c = &mut server.clients[key];
    c.pending.extend_from_slice(
        format!(
            "*3\r\n$8\r\nREPLCONF\r\n$3\r\nACK\r\n${}\r\n{off}\r\n",
            off.len()
        )
        .as_bytes(),
    );
    server.wake.push(key);
}

fn send(server: &mut Server, key: usize, argv: &[&[u8]]) {
    let c = &mut server.clients[key];
    persist::aof::writer::encode_command(&mut c.pending, argv.iter().copied());
    server.wake.push(key);
}

/// The loop connected the link: the handshake starts with PING.
pub fn on_connected(server: &mut Server, key: usize) {
    let now = server.now_ms();
    let generation = server.clients[key].generation;
    let Some(m) = server
        .master
        .as_mut()
        .filter(|m| m.state == LinkState::Connecting)
    else {
        // A connect for a link since dropped or re-pointed.
        server.close_client(key);
        return;
    };
    m.conn = Some((key, generation));
    m.state = LinkState::Handshake(Step::Pong);
    m.started_ms = now;
    m.last_io_ms = now;
    let c = &mut server.clients[key];
    c.repl.get_or_insert_with(Default::default).master = true;
    // The master's commands are obeyed: no user, nothing checked.
    c.user = crate::features::acl::NO_USER;
    c.acl_pass = true;
    c.authenticated = true;
    log::info!("MASTER <-> REPLICA sync started");
    send(server, key, &[b"PING"]);
}

/// The loop could not connect.
pub fn on_connect_failed(server: &mut Server, err: std::io::Error) {
    if let Some(m) = server.master.as_mut() {
        log::warn!("Error condition on socket for SYNC: {err}");
        m.state = LinkState::Connect;
    }
}

fn abort(server: &mut Server, why: &str) {
    log::warn!("{why}");
    drop_link(server);
}

/// Longest handshake line we wait for (Redis reads replies of at most 256 bytes): a master
/// sending more without a newline is broken or hostile.
const MAX_LINE: usize = 4096;

/// One CRLF-terminated line at the start of `buf`: (line without CRLF, bytes consumed).
fn line(buf: &[u8]) -> Option<(&[u8], usize)> {
    let i = memchr::memchr(b'\n', buf)?;
    let l = &buf[..i];
    Some((l.strip_suffix(b"\r").unwrap_or(l), i + 1))
}

/// The link's input before the stream: handshake replies, then the payload. Returns the
/// bytes consumed (the rest — the stream — is then run as commands).
pub fn on_link_input(server: &mut Server, key: usize, buf: &[u8]) -> usize {
    let now = server.now_ms();
    let mut pos = 0;
    loop {
        let Some(m) = server.master.as_mut() else {
            return buf.len();
        };
        m.last_io_ms = now;
        match m.state {
            LinkState::Handshake(step) => {
                let Some((l, n)) = line(&buf[pos..]) else {
                    if buf.len() - pos > MAX_LINE {
                        abort(server, "Master sent a reply line too long");
                        return buf.len();
                    }
                    return pos;
                };
                pos += n;
                let l = l.to_vec();
                if !handshake_step(server, key, step, &l) {
                    return buf.len();
                }
            }
            LinkState::Transfer => {
                let (used, done) = transfer(server, &buf[pos..]);
                pos += used;
                if !done {
                    return pos;
                }
                if !finish_sync(server) {
                    return buf.len();
                }
                return pos;
            }
            LinkState::Connected
            | LinkState::Loading
            | LinkState::Connect
            | LinkState::Connecting => return pos,
        }
    }
}

/// Handles one handshake reply; false when the link was dropped.
fn handshake_step(server: &mut Server, key: usize, step: Step, l: &[u8]) -> bool {
    let err = l.first() == Some(&b'-');
    let text = String::from_utf8_lossy(l).into_owned();
    let next = |server: &mut Server, s: Step| {
        if let Some(m) = server.master.as_mut() {
            m.state = LinkState::Handshake(s);
        }
    };
    match step {
        Step::Pong => {
            // NOAUTH / NOPERM mean the master is there and wants AUTH: fine.
            if err
                && !l.starts_with(b"-NOAUTH")
                && !l.starts_with(b"-NOPERM")
                && !l.starts_with(b"-ERR operation not permitted")
            {
                abort(
                    server,
                    &format!("Error reply to PING from master: '{text}'"),
                );
                return false;
            }
            log::info!("Master replied to PING, replication can continue...");
            let auth = server.config.compat.masterauth.clone();
            if !auth.is_empty() {
                let user = server.config.compat.masteruser.clone();
                if user.is_empty() {
                    send(server, key, &[b"AUTH", &auth]);
                } else {
                    send(server, key, &[b"AUTH", &user, &auth]);
                }
                next(server, Step::Auth);
            } else {
                send_port(server, key);
                next(server, Step::Port);
            }
        }
        Step::Auth => {
            if err {
                abort(server, &format!("Unable to AUTH to MASTER: {text}"));
                return false;
            }
            send_port(server, key);
            next(server, Step::Port);
        }
        Step::Port => {
            if err {
                log::info!(
                    "(Non critical) Master does not understand REPLCONF listening-port: {text}"
                );
            }
            // `replica-announce-ip`: the address our master tells Sentinel and FAILOVER.
            let ip = server.config.compat.replica_announce_ip.clone();
            if !ip.is_empty() {
                send(server, key, &[b"REPLCONF", b"ip-address", &ip]);
                next(server, Step::Ip);
            } else {
                send_capa(server, key);
                next(server, Step::Capa);
            }
        }
        Step::Ip => {
            if err {
                log::info!("(Non critical) Master does not understand REPLCONF ip-address: {text}");
            }
            send_capa(server, key);
            next(server, Step::Capa);
        }
        Step::Capa => {
            if err {
                log::info!("(Non critical) Master does not understand REPLCONF capa: {text}");
            }
            let (id, off) = match &server.repl.cached {
                Some((id, off)) => (id.clone(), (off + 1).to_string()),
                None => ("?".to_string(), "-1".to_string()),
            };
            if id == "?" {
                log::info!("Partial resynchronization not possible (no cached master)");
            } else {
                log::info!("Trying a partial resynchronization (request {id}:{off}).");
            }
            // A demoted master handing over: ask the target to take over.
            if server.repl.failover.as_ref().is_some_and(|f| f.in_progress) {
                send(
                    server,
                    key,
                    &[b"PSYNC", id.as_bytes(), off.as_bytes(), b"FAILOVER"],
                );
            } else {
                send(server, key, &[b"PSYNC", id.as_bytes(), off.as_bytes()]);
            }
            next(server, Step::Psync);
        }
        // The master may send empty lines to keep the link alive until it answers.
        Step::Psync if l.is_empty() => {}
        Step::Psync => return psync_reply(server, l),
    }
    true
}

fn send_capa(server: &mut Server, key: usize) {
    send(
        server,
        key,
        &[b"REPLCONF", b"capa", b"eof", b"capa", b"psync2"],
    );
}

fn send_port(server: &mut Server, key: usize) {
    let port = match server.config.compat.replica_announce_port {
        0 => server.tcp_port as i64,
        p => p,
    }
    .to_string();
    send(
        server,
        key,
        &[b"REPLCONF", b"listening-port", port.as_bytes()],
    );
}

/// The reply to PSYNC: a full resync (the payload follows) or a continuation.
fn psync_reply(server: &mut Server, l: &[u8]) -> bool {
    let text = String::from_utf8_lossy(l).into_owned();
    if let Some(rest) = text.strip_prefix("+FULLRESYNC ") {
        let mut it = rest.split(' ');
        let (Some(id), Some(off)) = (it.next(), it.next().and_then(|o| o.parse::<u64>().ok()))
        else {
            abort(
                server,
                &format!("Unexpected reply to PSYNC from master: {text}"),
            );
            return false;
        };
        log::info!("Full resync from master: {id}:{off}");
        let m = server.master.as_mut().expect("linked");
        m.full_replid = id.to_string();
        m.full_offset = off;
        m.state = LinkState::Transfer;
        m.payload = Payload::Header;
        m.read_bytes = 0;
        m.total_bytes = -1;
        // The old history is gone: replicas of ours must resync.
        server.repl.cached = None;
        super::disconnect_replicas(server);
        // A failover's target answered (Redis's syncWithMaster clears the state on either
        // reply): we follow it now.
        if server.repl.failover.is_some() {
            super::clear_failover(server);
        }
        return true;
    }
    if let Some(rest) = text.strip_prefix("+CONTINUE") {
        let new_id = rest.trim();
        if !new_id.is_empty() && new_id.len() != 40 {
            abort(
                server,
                &format!("Master replied with a malformed +CONTINUE: {text}"),
            );
            return false;
        }
        if !new_id.is_empty() && new_id != server.replid {
            // The master changed id (it was promoted): our old id stays valid up to here.
            server.repl.replid2 = std::mem::replace(&mut server.replid, new_id.to_string());
            server.repl.second_replid_offset = server.repl.offset as i64 + 1;
            super::disconnect_replicas(server);
        }
        log::info!("Successful partial resynchronization with master.");
        log::info!("MASTER <-> REPLICA sync: Master accepted a Partial Resynchronization.");
        connected(server);
        if server.repl.failover.is_some() {
            // The target took over: the failover is done, writes go on (refused here).
            super::clear_failover(server);
        }
        return true;
    }
    if server.repl.failover.is_some() {
        super::abort_failover(
            server,
            &format!("Failover target rejected psync request: {text}"),
        );
        return false;
    }
    abort(
        server,
        &format!("Unexpected reply to PSYNC from master: {text}"),
    );
    false
}

/// The link is up and applying the stream.
fn connected(server: &mut Server) {
    let now = server.now_ms();
    ensure_backlog(server);
    if let Some(m) = server.master.as_mut() {
        m.state = LinkState::Connected;
        m.down_since_ms = 0;
        m.last_io_ms = now;
        if let Some((k, _)) = m.conn
            && let Some(c) = server.clients.get_mut(k)
        {
            c.session.db = m.db;
        }
    }
    server.repl.cached = None;
    send_ack(server);
}

/// Takes payload bytes; returns (bytes used, payload complete).
fn transfer(server: &mut Server, buf: &[u8]) -> (usize, bool) {
    let m = server.master.as_mut().expect("linked");
    let mut pos = 0;
    if matches!(m.payload, Payload::Header) {
        // Newlines are the master's keepalive while it prepares the payload.
        while pos < buf.len() && buf[pos] == b'\n' {
            pos += 1;
        }
        let Some((l, n)) = line(&buf[pos..]) else {
            if buf.len() - pos > MAX_LINE {
                drop_link(server);
                log::warn!("Master sent a payload header line too long");
                return (buf.len(), false);
            }
            return (pos, false);
        };
        pos += n;
        let to = if server.config.compat.repl_diskless_load == 0 {
            "disk"
        } else {
            "memory"
        };
        let mark = l.strip_prefix(b"$EOF:").filter(|m| m.len() == 40);
        let len = l
            .strip_prefix(b"$")
            .and_then(|n| std::str::from_utf8(n).ok())
            .and_then(|n| n.parse::<usize>().ok());
        if mark.is_some() || len.is_some() {
            let sink = match Sink::open(server, len.unwrap_or(0)) {
                Ok(sink) => sink,
                Err(e) => {
                    log::warn!(
                        "Opening the temp file needed for MASTER <-> REPLICA synchronization: {e}"
                    );
                    drop_link(server);
                    return (buf.len(), false);
                }
            };
            let m = server.master.as_mut().expect("linked");
            if let Some(mark) = mark {
                m.payload = Payload::Marked {
                    mark: mark.to_vec(),
                    sink,
                };
                log::info!(
                    "MASTER <-> REPLICA sync: receiving streamed RDB from master with EOF to {to}"
                );
            } else if let Some(len) = len {
                m.total_bytes = len as i64;
                m.payload = Payload::Sized { left: len, sink };
                log::info!("MASTER <-> REPLICA sync: receiving {len} bytes from master to {to}");
            }
        } else {
            let text = String::from_utf8_lossy(l).into_owned();
            // An error reply instead of a payload.
            drop_link(server);
            log::warn!("MASTER aborted replication with an error: {text}");
            return (buf.len(), false);
        }
    }
    let m = server.master.as_mut().expect("linked");
    let rest = &buf[pos..];
    let (used, done, wrote) = match &mut m.payload {
        Payload::Sized { left, sink } => {
            let n = (*left).min(rest.len());
            let wrote = sink.write(&rest[..n]);
            *left -= n;
            m.read_bytes += n as u64;
            (pos + n, *left == 0, wrote)
        }
        Payload::Marked { mark, sink } => {
            // The mark ends the payload; nothing follows it until our first ACK.
            let wrote = sink.write(rest);
            m.read_bytes += rest.len() as u64;
            let done = m.read_bytes >= mark.len() as u64 && sink.ends_with(mark);
            (buf.len(), done, wrote)
        }
        Payload::Header => (pos, false, Ok(())),
    };
    if let Err(e) = wrote {
        log::warn!(
            "Write error or short write writing to the DB dump file needed for MASTER <-> \
             REPLICA synchronization: {e}"
        );
        drop_link(server);
        return (buf.len(), false);
    }
    (used, done)
}

/// The payload is complete: the keyspace becomes the master's.
fn finish_sync(server: &mut Server) -> bool {
    let target = crate::features::persistence::rdb_path(server);
    let m = server.master.as_mut().expect("linked");
    let finished = match std::mem::take(&mut m.payload) {
        Payload::Sized { sink, .. } => sink.finish(0, &target),
        Payload::Marked { mark, sink } => sink.finish(mark.len(), &target),
        Payload::Header => Ok(PayloadBytes::Memory(Vec::new())),
    };
    let payload = match finished {
        Ok(p) => p,
        Err(e) => {
            // The old data stays: the file was not made ours.
            abort(
                server,
                &format!(
                    "Failed trying to rename the temp DB into {} in MASTER <-> REPLICA \
                     synchronization: {e}",
                    target.display()
                ),
            );
            return false;
        }
    };
    log::info!("MASTER <-> REPLICA sync: Flushing old data");
    for i in 0..server.engine.dbs.len() {
        server.engine.touch_watched_on_flush(i);
        server.engine.dbs[i].clear();
    }
    let inc = match crate::features::persistence::load::Incremental::new(
        &payload,
        crate::features::persistence::load::Flags::default(),
    ) {
        Ok(inc) => inc,
        Err(e) => {
            abort(
                server,
                &format!("Failed trying to load the MASTER synchronization DB from socket: {e}"),
            );
            return false;
        }
    };
    log::info!("MASTER <-> REPLICA sync: Loading DB in memory");
    let m = server.master.as_mut().expect("linked");
    m.state = LinkState::Loading;
    m.loading = Some(Box::new((payload, inc)));
    server.loading = true;
    true
}

/// Keys loaded per step of a full sync's load, between which the loop serves clients
/// (`-LOADING` to those that need the keyspace, as Redis while it loads).
const LOAD_STEP_KEYS: usize = 1000;
/// Time a turn spends loading at most.
const LOAD_STEP_TIME: std::time::Duration = std::time::Duration::from_millis(2);

/// Once per loop turn while a full sync's payload loads: a bounded part of it; when all is
/// in, the master's history becomes ours and the stream starts.
pub fn load_step(server: &mut Server) {
    let Some(m) = server.master.as_mut() else {
        return;
    };
    let Some(mut job) = m.loading.take() else {
        return;
    };
    let start = std::time::Instant::now();
    let (payload, inc) = &mut *job;
    let done = loop {
        match inc.step(&mut server.engine, payload, LOAD_STEP_KEYS) {
            Ok(true) => break Ok(()),
            Ok(false) if start.elapsed() < LOAD_STEP_TIME => {}
            Ok(false) => {
                if let Some(m) = server.master.as_mut() {
                    m.loading = Some(job);
                }
                return;
            }
            Err(e) => break Err(e.to_string()),
        }
    };
    server.loading = false;
    let (payload, inc) = *job;
    // `rdb-del-sync-files`: the file a sync left, on a server that persists nothing, goes
    // (Redis's readSyncBulkPayload, after the load).
    if matches!(payload, PayloadBytes::Mapped(_))
        && server.config.compat.rdb_del_sync_files
        && server.config.save.is_empty()
        && !server.aof.on
    {
        let _ = std::fs::remove_file(crate::features::persistence::rdb_path(server));
    }
    drop(payload);
    let installed = done.and_then(|()| {
        crate::features::script::function::install_loaded(server, inc.functions, true)
            .map_err(|e| format!("Failed loading library: {e}"))
    });
    if let Err(e) = installed {
        abort(
            server,
            &format!("Failed trying to load the MASTER synchronization DB from socket: {e}"),
        );
        return;
    }
    let stream_db = inc.stats.repl_stream_db.unwrap_or(0);
    let m = server.master.as_mut().expect("linked");
    let (replid, offset) = (m.full_replid.clone(), m.full_offset);
    m.db = stream_db.min(server.engine.dbs.len().saturating_sub(1));
    // A new history: the master's id and offset, a fresh backlog.
    server.replid = replid;
    server.repl.replid2 = "0".repeat(40);
    server.repl.second_replid_offset = -1;
    server.repl.offset = offset;
    super::free_backlog(server);
    log::info!("MASTER <-> REPLICA sync: Finished with success");
    crate::sys::notify_status(
        "STATUS=MASTER <-> REPLICA sync: Finished with success. Ready to accept connections \
         in read-write mode.\n",
    );
    connected(server);
    // The stream that arrived meanwhile waits in the link's input: run it.
    if let Some((k, _)) = server.master.as_ref().and_then(|m| m.conn) {
        server.blocked.resumed.push(k);
    }
}

/// One command of the master's stream (`raw` its bytes): obeyed without a reply, then
/// its bytes advance the offset and go to our backlog and replicas.
pub fn apply(server: &mut Server, key: usize, args: &[&[u8]], raw: &[u8]) {
    let getack = args.len() >= 2
        && args[0].eq_ignore_ascii_case(b"replconf")
        && args[1].eq_ignore_ascii_case(b"getack");
    if !getack && !args.is_empty() {
        let before = server.clients[key].pending.len();
        server.engine.set_obey_master(true);
        crate::dispatch::gate::execute(server, key, args);
        server.engine.set_obey_master(false);
        server.clients[key].pending.truncate(before);
    }
    // As Redis, the ACK a GETACK asks for reports the offset before the GETACK itself
    // (the master client's offset moves once the command is done); it is proxied to our
    // replicas like any other command.
    if getack {
        send_ack(server);
    }
    super::feed_master_bytes(server, raw);
    if let Some(m) = server.master.as_mut() {
        m.last_io_ms = server.engine.clock.now_ms();
    }
}
