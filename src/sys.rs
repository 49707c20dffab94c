//! The few system calls that socket2 does not offer, each wrapped once, with its
//! SAFETY line: eventfd (the wake descriptors), poll(2) on one descriptor, and a
//! one-call O_NONBLOCK clear. Every other socket call goes through socket2
//! (`Socket::sys()`) or, on the data path, through the retry loop in `wait.rs`/`io.rs`.

use crate::error::{errno, Error, Result};
use std::os::fd::{FromRawFd, OwnedFd, RawFd};

/// A new non-blocking, close-on-exec eventfd.
pub fn eventfd() -> Result<OwnedFd> {
    // SAFETY: plain eventfd(2) call; the result is checked before it is owned.
    let fd = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK) };
    if fd < 0 {
        return Err(Error::last_os());
    }
    // SAFETY: fd is a new descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Makes an eventfd readable (async-signal-safe: one write(2)). A full counter is
/// readable already, so EAGAIN is fine.
pub fn eventfd_signal(fd: RawFd) {
    let one: u64 = 1;
    // SAFETY: writing 8 bytes from a local u64 to an eventfd.
    unsafe { libc::write(fd, &one as *const u64 as *const libc::c_void, 8) };
}

/// Empties a non-blocking eventfd.
pub fn eventfd_drain(fd: RawFd) {
    let mut value: u64 = 0;
    // SAFETY: reading 8 bytes into a local u64 from a non-blocking eventfd.
    unsafe { libc::read(fd, &mut value as *mut u64 as *mut libc::c_void, 8) };
}

/// poll(2) on one descriptor (`fd` < 0: a sleep that a signal interrupts). Returns
/// whether it became ready, or the errno (EINTR included).
pub fn poll_one(fd: RawFd, events: i16, timeout_ms: i32) -> std::result::Result<bool, i32> {
    let mut pfd = libc::pollfd { fd, events, revents: 0 };
    // SAFETY: one valid pollfd (poll ignores a negative fd).
    match unsafe { libc::poll(&mut pfd, 1, timeout_ms) } {
        r if r < 0 => Err(errno()),
        r => Ok(r > 0),
    }
}

/// Makes a descriptor from `Socket::open_nonblocking` blocking with one system call:
/// its only status flag is O_NONBLOCK, so F_SETFL with none clears it.
pub fn clear_fresh_nonblock(fd: RawFd) -> Result<()> {
    // SAFETY: fcntl on a descriptor the caller owns.
    if unsafe { libc::fcntl(fd, libc::F_SETFL, 0) } != 0 {
        return Err(Error::last_os());
    }
    Ok(())
}

/// `fchmod(2)` on a descriptor the caller owns (a Unix socket before its bind).
pub fn fchmod(fd: RawFd, mode: u32) -> Result<()> {
    // SAFETY: fchmod on a descriptor the caller owns; no memory is passed.
    if unsafe { libc::fchmod(fd, mode) } != 0 {
        return Err(Error::last_os());
    }
    Ok(())
}
