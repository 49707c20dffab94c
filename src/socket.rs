//! The socket object behind a handle, and the lifecycle calls of contract §4:
//! open, bind, listen, accept, connect, and the final close.

use crate::addr::{self, oxs_addr};
use crate::consts::*;
use crate::error::{errno, Error, Result};
use crate::fdset;
use crate::handle::SocketRef;
use crate::poller::Poller;
use crate::resolve;
use crate::status::*;
use crate::sync::SpinLock;
use crate::wait;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::Weak;
use std::time::{Duration, Instant};

const NONBLOCKING: u32 = 1; // the caller's OXS_OPT_NONBLOCKING
const INTERRUPTIBLE: u32 = 2; // OXS_OPT_INTERRUPTIBLE
const FD_NONBLOCK: u32 = 4; // the descriptor's O_NONBLOCK, as we last set it
const CONNECTING: u32 = 8; // a non-blocking connect was started

/// A Unix socket file that this socket created and removes on close (contract §8).
pub(crate) struct UnixFile {
    pub path: std::path::PathBuf,
    pub dev: u64,
    pub ino: u64,
    pub pid: i32,
}

#[derive(Default)]
pub(crate) struct Extras {
    pub unix_file: Option<Box<UnixFile>>,
    pub pollers: Vec<Weak<Poller>>,
    /// Calls in flight that need the descriptor O_NONBLOCK for themselves (a connect
    /// with a deadline). With `FD_NONBLOCK`, this lock makes the socket the one owner of
    /// O_NONBLOCK: a concurrent `OXS_OPT_NONBLOCKING` change is never undone.
    nonblock_holds: u32,
    /// An eventfd that `oxs_close` writes to, made on first use by a call that waits
    /// for something no descriptor of ours reports (see `wait::nap`).
    wake: Option<OwnedFd>,
}

/// An open socket: its descriptor and the library-side options.
pub struct Socket {
    fd: RawFd,
    pub domain: i32,
    pub kind: i32,
    read_timeout_ms: AtomicU64,
    write_timeout_ms: AtomicU64,
    connect_timeout_ms: AtomicU64,
    flags: AtomicU32,
    pub(crate) extras: SpinLock<Extras>,
}

pub(crate) fn af_of(domain: i32) -> i32 {
    match domain {
        OXS_DOMAIN_UNIX => libc::AF_UNIX,
        OXS_DOMAIN_INET => libc::AF_INET,
        _ => libc::AF_INET6,
    }
}

pub(crate) fn sock_type_of(kind: i32) -> i32 {
    match kind {
        OXS_TYPE_STREAM => libc::SOCK_STREAM,
        OXS_TYPE_DGRAM => libc::SOCK_DGRAM,
        OXS_TYPE_RAW => libc::SOCK_RAW,
        _ => libc::SOCK_SEQPACKET,
    }
}

pub(crate) fn check_domain(domain: i32) -> Result<()> {
    match domain {
        OXS_DOMAIN_UNIX | OXS_DOMAIN_INET | OXS_DOMAIN_INET6 => Ok(()),
        _ => Err(Error::invalid(format!("unknown domain {domain}"))),
    }
}

pub(crate) fn check_type(kind: i32) -> Result<()> {
    match kind {
        OXS_TYPE_STREAM | OXS_TYPE_DGRAM | OXS_TYPE_RAW | OXS_TYPE_SEQPACKET => Ok(()),
        _ => Err(Error::invalid(format!("unknown socket type {kind}"))),
    }
}

impl Socket {
    /// `socket(2)` with FD_CLOEXEC (contract §4).
    pub fn open(domain: i32, kind: i32, protocol: i32) -> Result<Socket> {
        Socket::open_with(domain, kind, protocol, 0)
    }

    /// A socket whose descriptor starts O_NONBLOCK (for a connect with a deadline); the
    /// caller clears it with `clear_fresh_nonblock` once connected.
    pub(crate) fn open_nonblocking(domain: i32, kind: i32) -> Result<Socket> {
        Socket::open_with(domain, kind, 0, libc::SOCK_NONBLOCK)
    }

    fn open_with(domain: i32, kind: i32, protocol: i32, sock_flags: i32) -> Result<Socket> {
        check_domain(domain)?;
        check_type(kind)?;
        if protocol < 0 {
            return Err(Error::invalid(format!("negative protocol {protocol}")));
        }
        match (domain, kind) {
            (OXS_DOMAIN_UNIX, OXS_TYPE_RAW) => {
                return Err(Error::unsupported("Unix sockets have no RAW type"))
            }
            (OXS_DOMAIN_INET | OXS_DOMAIN_INET6, OXS_TYPE_SEQPACKET) => {
                return Err(Error::unsupported("IP sockets have no SEQPACKET type"))
            }
            (OXS_DOMAIN_UNIX, _) if protocol != 0 => {
                return Err(Error::unsupported(format!("protocol {protocol} on a Unix socket")))
            }
            _ => {}
        }
        // SAFETY: plain socket(2) call with checked arguments.
        let fd = unsafe {
            libc::socket(af_of(domain), sock_type_of(kind) | libc::SOCK_CLOEXEC | sock_flags, protocol)
        };
        if fd < 0 {
            return Err(match errno() {
                // socket(2) says EINVAL for an unknown protocol.
                libc::EINVAL => Error::unsupported(format!("protocol {protocol} for this domain and type")),
                e => Error::os(e),
            });
        }
        Ok(Socket::adopt(fd, domain, kind, 0))
    }

    /// Wraps a descriptor the kernel has just given us (socket, socketpair, accept).
    pub(crate) fn adopt(fd: RawFd, domain: i32, kind: i32, flags: u32) -> Socket {
        // A fresh number has no owner, unless a caller closed a borrowed `oxs_fd`
        // behind its handle's back: that handle keeps the claim.
        fdset::claim(fd);
        Socket::wrap_claimed(fd, domain, kind, flags)
    }

    /// Wraps a caller's descriptor (`oxs_from_fd`) in one atomic claim: of two threads
    /// adopting one descriptor, exactly one gets it; the other gets
    /// `OXS_ERR_INVALID_ARGUMENT` and the descriptor stays untouched.
    pub(crate) fn adopt_foreign(fd: RawFd, domain: i32, kind: i32, nonblocking: bool) -> Result<Socket> {
        if !fdset::claim(fd) {
            return Err(Error::invalid(format!("descriptor {fd} is already owned by a live handle")));
        }
        let flags = if nonblocking { NONBLOCKING | FD_NONBLOCK } else { 0 };
        Ok(Socket::wrap_claimed(fd, domain, kind, flags))
    }

    fn wrap_claimed(fd: RawFd, domain: i32, kind: i32, flags: u32) -> Socket {
        Socket {
            fd,
            domain,
            kind,
            read_timeout_ms: AtomicU64::new(0),
            write_timeout_ms: AtomicU64::new(0),
            connect_timeout_ms: AtomicU64::new(0),
            flags: AtomicU32::new(flags),
            extras: SpinLock::new(Extras::default()),
        }
    }

    /// Two connected Unix sockets (`socketpair(2)`).
    pub fn pair(kind: i32) -> Result<(Socket, Socket)> {
        check_type(kind)?;
        if kind == OXS_TYPE_RAW {
            return Err(Error::unsupported("Unix sockets have no RAW type"));
        }
        let mut fds = [-1; 2];
        // SAFETY: fds has room for the two descriptors socketpair writes.
        let rc = unsafe {
            libc::socketpair(libc::AF_UNIX, sock_type_of(kind) | libc::SOCK_CLOEXEC, 0, fds.as_mut_ptr())
        };
        if rc != 0 {
            return Err(Error::last_os());
        }
        Ok((Socket::adopt(fds[0], OXS_DOMAIN_UNIX, kind, 0), Socket::adopt(fds[1], OXS_DOMAIN_UNIX, kind, 0)))
    }

    pub fn fd(&self) -> RawFd {
        self.fd
    }

    /// The descriptor as socket2 borrows it, for the system calls.
    pub(crate) fn sys(&self) -> socket2::SockRef<'_> {
        socket2::SockRef::from(self)
    }

    fn flag(&self, bit: u32) -> bool {
        self.flags.load(Ordering::Relaxed) & bit != 0
    }

    fn set_flag(&self, bit: u32, on: bool) {
        if on {
            self.flags.fetch_or(bit, Ordering::Relaxed);
        } else {
            self.flags.fetch_and(!bit, Ordering::Relaxed);
        }
    }

    pub fn nonblocking(&self) -> bool {
        self.flag(NONBLOCKING)
    }

    /// True when the descriptor is O_NONBLOCK (the caller's mode or a timeout).
    pub fn fd_nonblocking(&self) -> bool {
        self.flag(FD_NONBLOCK)
    }

    pub fn interruptible(&self) -> bool {
        self.flag(INTERRUPTIBLE)
    }

    pub fn set_interruptible(&self, on: bool) {
        self.set_flag(INTERRUPTIBLE, on);
    }

    pub fn read_timeout_ms(&self) -> u64 {
        self.read_timeout_ms.load(Ordering::Relaxed)
    }

    pub fn write_timeout_ms(&self) -> u64 {
        self.write_timeout_ms.load(Ordering::Relaxed)
    }

    pub fn connect_timeout_ms(&self) -> u64 {
        self.connect_timeout_ms.load(Ordering::Relaxed)
    }

    /// Sets the caller's non-blocking mode.
    pub fn set_nonblocking(&self, on: bool) -> Result<()> {
        self.set_flag(NONBLOCKING, on);
        self.sync_fd_nonblock()
    }

    pub fn set_timeouts(&self, read: Option<u64>, write: Option<u64>, connect: Option<u64>) -> Result<()> {
        if let Some(ms) = read {
            self.read_timeout_ms.store(ms, Ordering::Relaxed);
        }
        if let Some(ms) = write {
            self.write_timeout_ms.store(ms, Ordering::Relaxed);
        }
        if let Some(ms) = connect {
            self.connect_timeout_ms.store(ms, Ordering::Relaxed);
        }
        self.sync_fd_nonblock()
    }

    /// The descriptor is O_NONBLOCK when the caller asked for it, when a read or write
    /// timeout is set (the timed path waits in poll(2)), or while a call holds it so.
    /// Otherwise it blocks in the kernel: the plain path stays one system call
    /// (NOTES.md, Speed). Every change of O_NONBLOCK goes through here, under the lock.
    fn sync_fd_nonblock(&self) -> Result<()> {
        let extras = self.extras.lock();
        self.apply_fd_nonblock(&extras)
    }

    fn apply_fd_nonblock(&self, extras: &Extras) -> Result<()> {
        let want = self.nonblocking()
            || self.read_timeout_ms() > 0
            || self.write_timeout_ms() > 0
            || extras.nonblock_holds > 0;
        if want != self.flag(FD_NONBLOCK) {
            self.sys().set_nonblocking(want).map_err(Error::io)?;
            self.set_flag(FD_NONBLOCK, want);
        }
        Ok(())
    }

    /// Runs `f` with the descriptor O_NONBLOCK, then gives O_NONBLOCK back to whatever
    /// the options ask for at that moment (not to what it was before: another thread
    /// may have changed `OXS_OPT_NONBLOCKING` meanwhile).
    pub(crate) fn with_fd_nonblocking<T>(&self, f: impl FnOnce() -> Result<T>) -> Result<T> {
        {
            let mut extras = self.extras.lock();
            extras.nonblock_holds += 1;
            if let Err(e) = self.apply_fd_nonblock(&extras) {
                extras.nonblock_holds -= 1;
                return Err(e);
            }
        }
        let result = f();
        let mut extras = self.extras.lock();
        extras.nonblock_holds -= 1;
        let _ = self.apply_fd_nonblock(&extras);
        result
    }

    /// This socket's wake descriptor, made on first use (see `wait::nap`).
    pub(crate) fn wake_fd(&self) -> Result<RawFd> {
        let mut extras = self.extras.lock();
        if let Some(w) = &extras.wake {
            return Ok(w.as_raw_fd());
        }
        // SAFETY: plain eventfd(2) call; the result is checked before it is owned.
        let fd = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK) };
        if fd < 0 {
            return Err(Error::last_os());
        }
        // SAFETY: fd is a new descriptor that nothing else owns.
        let owned = unsafe { OwnedFd::from_raw_fd(fd) };
        extras.wake = Some(owned);
        Ok(fd)
    }

    /// Prepares the close of a handle with calls in flight (contract §3): the socket
    /// leaves its pollers first (so the shutdown below is never reported as an event),
    /// then every blocked call is woken — by the shutdown (the peer sees the end of the
    /// stream), or, for a call napping on something the shutdown does not reach, by the
    /// wake descriptor.
    pub(crate) fn shutdown_for_close(&self) {
        self.leave_pollers();
        let _ = self.sys().shutdown(std::net::Shutdown::Both); // ENOTCONN is harmless
        if let Some(w) = &self.extras.lock().wake {
            crate::wait::signal_eventfd(w.as_raw_fd());
        }
    }

    pub(crate) fn reset_after_fork(&self) {
        self.extras.reset_after_fork();
    }

    /// Hands the descriptor to the caller (`oxs_into_fd`): it leaves every poller, a
    /// Unix listener's file stays, and O_NONBLOCK matches `OXS_OPT_NONBLOCKING`.
    pub fn into_fd(mut self) -> RawFd {
        let fd = self.fd;
        self.leave_pollers();
        self.extras.lock().unix_file = None;
        if self.flag(FD_NONBLOCK) != self.nonblocking() {
            let _ = set_o_nonblock(fd, self.nonblocking());
        }
        fdset::release(fd);
        self.fd = -1;
        fd
    }

    pub(crate) fn leave_pollers(&self) {
        let pollers = std::mem::take(&mut self.extras.lock().pollers);
        self.forget_pollers(pollers);
    }

    fn forget_pollers(&self, pollers: Vec<Weak<Poller>>) {
        for p in pollers.iter().filter_map(Weak::upgrade) {
            p.forget(self.fd);
        }
    }

    /// Removes the Unix socket file this socket created, if it is still ours (§8).
    fn remove_unix_file(file: Option<Box<UnixFile>>) {
        let Some(file) = file else { return };
        // SAFETY: getpid has no preconditions.
        if file.pid != unsafe { libc::getpid() } {
            return; // a forked child never unlinks its parent's file
        }
        use std::os::unix::fs::MetadataExt;
        if let Ok(meta) = std::fs::symlink_metadata(&file.path) {
            if meta.dev() == file.dev && meta.ino() == file.ino {
                let _ = std::fs::remove_file(&file.path);
            }
        }
    }
}

impl AsFd for Socket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        // SAFETY: `fd` is open for as long as `self` lives: it is closed only in Drop,
        // and `into_fd`, which gives it away, consumes self.
        unsafe { BorrowedFd::borrow_raw(self.fd) }
    }
}

impl Drop for Socket {
    fn drop(&mut self) {
        if self.fd < 0 {
            return;
        }
        let (pollers, file) = {
            let mut extras = self.extras.lock();
            (std::mem::take(&mut extras.pollers), extras.unix_file.take())
        };
        self.forget_pollers(pollers);
        Socket::remove_unix_file(file);
        fdset::release(self.fd);
        // SAFETY: we own fd and no call is in flight on it (handle.rs invariant).
        // close(2) is never retried (contract §1).
        unsafe { libc::close(self.fd) };
    }
}

/// Makes a descriptor from `open_nonblocking` blocking with one system call: its only
/// status flag is O_NONBLOCK, so F_SETFL with none clears it.
pub(crate) fn clear_fresh_nonblock(fd: RawFd) -> Result<()> {
    // SAFETY: fcntl on a descriptor we own.
    if unsafe { libc::fcntl(fd, libc::F_SETFL, 0) } != 0 {
        return Err(Error::last_os());
    }
    Ok(())
}

pub(crate) fn set_o_nonblock(fd: RawFd, on: bool) -> Result<()> {
    // SAFETY: fcntl on a descriptor we own.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
    if flags < 0 {
        return Err(Error::last_os());
    }
    let new = if on { flags | libc::O_NONBLOCK } else { flags & !libc::O_NONBLOCK };
    // SAFETY: as above.
    if new != flags && unsafe { libc::fcntl(fd, libc::F_SETFL, new) } < 0 {
        return Err(Error::last_os());
    }
    Ok(())
}

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
            let v6only = crate::options::v6only(sock).unwrap_or(false);
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

pub fn bind(sock: &SocketRef, a: &oxs_addr) -> Result<()> {
    check_fits(sock, a)?;
    // SAFETY: a holds a validated sockaddr of a.len bytes.
    if unsafe { libc::bind(sock.fd, a.as_sockaddr(), a.len) } != 0 {
        return Err(Error::last_os());
    }
    Ok(())
}

pub fn listen(sock: &SocketRef, backlog: i32) -> Result<()> {
    // The kernel caps the backlog at its maximum (somaxconn): ask for that when <= 0.
    let backlog = if backlog <= 0 { i32::MAX } else { backlog };
    // SAFETY: listen on our live descriptor.
    if unsafe { libc::listen(sock.fd, backlog) } != 0 {
        return Err(Error::last_os());
    }
    Ok(())
}

/// `accept(2)`: the new socket starts with the listener's library options, except
/// NONBLOCKING (the kernel copies the socket-level ones itself).
pub fn accept(sock: &SocketRef) -> Result<(Socket, oxs_addr)> {
    let mut peer = oxs_addr::default();
    let mut len: libc::socklen_t = 128;
    let fd = wait::retry_io(sock, wait::Dir::Read, false, &mut None, || {
        // SAFETY: peer.storage has 128 bytes, len says so.
        unsafe { libc::accept4(sock.fd, peer.as_sockaddr_mut(), &mut len, libc::SOCK_CLOEXEC) as isize }
    })? as RawFd;
    peer.len = len.min(128);
    if peer.len < 2 {
        peer = oxs_addr::from_bytes(&(libc::AF_UNIX as libc::sa_family_t).to_ne_bytes())?;
    }
    let new = Socket::adopt(fd, sock.domain, sock.kind, sock.flags.load(Ordering::Relaxed) & INTERRUPTIBLE);
    new.set_timeouts(
        Some(sock.read_timeout_ms()),
        Some(sock.write_timeout_ms()),
        Some(sock.connect_timeout_ms()),
    )?;
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
pub fn connect(sock: &SocketRef, a: &oxs_addr) -> Result<()> {
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
fn connect_once(sock: &SocketRef, addr: &socket2::SockAddr) -> Result<()> {
    let Err(e) = sock.sys().connect(addr) else { return Ok(()) };
    match e.raw_os_error().unwrap_or(libc::EIO) {
        // A non-blocking connect that has finished: repeating it answers OK from then on.
        libc::EISCONN if sock.flag(CONNECTING) => Ok(()),
        e @ (libc::EINPROGRESS | libc::EALREADY) => {
            sock.set_flag(CONNECTING, true);
            Err(Error::os_as(OXS_ERR_WOULD_BLOCK, e))
        }
        // No room in the listener's backlog: nothing goes on, the caller repeats it.
        e if backlog_full(sock.domain, sock.kind, e) => Err(Error::os_as(OXS_ERR_WOULD_BLOCK, e)),
        e => Err(connect_error(sock, e)),
    }
}

/// A blocking connect on a descriptor held O_NONBLOCK: waits in poll(2) for a connect
/// in progress, and naps (woken by `oxs_close`) while a Unix listener's backlog is full.
fn connect_waiting(sock: &SocketRef, addr: &socket2::SockAddr, deadline: Option<Instant>) -> Result<()> {
    let mut nap = wait::Nap::new();
    loop {
        let Err(e) = sock.sys().connect(addr) else { return Ok(()) };
        match e.raw_os_error().unwrap_or(libc::EIO) {
            libc::EISCONN if sock.flag(CONNECTING) => return Ok(()),
            libc::EINPROGRESS | libc::EALREADY => {
                wait::wait_fd(sock, libc::POLLOUT, deadline)?;
                return match pending_error(sock.fd)? {
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
fn connect_blocking(sock: &SocketRef, addr: &socket2::SockAddr) -> Result<()> {
    let Err(e) = sock.sys().connect(addr) else { return Ok(()) };
    match e.raw_os_error().unwrap_or(libc::EIO) {
        libc::EINTR if sock.interruptible() => Err(Error::os(libc::EINTR)),
        libc::EINTR | libc::EINPROGRESS | libc::EALREADY => {
            wait::wait_fd(sock, libc::POLLOUT, None)?;
            match pending_error(sock.fd)? {
                0 => Ok(()),
                e => Err(connect_error(sock, e)),
            }
        }
        e => Err(connect_error(sock, e)),
    }
}

/// Reads and clears SO_ERROR.
pub(crate) fn pending_error(fd: RawFd) -> Result<i32> {
    let mut value: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: value and len describe an int-sized buffer.
    let rc = unsafe {
        libc::getsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_ERROR,
            &mut value as *mut _ as *mut libc::c_void,
            &mut len,
        )
    };
    if rc != 0 {
        return Err(Error::last_os());
    }
    Ok(value)
}

/// `getsockname` / `getpeername`.
pub fn name(sock: &Socket, peer: bool) -> Result<oxs_addr> {
    let mut a = oxs_addr::default();
    let mut len: libc::socklen_t = 128;
    // SAFETY: a.storage has 128 bytes, len says so.
    let rc = unsafe {
        if peer {
            libc::getpeername(sock.fd, a.as_sockaddr_mut(), &mut len)
        } else {
            libc::getsockname(sock.fd, a.as_sockaddr_mut(), &mut len)
        }
    };
    if rc != 0 {
        return Err(Error::last_os());
    }
    a.len = len.min(128);
    if a.len < 2 {
        a = oxs_addr::from_bytes(&(af_of(sock.domain) as libc::sa_family_t).to_ne_bytes())?;
    }
    Ok(a)
}
