//! The one loop every blocking call goes through: EINTR policy, non-blocking mode, and
//! timeouts as deadlines (contract §1 EINTR and Timeouts).
//!
//! The plain path (no timeout, blocking) is the system call alone. Only a handle with a
//! timeout has an O_NONBLOCK descriptor, and only when the call would block does it
//! wait in poll(2) for the time left.

use crate::error::{errno, Error, Result};
use crate::handle::SocketRef;
use crate::status::*;
use std::time::{Duration, Instant};

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Dir {
    Read,
    Write,
}

/// Runs `call` (a system call returning -1 and errno on failure) until it completes,
/// fails, or the handle's timeout for `dir` passes. `deadline` is shared by the calls of
/// one whole-buffer operation; it is set on the first wait.
#[inline]
pub fn retry_io(
    sock: &SocketRef,
    dir: Dir,
    dontwait: bool,
    deadline: &mut Option<Instant>,
    mut call: impl FnMut() -> isize,
) -> Result<usize> {
    loop {
        let r = call();
        if r >= 0 {
            return Ok(r as usize);
        }
        match errno() {
            libc::EINTR if !sock.interruptible() => continue,
            libc::EAGAIN => {
                if dontwait || sock.nonblocking() {
                    return Err(sock.or_closed(Error::os_as(OXS_ERR_WOULD_BLOCK, libc::EAGAIN)));
                }
                if deadline.is_none() {
                    let ms = match dir {
                        Dir::Read => sock.read_timeout_ms(),
                        Dir::Write => sock.write_timeout_ms(),
                    };
                    if ms > 0 {
                        *deadline = Some(Instant::now() + Duration::from_millis(ms));
                    }
                }
                let events = if dir == Dir::Read { libc::POLLIN } else { libc::POLLOUT };
                wait_fd(sock, events, *deadline)?;
            }
            e => return Err(sock.or_closed(Error::os(e))),
        }
    }
}

/// Waits until the descriptor is ready for `events`, the deadline passes
/// (`OXS_ERR_TIMED_OUT`, os error 0), the handle is closed (`OXS_ERR_CLOSED`), or a
/// signal arrives on an interruptible handle (`OXS_ERR_INTERRUPTED`).
pub fn wait_fd(sock: &SocketRef, events: i16, deadline: Option<Instant>) -> Result<()> {
    loop {
        if sock.guard.closed() {
            return Err(Error::status(OXS_ERR_CLOSED));
        }
        let timeout = match deadline {
            None => -1,
            Some(d) => match remaining_ms(d) {
                0 => return Err(Error::timed_out()),
                ms => ms,
            },
        };
        let mut pfd = libc::pollfd { fd: sock.fd(), events, revents: 0 };
        // SAFETY: one valid pollfd.
        let r = unsafe { libc::poll(&mut pfd, 1, timeout) };
        if r > 0 {
            return Ok(());
        }
        if r < 0 {
            match errno() {
                libc::EINTR if sock.interruptible() => return Err(sock.or_closed(Error::os(libc::EINTR))),
                libc::EINTR => continue,
                e => return Err(Error::os(e)),
            }
        }
    }
}

/// Milliseconds until `deadline`, rounded up so that a wait never ends early; 0 once
/// it has passed. Capped to what poll(2) takes.
pub fn remaining_ms(deadline: Instant) -> i32 {
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        return 0;
    }
    let ms = left.as_micros().div_ceil(1000);
    ms.min(i32::MAX as u128) as i32
}
