//! The lifecycle calls of contract §4 on an open socket: bind, listen, accept and
//! connect, and the address text they read.

use crate::addr::{self, oxs_addr};
use crate::consts::*;
use crate::error::{Error, Result};
use crate::resolve;
use crate::socket::{af_of, Socket};
use crate::status::*;
use crate::wait;
use std::os::fd::RawFd;
use std::time::{Duration, Instant};

/// Reads address text by the socket's domain (contract §4, address text).
pub fn address_for(sock: &Socket, text: &str) -> Result<oxs_addr> {
    match sock.domain {
        OXS_DOMAIN_UNIX => addr::parse_unix(text),
        OXS_DOMAIN_INET => {
            if text.starts_with('[') {
                return Err(Error::address("an IPv6 address on an IPv4 socket"));
            }
            if let Some(r) = addr::parse_v4(text) {
                return r.map(oxs_addr::from_ip);
            }
            let (host, port) = resolve::split_host_port(text)?;
            Ok(oxs_addr::from_ip(resolve::lookup(host, port, libc::AF_INET, false)?[0]))
        }
        _ => {
            let v6only = sock.sys().only_v6().unwrap_or(false);
            if text.starts_with('[') {
                return addr::parse_bracketed(text).map(oxs_addr::from_ip);
            }
            if let Some(r) = addr::parse_v4(text) {
                if v6only {
                    return Err(Error::address("an IPv4 address on an IPv6 socket with V6ONLY set"));
                }
                return r.map(|sa| oxs_addr::from_ip(addr::v4_mapped(sa)));
            }
            let (host, port) = resolve::split_host_port(text)?;
            Ok(oxs_addr::from_ip(resolve::lookup(host, port, libc::AF_INET6, !v6only)?[0]))
        }
    }
}

fn check_fits(sock: &Socket, a: &oxs_addr) -> Result<()> {
    a.validate()?;
    if a.family() != af_of(sock.domain) {
        return Err(Error::address("the address does not fit the socket's domain"));
    }
    Ok(())
}

pub fn bind(sock: &Socket, a: &oxs_addr) -> Result<()> {
    check_fits(sock, a)?;
    sock.sys().bind(&a.to_sock_addr()).map_err(Error::io)
}

pub fn listen(sock: &Socket, backlog: i32) -> Result<()> {
    // The kernel caps the backlog at its maximum (somaxconn): ask for that when <= 0.
    let backlog = if backlog <= 0 { i32::MAX } else { backlog };
    sock.sys().listen(backlog).map_err(Error::io)
}

/// `accept(2)`: the new socket starts with the listener's library options, except
/// NONBLOCKING (the kernel copies the socket-level ones itself).
pub fn accept(sock: &Socket) -> Result<(Socket, oxs_addr)> {
    let mut peer = oxs_addr::default();
    let mut len: libc::socklen_t = 128;
    let fd = wait::retry_io(sock, wait::Dir::Read, false, &mut None, || {
        // SAFETY: peer.storage has 128 bytes, len says so.
        unsafe { libc::accept4(sock.fd(), peer.as_sockaddr_mut(), &mut len, libc::SOCK_CLOEXEC) as isize }
    })? as RawFd;
    peer.len = len.min(128);
    if peer.len < 2 {
        peer = oxs_addr::from_bytes(&(libc::AF_UNIX as libc::sa_family_t).to_ne_bytes())?;
    }
    let new = Socket::adopt(fd, sock.domain, sock.kind, 0);
    new.set_interruptible(sock.interruptible());
    new.set_timeouts(
        Some(sock.read_timeout_ms()),
        Some(sock.write_timeout_ms()),
        Some(sock.connect_timeout_ms()),
    )?;
    crate::tls::on_accept(sock, &new)?;
    Ok((new, peer))
}

pub(crate) fn connect_error(sock: &Socket, e: i32) -> Error {
    match e {
        libc::ENOENT | libc::EPROTOTYPE if sock.domain == OXS_DOMAIN_UNIX => {
            Error::os_as(OXS_ERR_CONNECTION_REFUSED, e)
        }
        // A non-blocking TCP connect fails with EAGAIN when no local port is left: a
        // failure, not a connect in progress.
        libc::EAGAIN => Error::new(OXS_ERR_ADDRESS_NOT_AVAILABLE, "no local port is free").with_errno(e),
        _ => Error::os(e),
    }
}

/// True for a connect that fails with EAGAIN while the peer has no room (a Unix stream
/// or seqpacket listener whose backlog is full): the attempt does not go on, the
/// kernel's blocking connect would sleep on the *listener's* queue, and no descriptor of
/// ours reports when there is room (NOTES.md, Found by review).
pub(crate) fn backlog_full(domain: i32, kind: i32, e: i32) -> bool {
    e == libc::EAGAIN && domain == OXS_DOMAIN_UNIX && kind != OXS_TYPE_DGRAM
}

/// `connect(2)` bounded by `OXS_OPT_CONNECT_TIMEOUT_MS` alone (contract §4, Connect).
///
/// Three paths: the caller's non-blocking mode (one attempt); a plain blocking TCP or
/// Unix datagram connect (the system call alone, woken by `oxs_close`'s shutdown); and
/// every other connect — one with a deadline, or a Unix stream one whose wait the
/// shutdown cannot reach — on a descriptor held O_NONBLOCK, waiting in poll(2).
pub fn connect(sock: &Socket, a: &oxs_addr) -> Result<()> {
    check_fits(sock, a)?;
    let timeout = sock.connect_timeout_ms();
    let deadline = (timeout > 0).then(|| Instant::now() + Duration::from_millis(timeout));
    let unix_stream = sock.domain == OXS_DOMAIN_UNIX && sock.kind != OXS_TYPE_DGRAM;
    let addr = a.to_sock_addr();
    let result = if sock.nonblocking() {
        connect_once(sock, &addr)
    } else if deadline.is_some() || unix_stream || sock.fd_nonblocking() {
        sock.with_fd_nonblocking(|| connect_waiting(sock, &addr, deadline))
    } else {
        connect_blocking(sock, &addr)
    };
    result.map_err(|e| sock.or_closed(e))
}

/// One attempt on a non-blocking handle.
fn connect_once(sock: &Socket, addr: &socket2::SockAddr) -> Result<()> {
    let Err(e) = sock.sys().connect(addr) else { return Ok(()) };
    match e.raw_os_error().unwrap_or(libc::EIO) {
        // A non-blocking connect that has finished: repeating it answers OK from then on.
        libc::EISCONN if sock.connecting() => Ok(()),
        e @ (libc::EINPROGRESS | libc::EALREADY) => {
            sock.set_connecting();
            Err(Error::os_as(OXS_ERR_WOULD_BLOCK, e))
        }
        // No room in the listener's backlog: nothing goes on, the caller repeats it.
        e if backlog_full(sock.domain, sock.kind, e) => Err(Error::os_as(OXS_ERR_WOULD_BLOCK, e)),
        e => Err(connect_error(sock, e)),
    }
}

/// A blocking connect on a descriptor held O_NONBLOCK: waits in poll(2) for a connect
/// in progress, and naps (woken by `oxs_close`) while a Unix listener's backlog is full.
fn connect_waiting(sock: &Socket, addr: &socket2::SockAddr, deadline: Option<Instant>) -> Result<()> {
    let mut nap = wait::Nap::new();
    loop {
        let Err(e) = sock.sys().connect(addr) else { return Ok(()) };
        match e.raw_os_error().unwrap_or(libc::EIO) {
            libc::EISCONN if sock.connecting() => return Ok(()),
            libc::EINPROGRESS | libc::EALREADY => {
                wait::wait_fd(sock, libc::POLLOUT, deadline)?;
                return match sock.take_error()? {
                    0 => Ok(()),
                    e => Err(connect_error(sock, e)),
                };
            }
            e if backlog_full(sock.domain, sock.kind, e) => nap.sleep(sock, deadline)?,
            libc::EINTR if sock.interruptible() => return Err(Error::os(libc::EINTR)),
            libc::EINTR => {}
            e => return Err(connect_error(sock, e)),
        }
    }
}

/// The plain blocking connect: the system call alone. A signal on a handle that is not
/// interruptible lets the connect go on, and the wait for it is resumed.
fn connect_blocking(sock: &Socket, addr: &socket2::SockAddr) -> Result<()> {
    let Err(e) = sock.sys().connect(addr) else { return Ok(()) };
    match e.raw_os_error().unwrap_or(libc::EIO) {
        libc::EINTR if sock.interruptible() => Err(Error::os(libc::EINTR)),
        libc::EINTR | libc::EINPROGRESS | libc::EALREADY => {
            wait::wait_fd(sock, libc::POLLOUT, None)?;
            match sock.take_error()? {
                0 => Ok(()),
                e => Err(connect_error(sock, e)),
            }
        }
        e => Err(connect_error(sock, e)),
    }
}
