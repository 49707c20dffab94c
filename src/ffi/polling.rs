//! Waiting for many sockets (contract §9): `oxs_poll` and the poller.

use super::{call, out, oxs_poller, oxs_socket, OXS_INVALID};
use crate::error::{Arg, Error};
use crate::handle::{self, Kind, Object};
use crate::poll::{self, oxs_pollitem};
use crate::poller::{oxs_event, Poller};
use crate::status::*;
use std::sync::Arc;

fn check_wait_timeout(timeout_ms: i32) -> crate::error::Result<()> {
    if timeout_ms < -1 {
        return Err(Error::invalid(format!("timeout {timeout_ms}: -1 waits forever, 0 returns at once")));
    }
    Ok(())
}

/// Waits until at least one of `n` sockets is ready, as `poll(2)` does. Each item asks
/// for `OXS_POLL_IN` and/or `OXS_POLL_OUT`; `OXS_POLL_ERR` and `OXS_POLL_HUP` are always
/// reported. Every item's `revents` is written (0 when nothing is ready); a handle that is
/// invalid, or closed during the wait, is marked `OXS_POLL_INVALID` and the call still
/// returns `OXS_OK`. `*nready` counts the items with a non-zero `revents`.
/// `timeout_ms`: -1 forever, 0 return at once. `items` may be NULL when `n` is 0.
///
/// Errors: `OXS_ERR_INVALID_ARGUMENT` (NULL, other event bits, timeout below -1),
/// `OXS_ERR_INTERRUPTED` (a signal handler ran during the wait). Thread-safe.
#[no_mangle]
pub extern "C" fn oxs_poll(
    items: *mut oxs_pollitem,
    n: usize,
    timeout_ms: i32,
    nready: *mut usize,
) -> oxs_status {
    call("oxs_poll", Arg::Number(n as i64), || {
        // SAFETY: nready is NULL or a caller's writable size_t.
        let nready = unsafe { out(nready, "nready") }?;
        *nready = 0;
        if n > isize::MAX as usize / std::mem::size_of::<oxs_pollitem>() {
            return Err(Error::invalid(format!("n {n} is out of range")));
        }
        let items: &mut [oxs_pollitem] = if n == 0 {
            &mut []
        } else if items.is_null() {
            return Err(Error::invalid("items is NULL"));
        } else {
            // SAFETY: non-NULL, and the caller promised n items.
            unsafe { std::slice::from_raw_parts_mut(items, n) }
        };
        *nready = poll::poll(items, timeout_ms)?;
        Ok(())
    })
}

/// Opens a poller: level-triggered readiness for tens of thousands of sockets (epoll on
/// Linux), usable from several threads at once. `*out` is its handle (`OXS_INVALID` on
/// failure). A forked child must open its own pollers.
///
/// Errors: `OXS_ERR_INVALID_ARGUMENT` (NULL), `OXS_ERR_TOO_MANY_OPEN`. Thread-safe.
#[no_mangle]
pub extern "C" fn oxs_poller_open(out: *mut oxs_poller) -> oxs_status {
    call("oxs_poller_open", Arg::None, || {
        // SAFETY: out is NULL or a caller's writable oxs_poller.
        let out = unsafe { super::out(out, "out") }?;
        *out = OXS_INVALID;
        *out = handle::insert(Object::Poller(Arc::new(Poller::open()?)))?;
        Ok(())
    })
}

/// Adds socket `s` to poller `p`, for `events` (`OXS_POLL_IN` and/or `OXS_POLL_OUT`;
/// `OXS_POLL_ERR` and `OXS_POLL_HUP` are always reported). `token` comes back with its
/// events: any 64-bit value. A TLS socket (§12) is reported `OXS_POLL_IN` while decrypted
/// plaintext waits; while its handshake or encrypted bytes it keeps need the direction
/// not asked for (`OXS_OPT_TLS_WANTS`), the poller watches that direction too and, when
/// it is ready, reports the events asked for, so that the caller's next read or write
/// drives the session: a loop that asks only for `OXS_POLL_IN` never stalls.
///
/// Errors: `OXS_ERR_BAD_HANDLE` (either handle, or one where the other kind belongs),
/// `OXS_ERR_INVALID_ARGUMENT` (other event bits; the socket is already in the poller).
/// Thread-safe.
#[no_mangle]
pub extern "C" fn oxs_poller_add(p: oxs_poller, s: oxs_socket, events: i32, token: u64) -> oxs_status {
    call("oxs_poller_add", Arg::Handle(s), || {
        let (_g, poller) = handle::poller(p)?;
        poller.add(&*handle::socket(s)?, events, token)
    })
}

/// Changes the events and token of a socket in the poller.
///
/// Errors: `OXS_ERR_BAD_HANDLE`, `OXS_ERR_INVALID_ARGUMENT` (other event bits; the socket
/// is not in the poller). Thread-safe.
#[no_mangle]
pub extern "C" fn oxs_poller_modify(p: oxs_poller, s: oxs_socket, events: i32, token: u64) -> oxs_status {
    call("oxs_poller_modify", Arg::Handle(s), || {
        let (_g, poller) = handle::poller(p)?;
        poller.modify(&*handle::socket(s)?, events, token)
    })
}

/// Removes a socket from the poller. (Closing a socket removes it from every poller.)
///
/// Errors: `OXS_ERR_BAD_HANDLE`, `OXS_ERR_INVALID_ARGUMENT` (the socket is not in the
/// poller). Thread-safe.
#[no_mangle]
pub extern "C" fn oxs_poller_remove(p: oxs_poller, s: oxs_socket) -> oxs_status {
    call("oxs_poller_remove", Arg::Handle(s), || {
        let (_g, poller) = handle::poller(p)?;
        poller.remove(&*handle::socket(s)?)
    })
}

/// Waits for events: stores up to `cap` of them in `events` and their number in `*n` (0
/// on timeout or wake). Level-triggered: a socket stays reported while it is ready (a
/// TLS socket: see `oxs_poller_add`).
/// `timeout_ms`: -1 forever, 0 return at once. Several threads may wait on one poller; a
/// ready socket may then be reported to more than one of them.
///
/// Errors: `OXS_ERR_BAD_HANDLE`, `OXS_ERR_INVALID_ARGUMENT` (`events` NULL, `cap` 0,
/// timeout below -1), `OXS_ERR_INTERRUPTED` (a signal handler ran during the wait),
/// `OXS_ERR_CLOSED` (`oxs_poller_close` from another thread). Thread-safe.
#[no_mangle]
pub extern "C" fn oxs_poller_wait(
    p: oxs_poller,
    events: *mut oxs_event,
    cap: usize,
    timeout_ms: i32,
    n: *mut usize,
) -> oxs_status {
    call("oxs_poller_wait", Arg::Handle(p), || {
        // SAFETY: n is NULL or a caller's writable size_t.
        let n = unsafe { out(n, "n") }?;
        *n = 0;
        if events.is_null() || cap == 0 {
            return Err(Error::invalid("events must be non-NULL with cap > 0"));
        }
        if cap > isize::MAX as usize / std::mem::size_of::<oxs_event>() {
            return Err(Error::invalid(format!("cap {cap} is out of range")));
        }
        check_wait_timeout(timeout_ms)?;
        let (_call, poller) = handle::poller(p)?;
        // SAFETY: events is non-NULL with cap elements, as the caller promised.
        let out = unsafe { std::slice::from_raw_parts_mut(events, cap) };
        *n = poller.wait(out, timeout_ms)?;
        Ok(())
    })
}

/// Makes a blocked `oxs_poller_wait` return early (with `*n` 0 or the events at hand),
/// from any thread. A wake is kept until the next wait if none is in progress, several
/// wakes count as one, and a wake releases every thread waiting.
///
/// **Async-signal-safe**: a SIGTERM handler may call it to stop an event loop (the
/// self-pipe trick, built in), also while the interrupted thread is inside any `oxs_*`
/// call, and also when the poller is being closed or is closed. It takes no lock,
/// allocates nothing (one eventfd write), never runs a poller's final close, and records
/// its failure only when the thread's error record is not in use.
///
/// Errors: `OXS_ERR_BAD_HANDLE` (not a live poller, closed or being closed).
/// Thread-safe.
#[no_mangle]
pub extern "C" fn oxs_poller_wake(p: oxs_poller) -> oxs_status {
    // Not through call(): its failures build messages (allocation). Here a failure is a
    // bare status, recorded only if the thread's record is free (contract §14).
    let woke =
        std::panic::catch_unwind(|| handle::poller_signal_safe(p).map(|(_guard, poller)| poller.wake()));
    match woke {
        Ok(Ok(())) => OXS_OK,
        Ok(Err(status)) => crate::error::record_from_handler("oxs_poller_wake", p, status),
        Err(_) => OXS_ERR_PANIC,
    }
}

/// Closes a poller. Waits in progress return `OXS_ERR_CLOSED`. The sockets in it stay
/// open.
///
/// Errors: `OXS_ERR_BAD_HANDLE` (not a live poller; closing twice). Thread-safe.
#[no_mangle]
pub extern "C" fn oxs_poller_close(p: oxs_poller) -> oxs_status {
    call("oxs_poller_close", Arg::Handle(p), || handle::close(p, Kind::Poller))
}
