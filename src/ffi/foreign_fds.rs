//! Foreign descriptors in a poller (contract §14): descriptors that are not socket
//! handles — a pipe, stdin, an eventfd, a timerfd, a socket other code owns.

use super::{call, oxs_poller};
use crate::error::Arg;
use crate::handle;
use crate::status::*;

/// Adds descriptor `fd`, which is not a socket handle's (a pipe, stdin, an eventfd, a
/// timerfd, a socket that other code owns), to poller `p`, with the same events, tokens
/// and level-triggered rules as `oxs_poller_add`: `events` is `OXS_POLL_IN` and/or
/// `OXS_POLL_OUT`, `OXS_POLL_ERR` and `OXS_POLL_HUP` are always reported, `token` comes
/// back with its events. The descriptor stays the caller's: remove it
/// (`oxs_poller_remove_fd`) before closing it. Until then the poller holds a duplicate
/// of it (close-on-exec), so the open file stays watched, and open (a pipe's write end
/// gives its reader no end of file), even if the caller closes the descriptor; removing
/// always ends that. A socket handle's descriptor goes through `oxs_poller_add`.
///
/// Errors: `OXS_ERR_BAD_HANDLE` (`p` is not a live poller), `OXS_ERR_INVALID_ARGUMENT`
/// (other event bits; `fd` not open; `fd` owned by a live socket handle; `fd` already in
/// this poller; the poller's own descriptor), `OXS_ERR_UNSUPPORTED` (a descriptor that
/// cannot be watched: a regular file, a directory), `OXS_ERR_TOO_MANY_OPEN` (no
/// descriptor left for the duplicate). Thread-safe.
#[no_mangle]
pub extern "C" fn oxs_poller_add_fd(p: oxs_poller, fd: i32, events: i32, token: u64) -> oxs_status {
    call("oxs_poller_add_fd", Arg::Number(fd as i64), || handle::poller(p)?.1.add_fd(fd, events, token))
}

/// Changes the events and token of a descriptor added with `oxs_poller_add_fd`.
///
/// Errors: `OXS_ERR_BAD_HANDLE`, `OXS_ERR_INVALID_ARGUMENT` (other event bits; `fd` is
/// not in this poller, or was closed while in it). Thread-safe.
#[no_mangle]
pub extern "C" fn oxs_poller_modify_fd(p: oxs_poller, fd: i32, events: i32, token: u64) -> oxs_status {
    call("oxs_poller_modify_fd", Arg::Number(fd as i64), || handle::poller(p)?.1.modify_fd(fd, events, token))
}

/// Removes a descriptor added with `oxs_poller_add_fd` and closes the poller's
/// duplicate of it. A descriptor that was closed while registered is still forgotten
/// (`OXS_OK`); events already reported for it are not returned by a later wait.
///
/// Errors: `OXS_ERR_BAD_HANDLE`, `OXS_ERR_INVALID_ARGUMENT` (`fd` is not in this poller,
/// e.g. removed twice, or a socket handle's: use `oxs_poller_remove`). Thread-safe.
#[no_mangle]
pub extern "C" fn oxs_poller_remove_fd(p: oxs_poller, fd: i32) -> oxs_status {
    call("oxs_poller_remove_fd", Arg::Number(fd as i64), || handle::poller(p)?.1.remove_fd(fd))
}
