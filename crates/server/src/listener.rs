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
    /// The `unixsocket` listener (its clients are local: no protected-mode check, no TCP
    /// options, `path:0` as their address, flag `U`).
    pub unix: bool,
}

/// The `unixsocket` listener (Redis's `anetUnixServer`): a stale socket file is removed
/// first, the socket is bound and listens, then takes `unixsocketperm` when not 0.
pub fn listen_unix(path: &[u8], perm: u32, backlog: i32) -> Result<Listener, String> {
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::io::IntoRawFd;
    let p = std::path::Path::new(std::ffi::OsStr::from_bytes(path));
    let _ = std::fs::remove_file(p);
    let l = std::os::unix::net::UnixListener::bind(p).map_err(|e| e.to_string())?;
    // SAFETY: listen on the socket just bound, with the configured backlog.
    unsafe { libc::listen(std::os::unix::io::AsRawFd::as_raw_fd(&l), backlog) };
    if perm != 0 {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(perm))
            .map_err(|e| e.to_string())?;
    }
    // SAFETY: the descriptor leaves the UnixListener and is owned from here on.
    let fd = unsafe { OwnedFd::from_raw_fd(l.into_raw_fd()) };
    Ok(Listener {
        fd,
        addr: String::from_utf8_lossy(path).into_owned(),
        unix: true,
    })
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
                unix: false,
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
    // The Unix socket is not bind/port's: it keeps listening (a shut-down Unix listener
    // cannot listen again) and stays first in the list, its accept still armed.
    for l in listeners.iter().filter(|l| !l.unix) {
        // SAFETY: shutdown on a socket we own.
        unsafe { libc::shutdown(l.fd.as_raw_fd(), libc::SHUT_RD) };
    }
    match listen_all(bind, port, backlog) {
        Ok(new) => {
            let mut kept: Vec<Listener> = listeners.drain(..).filter(|l| l.unix).collect();
            kept.extend(new);
            *listeners = kept;
            Ok(())
        }
        Err(msg) => {
            log::warn!("{msg}");
            for l in listeners.iter().filter(|l| !l.unix) {
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
