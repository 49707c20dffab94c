//! The poller (contract §9): level-triggered epoll, thread-safe, with an eventfd to wake
//! waiters. Its cost per wait grows with the number of ready sockets only.
//!
//! Tokens are the caller's any 64-bit values, so the epoll data word cannot carry them
//! and also mark the wake descriptor. Each registration gets a slot in a small table
//! instead; the data word is `generation << 32 | slot`, translated back under one short
//! lock per wait. A registration removed meanwhile fails the generation check and is
//! dropped from the batch rather than reported with someone else's token.

use crate::consts::*;
use crate::error::{errno, Error, Result};
use crate::socket::{Socket, Watcher};
use crate::status::*;
use std::collections::HashMap;
use std::os::fd::RawFd;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

mod foreign; // foreign descriptors (contract §14): oxs_poller_add_fd and friends
mod tls_wants; // TLS sessions that need the direction not asked for (contract §12)
use foreign::Foreign;

const WAKE_DATA: u64 = u64::MAX;

/// One event from `oxs_poller_wait`: the token given at add/modify and what is ready
/// (`OXS_POLL_*` bits). 16 bytes.
#[repr(C)]
#[derive(Clone, Copy, Default)]
#[allow(non_camel_case_types)]
pub struct oxs_event {
    /// The caller's token for the socket.
    pub token: u64,
    /// `OXS_POLL_IN`, `OXS_POLL_OUT`, `OXS_POLL_ERR`, `OXS_POLL_HUP`.
    pub events: i32,
    /// Always 0.
    pub reserved: i32,
}
const BATCH: usize = 256;

#[derive(Default)]
struct Registrations {
    slots: Vec<(u32, u64)>, // (generation, token)
    free: Vec<u32>,
    /// Socket handles, by their descriptor (a handle's close forgets its entry).
    by_fd: HashMap<RawFd, u32>,
    /// Foreign descriptors (contract §14, src/poller/foreign.rs), by the caller's number;
    /// kept apart from the sockets because the caller may close one while it is
    /// registered and its number may then come back as a socket handle's.
    foreign: HashMap<RawFd, Foreign>,
    /// The events asked for, by descriptor (for TLS sockets' ready list).
    asked: HashMap<RawFd, i32>,
    /// TLS sockets, by slot: their session's `wants` and the epoll bits in force, which
    /// add the direction a handshake or pending bytes need (src/poller/tls_wants.rs).
    tls: HashMap<u32, tls_wants::TlsReg>,
}

pub struct Poller {
    epfd: RawFd,
    wake_fd: RawFd,
    pid: i32,
    closed: AtomicBool,
    /// Wakes asked for, and wakes some wait has answered (contract: a wake is kept until
    /// the next wait when none is in progress; several count as one).
    woken: AtomicU64,
    answered: AtomicU64,
    waiters: AtomicUsize,
    regs: Mutex<Registrations>,
    /// TLS sockets with plaintext already decrypted, fed by their reads (contract §12,
    /// Waiting): epoll cannot see it. Each flag says whether it is still there.
    tls_ready: Mutex<HashMap<RawFd, Arc<AtomicBool>>>,
}

fn check_events(events: i32) -> Result<u32> {
    if events & !(OXS_POLL_IN | OXS_POLL_OUT) != 0 {
        return Err(Error::invalid(format!(
            "events {events:#x}: only OXS_POLL_IN and OXS_POLL_OUT can be asked for"
        )));
    }
    let mut e = libc::EPOLLRDHUP as u32;
    if events & OXS_POLL_IN != 0 {
        e |= libc::EPOLLIN as u32;
    }
    if events & OXS_POLL_OUT != 0 {
        e |= libc::EPOLLOUT as u32;
    }
    Ok(e)
}

/// epoll's bits as the contract's (HUP for a reset or an orderly close alike).
pub(crate) fn to_oxs_events(e: u32) -> i32 {
    let mut out = 0;
    if e & libc::EPOLLIN as u32 != 0 {
        out |= OXS_POLL_IN;
    }
    if e & libc::EPOLLOUT as u32 != 0 {
        out |= OXS_POLL_OUT;
    }
    if e & libc::EPOLLERR as u32 != 0 {
        out |= OXS_POLL_ERR;
    }
    if e & (libc::EPOLLHUP | libc::EPOLLRDHUP) as u32 != 0 {
        out |= OXS_POLL_HUP;
    }
    out
}

impl Poller {
    pub fn open() -> Result<Poller> {
        // SAFETY: plain epoll_create1 / eventfd calls; results checked.
        let epfd = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
        if epfd < 0 {
            return Err(Error::last_os());
        }
        // SAFETY: as above.
        let wake_fd = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK) };
        if wake_fd < 0 {
            let e = Error::last_os();
            // SAFETY: closing the epoll descriptor we just made.
            unsafe { libc::close(epfd) };
            return Err(e);
        }
        let p = Poller {
            epfd,
            wake_fd,
            // SAFETY: getpid has no preconditions.
            pid: unsafe { libc::getpid() },
            closed: AtomicBool::new(false),
            woken: AtomicU64::new(0),
            answered: AtomicU64::new(0),
            waiters: AtomicUsize::new(0),
            regs: Mutex::new(Registrations::default()),
            tls_ready: Mutex::new(HashMap::new()),
        };
        p.ctl(libc::EPOLL_CTL_ADD, wake_fd, libc::EPOLLIN as u32, WAKE_DATA)?;
        Ok(p)
    }

    fn ctl(&self, op: i32, fd: RawFd, events: u32, data: u64) -> Result<()> {
        let mut ev = libc::epoll_event { events, u64: data };
        // SAFETY: ev is a valid epoll_event; epfd is ours.
        if unsafe { libc::epoll_ctl(self.epfd, op, fd, &mut ev) } != 0 {
            return Err(Error::last_os());
        }
        Ok(())
    }

    fn regs(&self) -> std::sync::MutexGuard<'_, Registrations> {
        self.regs.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn add(self: &Arc<Self>, sock: &Socket, events: i32, token: u64) -> Result<()> {
        let ev = check_events(events)?;
        let mut regs = self.regs();
        if regs.by_fd.contains_key(&sock.fd()) {
            return Err(Error::invalid("the socket is already in this poller"));
        }
        if self.still_registered(&regs, sock.fd()) {
            return Err(Error::invalid(
                "the socket's descriptor is already in this poller, added with oxs_poller_add_fd",
            ));
        }
        let slot = match regs.free.pop() {
            Some(s) => s,
            None => {
                regs.slots.push((1, 0));
                (regs.slots.len() - 1) as u32
            }
        };
        let generation = regs.slots[slot as usize].0;
        let data = (generation as u64) << 32 | slot as u64;
        if let Err(e) = self.ctl(libc::EPOLL_CTL_ADD, sock.fd(), ev, data) {
            regs.free.push(slot);
            return Err(e);
        }
        regs.slots[slot as usize] = (generation, token);
        regs.by_fd.insert(sock.fd(), slot);
        regs.asked.insert(sock.fd(), events);
        drop(regs);
        let me: std::sync::Weak<dyn Watcher> = Arc::downgrade(self) as std::sync::Weak<Poller>;
        sock.extras.lock().pollers.push(me);
        if let Some(flag) = crate::tls::ready_flag(sock) {
            self.tls_ready(sock.fd(), flag);
        }
        if let Some(wants) = crate::tls::wants_cell(sock) {
            self.tls_wants(sock.fd(), wants);
        }
        if sock.closing() {
            // Closed while this add was in flight, after the close left its pollers.
            self.forget(sock.fd());
        }
        Ok(())
    }

    pub fn modify(&self, sock: &Socket, events: i32, token: u64) -> Result<()> {
        let ev = check_events(events)?;
        let mut regs = self.regs();
        let slot =
            *regs.by_fd.get(&sock.fd()).ok_or_else(|| Error::invalid("the socket is not in this poller"))?;
        let generation = regs.slots[slot as usize].0;
        let ev = self.with_tls_extra(&mut regs, slot, events, ev);
        self.ctl(libc::EPOLL_CTL_MOD, sock.fd(), ev, (generation as u64) << 32 | slot as u64)?;
        regs.slots[slot as usize].1 = token;
        regs.asked.insert(sock.fd(), events);
        Ok(())
    }

    pub fn remove(self: &Arc<Self>, sock: &Socket) -> Result<()> {
        if !self.forget(sock.fd()) {
            return Err(Error::invalid("the socket is not in this poller"));
        }
        let me = Arc::as_ptr(self) as *const ();
        sock.extras.lock().pollers.retain(|w| !std::ptr::eq(w.as_ptr() as *const (), me));
        Ok(())
    }

    /// Asks every current wait to return, or the next one if none is in progress.
    pub fn wake(&self) {
        self.woken.fetch_add(1, Ordering::SeqCst);
        crate::sys::eventfd_signal(self.wake_fd); // async-signal-safe: one write(2)
    }

    /// Marks the poller closed; done by the handle table before it wakes the waits.
    pub(crate) fn mark_closing(&self) {
        self.closed.store(true, Ordering::SeqCst);
    }

    pub(crate) fn wake_for_close(&self) {
        self.wake();
    }

    /// Empties the eventfd, then re-arms it if a wake came in meanwhile that no wait has
    /// answered, so a wake is never lost.
    fn drain_wake(&self) {
        crate::sys::eventfd_drain(self.wake_fd);
        if self.woken.load(Ordering::SeqCst) != self.answered.load(Ordering::SeqCst) {
            crate::sys::eventfd_signal(self.wake_fd);
        }
    }

    /// Waits for events (contract §9). Returns how many were stored in `out`.
    pub fn wait(&self, out: &mut [oxs_event], timeout_ms: i32) -> Result<usize> {
        self.waiters.fetch_add(1, Ordering::SeqCst);
        let result = self.wait_inner(out, timeout_ms);
        if self.waiters.fetch_sub(1, Ordering::SeqCst) == 1 && matches!(result, Ok((_, true))) {
            self.drain_wake(); // the last waiter out after a wake resets the eventfd
        }
        result.map(|(n, _)| n)
    }

    fn answer_wake(&self, seen: u64) {
        self.answered.fetch_max(seen, Ordering::SeqCst);
    }

    /// Returns (events stored, whether a wake ended the wait).
    fn wait_inner(&self, out: &mut [oxs_event], timeout_ms: i32) -> Result<(usize, bool)> {
        let start = self.woken.load(Ordering::SeqCst);
        if start != self.answered.load(Ordering::SeqCst) {
            self.answer_wake(start);
            return Ok((0, true));
        }
        let deadline = (timeout_ms > 0)
            .then(|| std::time::Instant::now() + std::time::Duration::from_millis(timeout_ms as u64));
        let mut batch = [libc::epoll_event { events: 0, u64: 0 }; BATCH];
        let cap = out.len().min(BATCH);
        let tls_pending = self.tls_pending();
        loop {
            let t = match deadline {
                _ if !tls_pending.is_empty() => 0,
                None => timeout_ms,
                Some(d) => crate::wait::remaining_ms(d),
            };
            // SAFETY: batch has room for cap <= BATCH events.
            let n = unsafe { libc::epoll_wait(self.epfd, batch.as_mut_ptr(), cap as i32, t) };
            if self.closed.load(Ordering::SeqCst) {
                return Err(Error::status(OXS_ERR_CLOSED));
            }
            if n < 0 {
                return match errno() {
                    libc::EINTR => Err(Error::os(libc::EINTR)),
                    e => Err(Error::os(e)),
                };
            }
            let merged = merge_tls(&batch[..n as usize], &tls_pending, cap);
            let (stored, wake_seen) = self.translate(merged.as_deref().unwrap_or(&batch[..n as usize]), out);
            if wake_seen {
                let now = self.woken.load(Ordering::SeqCst);
                if now != start {
                    self.answer_wake(now);
                    return Ok((stored, true));
                }
                // A wake already answered before this wait began: reset it if alone.
                if self.waiters.load(Ordering::SeqCst) == 1 {
                    self.drain_wake();
                } else {
                    std::thread::yield_now();
                }
                if self.woken.load(Ordering::SeqCst) != start {
                    self.answer_wake(self.woken.load(Ordering::SeqCst));
                    return Ok((stored, true));
                }
            }
            if stored > 0 || n == 0 && !wake_seen || t == 0 {
                return Ok((stored, false));
            }
        }
    }

    fn translate(&self, batch: &[libc::epoll_event], out: &mut [oxs_event]) -> (usize, bool) {
        let mut stored = 0;
        let mut wake_seen = false;
        let mut regs = self.regs();
        for ev in batch {
            let data = ev.u64;
            if data == WAKE_DATA {
                wake_seen = true;
                continue;
            }
            let (slot, generation) = ((data & 0xffff_ffff) as usize, (data >> 32) as u32);
            match regs.slots.get(slot) {
                Some(&(g, token)) if g == generation => {
                    let mut events = to_oxs_events(ev.events);
                    if !regs.tls.is_empty() {
                        events = self.tls_events(&mut regs, slot as u32, events);
                        if events == 0 {
                            continue; // only the session's own direction, no longer needed
                        }
                    }
                    out[stored] = oxs_event { token, events, reserved: 0 };
                    stored += 1;
                }
                _ => {} // removed after the kernel reported it
            }
        }
        (stored, wake_seen)
    }
}

impl Watcher for Poller {
    /// Drops the registration of `fd` (a socket being closed or removed); false when
    /// it had none. In a forked child the poller belongs to the parent: left alone.
    fn forget(&self, fd: RawFd) -> bool {
        // SAFETY: getpid has no preconditions.
        if self.pid != unsafe { libc::getpid() } {
            return false;
        }
        let mut regs = self.regs();
        let Some(slot) = regs.by_fd.remove(&fd) else { return false };
        regs.asked.remove(&fd);
        regs.tls.remove(&slot);
        self.tls_ready.lock().unwrap_or_else(|e| e.into_inner()).remove(&fd);
        let _ = self.ctl(libc::EPOLL_CTL_DEL, fd, 0, 0);
        // A new generation, so that events already reported for it are dropped.
        regs.slots[slot as usize] = (next_generation(regs.slots[slot as usize].0), 0);
        regs.free.push(slot);
        true
    }

    /// A TLS read left plaintext in its session: report the socket until it is read.
    fn tls_ready(&self, fd: RawFd, flag: Arc<AtomicBool>) {
        self.tls_ready.lock().unwrap_or_else(|e| e.into_inner()).insert(fd, flag);
    }

    /// A TLS session's needs changed: watch the direction it needs too, or stop.
    fn tls_wants(&self, fd: RawFd, wants: Arc<std::sync::atomic::AtomicI32>) {
        let mut regs = self.regs();
        self.tls_wants_changed(&mut regs, fd, wants);
    }
}

impl Poller {
    /// The epoll data words of registered TLS sockets asking for IN whose plaintext waits.
    fn tls_pending(&self) -> Vec<u64> {
        let regs = self.regs();
        let mut ready = self.tls_ready.lock().unwrap_or_else(|e| e.into_inner());
        if ready.is_empty() {
            return Vec::new();
        }
        ready.retain(|fd, flag| flag.load(Ordering::Acquire) && regs.by_fd.contains_key(fd));
        ready
            .keys()
            .filter(|fd| regs.asked.get(fd).is_some_and(|e| e & OXS_POLL_IN != 0))
            .map(|fd| {
                let slot = regs.by_fd[fd];
                (regs.slots[slot as usize].0 as u64) << 32 | slot as u64
            })
            .collect()
    }
}

/// epoll's batch with the TLS sockets whose plaintext waits reported readable too.
fn merge_tls(batch: &[libc::epoll_event], pending: &[u64], cap: usize) -> Option<Vec<libc::epoll_event>> {
    if pending.is_empty() {
        return None;
    }
    let mut merged = batch.to_vec();
    for &data in pending {
        match merged.iter().position(|e| ({ e.u64 }) == data) {
            Some(i) => merged[i].events |= libc::EPOLLIN as u32,
            None if merged.len() < cap => {
                merged.push(libc::epoll_event { events: libc::EPOLLIN as u32, u64: data })
            }
            None => {}
        }
    }
    Some(merged)
}

fn next_generation(g: u32) -> u32 {
    match g.wrapping_add(1) {
        0 | u32::MAX => 1,
        n => n,
    }
}

impl Drop for Poller {
    fn drop(&mut self) {
        // SAFETY: both descriptors are ours and nothing uses them any more.
        unsafe {
            libc::close(self.wake_fd);
            libc::close(self.epfd);
        }
    }
}
