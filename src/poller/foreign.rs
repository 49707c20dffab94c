//! Foreign descriptors in a poller (contract §14): a pipe, stdin, an eventfd, a timerfd,
//! a socket that other code owns, watched with the same events, tokens and
//! level-triggered rules as a socket handle (§9).
//!
//! The descriptor stays the caller's, who may close it while it is registered, and
//! epoll watches open files, not numbers: a registration made under the caller's
//! number could then be neither found again (`EPOLL_CTL_DEL` needs a descriptor of that
//! file) nor stopped while the file lives on elsewhere (a dup, a forked child), and a
//! ready file nobody can remove makes every wait spin. So the poller registers its own
//! duplicate of the descriptor (close-on-exec) and keeps it until
//! `oxs_poller_remove_fd`, which can therefore always remove the registration.
//! Registrations are found by the caller's number, apart from the sockets' (that number
//! may come back as a socket handle's), and `kcmp(2)` tells whether the number still
//! names the registered file.

use super::{check_events, next_generation, Poller, Registrations};
use crate::error::{errno, Error, Result};
use crate::fdset;
use std::os::fd::RawFd;

/// One foreign registration: its slot and the poller's own duplicate of the caller's
/// descriptor, which is what epoll watches (closed when dropped).
pub(super) struct Foreign {
    slot: u32,
    dup: RawFd,
}

impl Drop for Foreign {
    fn drop(&mut self) {
        // SAFETY: dup is the poller's own descriptor, closed once, here.
        unsafe { libc::close(self.dup) };
    }
}

fn check_open(fd: RawFd) -> Result<()> {
    // SAFETY: F_GETFD only queries the descriptor table.
    if fd < 0 || unsafe { libc::fcntl(fd, libc::F_GETFD) } < 0 {
        return Err(Error::invalid(format!("descriptor {fd} is not open")));
    }
    Ok(())
}

/// True when descriptors `a` and `b` of this process refer to the same open file.
fn same_file(a: RawFd, b: RawFd) -> bool {
    const KCMP_FILE: libc::c_long = 0;
    // SAFETY: getpid has no preconditions; kcmp only compares two of our descriptors.
    let r = unsafe {
        let me = libc::getpid() as libc::c_long;
        libc::syscall(libc::SYS_kcmp, me, me, KCMP_FILE, a as libc::c_long, b as libc::c_long)
    };
    if r >= 0 {
        return r == 0;
    }
    if errno() == libc::EBADF {
        return false;
    }
    // No kcmp (ENOSYS, EPERM): the same inode and open flags. (Every eventfd or
    // timerfd shares one anonymous inode: two of them may look alike here.)
    // SAFETY: zeroed stat buffers are valid out-parameters for fstat.
    let (mut sa, mut sb): (libc::stat, libc::stat) = unsafe { (std::mem::zeroed(), std::mem::zeroed()) };
    // SAFETY: fstat and F_GETFL write only into the buffers given.
    unsafe {
        libc::fstat(a, &mut sa) == 0
            && libc::fstat(b, &mut sb) == 0
            && (sa.st_dev, sa.st_ino) == (sb.st_dev, sb.st_ino)
            && libc::fcntl(a, libc::F_GETFL) == libc::fcntl(b, libc::F_GETFL)
    }
}

fn data(regs: &Registrations, slot: u32) -> u64 {
    (regs.slots[slot as usize].0 as u64) << 32 | slot as u64
}

impl Poller {
    /// True when `fd` is registered as a foreign descriptor and still names the file
    /// that was added (false once the caller closed it, or reused the number).
    pub(super) fn still_registered(&self, regs: &Registrations, fd: RawFd) -> bool {
        regs.foreign.get(&fd).is_some_and(|f| same_file(fd, f.dup))
    }

    /// Removes a foreign registration: the kernel's (through the poller's duplicate,
    /// which is then closed) and ours; events already reported for it are dropped.
    fn drop_foreign(&self, regs: &mut Registrations, fd: RawFd) -> bool {
        let Some(f) = regs.foreign.remove(&fd) else { return false };
        let _ = self.ctl(libc::EPOLL_CTL_DEL, f.dup, 0, 0);
        let s = &mut regs.slots[f.slot as usize];
        *s = (next_generation(s.0), 0);
        regs.free.push(f.slot);
        true // f drops here, closing its duplicate
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
            self.drop_foreign(&mut regs, fd); // closed while registered: another file now
        }
        // SAFETY: F_DUPFD_CLOEXEC on an open descriptor; the result is checked.
        let dup = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 0) };
        if dup < 0 {
            return Err(Error::last_os().context(format!("duplicating descriptor {fd}")));
        }
        let slot = match regs.free.pop() {
            Some(s) => s,
            None => {
                regs.slots.push((1, 0));
                (regs.slots.len() - 1) as u32
            }
        };
        let foreign = Foreign { slot, dup };
        if let Err(e) = self.ctl(libc::EPOLL_CTL_ADD, dup, ev, data(&regs, slot)) {
            regs.free.push(slot);
            return Err(match e.errno {
                libc::EPERM => Error::unsupported(format!(
                    "descriptor {fd} cannot be watched (a regular file or a directory is always ready)"
                )),
                libc::EINVAL | libc::ELOOP => Error::invalid(format!(
                    "descriptor {fd} cannot be watched by this poller (it is the poller itself, or watches it)"
                )),
                _ => e.context(format!("descriptor {fd}")),
            }); // foreign drops here, closing the duplicate
        }
        regs.slots[slot as usize].1 = token;
        regs.foreign.insert(fd, foreign);
        Ok(())
    }

    /// `oxs_poller_modify_fd`.
    pub fn modify_fd(&self, fd: RawFd, events: i32, token: u64) -> Result<()> {
        let ev = check_events(events)?;
        let mut regs = self.regs();
        let Some(f) = regs.foreign.get(&fd) else {
            return Err(Error::invalid(format!("descriptor {fd} is not in this poller")));
        };
        if !same_file(fd, f.dup) {
            return Err(Error::invalid(format!(
                "descriptor {fd} was closed while in this poller (remove it with oxs_poller_remove_fd)"
            )));
        }
        let (slot, dup) = (f.slot, f.dup);
        self.ctl(libc::EPOLL_CTL_MOD, dup, ev, data(&regs, slot))
            .map_err(|e| e.context(format!("descriptor {fd}")))?;
        regs.slots[slot as usize].1 = token;
        Ok(())
    }

    /// `oxs_poller_remove_fd`: also forgets a descriptor closed while registered.
    pub fn remove_fd(&self, fd: RawFd) -> Result<()> {
        let mut regs = self.regs();
        if !self.drop_foreign(&mut regs, fd) {
            return Err(Error::invalid(format!("descriptor {fd} is not in this poller")));
        }
        Ok(())
    }
}
