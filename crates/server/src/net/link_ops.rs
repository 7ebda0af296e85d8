//! Outgoing connections: the replica's link to its master. The replication feature asks
//! for one by setting `MasterLink::connect_to` (an effect); the loop opens a non-blocking
//! socket, connects it on the ring, and registers the connection like an accepted one,
//! then hands it to `features::replication::replica::on_connected`.

use super::op::{Op, ud};
use super::{EventLoop, push};
use crate::client::Conn;
use io_uring::{opcode, types};
use std::io;
use std::net::SocketAddr;

/// A connect in flight: its socket and the address the kernel reads until completion.
pub(super) struct Connecting {
    fd: i32,
    addr: Box<libc::sockaddr_storage>,
    len: libc::socklen_t,
    generation: u32,
}

fn sockaddr(a: SocketAddr) -> (Box<libc::sockaddr_storage>, libc::socklen_t) {
    // SAFETY: sockaddr_storage is plain old data, zero is a valid value.
    let mut ss: Box<libc::sockaddr_storage> = Box::new(unsafe { std::mem::zeroed() });
    let len = match a {
        SocketAddr::V4(v) => {
            // SAFETY: storage is large and aligned enough for a sockaddr_in.
            let s = unsafe { &mut *(&mut *ss as *mut _ as *mut libc::sockaddr_in) };
            s.sin_family = libc::AF_INET as libc::sa_family_t;
            s.sin_port = v.port().to_be();
            s.sin_addr.s_addr = u32::from(*v.ip()).to_be();
            std::mem::size_of::<libc::sockaddr_in>()
        }
        SocketAddr::V6(v) => {
            // SAFETY: storage is large and aligned enough for a sockaddr_in6.
            let s = unsafe { &mut *(&mut *ss as *mut _ as *mut libc::sockaddr_in6) };
            s.sin6_family = libc::AF_INET6 as libc::sa_family_t;
            s.sin6_port = v.port().to_be();
            s.sin6_addr.s6_addr = v.ip().octets();
            std::mem::size_of::<libc::sockaddr_in6>()
        }
    };
    (ss, len as libc::socklen_t)
}

impl EventLoop {
    /// Starts the connect the replication feature asked for, if any.
    pub(super) fn start_link_connect(&mut self) {
        let Some(addr) = self
            .server
            .master
            .as_mut()
            .and_then(|m| m.connect_to.take())
        else {
            return;
        };
        if let Some(old) = self.connecting.take() {
            // SAFETY: our own socket; its connect's completion is ignored (stale generation).
            unsafe { libc::close(old.fd) };
        }
        let family = if addr.is_ipv4() {
            libc::AF_INET
        } else {
            libc::AF_INET6
        };
        // SAFETY: plain socket(2).
        let fd = unsafe {
            libc::socket(
                family,
                libc::SOCK_STREAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
                0,
            )
        };
        if fd < 0 {
            crate::features::replication::replica::on_connect_failed(
                &mut self.server,
                io::Error::last_os_error(),
            );
            return;
        }
        let (ss, len) = sockaddr(addr);
        let generation = self.server.next_gen & 0xFF_FFFF;
        self.server.next_gen = self.server.next_gen.wrapping_add(1);
        let c = Connecting {
            fd,
            addr: ss,
            len,
            generation,
        };
        let e = opcode::Connect::new(
            types::Fd(fd),
            &*c.addr as *const _ as *const libc::sockaddr,
            c.len,
        )
        .build()
        .user_data(ud(Op::Connect, 0, generation));
        self.connecting = Some(c);
        push(&mut self.ring, e);
    }

    /// The connect completed.
    pub(super) fn on_connect(&mut self, generation: u32, res: i32) {
        let Some(c) = self.connecting.take_if(|c| c.generation == generation) else {
            return;
        };
        if res < 0 {
            // SAFETY: our socket, not registered anywhere.
            unsafe { libc::close(c.fd) };
            crate::features::replication::replica::on_connect_failed(
                &mut self.server,
                io::Error::from_raw_os_error(-res),
            );
            return;
        }
        super::conn_ops::tune_client_socket(c.fd, self.server.settings.tcp_keepalive);
        let id = self.server.next_client_id;
        self.server.next_client_id += 1;
        let key = self
            .server
            .clients
            .insert(Conn::new(c.fd, c.generation, id, self.now_ms));
        self.arm_recv(key);
        crate::features::replication::replica::on_connected(&mut self.server, key);
    }
}
