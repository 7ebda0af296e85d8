//! The server's half of blocking commands (BLPOP & co., BZPOPMIN & co.): parking a client,
//! serving it when a key it waits on gets data, timing it out, unblocking it.
//!
//! How it fits (see `engine::blocking` for the handler's side):
//! - The gate runs the handler; if the handler left `engine.block` set, [`block`] parks the
//!   client: its command line (row + args) is kept, it joins the FIFO of every key it
//!   waits on (`engine.blocking`), and its deadline goes in an ordered set. The event loop
//!   stops running the client's further commands (they stay buffered, as in Redis) while
//!   [`Blocked::is_blocked`].
//! - After every top-level command, if writes signalled ready keys, [`handle_ready`] serves
//!   the waiters of each ready key oldest first, by re-running each one's own handler with
//!   its own args (Redis 7.2's approach): the handler finds data, replies, and rewrites the
//!   propagated command (BLPOP → LPOP). A key is served while it still holds a value of the
//!   kind the waiter wants; a waiter that disconnected has already left the queues. Served
//!   keys may make other keys ready (BLMOVE pushes), which are served in the same pass. So
//!   a push and the wake-up it causes happen before any other client's command runs.
//! - [`check_timeouts`] (each loop turn; the loop sleeps no longer than the nearest
//!   deadline) answers timed-out clients with the command's timeout reply.
//! - [`client_unblock`] is CLIENT UNBLOCK; [`forget`] drops a closing client.
//! - Clients that leave the blocked state are queued in [`Blocked::resumed`]; the loop sends
//!   their reply and runs the commands they sent meanwhile.
//!
//! Invariants: a client is in `clients` iff it is in the engine's queue of each of its keys
//! and (with a deadline) in `deadlines`; all three are updated together.

use crate::dispatch::call::{Origin, call};
use crate::dispatch::gate::Cmd;
use crate::server::Server;
use engine::blocking::{BlockKind, BlockRequest, StreamWait, StreamWaitState, TimeoutReply};
use engine::commands::table::Row;
use engine::object::Value;
use resp::Reply;
use std::collections::{BTreeSet, HashMap};

/// A parked client.
pub struct Parked {
    pub db: usize,
    keys: Vec<Vec<u8>>,
    argv: Vec<Vec<u8>>,
    row: &'static Row<Cmd>,
    deadline: i64,
    reply: TimeoutReply,
    kind: BlockKind,
    /// Stream readers: what each key waits for.
    stream: Option<StreamWait>,
}

/// Blocked clients by slab key.
#[derive(Default)]
pub struct Blocked {
    clients: HashMap<usize, Parked>,
    /// (deadline ms, slab key) of clients with a timeout.
    deadlines: BTreeSet<(i64, usize)>,
    /// Clients that left the blocked state since the loop last looked (reply to send,
    /// buffered commands to run). May hold stale keys.
    pub resumed: Vec<usize>,
    /// While a served client's command re-runs: its deadline, kept if it parks again
    /// (a stream reader that found nothing after all keeps waiting as before).
    reblock_deadline: Option<i64>,
}

impl Blocked {
    /// Whether client `key` is blocked (one length test when nobody is).
    #[inline]
    pub fn is_blocked(&self, key: usize) -> bool {
        !self.clients.is_empty() && self.clients.contains_key(&key)
    }

    /// Number of blocked clients (INFO `blocked_clients`).
    pub fn len(&self) -> usize {
        self.clients.len()
    }

    pub fn is_empty(&self) -> bool {
        self.clients.is_empty()
    }

    /// Clients with a timeout (INFO `clients_in_timeout_table`).
    pub fn with_timeout(&self) -> usize {
        self.deadlines.len()
    }

    /// The nearest deadline (ms), if any client has one.
    pub fn next_deadline(&self) -> Option<i64> {
        self.deadlines.first().map(|&(d, _)| d)
    }
}

/// Parks client `key`, which just ran `row`'s handler with `args` and asked to block.
pub fn block(
    server: &mut Server,
    key: usize,
    row: &'static Row<Cmd>,
    args: &[&[u8]],
    req: BlockRequest,
) {
    let db = server.clients[key].session.db;
    let mut keys: Vec<Vec<u8>> = Vec::with_capacity(req.keys.len());
    for k in req.keys {
        // A key named twice waits once (Redis's blockForKeys skips duplicates).
        if !keys.contains(&k) {
            server.engine.blocking.add(db, &k, key);
            keys.push(k);
        }
    }
    let deadline = server
        .blocked
        .reblock_deadline
        .take()
        .unwrap_or(req.timeout_at_ms);
    if deadline != 0 {
        server.blocked.deadlines.insert((deadline, key));
    }
    let parked = Parked {
        db,
        keys,
        argv: req
            .argv
            .unwrap_or_else(|| args.iter().map(|a| a.to_vec()).collect()),
        row,
        deadline,
        reply: req.timeout_reply,
        kind: req.kind,
        stream: req.stream,
    };
    // Stream readers need keys deleted by expiry reported (see refresh_expire_logging).
    let stream = parked.kind == BlockKind::Stream;
    server.blocked.clients.insert(key, parked);
    if stream {
        server.engine.refresh_expire_logging();
    }
}

/// Takes client `key` out of every structure; returns its parked state.
fn unpark(server: &mut Server, key: usize) -> Option<Parked> {
    let p = server.blocked.clients.remove(&key)?;
    for k in &p.keys {
        server.engine.blocking.remove(p.db, k, key);
    }
    if p.deadline != 0 {
        server.blocked.deadlines.remove(&(p.deadline, key));
    }
    if p.kind == BlockKind::Stream {
        server.engine.refresh_expire_logging();
    }
    Some(p)
}

/// Drops a closing client from the blocked state, without a reply.
pub fn forget(server: &mut Server, key: usize) {
    unpark(server, key);
}

/// Whether `key` in `db` holds a value that can serve a waiter of `kind`.
fn can_serve(server: &mut Server, db: usize, key: &[u8], kind: BlockKind) -> bool {
    let now = server.engine.now_ms();
    match server.engine.dbs[db]
        .lookup_notouch(key, now)
        .map(|e| &e.value)
    {
        Some(Value::List(_)) => kind == BlockKind::List,
        Some(Value::ZSet(_)) => kind == BlockKind::ZSet,
        _ => false,
    }
}

/// What `key` in `db` means now for stream waiter `ck`.
fn stream_state(server: &mut Server, db: usize, key: &[u8], ck: usize) -> StreamWaitState {
    let Some(p) = server.blocked.clients.get(&ck) else {
        return StreamWaitState::Wait;
    };
    let (Some(wait), Some(idx)) = (&p.stream, p.keys.iter().position(|k| k == key)) else {
        return StreamWaitState::Wait;
    };
    let now = server.engine.now_ms();
    let value = server.engine.dbs[db]
        .lookup_notouch(key, now)
        .map(|e| &e.value);
    engine::blocking::stream_wait_state(value, wait, idx)
}

/// Unblocks stream reader `ck` with an error (its group or key went away).
fn reply_error(server: &mut Server, ck: usize, text: &str) {
    if unpark(server, ck).is_none() {
        return;
    }
    server.stats.count_error(text);
    let c = &mut server.clients[ck];
    if c.replies_enabled() {
        Reply::new(&mut c.pending, c.session.proto).error(text);
    }
    server.blocked.resumed.push(ck);
}

/// Serves (or wakes with an error) the stream readers blocked on a ready key, in FIFO
/// order, each one that the key's state concerns (Redis's
/// `serveClientsBlockedOnStreamKey`; other waiters stay where they are).
fn handle_ready_stream(server: &mut Server, db: usize, key: &[u8]) {
    for ck in server.engine.blocking.waiters(db, key) {
        if server.blocked.clients.get(&ck).map(|p| p.kind) != Some(BlockKind::Stream) {
            continue;
        }
        match stream_state(server, db, key, ck) {
            StreamWaitState::Wait => {}
            StreamWaitState::Serve => serve(server, ck, key),
            StreamWaitState::NoGroup => reply_error(
                server,
                ck,
                "NOGROUP the consumer group this client was blocked on no longer exists",
            ),
            StreamWaitState::Deleted => {
                reply_error(server, ck, "UNBLOCKED the stream key no longer exists")
            }
        }
    }
}

/// Serves the clients blocked on the keys signalled ready (Redis's
/// `handleClientsBlockedOnKeys`), until no key is left ready.
pub fn handle_ready(server: &mut Server) {
    while !server.engine.blocking.ready.is_empty() {
        let ready = std::mem::take(&mut server.engine.blocking.ready);
        for (db, key) in ready {
            handle_ready_stream(server, db, &key);
            // Each pass serves (and so removes) the queue's head; a client re-blocking goes
            // to the back, so the queue's length bounds the passes.
            let mut budget = server.blocked.len();
            while budget > 0 {
                budget -= 1;
                let Some(ck) = server.engine.blocking.first(db, &key) else {
                    break;
                };
                let Some(kind) = server.blocked.clients.get(&ck).map(|p| p.kind) else {
                    break;
                };
                if kind == BlockKind::Stream || !can_serve(server, db, &key, kind) {
                    break;
                }
                serve(server, ck, &key);
            }
        }
    }
}

/// Re-runs client `ck`'s blocking command on `ready`, one of its keys that has data, through
/// the runner (its own execution unit).
fn serve(server: &mut Server, ck: usize, ready: &[u8]) {
    let Some(p) = unpark(server, ck) else {
        return;
    };
    let args: Vec<&[u8]> = p.argv.iter().map(Vec::as_slice).collect();
    // Served from the ready key alone (Redis 7.0 serves the key that got data; another key
    // of the wrong type must not turn the wake-up into WRONGTYPE).
    server.engine.serve_only = Some(ready.to_vec());
    server.blocked.reblock_deadline = Some(p.deadline);
    call(server, ck, p.row, &args, Origin::Unblocked);
    server.blocked.reblock_deadline = None;
    server.engine.serve_only = None;
    // Re-blocked by the runner when nothing was left after all (not expected: the key was
    // checked); otherwise the client resumes.
    if !server.blocked.is_blocked(ck) {
        server.blocked.resumed.push(ck);
    }
}

/// Writes the timeout reply of a parked client.
fn reply_timeout(server: &mut Server, key: usize, reply: TimeoutReply) {
    let c = &mut server.clients[key];
    if !c.replies_enabled() {
        return;
    }
    let mut r = Reply::new(&mut c.pending, c.session.proto);
    match reply {
        TimeoutReply::NullArray => r.null_array(),
        TimeoutReply::NullBulk => r.null(),
    }
}

/// Answers every client whose deadline has passed (Redis: `deadline < now`).
pub fn check_timeouts(server: &mut Server, now_ms: i64) {
    while let Some(&(deadline, key)) = server.blocked.deadlines.first() {
        if deadline >= now_ms {
            break;
        }
        let Some(p) = unpark(server, key) else {
            server.blocked.deadlines.pop_first();
            continue;
        };
        reply_timeout(server, key, p.reply);
        server.blocked.resumed.push(key);
    }
}

/// CLIENT UNBLOCK: unblocks client `target` with its timeout reply, or with an error when
/// `error`. False if it was not blocked.
pub fn client_unblock(server: &mut Server, target: usize, error: bool) -> bool {
    let Some(p) = unpark(server, target) else {
        return false;
    };
    if error {
        let text = "UNBLOCKED client unblocked via CLIENT UNBLOCK";
        server.stats.count_error(text);
        let c = &mut server.clients[target];
        if c.replies_enabled() {
            Reply::new(&mut c.pending, c.session.proto).error(text);
        }
    } else {
        reply_timeout(server, target, p.reply);
    }
    server.blocked.resumed.push(target);
    true
}
