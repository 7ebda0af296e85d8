//! A connection's operations on the ring: accepting it, its recv (multishot from the
//! provided-buffer ring, or single-shot into `rbuf`), its sends (one per turn), and its
//! close once no operation references it.

use super::*;

/// Capacity of a drained send buffer a connection keeps for reuse; more is released.
const SENDING_KEEP: usize = 256 * 1024;

impl EventLoop {
    /// The connection at `key` if its generation matches.
    #[inline]
    pub(super) fn conn(&mut self, key: usize, generation: u32) -> Option<&mut Conn> {
        self.server
            .clients
            .get_mut(key)
            .filter(|c| c.generation & 0xFF_FFFF == generation)
    }

    pub(super) fn on_accept(&mut self, li: usize, epoch: u32, res: i32, flags: u32) {
        // A listener replaced by CONFIG SET port/bind has a stale epoch: its accept ends
        // (the socket was shut down) and is not re-armed; a connection it still took is
        // served normally.
        let unix = self.server.is_unix_listener(li);
        let current = unix || epoch == self.server.listener_epoch & 0xFF_FFFF;
        if current && !cqueue::more(flags) && self.server.shutdown == Shutdown::Running {
            let out_of_resources = matches!(
                -res,
                libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM
            );
            if out_of_resources {
                // Re-arming now would fail again at once and spin; retry at the next
                // cron tick, when clients may have gone.
                self.deferred_accepts.push(li);
                if unix {
                    // Not armed until the retry (or a rebind's re-arm, which drops it).
                    self.server.unix_accept_armed = false;
                }
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
        if let Some(key) = adopt(&mut self.server, res, self.now_ms, unix) {
            self.arm_recv(key);
        }
    }

    pub(super) fn arm_recv(&mut self, key: usize) {
        let multishot = self.bufs.is_some();
        arm_recv_on(
            &mut self.ring,
            multishot,
            &mut self.server.clients[key],
            key,
        );
    }

    pub(super) fn on_recv(&mut self, key: usize, generation: u32, res: i32, flags: u32) {
        let bid = cqueue::buffer_select(flags);
        let now_ms = self.now_ms;
        let Some(c) = self.conn(key, generation) else {
            if let (Some(b), Some(br)) = (bid, self.bufs.as_ref()) {
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
                            busy::arm_busy_poller(
                                &mut self.busy,
                                &mut self.ring,
                                &self.bufs,
                                &mut self.cqes,
                                &mut self.batch_pos,
                                &mut self.server,
                            );
                            let ran = process_input(
                                &mut self.server,
                                key,
                                Some(data),
                                &mut self.bump,
                                &mut self.args_store,
                            );
                            self.disarm_busy_poller();
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
        if let (Some(b), Some(br)) = (bid, self.bufs.as_ref()) {
            br.provide(b);
        }
        self.server.note_client_memory(key);
        self.update_read(key);
        self.maybe_free(key, generation);
    }

    #[inline]
    pub(super) fn queue_flush(&mut self, key: usize) {
        let c = &mut self.server.clients[key];
        if !c.in_flush {
            c.in_flush = true;
            self.flush.push(key);
        }
    }

    pub(super) fn on_send(&mut self, key: usize, generation: u32, res: i32) {
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
        // A client that once received a big reply does not keep that memory: it counts in
        // `used_memory`, and under `maxmemory` a pinned buffer is paid for with evicted keys
        // (with 1 MiB kept per buffer, reading 500 pipelined 1 KB values evicted 3.5x as
        // many keys as Redis, which frees its reply blocks once written). 256 KiB still
        // covers a turn of big pipelined replies (16 LRANGEs of 600 elements: ~90 KB)
        // without reallocating every turn.
        if c.sending.capacity() > SENDING_KEEP {
            c.sending = Vec::new();
        }
        self.server.note_client_memory(key);
        self.queue_flush(key);
    }

    /// Submits the unsent part of `sending`.
    pub(super) fn submit_send(&mut self, key: usize) {
        submit_send_on(&mut self.ring, &mut self.server.clients[key], key);
    }

    /// One send per connection with output and no send in flight.
    pub(super) fn flush_sends(&mut self) {
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
        // With the AOF on, output produced after AOF bytes were taken waits until their write
        // (and fsync under `always`) completed; features::aof wakes the connection.
        let hold = crate::features::aof::holds_replies(&self.server);
        let (appended, durable) = (self.server.aof.appended, self.server.aof.durable);
        for &key in &list {
            let Some(mut c) = self.server.clients.get_mut(key) else {
                continue;
            };
            c.in_flush = false;
            if c.state == ConnState::Closing || c.send_inflight {
                continue;
            }
            // Output grew (or went) since the client was last counted.
            self.server.note_client_memory(key);
            let Some(again) = self.server.clients.get_mut(key) else {
                continue;
            };
            c = again;
            if hold && !c.pending.is_empty() {
                // Output that grew since it was last held depends on everything
                // appended so far; output merely woken keeps its mark.
                if c.pending.len() != c.aof_marked_len {
                    c.aof_marked_len = c.pending.len();
                    c.aof_hold = c.aof_hold.max(appended);
                }
                if c.aof_hold > durable {
                    self.server.aof.held.push(key);
                    self.server.aof_clients_held += 1;
                    continue;
                }
            }
            if c.repl.as_ref().is_some_and(|rc| rc.bulk) {
                crate::features::replication::feed_bulk(&mut self.server, key);
                let Some(again) = self.server.clients.get_mut(key) else {
                    continue;
                };
                c = again;
                if c.state == ConnState::Closing {
                    continue;
                }
            }
            if c.pending.is_empty() {
                if c.state == ConnState::CloseAfterReply {
                    self.server.close_client(key);
                }
                continue;
            }
            std::mem::swap(&mut c.pending, &mut c.sending);
            c.send_off = 0;
            c.aof_marked_len = 0;
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
        crate::features::memory::evict_clients(&mut self.server);
        if !self.server.to_close.is_empty() {
            self.start_closes();
        }
    }

    /// Cancels the ring operations of connections marked closing; frees those with none.
    pub(super) fn start_closes(&mut self) {
        while let Some((key, generation)) = self.server.to_close.pop() {
            let Some(c) = self.conn(key, generation) else {
                continue;
            };
            // Cancel by user_data (exact, and supported by every kernel with multishot);
            // each cancel is itself an operation the slot must outlive.
            let mut cancels = [None, None];
            if c.recv_armed {
                cancels[0] = Some(ud(Op::Recv, key, generation));
            }
            if c.send_inflight {
                cancels[1] = Some(ud(Op::Send, key, generation));
            }
            let targets = cancels.into_iter().flatten();
            c.ops += targets.clone().count() as u32;
            for target in targets {
                let e = opcode::AsyncCancel::new(target).build().user_data(ud(
                    Op::Cancel,
                    key,
                    generation,
                ));
                push(&mut self.ring, e);
            }
            self.maybe_free(key, generation);
        }
    }

    /// Frees a closing connection once nothing on the ring references it.
    pub(super) fn maybe_free(&mut self, key: usize, generation: u32) {
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
        self.server.note_client_memory(key);
        self.server.clients.remove(key);
        let e = opcode::Close::new(types::Fd(fd))
            .build()
            .user_data(ud(Op::Close, 0, 0));
        push(&mut self.ring, e);
    }
}

/// Arms client `key`'s recv on `ring`: multishot from the buffer ring, or a single recv
/// into `rbuf`'s spare capacity. Shared by the loop and a busy script's poll.
pub(super) fn arm_recv_on(ring: &mut IoUring, multishot: bool, c: &mut Conn, key: usize) {
    let e = if multishot {
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
    push(ring, e.user_data(ud(Op::Recv, key, c.generation)));
}

/// Submits the unsent part of client `key`'s `sending` on `ring`. Shared by the loop and a
/// busy script's poll.
pub(super) fn submit_send_on(ring: &mut IoUring, c: &mut Conn, key: usize) {
    let rest = &c.sending[c.send_off..];
    let len = rest.len().min(MAX_SEND) as u32;
    let e = opcode::Send::new(types::Fd(c.fd), rest.as_ptr(), len)
        .flags(libc::MSG_NOSIGNAL)
        .build()
        .user_data(ud(Op::Send, key, c.generation));
    c.send_inflight = true;
    c.ops += 1;
    push(ring, e);
}

/// A socket just accepted becomes a client (Redis's acceptCommonHandler): refused past
/// `maxclients` or by protected mode, otherwise tuned and inserted; its recv is the
/// caller's to arm. Shared by the loop and a busy script's poll.
pub(super) fn adopt(server: &mut Server, fd: RawFd, now_ms: i64, unix: bool) -> Option<usize> {
    if server.clients.len() >= server.settings.maxclients {
        // Like Redis: best-effort error straight on the socket, then close. Rare path,
        // so a plain syscall is fine.
        refuse_and_close(fd, b"-ERR max number of clients reached\r\n");
        server.stats.rejected_connections += 1;
        return None;
    }
    // protected-mode (Redis's clientAcceptHandler): outside the loopback interface
    // while the default user has no password, the refusal text and close. Not counted
    // as a connection received.
    if server.config.protected_mode
        && !unix
        && server
            .acl
            .default_user()
            .has(crate::features::acl::user::uflag::NOPASS)
    {
        let peer = crate::client::peer_of(fd);
        if crate::features::acl::protected_mode_denies(true, true, peer) {
            refuse_and_close(fd, crate::features::acl::PROTECTED_MODE_TEXT.as_bytes());
            server.stats.rejected_connections += 1;
            return None;
        }
    }
    if !unix {
        tune_client_socket(fd, server.settings.tcp_keepalive);
    }
    let generation = server.next_gen & 0xFF_FFFF;
    server.next_gen = server.next_gen.wrapping_add(1);
    let id = server.next_client_id;
    server.next_client_id += 1;
    let mut conn = Conn::new(fd, generation, id, now_ms);
    conn.unix = unix;
    let key = server.clients.insert(conn);
    server.stats.total_connections_received += 1;
    crate::features::acl::set_default_auth(server, key);
    Some(key)
}

/// TCP_NODELAY and keepalive, as Redis sets on every client socket.
pub(super) fn tune_client_socket(fd: RawFd, keepalive: u32) {
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

/// Sends a refusal to a socket just accepted (best effort: one non-blocking send, which
/// the empty send buffer of a new socket takes whole) and closes it.
fn refuse_and_close(fd: i32, msg: &[u8]) {
    // SAFETY: fd is the socket just accepted; the caller owns it and gives it up here.
    unsafe {
        libc::send(
            fd,
            msg.as_ptr() as *const libc::c_void,
            msg.len(),
            libc::MSG_NOSIGNAL | libc::MSG_DONTWAIT,
        );
        libc::close(fd);
    }
}
