//! The io_uring event loop: one thread, one ring, every socket operation on it.
//!
//! Per iteration (a "turn"): submit queued SQEs and wait (one `submit_and_wait`; no wait
//! while some connection has runnable input buffered), drain all CQEs (accepts, recvs,
//! send completions, the cron timer, the signalfd), run the connections with buffered
//! input, then submit one send per connection that has pending output and no send in
//! flight. So all replies produced in one turn leave in one send.
//!
//! Fairness and backpressure: a connection runs at most one batch per turn, the commands
//! starting within its first `TURN_BUDGET` (16 KB, Redis's PROTO_IOBUF_LEN) bytes of input;
//! later reads and the rest wait in its `rbuf` for the next turn. It runs no command while
//! `OBUF_PAUSE` bytes of replies wait behind its send in flight, and its multishot recv is
//! cancelled while it holds `QBUF_PAUSE` bytes it cannot run, so a client that pipelines
//! without reading ends up blocked by its own closed TCP window, not by server memory.
//!
//! Invariants:
//! - user_data = op kind (8 bits) | generation (24 bits) | slab key (32 bits). A completion
//!   whose generation does not match the slot's connection is stale and ignored (its
//!   provided buffer is still returned).
//! - A buffer referenced by an SQE stays put until its CQE: provided buffers are owned by
//!   [`BufRing`] (mmap'd, never moved); a send's buffer is the connection's `sending`, not
//!   touched while `send_inflight`; a single-shot recv reads into `rbuf`'s spare capacity,
//!   and `rbuf` is not touched while that recv is armed.
//! - A connection's slab slot is freed only when no operation references it (`ops == 0`).
//! - Provided buffers are given back to the kernel as soon as their bytes were consumed.

mod bufring;
mod listener;

pub use listener::{Listener, listen_all, rebind};

use crate::conn::{Conn, ConnState};
use crate::dispatch::gate;
use crate::server::{Server, Shutdown};
use bufring::{BUF_GROUP, BUF_SIZE, BufRing};
use bumpalo::Bump;
use io_uring::{IoUring, cqueue, opcode, squeue, types};
use resp::Parsed;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

const OP_ACCEPT: u64 = 1;
const OP_RECV: u64 = 2;
const OP_SEND: u64 = 3;
const OP_CANCEL: u64 = 4;
const OP_CLOSE: u64 = 5;
const OP_TIMER: u64 = 6;
const OP_SIGNAL: u64 = 7;

/// SQ entries; the CQ is 4x (multishot recvs post many CQEs per SQE).
const RING_ENTRIES: u32 = 1024;
/// Largest single send; bigger outputs continue as partial sends.
const MAX_SEND: usize = 1 << 30;
/// Input run per connection per loop turn: the commands that start within this many bytes of
/// its buffered input (the one straddling the limit runs whole). Redis runs one read of
/// PROTO_IOBUF_LEN per client per turn, so one pipelining client cannot starve the others;
/// the rest waits in `rbuf` for the next turn, which comes without sleeping.
const TURN_BUDGET: usize = BUF_SIZE;
/// Output backpressure: a connection stops running commands while this many bytes of replies
/// wait for the send in flight (`pending`), and resumes once they are handed to the kernel.
/// With the send in flight itself, a client that does not read holds at most about twice
/// this (plus one reply) instead of everything its pipeline asks for.
const OBUF_PAUSE: usize = 1 << 20;
/// Input backpressure: while a connection holds this much input it cannot run yet, its
/// multishot recv is cancelled, so the kernel keeps the rest: the TCP window closes and the
/// client blocks. Re-armed when the held input drops below this.
const QBUF_PAUSE: usize = 4 * BUF_SIZE;

/// Why a run of a connection's input stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ran {
    /// Everything complete ran (or the client blocked, or is closing): what is left is an
    /// incomplete command.
    Idle,
    /// The per-turn budget was used; complete commands may remain.
    Budget,
    /// The output passed `OBUF_PAUSE`; complete commands may remain.
    OutputFull,
}

#[inline]
fn ud(op: u64, key: usize, generation: u32) -> u64 {
    (op << 56) | (((generation & 0xFF_FFFF) as u64) << 32) | (key as u64 & 0xFFFF_FFFF)
}
#[inline]
fn ud_op(u: u64) -> u64 {
    u >> 56
}
#[inline]
fn ud_gen(u: u64) -> u32 {
    ((u >> 32) & 0xFF_FFFF) as u32
}
#[inline]
fn ud_key(u: u64) -> usize {
    (u & 0xFFFF_FFFF) as usize
}

/// Pushes an SQE, handing the queue to the kernel first if it is full.
fn push(ring: &mut IoUring, e: squeue::Entry) {
    loop {
        // SAFETY: every buffer an entry points to outlives the operation (module invariants).
        if unsafe { ring.submission().push(&e) }.is_ok() {
            return;
        }
        if let Err(err) = ring.submit() {
            // EBUSY: the CQ is backed up; the kernel still took nothing. Nothing better to
            // do than retry after the loop drains; log and keep trying.
            log::warn!("io_uring submit while SQ full failed: {err}");
        }
    }
}

/// Why the loop could not start.
#[derive(Debug)]
pub enum StartError {
    /// io_uring itself is unavailable (ENOSYS, EPERM...).
    NoUring(io::Error),
    Io(String),
}

/// Sets up the ring with the flags a single-threaded server wants, falling back to fewer
/// flags (older kernels) and finally a plain ring.
fn setup_ring() -> Result<IoUring, StartError> {
    type Flags = fn(&mut io_uring::Builder);
    let attempts: [(&str, Flags); 3] = [
        (
            "single-issuer + defer-taskrun + coop-taskrun + submit-all",
            |b| {
                b.setup_single_issuer()
                    .setup_defer_taskrun()
                    .setup_coop_taskrun()
                    .setup_submit_all();
            },
        ),
        ("coop-taskrun + submit-all", |b| {
            b.setup_coop_taskrun().setup_submit_all();
        }),
        ("plain", |_| {}),
    ];
    let mut last = None;
    for (name, f) in attempts {
        let mut b = IoUring::builder();
        b.setup_cqsize(RING_ENTRIES * 4);
        f(&mut b);
        match b.build(RING_ENTRIES) {
            Ok(r) => {
                log::info!("io_uring ready ({name})");
                return Ok(r);
            }
            Err(e) => {
                let errno = e.raw_os_error().unwrap_or(0);
                if errno == libc::ENOSYS || errno == libc::EPERM || errno == libc::EACCES {
                    return Err(StartError::NoUring(e));
                }
                log::warn!("io_uring setup with {name} refused ({e}); trying fewer flags");
                last = Some(e);
            }
        }
    }
    Err(StartError::NoUring(
        last.unwrap_or_else(|| io::Error::other("unknown")),
    ))
}

pub struct EventLoop {
    // Field order matters for drop: the ring goes before the buffers it references.
    ring: IoUring,
    bufs: Option<BufRing>,
    pub server: Server,
    /// Recycled argument vector (see [`recycle`]).
    args_store: Vec<&'static [u8]>,
    /// Arena for inline arguments with escapes; reset after every batch.
    bump: Bump,
    /// Connections that may have output to send this iteration.
    flush: Vec<usize>,
    /// Connections with buffered input to run next turn (key, generation); while not empty
    /// the loop polls the ring instead of sleeping. `runnable_spare` keeps the other
    /// allocation for the swap.
    runnable: Vec<(usize, u32)>,
    runnable_spare: Vec<(usize, u32)>,
    /// Loop turns so far (see `Conn::served_turn`).
    turn: u64,
    /// Listeners whose accept ended for lack of descriptors/memory; re-armed on the next tick.
    deferred_accepts: Vec<usize>,
    /// Drained completions of this iteration (reused).
    cqes: Vec<(u64, i32, u32)>,
    timer: Box<types::Timespec>,
    sigfd: OwnedFd,
    sigbuf: Box<[u8; 128]>,
    /// Cached wall-clock of this iteration (ms), for idle accounting.
    now_ms: i64,
    last_clients_cron_ms: i64,
}

impl EventLoop {
    /// `use_buf_ring: false` forces the single-shot recv fallback (for tests of that path
    /// on kernels that have buffer rings).
    pub fn new(server: Server, use_buf_ring: bool) -> Result<EventLoop, StartError> {
        let ring = setup_ring()?;
        let bufs = match BufRing::new(&ring).and_then(|b| {
            if use_buf_ring {
                Ok(b)
            } else {
                Err(io::Error::other("disabled by --no-buf-ring"))
            }
        }) {
            Ok(b) => Some(b),
            Err(e) => {
                log::warn!(
                    "provided buffer rings unavailable ({e}); using single-shot recv into per-client buffers"
                );
                None
            }
        };
        let sigfd = signal_fd().map_err(|e| StartError::Io(format!("signalfd: {e}")))?;
        let now_ms = server.now_ms();
        let mut server = server;
        server.used_memory_startup = crate::alloc::used_memory() as u64;
        Ok(EventLoop {
            ring,
            bufs,
            server,
            args_store: Vec::with_capacity(16),
            bump: Bump::new(),
            flush: Vec::new(),
            runnable: Vec::new(),
            runnable_spare: Vec::new(),
            turn: 1,
            deferred_accepts: Vec::new(),
            cqes: Vec::with_capacity(RING_ENTRIES as usize * 4),
            timer: Box::new(types::Timespec::new()),
            sigfd,
            sigbuf: Box::new([0; 128]),
            now_ms,
            last_clients_cron_ms: now_ms,
        })
    }

    /// Runs until shutdown; returns the process exit status.
    pub fn run(&mut self) -> i32 {
        self.server.listeners_changed = true;
        self.arm_timer();
        self.arm_signal();
        loop {
            if self.server.listeners_changed {
                self.server.listeners_changed = false;
                self.deferred_accepts.clear();
                for i in 0..self.server.listeners.len() {
                    self.arm_accept(i);
                }
            }
            // Redis's beforeSleep: a fast active-expiry cycle when the last one ran out of
            // time (rate-limited inside the engine).
            self.server.engine.active_expire_cycle(true);
            crate::features::pubsub::drain_notifications(&mut self.server, None);
            self.flush_sends();
            match self.submit_and_wait() {
                Ok(_) => {}
                Err(e)
                    if matches!(
                        e.raw_os_error(),
                        Some(libc::EINTR) | Some(libc::EBUSY) | Some(libc::ETIME)
                    ) => {}
                Err(e) => {
                    log::error!("io_uring_enter failed: {e}");
                    return 1;
                }
            }
            self.now_ms = self.server.now_ms();
            self.turn += 1;
            let mut cqes = std::mem::take(&mut self.cqes);
            cqes.extend(
                self.ring
                    .completion()
                    .map(|c| (c.user_data(), c.result(), c.flags())),
            );
            for &(u, res, flags) in &cqes {
                self.dispatch(u, res, flags);
            }
            cqes.clear();
            self.cqes = cqes;
            self.run_runnable();
            self.resume_unblocked();
            self.start_closes();
            if self.server.shutdown != Shutdown::Running {
                log::warn!("Redis is now ready to exit, bye bye...");
                self.server.listeners.clear();
                return 0;
            }
        }
    }

    /// Waits for at least one completion, but no longer than the nearest deadline of a
    /// blocked client (so a 0.1 s BLPOP times out after 0.1 s, not at the next cron tick).
    /// With runnable input buffered it does not wait at all: it only submits and collects
    /// what completed (the zero timeout still runs the deferred task work, which a plain
    /// submit would not).
    fn submit_and_wait(&mut self) -> io::Result<usize> {
        if !self.runnable.is_empty() {
            let ts = types::Timespec::new();
            let args = types::SubmitArgs::new().timespec(&ts);
            return self.ring.submitter().submit_with_args(1, &args);
        }
        let Some(deadline) = self.server.blocked.next_deadline() else {
            return self.ring.submit_and_wait(1);
        };
        // A client times out once the clock is past its deadline (Redis: deadline < now).
        let ms = (deadline + 1 - self.server.now_ms()).max(0) as u64;
        let ts = types::Timespec::new()
            .sec(ms / 1000)
            .nsec((ms % 1000) as u32 * 1_000_000);
        let args = types::SubmitArgs::new().timespec(&ts);
        self.ring.submitter().submit_with_args(1, &args)
    }

    /// Times out blocked clients whose deadline passed, then sends the replies of clients
    /// that left the blocked state and runs the commands they sent while blocked.
    fn resume_unblocked(&mut self) {
        if !self.server.blocked.is_empty() {
            let now = self.server.now_ms();
            crate::dispatch::blocking::check_timeouts(&mut self.server, now);
        }
        while !self.server.blocked.resumed.is_empty() {
            let resumed = std::mem::take(&mut self.server.blocked.resumed);
            for key in resumed {
                let Some(c) = self.server.clients.get(key) else {
                    continue;
                };
                if c.state == ConnState::Closing || self.server.blocked.is_blocked(key) {
                    continue;
                }
                self.queue_flush(key);
                let c = &self.server.clients[key];
                // Without provided buffers, an armed recv owns `rbuf`: cancel it; its
                // completion (data or ECANCELED) runs the buffered commands (see on_recv).
                // With them, `rbuf` is ours.
                let can_read = self.bufs.is_some() || !c.recv_armed;
                if c.state == ConnState::Open && c.qbuf_len() > 0 && !can_read {
                    let generation = c.generation;
                    self.server.clients[key].ops += 1;
                    let e = opcode::AsyncCancel::new(ud(OP_RECV, key, generation))
                        .build()
                        .user_data(ud(OP_CANCEL, key, generation));
                    push(&mut self.ring, e);
                } else if c.state == ConnState::Open && c.qbuf_len() > 0 {
                    self.run_or_defer(key);
                }
                self.update_read(key);
            }
        }
    }

    fn dispatch(&mut self, u: u64, res: i32, flags: u32) {
        match ud_op(u) {
            OP_ACCEPT => self.on_accept(ud_key(u), ud_gen(u), res, flags),
            OP_RECV => self.on_recv(ud_key(u), ud_gen(u), res, flags),
            OP_SEND => self.on_send(ud_key(u), ud_gen(u), res),
            OP_CANCEL => {
                if let Some(c) = self.conn(ud_key(u), ud_gen(u)) {
                    c.ops -= 1;
                }
                self.maybe_free(ud_key(u), ud_gen(u));
            }
            OP_CLOSE => {}
            OP_TIMER => self.on_timer(),
            OP_SIGNAL => self.on_signal(res),
            _ => log::warn!("unexpected completion {u:#x}"),
        }
    }

    /// The connection at `key` if its generation matches.
    #[inline]
    fn conn(&mut self, key: usize, generation: u32) -> Option<&mut Conn> {
        self.server
            .clients
            .get_mut(key)
            .filter(|c| c.generation & 0xFF_FFFF == generation)
    }

    fn arm_accept(&mut self, i: usize) {
        let fd = self.server.listeners[i].fd.as_raw_fd();
        let e = opcode::AcceptMulti::new(types::Fd(fd))
            .build()
            .user_data(ud(OP_ACCEPT, i, self.server.listener_epoch));
        push(&mut self.ring, e);
    }

    fn arm_timer(&mut self) {
        let hz = self.server.settings.hz.clamp(1, 500);
        let ns = 1_000_000_000u64 / hz as u64;
        *self.timer = types::Timespec::new()
            .sec(ns / 1_000_000_000)
            .nsec((ns % 1_000_000_000) as u32);
        let e = opcode::Timeout::new(&*self.timer)
            .build()
            .user_data(ud(OP_TIMER, 0, 0));
        push(&mut self.ring, e);
    }

    fn arm_signal(&mut self) {
        let e = opcode::Read::new(
            types::Fd(self.sigfd.as_raw_fd()),
            self.sigbuf.as_mut_ptr(),
            self.sigbuf.len() as u32,
        )
        .build()
        .user_data(ud(OP_SIGNAL, 0, 0));
        push(&mut self.ring, e);
    }

    fn on_accept(&mut self, li: usize, epoch: u32, res: i32, flags: u32) {
        // A listener replaced by CONFIG SET port/bind has a stale epoch: its accept ends
        // (the socket was shut down) and is not re-armed; a connection it still took is
        // served normally.
        let current = epoch == self.server.listener_epoch & 0xFF_FFFF;
        if current && !cqueue::more(flags) && self.server.shutdown == Shutdown::Running {
            let out_of_resources = matches!(
                -res,
                libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM
            );
            if out_of_resources {
                // Re-arming now would fail again at once and spin; retry at the next
                // cron tick, when clients may have gone.
                self.deferred_accepts.push(li);
            } else {
                self.arm_accept(li);
            }
        }
        if res < 0 {
            if current && res != -libc::ECANCELED && res != -libc::EINVAL {
                log::warn!(
                    "Accepting client connection: {}",
                    io::Error::from_raw_os_error(-res)
                );
            }
            return;
        }
        let fd: RawFd = res;
        if self.server.clients.len() >= self.server.settings.maxclients {
            // Like Redis: best-effort error straight on the socket, then close. Rare path,
            // so a plain syscall is fine.
            let msg = b"-ERR max number of clients reached\r\n";
            // SAFETY: fd is the socket just accepted; we own it and close it here.
            unsafe {
                libc::send(
                    fd,
                    msg.as_ptr() as *const libc::c_void,
                    msg.len(),
                    libc::MSG_NOSIGNAL | libc::MSG_DONTWAIT,
                );
                libc::close(fd);
            }
            self.server.stats.rejected_connections += 1;
            return;
        }
        tune_client_socket(fd, self.server.settings.tcp_keepalive);
        let generation = self.server.next_gen & 0xFF_FFFF;
        self.server.next_gen = self.server.next_gen.wrapping_add(1);
        let id = self.server.next_client_id;
        self.server.next_client_id += 1;
        let key = self
            .server
            .clients
            .insert(Conn::new(fd, generation, id, self.now_ms));
        self.server.stats.total_connections_received += 1;
        self.arm_recv(key);
    }

    fn arm_recv(&mut self, key: usize) {
        let c = &mut self.server.clients[key];
        let e = if self.bufs.is_some() {
            opcode::RecvMulti::new(types::Fd(c.fd), BUF_GROUP).build()
        } else {
            c.rbuf.reserve(BUF_SIZE);
            let spare = c.rbuf.capacity() - c.rbuf.len();
            // SAFETY: pointer to the spare capacity, which stays allocated and untouched
            // while the recv is armed (module invariants).
            let ptr = unsafe { c.rbuf.as_mut_ptr().add(c.rbuf.len()) };
            opcode::Recv::new(types::Fd(c.fd), ptr, spare.min(u32::MAX as usize) as u32).build()
        };
        c.recv_armed = true;
        c.ops += 1;
        let e = e.user_data(ud(OP_RECV, key, c.generation));
        push(&mut self.ring, e);
    }

    fn on_recv(&mut self, key: usize, generation: u32, res: i32, flags: u32) {
        let bid = cqueue::buffer_select(flags);
        let now_ms = self.now_ms;
        let Some(c) = self.conn(key, generation) else {
            if let (Some(b), Some(br)) = (bid, self.bufs.as_mut()) {
                br.provide(b);
            }
            return;
        };
        if !cqueue::more(flags) {
            c.recv_armed = false;
            c.recv_cancelling = false;
            c.ops -= 1;
        }
        if res > 0 {
            let n = res as usize;
            self.server.stats.net_input_bytes += n as u64;
            self.server.stats.reads_processed += 1;
            let turn = self.turn;
            let c = &mut self.server.clients[key];
            if c.state == ConnState::Open {
                c.last_interaction_ms = now_ms;
                match (bid, self.bufs.as_ref()) {
                    (Some(b), Some(br)) => {
                        let data = br.get(b, n);
                        if c.deferred || c.served_turn == turn {
                            // This connection already had its turn, or has older input
                            // waiting: keep the bytes for a later turn (if they can complete
                            // a command: the rest of a big value just accumulates).
                            c.rbuf.extend_from_slice(data);
                            let runnable = c.deferred || c.qbuf_len() >= c.resume.min_len();
                            if runnable && !self.server.blocked.is_blocked(key) {
                                self.mark_runnable(key);
                            }
                        } else {
                            let ran = process_input(
                                &mut self.server,
                                key,
                                Some(data),
                                &mut self.bump,
                                &mut self.args_store,
                            );
                            self.after_run(key, ran);
                        }
                    }
                    _ => {
                        // Single-shot recv wrote into rbuf's spare capacity (armed only
                        // while nothing is deferred, so at most one read per turn).
                        let len = c.rbuf.len() + n;
                        if len <= c.rbuf.capacity() {
                            // SAFETY: the kernel initialised `n` bytes past len.
                            unsafe { c.rbuf.set_len(len) };
                        }
                        self.run_or_defer(key);
                    }
                }
            }
        } else if res == 0 {
            // EOF. A client that half-closed after its last request still gets the replies
            // to what it sent (Redis reads and runs it all before it reads the EOF);
            // otherwise it went away, possibly mid-pipeline, and its state is dropped.
            let c = &mut self.server.clients[key];
            c.read_eof = true;
            if !c.deferred {
                self.on_input_end(key);
            }
        } else if res == -libc::ENOBUFS {
            // Out of provided buffers: the multishot ended; re-armed below once buffers
            // come back (they are returned as each CQE is handled).
        } else if res == -libc::ECANCELED {
            // Either reading was paused (backpressure; the held input runs from the
            // runnable list), or, on the single-shot path, the recv was cancelled so that a
            // client resuming from a blocking command runs the commands it sent meanwhile
            // (see resume_unblocked).
            let c = &self.server.clients[key];
            if c.state == ConnState::Open
                && c.qbuf_len() > 0
                && !c.deferred
                && !self.server.blocked.is_blocked(key)
            {
                self.run_or_defer(key);
            }
        } else {
            log::debug!(
                "Error reading from client {}: {}",
                self.server.clients[key].id(),
                io::Error::from_raw_os_error(-res)
            );
            self.server.close_client(key);
        }
        if let (Some(b), Some(br)) = (bid, self.bufs.as_mut()) {
            br.provide(b);
        }
        self.update_read(key);
        self.maybe_free(key, generation);
    }

    /// Runs the buffered input of `key` now, or next turn if it already had this one.
    fn run_or_defer(&mut self, key: usize) {
        if self.server.clients[key].served_turn == self.turn {
            self.mark_runnable(key);
            return;
        }
        let ran = process_input(
            &mut self.server,
            key,
            None,
            &mut self.bump,
            &mut self.args_store,
        );
        self.after_run(key, ran);
    }

    /// Bookkeeping after a run of `key`'s input: its turn is used; input left over is run
    /// next turn (budget) or once its output is handed to the kernel (backpressure).
    fn after_run(&mut self, key: usize, ran: Ran) {
        let turn = self.turn;
        let c = &mut self.server.clients[key];
        c.served_turn = turn;
        if c.state == ConnState::Closing {
            return;
        }
        c.deferred = c.state == ConnState::Open && ran != Ran::Idle;
        if c.deferred {
            if ran == Ran::Budget {
                self.mark_runnable(key);
            }
        } else if c.read_eof {
            self.on_input_end(key);
        }
        if !self.server.engine.blocking.ready.is_empty() {
            crate::dispatch::blocking::handle_ready(&mut self.server);
        }
        if self.server.clients[key].state != ConnState::Closing {
            self.queue_flush(key);
        }
    }

    /// The peer's input ended and all of it that was complete has run.
    fn on_input_end(&mut self, key: usize) {
        let c = &mut self.server.clients[key];
        if c.state == ConnState::Open && c.output_len() > 0 {
            c.state = ConnState::CloseAfterReply;
            self.queue_flush(key);
        } else {
            self.server.close_client(key);
        }
    }

    /// Queues `key` to run its buffered input next turn (unless its output is over the
    /// backpressure threshold: then `flush_sends` queues it once the output is handed off).
    fn mark_runnable(&mut self, key: usize) {
        let c = &mut self.server.clients[key];
        c.deferred = true;
        if c.in_runnable {
            return;
        }
        if c.pending.len() < OBUF_PAUSE {
            c.in_runnable = true;
            self.runnable.push((key, c.generation));
        } else {
            self.queue_flush(key);
        }
    }

    /// Runs, once each, the connections queued with buffered input (see `TURN_BUDGET`).
    fn run_runnable(&mut self) {
        if self.runnable.is_empty() {
            return;
        }
        let mut list =
            std::mem::replace(&mut self.runnable, std::mem::take(&mut self.runnable_spare));
        for &(key, generation) in &list {
            let Some(c) = self.conn(key, generation) else {
                continue;
            };
            if !c.in_runnable {
                continue;
            }
            c.in_runnable = false;
            if c.state != ConnState::Open || self.server.blocked.is_blocked(key) {
                continue;
            }
            self.run_or_defer(key);
            self.update_read(key);
        }
        list.clear();
        self.runnable_spare = list;
    }

    /// Arms the recv of `key` when it should read and does not, or cancels it (multishot)
    /// when it holds `QBUF_PAUSE` of input it cannot run yet: the kernel then stops taking
    /// the client's bytes, its receive window closes, and the client blocks in its send.
    fn update_read(&mut self, key: usize) {
        let multishot = self.bufs.is_some();
        let Some(c) = self.server.clients.get_mut(key) else {
            return;
        };
        let held = c.deferred && (!multishot || c.qbuf_len() >= QBUF_PAUSE);
        let want = c.state == ConnState::Open && !c.read_eof && !held;
        if want && !c.recv_armed {
            self.arm_recv(key);
        } else if !want && c.recv_armed && multishot && !c.recv_cancelling {
            if c.state == ConnState::Closing {
                return; // start_closes cancels it
            }
            c.recv_cancelling = true;
            c.ops += 1;
            let e = opcode::AsyncCancel::new(ud(OP_RECV, key, c.generation))
                .build()
                .user_data(ud(OP_CANCEL, key, c.generation));
            push(&mut self.ring, e);
        }
    }

    #[inline]
    fn queue_flush(&mut self, key: usize) {
        let c = &mut self.server.clients[key];
        if !c.in_flush {
            c.in_flush = true;
            self.flush.push(key);
        }
    }

    fn on_send(&mut self, key: usize, generation: u32, res: i32) {
        let Some(c) = self.conn(key, generation) else {
            return;
        };
        c.ops -= 1;
        c.send_inflight = false;
        if c.state == ConnState::Closing {
            self.maybe_free(key, generation);
            return;
        }
        if res < 0 {
            log::debug!(
                "Error writing to client {}: {}",
                c.id(),
                io::Error::from_raw_os_error(-res)
            );
            self.server.close_client(key);
            return;
        }
        let n = res as usize;
        self.server.stats.net_output_bytes += n as u64;
        self.server.stats.writes_processed += 1;
        let c = &mut self.server.clients[key];
        c.send_off += n;
        if c.send_off < c.sending.len() {
            self.submit_send(key);
            return;
        }
        c.sending.clear();
        c.send_off = 0;
        // A client that once received a huge reply should not pin that memory forever.
        if c.sending.capacity() > 1024 * 1024 {
            c.sending = Vec::new();
        }
        self.queue_flush(key);
    }

    /// Submits the unsent part of `sending`.
    fn submit_send(&mut self, key: usize) {
        let c = &mut self.server.clients[key];
        let rest = &c.sending[c.send_off..];
        let len = rest.len().min(MAX_SEND) as u32;
        let e = opcode::Send::new(types::Fd(c.fd), rest.as_ptr(), len)
            .flags(libc::MSG_NOSIGNAL)
            .build()
            .user_data(ud(OP_SEND, key, c.generation));
        c.send_inflight = true;
        c.ops += 1;
        push(&mut self.ring, e);
    }

    /// One send per connection with output and no send in flight.
    fn flush_sends(&mut self) {
        // Clients that received pub/sub messages from others' commands.
        let mut wake = std::mem::take(&mut self.server.wake);
        for &key in &wake {
            if self.server.clients.contains(key) {
                self.queue_flush(key);
            }
        }
        wake.clear();
        self.server.wake = wake;
        let mut list = std::mem::take(&mut self.flush);
        for &key in &list {
            let Some(c) = self.server.clients.get_mut(key) else {
                continue;
            };
            c.in_flush = false;
            if c.state == ConnState::Closing || c.send_inflight {
                continue;
            }
            if c.pending.is_empty() {
                if c.state == ConnState::CloseAfterReply {
                    self.server.close_client(key);
                }
                continue;
            }
            std::mem::swap(&mut c.pending, &mut c.sending);
            c.send_off = 0;
            // Output handed off: input held back by backpressure may run again.
            if c.deferred && !c.in_runnable && c.state == ConnState::Open {
                c.in_runnable = true;
                let generation = c.generation;
                self.runnable.push((key, generation));
            }
            self.submit_send(key);
        }
        list.clear();
        self.flush = list;
        if !self.server.to_close.is_empty() {
            self.start_closes();
        }
    }

    /// Cancels the ring operations of connections marked closing; frees those with none.
    fn start_closes(&mut self) {
        while let Some((key, generation)) = self.server.to_close.pop() {
            let Some(c) = self.conn(key, generation) else {
                continue;
            };
            // Cancel by user_data (exact, and supported by every kernel with multishot);
            // each cancel is itself an operation the slot must outlive.
            let mut cancels = [None, None];
            if c.recv_armed {
                cancels[0] = Some(ud(OP_RECV, key, generation));
            }
            if c.send_inflight {
                cancels[1] = Some(ud(OP_SEND, key, generation));
            }
            let targets = cancels.into_iter().flatten();
            c.ops += targets.clone().count() as u32;
            for target in targets {
                let e = opcode::AsyncCancel::new(target)
                    .build()
                    .user_data(ud(OP_CANCEL, key, generation));
                push(&mut self.ring, e);
            }
            self.maybe_free(key, generation);
        }
    }

    /// Frees a closing connection once nothing on the ring references it.
    fn maybe_free(&mut self, key: usize, generation: u32) {
        let Some(c) = self.conn(key, generation) else {
            return;
        };
        if c.state != ConnState::Closing || c.ops > 0 {
            return;
        }
        let fd = c.fd;
        // Clients closed without close_client (e.g. after QUIT's reply) drop their watches.
        let id = c.id();
        self.server.engine.unwatch_all(id);
        self.server.clients.remove(key);
        let e = opcode::Close::new(types::Fd(fd))
            .build()
            .user_data(ud(OP_CLOSE, 0, 0));
        push(&mut self.ring, e);
    }

    fn on_timer(&mut self) {
        if self.server.shutdown == Shutdown::Running {
            while let Some(li) = self.deferred_accepts.pop() {
                self.arm_accept(li);
            }
            crate::server::cron(&mut self.server, self.now_ms);
            crate::features::pubsub::drain_notifications(&mut self.server, None);
            if self.now_ms - self.last_clients_cron_ms >= 1000 {
                self.last_clients_cron_ms = self.now_ms;
                crate::features::pubsub::cron_output_limits(&mut self.server);
                self.clients_cron();
            }
            self.arm_timer();
        }
    }

    /// Once a second: closes clients idle longer than `timeout`.
    fn clients_cron(&mut self) {
        let timeout = self.server.settings.timeout;
        if timeout == 0 {
            return;
        }
        let now = self.now_ms;
        let mut idle = Vec::new();
        let blocked = &self.server.blocked;
        for (key, c) in self.server.clients.iter() {
            // A blocked client is not idle: it waits for its own timeout (Redis's
            // clientsCronHandleTimeout skips CLIENT_BLOCKED clients).
            if c.state == ConnState::Open
                && (now - c.last_interaction_ms) / 1000 > timeout as i64
                && !blocked.is_blocked(key)
            {
                idle.push(key);
            }
        }
        for key in idle {
            log::debug!("Closing idle client");
            self.server.close_client(key);
        }
    }

    fn on_signal(&mut self, res: i32) {
        if res <= 0 {
            self.arm_signal();
            return;
        }
        // struct signalfd_siginfo starts with the u32 signal number.
        let signo = u32::from_ne_bytes([
            self.sigbuf[0],
            self.sigbuf[1],
            self.sigbuf[2],
            self.sigbuf[3],
        ]);
        let name = if signo == libc::SIGINT as u32 {
            "SIGINT"
        } else {
            "SIGTERM"
        };
        log::warn!("Received {name} scheduling shutdown...");
        log::warn!("User requested shutdown...");
        self.server.shutdown = Shutdown::Exit;
    }
}

/// Blocks SIGINT/SIGTERM for the thread and returns a signalfd that reports them, so
/// signals arrive as ring completions instead of interrupting the loop.
fn signal_fd() -> io::Result<OwnedFd> {
    // SAFETY: plain libc calls on a local sigset.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGINT);
        libc::sigaddset(&mut set, libc::SIGTERM);
        if libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) != 0 {
            return Err(io::Error::last_os_error());
        }
        let fd = libc::signalfd(-1, &set, libc::SFD_CLOEXEC);
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(OwnedFd::from_raw_fd(fd))
    }
}

/// TCP_NODELAY and keepalive, as Redis sets on every client socket.
fn tune_client_socket(fd: RawFd, keepalive: u32) {
    fn set(fd: RawFd, level: i32, opt: i32, v: i32) {
        // SAFETY: setsockopt with a valid int option value.
        unsafe {
            libc::setsockopt(
                fd,
                level,
                opt,
                &v as *const i32 as *const libc::c_void,
                std::mem::size_of::<i32>() as libc::socklen_t,
            );
        }
    }
    set(fd, libc::IPPROTO_TCP, libc::TCP_NODELAY, 1);
    if keepalive > 0 {
        let k = keepalive as i32;
        set(fd, libc::SOL_SOCKET, libc::SO_KEEPALIVE, 1);
        set(fd, libc::IPPROTO_TCP, libc::TCP_KEEPIDLE, k);
        set(fd, libc::IPPROTO_TCP, libc::TCP_KEEPINTVL, (k / 3).max(1));
        set(fd, libc::IPPROTO_TCP, libc::TCP_KEEPCNT, 3);
    }
}

/// Reuses a vector of argument slices across batches with a different lifetime: empty,
/// so no borrow survives, and the in-place collect keeps its allocation.
fn recycle<'b>(mut v: Vec<&[u8]>) -> Vec<&'b [u8]> {
    v.clear();
    v.into_iter()
        .map(|_| -> &'b [u8] { unreachable!() })
        .collect()
}

/// Runs a client's input, at most `TURN_BUDGET` of it: `fresh` is a provided buffer's data
/// (zero-copy path, used when nothing older is buffered), or `None` to run what `rbuf` holds
/// (bytes read straight into it, or held back from earlier turns). What does not run stays
/// in `rbuf`.
fn process_input(
    server: &mut Server,
    key: usize,
    fresh: Option<&[u8]>,
    bump: &mut Bump,
    store: &mut Vec<&'static [u8]>,
) -> Ran {
    let c = &mut server.clients[key];
    let ran = match fresh {
        Some(data) if c.qbuf_len() == 0 => {
            let (used, ran) = run_batch(server, key, data, bump, store);
            let c = &mut server.clients[key];
            if c.state == ConnState::Open && used < data.len() {
                c.rbuf.clear();
                c.rbuf_off = 0;
                c.rbuf.extend_from_slice(&data[used..]);
                c.rbuf_peak = c.rbuf_peak.max(c.rbuf.len());
            }
            ran
        }
        _ => {
            let mut buf = std::mem::take(&mut c.rbuf);
            let mut off = std::mem::take(&mut c.rbuf_off);
            if let Some(d) = fresh {
                buf.extend_from_slice(d);
            }
            let (used, ran) = run_batch(server, key, &buf[off..], bump, store);
            off += used;
            let c = &mut server.clients[key];
            c.rbuf_peak = c.rbuf_peak.max(buf.len() - off);
            if off == buf.len() {
                buf.clear();
                off = 0;
                if buf.capacity() > 4 * BUF_SIZE {
                    buf = Vec::new();
                }
            } else if ran == Ran::Idle || off >= buf.len() - off {
                // Compact once only a partial command is left (the single-shot recv reads
                // after it), or when the consumed front outweighs the rest (amortised).
                buf.drain(..off);
                off = 0;
            }
            c.rbuf = buf;
            c.rbuf_off = off;
            ran
        }
    };
    crate::features::pubsub::check_caller_output(server, key);
    let limit = server.settings.client_query_buffer_limit;
    let c = &mut server.clients[key];
    if c.state == ConnState::Open && c.qbuf_len() > limit {
        let mut head = Vec::new();
        let q = &c.rbuf[c.rbuf_off..];
        crate::features::config::repr(&q[..64.min(q.len())], &mut head);
        let mut info = String::new();
        crate::features::client_cmds::client_info_line(server, key, key, &[], &mut info);
        log::warn!(
            "Closing client that reached max query buffer length: {info} (qbuf initial bytes: {})",
            String::from_utf8_lossy(&head)
        );
        server.stats.client_qbuf_limit_disconnections += 1;
        server.close_client(key);
    }
    ran
}

/// Parses and runs commands from the start of `buf`; returns the bytes consumed and why it
/// stopped. No command starts past `TURN_BUDGET` bytes, nor while the output is over
/// `OBUF_PAUSE`.
///
/// The connection's `resume` carries the parser's progress through the incomplete command
/// at the start of `buf` (= the start of the unconsumed input), so a huge command arriving
/// in many reads is parsed in linear time, and not at all until enough bytes are there to
/// matter.
fn run_batch(
    server: &mut Server,
    key: usize,
    buf: &[u8],
    bump: &mut Bump,
    store: &mut Vec<&'static [u8]>,
) -> (usize, Ran) {
    let mut resume = server.clients[key].resume;
    if buf.len() < resume.min_len() {
        return (0, Ran::Idle);
    }
    let limits = server.limits.clone();
    let mut args = recycle(std::mem::take(store));
    let mut pos = 0;
    let mut ran = Ran::Idle;
    let arena: &Bump = bump;
    while pos < buf.len()
        && server.clients[key].state == ConnState::Open
        && !server.blocked.is_blocked(key)
    {
        if pos >= TURN_BUDGET {
            ran = Ran::Budget;
            break;
        }
        if server.clients[key].pending.len() >= OBUF_PAUSE {
            ran = Ran::OutputFull;
            break;
        }
        args.clear();
        match resp::parse_command_resume(&buf[pos..], &limits, arena, &mut args, &mut resume) {
            Ok(Parsed::Command { consumed }) => {
                server.clients[key].qbuf_current = buf.len() - pos;
                pos += consumed;
                if !args.is_empty() {
                    gate::execute(server, key, &args);
                }
            }
            Ok(Parsed::Empty { consumed }) => pos += consumed,
            Ok(Parsed::Incomplete) => break,
            Err(e) => {
                let text = e.message();
                log::debug!(
                    "Protocol error ({text}) from client id={}",
                    server.clients[key].id()
                );
                let c = &mut server.clients[key];
                // Byte-exact: the text may quote a raw non-UTF-8 byte (`got '\xff'`), which
                // the lossy `message()` used for the log and the stats would mangle.
                resp::Reply::new(&mut c.pending, c.session.proto).proto_error(&e);
                c.state = ConnState::CloseAfterReply;
                server.stats.count_error(&text);
                pos = buf.len();
            }
        }
    }
    *store = recycle(args);
    bump.reset();
    server.clients[key].resume = resume;
    (pos, ran)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_data_round_trips() {
        let u = ud(OP_SEND, 123_456, 0xAB_CDEF);
        assert_eq!(ud_op(u), OP_SEND);
        assert_eq!(ud_key(u), 123_456);
        assert_eq!(ud_gen(u), 0xAB_CDEF);
    }

    #[test]
    fn recycle_keeps_the_allocation() {
        let data = vec![1u8, 2, 3];
        let mut v: Vec<&[u8]> = Vec::with_capacity(32);
        v.push(&data);
        let ptr = v.as_ptr() as usize;
        let v2: Vec<&'static [u8]> = recycle(v);
        assert_eq!(v2.capacity(), 32);
        assert_eq!(v2.as_ptr() as usize, ptr);
    }
}
