//! Foreign descriptors in a poller (contract §14): a pipe, stdin, an eventfd, a timerfd,
//! a socket that other code owns, watched with the same events, tokens and
//! level-triggered rules as a socket handle (§9).
//!
//! The descriptor stays the caller's, who may close it while it is registered. The
//! kernel drops an epoll registration when its file is closed everywhere, and its
//! number may come back as another file, even as a socket handle's in this very poller.
//! So foreign registrations are kept apart from the sockets' (keyed by number), and
//! before trusting one the poller asks the kernel whether that number still names the
//! file it registered: an `EPOLL_CTL_MOD` with the registration's own events succeeds
//! only for the (number, file) pair that is registered.

use crate::error::{Error, Result};
use crate::fdset;
use crate::poller::{check_events, next_generation, Poller, Registrations};
use std::os::fd::RawFd;

fn check_open(fd: RawFd) -> Result<()> {
    // SAFETY: F_GETFD only queries the descriptor table.
    if fd < 0 || unsafe { libc::fcntl(fd, libc::F_GETFD) } < 0 {
        return Err(Error::invalid(format!("descriptor {fd} is not open")));
    }
    Ok(())
}

fn data(regs: &Registrations, slot: u32) -> u64 {
    (regs.slots[slot as usize].0 as u64) << 32 | slot as u64
}

impl Poller {
    /// True when the foreign registration of `fd` still names the file that was added
    /// (false once that file was closed, or when the number is now a socket handle's).
    pub(crate) fn still_registered(&self, regs: &Registrations, fd: RawFd) -> bool {
        let Some(&(slot, ev)) = regs.foreign.get(&fd) else { return false };
        !regs.by_fd.contains_key(&fd) && self.ctl(libc::EPOLL_CTL_MOD, fd, ev, data(regs, slot)).is_ok()
    }

    /// Forgets a foreign registration: its events already reported are dropped.
    fn drop_foreign(regs: &mut Registrations, fd: RawFd) {
        if let Some((slot, _)) = regs.foreign.remove(&fd) {
            let s = &mut regs.slots[slot as usize];
            *s = (next_generation(s.0), 0);
            regs.free.push(slot);
        }
    }

    /// `oxs_poller_add_fd`.
    pub fn add_fd(&self, fd: RawFd, events: i32, token: u64) -> Result<()> {
        let ev = check_events(events)?;
        check_open(fd)?;
        if fdset::owned(fd) {
            return Err(Error::invalid(format!(
                "descriptor {fd} is owned by a live socket handle: use oxs_poller_add"
            )));
        }
        let mut regs = self.regs();
        if regs.foreign.contains_key(&fd) {
            if self.still_registered(&regs, fd) {
                return Err(Error::invalid(format!("descriptor {fd} is already in this poller")));
            }
            Poller::drop_foreign(&mut regs, fd); // closed while registered: a new file now
        }
        let slot = match regs.free.pop() {
            Some(s) => s,
            None => {
                regs.slots.push((1, 0));
                (regs.slots.len() - 1) as u32
            }
        };
        if let Err(e) = self.ctl(libc::EPOLL_CTL_ADD, fd, ev, data(&regs, slot)) {
            regs.free.push(slot);
            return Err(match e.errno {
                libc::EPERM => Error::unsupported(format!(
                    "descriptor {fd} cannot be watched (a regular file or a directory is always ready)"
                )),
                libc::EEXIST => Error::invalid(format!("descriptor {fd} is already in this poller")),
                libc::EBADF => Error::invalid(format!("descriptor {fd} is not open")),
                libc::EINVAL | libc::ELOOP => Error::invalid(format!(
                    "descriptor {fd} cannot be watched by this poller (it is the poller itself, or watches it)"
                )),
                _ => e.context(format!("descriptor {fd}")),
            });
        }
        regs.slots[slot as usize].1 = token;
        regs.foreign.insert(fd, (slot, ev));
        Ok(())
    }

    /// `oxs_poller_modify_fd`.
    pub fn modify_fd(&self, fd: RawFd, events: i32, token: u64) -> Result<()> {
        let ev = check_events(events)?;
        let mut regs = self.regs();
        let Some(&(slot, _)) = regs.foreign.get(&fd) else {
            return Err(Error::invalid(format!("descriptor {fd} is not in this poller")));
        };
        let changed = match regs.by_fd.contains_key(&fd) {
            true => Err(Error::os(libc::ENOENT)), // its number is a socket handle's now
            false => self.ctl(libc::EPOLL_CTL_MOD, fd, ev, data(&regs, slot)),
        };
        if let Err(e) = changed {
            return Err(Error::invalid(format!(
                "descriptor {fd} was closed while in this poller{}: remove it",
                if e.errno == libc::ENOENT { " (its number names another file now)" } else { "" }
            )));
        }
        regs.slots[slot as usize].1 = token;
        regs.foreign.insert(fd, (slot, ev));
        Ok(())
    }

    /// `oxs_poller_remove_fd`: also forgets a descriptor closed while registered.
    pub fn remove_fd(&self, fd: RawFd) -> Result<()> {
        let mut regs = self.regs();
        if !regs.foreign.contains_key(&fd) {
            return Err(Error::invalid(format!("descriptor {fd} is not in this poller")));
        }
        if !regs.by_fd.contains_key(&fd) {
            // ENOENT or EBADF: closed meanwhile (the kernel has dropped it), or its
            // number names another file now, which is not registered here.
            let _ = self.ctl(libc::EPOLL_CTL_DEL, fd, 0, 0);
        }
        Poller::drop_foreign(&mut regs, fd);
        Ok(())
    }
}
