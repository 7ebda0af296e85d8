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
mod busy;
mod conn_ops;
mod file_ops;
mod input;
mod link_ops;
mod op;
mod periodic;

use input::process_input;
use op::{Op, ud, ud_gen, ud_key, ud_op};
use periodic::signal_fd;

use crate::client::{Conn, ConnState};
use crate::dispatch::gate;
use crate::server::{Server, Shutdown};
use bufring::{BUF_GROUP, BUF_SIZE, BufRing};
use bumpalo::Bump;
use io_uring::{IoUring, cqueue, opcode, squeue, types};
use resp::Parsed;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

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
    /// The next command waits for the running snapshot to write a big value
    /// (`persistence::write_must_wait`): retried after the snapshot's next slice.
    SnapshotWait,
    /// The next command waits for CLIENT PAUSE to end (`pause::must_wait`).
    Paused,
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
    /// Drained completions of this iteration (reused); `batch_pos` is the next to dispatch
    /// (a busy script's poll takes the rest and puts back what it leaves, see [`busy`]).
    cqes: Vec<(u64, i32, u32)>,
    batch_pos: usize,
    /// What a busy script's poll reaches of this loop (see [`busy`]).
    busy: Box<busy::BusyRefs>,
    timer: Box<types::Timespec>,
    sigfd: OwnedFd,
    sigbuf: Box<[u8; 128]>,
    /// Cached wall-clock of this iteration (ms), for idle accounting.
    now_ms: i64,
    last_clients_cron_ms: i64,
    /// The replica's connect to its master in flight, if any.
    connecting: Option<link_ops::Connecting>,
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
            batch_pos: 0,
            busy: Box::default(),
            timer: Box::new(types::Timespec::new()),
            sigfd,
            sigbuf: Box::new([0; 128]),
            now_ms,
            last_clients_cron_ms: now_ms,
            connecting: None,
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
                    if self.server.is_unix_listener(i) && self.server.unix_accept_armed {
                        continue;
                    }
                    self.arm_accept(i);
                }
            }
            // Redis's beforeSleep: a fast active-expiry cycle when the last one ran out of
            // time (rate-limited inside the engine).
            if !crate::features::pause::expiry_paused(&mut self.server) {
                let start = std::time::Instant::now();
                self.server.engine.active_expire_cycle(true);
                let ms = start.elapsed().as_millis() as u64;
                crate::features::latency::add_sample_if_needed(
                    &mut self.server,
                    "expire-cycle",
                    ms,
                );
            }
            // Eviction a command's call left unfinished (its time limit): another bounded
            // round per turn, without sleeping, until memory is under the limit.
            crate::features::memory::continue_evictions(&mut self.server);
            crate::features::pubsub::drain_notifications(&mut self.server, None);
            crate::features::persistence::background_step(&mut self.server);
            // Clients waiting for the snapshot retry once per slice (not every poll).
            for (key, generation) in std::mem::take(&mut self.server.persistence.waiters) {
                if self.conn(key, generation).is_some() {
                    self.mark_runnable(key);
                }
            }
            // Clients held by CLIENT PAUSE run again once it ended.
            for (key, generation) in crate::features::pause::released(&mut self.server) {
                if self.conn(key, generation).is_some() {
                    self.mark_runnable(key);
                }
            }
            // The turn's AOF bytes go to a write before any reply goes out (Redis's
            // flushAppendOnlyFile in beforeSleep); `always` holds replies in flush_sends.
            crate::features::aof::before_sleep(&mut self.server, self.now_ms);
            // The turn's replication stream to the backlog and the replicas.
            crate::features::replication::before_sleep(&mut self.server);
            self.start_link_connect();
            self.flush_sends();
            self.submit_file_ops();
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
            crate::features::aof::turn_started(&mut self.server, self.now_ms);
            let ring = &mut self.ring;
            self.cqes.extend(
                ring.completion()
                    .map(|c| (c.user_data(), c.result(), c.flags())),
            );
            self.dispatch_batch();
            self.run_runnable();
            // Completions a busy script left for after its command.
            self.dispatch_batch();
            self.resume_unblocked();
            self.dispatch_batch();
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
        if !self.runnable.is_empty() || self.server.engine.evict.running {
            let ts = types::Timespec::new();
            let args = types::SubmitArgs::new().timespec(&ts);
            return self.ring.submitter().submit_with_args(1, &args);
        }
        // A background save's next slice is due in this long (zero: now).
        let save_in = self.server.persistence.next_step_in();
        // A client times out once the clock is past its deadline (Redis: deadline < now).
        let next_deadline = match (
            self.server.blocked.next_deadline(),
            self.server.repl.next_wait_deadline(),
        ) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let blocked_in = next_deadline.map(|deadline| {
            let ms = (deadline + 1 - self.server.now_ms()).max(0) as u64;
            std::time::Duration::from_millis(ms)
        });
        // A CLIENT PAUSE ends (held clients run) on time.
        let now = self.server.now_ms();
        let save_in = match (save_in, self.server.pause.ends_in(now)) {
            (Some(a), Some(p)) => Some(a.min(std::time::Duration::from_millis(p))),
            (a, p) => a.or(p.map(std::time::Duration::from_millis)),
        };
        let wait = match (save_in, blocked_in) {
            (Some(a), Some(b)) => a.min(b),
            (a, b) => match a.or(b) {
                Some(d) => d,
                None => return self.ring.submit_and_wait(1),
            },
        };
        let ts = types::Timespec::new()
            .sec(wait.as_secs())
            .nsec(wait.subsec_nanos());
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
                    let e = opcode::AsyncCancel::new(ud(Op::Recv, key, generation))
                        .build()
                        .user_data(ud(Op::Cancel, key, generation));
                    push(&mut self.ring, e);
                } else if c.state == ConnState::Open && c.qbuf_len() > 0 {
                    self.run_or_defer(key);
                }
                self.update_read(key);
            }
        }
    }

    /// Dispatches the batch's completions in order (by index: a busy script's poll may
    /// take the rest and put some back, see [`busy`]).
    fn dispatch_batch(&mut self) {
        while self.batch_pos < self.cqes.len() {
            let (u, res, flags) = self.cqes[self.batch_pos];
            self.batch_pos += 1;
            self.dispatch(u, res, flags);
        }
        self.cqes.clear();
        self.batch_pos = 0;
    }

    /// One completion, to the handler of its operation kind (see [`op`]).
    fn dispatch(&mut self, u: u64, res: i32, flags: u32) {
        let (key, generation) = (ud_key(u), ud_gen(u));
        match ud_op(u) {
            Some(Op::Accept) => self.on_accept(key, generation, res, flags),
            Some(Op::Recv) => self.on_recv(key, generation, res, flags),
            Some(Op::Send) => self.on_send(key, generation, res),
            Some(Op::Cancel) => {
                if let Some(c) = self.conn(key, generation) {
                    c.ops -= 1;
                }
                self.maybe_free(key, generation);
            }
            Some(Op::Close) => {}
            Some(Op::Timer) => self.on_timer(),
            Some(Op::Signal) => self.on_signal(res),
            Some(op @ (Op::FileWrite | Op::FileSync)) => self.on_file_op(op, key, res),
            Some(Op::Connect) => self.on_connect(generation, res),
            None => log::warn!("unexpected completion {u:#x}"),
        }
    }

    fn arm_accept(&mut self, i: usize) {
        if self.server.is_unix_listener(i) {
            self.server.unix_accept_armed = true;
        }
        let fd = self.server.listeners[i].fd.as_raw_fd();
        let e = opcode::AcceptMulti::new(types::Fd(fd))
            .build()
            .user_data(ud(Op::Accept, i, self.server.listener_epoch));
        push(&mut self.ring, e);
    }
}

#[cfg(test)]
mod tests {
    use super::input::recycle;
    use super::*;

    #[test]
    fn user_data_round_trips() {
        let u = ud(Op::Send, 123_456, 0xAB_CDEF);
        assert_eq!(ud_op(u), Some(Op::Send));
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
