//! Replication, master side (Redis 7.0's replication.c): replicas — real Redis or ringkv —
//! connect as clients and send `PSYNC replid offset` (or the old `SYNC`); they get a full
//! resynchronisation (an RDB from the fork-free snapshot, then every write since it
//! started) or, when the backlog still holds what they miss, a partial one (`+CONTINUE`).
//!
//! The write stream is the runner's propagation stream: [`ReplSink`] sits beside the AOF's
//! sink, encodes each unit as RESP with its own `SELECT` tracking, and once per loop turn
//! ([`before_sleep`]) its bytes go to the backlog (`master_repl_offset` counts them) and to
//! every online replica's output; a replica waiting for its RDB buffers them until the RDB
//! is out.
//!
//! Invariants:
//! - The sink is attached exactly while the backlog exists (created by the first replica,
//!   freed `repl-backlog-ttl` seconds after the last one left), so without replicas writes
//!   cost nothing here.
//! - A replica's stream starts at the offset its `+FULLRESYNC` named: the snapshot and the
//!   buffered stream begin between the same two commands.
//! - Offsets are Redis's: `master_repl_offset` is the number of stream bytes ever
//!   produced; the backlog's first byte has offset `repl_backlog_first_byte_offset`, and
//!   `PSYNC id N` asks for the stream from byte N on.

pub mod commands;
pub mod replica;

use crate::server::Server;
use engine::propagate::Sink;
use persist::aof::writer::AofSink;
use std::any::Any;

/// Where a replica is in its synchronisation (Redis's `SLAVE_STATE_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReplicaState {
    /// Waiting for a snapshot to start (another background job runs).
    WaitBgsaveStart,
    /// Its snapshot is being written; the stream since its start is buffered.
    WaitBgsaveEnd,
    /// The snapshot's file is being sent, a chunk at a time as its output drains (see
    /// [`feed_bulk`]); the stream is still buffered.
    SendBulk,
    /// RDB sent (or partial resync accepted): it gets the stream as it is produced.
    Online,
}

impl ReplicaState {
    fn name(self) -> &'static str {
        match self {
            ReplicaState::WaitBgsaveStart => "wait_bgsave",
            ReplicaState::WaitBgsaveEnd => "wait_bgsave",
            ReplicaState::SendBulk => "send_bulk",
            ReplicaState::Online => "online",
        }
    }
}

/// One replica: a client that sent SYNC/PSYNC.
#[derive(Debug)]
pub struct Replica {
    pub key: usize,
    pub generation: u32,
    pub state: ReplicaState,
    /// Last `REPLCONF ACK` offset and when it came (Unix ms).
    pub ack_offset: u64,
    pub ack_time_ms: i64,
    /// It asked with PSYNC (so it gets `+FULLRESYNC`; SYNC gets the payload alone and is
    /// not expected to send ACKs: Redis's `CLIENT_PRE_PSYNC`).
    pub psync: bool,
    /// The stream produced while its RDB was being made.
    buffered: Vec<u8>,
    /// Its RDB comes straight from the snapshot (`$EOF:<mark>` … `<mark>`), not a file.
    diskless: bool,
    /// When it started waiting for a snapshot (Unix ms; `repl-diskless-sync-delay`).
    wait_since_ms: i64,
    /// After a diskless transfer the stream waits for its first ACK (Redis's
    /// `repl_start_cmd_stream_on_ack`): a replica recognises the end mark only as the last
    /// bytes of a read, so nothing may follow it until the replica has taken the payload.
    pub start_on_ack: bool,
    /// Its output holds RDB payload not yet sent: the output-buffer limit does not count it
    /// (Redis sends the RDB apart from the output buffer).
    rdb_in_output: bool,
    /// The snapshot file being sent (state `SendBulk`).
    bulk: Option<BulkFeed>,
}

/// A snapshot file on its way to a replica: read a chunk at a time into its output as the
/// output drains (Redis's `sendBulkToSlave`), so the file is never held in memory whole,
/// whatever its size and however many replicas take it.
#[derive(Debug)]
struct BulkFeed {
    file: std::rc::Rc<std::fs::File>,
    off: u64,
    len: u64,
}

/// How much of a snapshot file goes into a replica's output at a time.
const BULK_CHUNK: usize = 512 * 1024;

/// The replication backlog (Redis's `repl_backlog`): the last `repl-backlog-size` bytes of
/// the stream, for partial resynchronisation.
#[derive(Debug, Default)]
pub struct Backlog {
    /// `data[start..]` is the history (kept within 2× the size, compacted in bulk).
    data: Vec<u8>,
    start: usize,
    size: usize,
    /// Offset of the history's first byte.
    pub first_offset: u64,
}

impl Backlog {
    fn new(size: usize, next_offset: u64) -> Backlog {
        Backlog {
            data: Vec::new(),
            start: 0,
            size: size.max(1),
            first_offset: next_offset,
        }
    }

    /// Bytes it holds allocated (INFO `mem_replication_backlog`).
    pub fn memory(&self) -> usize {
        self.data.capacity()
    }

    pub fn histlen(&self) -> usize {
        self.data.len() - self.start
    }

    fn append(&mut self, bytes: &[u8]) {
        self.data.extend_from_slice(bytes);
        let len = self.histlen();
        if len > self.size {
            let drop = len - self.size;
            self.start += drop;
            self.first_offset += drop as u64;
        }
        if self.start >= self.size {
            self.data.drain(..self.start);
            self.start = 0;
        }
    }

    /// The history from stream offset `from` on, if the backlog still holds it (`from` may
    /// be one past the end: nothing is missing).
    fn since(&self, from: u64) -> Option<&[u8]> {
        let end = self.first_offset + self.histlen() as u64;
        if from < self.first_offset || from > end {
            return None;
        }
        Some(&self.data[self.start + (from - self.first_offset) as usize..])
    }

    fn resize(&mut self, size: usize) {
        self.size = size.max(1);
        self.append(&[]);
    }
}

/// The replication stream's consumer of the propagated units.
#[derive(Debug, Default)]
pub struct ReplSink(AofSink);

impl Sink for ReplSink {
    fn feed(&mut self, db: usize, argv: &[Vec<u8>]) {
        self.0.feed(db, argv);
    }

    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
}

/// A coordinated FAILOVER (Redis 6.2+): writes are held until a replica has everything,
/// then this master follows it and asks it, with `PSYNC … FAILOVER`, to take over.
#[derive(Debug)]
pub struct Failover {
    /// TO host port; else the first replica found in sync.
    pub target: Option<(String, u16)>,
    /// Unix ms (0: no TIMEOUT).
    pub end_ms: i64,
    pub force: bool,
    /// Demoted, handing over (`failover-in-progress`); else `waiting-for-sync`.
    pub in_progress: bool,
}

/// INFO's `master_failover_state`.
pub fn failover_state(server: &Server) -> &'static str {
    match &server.repl.failover {
        None => "no-failover",
        Some(f) if f.in_progress => "failover-in-progress",
        Some(_) => "waiting-for-sync",
    }
}

/// Ends the failover (Redis's `clearFailoverState`).
pub fn clear_failover(server: &mut Server) {
    server.repl.failover = None;
    crate::features::pause::end_failover_pause(server);
}

/// Abandons the failover (Redis's `abortFailover`): a demoted master becomes one again.
pub fn abort_failover(server: &mut Server, why: &str) {
    let Some(f) = &server.repl.failover else {
        return;
    };
    match &f.target {
        Some((h, p)) => log::info!("FAILOVER to {h}:{p} aborted: {why}"),
        None => log::info!("FAILOVER to any replica aborted: {why}"),
    }
    if f.in_progress {
        replica::unset_master(server);
    }
    clear_failover(server);
}

/// The replica a FAILOVER may target: by REPLCONF address (or peer IP) and listening port.
pub fn find_replica<'a>(server: &'a Server, host: &str, port: u16) -> Option<&'a Replica> {
    server.repl.replicas.iter().find(|r| {
        server.clients.get(r.key).is_some_and(|c| {
            let conf = c.repl.as_deref();
            let ip = conf
                .and_then(|rc| rc.ip_address.as_deref().map(str::to_string))
                .unwrap_or_else(|| ip_of(c));
            ip.eq_ignore_ascii_case(host) && conf.map_or(0, |rc| rc.listening_port) == port
        })
    })
}

/// Each turn while waiting for sync (Redis's `updateFailoverStatus`): the timeout (forced
/// over, or aborted), else hand over once the target acknowledged our whole stream.
fn update_failover(server: &mut Server) {
    let Some(f) = &server.repl.failover else {
        return;
    };
    if f.in_progress {
        return;
    }
    let now = server.now_ms();
    if f.end_ms != 0 && f.end_ms <= now {
        if f.force
            && let Some((h, p)) = f.target.clone()
        {
            log::info!("FAILOVER to {h}:{p} time out exceeded, failing over.");
            hand_over(server, &h, p);
        } else {
            abort_failover(server, "Replica never caught up before timeout");
        }
        return;
    }
    let offset = server.repl.offset;
    let target = match &f.target {
        Some((h, p)) => find_replica(server, h, *p)
            .filter(|r| r.ack_offset == offset)
            .map(|_| (h.clone(), *p)),
        None => server
            .repl
            .replicas
            .iter()
            .filter(|r| r.state == ReplicaState::Online && r.ack_offset == offset)
            .find_map(|r| {
                let c = server.clients.get(r.key)?;
                let conf = c.repl.as_deref();
                let ip = conf
                    .and_then(|rc| rc.ip_address.as_deref().map(str::to_string))
                    .unwrap_or_else(|| ip_of(c));
                Some((ip, conf.map_or(0, |rc| rc.listening_port)))
            }),
    };
    if let Some((h, p)) = target {
        let h: String = h;
        log::info!("Failover target {h}:{p} is synced, failing over.");
        hand_over(server, &h, p);
    }
}

/// Demotes this master to a replica of the target, which the handshake's `PSYNC …
/// FAILOVER` promotes.
fn hand_over(server: &mut Server, host: &str, port: u16) {
    if let Some(f) = server.repl.failover.as_mut() {
        f.in_progress = true;
        f.target = Some((host.to_string(), port));
    }
    replica::set_master(server, host, port);
}

/// A client in WAIT (Redis's BLOCKED_WAIT).
#[derive(Debug)]
pub struct Waiter {
    pub key: usize,
    pub generation: u32,
    /// The stream offset its writes reach.
    pub offset: u64,
    pub numreplicas: usize,
    /// Unix ms; 0 = no timeout.
    pub deadline_ms: i64,
}

/// The master side's state.
#[derive(Debug)]
pub struct Repl {
    /// `master_repl_offset`.
    pub offset: u64,
    pub backlog: Option<Backlog>,
    pub replicas: Vec<Replica>,
    /// `master_replid2` / `second_repl_offset` (after a promotion; -1: none).
    pub replid2: String,
    pub second_replid_offset: i64,
    /// When the last replica left (Unix ms), for `repl-backlog-ttl`.
    no_replicas_since_ms: i64,
    last_ping_ms: i64,
    pub stat_sync_full: u64,
    pub stat_sync_partial_ok: u64,
    pub stat_sync_partial_err: u64,
    /// The end mark of the running diskless transfer.
    eof_mark: String,
    /// The history a PSYNC can continue from (Redis's cached master): our id and the
    /// offset applied, kept when the link to our master drops or we start following one.
    pub cached: Option<(String, u64)>,
    /// Last run of the once-a-second part of the cron (Unix ms).
    last_second_ms: i64,
    /// Clients in WAIT.
    pub waiters: Vec<Waiter>,
    /// A coordinated FAILOVER in progress.
    pub failover: Option<Failover>,
    /// Ask the replicas for an ACK at the end of this turn (a WAIT started).
    get_ack: bool,
    /// Online replicas whose last ACK is within `min-replicas-max-lag` (Redis's
    /// `repl_good_slaves_count`, refreshed by the cron and by each ACK).
    pub good_replicas: usize,
}

impl Default for Repl {
    fn default() -> Repl {
        Repl {
            offset: 0,
            backlog: None,
            replicas: Vec::new(),
            replid2: "0".repeat(40),
            second_replid_offset: -1,
            no_replicas_since_ms: 0,
            last_ping_ms: 0,
            stat_sync_full: 0,
            stat_sync_partial_ok: 0,
            stat_sync_partial_err: 0,
            good_replicas: 0,
            eof_mark: String::new(),
            cached: None,
            last_second_ms: 0,
            waiters: Vec::new(),
            get_ack: false,
            failover: None,
        }
    }
}

impl Repl {
    pub fn replica_index(&self, key: usize) -> Option<usize> {
        self.replicas.iter().position(|r| r.key == key)
    }

    /// Whether client `key` waits in WAIT (its further input is held).
    #[inline]
    pub fn is_waiting(&self, key: usize) -> bool {
        !self.waiters.is_empty() && self.waiters.iter().any(|w| w.key == key)
    }

    /// Replicas that acknowledged at least `offset` (Redis's `replicationCountAcksByOffset`).
    pub fn acked(&self, offset: u64) -> usize {
        self.replicas
            .iter()
            .filter(|r| r.state == ReplicaState::Online && r.ack_offset >= offset)
            .count()
    }

    /// The nearest WAIT deadline (Unix ms), for the loop's sleep.
    pub fn next_wait_deadline(&self) -> Option<i64> {
        self.waiters
            .iter()
            .filter(|w| w.deadline_ms != 0)
            .map(|w| w.deadline_ms)
            .min()
    }
}

/// The offset the stream will have reached once this turn's units are counted (a client's
/// writes so far are all below it).
pub fn pending_offset(server: &mut Server) -> u64 {
    let pending = server
        .engine
        .propagation
        .sink_mut::<ReplSink>()
        .map_or(0, |s| s.0.buf.len());
    server.repl.offset + pending as u64
}

/// WAIT: asks the replicas for ACKs this turn; answered by [`serve_waiters`].
pub fn wait_for(server: &mut Server, w: Waiter) {
    server.repl.waiters.push(w);
    server.repl.get_ack = true;
}

/// Answers the WAITs that are satisfied or timed out (Redis's
/// `processClientsWaitingReplicas` and the blocked-client timeout).
fn serve_waiters(server: &mut Server) {
    if server.repl.waiters.is_empty() {
        return;
    }
    let now = server.now_ms();
    let mut i = 0;
    while i < server.repl.waiters.len() {
        let w = &server.repl.waiters[i];
        let acked = server.repl.acked(w.offset);
        let gone = server
            .clients
            .get(w.key)
            .is_none_or(|c| c.generation != w.generation);
        if !gone && acked < w.numreplicas && (w.deadline_ms == 0 || now < w.deadline_ms) {
            i += 1;
            continue;
        }
        let w = server.repl.waiters.swap_remove(i);
        if gone {
            continue;
        }
        let c = &mut server.clients[w.key];
        resp::Reply::new(&mut c.pending, c.session.proto).int(acked as i64);
        // Sent this turn; the commands it sent meanwhile run next.
        server.wake.push(w.key);
        server.blocked.resumed.push(w.key);
    }
}

/// Whether `min-replicas-to-write` (with `min-replicas-max-lag`) refuses writes: fewer
/// good replicas than asked (Redis's `checkGoodReplicasStatus`).
#[inline]
pub fn too_few_replicas(server: &Server) -> bool {
    let c = &server.config.compat;
    c.min_replicas_to_write > 0
        && c.min_replicas_max_lag > 0
        && (server.repl.good_replicas as i64) < c.min_replicas_to_write
        && server.master.is_none()
}

/// Recounts the good replicas (Redis's `refreshGoodSlavesCount`).
pub fn refresh_good_replicas(server: &mut Server) {
    let now_s = server.now_ms() / 1000;
    let lag = server.config.compat.min_replicas_max_lag;
    server.repl.good_replicas = server
        .repl
        .replicas
        .iter()
        .filter(|r| r.state == ReplicaState::Online && now_s - r.ack_time_ms / 1000 <= lag)
        .count();
}

/// Creates the backlog and attaches the stream's sink, if not yet there (Redis's
/// `createReplicationBacklog`: the first byte to come has offset `offset + 1`).
fn ensure_backlog(server: &mut Server) {
    if server.repl.backlog.is_some() {
        return;
    }
    let size = server.config.compat.repl_backlog_size.max(1) as usize;
    server.repl.backlog = Some(Backlog::new(size, server.repl.offset + 1));
    server.repl.no_replicas_since_ms = server.now_ms();
    server.engine.attach_sink(Box::new(ReplSink::default()));
}

/// Frees the backlog and detaches the sink.
fn free_backlog(server: &mut Server) {
    server.repl.backlog = None;
    server.engine.detach_sink::<ReplSink>();
}

/// Closes every replica (our history changed: they must sync again; Redis's
/// `disconnectSlaves`).
fn disconnect_replicas(server: &mut Server) {
    for r in std::mem::take(&mut server.repl.replicas) {
        server.close_client(r.key);
    }
    server.repl.no_replicas_since_ms = server.now_ms();
    refresh_good_replicas(server);
}

/// Bytes of our master's stream, applied: they are our stream too (chained replication).
fn feed_master_bytes(server: &mut Server, bytes: &[u8]) {
    if server.repl.backlog.is_none() {
        server.repl.offset += bytes.len() as u64;
        return;
    }
    feed(server, bytes);
}

/// Appends raw stream bytes (units from the sink, the cron's PING): to the backlog, to
/// online replicas' output, to the buffers of those waiting for their RDB.
fn feed(server: &mut Server, bytes: &[u8]) {
    if bytes.is_empty() {
        return;
    }
    let Some(b) = server.repl.backlog.as_mut() else {
        return;
    };
    b.append(bytes);
    server.repl.offset += bytes.len() as u64;
    for r in &mut server.repl.replicas {
        match r.state {
            ReplicaState::Online if r.start_on_ack => r.buffered.extend_from_slice(bytes),
            ReplicaState::Online => {
                if let Some(c) = server.clients.get_mut(r.key) {
                    c.pending.extend_from_slice(bytes);
                    server.wake.push(r.key);
                }
            }
            ReplicaState::WaitBgsaveEnd | ReplicaState::SendBulk => {
                r.buffered.extend_from_slice(bytes)
            }
            ReplicaState::WaitBgsaveStart => {}
        }
    }
}

/// The units the sink holds to the backlog and the replicas (done each turn, and before an
/// RDB records the offset).
pub(super) fn flush_turn_stream(server: &mut Server) {
    if let Some(sink) = server.engine.propagation.sink_mut::<ReplSink>()
        && !sink.0.buf.is_empty()
    {
        let bytes = sink.0.take();
        // A replica's stream is its master's (fed as applied), not its own units.
        if server.master.is_none() {
            feed(server, &bytes);
        }
        if let Some(sink) = server.engine.propagation.sink_mut::<ReplSink>() {
            sink.0.give_back(bytes);
        }
    }
}

/// Redis's `rdbPopulateSaveInfo`: the replication fields an RDB saved now carries
/// (`repl-stream-db`, `repl-id`, `repl-offset`), so that a restart continues this history
/// — a replica by PSYNC, a master keeping it as `master_replid2` for its replicas. A master
/// has them while it keeps a backlog; a replica while it has (or remembers) its master.
pub fn save_info(server: &mut Server) -> Option<Vec<(&'static [u8], Vec<u8>)>> {
    let db = match &server.master {
        None => {
            server.repl.backlog.as_ref()?;
            // The offset must cover every write the image holds.
            flush_turn_stream(server);
            server
                .engine
                .propagation
                .sink_mut::<ReplSink>()
                .and_then(|s| s.0.selected_db())
                .unwrap_or(0)
        }
        Some(m) => match m.conn.and_then(|(k, _)| server.clients.get(k)) {
            Some(c) if m.state == replica::LinkState::Connected => c.session.db,
            _ if server.repl.cached.is_some() => m.db,
            _ => return None,
        },
    };
    Some(repl_aux(server, db))
}

/// An image's replication fields: the stream continues in `stream_db`, from our id and
/// offset as they are now.
pub(super) fn repl_aux(server: &Server, stream_db: usize) -> Vec<(&'static [u8], Vec<u8>)> {
    vec![
        (&b"repl-stream-db"[..], stream_db.to_string().into_bytes()),
        (&b"repl-id"[..], server.replid.clone().into_bytes()),
        (
            &b"repl-offset"[..],
            server.repl.offset.to_string().into_bytes(),
        ),
    ]
}

/// Redis's rdbPopulateSaveInfo for a full sync: where the stream after the image
/// continues. Our own stream restarts with a SELECT (0); a replica's proxied stream
/// continues in its master's db.
pub(super) fn sync_stream_db(server: &Server) -> usize {
    server
        .master
        .as_ref()
        .and_then(|m| m.conn)
        .and_then(|(k, _)| server.clients.get(k))
        .map_or(0, |c| c.session.db)
}

/// Start-up loaded an RDB with replication fields (Redis's `loadDataFromDisk`): a replica
/// continues that history (PSYNC from it once linked); a master keeps it as its second id,
/// with a backlog from there, so its replicas continue by partial resync.
pub fn restore_from_rdb(server: &mut Server, replid: String, offset: u64, stream_db: usize) {
    if server.master.is_some() {
        server.replid = replid;
        server.repl.offset = offset;
        server.repl.cached = Some((server.replid.clone(), offset));
        if let Some(m) = server.master.as_mut() {
            m.db = stream_db.min(server.engine.dbs.len().saturating_sub(1));
        }
    } else {
        server.repl.replid2 = replid;
        server.repl.second_replid_offset = offset as i64 + 1;
        server.repl.offset = offset;
        ensure_backlog(server);
    }
}

/// Once per loop turn, before replies go out: the turn's stream to the backlog and the
/// replicas; a snapshot for replicas waiting for one, when none runs.
pub fn before_sleep(server: &mut Server) {
    replica::load_step(server);
    serve_waiters(server);
    update_failover(server);
    if server.repl.backlog.is_none() {
        return;
    }
    flush_turn_stream(server);
    if server.repl.failover.is_none()
        && std::mem::take(&mut server.repl.get_ack)
        && server.master.is_none()
    {
        // In the stream (it counts in the offset), as Redis's replicationRequestAckFromSlaves.
        feed(
            server,
            b"*3\r\n$8\r\nREPLCONF\r\n$6\r\nGETACK\r\n$1\r\n*\r\n",
        );
    }
    start_sync_snapshot(server);
    check_replica_limits(server);
}

/// The `replica` output-buffer limit: the stream queued for a replica — in its output, or
/// held back while its RDB is made or until its first ACK — but not the RDB payload itself.
fn check_replica_limits(server: &mut Server) {
    if server.repl.replicas.is_empty() {
        return;
    }
    let hard = server.settings.client_obuf_limits[1].hard_bytes;
    let mut over = Vec::new();
    for i in 0..server.repl.replicas.len() {
        let r = &mut server.repl.replicas[i];
        let Some(c) = server.clients.get(r.key) else {
            continue;
        };
        if r.rdb_in_output {
            if c.output_len() > 0 || r.state == ReplicaState::WaitBgsaveEnd {
                continue;
            }
            r.rdb_in_output = false;
        }
        if hard != 0 && (r.buffered.len() + c.output_len()) as u64 >= hard {
            over.push(r.key);
            continue;
        }
        let k = r.key;
        server.check_output_limit(k);
    }
    for k in over {
        server.close_for_output_limit(k);
    }
}

/// Starts the snapshot for replicas waiting for one (Redis's
/// `startBgsaveForReplication`), unless a background job runs (they wait for its end).
/// Diskless (`repl-diskless-sync`, when every waiting replica can take an EOF-marked
/// payload) after `repl-diskless-sync-delay` seconds, or as soon as
/// `repl-diskless-sync-max-replicas` wait; else to the RDB file at once.
fn start_sync_snapshot(server: &mut Server) {
    if server.persistence.bg.is_some() || server.engine.snapshot_running() {
        return;
    }
    let waiting: Vec<&Replica> = server
        .repl
        .replicas
        .iter()
        .filter(|r| r.state == ReplicaState::WaitBgsaveStart)
        .collect();
    if waiting.is_empty() {
        return;
    }
    let cfg = &server.config.compat;
    let diskless = cfg.repl_diskless_sync
        && waiting.iter().all(|r| {
            server
                .clients
                .get(r.key)
                .and_then(|c| c.repl.as_ref())
                .is_some_and(|rc| rc.capa_eof)
        });
    if diskless {
        let oldest = waiting.iter().map(|r| r.wait_since_ms).min().unwrap_or(0);
        let delay_ms = cfg.repl_diskless_sync_delay.saturating_mul(1000);
        let max = cfg.repl_diskless_sync_max_replicas;
        let enough = max > 0 && waiting.len() as i64 >= max;
        if server.now_ms() - oldest < delay_ms && !enough {
            return;
        }
    }
    let aux = repl_aux(server, sync_stream_db(server));
    let r = crate::features::persistence::start_background_for_replicas(server, diskless, &aux);
    if r.is_err() {
        log::warn!("BGSAVE for replication failed");
        for r in std::mem::take(&mut server.repl.replicas) {
            if r.state == ReplicaState::WaitBgsaveStart {
                server.close_client(r.key);
            } else {
                server.repl.replicas.push(r);
            }
        }
        return;
    }
    // The next unit starts with SELECT: the replica's stream begins here.
    if let Some(sink) = server.engine.propagation.sink_mut::<ReplSink>() {
        sink.0.reset_select();
    }
    let offset = server.repl.offset;
    let replid = server.replid.clone();
    if diskless {
        server.repl.eof_mark = crate::features::info::random_hex_id();
    }
    let mark = &server.repl.eof_mark;
    for r in &mut server.repl.replicas {
        if r.state != ReplicaState::WaitBgsaveStart {
            continue;
        }
        r.state = ReplicaState::WaitBgsaveEnd;
        r.diskless = diskless;
        r.rdb_in_output = diskless;
        r.buffered.clear();
        let Some(c) = server.clients.get_mut(r.key) else {
            continue;
        };
        if r.psync {
            c.pending
                .extend_from_slice(format!("+FULLRESYNC {replid} {offset}\r\n").as_bytes());
        }
        if diskless {
            c.pending
                .extend_from_slice(format!("$EOF:{mark}\r\n").as_bytes());
        }
        server.wake.push(r.key);
    }
    if diskless {
        log::info!("Starting BGSAVE for SYNC with target: replicas sockets");
    } else {
        log::info!("Starting BGSAVE for SYNC with target: disk");
    }
}

/// Output a diskless transfer may leave unsent per replica before the walk pauses.
const DISKLESS_MAX_UNSENT: usize = 8 * 1024 * 1024;

/// Whether a replica of the running diskless transfer still has too much to send.
pub fn rdb_output_full(server: &Server) -> bool {
    server.repl.replicas.iter().any(|r| {
        r.diskless
            && r.state == ReplicaState::WaitBgsaveEnd
            && server
                .clients
                .get(r.key)
                .is_some_and(|c| c.output_len() > DISKLESS_MAX_UNSENT)
    })
}

/// The next bytes of a diskless transfer, to each replica taking part.
pub fn feed_rdb(server: &mut Server, bytes: &[u8]) {
    if bytes.is_empty() {
        return;
    }
    for r in &server.repl.replicas {
        if r.diskless
            && r.state == ReplicaState::WaitBgsaveEnd
            && let Some(c) = server.clients.get_mut(r.key)
        {
            c.pending.extend_from_slice(bytes);
            server.wake.push(r.key);
        }
    }
}

/// The diskless transfer ended: the end mark, then the stream since it started; or, when
/// it failed, its replicas are dropped (they reconnect and try again).
pub fn diskless_done(server: &mut Server, ok: bool) {
    let mark = std::mem::take(&mut server.repl.eof_mark);
    for r in std::mem::take(&mut server.repl.replicas) {
        if !(r.diskless && r.state == ReplicaState::WaitBgsaveEnd) {
            server.repl.replicas.push(r);
            continue;
        }
        if !ok {
            server.close_client(r.key);
            continue;
        }
        let mut r = r;
        if let Some(c) = server.clients.get_mut(r.key) {
            c.pending.extend_from_slice(mark.as_bytes());
            r.start_on_ack = true;
            server.wake.push(r.key);
            log::info!(
                "Streamed RDB transfer with replica {} succeeded: replica is online",
                crate::client::fmt_addr(c.peer_addr())
            );
        }
        r.state = ReplicaState::Online;
        r.diskless = false;
        // Redis's replicaPutOnline: no false timeout for the time the transfer took.
        r.ack_time_ms = server.engine.clock.now_ms();
        server.repl.replicas.push(r);
    }
    if !ok {
        log::warn!("Diskless rdb transfer failed");
    }
    release_rdb_only(server);
    refresh_good_replicas(server);
}

/// A background save ended (Redis's `updateSlavesWaitingBgsave`): replicas waiting for it
/// get the file, then the stream buffered since it started.
pub fn snapshot_done(server: &mut Server, ok: bool, path: &std::path::Path) {
    if !server
        .repl
        .replicas
        .iter()
        .any(|r| r.state == ReplicaState::WaitBgsaveEnd && !r.diskless)
    {
        return;
    }
    let file = if ok {
        std::fs::File::open(path)
            .and_then(|f| Ok((f.metadata()?.len(), f)))
            .map_err(|e| log::warn!("SYNC failed. Can't open {}: {e}", path.display()))
            .ok()
    } else {
        None
    };
    // `rdb-del-sync-files`: a file made only for replication, on a server that persists
    // nothing, does not stay on disk (Redis's removeRDBUsedToSyncReplicas); the open file
    // is still read to the end.
    if file.is_some()
        && server.config.compat.rdb_del_sync_files
        && server.config.save.is_empty()
        && !server.aof.on
    {
        log::info!("Removing the RDB file used to feed replicas in a persistence-less instance");
        let _ = std::fs::remove_file(path);
    }
    let Some((len, file)) = file else {
        log::warn!("SYNC failed. BGSAVE child returned an error");
        for r in std::mem::take(&mut server.repl.replicas) {
            if r.state == ReplicaState::WaitBgsaveEnd && !r.diskless {
                server.close_client(r.key);
            } else {
                server.repl.replicas.push(r);
            }
        }
        return;
    };
    let file = std::rc::Rc::new(file);
    for r in &mut server.repl.replicas {
        if r.state != ReplicaState::WaitBgsaveEnd || r.diskless {
            continue;
        }
        let Some(c) = server.clients.get_mut(r.key) else {
            continue;
        };
        r.state = ReplicaState::SendBulk;
        r.bulk = Some(BulkFeed {
            file: file.clone(),
            off: 0,
            len,
        });
        c.pending
            .extend_from_slice(format!("${len}\r\n").as_bytes());
        if let Some(rc) = c.repl.as_mut() {
            rc.bulk = true;
        }
        server.wake.push(r.key);
    }
}

/// Replica `key`'s output ran low while it takes a snapshot file: the next chunk; after
/// the last, the stream buffered meanwhile, and it is online (Redis's `sendBulkToSlave`
/// and `replicaPutOnline`). Called by the loop before it hands the output to a send.
pub fn feed_bulk(server: &mut Server, key: usize) {
    use std::os::unix::fs::FileExt;
    let Some(i) = server.repl.replicas.iter().position(|r| r.key == key) else {
        return;
    };
    let r = &mut server.repl.replicas[i];
    let (Some(feed), Some(c)) = (r.bulk.as_mut(), server.clients.get_mut(key)) else {
        return;
    };
    if c.pending.len() >= BULK_CHUNK {
        return;
    }
    let want = (feed.len - feed.off).min(BULK_CHUNK as u64) as usize;
    let at = c.pending.len();
    c.pending.resize(at + want, 0);
    let read = feed.file.read_at(&mut c.pending[at..], feed.off);
    match read {
        Ok(n) if n > 0 || want == 0 => {
            c.pending.truncate(at + n);
            feed.off += n as u64;
        }
        other => {
            c.pending.truncate(at);
            let why = match other {
                Err(e) => e.to_string(),
                Ok(_) => "the file ended early".to_string(),
            };
            log::warn!("Read error sending DB to replica: {why}");
            server.close_client(key);
            return;
        }
    }
    if feed.off < feed.len {
        return;
    }
    r.bulk = None;
    r.state = ReplicaState::Online;
    // Redis's replicaPutOnline: no false timeout for the time the transfer took.
    r.ack_time_ms = server.engine.clock.now_ms();
    c.pending.append(&mut r.buffered);
    r.buffered = Vec::new();
    if let Some(rc) = c.repl.as_mut() {
        rc.bulk = false;
    }
    log::info!(
        "Synchronization with replica {} succeeded",
        crate::client::fmt_addr(c.peer_addr())
    );
    release_rdb_only(server);
    refresh_good_replicas(server);
}

/// Replicas that asked for the RDB only (`REPLCONF rdb-only 1`) are done once it is out:
/// their connection closes after it, and they leave the list.
fn release_rdb_only(server: &mut Server) {
    for r in std::mem::take(&mut server.repl.replicas) {
        let rdb_only = r.state == ReplicaState::Online
            && server
                .clients
                .get(r.key)
                .and_then(|c| c.repl.as_ref())
                .is_some_and(|rc| rc.rdb_only);
        if !rdb_only {
            server.repl.replicas.push(r);
            continue;
        }
        if let Some(c) = server.clients.get_mut(r.key) {
            c.state = crate::client::ConnState::CloseAfterReply;
            server.wake.push(r.key);
        }
    }
}

/// A replica's first ACK after a diskless transfer: its stream starts (see
/// [`Replica::start_on_ack`]).
pub fn start_stream_on_ack(server: &mut Server, i: usize) {
    let r = &mut server.repl.replicas[i];
    if !r.start_on_ack {
        return;
    }
    r.start_on_ack = false;
    if let Some(c) = server.clients.get_mut(r.key) {
        c.pending.append(&mut r.buffered);
        server.wake.push(r.key);
    }
    r.buffered = Vec::new();
}

/// A client went away: forget it as a replica.
pub fn client_closed(server: &mut Server, key: usize) {
    replica::link_closed(server, key);
    server.repl.waiters.retain(|w| w.key != key);
    if let Some(i) = server.repl.replica_index(key) {
        let r = server.repl.replicas.remove(i);
        refresh_good_replicas(server);
        // A diskless transfer nobody takes any more is abandoned (Redis kills its child).
        if r.diskless
            && !server.repl.replicas.iter().any(|o| o.diskless)
            && server.persistence.bg.as_ref().is_some_and(|b| b.diskless)
        {
            crate::features::persistence::abort_background(server);
        }
        if server.repl.replicas.is_empty() {
            server.repl.no_replicas_since_ms = server.now_ms();
        }
    }
}

/// The replication cron (once a second, Redis's `replicationCron`): PING into the stream
/// every `repl-ping-replica-period`, replicas silent past `repl-timeout` dropped, the
/// backlog freed `repl-backlog-ttl` after the last replica left.
pub fn cron(server: &mut Server) {
    let now = server.now_ms();
    if now - server.repl.last_second_ms >= 1000 {
        server.repl.last_second_ms = now;
        replica::cron(server);
    }
    if server.repl.backlog.is_none() {
        return;
    }
    resize_backlog(server);
    refresh_good_replicas(server);
    start_sync_snapshot(server);
    let now = server.now_ms();
    let period = server.config.compat.repl_ping_replica_period.max(1) * 1000;
    // A replica's replicas get its master's PINGs.
    if server.master.is_none()
        && server.repl.failover.is_none()
        && !server.repl.replicas.is_empty()
        && now - server.repl.last_ping_ms >= period
    {
        server.repl.last_ping_ms = now;
        feed(server, b"*1\r\n$4\r\nPING\r\n");
    }
    // Newlines keep replicas waiting for their RDB from timing out (Redis's
    // replicationCron); a replica skips them before the payload.
    for r in &server.repl.replicas {
        let waiting = r.state == ReplicaState::WaitBgsaveStart
            || (r.state == ReplicaState::WaitBgsaveEnd && !r.diskless);
        if waiting && let Some(c) = server.clients.get_mut(r.key) {
            c.pending.push(b'\n');
            server.wake.push(r.key);
        }
    }
    let timeout = server.config.compat.repl_timeout.max(1) * 1000;
    let late: Vec<usize> = server
        .repl
        .replicas
        .iter()
        .filter(|r| r.state == ReplicaState::Online && r.psync && now - r.ack_time_ms > timeout)
        .map(|r| r.key)
        .collect();
    for k in late {
        log::warn!("Disconnecting timedout replica (streaming sync)");
        server.close_client(k);
    }
    let ttl = server.config.compat.repl_backlog_ttl;
    // A replica keeps its backlog: it is what its own replicas and a promotion need.
    if server.repl.replicas.is_empty()
        && server.master.is_none()
        && ttl > 0
        && now - server.repl.no_replicas_since_ms > ttl.saturating_mul(1000)
    {
        log::info!("Replication backlog freed after {ttl} seconds without connected replicas.");
        free_backlog(server);
    }
}

/// CONFIG SET repl-backlog-size takes effect at the next cron.
fn resize_backlog(server: &mut Server) {
    let size = server.config.compat.repl_backlog_size.max(1) as usize;
    if let Some(b) = server.repl.backlog.as_mut() {
        b.resize(size);
    }
}

/// INFO replication's `role` value, and on a replica the lines about its master after it.
pub fn info_role(server: &Server, s: &mut String) {
    use std::fmt::Write;
    let Some(m) = &server.master else {
        s.push_str("master");
        return;
    };
    let now_s = server.now_ms() / 1000;
    let up = m.state == replica::LinkState::Connected;
    let syncing = m.state == replica::LinkState::Transfer;
    let last_io = if up { now_s - m.last_io_ms / 1000 } else { -1 };
    let _ = write!(
        s,
        "slave\r\nmaster_host:{}\r\nmaster_port:{}\r\nmaster_link_status:{}\r\n\
         master_last_io_seconds_ago:{last_io}\r\nmaster_sync_in_progress:{}\r\n\
         slave_read_repl_offset:{}\r\nslave_repl_offset:{}",
        m.host,
        m.port,
        if up { "up" } else { "down" },
        u8::from(syncing),
        server.repl.offset,
        server.repl.offset,
    );
    if syncing {
        let total = m.total_bytes;
        let read = m.read_bytes as i64;
        let perc = if total > 0 {
            read as f64 * 100.0 / total as f64
        } else {
            0.0
        };
        let _ = write!(
            s,
            "\r\nmaster_sync_total_bytes:{total}\r\nmaster_sync_read_bytes:{read}\r\n\
             master_sync_left_bytes:{}\r\nmaster_sync_perc:{perc:.2}\r\n\
             master_sync_last_io_seconds_ago:{}",
            total - read,
            now_s - m.last_io_ms / 1000
        );
    }
    if !up {
        let since = if m.down_since_ms == 0 {
            -1
        } else {
            now_s - m.down_since_ms / 1000
        };
        let _ = write!(s, "\r\nmaster_link_down_since_seconds:{since}");
    }
    let c = &server.config.compat;
    let _ = write!(
        s,
        "\r\nslave_priority:{}\r\nslave_read_only:{}\r\nreplica_announced:{}",
        c.replica_priority,
        u8::from(c.replica_read_only),
        u8::from(c.replica_announced)
    );
}

/// INFO replication's `connected_slaves` value and the `slaveN:` lines after it.
pub fn info_replicas(server: &Server, s: &mut String) {
    use std::fmt::Write;
    let _ = write!(s, "{}", server.repl.replicas.len());
    let now = server.now_ms();
    for (i, r) in server.repl.replicas.iter().enumerate() {
        let Some(c) = server.clients.get(r.key) else {
            continue;
        };
        let conf = c.repl.as_deref();
        let ip = conf
            .and_then(|rc| rc.ip_address.as_deref().map(str::to_string))
            .unwrap_or_else(|| ip_of(c));
        let _ = write!(
            s,
            "\r\nslave{i}:ip={ip},port={},state={},offset={},lag={}",
            conf.map_or(0, |rc| rc.listening_port),
            r.state.name(),
            r.ack_offset,
            (now - r.ack_time_ms).max(0) / 1000
        );
    }
}

/// The peer's IP as Redis prints it.
pub fn ip_of(c: &crate::client::Conn) -> String {
    match c.peer_lookup() {
        Some(a) => a.ip().to_string(),
        None => "?".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_backlog_keeps_the_last_size_bytes_and_knows_their_offsets() {
        let mut b = Backlog::new(10, 1);
        b.append(b"hello");
        assert_eq!(b.since(1), Some(&b"hello"[..]));
        assert_eq!(b.since(6), Some(&b""[..]), "nothing missing");
        assert_eq!(b.since(7), None, "from the future");
        b.append(b"0123456789ab");
        assert_eq!(b.histlen(), 10);
        assert_eq!(b.first_offset, 8);
        assert_eq!(b.since(8), Some(&b"23456789ab"[..]));
        assert_eq!(b.since(7), None, "already dropped");
        for _ in 0..100 {
            b.append(b"xyz");
        }
        assert_eq!(b.histlen(), 10);
        assert!(b.data.len() <= 2 * 10 + 3);
        assert_eq!(b.first_offset, 1 + 5 + 12 + 300 - 10);
        b.resize(4);
        assert_eq!(b.since(b.first_offset), Some(&b"zxyz"[..]));
    }
}
