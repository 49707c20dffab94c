//! The one loop every blocking call goes through: EINTR policy, non-blocking mode, and
//! timeouts as deadlines (contract §1 EINTR and Timeouts).
//!
//! The plain path (no timeout, blocking) is the system call alone. Only a handle with a
//! timeout has an O_NONBLOCK descriptor, and only when the call would block does it
//! wait in poll(2) for the time left.

use crate::consts::*;
use crate::error::{errno, Error, Result};
use crate::socket::Socket;
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
    sock: &Socket,
    dir: Dir,
    dontwait: bool,
    deadline: &mut Option<Instant>,
    mut call: impl FnMut() -> isize,
) -> Result<usize> {
    let mut nap = Nap::new();
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
                if dir == Dir::Write && waits_on_peer(sock) {
                    nap.wait_for_room(sock, *deadline)?;
                } else {
                    let events = if dir == Dir::Read { libc::POLLIN } else { libc::POLLOUT };
                    wait_fd(sock, events, *deadline)?;
                }
            }
            e => return Err(sock.or_closed(Error::os(e))),
        }
    }
}

/// Waits until the descriptor is ready for `events`, the deadline passes
/// (`OXS_ERR_TIMED_OUT`, os error 0), the handle is closed (`OXS_ERR_CLOSED`), or a
/// signal arrives on an interruptible handle (`OXS_ERR_INTERRUPTED`).
pub fn wait_fd(sock: &Socket, events: i16, deadline: Option<Instant>) -> Result<()> {
    loop {
        if sock.closing() {
            return Err(Error::status(OXS_ERR_CLOSED));
        }
        let timeout = match deadline {
            None => -1,
            Some(d) => match remaining_ms(d) {
                0 => return Err(Error::timed_out()),
                ms => ms,
            },
        };
        match crate::sys::poll_one(sock.fd(), events, timeout) {
            Ok(true) => return Ok(()),
            Ok(false) => {}
            Err(libc::EINTR) if sock.interruptible() => return Err(sock.or_closed(Error::os(libc::EINTR))),
            Err(libc::EINTR) => {}
            Err(e) => return Err(Error::os(e)),
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

/// True for a socket whose blocking send would sleep on the *receiver's* queue, where
/// `oxs_close`'s shutdown cannot reach it: a Unix datagram socket (NOTES.md, Found by
/// review). Its sends always carry MSG_DONTWAIT, and the wait happens here instead.
pub fn waits_on_peer(sock: &Socket) -> bool {
    sock.domain == OXS_DOMAIN_UNIX && sock.kind == OXS_TYPE_DGRAM
}

/// The flags the library adds to every send on `sock`: MSG_NOSIGNAL (no SIGPIPE, ever),
/// and MSG_DONTWAIT where the kernel's own wait could not be woken by `oxs_close`.
#[inline]
pub fn send_flags(sock: &Socket) -> i32 {
    libc::MSG_NOSIGNAL | if waits_on_peer(sock) { libc::MSG_DONTWAIT } else { 0 }
}

const FIRST_NAP: Duration = Duration::from_millis(1);
const LONGEST_NAP: Duration = Duration::from_millis(50);

/// Waiting for something that no descriptor of ours reports: room in a Unix listener's
/// backlog, or in the queue of an unconnected Unix datagram receiver. The call retries
/// after naps that grow from 1 ms to 50 ms; a nap sleeps in poll(2) on the socket's wake
/// descriptor, so `oxs_close` ends it at once.
pub struct Nap {
    next: Duration,
    room_reported: bool,
}

impl Nap {
    pub fn new() -> Nap {
        Nap { next: FIRST_NAP, room_reported: false }
    }

    /// Naps once: `OXS_ERR_CLOSED` when the handle is closed, `OXS_ERR_TIMED_OUT` when
    /// the deadline has passed, `OXS_ERR_INTERRUPTED` on a signal (interruptible handle).
    pub fn sleep(&mut self, sock: &Socket, deadline: Option<Instant>) -> Result<()> {
        let wake = sock.wake_fd()?;
        // After the wake descriptor exists: a close before it did not write to it.
        if sock.closing() {
            return Err(Error::status(OXS_ERR_CLOSED));
        }
        let ms = self.next_ms(deadline)?;
        let r = crate::sys::poll_one(wake, libc::POLLIN, ms);
        if sock.closing() {
            return Err(Error::status(OXS_ERR_CLOSED));
        }
        match r {
            Ok(true) => crate::sys::eventfd_drain(wake), // a forked child's close: not ours
            Err(libc::EINTR) if sock.interruptible() => return Err(Error::os(libc::EINTR)),
            _ => {}
        }
        Ok(())
    }

    /// Naps once for a call with no handle (`oxs_dial`): `OXS_ERR_TIMED_OUT` when the
    /// deadline has passed, `OXS_ERR_INTERRUPTED` on a signal when `interruptible`.
    pub fn sleep_unowned(&mut self, deadline: Option<Instant>, interruptible: bool) -> Result<()> {
        let ms = self.next_ms(deadline)?;
        match crate::sys::poll_one(-1, 0, ms) {
            Err(libc::EINTR) if interruptible => Err(Error::os(libc::EINTR)),
            _ => Ok(()),
        }
    }

    /// The next nap's length, bounded by the deadline.
    fn next_ms(&mut self, deadline: Option<Instant>) -> Result<i32> {
        let mut ms = self.next.as_millis() as i32;
        if let Some(d) = deadline {
            match remaining_ms(d) {
                0 => return Err(Error::timed_out()),
                left => ms = ms.min(left),
            }
        }
        self.next = (self.next * 2).min(LONGEST_NAP);
        Ok(ms)
    }

    /// Waits for room to send on a Unix datagram socket. poll(2) reports it exactly for
    /// a connected socket (and wakes on the shutdown of `oxs_close`); for an unconnected
    /// one it says "writable" at once, so once a reported room turned out not to be
    /// there, the wait naps instead.
    pub fn wait_for_room(&mut self, sock: &Socket, deadline: Option<Instant>) -> Result<()> {
        if self.room_reported {
            return self.sleep(sock, deadline);
        }
        wait_fd(sock, libc::POLLOUT, deadline)?;
        self.room_reported = true;
        Ok(())
    }
}

impl Default for Nap {
    fn default() -> Nap {
        Nap::new()
    }
}
