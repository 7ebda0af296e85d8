//! The loop's own operations: the cron timer (`hz`: keyspace cron, blocked-client
//! timeouts, clients cron) and the signalfd (SIGINT/SIGTERM start a shutdown).

use super::*;

impl EventLoop {
    pub(super) fn arm_timer(&mut self) {
        let hz = self.server.settings.hz.clamp(1, 500);
        let ns = 1_000_000_000u64 / hz as u64;
        *self.timer = types::Timespec::new()
            .sec(ns / 1_000_000_000)
            .nsec((ns % 1_000_000_000) as u32);
        let e = opcode::Timeout::new(&*self.timer)
            .build()
            .user_data(ud(Op::Timer, 0, 0));
        push(&mut self.ring, e);
    }

    pub(super) fn on_timer(&mut self) {
        if self.server.shutdown == Shutdown::Running {
            while let Some(li) = self.deferred_accepts.pop() {
                self.arm_accept(li);
            }
            crate::server::cron(&mut self.server, self.now_ms);
            crate::features::pubsub::drain_notifications(&mut self.server, None);
            if self.now_ms - self.last_clients_cron_ms >= 1000 {
                self.last_clients_cron_ms = self.now_ms;
                self.server.cron_output_limits();
                self.clients_cron();
            }
            self.arm_timer();
        }
    }

    /// Once a second: closes clients idle longer than `timeout`.
    pub(super) fn clients_cron(&mut self) {
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
                && !c.is_replica()
            {
                idle.push(key);
            }
        }
        for key in idle {
            log::debug!("Closing idle client");
            self.server.close_client(key);
        }
    }

    pub(super) fn arm_signal(&mut self) {
        let e = opcode::Read::new(
            types::Fd(self.sigfd.as_raw_fd()),
            self.sigbuf.as_mut_ptr(),
            self.sigbuf.len() as u32,
        )
        .build()
        .user_data(ud(Op::Signal, 0, 0));
        push(&mut self.ring, e);
    }

    pub(super) fn on_signal(&mut self, res: i32) {
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
        // `shutdown-on-sigint|sigterm`: default | save | nosave, plus now and force.
        let flags = if signo == libc::SIGINT as u32 {
            self.server.config.compat.shutdown_on_sigint
        } else {
            self.server.config.compat.shutdown_on_sigterm
        };
        let save = if flags & 2 != 0 {
            Some(false)
        } else if flags & 1 != 0 {
            Some(true)
        } else {
            None
        };
        if crate::features::persistence::prepare_shutdown(&mut self.server, save, flags & 8 != 0)
            .is_err()
        {
            log::warn!(
                "SIGTERM received but errors trying to shut down the server, check the logs for more information"
            );
            self.arm_signal();
            return;
        }
        self.server.shutdown = Shutdown::Exit;
    }
}

/// Blocks SIGINT/SIGTERM for the thread and returns a signalfd that reports them, so
/// signals arrive as ring completions instead of interrupting the loop.
pub(super) fn signal_fd() -> io::Result<OwnedFd> {
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
