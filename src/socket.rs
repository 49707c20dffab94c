//! The socket object behind a handle, and the lifecycle calls of contract §4:
//! open, bind, listen, accept, connect, and the final close.

use crate::addr::oxs_addr;
use crate::consts::*;
use crate::error::{Error, Result};
use crate::fdset;
use crate::status::*;
use crate::sync::SpinLock;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, IntoRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::Weak;

const NONBLOCKING: u32 = 1; // the caller's OXS_OPT_NONBLOCKING
const INTERRUPTIBLE: u32 = 2; // OXS_OPT_INTERRUPTIBLE
const FD_NONBLOCK: u32 = 4; // the descriptor's O_NONBLOCK, as we last set it
const CONNECTING: u32 = 8; // a non-blocking connect was started
const CLOSING: u32 = 16; // the handle was closed: calls woken now answer OXS_ERR_CLOSED

/// What a socket can be registered in (a poller): it must forget the socket's
/// descriptor when the socket leaves it (closed, or handed out by `oxs_into_fd`). A
/// trait, so that the socket need not know the poller.
pub(crate) trait Watcher: Send + Sync {
    /// Drops the registration of `fd`; false when there was none.
    fn forget(&self, fd: RawFd) -> bool;
    /// A TLS read left plaintext decrypted in the socket's session (contract §12): report
    /// the socket readable while `flag` says it is still there.
    fn tls_ready(&self, _fd: RawFd, _flag: std::sync::Arc<std::sync::atomic::AtomicBool>) {}
    /// A TLS session needs another direction than the one asked for, or no longer does
    /// (contract §12, Waiting): watch what `wants` says too (`tls::session::poll_extra`).
    fn tls_wants(&self, _fd: RawFd, _wants: std::sync::Arc<std::sync::atomic::AtomicI32>) {}
}

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
    pub pollers: Vec<Weak<dyn Watcher>>,
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
    /// TLS (contract §12): the session or a listener's config, and the handshake timeout.
    pub(crate) tls: crate::tls_slot::SocketTls,
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
    /// caller clears it with `sys::clear_fresh_nonblock` once connected.
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
        let ty = socket2::Type::from(sock_type_of(kind) | libc::SOCK_CLOEXEC | sock_flags);
        let protocol_arg = (protocol != 0).then(|| socket2::Protocol::from(protocol));
        let fd = match socket2::Socket::new_raw(socket2::Domain::from(af_of(domain)), ty, protocol_arg) {
            Ok(s) => s.into_raw_fd(),
            // socket(2) says EINVAL for an unknown protocol.
            Err(e) if e.raw_os_error() == Some(libc::EINVAL) => {
                return Err(Error::unsupported(format!("protocol {protocol} for this domain and type")))
            }
            Err(e) => return Err(Error::io(e)),
        };
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
            tls: Default::default(),
        }
    }

    /// Two connected Unix sockets (`socketpair(2)`).
    pub fn pair(kind: i32) -> Result<(Socket, Socket)> {
        check_type(kind)?;
        if kind == OXS_TYPE_RAW {
            return Err(Error::unsupported("Unix sockets have no RAW type"));
        }
        let ty = socket2::Type::from(sock_type_of(kind) | libc::SOCK_CLOEXEC);
        let (a, b) = socket2::Socket::pair_raw(socket2::Domain::UNIX, ty, None).map_err(Error::io)?;
        let fds = [a.into_raw_fd(), b.into_raw_fd()];
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

    /// True once the handle has been closed (`oxs_close` from another thread): a call
    /// that was woken then answers `OXS_ERR_CLOSED`.
    #[inline]
    pub fn closing(&self) -> bool {
        self.flags.load(Ordering::Acquire) & CLOSING != 0
    }

    /// Marks the socket closed; done by the handle table before it wakes the calls.
    pub(crate) fn mark_closing(&self) {
        self.flags.fetch_or(CLOSING, Ordering::AcqRel);
    }

    /// The error a failed blocking call reports: CLOSED when the handle was closed meanwhile.
    pub fn or_closed(&self, e: Error) -> Error {
        if self.closing() {
            Error::status(OXS_ERR_CLOSED)
        } else {
            e
        }
    }

    /// True once a non-blocking connect has been started (a repeat then answers OK
    /// when it has finished).
    pub fn connecting(&self) -> bool {
        self.flag(CONNECTING)
    }

    pub fn set_connecting(&self) {
        self.set_flag(CONNECTING, true);
    }

    /// Reads and clears the pending error (SO_ERROR): its errno, 0 when none.
    pub fn take_error(&self) -> Result<i32> {
        match self.sys().take_error() {
            Ok(pending) => Ok(pending.and_then(|e| e.raw_os_error()).unwrap_or(0)),
            Err(e) => Err(Error::io(e)),
        }
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
    /// timeout is set (the timed path waits in poll(2)), while a call holds it so, or on
    /// a TLS socket (its waits are in poll(2), outside the session's lock).
    /// Otherwise it blocks in the kernel: the plain path stays one system call
    /// (NOTES.md, Speed). Every change of O_NONBLOCK goes through here, under the lock.
    pub(crate) fn sync_fd_nonblock(&self) -> Result<()> {
        let extras = self.extras.lock();
        self.apply_fd_nonblock(&extras)
    }

    fn apply_fd_nonblock(&self, extras: &Extras) -> Result<()> {
        let want = self.nonblocking()
            || self.read_timeout_ms() > 0
            || self.write_timeout_ms() > 0
            || extras.nonblock_holds > 0
            || self.tls.is_on();
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
        let owned = crate::sys::eventfd()?;
        let fd = owned.as_raw_fd();
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
            crate::sys::eventfd_signal(w.as_raw_fd());
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
            let _ = self.sys().set_nonblocking(self.nonblocking());
        }
        fdset::release(fd);
        self.fd = -1;
        fd
    }

    pub(crate) fn leave_pollers(&self) {
        let pollers = std::mem::take(&mut self.extras.lock().pollers);
        self.forget_pollers(pollers);
    }

    fn forget_pollers(&self, pollers: Vec<Weak<dyn Watcher>>) {
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
        self.tls.on_close(self.fd);
        fdset::release(self.fd);
        // SAFETY: we own fd and no call is in flight on it (handle.rs invariant).
        // close(2) is never retried (contract §1).
        unsafe { libc::close(self.fd) };
    }
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
