//! TLS sockets in a poller (contract §12, Waiting): while a handshake or encrypted bytes
//! waiting for the kernel need a direction the caller did not ask for, the poller
//! watches it too, and when it is ready reports the events the caller asked for, so
//! that the caller's next call (a read, for a loop that asks only for `OXS_POLL_IN`)
//! drives the session on. A level-triggered loop that asks only for IN never stalls.
//!
//! The session tells its pollers when the direction it needs changes
//! (`Watcher::tls_wants`); each change re-reads the session's `wants`, so the last one
//! told is always right. An event for the extra direction that came after the session
//! stopped needing it is dropped, and the registration set back to what was asked.

use super::{check_events, Poller, Registrations};
use crate::consts::*;
use crate::tls::session::poll_extra;
use std::os::fd::RawFd;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::Arc;

pub(super) struct TlsReg {
    fd: RawFd,
    wants: Arc<AtomicI32>,
    /// The epoll bits in force for the descriptor.
    applied: u32,
}

/// The bits a registration asking for `asked` watches for a session wanting `w`.
fn watched(asked: i32, w: i32) -> i32 {
    if asked == 0 {
        return 0; // nothing to report: no reason to wake
    }
    asked | poll_extra(w)
}

impl Poller {
    /// A session's needs changed (or it joined): watch what they say.
    pub(super) fn tls_wants_changed(&self, regs: &mut Registrations, fd: RawFd, wants: Arc<AtomicI32>) {
        let Some(&slot) = regs.by_fd.get(&fd) else { return };
        let asked = regs.asked.get(&fd).copied().unwrap_or(0);
        let applied = check_events(asked).unwrap_or(0);
        match regs.tls.get_mut(&slot) {
            Some(reg) => reg.wants = wants,
            None => {
                regs.tls.insert(slot, TlsReg { fd, wants, applied });
            }
        }
        self.tls_apply(regs, slot);
    }

    /// `oxs_poller_modify` on a TLS socket: the epoll bits for the new `events`.
    pub(super) fn with_tls_extra(&self, regs: &mut Registrations, slot: u32, events: i32, ev: u32) -> u32 {
        let Some(reg) = regs.tls.get_mut(&slot) else { return ev };
        let e = check_events(watched(events, reg.wants.load(Ordering::Relaxed))).unwrap_or(ev);
        reg.applied = e;
        e
    }

    /// What to report for an event on a TLS socket (0: nothing): what was asked for,
    /// and all of it when the direction the session needs is ready.
    pub(super) fn tls_events(&self, regs: &mut Registrations, slot: u32, got: i32) -> i32 {
        let Some(reg) = regs.tls.get(&slot) else { return got };
        let asked = regs.asked.get(&reg.fd).copied().unwrap_or(0);
        let extra = watched(asked, reg.wants.load(Ordering::Relaxed)) & !asked;
        let both = OXS_POLL_IN | OXS_POLL_OUT;
        let mut out = (got & !both) | (got & asked);
        if got & extra & both != 0 {
            out |= asked;
        }
        self.tls_apply(regs, slot);
        out
    }

    /// Sets the descriptor's epoll bits to what the session needs now, if they differ.
    fn tls_apply(&self, regs: &mut Registrations, slot: u32) {
        let generation = regs.slots[slot as usize].0;
        let Some(reg) = regs.tls.get(&slot) else { return };
        let asked = regs.asked.get(&reg.fd).copied().unwrap_or(0);
        let Ok(e) = check_events(watched(asked, reg.wants.load(Ordering::Relaxed))) else { return };
        if e == reg.applied {
            return;
        }
        let fd = reg.fd;
        if self.ctl(libc::EPOLL_CTL_MOD, fd, e, (generation as u64) << 32 | slot as u64).is_ok() {
            if let Some(reg) = regs.tls.get_mut(&slot) {
                reg.applied = e;
            }
        }
    }
}
