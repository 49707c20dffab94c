//! `oxs_poll` (contract §9): poll(2) over any number of handles.

use crate::consts::*;
use crate::error::{errno, Error, Result};
use crate::handle::{self, SocketRef};

/// One socket to wait for in `oxs_poll`. 16 bytes.
#[repr(C)]
#[derive(Clone, Copy)]
#[allow(non_camel_case_types)]
pub struct oxs_pollitem {
    /// The socket handle.
    pub socket: u64,
    /// What to wait for: `OXS_POLL_IN` and/or `OXS_POLL_OUT`.
    pub events: i32,
    /// Written by `oxs_poll`: what is ready, 0 when nothing is.
    pub revents: i32,
}

const STACK_ITEMS: usize = 32;

/// Waits until an item is ready or the timeout passes; returns how many items have a
/// non-zero `revents`.
pub fn poll(items: &mut [oxs_pollitem], timeout_ms: i32) -> Result<usize> {
    if timeout_ms < -1 {
        return Err(Error::invalid(format!("timeout {timeout_ms}: use -1 to wait forever")));
    }
    for it in items.iter() {
        if it.events & !(OXS_POLL_IN | OXS_POLL_OUT) != 0 {
            return Err(Error::invalid(format!(
                "events {:#x}: only OXS_POLL_IN and OXS_POLL_OUT",
                it.events
            )));
        }
    }
    // The handles stay entered for the whole wait, so no descriptor can be closed and
    // reused under poll(2).
    let refs: Vec<Option<SocketRef>> = items.iter().map(|it| handle::socket(it.socket).ok()).collect();
    let mut stack = [libc::pollfd { fd: -1, events: 0, revents: 0 }; STACK_ITEMS];
    let mut heap = Vec::new();
    let fds: &mut [libc::pollfd] = if items.len() <= STACK_ITEMS {
        &mut stack[..items.len()]
    } else {
        heap.resize(items.len(), libc::pollfd { fd: -1, events: 0, revents: 0 });
        &mut heap
    };
    let mut tls_ready = false;
    for ((pfd, it), r) in fds.iter_mut().zip(items.iter()).zip(refs.iter()) {
        if let Some(r) = r {
            pfd.fd = r.fd();
            pfd.events = libc::POLLRDHUP
                | if it.events & OXS_POLL_IN != 0 { libc::POLLIN } else { 0 }
                | if it.events & OXS_POLL_OUT != 0 { libc::POLLOUT } else { 0 };
            let (extra, ready) = crate::tls::poll_interest(r, it.events);
            pfd.events |= extra;
            tls_ready |= ready;
        }
    }
    // An invalid handle is ready at once (OXS_POLL_INVALID), as poll(2)'s POLLNVAL is;
    // so is a TLS socket with plaintext already decrypted.
    let timeout_ms = if tls_ready || refs.iter().any(Option::is_none) { 0 } else { timeout_ms };
    // SAFETY: fds is a valid array of fds.len() pollfd structures.
    let n = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, timeout_ms) };
    if n < 0 {
        return Err(Error::os(errno()));
    }
    let mut ready = 0;
    for ((pfd, it), r) in fds.iter().zip(items.iter_mut()).zip(refs.iter()) {
        it.revents = match r {
            None => OXS_POLL_INVALID,
            Some(r) if r.closing() => OXS_POLL_INVALID,
            Some(r) => crate::tls::poll_revents(r, it.events, revents(pfd.revents)),
        };
        ready += (it.revents != 0) as usize;
    }
    Ok(ready)
}

fn revents(r: i16) -> i32 {
    let mut out = 0;
    if r & libc::POLLIN != 0 {
        out |= OXS_POLL_IN;
    }
    if r & libc::POLLOUT != 0 {
        out |= OXS_POLL_OUT;
    }
    if r & libc::POLLERR != 0 {
        out |= OXS_POLL_ERR;
    }
    if r & (libc::POLLHUP | libc::POLLRDHUP) != 0 {
        out |= OXS_POLL_HUP;
    }
    if r & libc::POLLNVAL != 0 {
        out |= OXS_POLL_INVALID;
    }
    out
}
