//! Serving the ring while a script runs past `busy-reply-threshold` (Redis's
//! `processEventsWhileBlocked`): the script's Lua hook calls [`poll`] through the
//! [`BusyPoller`] the loop installs before it runs a connection's input.
//!
//! A poll submits what is queued, reaps completions without waiting, and takes over the
//! current batch's completions not yet dispatched. Recvs and sends of other open,
//! unblocked connections are handled here: their complete commands are answered — SCRIPT
//! KILL / FUNCTION KILL / FUNCTION STATS / SHUTDOWN NOSAVE run, everything else gets
//! `-BUSY` — and their replies are sent at once. Every other completion (accepts, timers,
//! signals, file writes, the script's own connection, closing connections, errors) is put
//! back, in order, at the end of the loop's batch, to be dispatched once the script's
//! command returns; once one completion of a connection was put back, all later ones of
//! that connection are too, so a connection's completions never change order.
//!
//! Invariants: the raw pointers in [`BusyRefs`] are taken from `EventLoop` fields disjoint
//! from `server` right before the loop hands the server to `process_input`, and used only
//! from inside that call (one thread); the script's connection (whose input buffer the
//! running command borrows) is never touched here.

use super::*;
use crate::server::BusyPoller;

/// What the poll needs of the loop besides the server.
pub(super) struct BusyRefs {
    pub ring: *mut IoUring,
    pub bufs: *const Option<BufRing>,
    pub cqes: *mut Vec<(u64, i32, u32)>,
    pub pos: *mut usize,
    /// Connections whose completions were put back during this busy period.
    pub deferred_keys: Vec<usize>,
}

impl Default for BusyRefs {
    fn default() -> Self {
        BusyRefs {
            ring: std::ptr::null_mut(),
            bufs: std::ptr::null(),
            cqes: std::ptr::null_mut(),
            pos: std::ptr::null_mut(),
            deferred_keys: Vec::new(),
        }
    }
}

/// Points the busy refs at the loop's fields and installs the poller, right before
/// `process_input` gets the server (see the module invariants). Fields, not `&mut
/// EventLoop`: the zero-copy path still borrows a provided buffer's bytes.
pub(super) fn arm_busy_poller(
    busy: &mut BusyRefs,
    ring: &mut IoUring,
    bufs: &Option<BufRing>,
    cqes: &mut Vec<(u64, i32, u32)>,
    pos: &mut usize,
    server: &mut Server,
) {
    busy.ring = ring;
    busy.bufs = bufs;
    busy.cqes = cqes;
    busy.pos = pos;
    server.busy_poller = Some(BusyPoller {
        poll,
        refs: busy as *mut BusyRefs as *mut (),
    });
}

impl EventLoop {
    /// After the input ran: the busy period (if any) is over.
    pub(super) fn disarm_busy_poller(&mut self) {
        self.server.busy_poller = None;
        self.busy.deferred_keys.clear();
    }
}

fn poll(p: BusyPoller, server: &mut Server, running: usize) {
    // SAFETY: see the module invariants; `refs` is the loop's boxed BusyRefs, its pointers
    // target loop fields no one else uses while the script runs.
    let refs = unsafe { &mut *(p.refs as *mut BusyRefs) };
    let (ring, bufs, cqes, pos) = unsafe {
        (
            &mut *refs.ring,
            &*refs.bufs,
            &mut *refs.cqes,
            &mut *refs.pos,
        )
    };
    let ts = types::Timespec::new();
    let args = types::SubmitArgs::new().timespec(&ts);
    let _ = ring.submitter().submit_with_args(1, &args);
    let mut work: Vec<(u64, i32, u32)> = cqes.drain((*pos).min(cqes.len())..).collect();
    work.extend(
        ring.completion()
            .map(|c| (c.user_data(), c.result(), c.flags())),
    );
    let mut touched: Vec<usize> = Vec::new();
    for (u, res, flags) in work {
        let (key, generation) = (ud_key(u), ud_gen(u));
        let op = ud_op(u);
        // A client connecting meanwhile is accepted (its answers are BUSY too); an accept
        // that ended, or failed, is the loop's to re-arm.
        let unix = op == Some(Op::Accept) && server.is_unix_listener(key);
        if op == Some(Op::Accept)
            && res >= 0
            && cqueue::more(flags)
            && (unix || generation == server.listener_epoch & 0xFF_FFFF)
        {
            if let Some(k) = super::conn_ops::adopt(server, res, server.now_ms(), unix) {
                super::conn_ops::arm_recv_on(ring, bufs.is_some(), &mut server.clients[k], k);
            }
            continue;
        }
        let ours = matches!(op, Some(Op::Recv) | Some(Op::Send))
            && key != running
            && !refs.deferred_keys.contains(&key)
            && server.clients.get(key).is_some_and(|c| {
                c.generation & 0xFF_FFFF == generation && c.state == ConnState::Open
            })
            && !server.blocked.is_blocked(key)
            && (res > 0 || (op == Some(Op::Send) && res >= 0));
        if !ours {
            if matches!(op, Some(Op::Recv) | Some(Op::Send) | Some(Op::Cancel))
                && !refs.deferred_keys.contains(&key)
            {
                refs.deferred_keys.push(key);
            }
            cqes.push((u, res, flags));
            continue;
        }
        let n = res as usize;
        let c = &mut server.clients[key];
        if op == Some(Op::Recv) {
            let bid = cqueue::buffer_select(flags);
            if !cqueue::more(flags) {
                c.recv_armed = false;
                c.recv_cancelling = false;
                c.ops -= 1;
            }
            match (bid, bufs.as_ref()) {
                (Some(b), Some(br)) => {
                    c.rbuf.extend_from_slice(br.get(b, n));
                    br.provide(b);
                }
                _ => {
                    let len = c.rbuf.len() + n;
                    if len <= c.rbuf.capacity() {
                        // SAFETY: the kernel initialised `n` bytes past len.
                        unsafe { c.rbuf.set_len(len) };
                    }
                }
            }
            server.stats.net_input_bytes += n as u64;
            server.stats.reads_processed += 1;
            if !touched.contains(&key) {
                touched.push(key);
            }
        } else {
            c.ops -= 1;
            c.send_inflight = false;
            server.stats.net_output_bytes += n as u64;
            server.stats.writes_processed += 1;
            c.send_off += n;
            if c.send_off < c.sending.len() {
                super::conn_ops::submit_send_on(ring, c, key);
            } else {
                c.sending.clear();
                c.send_off = 0;
                if !touched.contains(&key) {
                    touched.push(key);
                }
            }
        }
    }
    for key in touched {
        answer_input(server, key);
        let c = &mut server.clients[key];
        if c.state != ConnState::Open {
            continue;
        }
        if !c.recv_armed {
            super::conn_ops::arm_recv_on(ring, bufs.is_some(), c, key);
        }
        let held = crate::features::aof::holds_replies(server)
            && server.clients[key].aof_hold > server.aof.durable;
        let c = &mut server.clients[key];
        if !c.send_inflight && !c.pending.is_empty() && !held {
            std::mem::swap(&mut c.pending, &mut c.sending);
            c.send_off = 0;
            super::conn_ops::submit_send_on(ring, c, key);
        }
    }
    let _ = ring.submit();
}

/// Answers the complete commands `key` has buffered (see the module doc).
fn answer_input(server: &mut Server, key: usize) {
    loop {
        let c = &mut server.clients[key];
        if c.state != ConnState::Open {
            return;
        }
        let bump = Bump::new();
        let mut args: Vec<&[u8]> = Vec::new();
        let parsed = resp::parse_command(&c.rbuf[c.rbuf_off..], &server.limits, &bump, &mut args);
        let argv: Vec<Vec<u8>> = args.iter().map(|a| a.to_vec()).collect();
        drop(args);
        match parsed {
            Ok(Parsed::Command { consumed }) => {
                c.rbuf_off += consumed;
                c.resume = Default::default();
                let refs: Vec<&[u8]> = argv.iter().map(|a| a.as_slice()).collect();
                crate::features::script::busy::answer(server, key, &refs);
            }
            Ok(Parsed::Empty { consumed }) => {
                c.rbuf_off += consumed;
            }
            // Incomplete input or a protocol error: the loop deals with it after the script.
            _ => break,
        }
    }
    let c = &mut server.clients[key];
    if c.rbuf_off == c.rbuf.len() && !(c.recv_armed && c.rbuf.capacity() > c.rbuf.len()) {
        c.rbuf.clear();
        c.rbuf_off = 0;
    }
}
