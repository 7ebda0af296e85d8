//! Listening sockets: creating them for `bind` × `port` and replacing them on CONFIG SET.
//! Plain socket calls, no ring, below every layer: CONFIG SET replaces `Server::listeners`
//! and raises `listeners_changed` (its effect on the loop), and the loop re-arms its accepts
//! when it sees that flag; no handler calls into the loop.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

/// A listening socket.
pub struct Listener {
    pub fd: OwnedFd,
    pub addr: String,
}

/// Creates the listening sockets for `bind` × `port`. A `-` prefix makes an address
/// optional (skipped if it cannot be bound, e.g. no IPv6).
pub fn listen_all(bind: &[String], port: u16, backlog: i32) -> Result<Vec<Listener>, String> {
    let mut out = Vec::new();
    if port == 0 {
        // Redis: port 0 means no TCP listener.
        return Ok(out);
    }
    for spec in bind {
        let (optional, host) = match spec.strip_prefix('-') {
            Some(h) => (true, h),
            None => (false, spec.as_str()),
        };
        let ip: std::net::IpAddr = match host {
            "*" => std::net::Ipv4Addr::UNSPECIFIED.into(),
            "::*" => std::net::Ipv6Addr::UNSPECIFIED.into(),
            h => match h.parse() {
                Ok(ip) => ip,
                Err(_) => {
                    return Err(format!(
                        "Could not create server TCP listening socket {host}:{port}: invalid address"
                    ));
                }
            },
        };
        match listen_one(std::net::SocketAddr::new(ip, port), backlog) {
            Ok(fd) => out.push(Listener {
                fd,
                addr: format!("{host}:{port}"),
            }),
            Err(e) if optional => {
                log::debug!("Skipping optional bind {host}:{port}: {e}");
            }
            Err(e) => {
                return Err(format!(
                    "Could not create server TCP listening socket {host}:{port}: {e}"
                ));
            }
        }
    }
    if out.is_empty() {
        return Err(format!("Failed listening on port {port} (tcp), aborting."));
    }
    Ok(out)
}

/// Replaces `listeners` for a new `bind`/`port` (CONFIG SET). As Redis, the old sockets
/// stop listening before the new ones bind (the addresses may overlap); they are only
/// shut down, not closed, so that if binding fails they listen again and nothing changed.
/// Their multishot accepts end on the shutdown; the loop re-arms them (same epoch) on
/// failure, or arms the new listeners (new epoch) on success.
pub fn rebind(
    listeners: &mut Vec<Listener>,
    bind: &[String],
    port: u16,
    backlog: i32,
) -> Result<(), String> {
    for l in listeners.iter() {
        // SAFETY: shutdown on a socket we own.
        unsafe { libc::shutdown(l.fd.as_raw_fd(), libc::SHUT_RD) };
    }
    match listen_all(bind, port, backlog) {
        Ok(new) => {
            *listeners = new;
            Ok(())
        }
        Err(msg) => {
            log::warn!("{msg}");
            for l in listeners.iter() {
                // SAFETY: listen on a bound socket we own.
                unsafe { libc::listen(l.fd.as_raw_fd(), backlog) };
            }
            Err(msg)
        }
    }
}

fn listen_one(addr: std::net::SocketAddr, backlog: i32) -> io::Result<OwnedFd> {
    let family = if addr.is_ipv4() {
        libc::AF_INET
    } else {
        libc::AF_INET6
    };
    // SAFETY: plain socket syscalls; the fd is owned by the OwnedFd from creation on.
    unsafe {
        let fd = libc::socket(family, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0);
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        let owned = OwnedFd::from_raw_fd(fd);
        let one: i32 = 1;
        let p = &one as *const i32 as *const libc::c_void;
        let l = std::mem::size_of::<i32>() as libc::socklen_t;
        libc::setsockopt(fd, libc::SOL_SOCKET, libc::SO_REUSEADDR, p, l);
        if family == libc::AF_INET6 {
            libc::setsockopt(fd, libc::IPPROTO_IPV6, libc::IPV6_V6ONLY, p, l);
        }
        let (sa, len) = to_sockaddr(addr);
        if libc::bind(fd, &sa as *const _ as *const libc::sockaddr, len) != 0 {
            return Err(io::Error::last_os_error());
        }
        if libc::listen(fd, backlog) != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(owned)
    }
}

fn to_sockaddr(addr: std::net::SocketAddr) -> (libc::sockaddr_storage, libc::socklen_t) {
    // SAFETY: zeroed sockaddr_storage is valid; we fill the variant matching the family.
    unsafe {
        let mut ss: libc::sockaddr_storage = std::mem::zeroed();
        match addr {
            std::net::SocketAddr::V4(a) => {
                let sin = &mut *(&mut ss as *mut _ as *mut libc::sockaddr_in);
                sin.sin_family = libc::AF_INET as libc::sa_family_t;
                sin.sin_port = a.port().to_be();
                sin.sin_addr.s_addr = u32::from(*a.ip()).to_be();
                (
                    ss,
                    std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t,
                )
            }
            std::net::SocketAddr::V6(a) => {
                let sin6 = &mut *(&mut ss as *mut _ as *mut libc::sockaddr_in6);
                sin6.sin6_family = libc::AF_INET6 as libc::sa_family_t;
                sin6.sin6_port = a.port().to_be();
                sin6.sin6_addr.s6_addr = a.ip().octets();
                (
                    ss,
                    std::mem::size_of::<libc::sockaddr_in6>() as libc::socklen_t,
                )
            }
        }
    }
}
