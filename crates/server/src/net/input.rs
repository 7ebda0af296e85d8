//! Running a connection's input: parsing commands out of what it sent and handing each to
//! the gate, within the per-turn budget, and holding it back (no commands run, reads
//! paused) while its unsent output is over the threshold.

use super::*;

impl EventLoop {
    /// Runs the buffered input of `key` now, or next turn if it already had this one.
    pub(super) fn run_or_defer(&mut self, key: usize) {
        if self.server.clients[key].served_turn == self.turn {
            self.mark_runnable(key);
            return;
        }
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
            None,
            &mut self.bump,
            &mut self.args_store,
        );
        self.disarm_busy_poller();
        self.after_run(key, ran);
    }

    /// Bookkeeping after a run of `key`'s input: its turn is used; input left over is run
    /// next turn (budget) or once its output is handed to the kernel (backpressure).
    pub(super) fn after_run(&mut self, key: usize, ran: Ran) {
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
            } else if ran == Ran::SnapshotWait {
                let generation = c.generation;
                self.server.persistence.waiters.push((key, generation));
            } else if ran == Ran::Paused {
                let generation = c.generation;
                crate::features::pause::hold(&mut self.server, key, generation);
            }
        } else if c.read_eof {
            self.on_input_end(key);
        }
        if self.server.clients[key].state != ConnState::Closing {
            self.queue_flush(key);
        }
    }

    /// The peer's input ended and all of it that was complete has run.
    pub(super) fn on_input_end(&mut self, key: usize) {
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
    pub(super) fn mark_runnable(&mut self, key: usize) {
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
    pub(super) fn run_runnable(&mut self) {
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
    pub(super) fn update_read(&mut self, key: usize) {
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
            let e = opcode::AsyncCancel::new(ud(Op::Recv, key, c.generation))
                .build()
                .user_data(ud(Op::Cancel, key, c.generation));
            push(&mut self.ring, e);
        }
    }
}

/// Reuses a vector of argument slices across batches with a different lifetime: empty,
/// so no borrow survives, and the in-place collect keeps its allocation.
pub(super) fn recycle<'b>(mut v: Vec<&[u8]>) -> Vec<&'b [u8]> {
    v.clear();
    v.into_iter()
        .map(|_| -> &'b [u8] { unreachable!() })
        .collect()
}

/// Runs a client's input, at most `TURN_BUDGET` of it: `fresh` is a provided buffer's data
/// (zero-copy path, used when nothing older is buffered), or `None` to run what `rbuf` holds
/// (bytes read straight into it, or held back from earlier turns). What does not run stays
/// in `rbuf`.
pub(super) fn process_input(
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
    server.clients[key].reserve_for_pending_command();
    server.check_output_limit(key);
    let limit = server.settings.client_query_buffer_limit;
    let c = &mut server.clients[key];
    // The master's stream is never cut (it waits there while a full sync loads).
    if c.state == ConnState::Open && c.qbuf_len() > limit && !c.is_master() {
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
pub(super) fn run_batch(
    server: &mut Server,
    key: usize,
    buf: &[u8],
    bump: &mut Bump,
    store: &mut Vec<&'static [u8]>,
) -> (usize, Ran) {
    use crate::features::replication::replica;
    // The link to our master: handshake replies and the payload first, then commands.
    let link = server.master.is_some() && replica::is_master_link(server, key);
    let mut pos = 0;
    if link && !replica::streaming(server) {
        pos = replica::on_link_input(server, key, buf).min(buf.len());
        if !replica::streaming(server) || !replica::is_master_link(server, key) {
            return (pos, Ran::Idle);
        }
    }
    let buf = &buf[pos..];
    let base = pos;
    pos = 0;
    let mut resume = server.clients[key].resume;
    if buf.len() < resume.min_len() {
        return (base, Ran::Idle);
    }
    let mut limits = server.limits.clone();
    let mut args = recycle(std::mem::take(store));
    let mut ran = Ran::Idle;
    let arena: &Bump = bump;
    while pos < buf.len()
        && server.clients[key].state == ConnState::Open
        && !server.blocked.is_blocked(key)
        && !server.repl.is_waiting(key)
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
        // Redis's limits for a client that must still authenticate (CVE-2021-32675): at most
        // 10 arguments of 16 KB each. Decided per request, so a pipeline continues without
        // them right after its AUTH succeeds.
        limits.auth_required = !server.clients[key].authenticated && !server.acl.default_open();
        match resp::parse_command_resume(&buf[pos..], &limits, arena, &mut args, &mut resume) {
            Ok(Parsed::Command { consumed }) => {
                // A write to a big value the running snapshot has not written waits (not
                // consumed, retried next turn) while the snapshot writes it in steps.
                if server.persistence.bg.is_some()
                    && !args.is_empty()
                    && crate::features::persistence::write_must_wait(server, key, &args)
                {
                    ran = Ran::SnapshotWait;
                    break;
                }
                // CLIENT PAUSE holds it (not consumed; run when the pause ends).
                if !args.is_empty() && crate::features::pause::must_wait(server, key, &args) {
                    ran = Ran::Paused;
                    break;
                }
                server.clients[key].qbuf_current = buf.len() - pos;
                let start = pos;
                pos += consumed;
                if link {
                    // Obeyed, unanswered; its bytes are the offset and our stream.
                    replica::apply(server, key, &args, &buf[start..pos]);
                } else if !args.is_empty() {
                    gate::execute(server, key, &args);
                }
            }
            Ok(Parsed::Empty { consumed }) => {
                if link {
                    replica::apply(server, key, &[], &buf[pos..pos + consumed]);
                }
                pos += consumed;
            }
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
    if let Some(c) = server.clients.get_mut(key) {
        c.resume = resume;
    }
    (base + pos, ran)
}
