//! One client connection: its socket, buffers, session and the bookkeeping of the ring
//! operations in flight on it.
//!
//! Invariants:
//! - `rbuf[rbuf_off..]` is the input read but not yet run: the tail of an incomplete command
//!   (the zero-copy path parses whole commands straight out of the kernel's provided buffer
//!   and copies just that tail here), or, while `deferred`, whole commands held back by the
//!   per-turn budget or by output backpressure. `rbuf[..rbuf_off]` is consumed input not yet
//!   compacted away (so taking 16 KB off a long backlog does not move the rest each turn).
//! - Replies are appended to `pending`. `sending` is the buffer handed to the one send in
//!   flight (`send_inflight`); it is never touched until that send completes, then it is
//!   cleared and swapped with `pending` for the next send. So a reply buffer is never
//!   reallocated under the kernel.
//! - `ops` counts ring operations that still reference this connection (recv, send,
//!   cancel). A closing connection keeps its slab slot until `ops` reaches zero.
//! - Once `state` is not `Open`, no more input is processed.

pub mod multi;
pub mod obuf;
pub mod subs;

use engine::Session;
use std::net::SocketAddr;
use std::os::fd::RawFd;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConnState {
    Open,
    /// Redis's CLIENT_CLOSE_AFTER_REPLY: flush what is pending, then close; read no more.
    CloseAfterReply,
    /// Being torn down: the socket is shut, operations are being cancelled/reaped.
    Closing,
}

/// CLIENT REPLY mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReplyMode {
    On,
    Off,
    /// Skip the reply of the next command only.
    Skip,
    /// Internal: the command being executed is the one to skip.
    SkipThis,
}

pub struct Conn {
    pub fd: RawFd,
    /// Generation tag placed in ring user_data (24 bits used).
    pub generation: u32,
    pub session: Session,
    pub state: ConnState,
    /// Input not yet run, from `rbuf_off` on (see module doc).
    pub rbuf: Vec<u8>,
    /// Consumed bytes at the front of `rbuf`.
    pub rbuf_off: usize,
    /// `rbuf` may hold complete commands not run yet: the last run stopped at the per-turn
    /// input budget or because the output passed the backpressure threshold.
    pub deferred: bool,
    /// Queued on the loop's list of connections to run next turn.
    pub in_runnable: bool,
    /// Loop turn in which this connection last ran input (at most one batch per turn).
    pub served_turn: u64,
    /// A cancel of the armed multishot recv was submitted (reading paused).
    pub recv_cancelling: bool,
    /// The peer shut down its side: nothing more will be read; what is buffered still runs.
    pub read_eof: bool,
    /// Replies produced since the last send was submitted.
    pub pending: Vec<u8>,
    /// The buffer of the send in flight.
    pub sending: Vec<u8>,
    /// Bytes of `sending` already written.
    pub send_off: usize,
    pub send_inflight: bool,
    /// A (multishot or single) recv is armed on the ring.
    pub recv_armed: bool,
    /// Ring operations referencing this connection.
    pub ops: u32,
    /// Queued on the loop's flush list this iteration.
    pub in_flush: bool,
    /// CLIENT SETNAME
    pub name: Option<Box<[u8]>>,
    pub ctime_ms: i64,
    pub last_interaction_ms: i64,
    /// Full name of the last command executed (CLIENT LIST `cmd=`).
    pub last_cmd: &'static str,
    pub reply_mode: ReplyMode,
    pub no_evict: bool,
    /// Connected through the `unixsocket` listener.
    pub unix: bool,
    /// Its memory as last counted in `Server::clients_mem` (0 when it does not count: a
    /// replica, our master's link, a closing client).
    pub mem_counted: usize,
    /// Bytes of the current read batch not yet consumed when the running command started
    /// (CLIENT LIST `qbuf` for the calling client, which Redis still holds in its buffer).
    pub qbuf_current: usize,
    /// Parser progress through the incomplete command at the start of `rbuf`.
    pub resume: resp::Resume,
    /// Largest read buffer used (CLIENT LIST `rbp`).
    pub rbuf_peak: usize,
    /// Pub/sub subscriptions (see [`crate::features::pubsub`]).
    pub subs: subs::Subs,
    /// Unix seconds since the output has been over the soft `client-output-buffer-limit`
    /// (0 = not over).
    pub obuf_soft_since: i64,
    /// MULTI state and queued commands (see [`crate::dispatch::multi`]).
    pub multi: multi::MultiState,
    /// With `appendfsync always`: the AOF offset its output waits for (see
    /// `features::aof`); its replies are sent once the AOF is durable up to here.
    pub aof_hold: u64,
    /// `pending.len()` when `aof_hold` was last set.
    pub aof_marked_len: usize,
    /// The ACL user (a key of `Acl::users`; `features::acl::NO_USER` for the AOF loader).
    pub user: usize,
    /// Authenticated as `user` (Redis's `c->authenticated`).
    pub authenticated: bool,
    /// Nothing can deny this client a command: the gate skips the ACL (see
    /// `features::acl`, which keeps it current).
    pub acl_pass: bool,
    /// What it told with REPLCONF, and whether it is a replica (sent SYNC/PSYNC): see
    /// `features::replication`. `None` for ordinary clients.
    pub repl: Option<Box<ReplConf>>,
    /// The replication offset right after its last top-level command (Redis's `woff`):
    /// what WAIT waits for.
    pub woff: u64,
    peer: Option<SocketAddr>,
    local: Option<SocketAddr>,
}

/// A replica's REPLCONF settings and role (Redis's `slave_listening_port`,
/// `slave_addr`, `slave_capa`, `CLIENT_SLAVE`).
#[derive(Clone, Debug, Default)]
pub struct ReplConf {
    pub listening_port: u16,
    pub ip_address: Option<Box<str>>,
    /// `capa eof`
    pub capa_eof: bool,
    /// `capa psync2`
    pub capa_psync2: bool,
    /// It sent SYNC or PSYNC: it is a replica (CLIENT LIST `flags=S`, `type=replica`).
    pub replica: bool,
    /// It is our link to our master (CLIENT LIST `flags=M`, `type=master`).
    pub master: bool,
    /// `REPLCONF rdb-only 1` (`redis-cli --rdb`): the RDB only, then the connection closes.
    pub rdb_only: bool,
    /// `REPLCONF rdb-filter-only <filters>`: its RDB leaves the keys out, and keeps the
    /// function libraries when `Some(true)` (`redis-cli --functions-rdb`).
    pub rdb_filter: Option<bool>,
    /// A snapshot file is being sent to it: the loop tops its output up as it drains
    /// (`features::replication::feed_bulk`).
    pub bulk: bool,
}

impl Conn {
    pub fn new(fd: RawFd, generation: u32, id: u64, now_ms: i64) -> Conn {
        Conn {
            fd,
            generation,
            session: Session {
                id,
                ..Session::default()
            },
            state: ConnState::Open,
            rbuf: Vec::new(),
            rbuf_off: 0,
            deferred: false,
            in_runnable: false,
            served_turn: 0,
            recv_cancelling: false,
            read_eof: false,
            pending: Vec::new(),
            sending: Vec::new(),
            send_off: 0,
            send_inflight: false,
            recv_armed: false,
            ops: 0,
            in_flush: false,
            name: None,
            ctime_ms: now_ms,
            last_interaction_ms: now_ms,
            last_cmd: "NULL",
            reply_mode: ReplyMode::On,
            no_evict: false,
            unix: false,
            mem_counted: 0,
            qbuf_current: 0,
            resume: resp::Resume::START,
            rbuf_peak: 0,
            subs: Default::default(),
            obuf_soft_since: 0,
            multi: Default::default(),
            aof_hold: 0,
            aof_marked_len: 0,
            // The default user, unauthenticated: the gate decides by the default user's
            // rules until `acl::set_default_auth` runs (safe for every caller).
            user: 0,
            authenticated: false,
            acl_pass: false,
            repl: None,
            woff: 0,
            peer: None,
            local: None,
        }
    }

    #[inline]
    pub fn id(&self) -> u64 {
        self.session.id
    }

    #[inline]
    pub fn is_closing(&self) -> bool {
        self.state == ConnState::Closing
    }

    /// Moves to `Closing`; false if it already was.
    pub fn begin_close(&mut self) -> bool {
        if self.state == ConnState::Closing {
            return false;
        }
        self.state = ConnState::Closing;
        true
    }

    /// Whether replies should be written for the command now running (CLIENT REPLY).
    #[inline]
    pub fn replies_enabled(&self) -> bool {
        self.reply_mode == ReplyMode::On
    }

    /// Redis's big-argument path (`PROTO_MBULK_BIG_ARG`, 32 KB): when the incomplete command
    /// waiting in `rbuf` needs at least that much more, room for all of it is made at once,
    /// instead of the buffer doubling as the value arrives (a 64 MB value is then copied
    /// once, not once per doubling). Bounded as in Redis by `proto-max-bulk-len`, which the
    /// parser enforces before it asks for the bytes; untouched pages cost no memory.
    pub fn reserve_for_pending_command(&mut self) {
        const BIG_ARG: usize = 32 * 1024;
        let need = self.resume.min_len();
        if need >= self.qbuf_len() + BIG_ARG {
            let total = self.rbuf_off + need;
            if self.rbuf.capacity() < total {
                self.rbuf.reserve_exact(total - self.rbuf.len());
            }
        }
    }

    /// In RESP2 pub/sub mode (Redis's `CLIENT_PUBSUB` with `resp == 2`): only (un)subscribing,
    /// PING, QUIT and RESET are allowed, and PING answers in the pub/sub form.
    #[inline]
    pub fn in_resp2_pubsub(&self) -> bool {
        self.subs.active() && self.session.proto == resp::Proto::Resp2
    }

    /// Bytes read and not yet run (CLIENT LIST `qbuf` of a client other than the caller).
    #[inline]
    pub fn qbuf_len(&self) -> usize {
        self.rbuf.len() - self.rbuf_off
    }

    /// Bytes waiting to leave: pending plus the unsent part of the send in flight.
    pub fn output_len(&self) -> usize {
        self.pending.len() + self.sending.len() - self.send_off.min(self.sending.len())
    }

    /// Bytes this client holds (CLIENT LIST `tot-mem`, INFO `mem_clients_normal`).
    pub fn memory(&self) -> usize {
        std::mem::size_of::<Conn>()
            + self.rbuf.capacity()
            + self.pending.capacity()
            + self.sending.capacity()
            + self.name.as_ref().map_or(0, |n| n.len())
    }

    /// The peer address, looked up on first use (getpeername is a syscall, and most
    /// clients never ask).
    pub fn peer_addr(&mut self) -> Option<SocketAddr> {
        if self.peer.is_none() {
            self.peer = sockaddr_of(self.fd, true);
        }
        self.peer
    }

    /// The peer address without caching it (for `&self` readers such as INFO).
    pub fn peer_lookup(&self) -> Option<SocketAddr> {
        self.peer.or_else(|| sockaddr_of(self.fd, true))
    }

    /// Whether it is a replica (sent SYNC/PSYNC).
    #[inline]
    pub fn is_replica(&self) -> bool {
        self.repl.as_ref().is_some_and(|r| r.replica)
    }

    /// Whether it is our master's link.
    #[inline]
    pub fn is_master(&self) -> bool {
        self.repl.as_ref().is_some_and(|r| r.master)
    }

    pub fn local_addr(&mut self) -> Option<SocketAddr> {
        if self.local.is_none() {
            self.local = sockaddr_of(self.fd, false);
        }
        self.local
    }
}

/// `ip:port` as Redis prints it (IPv6 without brackets, e.g. `::1:6379`).
pub fn fmt_addr(a: Option<SocketAddr>) -> String {
    match a {
        Some(SocketAddr::V4(v)) => format!("{}:{}", v.ip(), v.port()),
        Some(SocketAddr::V6(v)) => format!("{}:{}", v.ip(), v.port()),
        None => "?:0".into(),
    }
}

/// The peer address of a socket (getpeername).
pub fn peer_of(fd: RawFd) -> Option<SocketAddr> {
    sockaddr_of(fd, true)
}

/// getpeername/getsockname into a `SocketAddr`.
fn sockaddr_of(fd: RawFd, peer: bool) -> Option<SocketAddr> {
    // SAFETY: sockaddr_storage is plain old data; the kernel writes at most `len` bytes.
    unsafe {
        let mut ss: libc::sockaddr_storage = std::mem::zeroed();
        let mut len = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
        let p = &mut ss as *mut _ as *mut libc::sockaddr;
        let rc = if peer {
            libc::getpeername(fd, p, &mut len)
        } else {
            libc::getsockname(fd, p, &mut len)
        };
        if rc != 0 {
            return None;
        }
        storage_to_addr(&ss)
    }
}

/// Converts a filled `sockaddr_storage`.
pub fn storage_to_addr(ss: &libc::sockaddr_storage) -> Option<SocketAddr> {
    match ss.ss_family as i32 {
        libc::AF_INET => {
            // SAFETY: family says this storage holds a sockaddr_in.
            let a = unsafe { &*(ss as *const _ as *const libc::sockaddr_in) };
            let ip = std::net::Ipv4Addr::from(u32::from_be(a.sin_addr.s_addr));
            Some(SocketAddr::from((ip, u16::from_be(a.sin_port))))
        }
        libc::AF_INET6 => {
            // SAFETY: family says this storage holds a sockaddr_in6.
            let a = unsafe { &*(ss as *const _ as *const libc::sockaddr_in6) };
            let ip = std::net::Ipv6Addr::from(a.sin6_addr.s6_addr);
            Some(SocketAddr::from((ip, u16::from_be(a.sin6_port))))
        }
        _ => None,
    }
}
